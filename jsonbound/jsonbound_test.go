package jsonbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"object", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil},
		{"scalar", `42`, nil},
		{"at the limit", deep(MaxDepth), nil},
		{"one past the limit", deep(MaxDepth + 1), ErrTooDeep},
		{"objects past the limit", strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), ErrTooDeep},
		{"brackets in strings do not count", `["` + strings.Repeat("[{", 2*MaxDepth) + `"]`, nil},
		{"escaped quote keeps the string open", `["\"` + strings.Repeat("[", 2*MaxDepth) + `"]`, nil},
		{"escaped backslash closes the string", `["\\",` + deep(MaxDepth) + `]`, ErrTooDeep},
		{"unclosed string", `["abc`, ErrInvalid},
		{"eight million opening brackets", strings.Repeat("[", 8_000_000), ErrTooDeep},
		{"not JSON", `{"model":}`, ErrInvalid},
		{"empty", ``, ErrInvalid},
		{"closers first", strings.Repeat("]", 10) + deep(MaxDepth), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check([]byte(tt.in)); !errors.Is(got, tt.want) {
				t.Errorf("Check = %v, want %v", got, tt.want)
			}
			if got := Valid([]byte(tt.in)); got != (tt.want == nil) {
				t.Errorf("Valid = %v, want %v", got, tt.want == nil)
			}
		})
	}
}

// maxDepth is the nesting depth of valid JSON as encoding/json's tokenizer
// sees it: the reference for shallow.
func maxDepth(data []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, most := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return most, true
		}
		if err != nil {
			return 0, false
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			most = max(most, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"[\"]"}]}`, `"\\\\"`, `[[[]]]`, `{"x":"\u005b"}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Check(data)
		want, ok := maxDepth(data)
		if !ok || !json.Valid(data) {
			// encoding/json's tokenizer allows several values in a row.
			if err == nil && !json.Valid(data) {
				t.Fatalf("Check accepted invalid JSON %q", data)
			}
			return
		}
		for _, limit := range []int{0, 1, 2, 3, want, want + 1} {
			if got := shallow(data, limit); got != (want <= limit) {
				t.Fatalf("shallow(%q, %d) = %v, depth is %d", data, limit, got, want)
			}
		}
		if (err == nil) != (want <= MaxDepth) {
			t.Fatalf("Check(%q) = %v, depth is %d", data, err, want)
		}
	})
}

// TestStringEnd: the closing quote of every string, whatever escapes come
// before it, in the first bytes (read eight at a time) and after them.
func TestStringEnd(t *testing.T) {
	for _, tc := range []struct {
		contents string // up to and with the closing quote, or without one
		want     int    // index of the closing quote; -1: not closed
	}{
		{`"`, 0}, {`ab"`, 2}, {`\""`, 2}, {`\\"`, 2}, {`\\\""`, 4}, {`\`, -1}, {`ab\`, -1}, {``, -1},
		{`abcdefgh"`, 8}, {`abcdefg\"`, -1}, {`abcdefg\""`, 9}, {`abcdefg\\"`, 9},
		{strings.Repeat("x", 31) + `\"` + `"`, 33}, {strings.Repeat("x", 32) + `"`, 32},
		{strings.Repeat("x", 40) + `\\\"x"`, 45}, {strings.Repeat(`\n`, 30) + `"`, 60},
		{strings.Repeat(`\"`, 30) + `\\"`, 62}, {strings.Repeat("y", 100), -1},
	} {
		data := []byte(tc.contents + ` , "next"`)
		want := tc.want
		if want < 0 {
			data = []byte(tc.contents)
			want = len(data)
		}
		if got := stringEnd(data, 0); got != want {
			t.Errorf("stringEnd(%q) = %d, want %d", data, got, want)
		}
	}
}
