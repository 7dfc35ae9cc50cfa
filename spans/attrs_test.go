package spans

import (
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"
)

func TestWithoutKeys(t *testing.T) {
	tests := []struct {
		name, in string
		drop     []string
		want     string
	}{
		{
			name: "request without messages",
			in:   `{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","temperature":0.5}`,
			drop: []string{"messages"},
			want: `{"model":"gpt-4o","temperature":0.5}`,
		},
		{
			name: "last key dropped",
			in:   `{"model":"m","input":["a"]}`,
			drop: []string{"input"},
			want: `{"model":"m"}`,
		},
		{
			name: "several keys",
			in:   `{"prompt":"p","model":"m","messages":[],"n":2}`,
			drop: []string{"messages", "prompt"},
			want: `{"model":"m","n":2}`,
		},
		{
			name: "nothing to drop: raw values kept",
			in:   "{ \"a\" : 1 ,\n \"b\" : [ 1, 2 ] , \"c\":{\"d\" : null} }",
			want: `{"a":1,"b":[ 1, 2 ],"c":{"d" : null}}`,
		},
		{
			name: "everything dropped",
			in:   `{"messages":[]}`,
			drop: []string{"messages"},
			want: `{}`,
		},
		{
			name: "empty object",
			in:   `{}`,
			drop: []string{"messages"},
			want: `{}`,
		},
		{
			name: "nested keys stay",
			in:   `{"metadata":{"messages":1},"messages":2}`,
			drop: []string{"messages"},
			want: `{"metadata":{"messages":1}}`,
		},
		{
			name: "duplicates all dropped",
			in:   `{"messages":1,"model":"m","messages":2}`,
			drop: []string{"messages"},
			want: `{"model":"m"}`,
		},
		{
			name: "escaped key matched, other keys kept escaped",
			in:   `{"m\u0065ssages":[],"mod\u0065l":"m"}`,
			drop: []string{"messages"},
			want: `{"mod\u0065l":"m"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readRequest(&Attrs{}, gjson.Parse(tt.in), tt.drop...).params
			if got != tt.want {
				t.Errorf("withoutKeys(%q, %q) = %q; want %q", tt.in, tt.drop, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("withoutKeys(%q, %q) = %q: invalid JSON", tt.in, tt.drop, got)
			}
		})
	}
}
