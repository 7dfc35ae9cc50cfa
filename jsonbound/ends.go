package jsonbound

import (
	"math"
	"slices"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Ends is an index of one JSON document that Check accepted: where each of
// its objects and arrays ends, found in one pass. Its ForEach and Get are
// the package's, but jump over a nested value with a lookup where theirs
// scan it. A span mapping walks a coding agent's history level by level
// (the request's members, each message, each message's content blocks),
// and each level used to read every string below it again.
//
// The zero Ends indexes nothing, and a nil *Ends is valid: both walk as
// ForEach and Get do. An Ends is not safe for concurrent Index calls.
type Ends struct {
	doc    string
	opens  []int32 // where each object and array opens, in document order
	closes []int32 // just past where it closes; 0: it does not
	stack  []int32

	watch   KeyWatch // shown every member key by CheckIndex; kept by Reset
	watched KeyWatch // watch, once it has seen every key of doc
	flagged bool     // watch flagged one
}

// KeyWatch is shown each member name of a document CheckIndex reads, at
// any depth, as it is written (between its quotes, escapes not decoded),
// until it flags one: a span's credential check reads every member name
// of a body, and does it in the pass that checks the body.
type KeyWatch interface {
	FlagKey(raw string) bool
}

// Watch has CheckIndex show w every member name of the documents it
// indexes with e (KeyFlagged then tells what it found); nil: none. Reset
// keeps it, so that a pooled Ends watches for good.
func (e *Ends) Watch(w KeyWatch) { e.watch = w }

// Watched is the KeyWatch that was shown every member name of the
// document e indexes (CheckIndex with a watcher), or nil: none was, or e
// indexes nothing, or was made by Index.
func (e *Ends) Watched() KeyWatch {
	if e == nil {
		return nil
	}
	return e.watched
}

// KeyFlagged reports whether Watched flagged a member name of the document
// e indexes; false when there is no such watcher.
func (e *Ends) KeyFlagged() bool { return e != nil && e.watched != nil && e.flagged }

// Index makes e the index of doc, reusing e's memory: a document of more
// than math.MaxInt32 bytes is not indexed.
func (e *Ends) Index(doc string) {
	e.Reset()
	if len(doc) > math.MaxInt32 {
		return
	}
	e.doc = doc
	for i := 0; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			i = StringEnd(doc, i+1)
		case '{', '[':
			e.stack = append(e.stack, int32(len(e.opens)))
			e.opens = append(e.opens, int32(i))
			e.closes = append(e.closes, 0)
		case '}', ']':
			if n := len(e.stack); n > 0 {
				e.closes[e.stack[n-1]] = int32(i + 1)
				e.stack = e.stack[:n-1]
			}
		}
	}
}

// CheckIndex is Check that, on JSON it accepts, also makes e the index of
// data (as e.Index would), in the same pass: a request read once is both
// checked and indexed. e then reads data where it lies, which must not
// change while e indexes it. On text Check refuses, e indexes nothing.
func CheckIndex(data []byte, e *Ends) error {
	e.Reset()
	if len(data) > math.MaxInt32 {
		return Check(data)
	}
	err := validate(data, e)
	if err != nil {
		e.Reset()
		return err
	}
	e.doc = unsafe.String(unsafe.SliceData(data), len(data))
	e.watched = e.watch
	return nil
}

// open and close note, for CheckIndex, an array or object that opens at
// at, and the innermost open one closing just before end.
func (e *Ends) open(at int) {
	e.stack = append(e.stack, int32(len(e.opens)))
	e.opens = append(e.opens, int32(at))
	e.closes = append(e.closes, 0)
}

func (e *Ends) close(end int) {
	if n := len(e.stack); n > 0 {
		e.closes[e.stack[n-1]] = int32(end)
		e.stack = e.stack[:n-1]
	}
}

// Indexes reports whether e is the index of doc itself (its very bytes,
// not a copy of them); false for a nil e.
func (e *Ends) Indexes(doc []byte) bool {
	return e != nil && len(e.opens) > 0 && len(doc) == len(e.doc) && unsafe.SliceData(doc) == unsafe.StringData(e.doc)
}

// For is the index of doc, a copy of the document e indexes (the same
// text elsewhere), sharing e's memory: valid as long as e is, and nil for
// a document of another length. A copy with other text of the same length
// would be read at the wrong places: the caller knows it is a copy.
func (e *Ends) For(doc string) *Ends {
	if e == nil || len(doc) != len(e.doc) {
		return nil
	}
	return &Ends{doc: doc, opens: e.opens, closes: e.closes}
}

// Containers is how many objects and arrays the indexed document holds.
func (e *Ends) Containers() int { return len(e.opens) }

// Reset forgets the document (e no longer holds it), keeping the memory.
func (e *Ends) Reset() {
	e.doc, e.watched, e.flagged = "", nil, false
	e.opens, e.closes, e.stack = e.opens[:0], e.closes[:0], e.stack[:0]
}

// ForEach is the package's ForEach, for t read out of the indexed document
// (any other t is walked as ForEach walks it).
func (e *Ends) ForEach(t gjson.Result, iterator func(key, value gjson.Result) bool) {
	forEach(e, t, iterator)
}

// Get is the package's Get, for t read out of the indexed document.
func (e *Ends) Get(t gjson.Result, key string) gjson.Result { return get(e, t, key) }

// ContainerEnd is the package's ContainerEnd(s, i), looked up in the index
// when s lies in the indexed document (a nil e, or an s elsewhere, is
// scanned): a reader of its own over the same body jumps over what it
// skips as the span's mapping does.
func (e *Ends) ContainerEnd(s string, i int) int {
	if off, ok := e.offset(s); ok {
		if end := e.end(off+i) - off; end > i && end <= len(s) {
			return end
		}
	}
	return ContainerEnd(s, i)
}

// offset is where raw lies in the document, when it is a part of it.
func (e *Ends) offset(raw string) (int, bool) {
	if e == nil || len(e.opens) == 0 || len(raw) == 0 {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(raw)))
	b := uintptr(unsafe.Pointer(unsafe.StringData(e.doc)))
	if p < b || p+uintptr(len(raw)) > b+uintptr(len(e.doc)) {
		return 0, false
	}
	return int(p - b), true
}

// end is just past the object or array that opens at offset at, or 0 when
// the index does not have it.
func (e *Ends) end(at int) int {
	k, found := slices.BinarySearch(e.opens, int32(at))
	if !found {
		return 0
	}
	return int(e.closes[k])
}
