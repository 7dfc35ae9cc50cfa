package stream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// ErrRead and ErrWrite tell which side of a relay failed: reading the
// upstream or writing to the client.
var (
	ErrRead  = errors.New("reading upstream stream")
	ErrWrite = errors.New("writing stream to client")
)

// Relay copies one event stream from upstream to client and accumulates its
// events. Create one per stream; the zero value relays a chat stream
// unchanged.
type Relay struct {
	// StripUsage removes from the client's stream what the proxy added by
	// asking for stream_options.include_usage on its behalf: the usage-only
	// chunk and the "usage":null member of every other chunk. The client then
	// receives the bytes it would have received without the proxy, framed by
	// whole events rather than by reads.
	StripUsage bool
	// OnFirstToken, when set, is called once, when the first token has been
	// written to the client.
	OnFirstToken func()
	// Translate, when set, turns each upstream event into the data of the
	// events the client gets instead (none, one or several), each written
	// as "data: …" and accumulated: a stream translated from another API's
	// dialect. StripUsage is then ignored.
	Translate func(ev Event) [][]byte
	// OnEnd, when set, is called once the upstream's stream has ended or
	// broken, before the result is read.
	OnEnd func()
	// MaxEvent, when above 0, bounds the memory one event may take: a larger
	// one is relayed as it comes but not traced (CutEvents counts it). With
	// StripUsage, such an event ends stripping: the rest of the stream is
	// relayed as it comes. A translated stream needs every event whole and
	// is not bounded.
	MaxEvent int
	// CutEvents and CutBytes count the events too large to trace.
	CutEvents, CutBytes int

	// Acc merges the events into the response: the stream's dialect. Nil
	// means a ChatAccumulator.
	Acc Accumulator
	// BadChunks counts data events that were not JSON (skipped, relayed).
	BadChunks int

	parser  Parser
	out     []byte // StripUsage: the events to write for the current read
	pending bool   // a first token was seen and is yet to be reported
	// dropLF is set when a dropped event ended in a CR at the end of a read:
	// an LF starting the next event is the rest of its CRLF, dropped too.
	dropLF bool
}

// bufPool holds the read buffers of relays: a stream reads into one 32 KiB
// buffer for its whole life.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// Copy relays src to dst until src ends, flushing after every write. It
// returns nil when the upstream ended the stream, else an error wrapping
// ErrRead or ErrWrite.
func (r *Relay) Copy(dst io.Writer, flush func(), src io.Reader) error {
	if r.Acc == nil {
		r.Acc = &ChatAccumulator{}
	}
	if r.OnEnd != nil {
		defer r.OnEnd()
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			if err := r.relay(dst, flush, buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			if rest := r.rest(); len(rest) > 0 {
				// A truncated last event: pass it on as it came.
				if err := write(dst, flush, rest); err != nil {
					return err
				}
			}
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("%w: %w", ErrRead, rerr)
		}
	}
}

// Done reports whether the stream's last event passed (chat: [DONE]).
func (r *Relay) Done() bool { return r.Acc != nil && r.Acc.Done() }

// Truncated reports whether the stream ended inside an event.
func (r *Relay) Truncated() bool { return r.parser.InEvent() }

func (r *Relay) relay(dst io.Writer, flush func(), chunk []byte) error {
	if r.Translate == nil && r.MaxEvent > 0 {
		r.parser.MaxEvent = r.MaxEvent
		if r.StripUsage && len(r.parser.Pending())+len(chunk) > r.MaxEvent {
			// An event too large to hold for rewriting: what the parser
			// holds of it goes out, and from here on the stream as it comes.
			if err := write(dst, flush, append(r.trimLF(r.parser.Pending()), chunk...)); err != nil {
				return err
			}
			r.StripUsage = false
			r.parser.Cut()
			r.parser.Feed(chunk, r.observe)
			return nil
		}
	}
	if r.Translate == nil && !r.StripUsage {
		// The client gets the read as it came, before anything parses it.
		if err := write(dst, flush, chunk); err != nil {
			return err
		}
		r.parser.Feed(chunk, r.observe)
	} else {
		r.out = r.out[:0]
		if r.Translate != nil {
			r.parser.Feed(chunk, r.translate)
		} else {
			r.parser.Feed(chunk, r.frame)
		}
		if len(r.out) > 0 {
			if err := write(dst, flush, r.out); err != nil {
				return err
			}
		}
	}
	if r.pending {
		r.pending = false
		if r.OnFirstToken != nil {
			r.OnFirstToken()
		}
	}
	return nil
}

func write(dst io.Writer, flush func(), b []byte) error {
	if _, err := dst.Write(b); err != nil {
		return fmt.Errorf("%w: %w", ErrWrite, err)
	}
	flush()
	return nil
}

// observe interprets one event's data.
func (r *Relay) observe(ev Event) {
	if ev.Cut {
		r.CutEvents++
		r.CutBytes += ev.Size
		return
	}
	if !ev.HasData {
		return
	}
	first, err := r.Acc.Add(ev.Data)
	if err != nil {
		r.BadChunks++
	}
	if first {
		r.pending = true
	}
}

