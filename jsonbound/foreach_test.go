package jsonbound

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// walk lists what a ForEach yields, nested values walked too, as text to
// compare.
func walk(t gjson.Result, forEach func(gjson.Result, func(k, v gjson.Result) bool), depth int) string {
	var b strings.Builder
	forEach(t, func(k, v gjson.Result) bool {
		fmt.Fprintf(&b, "%d k{%d %q %q %v %d} v{%d %q %q %v %d}\n", depth,
			k.Type, k.Raw, k.Str, k.Num, k.Index, v.Type, v.Raw, v.Str, v.Num, v.Index)
		if v.IsObject() || v.IsArray() {
			b.WriteString(walk(v, forEach, depth+1))
		}
		return true
	})
	return b.String()
}

func gjsonForEach(t gjson.Result, fn func(k, v gjson.Result) bool) { t.ForEach(fn) }

func TestForEachAsGjson(t *testing.T) {
	for _, tc := range []string{
		`{}`, `[]`, ` { } `, `[ ]`, `{"a":1}`, `[1,2,3]`, `[1, -2.5e3 ,true,false,null,"x"]`,
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi \"there\"\n"}],"stream":true,"n":null}`,
		`{"a":{"b":[{"c":"\\"},"\u00e9\ud83d\ude00"]},"k\"ey":"v","":""}`,
		`{"a" : [ [ ], { } , [[["x"]]] ] , "b" : "}]\\\"[{" }`,
		`["\ud83d\ude00","\ud83d","\ude00x","\ud83d\u0041","a\\\"b\/c\b\f\n\r\t\u00E9\u00e9","\\","\"","x\u0000y"]`,
		`"just a string"`, `12`, `true`, `null`, ``, `   `,
		`{"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"x":-0}`,
	} {
		root := gjson.Parse(tc)
		want, got := walk(root, gjsonForEach, 0), walk(root, ForEach, 0)
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc, got, want)
		}
		// And from a member's Result, whose Index is not 0.
		if root.IsObject() {
			root.ForEach(func(_, v gjson.Result) bool {
				if w, g := walk(v, gjsonForEach, 1), walk(v, ForEach, 1); w != g {
					t.Errorf("%s member %s:\n got %s\nwant %s", tc, v.Raw, g, w)
				}
				return true
			})
		}
	}
}

// FuzzForEach: on what Check accepts ForEach yields what gjson's does; on
// anything else it does not panic.
func FuzzForEach(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":null}`, `[true,false,"\\",1e5]`, `{"messages":[{"role":"user","content":"x"}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		root := gjson.Parse(s)
		got := walk(root, ForEach, 0)
		if Check([]byte(s)) != nil {
			return
		}
		if want := walk(root, gjsonForEach, 0); got != want {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// longHistory is a chat request of 200 long messages with escapes, about
// 116 KB: what BenchmarkForEach and BenchmarkCheck read.
func longHistory() string {
	var sb strings.Builder
	sb.WriteString(`{"model":"m","messages":[`)
	for i := range 200 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"role":"user","content":"%s \"quoted\"\n"}`, strings.Repeat("some history text ", 30))
	}
	sb.WriteString(`],"temperature":0.2}`)
	return sb.String()
}

func BenchmarkForEach(b *testing.B) {
	long := gjson.Parse(longHistory())
	// A chat call of short strings, walked whole as a span mapping does.
	short := gjson.Parse(`{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},` +
		`{"role":"user","content":"What is the weather like in Boston today?"},{"role":"assistant","content":null,` +
		`"tool_calls":[{"id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","type":"function","function":{"name":"get_current_weather",` +
		`"arguments":"{\"location\":\"Boston, MA\",\"unit\":\"fahrenheit\"}"}}]},{"role":"tool",` +
		`"tool_call_id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","content":"{\"temperature\":72,\"unit\":\"fahrenheit\"}"}],` +
		`"tools":[{"type":"function","function":{"name":"get_current_weather","parameters":{"type":"object",` +
		`"properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}}}}}],` +
		`"temperature":0.2,"max_tokens":256,"user":"u-1"}`)
	for _, doc := range []struct {
		name string
		root gjson.Result
		deep bool
	}{{"long", long, false}, {"short-walked", short, true}} {
		for _, tc := range []struct {
			name    string
			forEach func(gjson.Result, func(k, v gjson.Result) bool)
		}{{"gjson", gjsonForEach}, {"jsonbound", ForEach}} {
			b.Run(doc.name+"/"+tc.name, func(b *testing.B) {
				b.SetBytes(int64(len(doc.root.Raw)))
				var visit func(k, v gjson.Result) bool
				visit = func(k, v gjson.Result) bool {
					if doc.deep && (v.IsObject() || v.IsArray()) {
						tc.forEach(v, visit)
					}
					return true
				}
				for b.Loop() {
					tc.forEach(doc.root, visit)
				}
			})
		}
	}
}

// oldCheck is Check as it was, gjson's validator behind the depth scan:
// validate must give the same answer on every input.
func oldCheck(data []byte) error {
	if !shallow(data, MaxDepth) {
		return ErrTooDeep
	}
	if !gjson.ValidBytes(data) {
		return ErrInvalid
	}
	return nil
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":null}`, `[{"x":[{"y":{"kk":1}}]}]`, `{"a\u006b":1}`, `[true,false,"\\",1e5,-0.5E-3]`, `{"x":"\u00e9\t"}`,
		"\"a\x01\"", `{"a" 1}`, `[1,]`, `{"a":1,}`, `01`, `-`, `1.`, `1e`, `"\u12g4"`, `[[[]]]`, `{"k":{}}`, ` "abcdefghijklmnopq\"rs" `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := oldCheck(data)
		if got := Check(data); got != want {
			t.Fatalf("%q: validate %v, gjson %v", data, got, want)
		}
		// CheckIndex answers as Check does, and its index is Index's.
		var e, plain Ends
		if got := CheckIndex(data, &e); got != want {
			t.Fatalf("%q: CheckIndex %v, gjson %v", data, got, want)
		}
		if want != nil {
			if e.Containers() != 0 || e.Indexes(data) {
				t.Fatalf("%q: CheckIndex refused it but indexes %d containers", data, e.Containers())
			}
			return
		}
		plain.Index(string(data))
		if plain.Watched() != nil || plain.KeyFlagged() {
			t.Fatalf("%q: Index's index claims a watcher", data)
		}
		// A watcher sees every member name, at any depth.
		var watched Ends
		watched.Watch(keysWith('k'))
		if err := CheckIndex(data, &watched); err != nil || watched.Watched() != keysWith('k') {
			t.Fatalf("%q: CheckIndex with a watcher: %v, watched by %v", data, err, watched.Watched())
		}
		if got, want := watched.KeyFlagged(), anyKey(gjson.ParseBytes(data), keysWith('k')); got != want {
			t.Fatalf("%q: KeyFlagged %v; a key with k: %v", data, got, want)
		}
		if !slices.Equal(e.opens, plain.opens) || !slices.Equal(e.closes, plain.closes) {
			t.Fatalf("%q: CheckIndex opens %v closes %v; Index opens %v closes %v", data, e.opens, e.closes, plain.opens, plain.closes)
		}
		if e.Containers() > 0 && !e.Indexes(data) {
			t.Fatalf("%q: CheckIndex's index is not of data", data)
		}
	})
}

