// Command bench measures what the proxy costs: latency it adds, throughput,
// CPU per request, memory, and span export, side by side with the same
// upstream called directly and through a bare httputil.ReverseProxy (the
// floor: what any Go proxy costs). `make bench` runs it; see README.md for
// the method and the latest figures.
//
// Every party but the load generator is its own process, so that each
// one's CPU time and memory can be read from /proc: the fake upstream, the
// OTLP collector and the floor are this program re-executed with -role,
// and the proxy is built from the working tree into a temporary directory
// and configured by environment only, as a user runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	role := flag.String("role", "", "internal: run as the bench's `upstream`, `floor` or `sink` process")
	upstreamURL := flag.String("upstream", "", "internal: the floor's upstream base URL")
	out := flag.String("out", "", "write the results as JSON here, and the table beside it as .txt (default: integration/bench/results/latest.json in the module)")
	quick := flag.Bool("quick", false, "a short run to try the bench out: a quarter of the samples, noisier figures")
	var extraEnv envList
	flag.Var(&extraEnv, "proxy-env", "add `KEY=VALUE` to the proxy's environment (repeatable), to compare settings, e.g. GOGC=400 or OTEL_BSP_MAX_EXPORT_BATCH_SIZE=128")
	only := flag.String("steps", "", "run only these comma-separated steps (chat, stream, saturation, concurrent, agent, sessions, export), to try one out")
	profile := flag.String("profile", "", "instead of the bench, run the proxy handler in-process under load and write CPU and allocation profiles to `dir`")
	proxyProfile := flag.String("proxy-cpuprofile", "", "build the proxy with -tags pprof and have each proxy process write its CPU profile to `dir`/SERVICE.pprof (bench-on, bench-off), the bench's figures then include the profiler's cost")
	flag.Parse()
	log.SetFlags(0)

	switch *role {
	case "upstream":
		runUpstream()
		return
	case "floor":
		runFloor(*upstreamURL)
		return
	case "sink":
		runSink()
		return
	case "":
	default:
		log.Fatalf("bench: unknown role %q", *role)
	}

	root, err := moduleRoot()
	if err != nil {
		log.Fatalf("bench: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *profile != "" {
		if err := runProfile(ctx, *profile); err != nil {
			log.Fatalf("bench: %v", err)
		}
		return
	}
	if *out == "" {
		*out = filepath.Join(root, "integration", "bench", "results", "latest.json")
	}
	p := fullPlan
	if *quick {
		p = quickPlan
	}
	if err := run(ctx, root, p, *out, *only, extraEnv, *proxyProfile); err != nil {
		log.Fatalf("bench: %v", err)
	}
}

// plan is how much load each phase offers.
type plan struct {
	ChatRates   []float64 `json:"chat_rates_rps"`
	ChatSamples int       `json:"chat_samples_per_target"` // per rate
	Rounds      int       `json:"rounds"`                  // targets take turns this many times per phase

	StreamRate    float64       `json:"stream_rate_per_s"`
	StreamSamples int           `json:"stream_samples_per_target"`
	StreamChunks  int           `json:"stream_chunks"`
	StreamPace    time.Duration `json:"stream_pace_ns"`

	SaturationWorkers int           `json:"saturation_connections"`
	SaturationTime    time.Duration `json:"saturation_ns"`   // per target, in Rounds turns
	GrowthRequests    int64         `json:"growth_requests"` // tracing on: its saturation run

	ConcurrentStreams  int           `json:"concurrent_streams"`
	ConcurrentOpenRate float64       `json:"concurrent_open_rate_per_s"`
	SlowChunks         int           `json:"slow_stream_chunks"`
	SlowPace           time.Duration `json:"slow_stream_pace_ns"`

	// Agent is the load of each size of agent call (package agentcall).
	Agent []agentLoad `json:"agent"`

	ExportRates     []float64     `json:"export_rates_rps"`
	ExportTime      time.Duration `json:"export_ns"`
	CollectorDelay  time.Duration `json:"slow_collector_delay_ns"` // per export
	ExportBatchSize int           `json:"export_batch_size"`
}

