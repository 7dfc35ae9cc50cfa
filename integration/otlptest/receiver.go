// Package otlptest is an in-process OTLP gRPC trace receiver for tests: the
// proxy's exporter sends to it over a real socket, and tests read back the
// spans that arrived, with their resource, as plain Go values.
package otlptest

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// Span is a received span, flattened for assertions.
type Span struct {
	Name          string
	TraceID       string
	SpanID        string
	ParentSpanID  string
	Kind          tracepb.Span_SpanKind
	Attributes    map[string]any // string, int64, float64, bool, []any
	Resource      map[string]any
	Events        []Event
	StatusCode    tracepb.Status_StatusCode
	StatusMessage string
	Start, End    time.Time
}

// Event is a span event.
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]any
}

// Receiver collects exported spans.
type Receiver struct {
	collectortrace.UnimplementedTraceServiceServer
	Addr string // host:port

	srv      *grpc.Server
	httpPath string // an OTLP/HTTP receiver's path; "" for gRPC
	hung     atomic.Bool
	mu       sync.Mutex
	spans    []Span
	headers  []metadata.MD
	arrived  chan struct{}
}

// Start starts a receiver on a loopback port; it stops when the test ends.
func Start(t testing.TB) *Receiver { return StartAt(t, "127.0.0.1:0") }

// StartAt starts a receiver on addr (a collector coming back where it
// was); it stops when the test ends, or at Stop.
func StartAt(t testing.TB, addr string) *Receiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("otlptest: %v", err)
	}
	r := &Receiver{Addr: ln.Addr().String(), srv: grpc.NewServer(), arrived: make(chan struct{}, 1)}
	collectortrace.RegisterTraceServiceServer(r.srv, r)
	go func() { _ = r.srv.Serve(ln) }()
	t.Cleanup(r.srv.Stop)
	return r
}

// StartHTTP starts an OTLP/HTTP receiver (protobuf) on a loopback port,
// taking exports at path only, as Phoenix Cloud takes them under a space's
// path. Endpoint is then its full URL. It stops when the test ends.
func StartHTTP(t testing.TB, path string) *Receiver {
	t.Helper()
	r := &Receiver{arrived: make(chan struct{}, 1), srv: grpc.NewServer()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var in collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		md := metadata.MD{}
		for k, v := range req.Header {
			md[strings.ToLower(k)] = v
		}
		out, _ := r.Export(metadata.NewIncomingContext(req.Context(), md), &in)
		b, _ := proto.Marshal(out)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r.Addr = strings.TrimPrefix(srv.URL, "http://")
	r.httpPath = path
	return r
}

// Stop stops the receiver at once, its connections closed: a collector
// that dies.
func (r *Receiver) Stop() { r.srv.Stop() }

// Hang makes every export, from now until Hang(false), wait without an
// answer until its caller gives up: a collector that accepts and hangs.
func (r *Receiver) Hang(on bool) { r.hung.Store(on) }

// Endpoint is the receiver's URL for an OTLP exporter.
func (r *Receiver) Endpoint() string { return "http://" + r.Addr + r.httpPath }

// Export implements the OTLP trace service.
func (r *Receiver) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	for r.hung.Load() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	var got []Span
	for _, rs := range req.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				got = append(got, convert(s, res))
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.headers = append(r.headers, md)
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Headers returns the gRPC metadata of every export so far.
func (r *Receiver) Headers() []metadata.MD {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]metadata.MD(nil), r.headers...)
}

// Reset forgets the spans received so far.
func (r *Receiver) Reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}

// WaitFor waits until at least n spans have arrived, or fails the test.
func (r *Receiver) WaitFor(t testing.TB, n int, timeout time.Duration) []Span {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if s := r.Spans(); len(s) >= n {
			return s
		}
		select {
		case <-r.arrived:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("otlptest: %d spans arrived within %s, want %d", len(r.Spans()), timeout, n)
		}
	}
}

func convert(s *tracepb.Span, res map[string]any) Span {
	out := Span{
		Name:          s.GetName(),
		TraceID:       hex.EncodeToString(s.GetTraceId()),
		SpanID:        hex.EncodeToString(s.GetSpanId()),
		ParentSpanID:  hex.EncodeToString(s.GetParentSpanId()),
		Kind:          s.GetKind(),
		Attributes:    attrs(s.GetAttributes()),
		Resource:      res,
		StatusCode:    s.GetStatus().GetCode(),
		StatusMessage: s.GetStatus().GetMessage(),
		Start:         time.Unix(0, int64(s.GetStartTimeUnixNano())),
		End:           time.Unix(0, int64(s.GetEndTimeUnixNano())),
	}
	for _, e := range s.GetEvents() {
		out.Events = append(out.Events, Event{
			Name:       e.GetName(),
			Time:       time.Unix(0, int64(e.GetTimeUnixNano())),
			Attributes: attrs(e.GetAttributes()),
		})
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.GetKey()] = value(kv.GetValue())
	}
	return m
}

func value(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_ArrayValue:
		var out []any
		for _, e := range x.ArrayValue.GetValues() {
			out = append(out, value(e))
		}
		return out
	case nil:
		return nil
	}
	return fmt.Sprintf("%v", v)
}
