package export

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestCoalescerHandsSpansOver(t *testing.T) {
	rec := &batches{}
	// A simple processor hands each span straight to the exporter, so what
	// the exporter got is what the coalescer has handed over.
	c := newCoalescer(sdktrace.NewSimpleSpanProcessor(rec), 0, 512)
	got := func() int {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.got)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c))
	tracer := tp.Tracer("t")

	for i := 0; i < 3; i++ {
		_, s := tracer.Start(context.Background(), "a")
		s.End()
	}
	if n := got(); n != 0 {
		t.Errorf("%d spans handed over at once; want them held for the window", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for got() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := got(); n != 3 {
		t.Fatalf("%d spans handed over after the window; want 3", n)
	}

	// ForceFlush and Shutdown do not wait for the window.
	_, s := tracer.Start(context.Background(), "b")
	s.End()
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := got(); n != 4 {
		t.Errorf("after ForceFlush: %d spans; want 4", n)
	}
	_, s = tracer.Start(context.Background(), "c")
	s.End()
	if n := got(); n != 4 {
		t.Errorf("before Shutdown: %d spans; want span c held", n)
	}
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := got(); n != 5 {
		t.Errorf("after Shutdown: %d spans; want 5", n)
	}
}

// flushCounter is a span processor that counts what it is handed and how
// often it is flushed.
type flushCounter struct {
	mu             sync.Mutex
	ended, flushes int
}

func (f *flushCounter) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (f *flushCounter) OnEnd(sdktrace.ReadOnlySpan) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended++
}
func (f *flushCounter) Shutdown(context.Context) error { return nil }
func (f *flushCounter) ForceFlush(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes++
	return nil
}
func (f *flushCounter) counts() (ended, flushes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ended, f.flushes
}

// TestCoalescerFlushesForSize: once spans of flushBytes have been handed
// over in fewer than a batch, the processor is flushed, so that
// agent-sized spans do not wait its schedule delay in memory; small spans
// never flush it.
func TestCoalescerFlushesForSize(t *testing.T) {
	next := &flushCounter{}
	c := newCoalescer(next, 100_000, 512)
	c.window = time.Hour // the test hands over itself
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c), sdktrace.WithRawSpanLimits(Limits()))
	end := func(text string) {
		_, s := tp.Tracer("t").Start(context.Background(), "call")
		s.SetAttributes(attribute.String("input.value", text))
		s.End()
	}
	for range 20 {
		end("small") // 20 small spans: about 6 KB
	}
	c.handOver()
	if ended, flushes := next.counts(); ended != 20 || flushes != 0 {
		t.Fatalf("small spans: %d handed over, %d flushes; want 20, 0", ended, flushes)
	}
	big := strings.Repeat("x", 40_000)
	end(big)
	end(big)
	c.handOver()
	if _, flushes := next.counts(); flushes != 0 {
		t.Fatalf("86 KB handed over: %d flushes; want none yet", flushes)
	}
	end(big)
	c.handOver()
	if ended, flushes := next.counts(); ended != 23 || flushes != 1 {
		t.Fatalf("126 KB handed over: %d handed over, %d flushes; want 23, 1", ended, flushes)
	}
	end(big)
	c.handOver()
	if _, flushes := next.counts(); flushes != 1 {
		t.Fatalf("40 KB more: %d flushes; want the count started again, still 1", flushes)
	}

	// Never: small spans that fill a batch, which the processor exports on
	// its own (600 of them, 170 KB); any spans with no size to flush at.
	for _, tc := range []struct {
		name       string
		flushBytes int
		spans      int
		text       string
	}{
		{"600 small spans", 100_000, 600, "small"},
		{"flushBytes 0", 0, 10, big},
	} {
		next = &flushCounter{}
		c = newCoalescer(next, tc.flushBytes, 512)
		c.window = time.Hour
		tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c), sdktrace.WithRawSpanLimits(Limits()))
		for range tc.spans {
			end(tc.text)
		}
		c.handOver()
		if _, flushes := next.counts(); flushes != 0 {
			t.Errorf("%s: %d flushes; want none", tc.name, flushes)
		}
	}
}

// slowFlusher is a flushCounter whose flushes wait until released.
type slowFlusher struct {
	flushCounter
	release chan struct{}
}

func (f *slowFlusher) ForceFlush(ctx context.Context) error {
	_ = f.flushCounter.ForceFlush(ctx)
	<-f.release
	return nil
}

// TestCoalescerFlushesForSizeOneAtATime: while a flush for size waits (a
// slow collector), further hand-overs do not start more.
func TestCoalescerFlushesForSizeOneAtATime(t *testing.T) {
	next := &slowFlusher{release: make(chan struct{})}
	c := newCoalescer(next, 100_000, 512)
	c.window = time.Hour
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(c), sdktrace.WithRawSpanLimits(Limits()))
	big := strings.Repeat("x", 120_000)
	end := func() {
		_, s := tp.Tracer("t").Start(context.Background(), "call")
		s.SetAttributes(attribute.String("input.value", big))
		s.End()
	}
	end()
	done := make(chan struct{})
	go func() { c.handOver(); close(done) }()                                    // flushes, and waits
	waitFor(t, func() bool { _, flushes := next.counts(); return flushes == 1 }) // 120 KB handed over
	for range 3 {
		end()
		c.handOver() // would flush, but one is under way: returns at once
	}
	if ended, flushes := next.counts(); ended != 4 || flushes != 1 {
		t.Fatalf("during a flush: %d handed over, %d flushes; want 4, 1", ended, flushes)
	}
	close(next.release)
	<-done
	end()
	c.handOver()
	if _, flushes := next.counts(); flushes != 2 {
		t.Fatalf("after it: %d flushes; want a second", flushes)
	}
}

// waitFor waits up to 5 s for cond.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
