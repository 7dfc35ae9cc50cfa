package export

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/phoenixproxy/llmproxy/spans"
)

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
// pipeline sustains: full chat spans (package spans' benchmark call) through a BatchSpanProcessor, the
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
	rec := spans.NewRecorder(tp)
	body, err := os.ReadFile("../spans/testdata/bench-chat-request.json")
	if err != nil {
		b.Fatal(err)
	}
	resp, err := os.ReadFile("../spans/testdata/bench-chat-response.json")
	if err != nil {
		b.Fatal(err)
	}
	req := spans.Request{Op: &spans.Chat, System: "openai", Provider: "openai", Model: "gpt-4o-mini",
		Body: body, SessionID: "session-1", Tags: []string{"bench"}}

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