var fullPlan = plan{
	ChatRates: []float64{500, 2000}, ChatSamples: 4500, Rounds: 5,
	StreamRate: 500, StreamSamples: 1500, StreamChunks: 20, StreamPace: 5 * time.Millisecond,
	SaturationWorkers: 32, SaturationTime: 6 * time.Second, GrowthRequests: 100_000,
	ConcurrentStreams: 1000, ConcurrentOpenRate: 500, SlowChunks: 30, SlowPace: 100 * time.Millisecond,
	Agent:       []agentLoad{{Size: "150KB", Rate: 100, Samples: 160}, {Size: "1MB", Rate: 25, Samples: 64}},
	ExportRates: []float64{100, 1000}, ExportTime: 4 * time.Second, CollectorDelay: 2 * time.Second, ExportBatchSize: 512,
}

var quickPlan = plan{
	ChatRates: []float64{500, 2000}, ChatSamples: 1000, Rounds: 2,
	StreamRate: 500, StreamSamples: 400, StreamChunks: 20, StreamPace: 5 * time.Millisecond,
	SaturationWorkers: 32, SaturationTime: 2 * time.Second, GrowthRequests: 20_000,
	ConcurrentStreams: 1000, ConcurrentOpenRate: 500, SlowChunks: 30, SlowPace: 100 * time.Millisecond,
	Agent:       []agentLoad{{Size: "150KB", Rate: 100, Samples: 80}, {Size: "1MB", Rate: 25, Samples: 32}},
	ExportRates: []float64{100, 1000}, ExportTime: 3 * time.Second, CollectorDelay: 2 * time.Second, ExportBatchSize: 512,
}

// target is one way to reach the upstream.
type target struct {
	key  string // direct, floor, on, off
	name string
	base string // http://host:port
	proc *child // the process whose cost is the target's; nil for direct
	sent int64  // requests sent to it, for span accounting
}

func (t *target) url() string { return t.base + "/v1/chat/completions" }

func (t *target) cpu() time.Duration {
	if t.proc == nil {
		return 0
	}
	return t.proc.cpu()
}

// bench is one run: its processes and what they measured.
type bench struct {
	root     string
	plan     plan
	client   *http.Client
	binary   string // the proxy, built
	upstream *child
	sink     *child
	sinkCtl  string
	targets  []*target // direct, floor, on, off
	children []*child  // every process started, for the CPU accounting
	extraEnv []string  // -proxy-env
	// cpuProfiles is -proxy-cpuprofile's directory, "" without it.
	cpuProfiles string
	res         results
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }

func (e *envList) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

// spawn starts a child process and keeps it for the CPU accounting.
func (b *bench) spawn(name string, cmd *exec.Cmd, env []string, announces int) (*child, error) {
	c, err := startChild(name, cmd, env, announces)
	if err == nil {
		b.children = append(b.children, c)
	}
	return c, err
}

func (b *bench) target(key string) *target {
	for _, t := range b.targets {
		if t.key == key {
			return t
		}
	}
	panic("no target " + key)
}

// proxies are the targets that are proxies.
func (b *bench) proxies() []*target { return b.targets[1:] }

