package spans

import (
	"context"
	"net"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// benchChatRequest is a realistic chat call, the one integration/bench
// sends: a system prompt, a question, a tool call and its result, a
// follow-up, and one tool, so every kind of message attribute is extracted.
const benchChatRequest = `{"model":"gpt-4o-mini","messages":[` +
	`{"role":"system","content":"You are a helpful assistant that answers questions about the weather. Use the tools when you need current data."},` +
	`{"role":"user","content":"What is the weather like in Boston today?"},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","type":"function","function":{"name":"get_current_weather","arguments":"{\"location\":\"Boston, MA\",\"unit\":\"fahrenheit\"}"}}]},` +
	`{"role":"tool","tool_call_id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","content":"{\"temperature\":72,\"unit\":\"fahrenheit\",\"description\":\"Sunny with a light breeze\"}"},` +
	`{"role":"user","content":"Should I take an umbrella this afternoon?"}],` +
	`"tools":[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location",` +
	`"parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},` +
	`"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}}],` +
	`"tool_choice":"auto","temperature":0.2,"max_tokens":256,"user":"bench-user"}`

// benchChatResponse is the answer integration/bench's upstream gives.
const benchChatResponse = `{"id":"chatcmpl-BENCH0000000000000000000001","object":"chat.completion","created":1755137933,"model":"gpt-4o-mini-2024-07-18",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"No umbrella needed: it is sunny in Boston with a light breeze and 72°F, and no rain is expected this afternoon. A light jacket may be handy in the evening.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
	`"usage":{"prompt_tokens":187,"completion_tokens":38,"total_tokens":225,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},` +
	`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},` +
	`"service_tier":"default","system_fingerprint":"fp_560af6e559"}`

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
// (BenchmarkExport).
func benchTracers() []struct {
	name string
	tp   trace.TracerProvider
} {
	return []struct {
		name string
		tp   trace.TracerProvider
	}{
		{"noop", noop.NewTracerProvider()},
		{"sdk", sdktrace.NewTracerProvider(sdktrace.WithRawSpanLimits(Limits()))},
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
	masked := NewRedactingRecorder(sdktrace.NewTracerProvider(sdktrace.WithRawSpanLimits(Limits())), &Redaction{
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

// benchSink is an OTLP gRPC trace service that only counts spans.
type benchSink struct {
	collectortrace.UnimplementedTraceServiceServer
	spans atomic.Int64
}

func (s *benchSink) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	n := 0
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	s.spans.Add(int64(n))
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// BenchmarkExport measures how many spans per second the proxy's export
// pipeline sustains: full chat spans through a BatchSpanProcessor, the
// export guard and the OTLP gRPC exporter, as NewProvider builds them, to a
// counting collector on loopback. The processor blocks instead of dropping,
// so the rate is the slower of making spans and exporting them; the
// collector shares the machine, as it does in integration/bench.
func BenchmarkExport(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sink := &benchSink{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, sink)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()

	ctx := context.Background()
	exporter, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL("http://"+ln.Addr().String()))
	if err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(NewResource("llmproxy", "bench")),
		sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(
			&guardedExporter{SpanExporter: exporter, maxBytes: DefaultMaxExportBytes}, sdktrace.WithBlocking())),
		sdktrace.WithRawSpanLimits(Limits()),
	)
	defer func() { _ = tp.Shutdown(ctx) }()
	rec := NewRecorder(tp)
	req, resp := benchRequest(), []byte(benchChatResponse)

	b.ReportAllocs()
	start := time.Now()
	before := sink.spans.Load()
	for b.Loop() {
		_, call := rec.Start(ctx, req)
		call.Response(resp)
		call.End(true)
	}
	if err := tp.ForceFlush(ctx); err != nil {
		b.Fatal(err)
	}
	got := sink.spans.Load() - before
	if got != int64(b.N) {
		b.Fatalf("collector got %d spans, want %d", got, b.N)
	}
	b.ReportMetric(float64(got)/time.Since(start).Seconds(), "spans/s")
}
