package jsonbound

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// AppendUnescaped appends the text of a string's content (between its quotes)
// to dst, as gjson unescapes it: up to a control character or a broken
// escape, a surrogate pair as one rune, a lone surrogate as U+FFFD.
//
// A coding agent's text has an escape every line or so (\n, \"): the runs
// between them are found and copied in one pass, eight bytes at a time,
// each word stored whole before its escape is looked for (the text never
// grows when unescaped, so the room grown for s holds every store).
func AppendUnescaped(dst []byte, s string) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s))
	out := dst[:cap(dst)]
	i := 0
	for {
		for len(s)-i >= 8 {
			x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
			binary.LittleEndian.PutUint64(out[n:], x)
			if m := special(x); m != 0 {
				k := bits.TrailingZeros64(m) / 8
				i, n = i+k, n+k
				break
			}
			i, n = i+8, n+8
		}
		for i < len(s) && s[i] >= ' ' && s[i] != '\\' {
			out[n] = s[i]
			i, n = i+1, n+1
		}
		if i == len(s) || s[i] < ' ' {
			return out[:n]
		}
		i++ // past the backslash
		if i >= len(s) {
			return out[:n]
		}
		c := s[i]
		switch c {
		case '\\', '/', '"':
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			if i+5 > len(s) {
				return out[:n]
			}
			r := hex4(s[i+1:])
			i += 5
			if r >= 0xD800 && r < 0xDC00 && len(s[i:]) >= 6 && s[i] == '\\' && s[i+1] == 'u' {
				if r2 := hex4(s[i+2:]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = utf16.DecodeRune(r, r2)
					i += 6
				}
			}
			n += utf8.EncodeRune(out[n:], r) // at most 4 bytes for the 6 or 12 read
			continue
		default:
			return out[:n]
		}
		out[n] = c
		i, n = i+1, n+1
	}
}

// special flags, in its bytes' high bits, the bytes of x that are a
// backslash or a control character. Where a byte borrows from the one
// above it, that one may be flagged too, but never the first.
func special(x uint64) uint64 {
	b := x ^ (lowBits * '\\')
	return (((b - lowBits) &^ b) | ((x - lowBits*0x20) &^ x)) & highBits
}

// hex4 is the rune of the four hexadecimal digits s begins with, as
// gjson's runeit reads them (0 when they are not).
func hex4(s string) rune {
	n, _ := strconv.ParseUint(s[:4], 16, 64)
	return rune(n)
}
