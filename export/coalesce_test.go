package export

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

func TestCoalescerHandsSpansOver(t *testing.T) {
	rec := &batches{}
	// A simple processor hands each span straight to the exporter, so what
	// the exporter got is what the coalescer has handed over.
	c := newCoalescer(sdktrace.NewSimpleSpanProcessor(rec))
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
