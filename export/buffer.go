package export

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/phoenixproxy/llmproxy/spool"
)

// DefaultBufferBytes is the span buffer's default memory budget.
const DefaultBufferBytes = 64 << 20

// Retry pacing while the collector does not answer: short enough that spans
// made after it comes back reach it within about a second.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = time.Second
)

// Watching an attempt that hangs (see attempt).
const (
	stuckFloor = time.Second            // an attempt out this long is probed…
	stuckSlack = 4                      // …or this many times the slowest recent success
	probeEvery = 250 * time.Millisecond // between probes
)

// spanBuffer keeps ended spans until the collector has them. It sits
// between the BatchSpanProcessor (through the export guard) and the OTLP
// client: ExportSpans turns a batch into OTLP protobuf (the SDK's own
// transform) and keeps it, and returns at once; one goroutine sends the
// batches in order, each attempt cut by its timeout, retrying a failed one
// until it goes through. A collector that is down, hung or not yet started
// therefore costs no span, and no batch waits behind a hung export for
// longer than one attempt.
//
// The batches are kept in the spool when there is one, else in memory: the
// spool sits in the buffer's place, not in front of it, so that a batch is
// on disk from the moment the processor hands it over (a process killed
// then loses only what the processor still held, at most its schedule
// delay, which NewProvider keeps within the spool's fsync interval) and the
// disk budget is the buffer's, not the memory's. A batch the spool cannot
// take (a full or read-only disk) is kept in memory instead: one log line
// when the disk starts failing, each such batch counted. The spool's
// batches, an earlier process's first, go before the memory's.
//
// Only when the spans held exceed the budget (bytes, estimated as the guard
// estimates them, or the spool's) are the oldest dropped, counted, and
// reported through otel.Handle.
type spanBuffer struct {
	link           uplink
	budget         int
	attemptTimeout time.Duration
	spool          *spool.Spool // nil: memory only
	transform      *otlptrace.Exporter

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
	// waits counts waitForRoom's waits, for the tests.
	waits atomic.Int64
	// inflight is the seq of the memory batch the sender has out (0:
	// none), which the budget never drops.
	inflight     uint64
	spoolFailing atomic.Bool
	spoolErrors  atomic.Int64 // batches the spool could not take

	// recent are the durations of the last successful attempts (the
	// sender's own).
	recent [8]time.Duration
	next   int
}

type bufferedBatch struct {
	seq   uint64
	rs    []*tracepb.ResourceSpans
	spans int
	size  int
}

var (
	_ sdktrace.SpanExporter = (*spanBuffer)(nil)
	_ sizedExporter         = (*spanBuffer)(nil)
)

// newSpanBuffer starts the buffer's sender; sp, when not nil, keeps the
// batches on disk (and may hold an earlier process's, sent first).
func newSpanBuffer(link uplink, budget int, attemptTimeout time.Duration, sp *spool.Spool) *spanBuffer {
	b := &spanBuffer{
		link: link, budget: budget, attemptTimeout: attemptTimeout, spool: sp,
		transform: otlptrace.NewUnstarted(capture{}),
		stopped:   make(chan struct{}),
	}
	b.cond = sync.NewCond(&b.mu)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.send()
	return b
}

// capture is an OTLP client that keeps what it is given: the SDK's
// exporter over it turns spans into OTLP protobuf exactly as it would
// before sending them.
type capture struct{}

type captureKey struct{}

func (capture) Start(context.Context) error { return nil }
func (capture) Stop(context.Context) error  { return nil }
func (capture) UploadTraces(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	*ctx.Value(captureKey{}).(*[]*tracepb.ResourceSpans) = rs
	return nil
}

func (b *spanBuffer) toProto(spans []sdktrace.ReadOnlySpan) []*tracepb.ResourceSpans {
	var rs []*tracepb.ResourceSpans
	_ = b.transform.ExportSpans(context.WithValue(context.Background(), captureKey{}, &rs), spans)
	return rs
}

// ExportSpans keeps the batch for the sender. It does not block, and fails
// only after Shutdown.
func (b *spanBuffer) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	size := 0
	for _, s := range spans {
		n, _ := inspectSpan(s)
		size += n
	}
	return b.exportSized(ctx, spans, size)
}

