package export

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// coalesceWindow is how long ended spans gather before they are handed to
// the BatchSpanProcessor together. Next to its schedule delay (seconds) it
// is nothing; next to a request (a fraction of a millisecond) it saves a
// goroutine wake-up per request.
const coalesceWindow = 20 * time.Millisecond

// sizeFlushTimeout bounds a flush for size: past it the processor keeps
// what it has not exported, for its own schedule.
const sizeFlushTimeout = 10 * time.Second

// coalescer hands ended spans to the SDK's BatchSpanProcessor in groups.
// The processor wakes its goroutine for every span it is handed (a channel
// send to a parked receiver); at hundreds of requests a second on two cores
// those wake-ups were the proxy's latency tail (make bench). Spans still go
// through the SDK's processor, its queue, drops and export unchanged.
//
// The processor exports when its batch is full or its schedule delay
// (seconds) passes. A coding agent's spans are megabytes each and come a
// few a second: seconds of them are hundreds of megabytes of heap, held
// for nothing. So once flushBytes of spans (by the export guard's
// estimate) have been handed over in fewer than a batch, the coalescer
// flushes the processor: what it holds goes to the span buffer, which
// sends it on as the collector takes it. Small spans fill a batch first,
// and the processor exports them on its own.
type coalescer struct {
	next       sdktrace.SpanProcessor
	window     time.Duration // coalesceWindow; tests that hand over themselves make it long
	flushBytes int           // 0: never flush for size
	batch      int           // the processor's batch size

	mu      sync.Mutex
	pending []sdktrace.ReadOnlySpan
	handed  int         // bytes (estimated) handed over or pending since the count began
	spans   int         // spans handed over since the count began
	timer   *time.Timer // armed while spans are pending

	// flushing is set while a flush for size runs: with the collector
	// slow, flushes could otherwise pile up, one per hand-over.
	flushing atomic.Bool
}

var _ sdktrace.SpanProcessor = (*coalescer)(nil)

// newCoalescer hands spans to next, a processor exporting batch spans at a
// time, and flushes it each time flushBytes of spans have been handed over
// in fewer than a batch (flushBytes 0: never).
func newCoalescer(next sdktrace.SpanProcessor, flushBytes, batch int) *coalescer {
	c := &coalescer{next: next, window: coalesceWindow, flushBytes: flushBytes, batch: batch}
	c.timer = time.AfterFunc(time.Hour, c.handOver)
	c.timer.Stop()
	return c
}

// OnStart passes on at once; it does not block.
func (c *coalescer) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) { c.next.OnStart(ctx, s) }

// OnEnd keeps the span for the next hand-over; it does not block.
func (c *coalescer) OnEnd(s sdktrace.ReadOnlySpan) {
	n := 0
	if c.flushBytes > 0 {
		n = spanBytes(s)
	}
	c.mu.Lock()
	c.pending = append(c.pending, s)
	c.handed += n
	if len(c.pending) == 1 {
		c.timer.Reset(c.window)
	}
	c.mu.Unlock()
}

// handOver gives the pending spans to the batch processor.
func (c *coalescer) handOver() {
	c.mu.Lock()
	spans := c.pending
	c.pending = nil
	c.spans += len(spans)
	flush := c.flushBytes > 0 && c.handed >= c.flushBytes && c.spans < c.batch
	if flush || c.spans >= c.batch {
		// Flushed, or a batch full that the processor exports itself.
		c.handed, c.spans = 0, 0
	}
	c.mu.Unlock()
	for _, s := range spans {
		c.next.OnEnd(s)
	}
	if flush && c.flushing.CompareAndSwap(false, true) {
		// On the timer's goroutine: no call waits for it. The span
		// buffer takes the batch without waiting for the collector
		// (unless it is over its budget, for at most an attempt).
		ctx, cancel := context.WithTimeout(context.Background(), sizeFlushTimeout)
		_ = c.next.ForceFlush(ctx)
		cancel()
		c.flushing.Store(false)
	}
}

// spanBytes is a span's size as the export guard estimates it, its strings
// counted but not checked.
func spanBytes(s sdktrace.ReadOnlySpan) int {
	n := spanOverhead + len(s.Name())
	for _, kv := range s.Attributes() {
		n += attrSize(kv)
	}
	return n
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
