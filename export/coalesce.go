package export

import (
	"context"
	"sync"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// coalesceWindow is how long ended spans gather before they are handed to
// the BatchSpanProcessor together. Next to its schedule delay (seconds) it
// is nothing; next to a request (a fraction of a millisecond) it saves a
// goroutine wake-up per request.
const coalesceWindow = 20 * time.Millisecond

// coalescer hands ended spans to the SDK's BatchSpanProcessor in groups.
// The processor wakes its goroutine for every span it is handed (a channel
// send to a parked receiver); at hundreds of requests a second on two cores
// those wake-ups were the proxy's latency tail (make bench). Spans still go
// through the SDK's processor, its queue, drops and export unchanged.
type coalescer struct {
	next sdktrace.SpanProcessor

	mu      sync.Mutex
	pending []sdktrace.ReadOnlySpan
	timer   *time.Timer // armed while spans are pending
}

var _ sdktrace.SpanProcessor = (*coalescer)(nil)

func newCoalescer(next sdktrace.SpanProcessor) *coalescer {
	c := &coalescer{next: next}
	c.timer = time.AfterFunc(time.Hour, c.handOver)
	c.timer.Stop()
	return c
}

// OnStart passes on at once; it does not block.
func (c *coalescer) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { c.next.OnStart(ctx, s) }

// OnEnd keeps the span for the next hand-over; it does not block.
func (c *coalescer) OnEnd(s sdktrace.ReadOnlySpan) {
	c.mu.Lock()
	c.pending = append(c.pending, s)
	if len(c.pending) == 1 {
		c.timer.Reset(coalesceWindow)
	}
	c.mu.Unlock()
}

// handOver gives the pending spans to the batch processor.
func (c *coalescer) handOver() {
	c.mu.Lock()
	spans := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, s := range spans {
		c.next.OnEnd(s)
	}
}

// ForceFlush hands over what is pending and flushes the batch processor.
func (c *coalescer) ForceFlush(ctx context.Context) error {
	c.timer.Stop()
	c.handOver()
	return c.next.ForceFlush(ctx)
}

// Shutdown hands over what is pending and shuts the batch processor down,
// which exports it.
func (c *coalescer) Shutdown(ctx context.Context) error {
	c.timer.Stop()
	c.handOver()
	return c.next.Shutdown(ctx)
}
