package jsonbound

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// validate is gjson's validator (the JSON grammar; UTF-8 is not checked,
// as neither gjson nor encoding/json checks it) without its recursion: the
// open arrays and objects are a bit stack, so nesting costs no stack and
// the depth bound is checked on the way. A string's bytes are read eight
// at a time. It returns nil, ErrTooDeep or ErrInvalid, as Check did with
// shallow and gjson.ValidBytes: text both too deep and invalid is too deep.
// With e, it notes where each array and object opens and closes as it
// goes (CheckIndex).
func validate(data []byte, e *Ends) error {
	var stack [(MaxDepth + 63) / 64]uint64 // bit set: an object
	depth := 0
	i := skipSpace(data, 0)
	for {
		// A value at i.
		if i >= len(data) {
			return invalid(data)
		}
		switch c := data[i]; c {
		case '{', '[':
			if depth == MaxDepth {
				return ErrTooDeep
			}
			if c == '{' {
				stack[depth/64] |= 1 << (depth % 64)
			} else {
				stack[depth/64] &^= 1 << (depth % 64)
			}
			if e != nil {
				e.open(i)
			}
			depth++
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == c+2 { // '}' or ']'
				depth--
				i++
				if e != nil {
					e.close(i)
				}
				break
			}
			if c == '{' {
				var ok bool
				if i, ok = member(data, i, e); !ok {
					return invalid(data)
				}
			}
			continue
		case '"':
			var ok bool
			if i, ok = stringEnd8(data, i+1); !ok {
				return invalid(data)
			}
		case 't':
			if !literal(data, i, "true") {
				return invalid(data)
			}
			i += 4
		case 'f':
			if !literal(data, i, "false") {
				return invalid(data)
			}
			i += 5
		case 'n':
			if !literal(data, i, "null") {
				return invalid(data)
			}
			i += 4
		default:
			var ok bool
			if i, ok = number(data, i); !ok {
				return invalid(data)
			}
		}
		// After a value: a comma, the end of what holds it, or the end.
		for {
			i = skipSpace(data, i)
			if depth == 0 {
				if i != len(data) {
					return invalid(data)
				}
				return nil
			}
			if i >= len(data) {
				return invalid(data)
			}
			inObject := stack[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			switch data[i] {
			case ',':
				i = skipSpace(data, i+1)
				if inObject {
					var ok bool
					if i, ok = member(data, i, e); !ok {
						return invalid(data)
					}
				}
			case '}', ']':
				if (data[i] == '}') != inObject {
					return invalid(data)
				}
				depth--
				i++
				if e != nil {
					e.close(i)
				}
				continue
			default:
				return invalid(data)
			}
			break
		}
	}
}

// invalid is Check's answer for data that is not JSON: too deep if it
// nests too deep anyway, as shallow would have said first.
func invalid(data []byte) error {
	if !shallow(data, MaxDepth) {
		return ErrTooDeep
	}
	return ErrInvalid
}

// member reads `"key" :` at i and the space after it, returning where the
// value starts; with an Ends that watches keys, it shows it the key.
func member(data []byte, i int, e *Ends) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	start := i + 1
	i, ok := stringEnd8(data, start)
	if !ok {
		return i, false
	}
	if e != nil && e.watch != nil && !e.flagged {
		e.flagged = e.watch.FlagKey(unsafe.String(&data[start], i-1-start))
	}
	i = skipSpace(data, i)
	if i >= len(data) || data[i] != ':' {
		return i, false
	}
	return skipSpace(data, i+1), true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func literal(data []byte, i int, word string) bool {
	return len(data)-i >= len(word) && string(data[i:i+len(word)]) == word
}

// SWAR masks: each byte's high bit, each byte's low bit.
const (
	highBits = 0x8080808080808080
	lowBits  = 0x0101010101010101
)

// stringEnd8 checks the string whose contents start at i and returns the
// index after its closing quote. Eight bytes at a time, it skips those
// with no quote, backslash or control character.
func stringEnd8(data []byte, i int) (int, bool) {
	for {
		for len(data)-i >= 8 {
			x := binary.LittleEndian.Uint64(data[i:])
			// A byte < 0x20, == '"' or == '\\' sets its high bit in m.
			ctl := (x - 0x20*lowBits) &^ x
			q := x ^ ('"' * lowBits)
			q = (q - lowBits) &^ q
			b := x ^ ('\\' * lowBits)
			b = (b - lowBits) &^ b
			m := (ctl | q | b) & highBits
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
			break
		}
		if i >= len(data) {
			return i, false
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c < ' ':
			return i, false
		case c == '\\':
			i++
			if i >= len(data) {
				return i, false
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(data)-i < 5 {
					return i, false
				}
				for _, h := range data[i+1 : i+5] {
					if !isHex(h) {
						return i, false
					}
				}
				i += 5
			default:
				return i, false
			}
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads a JSON number at i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	if i >= len(data) || !isDigit(data[i]) {
		return i, false
	}
	if data[i] == '0' {
		i++
	} else {
		i = digits(data, i)
	}
	if i < len(data) && data[i] == '.' {
		i++
		if i >= len(data) || !isDigit(data[i]) {
			return i, false
		}
		i = digits(data, i)
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			return i, false
		}
		i = digits(data, i)
	}
	return i, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(data []byte, i int) int {
	for i < len(data) && isDigit(data[i]) {
		i++
	}
	return i
}
