package stream

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tidwall/gjson"
)

// addAll feeds recorded events' data to a, failing on any it rejects, and
// returns how many of them reported the first token. Each event's data is
// in one buffer that is overwritten once Add returns, as the relay's
// framer reuses its own: an accumulator that kept any of it without a copy
// shows it in its Result.
func addAll(t *testing.T, a Accumulator, chunks [][]byte) (firsts int) {
	t.Helper()
	var buf []byte
	for i, c := range chunks {
		buf = append(buf[:0], c...)
		first, err := a.Add(buf)
		poison(buf)
		if err != nil {
			t.Fatalf("Add(chunk %d) error = %v", i, err)
		}
		if first {
			firsts++
		}
	}
	return firsts
}

// poison overwrites an event's data once an accumulator has read it.
func poison(b []byte) {
	for i := range b {
		b[i] = 'X'
	}
}

// fuzzAccumulator feeds a fuzz input to a, one event's data per line, and
// checks what every Accumulator promises whatever it is fed: invalid JSON
// is refused, Result is a JSON object after every event, the first token
// is reported at most once, and Err is JSON or empty. Each event's data is
// overwritten once a has read it; ref, a fresh accumulator of the same
// dialect, reads copies that stay, and must come to the same Result and
// Err: a keeps nothing of an event's data past Add.
func fuzzAccumulator(t *testing.T, a, ref Accumulator, in []byte) {
	t.Helper()
	firsts := 0
	var buf []byte
	for _, chunk := range bytes.Split(in, []byte("\n")) {
		_, _ = ref.Add(chunk)
		buf = append(buf[:0], chunk...)
		first, err := a.Add(buf)
		poison(buf)
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
	if got, want := a.Result(), ref.Result(); !bytes.Equal(got, want) || a.Err() != ref.Err() {
		t.Errorf("with each event's data overwritten after Add: Result() = %s, Err() = %q\nwant %s, %q", got, a.Err(), want, ref.Err())
	}
}
