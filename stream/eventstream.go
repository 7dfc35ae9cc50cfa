package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream/eventstreamapi"

	"github.com/phoenixproxy/llmproxy/openai"
)

// EventStream is the framing of AWS event-stream answers
// (application/vnd.amazon.eventstream): Bedrock Runtime's ConverseStream
// and InvokeModelWithResponseStream. The stream is binary messages, each a
// 12-byte prelude (total length and headers length, uint32 big-endian, and
// the prelude's CRC32), headers, a payload and the message's CRC32; one
// message is one Event (see EventStreamParser).
//
// The accumulators get only an event's Data, so Data carries the event's
// type: it is the payload wrapped in an object whose one member is named
// after the type, {"<:event-type>": <payload>}, the shape boto3's stream
// yields and openinference-instrumentation-bedrock reads
// ({"messageStart": {...}}, {"contentBlockDelta": {...}},
// {"chunk": {"bytes": "..."}}). Exceptions, which end a stream
// (:message-type exception), come the same way under their
// :exception-type, as boto3's union names them
// ({"throttlingException": {"message": "..."}}), with Type
// "exception:<name>". An error message (:message-type error, its code and
// text in the :error-code and :error-message headers, no payload) has Type
// "error:<code>" and Data {"error": {"code": "<code>", "message": "<text>"}}.
// An empty payload is {}. ConverseStreamAccumulator and
// InvokeStreamAccumulator read this shape.
var EventStream = Framing{MediaType: "application/vnd.amazon.eventstream", New: func(maxEvent int) Framer { return &EventStreamParser{MaxEvent: maxEvent} }}

// Message limits of the AWS event-stream encoding.
const (
	preludeLen    = 12             // total length, headers length, prelude CRC
	minMessageLen = preludeLen + 4 // no headers, no payload: the message CRC
	// maxMessageLen and maxHeadersLen are the largest message and headers
	// the AWS SDKs accept (aws-c-event-stream's
	// AWS_EVENT_STREAM_MAX_MESSAGE_SIZE, AWS_EVENT_STREAM_MAX_HEADERS_SIZE):
	// a prelude that claims more is taken for garbage, not waited for.
	maxMessageLen = 16 << 20
	maxHeadersLen = 128 << 10
)

// ErrCorruptMessage is wrapped by EventStreamParser.Err: bytes that did not
// make a valid event-stream message.
var ErrCorruptMessage = errors.New("corrupt event-stream message")

// esDecoder decodes one complete message; it holds no state but its
// options, so one serves every stream.
var esDecoder = eventstream.NewDecoder()

// EventStreamParser splits an AWS event stream into its messages, one Event
// each, however the reads cut them. The zero value is ready to use.
//
// A message's Event has Raw its exact bytes and Size their count; Type and
// Data are as EventStream documents, HasData set for event, exception and
// error messages (a message with no :event-type, or of another
// :message-type, passes with HasData false: nothing to read it by). The
// aws-sdk-go-v2 eventstream decoder decodes a complete message's headers
// and payload and checks its CRCs; the parser itself reads only the
// prelude, and checks the prelude's CRC, to know where a message ends (the
// SDK's decoder reads from an io.Reader: on a corrupted length it would
// wait for bytes that never come). Bytes of a message not yet complete are
// Pending; the Raw of every event, then Pending, is the input byte for
// byte.
//
// Bytes that make no valid message pass, in Raw, as Events with HasData
// false, and Err reports the first of them (the relay writes every byte to
// the client anyway: its AWS SDK will stop there, as it checks the same
// CRCs). A prelude is valid when its CRC matches and its lengths are sane
// (total at least 16 bytes and at most 16 MiB, headers at most 128 KiB and
// no more than the total less 16). A valid prelude is trusted: its message
// is read to its length, and one that fails its message CRC, or whose
// headers do not decode, is one Event, the next message read from its end
// (looking inside it for a prelude would let nested messages that each
// fail their CRC cost quadratic time). A prelude that is not valid starts a
// run of garbage that ends where the next valid prelude begins, looked for
// at every byte offset (so a corrupted length costs the message it was in,
// not the rest of the stream); the run is one Event, or, at the end of the
// stream, Pending. Each byte is looked at a bounded number of times, so
// garbage costs linear time, and nothing is allocated from a length the
// stream claims, only as bytes come.
//
// To learn of corruption, which the relay does not pass to the
// accumulator, keep the parser that Framing.New makes and read its Err once
// the stream has ended.
type EventStreamParser struct {
	// MaxEvent, when above 0, bounds the bytes one event may hold: a
	// message longer than it is cut (see Event.Cut) from its prelude on,
	// its bytes dropped as they come; a run of garbage past it, likewise.
	MaxEvent int

	raw   []byte // bytes of the current event so far (none when cut)
	size  int    // the current event's bytes so far, cut or not
	cut   bool
	total int // the current message's length, once its prelude is valid

	// pre is the prelude so far of a message not yet known valid; kept
	// apart from raw so that a cut message still finds its length.
	pre  [preludeLen]byte
	npre int

	// junk is set in a run of garbage; win holds its last bytes (fewer
	// than a prelude), which may begin the next message.
	junk bool
	win  [preludeLen - 1]byte
	nwin int

	offset int64 // the stream offset of the current event
	err    error

	rd      bytes.Reader
	payload []byte // reused by the decoder
	data    []byte // the current event's Data
}