// frame keeps or rewrites one event for the client (StripUsage) and
// interprets it.
func (r *Relay) frame(ev Event) {
	raw := r.trimLF(ev.Raw)
	switch i := nullUsageAt(raw); {
	case ev.HasData && UsageOnly(ev.Data):
		// The client did not ask for it. A CRLF split across reads
		// straddles events (see Event.Raw): the LF that starts this one
		// ends the event before it and stays; the one after it is this
		// event's.
		if len(raw) > 0 && raw[0] == '\n' {
			r.out = append(r.out, '\n')
		}
		r.dropLF = len(raw) > 0 && raw[len(raw)-1] == '\r'
	case ev.HasData && i >= 0:
		r.out = appendWithout(r.out, raw, i)
	default:
		r.out = append(r.out, raw...)
	}
	r.observe(ev)
}

// translate writes the events that stand for one upstream event and
// interprets them.
func (r *Relay) translate(ev Event) {
	if !ev.HasData {
		return
	}
	for _, data := range r.Translate(ev) {
		r.out = append(r.out, "data: "...)
		r.out = append(r.out, data...)
		r.out = append(r.out, "\n\n"...)
		r.observe(Event{Data: data, HasData: true})
	}
}

// trimLF removes the LF that ends a dropped event's CRLF from the start of
// the next event's bytes.
func (r *Relay) trimLF(raw []byte) []byte {
	if r.dropLF {
		r.dropLF = false
		return bytes.TrimPrefix(raw, []byte("\n"))
	}
	return raw
}

// rest is what StripUsage has yet to write at the end of the stream: a
// truncated event. Without StripUsage every byte has been written.
func (r *Relay) rest() []byte {
	if !r.StripUsage || r.Translate != nil {
		// Without StripUsage every byte has been written; a translated
		// stream has no use for half an event.
		return nil
	}
	return r.trimLF(r.parser.Pending())
}

func isDone(data []byte) bool {
	return bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]"))
}

// UsageOnly reports whether a chunk is the one include_usage adds at the end
// of a stream: an empty choices list and a usage object.
func UsageOnly(data []byte) bool {
	emptyChoices, usage := false, false
	gjson.ParseBytes(data).ForEach(func(k, v gjson.Result) bool { // one pass
		switch k.Str {
		case "choices":
			emptyChoices = v.IsArray() && len(v.Raw) >= 2 && strings.TrimSpace(v.Raw[1:len(v.Raw)-1]) == ""
		case "usage":
			usage = v.IsObject()
		}
		return true
	})
	return emptyChoices && usage
}

// nullUsage is the member include_usage adds to every chunk but the last
// (OpenAI: "All other chunks will also include a usage field, but with a
// null value"); OpenAI writes it compactly, as the chunk's last member.
var nullUsage = []byte(`"usage":null`)

// StripNullUsage removes a top-level "usage":null member from an event's raw
// bytes, with its separating comma. Anything else is returned unchanged.
func StripNullUsage(raw []byte) []byte {
	if i := nullUsageAt(raw); i >= 0 {
		return appendWithout(nil, raw, i)
	}
	return raw
}

// nullUsageAt is where a top-level "usage":null member starts in an
// event's raw bytes, or -1.
func nullUsageAt(raw []byte) int {
	i := bytes.LastIndex(raw, nullUsage)
	if i < 0 {
		return -1
	}
	// Only the top-level member may go (not a nested one), and only from
	// valid JSON: the member found must be the one gjson finds at the top.
	// Taking a member and its comma out of a valid object leaves it valid.
	data, off := dataOf(raw)
	if data == nil || !jsonbound.Valid(data) {
		return -1
	}
	if u := gjson.GetBytes(data, "usage"); u.Type != gjson.Null || off+u.Index != i+len(nullUsage)-len("null") {
		return -1
	}
	return i
}

// appendWithout appends raw to dst without the "usage":null member at i
// and its separating comma.
func appendWithout(dst, raw []byte, i int) []byte {
	start, end := i, i+len(nullUsage)
	// Take the comma before the member, or else the one after it.
	j := start - 1
	for j >= 0 && isSpace(raw[j]) {
		j--
	}
	switch {
	case j >= 0 && raw[j] == ',':
		start = j
	case j >= 0 && raw[j] == '{':
		k := end
		for k < len(raw) && isSpace(raw[k]) {
			k++
		}
		if k < len(raw) && raw[k] == ',' {
			end = k + 1
		}
	default:
		return append(dst, raw...) // unreachable: gjson found a member here
	}
	dst = append(dst, raw[:start]...)
	return append(dst, raw[end:]...)
}

// dataOf returns the JSON of a single-line data event and its offset in
// raw.
func dataOf(raw []byte) (data []byte, offset int) {
	// An LF may lead: the end of the previous event's CRLF, split across
	// reads.
	if len(raw) > 0 && raw[0] == '\n' {
		offset = 1
	}
	line, _, _ := bytes.Cut(raw[offset:], []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	rest, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return nil, 0
	}
	offset += len("data:")
	trimmed := bytes.TrimLeft(rest, " \t")
	offset += len(rest) - len(trimmed)
	return bytes.TrimRight(trimmed, " \t"), offset
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