// exportSized is ExportSpans for spans whose size the export guard has
// estimated already.
//
// Over the budget while the collector takes what it is sent, it waits for
// room (until ctx ends or an attempt's timeout passes) rather than drop:
// the processor hands over a whole schedule delay of spans at once, and
// with agent-sized calls (2 MB spans) one such burst is more than the
// budget although a healthy collector takes it in seconds. Waiting holds
// back the processor, whose queue keeps the spans meanwhile. With the
// collector failing, nothing waits: the oldest are dropped as before.
func (b *spanBuffer) exportSized(ctx context.Context, spans []sdktrace.ReadOnlySpan, size int) error {
	if len(spans) == 0 {
		return nil
	}
	b.mu.Lock()
	closing := b.closing
	b.mu.Unlock()
	if closing {
		return errors.New("span buffer is shut down")
	}
	rs := b.toProto(spans)
	if b.spool != nil && b.toSpool(rs, len(spans)) {
		b.mu.Lock()
		b.cond.Signal()
		b.mu.Unlock()
		return nil
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.waitForRoom(ctx, size)
	b.seq++
	b.queue = append(b.queue, bufferedBatch{seq: b.seq, rs: rs, spans: len(spans), size: size})
	b.bytes += size
	dropped := 0
	for b.bytes > b.budget && len(b.queue) > 1 {
		// The oldest, unless the sender has it out: that one arrives all
		// the same, and would be counted as dropped.
		i := 0
		if b.queue[0].seq == b.inflight {
			if len(b.queue) < 3 {
				break
			}
			i = 1
		}
		dropped += b.queue[i].spans
		b.bytes -= b.queue[i].size
		b.queue = append(b.queue[:i], b.queue[i+1:]...)
	}
	if dropped > 0 {
		b.dropped.Add(int64(dropped))
		otel.Handle(fmt.Errorf("span buffer over its budget of %d bytes (collector unreachable or slow): dropped the %d oldest spans", b.budget, dropped))
	}
	b.cond.Signal()
	return nil
}

// waitForRoom waits, with b.mu held, while size more bytes would take the
// buffer over its budget and the sender keeps succeeding: until then, ctx's
// end, or an attempt's timeout.
func (b *spanBuffer) waitForRoom(ctx context.Context, size int) {
	if b.bytes+size <= b.budget || len(b.queue) == 0 || b.failingSince.Load() != 0 {
		return
	}
	wake := func() { b.mu.Lock(); b.cond.Broadcast(); b.mu.Unlock() }
	timer := time.AfterFunc(b.attemptTimeout, wake)
	defer timer.Stop()
	stop := context.AfterFunc(ctx, wake)
	defer stop()
	deadline := time.Now().Add(b.attemptTimeout)
	for b.bytes+size > b.budget && len(b.queue) > 0 && !b.closing &&
		b.failingSince.Load() == 0 && ctx.Err() == nil && time.Now().Before(deadline) {
		b.waits.Add(1)
		b.cond.Wait()
	}
}

// toSpool writes the batch to the spool; false, logged the first time in
// a row, when the disk refuses it.
func (b *spanBuffer) toSpool(rs []*tracepb.ResourceSpans, spans int) bool {
	data, err := proto.Marshal(&collectortrace.ExportTraceServiceRequest{ResourceSpans: rs})
	if err == nil {
		err = b.spool.Append(data, spans)
	}
	if err != nil {
		b.spoolErrors.Add(1)
		if !b.spoolFailing.Swap(true) {
			otel.Handle(fmt.Errorf("span spool: %w; keeping spans in memory (SPAN_BUFFER_BYTES) while the disk refuses them", err))
		}
		return false
	}
	b.spoolFailing.Store(false)
	return true
}

// errStuck ends an attempt abandoned as stuck.
var errStuck = errors.New("the attempt hung while the collector answered probes: abandoned for a fresh connection")

// head is the oldest batch: the spool's, else the memory's. Called with
// b.mu held.
func (b *spanBuffer) head() (pending, bool) {
	if b.spool != nil {
		for {
			rec, ok := b.spool.Head()
			if !ok {
				break
			}
			var req collectortrace.ExportTraceServiceRequest
			if err := proto.Unmarshal(rec.Payload, &req); err != nil {
				// It checked, so it is what was written: never, short of
				// a bug. Counted, not retried for ever.
				b.spool.Ack(rec.ID)
				b.dropped.Add(int64(rec.Count))
				otel.Handle(fmt.Errorf("span spool: a record of %d spans does not decode, dropped: %w", rec.Count, err))
				continue
			}
			return pending{rs: req.ResourceSpans, spans: rec.Count, spooled: true, id: rec.ID}, true
		}
	}
	if len(b.queue) > 0 {
		h := b.queue[0]
		return pending{rs: h.rs, spans: h.spans, seq: h.seq}, true
	}
	return pending{}, false
}

// pending is the batch being sent.
type pending struct {
	rs      []*tracepb.ResourceSpans
	spans   int
	spooled bool
	id      spool.ID // spooled
	seq     uint64   // in memory
}

func (p pending) same(q pending) bool {
	return p.spooled == q.spooled && p.id == q.id && p.seq == q.seq
}

// send sends the batches in order until Shutdown, retrying each until it
// goes through.
func (b *spanBuffer) send() {
	defer close(b.stopped)
	wait := retryFirst
	var abandoned pending // the batch last abandoned as stuck
	for {
		b.mu.Lock()
		var p pending
		var ok bool
		for {
			if p, ok = b.head(); ok || b.closing {
				break
			}
			b.cond.Wait()
		}
		if !ok || b.ctx.Err() != nil {
			b.mu.Unlock()
			return
		}
		if !p.spooled {
			b.inflight = p.seq
		}
		b.mu.Unlock()

		err := b.attempt(p.rs, !p.same(abandoned))
		if errors.Is(err, errStuck) {
			abandoned = p
			continue // at once, on the fresh connection
		}
		if err != nil {
			b.failingSince.CompareAndSwap(0, time.Now().UnixNano())
			b.mu.Lock()
			b.inflight = 0
			b.cond.Broadcast() // what waits for room waits no longer
			b.mu.Unlock()
		} else {
			b.failingSince.Store(0)
		}
		if err == nil {
			b.mu.Lock()
			if p.spooled {
				b.spool.Ack(p.id)
			} else if len(b.queue) > 0 && b.queue[0].seq == p.seq {
				b.bytes -= b.queue[0].size
				b.queue = b.queue[1:]
			}
			b.inflight = 0
			b.cond.Broadcast()
			b.mu.Unlock()
			b.sent.Add(int64(p.spans))
			wait = retryFirst
			continue
		}
		if b.ctx.Err() != nil {
			return
		}
		otel.Handle(fmt.Errorf("exporting %d spans (kept, retrying in %s at most): %w", p.spans, wait, err))
		b.link.waitReady(b.ctx, wait)
		if b.ctx.Err() != nil {
			return
		}
		wait = min(2*wait, retryMax)
	}
}

// attempt makes one export attempt, cut at the attempt timeout. When
// watch is set and the attempt is out longer than a healthy collector takes
// (stuckAfter), the collector is asked on a connection of its own, every
// probeEvery, whether it answers: if it does, this attempt is stuck on a
// request or a connection it will never answer (it hung, and came back
// without them), and it is abandoned for a fresh connection at once
// (errStuck) instead of waiting out the timeout (issue 21: the first span
// after a hung collector recovered came 7.4 s late). The sender watches a
// batch's attempts until it has abandoned one: a collector merely slow with
// that batch then gets the whole timeout, so at most one attempt per batch
// is wasted.
func (b *spanBuffer) attempt(rs []*tracepb.ResourceSpans, watch bool) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.attemptTimeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- b.link.upload(ctx, rs) }()
	var probe <-chan time.Time
	if after := b.stuckAfter(); watch && after < b.attemptTimeout {
		t := time.NewTimer(after)
		defer t.Stop()
		probe = t.C
	}
	for {
		select {
		case err := <-done:
			if err == nil {
				b.recent[b.next%len(b.recent)] = time.Since(start)
				b.next++
			}
			return err
		case <-probe:
			answers := b.link.probe(ctx)
			select {
			case err := <-done: // it ended meanwhile
				return err
			default:
			}
			if answers {
				cancel()
				<-done
				b.link.reset()
				return errStuck
			}
			probe = time.After(probeEvery)
		}
	}
}

