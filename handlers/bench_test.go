package handlers

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// cannedTransport answers every request with one recorded answer, from
// memory: the benchmark measures the handler, not a network.
type cannedTransport struct {
	header http.Header
	body   []byte
}

func (c *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: c.header.Clone(), Body: io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: r,
	}, nil
}

// BenchmarkChatCall measures what the handler costs per chat completions
// call, the realistic one integration/bench sends (testdata/bench-chat-*:
// copies of package spans' benchmark call), from the request's arrival to
// its span's end, its answer from memory: "off" with a tracer that records
// nothing (tracing off), "traced" with the SDK's recording tracer and a
// synchronous exporter that drops what it gets, so the figure is the
// handler and the span but not the export pipeline (package export's
// BenchmarkExport); "traced+sessions" with session inference on, as the
// proxy runs by default. Its allocations are issue 19's "allocations per traced
// chat call": go test ./handlers -run '^$' -bench ChatCall -benchmem.
func BenchmarkChatCall(b *testing.B) {
	reqBody, err := os.ReadFile("testdata/bench-chat-request.json")
	if err != nil {
		b.Fatal(err)
	}
	answer, err := os.ReadFile("testdata/bench-chat-response.json")
	if err != nil {
		b.Fatal(err)
	}
	ps, err := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: "http://upstream.invalid/v1", OpenAIAPIKey: "sk-bench"}})
	if err != nil {
		b.Fatal(err)
	}
	transport := &cannedTransport{header: http.Header{"Content-Type": {"application/json"}}, body: answer}
	traced := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()), sdktrace.WithRawSpanLimits(export.Limits()))
	for _, tc := range []struct {
		name     string
		tp       trace.TracerProvider
		sessions *sessions.Resolver
	}{
		{"off", noop.NewTracerProvider(), nil},
		{"traced", traced, nil},
		// The default: sessions inferred from the call's history (each
		// call here the same first turn: a new session every time).
		{"traced+sessions", traced, sessions.New(sessions.Options{})},
	} {
		b.Run(tc.name, func(b *testing.B) {
			h := New(Options{Providers: ps, Recorder: spans.NewRecorder(tc.tp), Transport: transport, Sessions: tc.sessions,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(reqBody))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), answer) {
					b.Fatalf("status %d, answer %q", w.Code, w.Body.Bytes())
				}
			}
		})
	}
}
