package stream

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// converseStreams are the recorded ConverseStream streams, with the token
// counts and finish reason of their golden spans.
var converseStreams = []struct {
	name                      string
	prompt, completion, total int64
	stopReason                string
}{
	{"oi-TestConverseStream.test_invoke_tool_message", 353, 38, 391, "tool_use"},
	{"oi-TestConverseStream.test_invoke_tool_response_message", 443, 23, 466, "end_turn"},
	{"pa-test_bedrock_model_iter_stream", 471, 91, 562, "tool_use"},
	{"pa-test_bedrock_model_iter_stream@1", 577, 18, 595, "end_turn"},
	{"pa-test_bedrock_model_stream", 13, 82, 95, "end_turn"},
	{"pa-test_bedrock_model_thinking_part_stream", 36, 73, 109, "end_turn"},
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%.200s: %v", b, err)
	}
	return v
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestConverseStreamAccumulatorRecordedStreams accumulates real
// ConverseStream streams and compares the response with what
// openinference-instrumentation-bedrock accumulated from them: the output
// message is its output.value exactly; the stop reason and the usage are
// what its span has as llm.finish_reason and token counts. (Its
// output.value has only the message; the metrics, latencyMs, are in no
// attribute.)
func TestConverseStreamAccumulatorRecordedStreams(t *testing.T) {
	for _, tt := range converseStreams {
		t.Run(tt.name, func(t *testing.T) {
			var a ConverseStreamAccumulator
			firsts := addAll(t, &a, bedrockEvents(t, tt.name))
			if firsts != 1 || !a.Done() || a.Err() != "" {
				t.Errorf("first token %d times, Done %v, Err %q; want 1, true, none", firsts, a.Done(), a.Err())
			}
			result := a.Result()
			got := jsonValue(t, result).(map[string]any)
			want := jsonValue(t, readTestdata(t, "bedrock/"+tt.name+".output.json"))
			if msg := got["output"].(map[string]any)["message"]; !reflect.DeepEqual(msg, want) {
				t.Errorf("output.message = %s\nwant %s", jsonString(msg), jsonString(want))
			}
			r := gjson.ParseBytes(result)
			if s := r.Get("stopReason").Str; s != tt.stopReason {
				t.Errorf("stopReason = %q; want %q", s, tt.stopReason)
			}
			if u := r.Get("usage"); u.Get("inputTokens").Int() != tt.prompt || u.Get("outputTokens").Int() != tt.completion || u.Get("totalTokens").Int() != tt.total {
				t.Errorf("usage = %s; want %d, %d, %d tokens", u.Raw, tt.prompt, tt.completion, tt.total)
			}
			if !r.Get("metrics.latencyMs").Exists() || r.Get("p").Exists() || r.Get("output.message.content.0.p").Exists() {
				t.Errorf("Result() = %s; want metrics, no padding", result)
			}
		})
	}
}

// dropNulls removes null members, recursively.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}

// TestInvokeStreamAccumulatorRecordedStream accumulates a real
// InvokeModelWithResponseStream of Claude and compares the message with
// the instrumentor's output.value. Where the two differ, and why:
//
//   - a tool_use block's input: ours is the JSON object, as InvokeModel
//     answers it; the instrumentor's snapshot keeps the joined fragments as
//     a string (its accumulate_event never parses them).
//   - null members: the golden's are its dataclasses' unset fields
//     (citations, cache_creation_input_tokens, cache_read_input_tokens);
//     ours has none but the stream's own (stop_sequence). Compared without
//     nulls.
//   - amazon-bedrock-invocationMetrics: ours carries it (the instrumentor
//     reads its token counts, then the usage's, into attributes); left out.
//   - usage.output_tokens is message_delta's 130, as in the golden; the
//     invocation metrics say 98.
func TestInvokeStreamAccumulatorRecordedStream(t *testing.T) {
	const name = "oi-TestInvokeModelWithStreamResponse.test_invoke"
	var a InvokeStreamAccumulator
	firsts := addAll(t, &a, bedrockEvents(t, name))
	if firsts != 1 || !a.Done() || a.Err() != "" {
		t.Errorf("first token %d times, Done %v, Err %q; want 1, true, none", firsts, a.Done(), a.Err())
	}
	result := a.Result()
	got := jsonValue(t, result).(map[string]any)
	metrics, _ := got[invocationMetrics].(map[string]any)
	if jsonString(metrics) != `{"firstByteLatency":791,"inputTokenCount":702,"invocationLatency":3042,"outputTokenCount":98}` {
		t.Errorf("invocation metrics = %v", metrics)
	}
	delete(got, invocationMetrics)
	want := jsonValue(t, readTestdata(t, "bedrock/"+name+".output.json")).(map[string]any)
	for _, b := range want["content"].([]any) {
		if in, ok := b.(map[string]any)["input"].(string); ok {
			b.(map[string]any)["input"] = jsonValue(t, []byte(in))
		}
	}
	if g, w := dropNulls(got), dropNulls(want); !reflect.DeepEqual(g, w) {
		t.Errorf("Result() = %s\nwant %s", jsonString(g), jsonString(w))
	}
}

