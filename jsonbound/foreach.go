package jsonbound

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
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
			end := stringEnd(bytesOf(json), i+1)
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
			i = skipNested(json, i)
			value = gjson.Result{Type: gjson.JSON, Raw: json[s:i]}
		case '"':
			end := stringEnd(bytesOf(json), i+1)
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

// bytesOf is s's bytes, for stringEnd: no copy, only read.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringValue is what gjson gives as Str for the string literal raw
// (quotes included): its contents, unescaped when they hold an escape.
func stringValue(raw string) string {
	s := raw[1 : len(raw)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	return unescape(s)
}

// unescape decodes the escapes of a checked string literal's contents as
// gjson does (a lone surrogate becomes U+FFFD), copying the runs between
// them whole where gjson appends a byte at a time; its bytes become the
// string without another copy.
func unescape(s string) string {
	b := make([]byte, 0, len(s))
	for {
		i := strings.IndexByte(s, '\\')
		if i < 0 || i+1 >= len(s) {
			if i < 0 {
				b = append(b, s...)
			} else {
				b = append(b, s[:i]...)
			}
			break
		}
		b = append(b, s[:i]...)
		c := s[i+1]
		s = s[i+2:]
		switch c {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			if len(s) < 4 {
				return unsafe.String(unsafe.SliceData(b), len(b))
			}
			r := hexRune(s)
			s = s[4:]
			if r >= 0xD800 && r < 0xDC00 && len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
				if r2 := hexRune(s[2:]); r2 >= 0xDC00 && r2 < 0xE000 {
					r = utf16.DecodeRune(r, r2)
					s = s[6:]
				}
			}
			b = utf8.AppendRune(b, r)
		default: // '"', '\\', '/'
			b = append(b, c)
		}
	}
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// hexRune reads the four hex digits s starts with; 0 if one is not hex, as
// gjson reads it.
func hexRune(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0
		}
	}
	return r
}

// skipNested returns the index just past the array or object that opens at
// i, or len(json) when it does not close.
func skipNested(json string, i int) int {
	b := bytesOf(json)
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			i = stringEnd(b, i+1)
		}
	}
	return len(b)
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
