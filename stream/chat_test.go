package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// jsonEqual reports whether two JSON texts hold the same value, member order
// aside.
func jsonEqual(t testing.TB, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want invalid JSON %q: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// chatChunk is a chat.completion.chunk around choices.
func chatChunk(choices string) string {
	return `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":null,"choices":[` + choices + `]}`
}

const chunkHead = `"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m"`

func TestAccumulator(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   string
	}{
		{
			name: "no chunks",
			want: `{"choices":[]}`,
		},
		{
			name: "content concatenated",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{"content":"Hel"},"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{"content":"lo \"you\"\n"},"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{"content":null},"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
			},
			want: `{"choices":[{"message":{"role":"assistant","content":"Hello \"you\"\n"},"index":0,"finish_reason":"stop"}],` + chunkHead + `}`,
		},
		{
			name: "reasoning only: the empty content is left out, as the instrumentor does (issue 21)",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{"content":"","reasoning_content":"Thinking."},"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
			},
			want: `{"choices":[{"message":{"role":"assistant"},"index":0,"finish_reason":"stop"}],` + chunkHead + `}`,
		},
		{
			name: "unicode and escapes survive",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"content":"\u00e9t\u00e9 \ud83d\ude00 "}}`),
				chatChunk(`{"index":0,"delta":{"content":"\\ \/ \t ’"}}`),
			},
			want: `{"choices":[{"message":{"content":"été 😀 \\ / \t ’"},"index":0}],` + chunkHead + `}`,
		},
		{
			name: "choices kept apart and sorted by index",
			chunks: []string{
				chatChunk(`{"index":1,"delta":{"role":"assistant","content":""}},{"index":0,"delta":{"role":"assistant","content":""}}`),
				chatChunk(`{"index":1,"delta":{"content":"B1"}}`),
				chatChunk(`{"index":0,"delta":{"content":"A1"}}`),
				chatChunk(`{"index":2,"delta":{"content":"C1"}}`),
				chatChunk(`{"index":0,"delta":{"content":"A2"},"finish_reason":"length"}`),
				chatChunk(`{"index":1,"delta":{"content":"B2"},"finish_reason":"stop"}`),
			},
			want: `{"choices":[
				{"message":{"role":"assistant","content":"A1A2"},"index":0,"finish_reason":"length"},
				{"message":{"role":"assistant","content":"B1B2"},"index":1,"finish_reason":"stop"},
				{"message":{"content":"C1"},"index":2}
			],` + chunkHead + `}`,
		},
		{
			name: "tool call: id, type and name once, arguments concatenated",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}`),
				chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}}`),
				chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"id":"","function":{"name":"","arguments":"ty\":\"Paris\"}"}}]}}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"tool_calls"}`),
			},
			want: `{"choices":[{"message":{"role":"assistant","tool_calls":[
				{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}
			]},"index":0,"finish_reason":"tool_calls"}],` + chunkHead + `}`,
		},
		{
			name: "parallel tool calls keyed by index",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"b","arguments":""}}]}}`),
				chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"a","arguments":"{\"x\""}}]}}`),
				chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}},{"index":0,"function":{"arguments":":1}"}}]}}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"tool_calls"}`),
			},
			want: `{"choices":[{"message":{"role":"assistant","tool_calls":[
				{"index":0,"id":"call_a","type":"function","function":{"name":"a","arguments":"{\"x\":1}"}},
				{"index":1,"id":"call_b","type":"function","function":{"name":"b","arguments":"{}"}}
			]},"index":0,"finish_reason":"tool_calls"}],` + chunkHead + `}`,
		},
		{
			name: "refusal concatenated",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":null,"refusal":""}}`),
				chatChunk(`{"index":0,"delta":{"refusal":"I can't"}}`),
				chatChunk(`{"index":0,"delta":{"refusal":" help."}}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
			},
			want: `{"choices":[{"message":{"role":"assistant","refusal":"I can't help."},"index":0,"finish_reason":"stop"}],` + chunkHead + `}`,
		},
		{
			name: "legacy function_call",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":null,"function_call":{"name":"f","arguments":""}}}`),
				chatChunk(`{"index":0,"delta":{"function_call":{"arguments":"{\"a\""}}}`),
				chatChunk(`{"index":0,"delta":{"function_call":{"arguments":":2}"}}}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"function_call"}`),
			},
			want: `{"choices":[{"message":{"role":"assistant","function_call":{"name":"f","arguments":"{\"a\":2}"}},"index":0,"finish_reason":"function_call"}],` + chunkHead + `}`,
		},
		{
			name: "finish_reason: null never overwrites",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"content":"x"},"finish_reason":null}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":null}`),
			},
			want: `{"choices":[{"message":{"content":"x"},"index":0,"finish_reason":"stop"}],` + chunkHead + `}`,
		},
		{
			name: "usage from the usage chunk",
			chunks: []string{
				`{"id":"c","choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}`,
				`{"id":"c","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}}`,
			},
			want: `{"choices":[{"message":{"content":"x"},"index":0}],"id":"c","usage":{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}}`,
		},
		{
			name: "usage: null after the usage chunk keeps it",
			chunks: []string{
				`{"choices":[],"usage":{"total_tokens":10}}`,
				`{"choices":[],"usage":null}`,
				`{"choices":[],"usage":"bogus"}`,
			},
			want: `{"choices":[],"usage":{"total_tokens":10}}`,
		},
		{
			name: "top-level scalars: last non-null value",
			chunks: []string{
				`{"id":"a","model":"m1","system_fingerprint":null,"service_tier":"default","choices":[]}`,
				`{"id":"a","model":"m2","system_fingerprint":"fp_1","choices":[]}`,
				`{"id":"a","model":null,"system_fingerprint":null,"created":5,"obfuscation":"x","choices":[]}`,
				`{"obfuscation":"y","extra":{"k":[1,2]},"choices":[]}`,
			},
			want: `{"choices":[],"id":"a","model":"m2","system_fingerprint":"fp_1","service_tier":"default","created":5,"obfuscation":"y","extra":{"k":[1,2]}}`,
		},
		{
			name: "legacy completion text",
			chunks: []string{
				`{"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":" +","index":0,"logprobs":null,"finish_reason":null}],"model":"babbage"}`,
				`{"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":" fib(n-3)\n","index":0,"logprobs":null,"finish_reason":null}],"model":"babbage"}`,
				`{"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}],"model":"babbage"}`,
			},
			want: `{"choices":[{"text":" + fib(n-3)\n","index":0,"finish_reason":"length"}],"id":"cmpl-1","object":"text_completion","created":1,"model":"babbage"}`,
		},
		{
			name: "legacy completion, several prompts",
			chunks: []string{
				`{"choices":[{"text":"a","index":1}]}`,
				`{"choices":[{"text":"b","index":0}]}`,
				`{"choices":[{"text":"c","index":1,"finish_reason":"stop"}]}`,
			},
			want: `{"choices":[{"text":"b","index":0},{"text":"ac","index":1,"finish_reason":"stop"}]}`,
		},
		{
			name: "bad chunks skipped",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"content":"a"}}`),
				`not json`,
				`{"choices":[{"index":0,"delta":{"content":"X"}}],"id":tru}`,
				`[1,2]`,
				chatChunk(`{"index":0,"delta":{"content":"b"}}`),
			},
			want: `{"choices":[{"message":{"content":"ab"},"index":0}],` + chunkHead + `}`,
		},
		{
			name: "error chunk is kept out of the response",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"content":"a"}}`),
				`{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}`,
			},
			want: `{"choices":[{"message":{"content":"a"},"index":0}],` + chunkHead + `}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a ChatAccumulator
			for _, c := range tt.chunks {
				_, _ = a.Add([]byte(c))
			}
			if got := a.Result(); !jsonEqual(t, got, []byte(tt.want)) {
				t.Errorf("Result() = %s; want %s", got, tt.want)
			}
		})
	}
}

func TestAccumulatorBadChunk(t *testing.T) {
	for _, chunk := range []string{
		``,
		`not json`,
		`data: {}`,
		`null`,
		`[]`,
		`"string"`,
		`42`,
		`{"id":tru}`,
		`{"id":"x"`,
		`{"a":[1,2}`,
		`{"choices":[{"delta":{"content":"a"}}],"x":{"y":}}`,
		`{"a":1}}`,
	} {
		t.Run(chunk, func(t *testing.T) {
			var a ChatAccumulator
			first, err := a.Add([]byte(chunk))
			if !errors.Is(err, ErrBadChunk) {
				t.Errorf("Add(%q) error = %v; want ErrBadChunk", chunk, err)
			}
			if first {
				t.Errorf("Add(%q) reported a first token", chunk)
			}
			if got := string(a.Result()); got != `{"choices":[]}` {
				t.Errorf("Result() = %s; want the empty response, the chunk skipped", got)
			}
		})
	}
	var a ChatAccumulator
	if _, err := a.Add([]byte(`{}`)); err != nil {
		t.Errorf("Add({}) error = %v; want nil", err)
	}
}

func TestAccumulatorErr(t *testing.T) {
	var a ChatAccumulator
	if got := a.Err(); got != "" {
		t.Errorf("Err() before any chunk = %q; want \"\"", got)
	}
	_, _ = a.Add([]byte(`{"error":null,"choices":[]}`))
	if got := a.Err(); got != "" {
		t.Errorf("Err() after \"error\":null = %q; want \"\"", got)
	}
	const e = `{"message":"The server had an error","type":"server_error","param":null,"code":null}`
	if _, err := a.Add([]byte(`{"error":` + e + `}`)); err != nil {
		t.Fatalf("Add(error chunk) error = %v; want nil", err)
	}
	if got := a.Err(); got != e {
		t.Errorf("Err() = %q; want %q", got, e)
	}
	_, _ = a.Add([]byte(`{"error":null}`))
	if got := a.Err(); got != e {
		t.Errorf("Err() after \"error\":null = %q; want it kept, %q", got, e)
	}
}

func TestAccumulatorUsage(t *testing.T) {
	var a ChatAccumulator
	_, _ = a.Add([]byte(`{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":null}`))
	if got := resultUsage(&a); got != "" {
		t.Errorf("usage before the usage chunk = %q; want \"\"", got)
	}
	const u = `{"prompt_tokens":8,"completion_tokens":2,"total_tokens":10}`
	_, _ = a.Add([]byte(`{"choices":[],"usage":` + u + `}`))
	if got := resultUsage(&a); got != u {
		t.Errorf("usage = %q; want %q", got, u)
	}
}

func TestAccumulatorFirstToken(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		first  int // index of the chunk that reports the first token; -1 for none
	}{
		{
			name: "role-only first chunk, then content",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":"","refusal":null}}`),
				chatChunk(`{"index":0,"delta":{"content":"Hi"}}`),
				chatChunk(`{"index":0,"delta":{"content":" there"}}`),
			},
			first: 1,
		},
		{
			name: "content in the first chunk",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":"Hi"}}`),
				chatChunk(`{"index":0,"delta":{"content":"!"}}`),
			},
			first: 0,
		},
		{
			name: "tool call",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":null}}`),
				chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}`),
				chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}`),
			},
			first: 1,
		},
		{
			name: "reasoning before any content (issue 21)",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":""}}`),
				chatChunk(`{"index":0,"delta":{"content":"","reasoning_content":"Let me think"}}`),
				chatChunk(`{"index":0,"delta":{"content":"Hi"}}`),
			},
			first: 1,
		},
		{
			name: "reasoning under OpenRouter's name",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Hm"}}`),
			},
			first: 0,
		},
		{
			name: "refusal",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","refusal":""}}`),
				chatChunk(`{"index":0,"delta":{"refusal":"No."}}`),
			},
			first: 1,
		},
		{
			name: "legacy function_call",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":null}}`),
				chatChunk(`{"index":0,"delta":{"function_call":{"name":"f","arguments":""}}}`),
			},
			first: 1,
		},
		{
			name: "completion text, the first one empty",
			chunks: []string{
				`{"choices":[{"text":"","index":0}]}`,
				`{"choices":[{"text":"a","index":0}]}`,
				`{"choices":[{"text":"b","index":0}]}`,
			},
			first: 1,
		},
		{
			name: "second choice first",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":""}},{"index":1,"delta":{"role":"assistant","content":""}}`),
				chatChunk(`{"index":1,"delta":{"content":"b"}}`),
				chatChunk(`{"index":0,"delta":{"content":"a"}}`),
			},
			first: 1,
		},
		{
			name: "bad chunk and usage chunk carry no token",
			chunks: []string{
				`not json`,
				`{"choices":[],"usage":{"total_tokens":1}}`,
				chatChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
				chatChunk(`{"index":0,"delta":{"content":"late"}}`),
			},
			first: 3,
		},
		{
			name: "no token at all",
			chunks: []string{
				chatChunk(`{"index":0,"delta":{"role":"assistant","content":""}}`),
				chatChunk(`{"index":0,"delta":{"content":null}}`),
				chatChunk(`{"index":0,"delta":{},"finish_reason":"stop"}`),
			},
			first: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a ChatAccumulator
			for i, c := range tt.chunks {
				first, _ := a.Add([]byte(c))
				if want := i == tt.first; first != want {
					t.Errorf("Add(chunk %d) first token = %v; want %v", i, first, want)
				}
			}
		})
	}
}

