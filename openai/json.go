package openai

import (
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, everything else
// kept as UTF-8.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendMember appends the member k:v, both as they were, to the JSON
// object being written at the end of dst: after a comma unless it is the
// object's first (dst ends in its '{'; a member's value never ends in one).
func AppendMember(dst []byte, k, v gjson.Result) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' {
		dst = append(dst, ',')
	}
	dst = append(dst, k.Raw...)
	dst = append(dst, ':')
	return append(dst, v.Raw...)
}

// AppendWithMember appends to dst the JSON object obj with key set to the
// raw JSON value: obj's other members as they were, in their order, then
// key. An obj that is no object gives {"key":value}.
func AppendWithMember(dst []byte, obj, key string, value []byte) []byte {
	dst = append(dst, '{')
	gjson.Parse(obj).ForEach(func(k, v gjson.Result) bool {
		if k.Str != key {
			dst = AppendMember(dst, k, v)
		}
		return true
	})
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	dst = AppendJSONString(dst, key)
	dst = append(dst, ':')
	dst = append(dst, value...)
	return append(dst, '}')
}

// WithMember is AppendWithMember into a new slice.
func WithMember(obj, key string, value []byte) []byte {
	return AppendWithMember(make([]byte, 0, len(obj)+len(value)+len(key)+4), obj, key, value)
}
