// Package jsonbound checks JSON before anything walks it: valid, and nested
// no deeper than a bound, in one linear pass that does not recurse.
//
// gjson's validator recurses once per level of nesting, so a body of a few
// million '[' grows a goroutine's stack past Go's limit and the runtime
// kills the whole process. Every JSON text from a client or an upstream goes
// through Valid or Check before gjson (or any recursive walk of ours) sees it.
package jsonbound

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// MaxDepth is the deepest nesting of arrays and objects accepted. Real
// requests nest a JSON schema or two inside messages and tools, a few dozen
// levels at most; Go's encoding/json stops at 10,000, Python's json at about
// 1,000 (its recursion limit).
const MaxDepth = 512

// ErrTooDeep is returned by Check for JSON nested deeper than MaxDepth.
var ErrTooDeep = fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)

// ErrInvalid is returned by Check for text that is not valid JSON.
var ErrInvalid = errors.New("not valid JSON")

// Check returns nil for valid JSON nested at most MaxDepth deep, ErrTooDeep
// or ErrInvalid otherwise. Its cost is linear in len(data), its stack
// bounded.
func Check(data []byte) error { return validate(data, nil) }

// Valid reports whether data is valid JSON nested at most MaxDepth deep.
func Valid(data []byte) bool { return Check(data) == nil }

// shallow reports whether no array or object in data, read as JSON, opens
// more than max levels deep. Brackets inside strings do not count. It does
// not validate: text that is not JSON may pass, and is then for the
// validator to refuse.
func shallow(data []byte, max int) bool {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '[', '{':
			depth++
			if depth > max {
				return false
			}
		case ']', '}':
			depth--
		case '"':
			i = stringEnd(data, i+1)
		}
	}
	return true
}

// StringEnd returns the index of the quote that closes the string whose
// contents start at s[i], or len(s) when it is not closed: on JSON that
// Check accepted, where the next value begins. Its first bytes are read
// eight at a time, which finds the end of the short strings JSON is mostly
// made of (keys, roles, types) without a call; a longer string is searched
// with strings.IndexByte for its quotes. Each backslash run is read once,
// so the cost stays linear.
func StringEnd(s string, i int) int {
	for n := 0; n < 4 && len(s)-i >= 8; n++ {
		x := binary.LittleEndian.Uint64(bytesOf(s[i:]))
		q := x ^ ('"' * lowBits)
		q = (q - lowBits) &^ q
		b := x ^ ('\\' * lowBits)
		b = (b - lowBits) &^ b
		m := (q | b) & highBits
		if m == 0 {
			i += 8
			continue
		}
		// The first flagged byte is a quote or a backslash (a borrow only
		// flags bytes above a true one).
		i += bits.TrailingZeros64(m) / 8
		if s[i] == '"' {
			return i
		}
		i += 2 // the backslash and the byte it escapes
		if i >= len(s) {
			return len(s)
		}
	}
	for {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			return len(s)
		}
		q := i + j
		backslashes := 0
		for k := q - 1; k >= i && s[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q
		}
		i = q + 1
	}
}

// stringEnd is StringEnd on bytes.
func stringEnd(data []byte, i int) int {
	return StringEnd(unsafe.String(unsafe.SliceData(data), len(data)), i)
}

// ParseInPlace is gjson.ParseBytes without its copy: the Result and every
// string read from it alias data. The caller must not write data while it
// holds any of them, and clones (strings.Clone) whatever it keeps past
// that.
func ParseInPlace(data []byte) gjson.Result {
	return gjson.Parse(unsafe.String(unsafe.SliceData(data), len(data)))
}
