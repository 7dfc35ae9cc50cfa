package stream

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// finalResponse is the response of a recorded stream's response.completed
// event.
func finalResponse(t *testing.T, chunks [][]byte) []byte {
	t.Helper()
	for _, c := range chunks {
		if gjson.GetBytes(c, "type").Str == "response.completed" {
			return []byte(gjson.GetBytes(c, "response").Raw)
		}
	}
	t.Fatal("no response.completed event")
	return nil
}

// TestResponsesAccumulatorRecordedStreams: a whole recorded stream gives the
// response of its response.completed event; the first token is reported
// once, at the first text delta; the same stream cut before its final
// event gives the text that passed.
func TestResponsesAccumulatorRecordedStreams(t *testing.T) {
	for _, name := range []string{"responses-simple-stream.sse", "responses-web-search-stream.sse"} {
		t.Run(name, func(t *testing.T) {
			chunks := streamChunks(t, readTestdata(t, name))
			var a ResponsesAccumulator
			firstAt := -1
			for i, c := range chunks {
				first, err := a.Add(c)
				if err != nil {
					t.Fatalf("Add(chunk %d) error = %v", i, err)
				}
				if first {
					if firstAt >= 0 {
						t.Fatalf("first token reported at %d and %d", firstAt, i)
					}
					firstAt = i
				}
			}
			if typ := gjson.GetBytes(chunks[firstAt], "type").Str; typ != "response.output_text.delta" {
				t.Errorf("first token reported on a %s event; want the first text delta", typ)
			}
			want := finalResponse(t, chunks)
			if got := a.Result(); !bytes.Equal(got, want) {
				t.Errorf("Result() is not the final response:\n got  %.300s\n want %.300s", got, want)
			}
			if !a.Done() || a.Err() != "" {
				t.Errorf("Done() = %v, Err() = %q; want true, none", a.Done(), a.Err())
			}

			// Cut just before the final event.
			var cut ResponsesAccumulator
			for _, c := range chunks[:len(chunks)-1] {
				if _, err := cut.Add(c); err != nil {
					t.Fatal(err)
				}
			}
			if cut.Done() {
				t.Errorf("Done() before the final event")
			}
			got := cut.Result()
			if !json.Valid(got) {
				t.Fatalf("cut Result() is not JSON: %s", got)
			}
			// Each item as its output_item.done event gave it (a reasoning
			// item's encrypted content differs in the final response).
			var wantOutput []gjson.Result
			for _, c := range chunks {
				if gjson.GetBytes(c, "type").Str == "response.output_item.done" {
					wantOutput = append(wantOutput, gjson.GetBytes(c, "item"))
				}
			}
			if len(wantOutput) != len(gjson.GetBytes(want, "output").Array()) {
				t.Fatalf("%d items done; the final response has %d", len(wantOutput), len(gjson.GetBytes(want, "output").Array()))
			}
			gotOutput := gjson.GetBytes(got, "output").Array()
			if len(gotOutput) != len(wantOutput) {
				t.Fatalf("cut Result() has %d output items; want %d", len(gotOutput), len(wantOutput))
			}
			for i := range wantOutput {
				if !jsonEqual(t, []byte(gotOutput[i].Raw), []byte(wantOutput[i].Raw)) {
					t.Errorf("output item %d:\n got  %.300s\n want %.300s", i, gotOutput[i].Raw, wantOutput[i].Raw)
				}
			}
			if gjson.GetBytes(got, "id").Str != gjson.GetBytes(want, "id").Str {
				t.Errorf("cut Result() lost the response id")
			}
		})
	}
}

