package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/integration/agentcall"
)

// The agent step: agent-sized calls (package agentcall: a coding agent's
// whole history on every call, 150 KiB and 1 MiB, as chat completions,
// Anthropic Messages and Responses API calls) through every target, to see
// what tracing costs per KiB of body and what becomes of the spans: their
// size at the collector, the export requests that carry them, and whether
// every one arrived.

// agentLoad is the load one size of agent call gets: Rate calls a second,
// open loop, until each target has had about Samples.
type agentLoad struct {
	Size    string  `json:"size"`
	Rate    float64 `json:"rate_rps"`
	Samples int     `json:"samples_per_target"`
}

// agentUser names an agent call's spans at the collector: it goes as
// x-user-id, which the proxy records as user.id.
const agentUser = "bench-agent-"

// headerAgent makes the upstream answer a chat call as an agent's model
// does (agentcall.Answer) rather than with chatResponse. Messages and
// Responses API calls are always answered so.
const headerAgent = "X-Bench-Agent"

// agentResult is one agent call measured through every target.
type agentResult struct {
	Call      string    `json:"call"`
	Dialect   string    `json:"dialect"`
	Size      string    `json:"size"`
	BodyBytes int       `json:"body_bytes"`
	Messages  int       `json:"messages"`
	ToolCalls int       `json:"tool_calls"`
	Rate      float64   `json:"rate_rps"`
	Results   []*result `json:"results"` // direct, floor, on, off
	// RSSMaxMB is each process's largest RSS sampled over the phase (every
	// 50 ms): the tracing-on proxy holds the spans its batch processor has
	// not exported yet.
	RSSMaxMB map[string]float64 `json:"rss_max_mb"`
	Spans    agentSpans         `json:"spans"`
}

func (a *agentResult) get(key string) *result { return resultFor(a.Results, key) }

// perKB is a target's CPU per request ÷ the body's KiB, in µs.
func (a *agentResult) perKB(key string) float64 {
	return a.get(key).CPUPerRequest / (float64(a.BodyBytes) / 1024)
}

// agentSpans is what became of the tracing-on proxy's spans of one call.
type agentSpans struct {
	Requests int64 `json:"requests"` // sent to the tracing-on proxy, warm-up included
	Received int64 `json:"received"` // by the collector, distinct spans
	// Duplicates are spans the collector received again.
	Duplicates int64 `json:"duplicates"`
	// Dropped is what the proxy says it dropped meanwhile
	// (llmproxy_spans_dropped_total).
	Dropped int64 `json:"dropped_by_proxy"`
	// Settled is whether received + dropped reached requests before the
	// bench stopped waiting.
	Settled bool `json:"settled"`
	// DropLog is the proxy's last log line about dropped spans, if any
	// dropped.
	DropLog string `json:"drop_log,omitempty"`
	// Span sizes as the collector received them (protobuf bytes), and the
	// largest export request that carried one.
	MeanBytes       float64 `json:"span_mean_bytes"`
	MaxBytes        int64   `json:"span_max_bytes"`
	MaxRequestBytes int64   `json:"max_export_request_bytes"`
}

// agentCall posts one agent call and reads the whole answer.
func agentCall(client *http.Client, url string, c agentcall.Call) call {
	user := agentUser + c.Name
	return func(sched time.Time) sample {
		sent := time.Now()
		req := newRequest(url, c.Body)
		req.Header.Set("X-User-Id", user)
		req.Header.Set(headerAgent, "1")
		if c.Dialect == agentcall.Anthropic {
			req.Header.Set("Anthropic-Version", "2023-06-01")
		}
		s, _ := wholeCall(client, req, sched, sent, false)
		return s
	}
}

// agent runs every agent call through every target in turn.
func (b *bench) agent(ctx context.Context) error {
	for _, load := range b.plan.Agent {
		var size agentcall.Size
		for _, s := range agentcall.Sizes {
			if s.Name == load.Size {
				size = s
			}
		}
		if size.Name == "" {
			return fmt.Errorf("no agent call size %q", load.Size)
		}
		for _, c := range agentcall.Calls(size) {
			if err := b.agentPhase(ctx, c, load); err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
		}
	}
	return b.alive()
}

