package stream

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// withoutNulls drops null members, which the SDK's dump of a message adds
// for every field the API did not send.
func withoutNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = withoutNulls(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = withoutNulls(e)
		}
	}
	return v
}

// TestAnthropicAccumulatorRecordedStreams accumulates real Anthropic streams
// and compares the message with the one openinference-instrumentation-
// anthropic accumulated from them (its output.value).
func TestAnthropicAccumulatorRecordedStreams(t *testing.T) {
	for _, name := range []string{"anthropic-text-stream", "anthropic-thinking-stream", "anthropic-web-search-stream"} {
		t.Run(name, func(t *testing.T) {
			var a AnthropicAccumulator
			firsts := addAll(t, &a, streamChunks(t, readTestdata(t, name+".sse")))
			if firsts != 1 || !a.Done() || a.Err() != "" {
				t.Errorf("first token %d times, Done %v, Err %q; want 1, true, none", firsts, a.Done(), a.Err())
			}
			var got, want any
			if err := json.Unmarshal(a.Result(), &got); err != nil {
				t.Fatalf("Result() is not JSON: %v", err)
			}
			if err := json.Unmarshal(readTestdata(t, name+".output.json"), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(withoutNulls(got), withoutNulls(want)) {
				t.Errorf("Result() = %.600s\nwant %.600s", a.Result(), readTestdata(t, name+".output.json"))
			}
		})
	}
}

// TestAnthropicAccumulatorPartial: what passed before a stream was cut.
func TestAnthropicAccumulatorPartial(t *testing.T) {
	events := []string{
		`{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[],"stop_reason":null,"usage":{"input_tokens":10,"cache_read_input_tokens":4,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`{"type":"ping"}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me "}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"check."}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`,
		`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":25}}`,
	}
	var a AnthropicAccumulator
	firstAt := -1
	for i, ev := range events {
		first, err := a.Add([]byte(ev))
		if err != nil {
			t.Fatal(err)
		}
		if first {
			firstAt = i
		}
	}
	if firstAt != 3 || a.Done() {
		t.Errorf("first token at %d, Done %v; want 3, false", firstAt, a.Done())
	}
	got := a.Result()
	want := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","stop_reason":"tool_use","stop_sequence":null,` +
		`"content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],` +
		`"usage":{"input_tokens":10,"cache_read_input_tokens":4,"output_tokens":25}}`
	if !jsonEqual(t, got, []byte(want)) {
		t.Errorf("Result() = %s\nwant %s", got, want)
	}

	// Tool input cut in the middle is kept as the text that came.
	var b AnthropicAccumulator
	for _, ev := range events[6:8] {
		if _, err := b.Add([]byte(ev)); err != nil {
			t.Fatal(err)
		}
	}
	if in := gjson.GetBytes(b.Result(), "content.0.input"); in.Str != `{"city": ` {
		t.Errorf("cut tool input = %s; want the fragment as a string", in.Raw)
	}

	var c AnthropicAccumulator
	if _, err := c.Add([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)); err != nil || !strings.Contains(c.Err(), "Overloaded") {
		t.Errorf("error event: Err() = %q, %v", c.Err(), err)
	}
}

func FuzzAnthropicAccumulator(f *testing.F) {
	chunks := streamChunks(f, readTestdata(f, "anthropic-text-stream.sse"))
	f.Add(bytes.Join(chunks, []byte("\n")))
	f.Add([]byte(`{"type":"content_block_delta","index":-3,"delta":{"type":"input_json_delta","partial_json":"{\"a"}}` + "\n" +
		`{"type":"content_block_start","index":9,"content_block":{"type":"thinking","thinking":""}}` + "\n" +
		`{"type":"content_block_delta","index":9,"delta":{"type":"signature_delta","signature":"s"}}` + "\n" +
		`{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":null}}` + "\n\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzAccumulator(t, &AnthropicAccumulator{}, &AnthropicAccumulator{}, in)
	})
}
