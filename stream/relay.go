package stream

import (
	"errors"
	"fmt"
	"io"
)

// ErrRead and ErrWrite tell which side of a relay failed: reading the
// upstream or writing to the client.
var (
	ErrRead  = errors.New("reading upstream stream")
	ErrWrite = errors.New("writing stream to client")
)

// ErrEventTooLarge ends a stream whose Rewriter holds every event whole
// (a translation) when one outgrows the relay's MaxEvent: what passed
// stays with the client, and the stream goes no further, so that no event
// can take more memory than the bound.
var ErrEventTooLarge = errors.New("stream event too large to rewrite")

// Relay copies one event stream from upstream to client and accumulates its
// events: one generic loop over any framing and dialect. Unless a Rewriter
// changes the stream, each read is written and flushed first, and a copy
// is parsed after. Create one per stream; the zero value relays a chat
// stream unchanged.
type Relay struct {
	// Framing splits the stream into events; the zero value means SSE.
	Framing Framing
	// Rewrite, when set, changes the events on their way to the client
	// (chat's usage stripping, a translation to the client's dialect);
	// nil: the client gets the upstream's bytes as they come.
	Rewrite Rewriter
	// OnFirstToken, when set, is called once, when the first token has been
	// written to the client.
	OnFirstToken func()
	// OnEnd, when set, is called once the upstream's stream has ended or
	// broken, before the result is read.
	OnEnd func()
	// MaxEvent, when above 0, bounds the memory one event may take: a larger
	// one is relayed as it comes but not traced (CutEvents counts it). A
	// bounded Rewriter stops at such an event: the rest of the stream is
	// relayed as it comes. A Rewriter that is not bounded holds every event
	// whole, so a larger event ends the stream (ErrEventTooLarge).
	MaxEvent int
	// CutEvents and CutBytes count the events too large to trace.
	CutEvents, CutBytes int

	// Acc merges the events into the response: the stream's dialect. Nil
	// means a ChatAccumulator.
	Acc Accumulator

	framer  Framer
	out     []byte // Rewrite: the bytes to write for the current read
	pending bool   // a first token was seen and is yet to be reported

	// The relay's own methods as the func values the framer and the
	// Rewriter take, made once: a method value made at each read or
	// event is an allocation each time.
	observeFn, rewriteFn func(Event)
	addFn                func([]byte)
}

// Rewriter changes a stream's events on their way to the client: the
// rewrite hook of a dialect (chat's usage stripping) or of a translation.
// Implementations hold one stream's state.
type Rewriter interface {
	// Rewrite appends to out what the client gets for ev, and calls add
	// with the data of each event the accumulator is to read (the client's
	// events, or the upstream's).
	Rewrite(out []byte, ev Event, add func(data []byte)) []byte
	// Rest is what the client gets of an event the framer holds
	// unfinished: at the stream's end (a truncated last event), or, for a
	// bounded Rewriter, when it outgrows MaxEvent.
	Rest(pending []byte) []byte
	// Bounded reports whether an event over MaxEvent may end the
	// rewriting, the rest of the stream then relayed as it comes.
	Bounded() bool
}

// Copy relays src to dst until src ends, flushing after every write. It
// returns nil when the upstream ended the stream, else an error wrapping
// ErrRead or ErrWrite.
func (r *Relay) Copy(dst io.Writer, flush func(), src io.Reader) error {
	r.start()
	if r.OnEnd != nil {
		defer r.OnEnd()
	}
	bp := eventBuffers.Get().(*[]byte)
	defer eventBuffers.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if err := r.relay(dst, flush, buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			if r.Rewrite != nil {
				// A truncated last event: what the rewriter makes of it.
				if rest := r.Rewrite.Rest(r.framer.Pending()); len(rest) > 0 {
					if err := write(dst, flush, rest); err != nil {
						return err
					}
				}
			}
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("%w: %w", ErrRead, rerr)
		}
	}
}

