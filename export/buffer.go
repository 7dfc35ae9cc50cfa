package export

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultBufferBytes is the span buffer's default memory budget.
const DefaultBufferBytes = 64 << 20

// Retry pacing while the collector does not answer: short enough that spans
// made after it comes back reach it within about a second.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = time.Second
)

// spanBuffer keeps ended spans until the collector has them. It sits
// between the BatchSpanProcessor (through the export guard) and the OTLP
// exporter: ExportSpans takes a batch into memory and returns at once, and
// one goroutine sends the batches in order, each attempt cut by its
// timeout, retrying a failed one until it goes through. A collector that is
// down, hung or not yet started therefore costs no span, and no batch
// waits behind a hung export for longer than one attempt. Only when the
// spans held exceed the budget (bytes, estimated as the guard estimates
// them) are the oldest dropped, counted, and reported through otel.Handle.
type spanBuffer struct {
	next           sdktrace.SpanExporter
	budget         int
	attemptTimeout time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []bufferedBatch // oldest first
	bytes   int
	seq     uint64
	closing bool

	ctx     context.Context // ends the sender at shutdown
	cancel  context.CancelFunc
	stopped chan struct{}
	// failingSince is when the attempts began to fail (zero while they
	// succeed): at shutdown, a collector that keeps failing is given up on.
	failingSince atomic.Int64

	sent, dropped atomic.Int64
}

type bufferedBatch struct {
	seq   uint64
	spans []sdktrace.ReadOnlySpan
	size  int
}

var (
	_ sdktrace.SpanExporter = (*spanBuffer)(nil)
	_ sizedExporter         = (*spanBuffer)(nil)
)

func newSpanBuffer(next sdktrace.SpanExporter, budget int, attemptTimeout time.Duration) *spanBuffer {
	b := &spanBuffer{next: next, budget: budget, attemptTimeout: attemptTimeout, stopped: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.send()
	return b
}

// ExportSpans keeps the batch for the sender. It does not block, and fails
// only after Shutdown.
func (b *spanBuffer) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	size := 0
	for _, s := range spans {
		n, _ := inspectSpan(s)
		size += n
	}
	return b.exportSized(spans, size)
}

// exportSized is ExportSpans for spans whose size the export guard has
// estimated already.
func (b *spanBuffer) exportSized(spans []sdktrace.ReadOnlySpan, size int) error {
	if len(spans) == 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return errors.New("span buffer is shut down")
	}
	b.seq++
	// The processor reuses its slice: keep a copy.
	b.queue = append(b.queue, bufferedBatch{seq: b.seq, spans: append([]sdktrace.ReadOnlySpan(nil), spans...), size: size})
	b.bytes += size
	dropped := 0
	for b.bytes > b.budget && len(b.queue) > 1 {
		dropped += len(b.queue[0].spans)
		b.bytes -= b.queue[0].size
		b.queue = b.queue[1:]
	}
	if dropped > 0 {
		b.dropped.Add(int64(dropped))
		otel.Handle(fmt.Errorf("span buffer over its budget of %d bytes (collector unreachable or slow): dropped the %d oldest spans", b.budget, dropped))
	}
	b.cond.Signal()
	return nil
}

// send sends the batches in order until Shutdown, retrying each until it
// goes through.
func (b *spanBuffer) send() {
	defer close(b.stopped)
	wait := retryFirst
	for {
		b.mu.Lock()
		for len(b.queue) == 0 && !b.closing {
			b.cond.Wait()
		}
		if len(b.queue) == 0 || b.ctx.Err() != nil {
			b.mu.Unlock()
			return
		}
		head := b.queue[0]
		b.mu.Unlock()

		ctx, cancel := context.WithTimeout(b.ctx, b.attemptTimeout)
		err := b.next.ExportSpans(ctx, head.spans)
		cancel()
		if err != nil {
			b.failingSince.CompareAndSwap(0, time.Now().UnixNano())
		} else {
			b.failingSince.Store(0)
		}
		if err == nil {
			b.mu.Lock()
			if len(b.queue) > 0 && b.queue[0].seq == head.seq {
				b.bytes -= head.size
				b.queue = b.queue[1:]
			}
			b.cond.Broadcast()
			b.mu.Unlock()
			b.sent.Add(int64(len(head.spans)))
			wait = retryFirst
			continue
		}
		otel.Handle(fmt.Errorf("exporting %d spans (kept, retrying in %s): %w", len(head.spans), wait, err))
		select {
		case <-time.After(wait):
		case <-b.ctx.Done():
			return
		}
		wait = min(2*wait, retryMax)
	}
}

// Flush waits until every batch taken so far has been sent, or ctx ends.
func (b *spanBuffer) Flush(ctx context.Context) error {
	for {
		b.mu.Lock()
		empty := len(b.queue) == 0
		b.mu.Unlock()
		if empty {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("span buffer still holds spans: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// giveUpAfter is how long, at shutdown, a collector may keep failing every
// attempt before the spans held are given up on: a collector that is down
// must not hold the proxy's exit for the whole shutdown timeout.
const giveUpAfter = 3 * time.Second

// Shutdown sends what is held until ctx ends, or until the collector has
// failed every attempt for giveUpAfter, then stops; the spans it could not
// send are counted as dropped.
func (b *spanBuffer) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	b.cond.Broadcast()
	b.mu.Unlock()
	start := time.Now()
	giveUp := func() bool {
		since := b.failingSince.Load()
		return since != 0 && time.Since(time.Unix(0, max(since, start.UnixNano()))) > giveUpAfter
	}
	var err error
	for done := false; !done; {
		select {
		case <-b.stopped:
			done = true
		case <-ctx.Done():
			done = true
		case <-time.After(50 * time.Millisecond):
			done = giveUp()
		}
	}
	select {
	case <-b.stopped:
	default:
		b.cancel()
		<-b.stopped
		b.mu.Lock()
		lost := 0
		for _, q := range b.queue {
			lost += len(q.spans)
		}
		b.queue, b.bytes = nil, 0
		b.mu.Unlock()
		b.dropped.Add(int64(lost))
		cause := ctx.Err()
		if cause == nil {
			cause = fmt.Errorf("the collector failed every attempt for %s", giveUpAfter)
		}
		err = fmt.Errorf("shutting down with %d spans not sent: %w", lost, cause)
	}
	b.cancel()
	return errors.Join(err, b.next.Shutdown(ctx))
}

// BufferStats are the span buffer's counts.
type BufferStats struct {
	Sent, Dropped int64 // spans, since start
	Held          int   // spans held now
	HeldBytes     int   // their estimated size
}

// Stats reads the counts.
func (b *spanBuffer) Stats() BufferStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	held := 0
	for _, q := range b.queue {
		held += len(q.spans)
	}
	return BufferStats{Sent: b.sent.Load(), Dropped: b.dropped.Load(), Held: held, HeldBytes: b.bytes}
}