// Feed parses b and calls emit for each event it completes. It never
// modifies b.
func (p *EventStreamParser) Feed(b []byte, emit func(Event)) {
	for len(b) > 0 {
		switch {
		case p.junk:
			b = p.feedJunk(b, emit)
		case p.total > 0:
			n := min(p.total-p.size, len(b))
			p.keep(b[:n])
			b = b[n:]
			if p.size == p.total {
				p.endMessage(p.raw, emit)
			}
		default:
			b = p.feedPrelude(b, emit)
		}
	}
}

// feedPrelude reads the start of a message: whole messages straight from
// b when they are there, else the prelude into pre. It returns the bytes of
// b not yet read.
func (p *EventStreamParser) feedPrelude(b []byte, emit func(Event)) []byte {
	for p.npre == 0 && !p.cut && len(b) >= preludeLen {
		total, bad := checkPrelude(b)
		if bad != "" || total > len(b) || p.MaxEvent > 0 && total > p.MaxEvent {
			break
		}
		// Whole in this read: decoded from b itself, not copied.
		p.size = total
		p.endMessage(b[:total], emit)
		b = b[total:]
	}
	if len(b) == 0 {
		return nil
	}
	n := copy(p.pre[p.npre:], b)
	p.npre += n
	p.keep(b[:n])
	b = b[n:]
	if p.npre < preludeLen {
		return b
	}
	total, bad := checkPrelude(p.pre[:])
	if bad != "" {
		// Garbage from here: its first byte; the prelude's other bytes
		// may yet begin a message.
		p.fail("message prelude: " + bad)
		p.junk = true
		p.nwin = copy(p.win[:], p.pre[1:])
		p.npre = 0
		return b
	}
	p.npre = 0
	p.total = total
	if p.MaxEvent > 0 && total > p.MaxEvent {
		p.Cut()
	}
	return b
}

// feedJunk adds bytes to a run of garbage until a valid prelude begins. It
// returns the bytes of b not yet read.
func (p *EventStreamParser) feedJunk(b []byte, emit func(Event)) []byte {
	at, found := p.scan(b)
	if !found {
		p.keep(b)
		p.slide(b)
		p.bound()
		return nil
	}
	if at >= 0 {
		p.keep(b[:at])
		p.endJunk(emit)
		return b[at:]
	}
	// The message begins in the window: those bytes leave the run for it.
	var carry [preludeLen]byte
	n := copy(carry[:], p.win[p.nwin+at:p.nwin])
	p.size -= n
	if !p.cut {
		p.raw = p.raw[:len(p.raw)-n]
	}
	p.endJunk(emit)
	p.npre = copy(p.pre[:], carry[:n])
	p.keep(carry[:n])
	return b
}

// scan looks for a valid prelude in the window then b, at every offset. It
// returns where it begins as an offset in b, negative inside the window.
func (p *EventStreamParser) scan(b []byte) (at int, found bool) {
	w := p.win[:p.nwin]
	var c [preludeLen]byte
	for i := range w {
		need := preludeLen - (len(w) - i)
		if len(b) < need {
			return 0, false // and every later offset needs more of b
		}
		copy(c[copy(c[:], w[i:]):], b[:need])
		if _, bad := checkPrelude(c[:]); bad == "" {
			return i - len(w), true
		}
	}
	for i := 0; i+preludeLen <= len(b); i++ {
		// A total length of at most 16 MiB starts with a zero byte.
		j := bytes.IndexByte(b[i:len(b)-preludeLen+1], 0)
		if j < 0 {
			break
		}
		i += j
		if _, bad := checkPrelude(b[i : i+preludeLen]); bad == "" {
			return i, true
		}
	}
	return 0, false
}

// slide keeps in the window the last bytes of the window then b.
func (p *EventStreamParser) slide(b []byte) {
	if len(b) >= len(p.win) {
		p.nwin = copy(p.win[:], b[len(b)-len(p.win):])
		return
	}
	old := min(p.nwin, len(p.win)-len(b))
	copy(p.win[:], p.win[p.nwin-old:p.nwin])
	p.nwin = old + copy(p.win[old:], b)
}

// bound cuts a run of garbage once the bytes certain to be in it (all but
// the window's) pass MaxEvent.
func (p *EventStreamParser) bound() {
	if p.MaxEvent > 0 && !p.cut && p.size-p.nwin > p.MaxEvent {
		p.Cut()
	}
}

// keep adds bytes to the current event, or, for a cut event, only counts
// them. A message is cut once its prelude tells its length, a run of
// garbage by bound: bytes that may yet begin a message are not counted
// against MaxEvent.
func (p *EventStreamParser) keep(b []byte) {
	p.size += len(b)
	if !p.cut {
		p.raw = append(p.raw, b...)
	}
}

