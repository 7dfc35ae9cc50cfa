package export

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// pacedLink is a collector that takes each request after delay, or fails
// them all while failing is set; it counts the spans it took.
type pacedLink struct {
	delay   time.Duration
	failing atomic.Bool
	spans   atomic.Int64
}

func (l *pacedLink) upload(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	select {
	case <-time.After(l.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	if l.failing.Load() {
		return errors.New("unavailable")
	}
	for _, r := range rs {
		for _, ss := range r.GetScopeSpans() {
			l.spans.Add(int64(len(ss.GetSpans())))
		}
	}
	return nil
}
func (l *pacedLink) probe(context.Context) bool                     { return !l.failing.Load() }
func (l *pacedLink) reset()                                         {}
func (l *pacedLink) waitReady(ctx context.Context, d time.Duration) { time.Sleep(d) }
func (l *pacedLink) shutdown(context.Context) error                 { return nil }

// bigSpans are n spans of about 64 KiB each.
func bigSpans(n int) []sdktrace.ReadOnlySpan {
	value := strings.Repeat("x", 64<<10)
	spans := make([]sdktrace.ReadOnlySpan, n)
	for i := range spans {
		spans[i] = tracetest.SpanStub{Name: "ChatCompletion", Attributes: []attribute.KeyValue{attribute.String("input.value", value)}}.Snapshot()
	}
	return spans
}

// A burst larger than the budget, handed over while the collector takes
// every request (slowly), waits for room: every span arrives, none is
// counted dropped (the agent-sized bench rows lost 28 of 210 2 MB spans to
// such bursts, and counted 34).
func TestSpanBufferWaitsForAHealthyCollector(t *testing.T) {
	link := &pacedLink{delay: 5 * time.Millisecond}
	b := newSpanBuffer(link, 256<<10, 10*time.Second, nil) // room for 4 spans
	var wg sync.WaitGroup
	for range 4 { // four bursts of 10 spans, as processors would hand them over
		wg.Go(func() {
			for _, s := range bigSpans(10) {
				if err := b.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{s}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := link.spans.Load(); got != 40 {
		t.Errorf("collector got %d spans, want 40", got)
	}
	if st := b.Stats(); st.Dropped != 0 {
		t.Errorf("%d spans counted dropped, want 0", st.Dropped)
	}
	if b.waits.Load() == 0 {
		t.Error("no export waited for room: the test did not fill the budget")
	}
	_ = b.Shutdown(context.Background())
}

// With the collector failing, nothing waits: the oldest go, counted, and
// the batch the sender has out is not among them.
func TestSpanBufferDropsWhileTheCollectorFails(t *testing.T) {
	link := &pacedLink{delay: time.Millisecond}
	link.failing.Store(true)
	b := newSpanBuffer(link, 256<<10, 10*time.Second, nil)
	// Let the sender fail once, so that the buffer knows.
	if err := b.ExportSpans(context.Background(), bigSpans(1)); err != nil {
		t.Fatal(err)
	}
	for b.failingSince.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	for _, s := range bigSpans(20) {
		if err := b.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{s}); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("exports took %s with the collector down: they waited", d)
	}
	dropped := b.Stats().Dropped
	if dropped == 0 {
		t.Fatal("nothing dropped over the budget")
	}
	link.failing.Store(false)
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := link.spans.Load(); got+dropped != 21 {
		t.Errorf("collector got %d and %d were counted dropped: %d, want 21 (a span counted dropped arrived, or one was lost uncounted)", got, dropped, got+dropped)
	}
	_ = b.Shutdown(context.Background())
}
