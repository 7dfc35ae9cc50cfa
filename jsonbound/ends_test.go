package jsonbound

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// endsCases are documents whose walk through an index must be ForEach's.
var endsCases = []string{
	`{}`, `[]`, `{"a":1}`, `[1,[2,[3,{"b":[]}]]]`,
	`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a ] } [ { \" \\"}]}],"n":null}`,
	`{"a" : [ [ ], { } , [[["x"]]] ] , "b" : "}]\\\"[{" , "c": {"d": {"e": [1, 2]}}}`,
	`"just a string"`, `12`, ``,
}

func TestEndsWalkAsForEach(t *testing.T) {
	var e Ends
	for _, doc := range endsCases {
		e.Index(doc)
		checkEnds(t, &e, doc)
	}
	// A copy of the document is not a part of it: walked as ForEach walks.
	doc := endsCases[4]
	e.Index(doc)
	other := gjson.Parse(strings.Clone(doc))
	if got, want := walk(other, e.ForEach, 0), walk(other, ForEach, 0); got != want {
		t.Errorf("a copy:\n got %s\nwant %s", got, want)
	}
	e.Reset()
	if got, want := walk(gjson.Parse(doc), e.ForEach, 0), walk(gjson.Parse(doc), ForEach, 0); got != want {
		t.Errorf("after Reset:\n got %s\nwant %s", got, want)
	}
}

// checkEnds compares the index's walk and Get with ForEach's and Get's, from
// the document and from each of its members.
func checkEnds(t *testing.T, e *Ends, doc string) {
	t.Helper()
	root := gjson.Parse(doc)
	if got, want := walk(root, e.ForEach, 0), walk(root, ForEach, 0); got != want {
		t.Fatalf("%q:\n got %s\nwant %s", doc, got, want)
	}
	// Each container's end, from the document and from a part of it that
	// starts where the container does, is ContainerEnd's.
	for _, at := range e.opens {
		p := int(at)
		if got, want := e.ContainerEnd(doc, p), ContainerEnd(doc, p); got != want {
			t.Fatalf("%q: ContainerEnd at %d = %d; want %d", doc, p, got, want)
		}
		if got, want := e.ContainerEnd(doc[p:], 0), ContainerEnd(doc[p:], 0); got != want {
			t.Fatalf("%q: ContainerEnd of the part at %d = %d; want %d", doc, p, got, want)
		}
	}
	var visit func(_, v gjson.Result) bool
	visit = func(_, v gjson.Result) bool {
		for _, k := range getKeys {
			if got, want := result(e.Get(v, k)), result(Get(v, k)); got != want {
				t.Fatalf("%q Get(%q) in %q: got %s, want %s", doc, k, v.Raw, got, want)
			}
		}
		if v.IsObject() || v.IsArray() {
			if got, want := walk(v, e.ForEach, 1), walk(v, ForEach, 1); got != want {
				t.Fatalf("%q member %q:\n got %s\nwant %s", doc, v.Raw, got, want)
			}
			ForEach(v, visit)
		}
		return true
	}
	ForEach(root, visit)
}

// FuzzEnds: on what Check accepts, the index walks as ForEach does; on
// anything else, indexing and walking do not panic.
func FuzzEnds(f *testing.F) {
	for _, s := range endsCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var e Ends
		e.Index(s)
		if Check([]byte(s)) != nil {
			walk(gjson.Parse(s), e.ForEach, 0)
			return
		}
		checkEnds(t, &e, s)
	})
}