func run(ctx context.Context, root string, p plan, out, only string, extraEnv []string, cpuProfiles string) error {
	began := time.Now()
	// The load generator should not pause for its own garbage more than
	// it must: its pauses land in every target's latency alike, but blur
	// them.
	debug.SetGCPercent(400)

	b := &bench{root: root, plan: p, client: newClient(), extraEnv: extraEnv, cpuProfiles: cpuProfiles}
	b.res.Started = began.UTC()
	b.res.Machine = describeMachine(root)
	b.res.Plan = p
	defer b.cleanup()

	tmp, err := os.MkdirTemp("", "llmproxy-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(os.Stderr, "building the proxy from %s …\n", root)
	b.binary = filepath.Join(tmp, "llmproxy")
	args := []string{"build", "-trimpath", "-o", b.binary}
	if b.cpuProfiles != "" {
		// As -profile does: the proxies write into it, and cannot make it.
		if err := os.MkdirAll(b.cpuProfiles, 0o755); err != nil {
			return fmt.Errorf("-proxy-cpuprofile: %w", err)
		}
		args = append(args, "-tags", "pprof")
	}
	build := exec.CommandContext(ctx, goTool(), append(args, ".")...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if outp, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building the proxy: %v\n%s", err, outp)
	}
	if err := b.start(ctx); err != nil {
		return err
	}

	steps := []struct {
		key, name string
		fn        func(context.Context) error
	}{
		{"chat", "chat latency", b.chatLatency},
		{"stream", "stream latency", b.streamLatency},
		{"saturation", "saturation and growth", b.saturation},
		{"concurrent", "1,000 concurrent streams", b.concurrent},
		{"agent", "agent-sized calls", b.agent},
		{"sessions", "session inference", b.sessionsStep},
		{"export", "export", b.export},
	}
	for _, s := range steps {
		if only != "" && !slices.Contains(strings.Split(only, ","), s.key) {
			continue
		}
		fmt.Fprintf(os.Stderr, "%-26s", s.name+" …")
		t0, own0 := time.Now(), ownCPU(b.children)
		busy0, steal0 := machineCPU()
		if err := s.fn(ctx); err != nil {
			fmt.Fprintln(os.Stderr)
			return fmt.Errorf("%s: %w", s.name, err)
		}
		busy1, steal1 := machineCPU()
		wall := time.Since(t0)
		st := stepInfo{Name: s.key, Seconds: round(wall.Seconds()),
			OtherCores: round(float64(busy1-busy0-(ownCPU(b.children)-own0)) / float64(wall)),
			StealCores: round(float64(steal1-steal0) / float64(wall))}
		b.res.Steps = append(b.res.Steps, st)
		fmt.Fprintf(os.Stderr, " %5.1fs (other processes: %.2f cores)\n", wall.Seconds(), max(st.OtherCores, 0))
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	b.res.Seconds = time.Since(began).Seconds()
	var table strings.Builder
	b.report(&table)
	fmt.Print(table.String())
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// The table as printed, beside the JSON, for the README.
	if err := os.WriteFile(strings.TrimSuffix(out, ".json")+".txt", []byte(strings.TrimLeft(table.String(), "\n")), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(&b.res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", out)
	return nil
}

// start starts the upstream, the collector, the floor and the two proxies.
func (b *bench) start(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	b.upstream, err = b.spawn("upstream", exec.Command(self, "-role", "upstream"), nil, 1)
	if err != nil {
		return err
	}
	b.sink, err = b.spawn("collector", exec.Command(self, "-role", "sink"), nil, 2)
	if err != nil {
		return err
	}
	b.sinkCtl = "http://" + b.sink.addrs[1]
	upstream := "http://" + b.upstream.addrs[0]
	floor, err := b.spawn("floor", exec.Command(self, "-role", "floor", "-upstream", upstream), []string{"GODEBUG=gctrace=1"}, 1)
	if err != nil {
		return err
	}
	b.targets = []*target{
		{key: "direct", name: "direct", base: upstream},
		{key: "floor", name: "floor", base: "http://" + floor.addrs[0], proc: floor},
	}
	for _, tr := range []struct {
		key, name string
		tracing   bool
	}{{"on", "tracing on", true}, {"off", "tracing off", false}} {
		c, base, err := b.startProxy(ctx, "bench-"+tr.key, tr.tracing)
		if err != nil {
			return err
		}
		b.targets = append(b.targets, &target{key: tr.key, name: tr.name, base: base, proc: c})
	}
	b.res.ProxyEnv = b.proxyEnv(0, "bench-on", true)
	return nil
}

// proxyEnv is the proxy's whole configuration. The batch span processor's
// settings are the SDK's defaults, spelled out.
func (b *bench) proxyEnv(port int, service string, tracing bool) []string {
	return append([]string{
		"PORT=" + strconv.Itoa(port),
		"HOST=127.0.0.1",
		"OPENAI_API_BASE=http://" + b.upstream.addrs[0] + "/v1",
		"ANTHROPIC_API_BASE=http://" + b.upstream.addrs[0],
		"GEMINI_API_BASE=http://" + b.upstream.addrs[0],
		// No Google credentials here: the client's token passes.
		"VERTEXAI_API_BASE=http://" + b.upstream.addrs[0], "VERTEXAI_PROJECT=bench-project",
		// AWS's documented example keys: the proxy signs every Bedrock
		// call (SigV4), as in production; the upstream checks nothing.
		"AWS_BEDROCK_RUNTIME_ENDPOINT=http://" + b.upstream.addrs[0], "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"PHOENIX_COLLECTOR_ENDPOINT=http://" + b.sink.addrs[0],
		"OTEL_SERVICE_NAME=" + service,
		"OTEL_SDK_DISABLED=" + strconv.FormatBool(!tracing),
		"OTEL_BSP_SCHEDULE_DELAY=5000",
		"OTEL_BSP_EXPORT_TIMEOUT=30000",
		"OTEL_BSP_MAX_QUEUE_SIZE=2048",
		"OTEL_BSP_MAX_EXPORT_BATCH_SIZE=" + strconv.Itoa(b.plan.ExportBatchSize),
		"GODEBUG=gctrace=1", // the heap sizes, on stderr, without touching the proxy's code
	}, b.profileEnv(service, b.extraEnv)...)
}

// profileEnv adds the proxy's CPU profile path to env under
// -proxy-cpuprofile (pprof.go in the module's root, built with -tags pprof).
func (b *bench) profileEnv(service string, env []string) []string {
	if b.cpuProfiles == "" {
		return env
	}
	return append([]string{"LLMPROXY_CPUPROFILE=" + filepath.Join(b.cpuProfiles, service+".pprof")}, env...)
}

// startProxy starts the built proxy; service names its spans at the
// collector.
func (b *bench) startProxy(ctx context.Context, service string, tracing bool) (*child, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	c, err := b.spawn(service, exec.Command(b.binary), b.proxyEnv(port, service, tracing), 0)
	if err != nil {
		return nil, "", err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHealthy(ctx, c, base+"/health/liveliness"); err != nil {
		c.kill()
		return nil, "", err
	}
	return c, base, nil
}

func (b *bench) cleanup() {
	if b.cpuProfiles != "" {
		// A proxy writes its profile when SIGTERM ends it.
		for _, t := range b.targets {
			if t.proc != nil && t.key != "floor" {
				_ = t.proc.stop(time.Minute)
			}
		}
	}
	for _, c := range b.children {
		c.kill()
	}
}

// alive checks that no process died along the way.
func (b *bench) alive() error {
	for _, c := range []*child{b.upstream, b.sink} {
		if err := c.alive(); err != nil {
			return err
		}
	}
	for _, t := range b.targets {
		if t.proc != nil {
			if err := t.proc.alive(); err != nil {
				return err
			}
		}
	}
	return nil
}

// spans asks the collector how many spans each service sent.
func (b *bench) spans(ctx context.Context) (sinkCounts, error) {
	var c sinkCounts
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.sinkCtl+"/counts", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// collectorDelay slows the collector down: d per export.
func (b *bench) collectorDelay(ctx context.Context, d time.Duration) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.sinkCtl+"/delay?d="+d.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("collector delay: %s", resp.Status)
	}
	return nil
}

// moduleRoot is the directory of the module's go.mod, found upwards from
// the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/phoenixproxy/llmproxy") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run from inside the llmproxy module (no go.mod found above the working directory)")
		}
		dir = parent
	}
}

// goTool is the go command: $GO as the Makefile sets it, else go on PATH.
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

// machine describes where the figures come from.
type machine struct {
	CPU      string `json:"cpu"`
	Cores    int    `json:"cores"`
	MemoryGB int    `json:"memory_gb"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	Commit   string `json:"commit"`
}

func describeMachine(root string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGB = (kb + 1<<19) >> 20
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(b))
		if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			m.Commit += "+dirty"
		}
	}
	return m
}
