package jsonbound

import (
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// ForEach is gjson's t.ForEach for JSON that Check accepted, faster where
// it matters: an object or array value is skipped with Check's linear scan
// (each string jumped with bytes.IndexByte) rather than gjson's byte by byte
// one. A coding agent's request is mostly one messages array of long
// strings, and every pass over its members used to read all of it a byte at
// a time. The keys and values it yields are those gjson's ForEach yields
// (Type, Raw, Str, Num and Index); on text Check refuses it stops early or
// yields what gjson would not, but never reads out of bounds.
func ForEach(t gjson.Result, iterator func(key, value gjson.Result) bool) {
	forEach(nil, t, iterator)
}

// forEach is ForEach, with the nested values that ends indexes jumped over
// (ends may be nil).
func forEach(ends *Ends, t gjson.Result, iterator func(key, value gjson.Result) bool) {
	if t.Type != gjson.JSON || t.Indexes != nil {
		t.ForEach(iterator)
		return
	}
	json := t.Raw
	i := 0
	for ; i < len(json); i++ {
		if json[i] == '{' || json[i] == '[' {
			break
		}
		if json[i] > ' ' {
			return
		}
	}
	if i == len(json) {
		return
	}
	obj := json[i] == '{'
	var key gjson.Result
	if obj {
		key.Type = gjson.String
	} else {
		key.Type, key.Num = gjson.Number, -1
	}
	for i++; i < len(json); i++ {
		if obj {
			if json[i] != '"' {
				if json[i] == '}' {
					return
				}
				continue
			}
			s := i
			end := StringEnd(json, i+1)
			if end >= len(json) {
				return
			}
			key.Raw = json[s : end+1]
			key.Str = stringValue(key.Raw)
			key.Index = s + t.Index
			i = end + 1
		} else {
			key.Num++
		}
		for ; i < len(json); i++ {
			if c := json[i]; c > ' ' && c != ',' && c != ':' {
				break
			}
		}
		if i >= len(json) || json[i] == '}' || json[i] == ']' {
			return
		}
		s := i
		var value gjson.Result
		switch json[i] {
		case '{', '[':
			i = ends.ContainerEnd(json, i) // where the index says it closes, if it has it
			value = gjson.Result{Type: gjson.JSON, Raw: json[s:i]}
		case '"':
			end := StringEnd(json, i+1)
			if end >= len(json) {
				return
			}
			i = end + 1
			value = gjson.Result{Type: gjson.String, Raw: json[s:i]}
			value.Str = stringValue(value.Raw)
		default:
			i = scalarEnd(json, i)
			value = gjson.Parse(json[s:i])
		}
		value.Index = s + t.Index
		if !iterator(key, value) {
			return
		}
		i-- // the loop's i++ lands on the byte after the value
	}
}

// bytesOf is s's bytes, for StringEnd's word loads: no copy, only read.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringValue is what gjson gives as Str for the string literal raw
// (quotes included): its contents, unescaped when they hold an escape.
func stringValue(raw string) string {
	s := raw[1 : len(raw)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := AppendUnescaped(make([]byte, 0, len(s)), s)
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
}

// ContainerEnd returns the index just past the array or object that opens
// at json[i], or len(json) when it does not close: on JSON that Check
// accepted, where the next value begins. Strings are jumped with
// StringEnd.
func ContainerEnd(json string, i int) int {
	depth := 0
	for ; i < len(json); i++ {
		switch json[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			i = StringEnd(json, i+1)
		}
	}
	return len(json)
}

// scalarEnd returns the index just past the number or literal at i.
func scalarEnd(json string, i int) int {
	for ; i < len(json); i++ {
		switch json[i] {
		case ' ', '\t', '\n', '\r', ',', ']', '}':
			return i
		}
	}
	return i
}