// stuckAfter is how long an attempt may be out before it is suspected:
// stuckSlack times the slowest recent success, at least stuckFloor.
func (b *spanBuffer) stuckAfter() time.Duration {
	slowest := time.Duration(0)
	for _, d := range b.recent {
		slowest = max(slowest, d)
	}
	return max(stuckFloor, stuckSlack*slowest)
}

// empty reports whether nothing is held.
func (b *spanBuffer) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue) == 0 && (b.spool == nil || b.spool.Stats().Records == 0)
}

// Flush waits until every batch taken so far has been sent, or ctx ends.
func (b *spanBuffer) Flush(ctx context.Context) error {
	for !b.empty() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("span buffer still holds spans: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// giveUpAfter is how long, at shutdown, a collector may keep failing every
// attempt before the spans held are given up on: a collector that is down
// must not hold the proxy's exit for the whole shutdown timeout.
const giveUpAfter = 3 * time.Second

// Shutdown sends what is held until ctx ends, or until the collector has
// failed every attempt for giveUpAfter (at once when all that is left is in
// the spool, which keeps it for the next start), then stops; the spans in
// memory it could not send are counted as dropped.
func (b *spanBuffer) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	b.cond.Broadcast()
	b.mu.Unlock()
	start := time.Now()
	giveUp := func() bool {
		since := b.failingSince.Load()
		if since == 0 {
			return false
		}
		b.mu.Lock()
		onDisk := len(b.queue) == 0
		b.mu.Unlock()
		return (onDisk && b.spool != nil) || time.Since(time.Unix(0, max(since, start.UnixNano()))) > giveUpAfter
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
			lost += q.spans
		}
		b.queue, b.bytes = nil, 0
		b.mu.Unlock()
		b.dropped.Add(int64(lost))
		cause := ctx.Err()
		if cause == nil {
			cause = fmt.Errorf("the collector failed every attempt for %s", giveUpAfter)
		}
		kept := 0
		if b.spool != nil {
			kept = b.spool.Stats().Count
		}
		if lost > 0 || kept > 0 {
			err = fmt.Errorf("shutting down with %d spans not sent (%d kept in the spool for the next start): %w", lost+kept, kept, cause)
		}
	}
	b.cancel()
	errs := []error{err, b.link.shutdown(ctx)}
	if b.spool != nil {
		errs = append(errs, b.spool.Close())
	}
	return errors.Join(errs...)
}