// checkPrelude checks the prelude at the start of b (at least 12 bytes),
// returning the message's total length, or why it is not valid.
func checkPrelude(b []byte) (total int, bad string) {
	t := binary.BigEndian.Uint32(b[0:4])
	h := binary.BigEndian.Uint32(b[4:8])
	switch {
	case t < minMessageLen || t > maxMessageLen:
		return 0, "total length out of range"
	case h > maxHeadersLen || h > t-minMessageLen:
		return 0, "headers length out of range"
	case crc32.ChecksumIEEE(b[:8]) != binary.BigEndian.Uint32(b[8:12]):
		return 0, "checksum mismatch"
	}
	return int(t), ""
}

// endMessage ends the current message, msg its bytes (none when cut).
func (p *EventStreamParser) endMessage(msg []byte, emit func(Event)) {
	ev := Event{Cut: true, Size: p.size}
	if !p.cut {
		ev = Event{Raw: msg, Size: p.size}
		p.interpret(&ev, msg)
	}
	emit(ev)
	p.reset()
}

// endJunk ends a run of garbage: an Event with HasData false, cut if it
// grew past MaxEvent.
func (p *EventStreamParser) endJunk(emit func(Event)) {
	ev := Event{Raw: p.raw, Size: p.size}
	if p.cut || p.MaxEvent > 0 && p.size > p.MaxEvent {
		ev = Event{Cut: true, Size: p.size}
	}
	emit(ev)
	p.reset()
}

func (p *EventStreamParser) reset() {
	p.offset += int64(p.size)
	p.raw = p.raw[:0]
	p.size, p.total, p.npre, p.nwin = 0, 0, 0, 0
	p.cut, p.junk = false, false
}

// interpret decodes a complete message, its prelude valid, into ev's Type
// and Data. A message that does not decode keeps HasData false.
func (p *EventStreamParser) interpret(ev *Event, msg []byte) {
	p.rd.Reset(msg)
	m, err := esDecoder.Decode(&p.rd, p.payload[:0])
	if err != nil {
		p.fail(err.Error())
		return
	}
	if m.Payload != nil {
		p.payload = m.Payload[:0]
	}
	switch header(m.Headers, eventstreamapi.MessageTypeHeader) {
	case eventstreamapi.EventMessageType, "": // botocore reads a message without one as an event
		name := header(m.Headers, eventstreamapi.EventTypeHeader)
		if name == "" {
			return // nothing to tell it by
		}
		ev.Type = name
		ev.Data = p.wrap(name, m.Payload)
	case eventstreamapi.ExceptionMessageType:
		name := header(m.Headers, eventstreamapi.ExceptionTypeHeader)
		ev.Type = "exception:" + name
		if name == "" {
			name = "exception"
		}
		ev.Data = p.wrap(name, m.Payload)
	case eventstreamapi.ErrorMessageType:
		code := header(m.Headers, eventstreamapi.ErrorCodeHeader)
		ev.Type = "error:" + code
		d := append(p.data[:0], `{"error":{"code":`...)
		d = openai.AppendJSONString(d, code)
		d = append(d, `,"message":`...)
		d = openai.AppendJSONString(d, header(m.Headers, eventstreamapi.ErrorMessageHeader))
		p.data = append(d, "}}"...)
		ev.Data = p.data
	default:
		return // a message type of no known meaning
	}
	ev.HasData = true
}

// wrap makes an event's Data: {"<name>": <payload>}.
func (p *EventStreamParser) wrap(name string, payload []byte) []byte {
	d := openai.AppendJSONString(append(p.data[:0], '{'), name)
	d = append(d, ':')
	if len(bytes.TrimSpace(payload)) == 0 {
		d = append(d, "{}"...)
	} else {
		d = append(d, payload...)
	}
	p.data = append(d, '}')
	return p.data
}

// header is a string header's value, or "".
func header(hs eventstream.Headers, name string) string {
	if v, ok := hs.Get(name).(eventstream.StringValue); ok {
		return string(v)
	}
	return ""
}

// fail records the first corruption.
func (p *EventStreamParser) fail(why string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w at byte %d: %s", ErrCorruptMessage, p.offset, why)
	}
}

// Err reports the first bytes that made no valid message (a checksum
// mismatch, lengths out of range, headers that do not decode), as an error
// wrapping ErrCorruptMessage with the stream offset of the message, or nil.
func (p *EventStreamParser) Err() error { return p.err }

// Cut drops what the current event holds and the bytes of it still to
// come: it ends, where its message (or run of garbage) ends, as an Event
// with Cut set.
func (p *EventStreamParser) Cut() {
	p.cut = true
	p.raw = nil
}

// Pending reports the bytes of an event that has started but not ended: at
// the end of a stream, a truncated message or trailing garbage. A cut event
// holds none.
func (p *EventStreamParser) Pending() []byte { return p.raw }

// InEvent reports whether an event has started and not ended.
func (p *EventStreamParser) InEvent() bool { return p.cut || p.size > 0 }
