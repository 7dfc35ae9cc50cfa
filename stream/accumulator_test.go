package stream

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"
)

// addAll feeds recorded events' data to a, failing on any it rejects, and
// returns how many of them reported the first token.
func addAll(t *testing.T, a Accumulator, chunks [][]byte) (firsts int) {
	t.Helper()
	for i, c := range chunks {
		first, err := a.Add(c)
		if err != nil {
			t.Fatalf("Add(chunk %d) error = %v", i, err)
		}
		if first {
			firsts++
		}
	}
	return firsts
}

// fuzzAccumulator feeds a fuzz input to a, one event's data per line, and
// checks what every Accumulator promises whatever it is fed: invalid JSON
// is refused, Result is a JSON object after every event, the first token
// is reported at most once, and Err is JSON or empty.
func fuzzAccumulator(t *testing.T, a Accumulator, in []byte) {
	t.Helper()
	firsts := 0
	for _, chunk := range bytes.Split(in, []byte("\n")) {
		first, err := a.Add(chunk)
		if err == nil && !json.Valid(chunk) {
			t.Fatalf("Add(%q) accepted invalid JSON", chunk)
		}
		if first {
			firsts++
		}
		if r := a.Result(); !json.Valid(r) || !gjson.ParseBytes(r).IsObject() {
			t.Fatalf("after Add(%q), Result() = %q is not a JSON object", chunk, r)
		}
	}
	if firsts > 1 {
		t.Errorf("first token reported %d times; want at most once", firsts)
	}
	if e := a.Err(); e != "" && !json.Valid([]byte(e)) {
		t.Errorf("Err() = %q is not valid JSON", e)
	}
}