// streamChunks returns the data of a recorded stream's events, [DONE] left
// out.
func streamChunks(t testing.TB, in []byte) [][]byte {
	t.Helper()
	var chunks [][]byte
	var p Parser
	p.Feed(in, func(e Event) {
		if e.HasData && !isDone(e.Data) {
			chunks = append(chunks, bytes.Clone(e.Data))
		}
	})
	return chunks
}

// TestAccumulatorRecordedStreams accumulates real OpenAI streams and compares
// the result with the output.value that openinference-instrumentation-openai
// recorded for them.
func TestAccumulatorRecordedStreams(t *testing.T) {
	for _, name := range []string{"chat-streaming", "completion-streaming", "chat-streaming-web-search"} {
		t.Run(name, func(t *testing.T) {
			var a ChatAccumulator
			firsts := addAll(t, &a, streamChunks(t, readTestdata(t, name+".sse")))
			if firsts != 1 {
				t.Errorf("first token reported %d times; want once", firsts)
			}
			want := readTestdata(t, name+".output.json")
			if got := a.Result(); !jsonEqual(t, got, want) {
				t.Errorf("Result() = %s\nwant %s", got, want)
			}
		})
	}
}

func FuzzAccumulator(f *testing.F) {
	for _, name := range []string{"chat-streaming.sse", "completion-streaming.sse", "chat-streaming-web-search.sse", "chat-streaming-include-usage.sse"} {
		f.Add(bytes.Join(streamChunks(f, seedEvents(readTestdata(f, name))), []byte("\n")))
	}
	f.Add([]byte(chatChunk(`{"index":0,"delta":{"tool_calls":[{"index":3,"id":"c","function":{"name":"f","arguments":"{"}}]}}`) + "\n" +
		chatChunk(`{"index":-1,"delta":{"function_call":{"arguments":"x"},"refusal":"r"}}`) + "\n" +
		`{"error":{"message":"m"}}` + "\n" + `{"choices":[],"usage":{"total_tokens":1}}` + "\n{\"id\":tru}\n\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a ChatAccumulator
		fuzzAccumulator(t, &a, &ChatAccumulator{}, in)
		if u := resultUsage(&a); u != "" && !json.Valid([]byte(u)) {
			t.Errorf("usage = %q is not valid JSON", u)
		}
		// A map, not a struct: encoding/json matches struct fields without
		// regard to case, and a chunk may well have a "ChoICes" member.
		var res map[string]json.RawMessage
		var choices []json.RawMessage
		if err := json.Unmarshal(a.Result(), &res); err != nil || json.Unmarshal(res["choices"], &choices) != nil || choices == nil {
			t.Errorf("Result() = %q: want an object with a choices list (err %v)", a.Result(), err)
		}
		if !strings.HasPrefix(string(a.Result()), `{"choices":[`) {
			t.Errorf("Result() = %q; want choices first", a.Result())
		}
	})
}

// A chunk nested millions deep is skipped as bad, not walked: the
// validator would otherwise recurse once per level and kill the process.
func TestAccumulatorSkipsDeeplyNestedChunk(t *testing.T) {
	var a ChatAccumulator
	for _, chunk := range []string{
		strings.Repeat("[", 4_000_000),
		`{"choices":[{"index":0,"delta":{"content":` + strings.Repeat("[", 4_000_000) + `}}]}`,
	} {
		if _, err := a.Add([]byte(chunk)); err != ErrBadChunk {
			t.Errorf("Add(%.40q…) error = %v; want ErrBadChunk", chunk, err)
		}
	}
	if got := string(a.Result()); got != `{"choices":[]}` {
		t.Errorf("Result() = %q; want nothing accumulated", got)
	}
}