// agentPhase offers call c to every target at load.Rate, the targets
// taking turns in blocks as in fixedRate, the tracing-on proxy first in the
// last round so that the other targets' turns cover the batch processor's
// delay; then it waits until the collector has every span of the call (or
// the proxy has counted it dropped) and reads each process's CPU over the
// whole phase, export included.
func (b *bench) agentPhase(ctx context.Context, c agentcall.Call, load agentLoad) error {
	rounds := b.plan.Rounds
	block := time.Duration(float64(load.Samples) / float64(rounds) / load.Rate * float64(time.Second))
	on := b.target("on")
	dropped0, err := b.droppedSpans(ctx, on)
	if err != nil {
		return err
	}
	res := &agentResult{Call: c.Name, Dialect: string(c.Dialect), Size: c.Size.Name, BodyBytes: len(c.Body),
		Messages: c.Messages, ToolCalls: c.ToolCalls, Rate: load.Rate}
	stopRSS := make(chan struct{})
	rss := make(chan map[string]float64)
	go func() { rss <- b.maxRSS(stopRSS) }()

	cpu0 := map[string]time.Duration{}
	sent := map[string]int{}
	for _, t := range b.targets {
		cpu0[t.key] = t.cpu()
	}
	mk := func(t *target) call { return agentCall(b.client, t.base+c.Dialect.Path(), c) }
	for _, t := range b.targets { // warm-up: connections, heap
		sent[t.key] += len(t.open(load.Rate, min(block/2, 200*time.Millisecond), mk(t)))
	}
	all := map[string][]sample{}
	elapsed := map[string]time.Duration{}
	upCPU := map[string]time.Duration{}
	onIndex := 2 // direct, floor, on, off
	for r := range rounds {
		for i := range b.targets {
			if err := ctx.Err(); err != nil {
				close(stopRSS)
				return err
			}
			t := b.targets[(i+r+onIndex-(rounds-1)%len(b.targets)+len(b.targets))%len(b.targets)]
			u0, t0 := b.upstream.cpu(), time.Now()
			ss := t.open(load.Rate, block, mk(t))
			upCPU[t.key] += b.upstream.cpu() - u0
			elapsed[t.key] += time.Since(t0)
			sent[t.key] += len(ss)
			all[t.key] = append(all[t.key], ss...)
		}
	}
	res.Spans, err = b.awaitAgentSpans(ctx, c, int64(sent["on"]), dropped0)
	close(stopRSS)
	res.RSSMaxMB = <-rss
	if err != nil {
		return err
	}
	for _, t := range b.targets {
		r := summarize(t.key, all[t.key], elapsed[t.key])
		r.OfferedRPS = load.Rate
		n := float64(sent[t.key])
		if t.proc != nil {
			r.CPUPerRequest = us(t.cpu()-cpu0[t.key]) / n
		}
		r.UpstreamCPUPerRequest = us(upCPU[t.key]) / float64(len(all[t.key]))
		res.Results = append(res.Results, r)
	}
	b.res.Agent = append(b.res.Agent, res)
	return b.alive()
}

// awaitAgentSpans waits until the collector has received requests spans
// of call c from the tracing-on proxy, or the proxy has counted the rest
// dropped, for at most twice the batch processor's delay.
func (b *bench) awaitAgentSpans(ctx context.Context, c agentcall.Call, requests, dropped0 int64) (agentSpans, error) {
	on := b.target("on")
	deadline := time.Now().Add(10 * time.Second) // OTEL_BSP_SCHEDULE_DELAY=5000, and the sending
	for {
		counts, err := b.spans(ctx)
		if err != nil {
			return agentSpans{}, err
		}
		dropped, err := b.droppedSpans(ctx, on)
		if err != nil {
			return agentSpans{}, err
		}
		st := counts.Agent["bench-on"][agentUser+c.Name]
		s := agentSpans{Requests: requests, Dropped: dropped - dropped0}
		if st != nil {
			s.Received, s.Duplicates, s.MaxBytes, s.MaxRequestBytes = st.Spans, st.Duplicates, st.MaxBytes, st.MaxRequestBytes
			if st.Spans > 0 {
				s.MeanBytes = float64(st.Bytes) / float64(st.Spans)
			}
		}
		s.Settled = s.Received+s.Dropped >= requests
		if s.Settled || time.Now().After(deadline) {
			if s.Dropped > 0 {
				s.DropLog = lastLine(on.proc.output(), "dropped")
			}
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// lastLine is the last line of out that contains word.
func lastLine(out, word string) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], word) {
			return lines[i]
		}
	}
	return ""
}

