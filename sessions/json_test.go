package sessions

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// sameAsGJSON checks that v reads as gjson reads the same text r, all the
// way down: kinds, strings' text, numbers, truth, members (keys and
// values, in order), elements, and get (the first member of each name).
func sameAsGJSON(t *testing.T, where string, h *history, v value, r gjson.Result) {
	t.Helper()
	if v.exists() != r.Exists() || v.isObject() != r.IsObject() || v.isArray() != r.IsArray() ||
		v.isString() != (r.Type == gjson.String) || v.isNumber() != (r.Type == gjson.Number) ||
		v.isNull() != (r.Type == gjson.Null && r.Exists()) {
		t.Fatalf("%s: %q reads as another kind than gjson's %v %q", where, v, r.Type, r.Raw)
	}
	if got := h.str(v); got != r.Str {
		t.Fatalf("%s: text %q, gjson's %q", where, got, r.Str)
	}
	if v.truthy(h) != r.Bool() {
		t.Fatalf("%s: %q truthy %v, gjson's Bool %v", where, v, v.truthy(h), r.Bool())
	}
	if v.isNumber() && v.num() != r.Num && v.num() == v.num() {
		t.Fatalf("%s: %q is %v, gjson's %v", where, v, v.num(), r.Num)
	}
	if !v.isObject() && !v.isArray() && string(v) != r.Raw {
		t.Fatalf("%s: raw %q, gjson's %q", where, v, r.Raw)
	}
	if !strings.HasPrefix(string(v), r.Raw) {
		t.Fatalf("%s: %q does not begin with gjson's %q", where, v, r.Raw)
	}
	var keys []string
	var vals []value
	membersIn(nil, v, func(k string, e value) bool {
		keys, vals = append(keys, k), append(vals, e)
		return true
	})
	var elems []value
	elements(v, func(e value) bool {
		elems = append(elems, e)
		return true
	})
	var objKeys []string
	var objDone []value
	objectsIn(nil, v, func(k string, _ value) { objKeys = append(objKeys, k) }, func(e value) { objDone = append(objDone, e) })
	i, j := 0, 0
	r.ForEach(func(k, e gjson.Result) bool {
		switch {
		case r.IsObject():
			if i >= len(keys) || keys[i] != k.Str {
				t.Fatalf("%s: member %d is %q, gjson's %q (%q)", where, i, keys, k.Str, r.Raw)
			}
			sameAsGJSON(t, where+"."+k.Str, h, vals[i], e)
			var first gjson.Result // as gjson's Get finds it: the first of the name
			r.ForEach(func(k2, e2 gjson.Result) bool {
				if k2.Str == k.Str {
					first = e2
					return false
				}
				return true
			})
			if got := v.get(k.Str); !strings.HasPrefix(string(got), first.Raw) || (!got.isObject() && !got.isArray() && string(got) != first.Raw) {
				t.Fatalf("%s: get(%q) = %q, gjson's %q", where, k.Str, got, first.Raw)
			}
		case r.IsArray():
			if i >= len(elems) {
				t.Fatalf("%s: %d elements, gjson has more (%q)", where, len(elems), r.Raw)
			}
			sameAsGJSON(t, where+"["+strconv.Itoa(i)+"]", h, elems[i], e)
			if i >= len(objDone) || objDone[i] != elems[i] {
				t.Fatalf("%s: objects gave %q for element %d, elements %q", where, objDone, i, elems[i])
			}
			if e.IsObject() {
				e.ForEach(func(k, _ gjson.Result) bool {
					if j >= len(objKeys) || objKeys[j] != k.Str {
						t.Fatalf("%s[%d]: objects' member %d is not %q: %q", where, i, j, k.Str, objKeys)
					}
					j++
					return true
				})
			}
		}
		i++
		return true
	})
	if r.IsObject() && i != len(keys) || r.IsArray() && (i != len(elems) || j != len(objKeys)) {
		t.Fatalf("%s: %d members, %d elements, %d members of elements; gjson %d (%q)", where, len(keys), len(elems), len(objKeys), i, r.Raw)
	}
	if r.IsObject() && v.get("no such member") != "" {
		t.Fatalf("%s: get of a member it has not", where)
	}
}