// chunkEvent is an InvokeModelWithResponseStream chunk's Data.
func chunkEvent(modelEvent string) string {
	return `{"chunk":{"bytes":"` + base64.StdEncoding.EncodeToString([]byte(modelEvent)) + `"}}`
}

func TestConverseStreamAccumulator(t *testing.T) {
	for _, tt := range []struct {
		name   string
		events []string
		want   string
		first  int // the event that reports the first token, -1 none
		done   bool
		err    string
	}{
		{
			name: "text in two blocks out of order, a tool use",
			events: []string{
				`{"messageStart":{"role":"assistant","p":"abc"}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"text":"B"}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":""}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"A \"q\"\n"}}}`,
				`{"contentBlockStart":{"contentBlockIndex":2,"start":{"toolUse":{"toolUseId":"t1","name":"f"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":2,"delta":{"toolUse":{"input":"{\"a\":"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":2,"delta":{"toolUse":{"input":"[1]}"}}}}`,
				`{"contentBlockStop":{"contentBlockIndex":2}}`,
				`{"messageStop":{"stopReason":"tool_use","p":"x"}}`,
				`{"metadata":{"usage":{"inputTokens":5,"outputTokens":7,"totalTokens":12,"cacheReadInputTokens":3,"cacheWriteInputTokens":0},"metrics":{"latencyMs":9},"p":"yz"}}`,
			},
			want: `{"output":{"message":{"role":"assistant","content":[{"text":"A \"q\"\n"},{"text":"B"},{"toolUse":{"toolUseId":"t1","name":"f","input":{"a":[1]}}}]}},` +
				`"stopReason":"tool_use","usage":{"inputTokens":5,"outputTokens":7,"totalTokens":12,"cacheReadInputTokens":3,"cacheWriteInputTokens":0},"metrics":{"latencyMs":9}}`,
			first: 1, done: true,
		},
		{
			name: "a tool use with no input, and one whose input is not JSON",
			events: []string{
				`{"contentBlockStart":{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"t1","name":"f"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"toolUse":{"input":""}}}}`,
				`{"contentBlockStart":{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"t2","name":"g"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\":"}}}}`,
				`{"messageStop":{"stopReason":"max_tokens"}}`,
			},
			want: `{"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"t1","name":"f","input":{}}},` +
				`{"toolUse":{"toolUseId":"t2","name":"g","input":"{\"a\":"}}]}},"stopReason":"max_tokens"}`,
			first: 3,
		},
		{
			name: "reasoning, its signature, then text",
			events: []string{
				`{"messageStart":{"role":"assistant"}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"Hmm"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":", yes."}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"c2ln"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"text":"Yes."}}}`,
			},
			want:  `{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"reasoningText":{"text":"Hmm, yes.","signature":"c2ln"}}},{"text":"Yes."}]}}}`,
			first: 1,
		},
		{
			// Base64 fragments of 2 and 3 bytes: joined as bytes, not as
			// strings ("AAE=" + "AgME" is not base64).
			name: "redacted reasoning",
			events: []string{
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AAE="}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"redactedContent":"AgME"}}}}`,
			},
			want:  `{"output":{"message":{"role":"assistant","content":[{"reasoningContent":{"redactedContent":"AAECAwQ="}}]}}}`,
			first: 0,
		},
		{
			name: "citations",
			events: []string{
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Paris"}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"citation":{"title":"doc","sourceContent":[{"text":"Paris is"}],"location":{"documentChar":{"documentIndex":0,"start":0,"end":8}}}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":" it is."}}}`,
			},
			want: `{"output":{"message":{"role":"assistant","content":[{"citationsContent":{"content":[{"text":"Paris it is."}],` +
				`"citations":[{"title":"doc","sourceContent":[{"text":"Paris is"}],"location":{"documentChar":{"documentIndex":0,"start":0,"end":8}}}]}}]}}}`,
			first: 0,
		},
		{
			name: "a server tool's result and an image",
			events: []string{
				`{"contentBlockStart":{"contentBlockIndex":0,"start":{"toolResult":{"toolUseId":"t1","type":"web_search","status":"success"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"toolResult":[{"text":"a"},{"text":"b"},{"json":{"k":1}}]}}}`,
				`{"contentBlockStart":{"contentBlockIndex":1,"start":{"image":{"format":"png"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"image":{"source":{"bytes":"iVBO"}}}}}`,
				`{"contentBlockStart":{"contentBlockIndex":2,"start":{"somethingNew":{"x":1}}}}`,
			},
			want: `{"output":{"message":{"role":"assistant","content":[{"toolResult":{"toolUseId":"t1","type":"web_search","status":"success","content":[{"text":"ab"},{"json":{"k":1}}]}},` +
				`{"image":{"format":"png","source":{"bytes":"iVBO"}}},{"somethingNew":{"x":1}}]}}}`,
			first: -1,
		},
		{
			name: "metadata's other members, additionalModelResponseFields",
			events: []string{
				`{"messageStop":{"stopReason":"end_turn","additionalModelResponseFields":{"stop_sequence":null}}}`,
				`{"metadata":{"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1},"trace":{"guardrail":{}},"serviceTier":{"type":"priority"}}}`,
			},
			want: `{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"end_turn","additionalModelResponseFields":{"stop_sequence":null},` +
				`"usage":{"inputTokens":1,"outputTokens":1,"totalTokens":2},"metrics":{"latencyMs":1},"trace":{"guardrail":{}},"serviceTier":{"type":"priority"}}`,
			first: -1, done: true,
		},
		{
			name: "an exception ends the stream",
			events: []string{
				`{"messageStart":{"role":"assistant"}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hi"}}}`,
				`{"modelStreamErrorException":{"message":"The model failed.","originalStatusCode":500}}`,
			},
			want:  `{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}}}`,
			first: 1,
			err:   `{"modelStreamErrorException":{"message":"The model failed.","originalStatusCode":500}}`,
		},
		{
			name:   "an error message",
			events: []string{`{"error":{"code":"InternalFailure","message":"x"}}`},
			want:   `{"output":{"message":{"role":"assistant","content":[]}}}`,
			first:  -1,
			err:    `{"error":{"code":"InternalFailure","message":"x"}}`,
		},
		{
			// Placed by index, however large: the instrumentor's list would
			// grow to it.
			name:   "a huge block index",
			events: []string{`{"contentBlockDelta":{"contentBlockIndex":4000000000000,"delta":{"text":"x"}}}`},
			want:   `{"output":{"message":{"role":"assistant","content":[{"text":"x"}]}}}`,
			first:  0,
		},
		{
			name:   "an unknown event",
			events: []string{`{"somethingElse":{"a":1}}`, `{"contentBlockStop":{"contentBlockIndex":0}}`},
			want:   `{"output":{"message":{"role":"assistant","content":[]}}}`,
			first:  -1,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a ConverseStreamAccumulator
			first := -1
			for i, ev := range tt.events {
				f, err := a.Add([]byte(ev))
				if err != nil {
					t.Fatalf("Add(%s) = %v", ev, err)
				}
				if f {
					if first >= 0 {
						t.Errorf("first token again at event %d", i)
					}
					first = i
				}
			}
			if got := a.Result(); string(got) != tt.want {
				t.Errorf("Result() = %s\nwant %s", got, tt.want)
			}
			if first != tt.first || a.Done() != tt.done || a.Err() != tt.err {
				t.Errorf("first token at %d, Done %v, Err %q; want %d, %v, %q", first, a.Done(), a.Err(), tt.first, tt.done, tt.err)
			}
		})
	}
}