// agentRequests is how many agent calls the tracing-on proxy served, and
// agentSpansReceived how many of their spans the collector received
// (twice-received ones twice, as the collector's total counts them).
func (b *bench) agentRequests() (n int64) {
	for _, a := range b.res.Agent {
		n += a.Spans.Requests
	}
	return n
}

func (b *bench) agentSpansReceived() (n int64) {
	for _, a := range b.res.Agent {
		n += a.Spans.Received + a.Spans.Duplicates
	}
	return n
}

// droppedSpans reads llmproxy_spans_dropped_total from a proxy's /metrics.
func (b *bench) droppedSpans(ctx context.Context, t *target) (int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, t.base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "llmproxy_spans_dropped_total "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s/metrics: no llmproxy_spans_dropped_total", t.base)
}

// maxRSS samples every target process's RSS every 50 ms until stop is
// closed, and returns the largest of each, in MB.
func (b *bench) maxRSS(stop <-chan struct{}) map[string]float64 {
	out := map[string]float64{}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, t := range b.targets {
			if t.proc != nil {
				rss, _ := t.proc.memory()
				out[t.key] = max(out[t.key], rss)
			}
		}
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
	}
}

// maxExportBytes is the proxy's OTLP_MAX_EXPORT_BYTES: as -proxy-env sets
// it, else the default.
func (b *bench) maxExportBytes() int64 {
	for _, kv := range b.extraEnv {
		if v, ok := strings.CutPrefix(kv, "OTLP_MAX_EXPORT_BYTES="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		}
	}
	return export.DefaultMaxExportBytes
}

// agentAnswer is the upstream's answer to an agent call, nil for any
// other: Messages and Responses API calls, and chat calls that carry
// headerAgent.
func agentAnswer(r *http.Request, body []byte) []byte {
	switch {
	case r.URL.Path == "/v1/messages":
		return agentcall.Answer(agentcall.Anthropic, body)
	case r.URL.Path == "/v1/responses":
		return agentcall.Answer(agentcall.Responses, body)
	case r.Header.Get(headerAgent) != "":
		return agentcall.Answer(agentcall.Chat, body)
	}
	return nil
}

// agentSpanStats are the collector's figures for one agent call's spans
// from one service.
type agentSpanStats struct {
	Spans           int64 `json:"spans"` // distinct span ids
	Duplicates      int64 `json:"duplicates"`
	Bytes           int64 `json:"bytes"` // protobuf, summed
	MaxBytes        int64 `json:"max_bytes"`
	MaxRequestBytes int64 `json:"max_request_bytes"` // the largest export request carrying one

	ids map[string]bool
}

// countAgentSpans records the sizes of the agent calls' spans in an export
// request, by service and user.id. Called with s.mu held.
func (s *sink) countAgentSpans(req *collectortrace.ExportTraceServiceRequest) {
	var reqBytes int64 = -1 // measured once, if an agent span is in it
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				user := ""
				for _, kv := range sp.GetAttributes() {
					if kv.GetKey() == "user.id" {
						user = kv.GetValue().GetStringValue()
						break
					}
				}
				if !strings.HasPrefix(user, agentUser) {
					continue
				}
				if reqBytes < 0 {
					reqBytes = int64(proto.Size(req))
				}
				if s.agent[service] == nil {
					s.agent[service] = map[string]*agentSpanStats{}
				}
				st := s.agent[service][user]
				if st == nil {
					st = &agentSpanStats{ids: map[string]bool{}}
					s.agent[service][user] = st
				}
				if st.ids[string(sp.GetSpanId())] {
					st.Duplicates++
					continue
				}
				st.ids[string(sp.GetSpanId())] = true
				n := int64(proto.Size(sp))
				st.Spans++
				st.Bytes += n
				st.MaxBytes = max(st.MaxBytes, n)
				st.MaxRequestBytes = max(st.MaxRequestBytes, reqBytes)
			}
		}
	}
}

