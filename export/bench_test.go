package export

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/spool"
)

// benchSink is an OTLP gRPC trace service that only counts spans.
type benchSink struct {
	collectortrace.UnimplementedTraceServiceServer
	spans atomic.Int64
}

// startBenchSink serves a benchSink on a loopback address until b ends.
func startBenchSink(b *testing.B) (*benchSink, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sink := &benchSink{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, sink)
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(srv.Stop)
	return sink, ln.Addr().String()
}

// benchChat is package spans' benchmark call: its request and its answer.
func benchChat(b *testing.B) (body, resp []byte) {
	body, err := os.ReadFile("../spans/testdata/bench-chat-request.json")
	if err != nil {
		b.Fatal(err)
	}
	resp, err = os.ReadFile("../spans/testdata/bench-chat-response.json")
	if err != nil {
		b.Fatal(err)
	}
	return body, resp
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
	sink, addr := startBenchSink(b)

	ctx := context.Background()
	exporter, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL("http://"+addr))
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
	body, resp := benchChat(b)
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

// BenchmarkSpanBuffer measures what the span spool costs a span: batches
// of 64 full chat spans through the span buffer, kept in memory or in the
// spool (protobuf encoding, a write, the read back and decoding; the
// fsyncs are the spool's, every second), sent to a counting collector on
// loopback as they come; the time runs until the collector has them all.
// The difference between the two ns/span is the spool's cost.
func BenchmarkSpanBuffer(b *testing.B) {
	sink, addr := startBenchSink(b)

	body, resp := benchChat(b)
	recorded := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(NewResource("llmproxy", "bench")),
		sdktrace.WithSpanProcessor(recorded), sdktrace.WithRawSpanLimits(Limits()))
	rec := spans.NewRecorder(tp)
	req := spans.Request{Op: &spans.Chat, System: "openai", Provider: "openai", Model: "gpt-4o-mini",
		Body: body, SessionID: "session-1", Tags: []string{"bench"}}
	const batch = 64
	for i := 0; i < batch; i++ {
		_, call := rec.Start(context.Background(), req)
		call.Response(resp)
		call.End(true)
	}
	spans := recorded.Ended()

	b.Run("spool alone", func(b *testing.B) {
		// What the spool adds to a batch, without the network: encoding,
		// the write, the read back, decoding, the acknowledgement.
		sp, err := spool.Open(b.TempDir(), spool.Options{MaxBytes: 4 << 30})
		if err != nil {
			b.Fatal(err)
		}
		defer sp.Close()
		buf := &spanBuffer{transform: otlptrace.NewUnstarted(capture{})}
		rs := buf.toProto(spans)
		b.ReportAllocs()
		bytes := 0
		for b.Loop() {
			data, err := proto.Marshal(&collectortrace.ExportTraceServiceRequest{ResourceSpans: rs})
			if err != nil {
				b.Fatal(err)
			}
			bytes = len(data)
			if err := sp.Append(data, len(spans)); err != nil {
				b.Fatal(err)
			}
			r, ok := sp.Head()
			if !ok {
				b.Fatal("no head")
			}
			var req collectortrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(r.Payload, &req); err != nil {
				b.Fatal(err)
			}
			sp.Ack(r.ID)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/span")
		b.ReportMetric(float64(bytes)/batch, "bytes/span")
	})
	for _, kind := range []string{"memory", "spool"} {
		b.Run(kind, func(b *testing.B) {
			ctx := context.Background()
			l, err := newLink(ctx, collector{url: "http://" + addr}, nil, 10*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			var sp *spool.Spool
			if kind == "spool" {
				if sp, err = spool.Open(b.TempDir(), spool.Options{MaxBytes: 4 << 30}); err != nil {
					b.Fatal(err)
				}
			}
			buf := newSpanBuffer(l, 4<<30, 10*time.Second, sp)
			defer buf.Shutdown(ctx)
			before := sink.spans.Load()
			b.ReportAllocs()
			for b.Loop() {
				if err := buf.ExportSpans(ctx, spans); err != nil {
					b.Fatal(err)
				}
			}
			if err := buf.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			if got := sink.spans.Load() - before; got != int64(b.N*batch) {
				b.Fatalf("collector got %d spans, want %d", got, b.N*batch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/span")
		})
	}
}
