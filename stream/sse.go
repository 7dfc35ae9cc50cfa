package stream

import "bytes"

// Event is one dispatched server-sent event. Its slices are valid only
// during the callback that receives it.
type Event struct {
	// Type is the event field ("" when the stream names none).
	Type string
	// Data is the data lines joined by "\n", as the SSE spec assembles them.
	Data []byte
	// Raw is every byte of the event as it came, its blank line included
	// (but for the LF of a CRLF when a read ends between the two: that LF
	// starts the next event's Raw).
	Raw []byte
	// HasData is false for a block of comments or empty lines: bytes to pass
	// on, but no event to interpret.
	HasData bool
	// Cut is set for an event larger than the parser's MaxEvent: its bytes
	// were dropped as they came (Data and Raw are empty).
	Cut bool
	// Size is the event's size in bytes, as it came.
	Size int
}

// Parser splits a byte stream into server-sent events, leniently, as the
// HTML Living Standard reads them (9.2.6 Interpreting an event stream): lines
// end in CRLF, LF or CR, possibly split across reads; "data:" with or without
// a space; multi-line data; comments and unknown fields ignored. Lines have no
// length limit. The zero value is ready to use.
type Parser struct {
	// MaxEvent, when above 0, bounds the bytes one event may hold: past it
	// the event is cut (see Cut), so that a huge event costs no memory.
	MaxEvent int

	cut      bool // the current event is cut: its bytes are dropped
	lineSeen bool // cut: the current line had bytes
	size     int  // the current event's bytes so far

	line    []byte // the current, incomplete line
	data    []byte // data lines of the current event
	event   string
	hasData bool
	raw     []byte // bytes of the current event so far
	// skipLF is set after a CR ends a read: an LF starting the next read
	// belongs to the same line ending (it goes to the next event's Raw).
	skipLF bool
	// sawLine is set once the first line has ended: only the stream's first
	// line may start with a byte order mark.
	sawLine bool
}

// bom is the UTF-8 byte order mark, which the spec's decoder strips from
// the start of a stream (9.2.6: "UTF-8 decode"); it stays in Raw.
var bom = []byte("\xEF\xBB\xBF")

// Feed parses p and calls emit for each event it completes. It never
// modifies p.
func (p *Parser) Feed(b []byte, emit func(Event)) {
	for len(b) > 0 {
		if p.skipLF {
			p.skipLF = false
			if b[0] == '\n' {
				p.size++
				if !p.cut {
					p.raw = append(p.raw, '\n')
				}
				b = b[1:]
				continue
			}
		}
		i := bytes.IndexAny(b, "\r\n")
		if n := len(b); p.MaxEvent > 0 && !p.cut {
			if i >= 0 {
				n = i
			}
			if len(p.raw)+n > p.MaxEvent {
				p.Cut()
			}
		}
		if i < 0 {
			p.keep(b, b)
			return
		}
		end := i + 1
		if b[i] == '\r' {
			switch {
			case end < len(b) && b[end] == '\n':
				// CRLF: one line ending, kept in this event's Raw so that
				// an event relayed on its own arrives whole.
				end++
			case end == len(b):
				p.skipLF = true
			}
		}
		p.keep(b[:i], b[:end])
		b = b[end:]
		p.endLine(emit)
	}
}

// keep adds line bytes and raw bytes to the current event, or, for a cut
// event, only counts them.
func (p *Parser) keep(line, raw []byte) {
	p.size += len(raw)
	if p.cut {
		p.lineSeen = p.lineSeen || len(line) > 0
		return
	}
	p.line = append(p.line, line...)
	p.raw = append(p.raw, raw...)
}

// Cut drops what the current event holds and the bytes of it still to
// come: it ends, at its blank line, as an Event with Cut set. A relay that
// has already written those bytes loses nothing; tracing loses the event.
func (p *Parser) Cut() {
	p.cut = true
	p.lineSeen = len(p.line) > 0
	p.line, p.data, p.raw = nil, nil, nil
}

// Pending reports the bytes of an event that has started but not ended: at
// the end of a stream, a truncated event. A cut event holds none.
func (p *Parser) Pending() []byte { return p.raw }

// InEvent reports whether an event has started and not ended (white space
// aside).
func (p *Parser) InEvent() bool { return p.cut || len(bytes.TrimSpace(p.raw)) > 0 }

// endLine interprets one complete line.
func (p *Parser) endLine(emit func(Event)) {
	if p.cut {
		if !p.lineSeen {
			p.dispatch(emit) // the blank line that ends it
		}
		p.lineSeen = false
		return
	}
	line := p.line
	p.line = p.line[:0]
	if !p.sawLine {
		p.sawLine = true
		line = bytes.TrimPrefix(line, bom)
	}
	if len(line) == 0 {
		p.dispatch(emit)
		return
	}
	if line[0] == ':' {
		return // comment
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "data":
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, value...)
		p.hasData = true
	case "event":
		p.event = string(value)
	}
}

// dispatch ends the current event at a blank line. A blank line with no data
// before it dispatches nothing, as in the spec, but its bytes still count as
// the event's (so a relay that re-frames by events keeps them).
func (p *Parser) dispatch(emit func(Event)) {
	switch {
	case p.cut:
		emit(Event{Type: p.event, Cut: true, Size: p.size})
	case p.hasData || len(p.raw) > 0:
		emit(Event{Type: p.event, Data: p.data, Raw: p.raw, HasData: p.hasData, Size: p.size})
	}
	p.data = p.data[:0]
	p.raw = p.raw[:0]
	p.event = ""
	p.hasData = false
	p.cut, p.lineSeen, p.size = false, false, 0
}