// agentTable adds the agent calls' rows: per call, latency, CPU per
// request and per KiB, memory and the spans; then the CPU per extra KiB
// between the two sizes of each dialect.
func (b *bench) agentTable(section func(string), add func(metric, goal string, cells ...string)) {
	if len(b.res.Agent) == 0 {
		return
	}
	limit := b.maxExportBytes()
	var requests, missing, maxRequest int64
	for _, a := range b.res.Agent {
		section(fmt.Sprintf("Agent call %s: %s bytes, %d messages, %d tool calls with their results; %g req/s open loop, %s requests per target",
			a.Call, count(int64(a.BodyBytes)), a.Messages, a.ToolCalls, a.Rate, count(int64(a.get("direct").Requests))))
		var lat, cpu, perKB, rss []string
		for _, r := range a.Results {
			lat = append(lat, num(r.Latency.P50)+" / "+num(r.Latency.P99))
		}
		cpu = append(cpu, fmt.Sprintf("(upstream %s)", num(a.get("direct").UpstreamCPUPerRequest)))
		perKB = append(perKB, na)
		rss = append(rss, na)
		for _, k := range []string{"floor", "on", "off"} {
			cpu = append(cpu, num(a.get(k).CPUPerRequest))
			perKB = append(perKB, num(a.perKB(k)))
			rss = append(rss, num(a.RSSMaxMB[k]))
		}
		add("latency p50 / p99, µs", "", lat...)
		add("CPU per request, µs", "", cpu...)
		floor, on := a.perKB("floor"), a.perKB("on")
		add("CPU per KiB of body, µs (whole request ÷ KiB)", "(on − floor) ÷ floor "+
			b.check("agent call "+a.Call+": CPU tracing adds per KiB of body (on − floor, whole request) ÷ the floor's own", (on-floor)/floor, 1, "×", false), perKB...)
		add("RSS, largest sample in the phase, MB", "", rss...)
		sp := a.Spans
		spanCell := na
		if sp.Received > 0 {
			spanCell = fmt.Sprintf("%s / %s (%.2f× body)", count(int64(sp.MeanBytes)), count(sp.MaxBytes), sp.MeanBytes/float64(a.BodyBytes))
		}
		add("span at the collector, OTLP bytes mean / max", "", na, na, spanCell, na)
		add("largest export request carrying one, bytes", "", na, na, count(sp.MaxRequestBytes), na)
		settled := ""
		if !sp.Settled {
			settled = ", still missing when the bench stopped waiting"
		}
		add("spans received / requests (dropped, by the proxy's count; received twice)", "", na, na,
			fmt.Sprintf("%s / %s (%s; %s%s)", count(sp.Received), count(sp.Requests), count(sp.Dropped), count(sp.Duplicates), settled), na)
		if sp.DropLog != "" {
			section("  the proxy logged: " + truncate(sp.DropLog, 200))
		}
		requests += sp.Requests
		missing += sp.Requests - sp.Received
		maxRequest = max(maxRequest, sp.MaxRequestBytes)
		errorsRow(add, a.Results)
	}

	section("Agent calls: CPU per extra KiB of body, 150 KiB → 1 MiB (the slope: fixed per-request costs out), µs")
	for _, d := range []agentcall.Dialect{agentcall.Chat, agentcall.Anthropic, agentcall.Responses} {
		var small, large *agentResult
		for _, a := range b.res.Agent {
			if a.Dialect == string(d) && a.Size == agentcall.Sizes[0].Name {
				small = a
			}
			if a.Dialect == string(d) && a.Size == agentcall.Sizes[len(agentcall.Sizes)-1].Name {
				large = a
			}
		}
		if small == nil || large == nil || small == large {
			continue
		}
		kb := float64(large.BodyBytes-small.BodyBytes) / 1024
		slope := func(k string) float64 { return (large.get(k).CPUPerRequest - small.get(k).CPUPerRequest) / kb }
		add(string(d), fmt.Sprintf("(on − floor) ÷ floor %s (not a goal)", num((slope("on")-slope("floor"))/slope("floor"))),
			na, num(slope("floor")), num(slope("on")), num(slope("off")))
	}
	section("Agent calls: the spans")
	add("spans missing at the collector, of all agent calls", "on "+b.check("agent calls: spans missing at the collector (requests − received)", float64(missing), 0, "spans", false),
		na, na, fmt.Sprintf("%s of %s", count(missing), count(requests)), na)
	add("largest export request ÷ OTLP_MAX_EXPORT_BYTES ("+count(limit)+")", "on "+b.check("agent calls: largest export request ÷ OTLP_MAX_EXPORT_BYTES", float64(maxRequest)/float64(limit), 1, "×", false),
		na, na, fmt.Sprintf("%.2f", float64(maxRequest)/float64(limit)), na)
}