// keysWith flags a member name, as written, that holds its byte.
type keysWith byte

func (k keysWith) FlagKey(raw string) bool { return strings.IndexByte(raw, byte(k)) >= 0 }

// anyKey reports whether w flags a member name of v, at any depth (gjson
// walks it: the oracle).
func anyKey(v gjson.Result, w KeyWatch) bool {
	found := false
	v.ForEach(func(k, e gjson.Result) bool {
		if k.Type == gjson.String && w.FlagKey(k.Raw[1:len(k.Raw)-1]) || (e.IsObject() || e.IsArray()) && anyKey(e, w) {
			found = true
		}
		return !found
	})
	return found
}

func TestValidateDepth(t *testing.T) {
	for _, n := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1, 5000} {
		for _, tail := range []string{"", "x"} {
			s := []byte(strings.Repeat("[", n) + strings.Repeat("]", n) + tail)
			if got, want := Check(s), oldCheck(s); got != want {
				t.Errorf("depth %d%s: validate %v, gjson %v", n, tail, got, want)
			}
			s = []byte(strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + tail)
			if got, want := Check(s), oldCheck(s); got != want {
				t.Errorf("object depth %d%s: validate %v, gjson %v", n, tail, got, want)
			}
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	data := []byte(longHistory())
	for _, tc := range []struct {
		name  string
		check func([]byte) error
	}{{"gjson", oldCheck}, {"validate", Check}, {"validate+index", func(data []byte) error {
		var e Ends // a fresh index each time: the worst case
		return CheckIndex(data, &e)
	}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if tc.check(data) != nil {
					b.Fatal("invalid")
				}
			}
		})
	}
}

// getKeys are the member names FuzzGet and TestGetAsGjson look up.
var getKeys = []string{"a", "b", "type", "text", "content", "role", "k", "", "x-y", "e"}

func result(r gjson.Result) string {
	return fmt.Sprintf("{%d %q %q %v %d}", r.Type, r.Raw, r.Str, r.Num, r.Index)
}

func TestGetAsGjson(t *testing.T) {
	for _, tc := range []string{
		`{}`, `[]`, `{"a":1}`, `{"a":1,"a":2}`, `{"b":{"a":3},"a":"\u00e9"}`, `[{"a":1}]`,
		`{"k\u0065y":1,"k":"x\"y","type":"text","text":"t\n"}`, `{"":5,"x-y":[1,{"a":2}]}`,
		`"a"`, `12`, `null`, ``, ` {"role" : "user" , "content" : [ {"type":"text"} ] } `,
	} {
		root := gjson.Parse(tc)
		check := func(r gjson.Result) {
			for _, k := range getKeys {
				if got, want := result(Get(r, k)), result(r.Get(k)); got != want {
					t.Errorf("%s Get(%q): got %s, want %s", r.Raw, k, got, want)
				}
			}
		}
		check(root)
		root.ForEach(func(_, v gjson.Result) bool { check(v); return true }) // Index not 0
	}
}

// FuzzGet: on what Check accepts Get finds what gjson's Get does, on the
// document and on each of its members; on anything else it does not panic.
func FuzzGet(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":null}`, `{"type":"text","text":"x","a":1,"a":2}`, `[{"a":1}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		root := gjson.Parse(s)
		valid := Check([]byte(s)) == nil
		check := func(r gjson.Result) {
			for _, k := range getKeys {
				got := Get(r, k)
				if want := r.Get(k); valid && result(got) != result(want) {
					t.Fatalf("%q Get(%q):\n got %s\nwant %s", r.Raw, k, result(got), result(want))
				}
			}
		}
		check(root)
		if valid {
			root.ForEach(func(_, v gjson.Result) bool { check(v); return true })
		}
	})
}
