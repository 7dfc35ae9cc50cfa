package stream

import (
	"bytes"

	"github.com/tidwall/gjson"
)

// JSONArray is the framing of a stream written as one JSON array, element
// by element: Google's :streamGenerateContent without ?alt=sse answers
// application/json, `[{...}\n,\r\n{...}\n]`, one GenerateContentResponse an
// element.
var JSONArray = Framing{MediaType: "application/json", New: func(maxEvent int) Framer { return &JSONArrayParser{MaxEvent: maxEvent} }}

// JSONArrayParser splits a streamed JSON array into its top-level elements,
// one Event each, however the reads cut it (inside strings, escapes, between
// elements). It tracks string and escape state and {}/[] depth; it does not
// validate. The zero value is ready to use.
//
// An element's Event has HasData set and Data the element's bytes exactly.
// Its Raw is every byte since the previous event ended: the bytes before
// the element (the opening '[', white space, the comma) belong to the
// element that follows them. The closing ']', with the bytes between the
// last element and it, ends a last Event with HasData false. Bytes after the
// ']' (white space) stay Pending: they would start a next event's Raw. So
// the Raw of all events, then Pending, is the input byte for byte.
//
// Malformed input neither panics nor loops: structural bytes that start no
// element ('}', ':', a ']' outside the array, a second comma) pass in the
// Raw of the next event; a run of other bytes (a number, true, false, null)
// is an element ending at the next white space or structural byte, and one
// that is not a JSON literal or number passes as an Event with HasData
// false. A value outside any array (an error object sent bare, values after
// the ']') is an element too. Brackets are counted, not matched, so an
// element like {"a":1] ends at its ']' (its Data is not JSON; an
// accumulator refuses it).
type JSONArrayParser struct {
	// MaxEvent, when above 0, bounds the bytes one event may hold: past it
	// the event is cut (see Event.Cut), so that a huge element costs no
	// memory.
	MaxEvent int

	raw       []byte // bytes of the current event so far (none when cut)
	size      int    // the current event's bytes so far, cut or not
	dataStart int    // offset in the event of its element's first byte
	cut       bool

	inArray bool // between the opening '[' and the closing ']'
	elem    elemKind
	depth   int  // elemContainer: open brackets
	inStr   bool // elemContainer: inside a string
	escaped bool // inside a string, after a backslash
}

// elemKind is the kind of top-level element being read.
type elemKind uint8

const (
	elemNone      elemKind = iota // between elements
	elemContainer                 // an object or array
	elemString
	elemScalar // a number, true, false, null, or junk
)

// Feed parses b and calls emit for each event it completes. It never
// modifies b.
func (p *JSONArrayParser) Feed(b []byte, emit func(Event)) {
	start := 0 // b[start:] is yet to be added to the current event
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch p.elem {
		case elemNone:
			switch {
			case c == '{' || c == '[' && p.inArray:
				p.begin(i-start, elemContainer)
				p.depth = 1
			case c == '[':
				p.inArray = true // the stream's array opens
			case c == ']' && p.inArray:
				p.inArray = false
				p.end(b[start:i+1], false, emit)
				start = i + 1
			case c == '"':
				p.begin(i-start, elemString)
			case !isSpace(c) && !isStructural(c):
				p.begin(i-start, elemScalar)
			}
		case elemContainer:
			if p.inStr {
				j := p.stringEnd(b[i:])
				if j < 0 {
					i = len(b)
					continue
				}
				i += j
				p.inStr = false
				continue
			}
			j := bytes.IndexAny(b[i:], `"{}[]`)
			if j < 0 {
				i = len(b)
				continue
			}
			i += j
			switch b[i] {
			case '"':
				p.inStr = true
			case '{', '[':
				p.depth++
			default:
				if p.depth--; p.depth == 0 {
					p.end(b[start:i+1], true, emit)
					start = i + 1
				}
			}
		case elemString:
			j := p.stringEnd(b[i:])
			if j < 0 {
				i = len(b)
				continue
			}
			i += j
			p.end(b[start:i+1], true, emit)
			start = i + 1
		case elemScalar:
			if isSpace(c) || isStructural(c) {
				// The scalar ends before c, which is read again between
				// elements.
				p.end(b[start:i], true, emit)
				start = i
				i--
			}
		}
	}
	p.keep(b[start:])
}

// stringEnd returns the offset in b of the quote that ends the string being
// read, or -1 when b ends first; it tracks escapes across calls.
func (p *JSONArrayParser) stringEnd(b []byte) int {
	for i := 0; i < len(b); i++ {
		if p.escaped {
			p.escaped = false
			continue
		}
		j := bytes.IndexAny(b[i:], `"\`)
		if j < 0 {
			return -1
		}
		i += j
		if b[i] == '"' {
			return i
		}
		p.escaped = true
	}
	return -1
}

// begin starts an element at offset off of the bytes not yet kept.
func (p *JSONArrayParser) begin(off int, kind elemKind) {
	p.elem = kind
	p.dataStart = p.size + off
}

// keep adds bytes to the current event, cutting it once it outgrows
// MaxEvent.
func (p *JSONArrayParser) keep(b []byte) {
	p.size += len(b)
	if p.MaxEvent > 0 && p.size > p.MaxEvent && !p.cut {
		p.Cut()
	}
	if !p.cut {
		p.raw = append(p.raw, b...)
	}
}

// end ends the current event with its last bytes, last. An element's bytes
// are its Data; a scalar that is not JSON has none.
func (p *JSONArrayParser) end(last []byte, element bool, emit func(Event)) {
	raw := last
	if len(p.raw) > 0 || p.MaxEvent > 0 && p.size+len(last) > p.MaxEvent {
		p.keep(last)
		raw = p.raw
	} else {
		p.size += len(last) // whole in this read: emitted from b itself
	}
	ev := Event{Raw: raw, Size: p.size}
	switch {
	case p.cut:
		ev = Event{Cut: true, Size: p.size}
	case element:
		data := raw[p.dataStart:]
		if p.elem != elemScalar || gjson.ValidBytes(data) {
			ev.Data, ev.HasData = data, true
		}
	}
	emit(ev)
	p.raw = p.raw[:0]
	p.size, p.dataStart, p.cut = 0, 0, false
	p.elem, p.depth, p.inStr, p.escaped = elemNone, 0, false, false
}

// Cut drops what the current event holds and the bytes of it still to
// come: it ends, where its element (or the closing ']') ends, as an Event
// with Cut set.
func (p *JSONArrayParser) Cut() {
	p.cut = true
	p.raw = nil
}

// Pending reports the bytes of an event that has started but not ended: at
// the end of a stream, a truncated element, or the white space after the
// ']'. A cut event holds none.
func (p *JSONArrayParser) Pending() []byte { return p.raw }

// InEvent reports whether an event has started and not ended: an element
// is being read, or bytes other than white space (the '[', a comma) came
// since the last event. An array that stops right after an element, its
// ']' missing, is not in an event: the dialect's Done tells whether the
// answer was whole.
func (p *JSONArrayParser) InEvent() bool {
	return p.cut || p.elem != elemNone || len(bytes.TrimLeft(p.raw, " \t\r\n")) > 0
}

// isStructural reports whether c is a byte that ends a scalar and starts
// none.
func isStructural(c byte) bool {
	switch c {
	case '{', '}', '[', ']', ',', ':', '"':
		return true
	}
	return false
}
