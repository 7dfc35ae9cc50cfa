package sessions

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// value is one JSON value of a request or an answer, as the text it is in
// the document: from its first byte to its last or, for an object or an
// array, on past its end (an absent value is ""). It reads as gjson reads
// the same text (json_test.go holds the two side by side), but does less,
// since a history reads each value once: a string is unescaped only when
// its text is read, into the history's buffer rather than a string of its
// own; an object's members and an array's elements are found by one
// forward scan, long strings crossed with strings.IndexByte, with no
// Result for each; and a member fetched by get is not scanned to its end.
// Values come from checked JSON (jsonbound); on other text they read what
// they can, and never panic.
type value string

// parse is the value a document holds, after any leading whitespace, as
// gjson.Parse reads it; "" when it holds none.
func parse(doc string) value {
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case c <= ' ':
		case c == '{' || c == '[':
			return value(doc[i:])
		default:
			end, ok := valueEnd(doc, i)
			if !ok {
				return ""
			}
			return value(doc[i:end])
		}
	}
	return ""
}

func (v value) exists() bool   { return v != "" }
func (v value) isObject() bool { return v != "" && v[0] == '{' }
func (v value) isArray() bool  { return v != "" && v[0] == '[' }
func (v value) isString() bool { return v != "" && v[0] == '"' }

// isNull reports JSON's null (gjson's Type Null of a value that exists).
func (v value) isNull() bool { return v != "" && v[0] == 'n' && (len(v) == 1 || v[1] == 'u') }

// isNumber reports a number, as gjson's Type Number.
func (v value) isNumber() bool {
	if v == "" {
		return false
	}
	switch v[0] {
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'i', 'I', 'N':
		return true
	case 'n':
		return !v.isNull()
	}
	return false
}

// num is a number's value, as gjson's Num.
func (v value) num() float64 {
	n, _ := strconv.ParseFloat(string(v), 64)
	return n
}

// truthy is gjson's Bool: true, a number other than 0, or a string that
// strconv.ParseBool reads as true, whatever its case.
func (v value) truthy(h *history) bool {
	switch {
	case v == "":
		return false
	case v[0] == 't':
		return true
	case v.isString():
		b, _ := strconv.ParseBool(strings.ToLower(h.str(v)))
		return b
	case v.isNumber():
		return v.num() != 0
	}
	return false
}

// membersIn calls fn with each member of an object, in order (keys
// unescaped), until fn returns false; nothing for a value of another kind.
// The nested values that ends indexes it jumps over (ends may be nil: they
// are scanned).
func membersIn(ends *jsonbound.Ends, v value, fn func(key string, v value) bool) {
	if v.isObject() {
		membersAt(ends, string(v), 0, fn)
	}
}

// membersAt calls fn with each member of the object at s[i], and returns
// the object's end (just past its closing brace); len(s) when fn stopped
// or the object is not closed.
func membersAt(ends *jsonbound.Ends, s string, i int, fn func(key string, v value) bool) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '"':
		case '}':
			return i + 1
		default:
			continue
		}
		end, ok := stringEnd(s, i)
		if !ok {
			return len(s)
		}
		key := s[i+1 : end-1]
		if strings.IndexByte(key, '\\') >= 0 {
			key = string(jsonbound.AppendUnescaped(nil, key))
		}
		i = end
		for i < len(s) && (s[i] <= ' ' || s[i] == ':' || s[i] == ',') {
			i++
		}
		end, ok = valueEndIn(ends, s, i)
		if !ok || !fn(key, value(s[i:end])) {
			return len(s)
		}
		i = end - 1
	}
	return len(s)
}

// objectsIn reads an array of objects (messages, items, parts) in one
// scan: for each element, in order, member with each of its members if it
// is an object, then done with the element. Nothing for a value that is no
// array. The nested values that ends indexes it jumps over (ends may be
// nil).
func objectsIn(ends *jsonbound.Ends, v value, member func(key string, v value), done func(e value)) {
	if !v.isArray() {
		return
	}
	s := string(v)
	all := func(k string, e value) bool {
		member(k, e)
		return true
	}
	for i := 1; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == ',' || s[i] == ':' {
			continue
		}
		var end int
		if s[i] == '{' {
			end = membersAt(ends, s, i, all)
		} else {
			var ok bool
			if end, ok = valueEndIn(ends, s, i); !ok {
				return
			}
		}
		done(value(s[i:end]))
		i = end - 1
	}
}

