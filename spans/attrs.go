package spans

import (
	"strconv"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"
)

// Attrs collects the attributes of one span before they are set in one call.
// The zero value is ready to use.
type Attrs struct {
	kv []attribute.KeyValue
}

// String adds a string attribute.
func (a *Attrs) String(key, v string) { a.kv = append(a.kv, attribute.String(key, v)) }

// Int adds an integer attribute.
func (a *Attrs) Int(key string, v int64) { a.kv = append(a.kv, attribute.Int64(key, v)) }

// KeyValues returns what was added, in order.
func (a *Attrs) KeyValues() []attribute.KeyValue { return a.kv }

// Len is the number of attributes added.
func (a *Attrs) Len() int { return len(a.kv) }

// stringIf adds key when v is a JSON string (an empty string included, as
// the instrumentor records any value that is not None).
func (a *Attrs) stringIf(key string, v gjson.Result) {
	if v.Type == gjson.String {
		a.String(key, v.Str)
	}
}

// intIf adds key when v is a JSON number.
func (a *Attrs) intIf(key string, v gjson.Result) {
	if v.Type == gjson.Number {
		a.Int(key, v.Int())
	}
}

// indexed builds "prefix.i.suffix", the shape of every list attribute.
func indexed(prefix string, i int, suffix string) string {
	return prefix + "." + strconv.Itoa(i) + "." + suffix
}

// withoutKeys re-assembles a JSON object without the given top-level keys,
// copying the other members' raw bytes: the invocation parameters are the
// request minus its messages, prompt or input.
func withoutKeys(obj gjson.Result, drop ...string) string {
	buf := make([]byte, 0, len(obj.Raw))
	buf = append(buf, '{')
	first := true
	obj.ForEach(func(k, v gjson.Result) bool {
		for _, d := range drop {
			if k.Str == d {
				return true
			}
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, k.Raw...)
		buf = append(buf, ':')
		buf = append(buf, v.Raw...)
		return true
	})
	buf = append(buf, '}')
	return string(buf)
}

// listIndex is the position a list element is recorded at: its own "index"
// field where the API gives one (choices, embeddings), else its position.
func listIndex(elem gjson.Result, pos int) int {
	if i := elem.Get("index"); i.Type == gjson.Number {
		return int(i.Int())
	}
	return pos
}