// randomJSON writes a random JSON value, at most depth deep, with what
// tells JSON readers apart: escapes of every kind, surrogates paired and
// not, duplicate and escaped keys, numbers in every form, whitespace.
func randomJSON(rng *rand.Rand, b *strings.Builder, depth int) {
	ws := func() {
		if rng.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "\r\n  "}[rng.IntN(4)])
		}
	}
	ws()
	switch k := rng.IntN(10); {
	case depth > 0 && k < 2:
		b.WriteByte('{')
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			if rng.IntN(4) == 0 {
				b.WriteString([]string{`"a"`, `"type"`, `"t\u0065xt"`, `"\\"`}[rng.IntN(4)])
			} else {
				randomString(rng, b)
			}
			ws()
			b.WriteByte(':')
			randomJSON(rng, b, depth-1)
		}
		ws()
		b.WriteByte('}')
	case depth > 0 && k < 4:
		b.WriteByte('[')
		for i := range rng.IntN(5) {
			if i > 0 {
				b.WriteByte(',')
			}
			randomJSON(rng, b, depth-1)
		}
		ws()
		b.WriteByte(']')
	case k < 7:
		randomString(rng, b)
	case k < 8:
		b.WriteString([]string{"0", "-0", "1.50", "-12.5e3", "1E-7", "12345678901234567890", "0.1", "7"}[rng.IntN(8)])
	default:
		b.WriteString([]string{"true", "false", "null"}[rng.IntN(3)])
	}
	ws()
}

func randomString(rng *rand.Rand, b *strings.Builder) {
	pieces := []string{"a", "type", "Hello, world", " ", "é", "😀", `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
		`\u0041`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83dx`, `\uDBFF\uDFFF`, `\u0000`, `\u001f`, `\\\"`, `\\\\`,
		strings.Repeat("x", 40), "true", "1"}
	b.WriteByte('"')
	for range rng.IntN(12) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	b.WriteByte('"')
}

// The reader of values reads as gjson does, on random JSON and on the
// histories of testdata/normal-form.jsonl.
func TestValueReadsAsGJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h history
	for i := range 3000 {
		var b strings.Builder
		randomJSON(rng, &b, 4)
		doc := b.String()
		if !jsonbound.Valid([]byte(doc)) {
			t.Fatalf("the generator wrote no JSON: %q", doc)
		}
		h.reset()
		sameAsGJSON(t, "random "+strconv.Itoa(i), &h, parse(doc), gjson.Parse(doc))
	}
	f, err := os.Open("testdata/normal-form.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		h.reset()
		c := gjson.Parse(sc.Text())
		for _, k := range []string{"body", "answer"} {
			sameAsGJSON(t, c.Get("name").Str+" "+k, &h, parse(c.Get(k).Raw), gjson.Parse(c.Get(k).Raw))
		}
	}
}

// Strings read as gjson reads them, with whatever bytes and escapes they
// hold: broken ones, control characters, and runs long and short around
// the eight bytes plainRun reads at a time.
func TestStringsReadAsGJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "abcdefgh", "abcdefghijklmnopq", `\`, `\\`, `\n`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\uZZZZ`, `\u12`, `\x`,
		"\x00", "\x1f", "\t", "\x7f", "\xff", "é", " "}
	var h history
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		raw := `"` + s + `"`
		end, ok := stringEnd(raw, 0)
		if !ok || end != len(raw) {
			continue // the closing quote escaped: not one string
		}
		if got, want := h.str(value(raw)), gjson.Parse(raw).Str; got != want {
			t.Fatalf("%q: text %q, gjson's %q", raw, got, want)
		}
	}
}

// FuzzValue: any checked JSON reads as gjson reads it; any text at all
// reads without a panic.
func FuzzValue(f *testing.F) {
	f.Add(`{"a":[1,"x\n",{"b":null}],"a":true}`)
	f.Add(`["\ud83d\ude00", -0.5e3, {"t\u0065xt": "\"q\""}]`)
	f.Add(`{"unclosed": [1, "two`)
	f.Fuzz(func(t *testing.T, doc string) {
		var h history
		v := parse(doc)
		if !jsonbound.Valid([]byte(doc)) {
			membersIn(nil, v, func(k string, e value) bool { h.str(e); e.get(k); return true })
			elements(v, func(e value) bool { h.str(e); e.truthy(&h); return true })
			objectsIn(nil, v, func(string, value) {}, func(value) {})
			h.canonical(nil, v, nil)
			return
		}
		sameAsGJSON(t, "doc", &h, v, gjson.Parse(doc))
	})
}