// elements calls fn with each element of an array, in order, until fn
// returns false; nothing for a value of another kind.
func elements(v value, fn func(e value) bool) { elementsIn(nil, v, fn) }

// elementsIn is elements, with the nested values that ends indexes jumped
// over (ends may be nil).
func elementsIn(ends *jsonbound.Ends, v value, fn func(e value) bool) {
	if !v.isArray() {
		return
	}
	s := string(v)
	for i := 1; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == ',' || s[i] == ':' {
			continue
		}
		end, ok := valueEndIn(ends, s, i)
		if !ok {
			return
		}
		if !fn(value(s[i:end])) {
			return
		}
		i = end - 1
	}
}

// get is the first member named key of an object; "" when there is none,
// or v is no object. An object or an array it returns runs on past its end
// (its end is not looked for): members and elements stop at it.
func (v value) get(key string) value {
	if !v.isObject() {
		return ""
	}
	s := string(v)
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '"':
		case '}':
			return ""
		default:
			continue
		}
		end, ok := stringEnd(s, i)
		if !ok {
			return ""
		}
		k := s[i+1 : end-1]
		if strings.IndexByte(k, '\\') >= 0 {
			k = string(jsonbound.AppendUnescaped(nil, k))
		}
		i = end
		for i < len(s) && (s[i] <= ' ' || s[i] == ':' || s[i] == ',') {
			i++
		}
		if k == key && i < len(s) && (s[i] == '{' || s[i] == '[') {
			return value(s[i:])
		}
		end, ok = valueEnd(s, i)
		if !ok {
			return ""
		}
		if k == key {
			return value(s[i:end])
		}
		i = end - 1
	}
	return ""
}

// str is a string's text (unescaped in h's buffer, valid until h is
// reset); "" for a value of another kind.
func (h *history) str(v value) string {
	if !v.isString() || len(v) < 2 {
		return ""
	}
	s := string(v[1 : len(v)-1])
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	start := len(h.texts)
	h.texts = jsonbound.AppendUnescaped(h.texts, s)
	b := h.texts[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// valueEnd is the end of the value that begins at s[i] (after whitespace
// and separators), as gjson's parseAny finds it in checked JSON; !ok where
// none begins.
func valueEnd(s string, i int) (end int, ok bool) { return valueEndIn(nil, s, i) }

// valueEndIn is valueEnd, an object or array's end looked up in ends when
// it indexes the document s is a part of (ends may be nil).
func valueEndIn(ends *jsonbound.Ends, s string, i int) (end int, ok bool) {
	if i >= len(s) {
		return i, false
	}
	switch c := s[i]; c {
	case '{', '[':
		return ends.ContainerEnd(s, i), true
	case '"':
		return stringEnd(s, i)
	case 'n':
		if i+1 < len(s) && s[i+1] != 'u' {
			return numberEnd(s, i), true
		}
		return literalEnd(s, i), true
	case 't', 'f':
		return literalEnd(s, i), true
	case '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'i', 'I', 'N':
		return numberEnd(s, i), true
	}
	return i, false
}

// stringEnd is the end of the string whose opening quote is s[i] (just
// past its closing quote: the first quote after an even run of
// backslashes, or none); !ok when it is not closed.
func stringEnd(s string, i int) (end int, ok bool) {
	if q := jsonbound.StringEnd(s, i+1); q < len(s) {
		return q + 1, true
	}
	return len(s), false
}

func numberEnd(s string, i int) int {
	for i++; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == ',' || c == ']' || c == '}' {
			return i
		}
	}
	return len(s)
}

func literalEnd(s string, i int) int {
	for i++; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return i
		}
	}
	return len(s)
}
