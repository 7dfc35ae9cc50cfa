package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// The span spool (SPAN_SPOOL_DIR, issue 21): a proxy killed while its
// collector is away loses no span older than its loss window, and the next
// one sends them.

// buildProxy builds the proxy's binary into a temporary directory.
func buildProxy(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "llmproxy")
	cmd := exec.Command("go", "build", "-o", bin, "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proxyProcess is the proxy binary running.
type proxyProcess struct {
	cmd *exec.Cmd
	url string
	log *syncBuffer
}

// startProxy runs the binary with the environment given, and waits until
// it answers.
func startProxy(t *testing.T, bin string, env ...string) *proxyProcess {
	t.Helper()
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "HOST=127.0.0.1", "PORT=" + port, "LOG_LEVEL=WARN"}, env...)
	log := &syncBuffer{} // stdout and stderr are copied each in its goroutine
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proxyProcess{cmd: cmd, url: "http://127.0.0.1:" + port, log: log}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.url + "/health/liveliness")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the proxy did not start: %v\n%s", err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill9 kills the proxy as the OOM killer would: no signal it can catch.
func (p *proxyProcess) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// metric reads one of the proxy's metrics.
func (p *proxyProcess) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no metric %s in\n%s", name, b)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// TestSpoolSurvivesKill9 runs the real binary with a spool and its
// collector down, under load, and kills it with SIGKILL, three times over
// on the same spool directory; then starts it with the collector up. Every
// call made more than the loss window before its kill must arrive, once
// (no batch was in flight: the collector was down), and so must one made
// by the last process.
func TestSpoolSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildProxy(t)
	up := httptest.NewServer(answer(200, chatAnswer))
	defer up.Close()
	collector := freeAddr(t)
	// The loss window of a kill: what the batch processor still holds,
	// at most its schedule delay, kept within the fsync interval.
	const fsync = 200 * time.Millisecond
	env := []string{
		"OPENAI_API_BASE=" + up.URL + "/v1", "OPENAI_API_KEY=sk-test",
		"PHOENIX_COLLECTOR_ENDPOINT=http://" + collector,
		"SPAN_SPOOL_DIR=" + filepath.Join(t.TempDir(), "spool"),
		"SPAN_SPOOL_FSYNC_INTERVAL=" + fsync.String(),
		"OTLP_EXPORT_ATTEMPT_TIMEOUT=1s",
	}
	type made struct {
		marker string
		at     time.Time
	}
	var calls []made
	var killedAt []time.Time
	for cycle := 0; cycle < 3; cycle++ {
		p := startProxy(t, bin, env...)
		stop := time.Now().Add(time.Second)
		for i := 0; time.Now().Before(stop); i++ {
			m := fmt.Sprintf("cycle-%d-call-%d", cycle, i)
			call(t, p.url, m)
			calls = append(calls, made{m, time.Now()})
			time.Sleep(5 * time.Millisecond)
		}
		if cycle == 0 {
			// The spans are on disk, not in memory.
			time.Sleep(2 * fsync)
			if n := p.metric(t, "llmproxy_spans_spooled"); n == 0 {
				t.Errorf("llmproxy_spans_spooled is 0 with the collector down")
			}
		}
		// Killed under load: the last calls are in the window.
		for i := 0; i < 5; i++ {
			m := fmt.Sprintf("cycle-%d-late-%d", cycle, i)
			call(t, p.url, m)
			calls = append(calls, made{m, time.Now()})
		}
		p.kill9(t)
		killedAt = append(killedAt, time.Now())
	}

	r := otlptest.StartAt(t, collector)
	p := startProxy(t, bin, env...)
	call(t, p.url, "after the restarts")
	var must []string
	for _, c := range calls {
		cycle, _ := strconv.Atoi(strings.Split(c.marker, "-")[1])
		if killedAt[cycle].Sub(c.at) > 2*fsync+100*time.Millisecond {
			must = append(must, c.marker)
		}
	}
	must = append(must, "after the restarts")
	waitMarkers(t, must, 10*time.Second, r)
	time.Sleep(300 * time.Millisecond) // anything sent twice would be here by now
	got := markersIn(r)
	inWindow := 0
	for _, c := range calls {
		if got[c.marker] > 1 {
			t.Errorf("%s arrived %d times", c.marker, got[c.marker])
		}
		if got[c.marker] == 1 {
			inWindow++
		}
	}
	t.Logf("%d calls over three kills: %d had to arrive, %d did (those in the last %s before a kill may not), each once",
		len(calls), len(must)-1, inWindow, 2*fsync+100*time.Millisecond)
	if len(must) < 100 {
		t.Errorf("only %d calls outside the loss window", len(must))
	}
	// Sent, the spool empties: its segments go.
	deadline := time.Now().Add(3 * time.Second)
	for p.metric(t, "llmproxy_spans_spooled") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the spool still holds %v spans after the collector took them", p.metric(t, "llmproxy_spans_spooled"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A spool directory that cannot be used (here a path below a file, as a
// read-only volume would be for the proxy's user) leaves the spans in
// memory: every call succeeds, every span arrives, the error is counted.
func TestUnusableSpoolFallsBackToMemory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := otlptest.Start(t)
	up := httptest.NewServer(answer(200, chatAnswer))
	defer up.Close()
	tp, err := export.NewProvider(context.Background(), export.Config{
		Endpoint: "http://" + r.Addr, ProjectName: "p", BatchTimeout: 20 * time.Millisecond,
		SpoolDir: filepath.Join(file, "spool"),
	})
	if err != nil {
		t.Fatalf("an unusable spool must not stop the proxy: %v", err)
	}
	defer tp.Shutdown(context.Background())
	providers, err := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: up.URL + "/v1"}})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(tp)}))
	defer proxy.Close()
	var markers []string
	for i := 0; i < 20; i++ {
		m := fmt.Sprintf("marker-%d", i)
		call(t, proxy.URL, m)
		markers = append(markers, m)
	}
	waitMarkers(t, markers, 3*time.Second, r)
	if st := tp.BufferStats(); st.SpoolErrors == 0 || st.SpoolSpans != 0 {
		t.Errorf("buffer stats %+v; want the spool's failure counted, nothing in it", st)
	}
}