func TestConverseStreamAccumulatorBadChunks(t *testing.T) {
	var a ConverseStreamAccumulator
	for _, bad := range []string{``, `[]`, `"x"`, `{"messageStart":`, "{\"metadata\":{\"usage\":\xff}}"} {
		if _, err := a.Add([]byte(bad)); err != ErrBadChunk {
			t.Errorf("Add(%q) = %v; want ErrBadChunk", bad, err)
		}
	}
	if got := string(a.Result()); got != `{"output":{"message":{"role":"assistant","content":[]}}}` {
		t.Errorf("Result() = %s after bad chunks only", got)
	}
}

func TestInvokeStreamAccumulator(t *testing.T) {
	metrics := `"amazon-bedrock-invocationMetrics":{"inputTokenCount":5,"outputTokenCount":2,"invocationLatency":100,"firstByteLatency":50}`
	for _, tt := range []struct {
		name   string
		events []string // the model's own events, each sent as a chunk; raw Data when it starts with {"
		want   string
		first  int
		done   bool
		err    string
	}{
		{
			name: "Anthropic Claude",
			events: []string{
				`{"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}`,
				`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
				`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}`,
				`{"type":"content_block_stop","index":0}`,
				`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}`,
				`{"type":"message_stop",` + metrics + `}`,
			},
			want: `{"id":"m1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"Hi"}],` +
				`"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2},` + metrics + `}`,
			first: 2, done: true,
		},
		{
			name: "Amazon Nova, totalTokens derived",
			events: []string{
				`{"messageStart":{"role":"assistant"}}`,
				`{"contentBlockDelta":{"delta":{"text":"Hi"},"contentBlockIndex":0}}`,
				`{"contentBlockStop":{"contentBlockIndex":0}}`,
				`{"messageStop":{"stopReason":"end_turn"}}`,
				`{"metadata":{"usage":{"inputTokens":5,"outputTokens":2,"cacheReadInputTokenCount":0}},` + metrics + `}`,
			},
			want: `{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn",` +
				`"usage":{"inputTokens":5,"outputTokens":2,"cacheReadInputTokenCount":0,"totalTokens":7},` + metrics + `}`,
			first: 1, done: true,
		},
		{
			name: "OpenAI gpt-oss",
			events: []string{
				`{"id":"c1","object":"chat.completion.chunk","model":"openai.gpt-oss-20b-1:0","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`,
				`{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}],` + metrics + `}`,
			},
			want: `{"choices":[{"message":{"content":"Hello","role":"assistant"},"index":0,"finish_reason":"stop"}],"id":"c1","object":"chat.completion.chunk",` +
				`"model":"openai.gpt-oss-20b-1:0",` + metrics + `}`,
			first: 0, done: true,
		},
		{
			name: "Meta Llama",
			events: []string{
				`{"generation":"Hel","prompt_token_count":5,"generation_token_count":1,"stop_reason":null}`,
				`{"generation":"lo","prompt_token_count":null,"generation_token_count":2,"stop_reason":"stop",` + metrics + `}`,
			},
			want:  `{"generation":"Hello","prompt_token_count":5,"generation_token_count":2,"stop_reason":"stop",` + metrics + `}`,
			first: 0, done: true,
		},
		{
			name: "Mistral",
			events: []string{
				`{"outputs":[{"text":"Bon","stop_reason":null}]}`,
				`{"outputs":[{"text":"jour","stop_reason":"stop"}],` + metrics + `}`,
			},
			want:  `{"outputs":[{"text":"Bonjour","stop_reason":"stop"}],` + metrics + `}`,
			first: 0, done: true,
		},
		{
			name: "Amazon Titan, the first chunk empty",
			events: []string{
				`{"outputText":"","index":0,"totalOutputTextTokenCount":0,"completionReason":null,"inputTextTokenCount":5}`,
				`{"outputText":"Hi","index":0,"totalOutputTextTokenCount":2,"completionReason":"FINISH","inputTextTokenCount":null}`,
			},
			want:  `{"outputText":"Hi","index":0,"totalOutputTextTokenCount":2,"inputTextTokenCount":5,"completionReason":"FINISH"}`,
			first: 1,
		},
		{
			name: "an exception",
			events: []string{
				`{"type":"message_start","message":{"id":"m1","role":"assistant","content":[]}}`,
				`{"throttlingException":{"message":"Too many requests"}}`,
			},
			want:  `{"id":"m1","role":"assistant","content":[]}`,
			first: -1,
			err:   `{"throttlingException":{"message":"Too many requests"}}`,
		},
		{
			name: "Anthropic's error event",
			events: []string{
				`{"type":"message_start","message":{"id":"m1","role":"assistant","content":[]}}`,
				`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			},
			want:  `{"id":"m1","role":"assistant","content":[]}`,
			first: -1,
			err:   `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
		},
		{name: "nothing", want: `{}`, first: -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a InvokeStreamAccumulator
			first := -1
			for i, ev := range tt.events {
				data := chunkEvent(ev)
				if gjson.Get(ev, "type").Str == "" && strings.HasSuffix(gjson.Parse(ev).Get("@keys.0").Str, "Exception") {
					data = ev
				}
				f, err := a.Add([]byte(data))
				if err != nil {
					t.Fatalf("Add(%s) = %v", data, err)
				}
				if f {
					first = i
				}
			}
			if got := a.Result(); string(got) != tt.want {
				t.Errorf("Result() = %s\nwant %s", got, tt.want)
			}
			if first != tt.first || a.Done() != tt.done || a.Err() != tt.err {
				t.Errorf("first token at %d, Done %v, Err %q; want %d, %v, %q", first, a.Done(), a.Err(), tt.first, tt.done, tt.err)
			}
		})
	}
}