// BufferStats are the span buffer's counts.
type BufferStats struct {
	Sent, Dropped int64 // spans, since start; Dropped includes the spool's
	Held          int   // spans held now, in memory and in the spool
	HeldBytes     int   // their size: estimated in memory, on disk in the spool

	// The spool's part (zero without one): the spans and bytes in it, the
	// damaged stretches it skipped, the batches it could not take (kept
	// in memory instead).
	SpoolSpans   int
	SpoolBytes   int64
	SpoolDamaged int64
	SpoolErrors  int64
}

// Stats reads the counts.
func (b *spanBuffer) Stats() BufferStats {
	b.mu.Lock()
	held, bytes := 0, b.bytes
	for _, q := range b.queue {
		held += q.spans
	}
	b.mu.Unlock()
	st := BufferStats{Sent: b.sent.Load(), Dropped: b.dropped.Load(), Held: held, HeldBytes: bytes, SpoolErrors: b.spoolErrors.Load()}
	if b.spool != nil {
		s := b.spool.Stats()
		st.Dropped += s.Dropped
		st.Held += s.Count
		st.HeldBytes += int(s.Bytes)
		st.SpoolSpans, st.SpoolBytes, st.SpoolDamaged = s.Count, s.Bytes, s.Damaged
	}
	return st
}
