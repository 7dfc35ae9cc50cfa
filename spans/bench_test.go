package spans

import (
	"context"
	"os"
	"regexp"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// benchChatRequest (testdata/bench-chat-request.json) is a realistic chat
// call, the one integration/bench sends: a system prompt, a question, a tool
// call and its result, a follow-up, and one tool, so every kind of message
// attribute is extracted; benchChatResponse is the answer integration/bench's
// upstream gives. Package export's benchmark traces the same call.
var benchChatRequest, benchChatResponse = mustRead("testdata/bench-chat-request.json"), mustRead("testdata/bench-chat-response.json")

func mustRead(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func benchRequest() Request {
	return Request{
		Op: &Chat, System: "openai", Provider: "openai", Model: "gpt-4o-mini",
		Body: []byte(benchChatRequest), SessionID: "session-1", Tags: []string{"bench"},
	}
}

// benchTracers are the two tracers worth telling apart: a no-op one, the
// tracing-off path (a span that does not record gets no attributes built),
// and the SDK's recording tracer with the proxy's span limits and no
// processor, so the figure is attribute extraction plus recording the span
// (copying attributes, ids, timestamps) but not exporting it
// (package export's BenchmarkExport).
func benchTracers() []struct {
	name string
	tp   trace.TracerProvider
} {
	return []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"noop", noop.NewTracerProvider()},
		{"sdk", sdktrace.NewTracerProvider(sdktrace.WithRawSpanLimits(benchLimits()))},
	}
}

// BenchmarkRecorder measures what the proxy does per chat call to trace
// it: Start (request attributes: input value, invocation parameters, five
// messages, one tool) and, in "call", Response and End too (output
// messages, token counts).
func BenchmarkRecorder(b *testing.B) {
	ctx := context.Background()
	resp := []byte(benchChatResponse)
	for _, tc := range benchTracers() {
		rec := NewRecorder(tc.tp)
		b.Run(tc.name+"/start", func(b *testing.B) {
			req := benchRequest()
			b.ReportAllocs()
			for b.Loop() {
				_, call := rec.Start(ctx, req)
				call.End(true)
			}
		})
		b.Run(tc.name+"/call", func(b *testing.B) {
			req := benchRequest()
			b.ReportAllocs()
			for b.Loop() {
				_, call := rec.Start(ctx, req)
				call.Response(resp)
				call.End(true)
			}
		})
	}
	// The same call with masking by pattern on (REDACT_PATTERNS): every
	// recorded string is searched for each pattern.
	masked := NewRedactingRecorder(sdktrace.NewTracerProvider(sdktrace.WithRawSpanLimits(benchLimits())), &Redaction{
		Patterns: []*regexp.Regexp{regexp.MustCompile(`sk-[A-Za-z0-9_-]{20,}`), regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)},
	})
	b.Run("sdk+2patterns/call", func(b *testing.B) {
		req := benchRequest()
		b.ReportAllocs()
		for b.Loop() {
			_, call := masked.Start(ctx, req)
			call.Response(resp)
			call.End(true)
		}
	})
}

// benchLimits are the proxy's span limits (export.Limits): no cap on the
// attribute count or value length.
func benchLimits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.AttributeCountLimit = -1
	l.AttributeValueLengthLimit = -1
	return l
}