func TestInvokeStreamAccumulatorBadChunks(t *testing.T) {
	var a InvokeStreamAccumulator
	for _, bad := range []string{`[]`, `{"chunk":{"bytes":"not base64!"}}`, `{"chunk":{"bytes":7}}`, chunkEvent(`not json`), chunkEvent(`[1]`)} {
		if _, err := a.Add([]byte(bad)); err != ErrBadChunk {
			t.Errorf("Add(%q) = %v; want ErrBadChunk", bad, err)
		}
	}
	if got := string(a.Result()); got != `{}` || a.Done() {
		t.Errorf("Result() = %s, Done %v after bad chunks only", got, a.Done())
	}
}

// TestBedrockStreamThroughRelay: a recorded stream through the relay with
// the EventStream framing, read by read: the client gets the bytes as they
// came, the span the answer.
func TestBedrockStreamThroughRelay(t *testing.T) {
	in := readTestdata(t, "bedrock/pa-test_bedrock_model_thinking_part_stream.eventstream")
	var out bytes.Buffer
	firsts := 0
	r := Relay{Framing: EventStream, Acc: &ConverseStreamAccumulator{}, MaxEvent: 1 << 20, OnFirstToken: func() { firsts++ }}
	if err := r.Copy(&out, func() {}, &oneByteReader{b: in}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), in) || !r.Done() || r.Truncated() || firsts != 1 {
		t.Errorf("client got %d of %d bytes, Done %v, Truncated %v, first token %d times", out.Len(), len(in), r.Done(), r.Truncated(), firsts)
	}
	if got := gjson.GetBytes(r.Acc.Result(), "output.message.content.1.text").Str; got != "Hello! It's nice to meet you. How can I help you today?" {
		t.Errorf("text = %q", got)
	}
}

