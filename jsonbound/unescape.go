package jsonbound

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// AppendUnescaped appends the text of a string's content (between its quotes)
// to dst, as gjson unescapes it: up to a control character or a broken
// escape, a surrogate pair as one rune, a lone surrogate as U+FFFD.
func AppendUnescaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		j := i + plainRun(s[i:])
		dst = append(dst, s[i:j]...)
		if i = j; i == len(s) || s[i] < ' ' {
			return dst
		}
		i++ // past the backslash
		if i >= len(s) {
			return dst
		}
		switch s[i] {
		case '\\', '/', '"':
			dst = append(dst, s[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			if i+5 > len(s) {
				return dst
			}
			r := hex4(s[i+1:])
			i += 5
			if r >= 0xD800 && r < 0xDC00 && len(s[i:]) >= 6 && s[i] == '\\' && s[i+1] == 'u' {
				if r2 := hex4(s[i+2:]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = utf16.DecodeRune(r, r2)
					i += 6
				}
			}
			dst = utf8.AppendRune(dst, r)
			i-- // the loop steps past the escape
		default:
			return dst
		}
	}
	return dst
}

// hex4 is the rune of the four hexadecimal digits s begins with, as
// gjson's runeit reads them (0 when they are not).
func hex4(s string) rune {
	n, _ := strconv.ParseUint(s[:4], 16, 64)
	return rune(n)
}

// plainRun is the length of the run of bytes s begins with that are
// neither a backslash nor a control character: eight bytes at a time.
func plainRun(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		// A byte of x that is zero after the xor is a backslash; one that
		// is below 0x20 a control character. Where a byte borrows from the
		// one above it, that one may be flagged too, but never the first.
		b := x ^ (lowBits * '\\')
		if m := ((b - lowBits) &^ b) | ((x - lowBits*0x20) &^ x); m&highBits != 0 {
			return i + bits.TrailingZeros64(m&highBits)/8
		}
	}
	for i < len(s) && s[i] >= ' ' && s[i] != '\\' {
		i++
	}
	return i
}
