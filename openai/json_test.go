package openai

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

var jsonStrings = []string{
	"",
	"plain",
	`"quoted"`,
	`back\slash`,
	"\\\"",
	"new\nline\r\n\ttab",
	"\x00\x01\x07\x08\x0b\x0c\x1b\x1f",
	"\x7f",
	" ",
	"</script>&<>",
	"é ü ß ™ € 日本語",
	"😀 \U0010FFFF",
	"\u2028\u2029",
	"\ufeffBOM",
	"\ufffd",
	"\xff",
	"a\xffb",
	"\xc3",             // truncated 2-byte sequence
	"\xe6\x97",         // truncated 3-byte sequence
	"\xed\xa0\x80",     // a surrogate encoded in UTF-8
	"\xf4\x90\x80\x80", // above U+10FFFF
	"\xc0\xaf",         // overlong
	"end\\",
	strings.Repeat("x\"", 1000),
}

// decodedByStdlib is what encoding/json makes of s: s with each byte of
// invalid UTF-8 replaced by U+FFFD.
func decodedByStdlib(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkJSONString(t testing.TB, s string) {
	t.Helper()
	prefix := []byte("x:")
	got := AppendJSONString(prefix, s)
	if string(got[:2]) != "x:" {
		t.Fatalf("AppendJSONString(%q) lost the prefix: %q", s, got)
	}
	enc := got[2:]
	if !json.Valid(enc) {
		t.Fatalf("AppendJSONString(%q) = %q: invalid JSON", s, enc)
	}
	if !utf8.Valid(enc) {
		t.Fatalf("AppendJSONString(%q) = %q: invalid UTF-8", s, enc)
	}
	var dec string
	if err := json.Unmarshal(enc, &dec); err != nil {
		t.Fatalf("AppendJSONString(%q) = %q: %v", s, enc, err)
	}
	if want := decodedByStdlib(t, s); dec != want {
		t.Fatalf("AppendJSONString(%q) = %q decodes to %q; encoding/json round-trips it to %q", s, enc, dec, want)
	}
	if utf8.ValidString(s) && dec != s {
		t.Fatalf("AppendJSONString(%q) = %q decodes to %q; want the string back", s, enc, dec)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStrings {
		checkJSONString(t, s)
	}
	// Every single byte, and every byte after a valid rune.
	for c := 0; c < 256; c++ {
		checkJSONString(t, string([]byte{byte(c)}))
		checkJSONString(t, "é"+string([]byte{byte(c)})+"z")
	}
	// Exact forms for the escapes.
	for _, tt := range []struct{ in, want string }{
		{"a\"b", `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"\n\r\t", `"\n\r\t"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"é<>&\u2028", "\"é<>&\u2028\""},
		{"a\xffb", `"a\ufffdb"`},
	} {
		if got := string(AppendJSONString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendJSONString(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkJSONString(t, s) })
}

func TestWithMember(t *testing.T) {
	tests := []struct{ obj, key, value, want string }{
		{`{"a":1,"b":[2]}`, "c", `true`, `{"a":1,"b":[2],"c":true}`},
		{`{"a":1,"b":2}`, "a", `"x"`, `{"b":2,"a":"x"}`},
		{`{}`, "k", `{}`, `{"k":{}}`},
		{``, "k", `1`, `{"k":1}`},
		{`{"a":1}`, `q"uote`, `2`, `{"a":1,"q\"uote":2}`},
	}
	for _, tt := range tests {
		if got := string(WithMember(tt.obj, tt.key, []byte(tt.value))); got != tt.want {
			t.Errorf("WithMember(%s, %q, %s) = %s; want %s", tt.obj, tt.key, tt.value, got, tt.want)
		}
	}
}

// TestAppendMember: members copied as they were, commas only between them,
// whatever the values end in.
func TestAppendMember(t *testing.T) {
	obj := gjson.Parse(`{ "a" : {} , "b":[1, {}], "c":"{", "d":null}`)
	out := []byte("{")
	obj.ForEach(func(k, v gjson.Result) bool {
		out = AppendMember(out, k, v)
		return true
	})
	out = append(out, '}')
	if want := `{"a":{},"b":[1, {}],"c":"{","d":null}`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}