// oneByteReader reads a byte at a time.
type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	p[0], r.b = r.b[0], r.b[1:]
	return 1, nil
}

func FuzzConverseStreamAccumulator(f *testing.F) {
	for _, s := range converseStreams[:3] {
		f.Add(bytes.Join(bedrockEvents(f, s.name), []byte("\n")))
	}
	f.Add([]byte(`{"contentBlockDelta":{"contentBlockIndex":-3,"delta":{"toolUse":{"input":"{\"a"}}}}` + "\n" +
		`{"contentBlockStart":{"contentBlockIndex":9,"start":{"toolUse":[]}}}` + "\n" +
		`{"contentBlockDelta":{"contentBlockIndex":9,"delta":{"reasoningContent":{"redactedContent":"%%"}}}}` + "\n" +
		`{"contentBlockDelta":{"contentBlockIndex":9,"delta":{"toolResult":{"json":null},"citation":{},"image":[]}}}` + "\n" +
		`{"messageStart":{"role":7},"metadata":{"usage":null,"p":1},"validationException":{}}` + "\n\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzAccumulator(t, &ConverseStreamAccumulator{}, &ConverseStreamAccumulator{}, in)
		// The same events as chunks of an InvokeModel stream.
		var chunks [][]byte
		for _, line := range bytes.Split(in, []byte("\n")) {
			chunks = append(chunks, []byte(chunkEvent(string(line))))
		}
		fuzzAccumulator(t, &InvokeStreamAccumulator{}, &InvokeStreamAccumulator{}, bytes.Join(chunks, []byte("\n")))
	})
}

// BenchmarkRelayEventStream relays a recorded ConverseStream (AWS event
// stream framing) to a discarding client, one message per read as the
// upstream flushes them, and accumulates it: the relay's row for Bedrock's
// framing beside BenchmarkRelayCopy's SSE. An op is one stream.
func BenchmarkRelayEventStream(b *testing.B) {
	in := readTestdata(b, "bedrock/pa-test_bedrock_model_thinking_part_stream.eventstream")
	var msgs [][]byte
	for rest := in; len(rest) >= 4; {
		n := int(binary.BigEndian.Uint32(rest))
		msgs, rest = append(msgs, rest[:n]), rest[n:]
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := Relay{Framing: EventStream, Acc: &ConverseStreamAccumulator{}, MaxEvent: 1 << 20}
		if err := r.Copy(io.Discard, func() {}, &messageReader{msgs: msgs}); err != nil || !r.Done() {
			b.Fatalf("Copy: %v, Done %v", err, r.Done())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/event")
}

// messageReader returns one message per Read.
type messageReader struct{ msgs [][]byte }

func (r *messageReader) Read(p []byte) (int, error) {
	if len(r.msgs) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.msgs[0])
	r.msgs = r.msgs[1:]
	return n, nil
}
