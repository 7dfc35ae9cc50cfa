package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/integration/agentcall"
	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// BenchmarkAgentCall measures the handler on agent-sized calls (package
// agentcall: a 200-message, 150 KiB history and a 600-message, 1 MiB one,
// as chat completions, Anthropic Messages and Responses API calls; issue
// 19's "agent-sized calls"), set up as BenchmarkChatCall: "off" with a
// tracer that records nothing, "traced" with the SDK's recording tracer and
// a synchronous exporter that drops what it gets, "traced+sessions" with
// session inference on, as the proxy runs by default.
//
// Besides time, B/op and allocs/op it reports, in copies of the request
// body (bytes ÷ the body's length):
//   - alloc-copies: bytes allocated per call;
//   - added-copies (traced variants): what tracing allocates beyond "off",
//     the same call's B/op measured just before;
//   - held-at-send-copies: the heap the call holds when its request goes
//     upstream (after a collection, beyond what it held before the call:
//     the client's own body aside);
//   - held-at-end-copies (traced variants): the heap it holds when its
//     span ends, the attributes built and the request still in scope: the
//     most a call holds at once, and what the span takes to the export
//     queue. The goal is at most two copies.
//
// Run it with go test ./handlers -run '^$' -bench AgentCall -benchmem.
func BenchmarkAgentCall(b *testing.B) {
	ps, err := upstream.NewProviders(upstream.Env{
		OpenAIEnv:    upstream.OpenAIEnv{OpenAIAPIBase: "http://upstream.invalid/v1", OpenAIAPIKey: "sk-bench"},
		AnthropicEnv: upstream.AnthropicEnv{AnthropicAPIBase: "http://upstream.invalid", AnthropicAPIKey: "sk-ant-bench"},
	})
	if err != nil {
		b.Fatal(err)
	}
	traced := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()), sdktrace.WithRawSpanLimits(export.Limits()))
	variants := []struct {
		name     string
		tp       trace.TracerProvider
		sessions bool
	}{
		{"off", noop.NewTracerProvider(), false},
		{"traced", traced, false},
		{"traced+sessions", traced, true},
	}
	for _, c := range agentcall.All() {
		answer := agentcall.Answer(c.Dialect, c.Body)
		size := float64(len(c.Body))
		var offBytes float64 // B/op of "off", for added-copies
		for _, v := range variants {
			b.Run(c.Name+"/"+v.name, func(b *testing.B) {
				rig := &agentRig{body: c.Body, path: c.Dialect.Path(), answer: answer}
				transport := &probeTransport{cannedTransport: cannedTransport{header: http.Header{"Content-Type": {"application/json"}}, body: answer}}
				opts := Options{Providers: ps, Recorder: spans.NewRecorder(v.tp), Transport: transport,
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				if v.sessions {
					opts.Sessions = sessions.New(sessions.Options{})
				}
				h := New(opts)
				b.SetBytes(int64(len(c.Body)))
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				n := 0
				for b.Loop() {
					rig.call(b, h)
					n++
				}
				runtime.ReadMemStats(&after)
				perOp := float64(after.TotalAlloc-before.TotalAlloc) / float64(n)
				b.ReportMetric(perOp/size, "alloc-copies")
				if v.name == "off" {
					offBytes = perOp
				} else if offBytes > 0 {
					b.ReportMetric((perOp-offBytes)/size, "added-copies")
				}

				// The heap held mid-call, measured on calls of their own
				// (a collection at each probe) after the timed ones.
				var end *liveProbe
				if v.name != "off" {
					end = &liveProbe{}
					opts.Recorder = spans.NewRecorder(sdktrace.NewTracerProvider(sdktrace.WithSyncer(end), sdktrace.WithRawSpanLimits(export.Limits())))
				}
				send := &liveProbe{}
				transport.probe = send
				opts.Transport = transport
				if v.sessions {
					opts.Sessions = sessions.New(sessions.Options{})
				}
				h = New(opts)
				for range 3 {
					// Twice: the second empties sync.Pools, so that a
					// pooled buffer the call takes counts as its own.
					runtime.GC()
					base := liveHeap()
					send.base = base
					end.setBase(base)
					rig.call(b, h)
				}
				b.ReportMetric(send.max/size, "held-at-send-copies")
				if end != nil {
					b.ReportMetric(end.max/size, "held-at-end-copies")
				}
			})
		}
	}
}

// agentRig sends one agent call to a handler and checks the answer.
type agentRig struct {
	body, answer []byte
	path         string
}

func (r *agentRig) call(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(r.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Anthropic-Version", "2023-06-01")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), r.answer) {
		b.Fatalf("status %d, answer %.300q", w.Code, w.Body.Bytes())
	}
}

// probeTransport is a cannedTransport that, with a probe, reads the live
// heap when the request arrives, before it reads the request's body.
type probeTransport struct {
	cannedTransport
	probe *liveProbe
}

func (t *probeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.probe != nil {
		t.probe.read()
	}
	return t.cannedTransport.RoundTrip(r)
}

// liveProbe keeps the most live heap it read beyond base, in bytes. As a
// span exporter (synchronous: in the span's End) it reads the heap as each
// span ends.
type liveProbe struct {
	base uint64
	max  float64
}

func (p *liveProbe) setBase(base uint64) {
	if p != nil {
		p.base = base
	}
}

func (p *liveProbe) read() {
	if live := liveHeap(); live > p.base {
		p.max = max(p.max, float64(live-p.base))
	}
}

func (p *liveProbe) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	p.read()
	return nil
}

func (p *liveProbe) Shutdown(context.Context) error { return nil }

// liveHeap collects garbage and returns the heap left: what is reachable.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
