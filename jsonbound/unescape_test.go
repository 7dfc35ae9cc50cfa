package jsonbound

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// gjsonUnescaped is what gjson makes of s as a string's content, and
// whether s is one: with a backslash in it (without one, ForEach and Get
// take the text as it is, and AppendUnescaped is not called) and no quote
// that would end the string early.
func gjsonUnescaped(s string) (string, bool) {
	raw := `"` + s + `"`
	if !strings.Contains(s, `\`) || StringEnd(raw, 1) != len(raw)-1 {
		return "", false
	}
	return gjson.Parse(raw).Str, true
}

var unescapeCases = []string{
	``, `a`, `plain text of more than eight bytes`, `\n`, `line one\nline two\n`, `\"quoted\"`, `\\`, `\/`,
	`\b\f\n\r\t`, `\u00e9`, `\u00E9t\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ud83dx`, `\ude00`, `\ud83d\u0041`,
	`tail \u12`, `bad \x escape`, `ends in \\`, `ends in \`, "control \x01 char", "tab\tinside", `\u0000`,
	strings.Repeat(`def f(x):\n    return x\n`, 20), strings.Repeat("é", 30) + `\n`, `1234567\n12345678\n123456789`,
}

func TestAppendUnescapedAsGjson(t *testing.T) {
	for _, s := range unescapeCases {
		for _, prefix := range []string{"", "prefix"} {
			want, ok := gjsonUnescaped(s)
			if !ok {
				continue
			}
			dst := append(make([]byte, 0, len(prefix)), prefix...)
			if got := string(AppendUnescaped(dst, s)); got != prefix+want {
				t.Errorf("%q after %q: got %q, want %q", s, prefix, got, prefix+want)
			}
		}
	}
}

// FuzzAppendUnescaped: gjson's text for any string content with an escape,
// with or without a prefix and room in dst; no panic on any input.
func FuzzAppendUnescaped(f *testing.F) {
	for _, s := range unescapeCases {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, room int) {
		room = room & 31
		dst := make([]byte, room%5, room)
		got := string(AppendUnescaped(dst, s))
		if want, ok := gjsonUnescaped(s); ok && got != string(dst)+want {
			t.Fatalf("%q (dst %d of %d): got %q, want %q", s, len(dst), cap(dst), got, string(dst)+want)
		}
	})
}

func BenchmarkAppendUnescaped(b *testing.B) {
	code := strings.Repeat(`    if err != nil {\n        return fmt.Errorf(\"reading %s: %w\", name, err)\n    }\n`, 200)
	b.SetBytes(int64(len(code)))
	buf := make([]byte, 0, len(code))
	for b.Loop() {
		buf = AppendUnescaped(buf[:0], code)
	}
}
