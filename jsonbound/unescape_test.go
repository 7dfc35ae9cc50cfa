package jsonbound

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// oldAppendUnescaped is AppendUnescaped as it was, a run found and then
// appended: the new one must give the same bytes for every input. It appends the text of a string's content (between its quotes)
// to dst, as gjson unescapes it: up to a control character or a broken
// escape, a surrogate pair as one rune, a lone surrogate as U+FFFD.
func oldAppendUnescaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		j := i + oldPlainRun(s[i:])
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

func oldPlainRun(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
		if m := special(x); m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for i < len(s) && s[i] >= ' ' && s[i] != '\\' {
		i++
	}
	return i
}

var unescapeCases = []string{
	``, `a`, `plain text of more than eight bytes`, `\n`, `line one\nline two\n`, `\"quoted\"`, `\\`, `\/`,
	`\b\f\n\r\t`, `\u00e9`, `\u00E9t\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ud83dx`, `\ude00`, `\ud83d\u0041`,
	`tail \u12`, `bad \x escape`, `ends in \\`, `ends in \`, "control \x01 char", "tab\tinside", `\u0000`,
	strings.Repeat(`def f(x):\n    return x\n`, 20), strings.Repeat("é", 30) + `\n`, `1234567\n12345678\n123456789`,
}

func TestAppendUnescapedAsBefore(t *testing.T) {
	for _, s := range unescapeCases {
		for _, prefix := range []string{"", "prefix"} {
			dst := append(make([]byte, 0, len(prefix)), prefix...)
			if got, want := string(AppendUnescaped(dst, s)), string(oldAppendUnescaped([]byte(prefix), s)); got != want {
				t.Errorf("%q after %q: got %q, want %q", s, prefix, got, want)
			}
		}
	}
}

// FuzzAppendUnescaped: the same bytes as before for any input, with or
// without a prefix and room in dst.
func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range unescapeCases {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, room int) {
		room = room & 31
		dst := make([]byte, room%5, room)
		want := string(oldAppendUnescaped(append([]byte(nil), dst...), s))
		if got := string(AppendUnescaped(dst, s)); got != want {
			t.Fatalf("%q (dst %d of %d): got %q, want %q", s, len(dst), cap(dst), got, want)
		}
	})
}

func BenchmarkAppendUnescaped(b *testing.B) {
	code := strings.Repeat(`    if err != nil {\n        return fmt.Errorf(\"reading %s: %w\", name, err)\n    }\n`, 200)
	for _, tc := range []struct {
		name string
		fn   func([]byte, string) []byte
	}{{"before", oldAppendUnescaped}, {"now", AppendUnescaped}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(code)))
			buf := make([]byte, 0, len(code))
			for b.Loop() {
				buf = tc.fn(buf[:0], code)
			}
		})
	}
}