// Observe reads a copy of bytes another copier has already written to the
// client (a reverse proxy's), as Copy does after each write.
func (r *Relay) Observe(written []byte) {
	r.start()
	r.framer.Feed(written, r.observeFn)
	r.reportFirst()
}

// start makes the framer and accumulator on first use.
func (r *Relay) start() {
	if r.framer != nil {
		return
	}
	if r.Acc == nil {
		r.Acc = &ChatAccumulator{}
	}
	if r.Framing.New == nil {
		r.Framing = SSE
	}
	max := r.MaxEvent
	if r.Rewrite != nil && !r.Rewrite.Bounded() {
		max = 0
	}
	r.framer = r.Framing.New(max)
	r.observeFn, r.rewriteFn, r.addFn = r.observe, r.rewrite, r.add
}

// Done reports whether the stream's last event passed (chat: [DONE]).
func (r *Relay) Done() bool { return r.Acc != nil && r.Acc.Done() }

// FramerErr is what the framer found wrong in the stream's framing (a
// corrupt AWS event-stream message: its bytes passed all the same), or nil.
func (r *Relay) FramerErr() error {
	if f, ok := r.framer.(interface{ Err() error }); ok {
		return f.Err()
	}
	return nil
}

// Truncated reports whether the stream ended inside an event.
func (r *Relay) Truncated() bool { return r.framer != nil && r.framer.InEvent() }

func (r *Relay) relay(dst io.Writer, flush func(), chunk []byte) error {
	if r.Rewrite != nil && !r.Rewrite.Bounded() && r.MaxEvent > 0 && len(r.framer.Pending())+len(chunk) > r.MaxEvent {
		return fmt.Errorf("%w: an event over %d bytes", ErrEventTooLarge, r.MaxEvent)
	}
	if r.Rewrite != nil && r.Rewrite.Bounded() && r.MaxEvent > 0 && len(r.framer.Pending())+len(chunk) > r.MaxEvent {
		// An event too large to hold for rewriting: what the framer holds
		// of it goes out, and from here on the stream as it comes.
		if err := write(dst, flush, append(r.Rewrite.Rest(r.framer.Pending()), chunk...)); err != nil {
			return err
		}
		r.Rewrite = nil
		r.framer.Cut()
		r.framer.Feed(chunk, r.observeFn)
		return nil
	}
	if r.Rewrite == nil {
		// The client gets the read as it came, before anything parses it.
		if err := write(dst, flush, chunk); err != nil {
			return err
		}
		r.framer.Feed(chunk, r.observeFn)
	} else {
		r.out = r.out[:0]
		r.framer.Feed(chunk, r.rewriteFn)
		if len(r.out) > 0 {
			if err := write(dst, flush, r.out); err != nil {
				return err
			}
		}
	}
	r.reportFirst()
	return nil
}

// reportFirst reports a first token once its bytes are out.
func (r *Relay) reportFirst() {
	if r.pending {
		r.pending = false
		if r.OnFirstToken != nil {
			r.OnFirstToken()
		}
	}
}

func write(dst io.Writer, flush func(), b []byte) error {
	if _, err := dst.Write(b); err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	flush()
	return nil
}

// observe interprets one event.
func (r *Relay) observe(ev Event) {
	if ev.Cut {
		r.CutEvents++
		r.CutBytes += ev.Size
		return
	}
	if ev.HasData {
		r.add(ev.Data)
	}
}

// add gives one event's data to the accumulator. Data it cannot read is
// skipped: the stream goes on.
func (r *Relay) add(data []byte) {
	if first, _ := r.Acc.Add(data); first {
		r.pending = true
	}
}

// rewrite has the Rewriter make the client's bytes of one event.
func (r *Relay) rewrite(ev Event) {
	if ev.Cut {
		r.observe(ev)
		return
	}
	r.out = r.Rewrite.Rewrite(r.out, ev, r.addFn)
}