// TestResponsesAccumulatorPartialItems: items cut before their
// output_item.done event are assembled from their deltas.
func TestResponsesAccumulatorPartialItems(t *testing.T) {
	const created = `{"type":"response.created","response":{"id":"resp_1","status":"in_progress","model":"gpt-5","output":[]}}`
	tests := []struct {
		name       string
		events     []string
		wantOutput string
		firstAt    int // index of the event that carries the first token; -1 for none
	}{
		{
			name: "text",
			events: []string{created,
				`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","status":"in_progress","content":[],"role":"assistant"}}`,
				`{"type":"response.content_part.added","item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"text":""}}`,
				`{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hel"}`,
				`{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"lo \"you\""}`,
			},
			wantOutput: `[{"id":"msg_1","type":"message","status":"in_progress","content":[{"type":"output_text","annotations":[],"text":"Hello \"you\""}],"role":"assistant"}]`,
			firstAt:    3,
		},
		{
			name: "refusal",
			events: []string{created,
				`{"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","content":[],"role":"assistant"}}`,
				`{"type":"response.content_part.added","output_index":0,"content_index":0,"part":{"type":"refusal","refusal":""}}`,
				`{"type":"response.refusal.delta","output_index":0,"content_index":0,"delta":"I can't"}`,
			},
			wantOutput: `[{"id":"msg_1","type":"message","content":[{"type":"refusal","refusal":"I can't"}],"role":"assistant"}]`,
			firstAt:    3,
		},
		{
			name: "function call arguments",
			events: []string{created,
				`{"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"","call_id":"call_1","name":"get_weather"}}`,
				`{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"city\":"}`,
				`{"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"\"Paris\"}"}`,
			},
			wantOutput: `[{"id":"fc_1","type":"function_call","status":"in_progress","arguments":"{\"city\":\"Paris\"}","call_id":"call_1","name":"get_weather"}]`,
			firstAt:    2,
		},
		{
			name: "reasoning summary, then a finished item, then text",
			events: []string{created,
				`{"type":"response.output_item.added","output_index":0,"item":{"id":"rs_1","type":"reasoning","summary":[]}}`,
				`{"type":"response.reasoning_summary_part.added","output_index":0,"summary_index":0,"part":{"type":"summary_text","text":""}}`,
				`{"type":"response.reasoning_summary_text.delta","output_index":0,"summary_index":0,"delta":"Thinking"}`,
				`{"type":"response.reasoning_summary_text.done","output_index":0,"summary_index":0,"text":"Thinking hard"}`,
				`{"type":"response.output_item.added","output_index":1,"item":{"id":"ws_1","type":"web_search_call","status":"in_progress"}}`,
				`{"type":"response.output_item.done","output_index":1,"item":{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"q"}}}`,
				`{"type":"response.output_text.delta","output_index":2,"content_index":0,"delta":"Hi"}`,
			},
			wantOutput: `[{"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Thinking hard"}]},` +
				`{"id":"ws_1","type":"web_search_call","status":"completed","action":{"type":"search","query":"q"}},` +
				`{"content":[{"text":"Hi"}]}]`,
			firstAt: 3,
		},
		{
			name:       "nothing but the snapshot",
			events:     []string{created, `{"type":"response.in_progress","response":{"id":"resp_1","status":"in_progress","model":"gpt-5","output":[]}}`},
			wantOutput: `[]`,
			firstAt:    -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a ResponsesAccumulator
			firstAt := -1
			for i, ev := range tt.events {
				first, err := a.Add([]byte(ev))
				if err != nil {
					t.Fatalf("Add(%s) error = %v", ev, err)
				}
				if first {
					firstAt = i
				}
			}
			if firstAt != tt.firstAt {
				t.Errorf("first token at event %d; want %d", firstAt, tt.firstAt)
			}
			got := a.Result()
			if id := gjson.GetBytes(got, "id").Str; id != "resp_1" {
				t.Errorf("Result() = %s: the snapshot's members are lost", got)
			}
			if out := gjson.GetBytes(got, "output").Raw; !jsonEqual(t, []byte(out), []byte(tt.wantOutput)) {
				t.Errorf("output:\n got  %s\n want %s", out, tt.wantOutput)
			}
		})
	}
}

func TestResponsesAccumulatorErrors(t *testing.T) {
	tests := []struct {
		name, event, wantErr string
		done                 bool
	}{
		{"error event", `{"type":"error","code":"server_error","message":"boom","param":null}`,
			`{"type":"error","code":"server_error","message":"boom","param":null}`, false},
		{"failed response", `{"type":"response.failed","response":{"id":"r","status":"failed","error":{"code":"server_error","message":"boom"},"output":[]}}`,
			`{"code":"server_error","message":"boom"}`, true},
		{"incomplete response", `{"type":"response.incomplete","response":{"id":"r","status":"incomplete","error":null,"output":[]}}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a ResponsesAccumulator
			if _, err := a.Add([]byte(tt.event)); err != nil {
				t.Fatal(err)
			}
			if a.Err() != tt.wantErr || a.Done() != tt.done {
				t.Errorf("Err() = %q, Done() = %v; want %q, %v", a.Err(), a.Done(), tt.wantErr, tt.done)
			}
		})
	}
	var a ResponsesAccumulator
	for _, bad := range []string{`not json`, `[1,2]`, `{"type":` + strings.Repeat("[", 1000)} {
		if _, err := a.Add([]byte(bad)); err != ErrBadChunk {
			t.Errorf("Add(%.30q) error = %v; want ErrBadChunk", bad, err)
		}
	}
}

func FuzzResponsesAccumulator(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it finds, and a
	// seed of tens of kilobytes makes that take most of its time.
	for _, name := range []string{"responses-simple-stream.sse", "responses-web-search-stream.sse"} {
		chunks := streamChunks(f, readTestdata(f, name))
		f.Add(bytes.Join(chunks[:7], []byte("\n")))
		f.Add(chunks[len(chunks)-1])
	}
	f.Add([]byte(`{"type":"response.output_text.delta","output_index":-1,"content_index":7,"delta":"x"}` + "\n" +
		`{"type":"response.output_item.added","output_index":3,"item":{"type":"reasoning"}}` + "\n" +
		`{"type":"response.reasoning_summary_text.delta","output_index":3,"summary_index":1,"delta":"y"}` + "\n" +
		`{"type":"response.failed","response":{"error":{"message":"m"}}}` + "\n\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzAccumulator(t, &ResponsesAccumulator{}, &ResponsesAccumulator{}, in)
	})
}
