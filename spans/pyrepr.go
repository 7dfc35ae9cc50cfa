package spans

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// pythonRepr renders an error body as the OpenAI Python SDK puts it in its
// exception message ("Error code: 400 - {'error': {…}}"): JSON becomes the
// repr of the Python object json.loads makes of it; anything else is kept as
// text. Phoenix users then see the proxy's errors as they see the official
// instrumentor's.
func pythonRepr(body []byte) string {
	if !jsonbound.Valid(body) {
		return string(body)
	}
	var b strings.Builder
	writeRepr(&b, gjson.ParseBytes(body))
	return b.String()
}

func writeRepr(b *strings.Builder, v gjson.Result) {
	switch v.Type {
	case gjson.Null:
		b.WriteString("None")
	case gjson.True:
		b.WriteString("True")
	case gjson.False:
		b.WriteString("False")
	case gjson.Number:
		b.WriteString(numberRepr(v.Raw))
	case gjson.String:
		writeStringRepr(b, v.Str)
	case gjson.JSON:
		open, close := byte('{'), byte('}')
		if v.IsArray() {
			open, close = '[', ']'
		}
		b.WriteByte(open)
		first := true
		jsonbound.ForEach(v, func(k, item gjson.Result) bool {
			if !first {
				b.WriteString(", ")
			}
			first = false
			if open == '{' {
				writeStringRepr(b, k.Str)
				b.WriteString(": ")
			}
			writeRepr(b, item)
			return true
		})
		b.WriteByte(close)
	}
}

// numberRepr prints a JSON number as Python prints the int or float that
// json.loads makes of it.
func numberRepr(raw string) string {
	if !strings.ContainsAny(raw, ".eE") {
		if raw == "-0" {
			return "0" // an int: Python has no negative zero int
		}
		return raw
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil && !math.IsInf(f, 0) { // out of range is inf, as in Python
		return raw
	}
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// Python's float repr: shortest round-trip digits, scientific notation
	// outside 1e-4 <= |f| < 1e16.
	if abs := math.Abs(f); abs != 0 && (abs < 1e-4 || abs >= 1e16) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		if len(exp) < 2 {
			exp = fmt.Sprintf("%02s", exp)
		}
		return mant + "e" + string(sign) + exp
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// writeStringRepr quotes s as Python's str.__repr__ does.
func writeStringRepr(b *strings.Builder, s string) {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(quote):
			b.WriteByte('\\')
			b.WriteByte(quote)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == utf8.RuneError && size == 1:
			// The SDK decodes the body with errors="replace": U+FFFD, which
			// is printable, so repr shows it as it is.
			b.WriteRune(utf8.RuneError)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r > 0x7f && !unicode.IsPrint(r):
			if r <= 0xff {
				fmt.Fprintf(b, `\x%02x`, r)
			} else if r <= 0xffff {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				fmt.Fprintf(b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(quote)
}
