package translate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
)

func TestBedrockToOpenAIChat(t *testing.T) {
	const head = `"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"us.amazon.nova-micro-v1:0"`
	usage := func(in, out, total, read, write int) string {
		b, _ := json.Marshal(map[string]any{"prompt_tokens": in + read + write, "completion_tokens": out, "total_tokens": total,
			"prompt_tokens_details":       map[string]int{"cached_tokens": read, "cache_creation_tokens": write, "text_tokens": in},
			"cache_creation_input_tokens": write, "cache_read_input_tokens": read})
		return string(b)
	}
	tests := []struct {
		name, in, want string
	}{
		{
			name: "text; end_turn is stop",
			in:   `{"metrics":{"latencyMs":268},"output":{"message":{"content":[{"text":"Hello"},{"text":" there"}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":7,"outputTokens":30,"totalTokens":37}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":` + usage(7, 30, 37, 0, 0) + `}`,
		},
		{
			name: "a tool call: its input as the arguments string; content is empty, as LiteLLM gives it",
			in: `{"output":{"message":{"content":[{"toolUse":{"input":{"sign":"Radio XYZ"},"name":"top_song","toolUseId":"tooluse_Z4"}}],"role":"assistant"}},` +
				`"stopReason":"tool_use","usage":{"inputTokens":90,"outputTokens":14,"serverToolUsage":{},"totalTokens":104}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[` +
				`{"id":"tooluse_Z4","type":"function","function":{"name":"top_song","arguments":"{\"sign\":\"Radio XYZ\"}"}}]},"finish_reason":"tool_calls"}],"usage":` + usage(90, 14, 104, 0, 0) + `}`,
		},
		{
			name: "cache reads and writes count in the prompt, and on their own",
			in:   `{"output":{"message":{"content":[{"text":"21"}],"role":"assistant"}},"stopReason":"end_turn","usage":{"cacheReadInputTokenCount":0,"cacheReadInputTokens":0,"cacheWriteInputTokenCount":1322,"cacheWriteInputTokens":1322,"inputTokens":2,"outputTokens":5,"totalTokens":1329}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"21"},"finish_reason":"stop"}],"usage":` + usage(2, 5, 1329, 0, 1322) + `}`,
		},
		{
			name: "reasoning: reasoning_content, thinking blocks with their signatures, Bedrock's blocks as they came",
			in: `{"output":{"message":{"content":[{"reasoningContent":{"reasoningText":{"signature":"Eu4","text":"Think."}}},{"reasoningContent":{"redactedContent":"UkVE"}},{"text":"Answer."}],"role":"assistant"}},` +
				`"stopReason":"max_tokens","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"Answer.","reasoning_content":"Think.",` +
				`"thinking_blocks":[{"type":"thinking","thinking":"Think.","signature":"Eu4"},{"type":"redacted_thinking","data":"UkVE"}],` +
				`"provider_specific_fields":{"reasoningContentBlocks":[{"reasoningText":{"signature":"Eu4","text":"Think."}},{"redactedContent":"UkVE"}]}},` +
				`"finish_reason":"length"}],"usage":` + usage(1, 2, 3, 0, 0) + `}`,
		},
		{
			name: "a text that opens with its reasoning in tags gives it as reasoning (LiteLLM's parse_content_for_reasoning)",
			in:   `{"output":{"message":{"content":[{"text":"<thinking> Use the tool. </thinking>\nDone."}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"\nDone.","reasoning_content":" Use the tool. ",` +
				`"thinking_blocks":[{"type":"thinking","thinking":" Use the tool. "}],"provider_specific_fields":{"reasoningContentBlocks":[{"reasoningText":{"text":" Use the tool. "}}]}},` +
				`"finish_reason":"stop"}],"usage":` + usage(1, 2, 3, 0, 0) + `}`,
		},
		{
			name: "the response format's tool is the content, and the finish a stop",
			in:   `{"output":{"message":{"content":[{"toolUse":{"input":{"name":"Ada"},"name":"json_tool_call","toolUseId":"t"}}],"role":"assistant"}},"stopReason":"tool_use","usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"{\"name\":\"Ada\"}"},"finish_reason":"stop"}],"usage":` + usage(1, 2, 3, 0, 0) + `}`,
		},
		{
			name: "a guardrail's intervention is content_filter, its trace kept; an unknown stop reason is stop",
			in:   `{"output":{"message":{"content":[{"text":"Sorry."}],"role":"assistant"}},"stopReason":"guardrail_intervened","trace":{"guardrail":{"actionReason":"x"}},"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"Sorry."},"finish_reason":"content_filter"}],"usage":` + usage(1, 2, 3, 0, 0) + `,"trace":{"guardrail":{"actionReason":"x"}}}`,
		},
		{
			name: "an unknown stop reason is stop; no usage is zeros",
			in:   `{"output":{"message":{"content":[{"text":"x"}],"role":"assistant"}},"stopReason":"something_new"}`,
			want: `{` + head + `,"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}],"usage":` + usage(0, 0, 0, 0, 0) + `}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BedrockToOpenAIChat([]byte(tt.in), "us.amazon.nova-micro-v1:0", "chatcmpl-1", 7)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if _, err := BedrockToOpenAIChat([]byte(strings.Repeat("[", 20000)), "m", "i", 1); err == nil {
		t.Errorf("an answer nested too deep: want an error")
	}
}

func TestBedrockErrorToOpenAI(t *testing.T) {
	for _, tt := range []struct {
		status     int
		body, want string
	}{
		{400, `{"message":"The provided model identifier is invalid."}`,
			`{"error":{"message":"The provided model identifier is invalid.","type":"invalid_request_error","param":null,"code":"400"}}`},
		{429, `{"Message":"Too many requests"}`, `{"error":{"message":"Too many requests","type":"rate_limit_error","param":null,"code":"429"}}`},
		{503, "upstream connect error\n", `{"error":{"message":"upstream connect error","type":"api_error","param":null,"code":"503"}}`},
	} {
		if got := BedrockErrorToOpenAI(tt.status, []byte(tt.body)); !jsonEqual(t, got, tt.want) {
			t.Errorf("BedrockErrorToOpenAI(%d, %s) = %s; want %s", tt.status, tt.body, got, tt.want)
		}
		got, err := OpenAIChatBedrock.Answer(tt.status, []byte(tt.body), "m")
		if err != nil || !jsonEqual(t, got, tt.want) {
			t.Errorf("Answer(%d) = %s, %v", tt.status, got, err)
		}
	}
}

// chunkDeltas is what a test reads of a translated stream: each chunk's
// data, with the id, created and model the test does not vary dropped.
func chunkDeltas(t *testing.T, chunks [][]byte) []string {
	t.Helper()
	var out []string
	for _, c := range chunks {
		if string(c) == "[DONE]" {
			out = append(out, "[DONE]")
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(c, &m); err != nil {
			t.Fatalf("chunk %q: %v", c, err)
		}
		if _, isErr := m["error"]; !isErr {
			if m["object"] != "chat.completion.chunk" || m["id"] != "chatcmpl-s" || m["model"] != "us.anthropic.claude-sonnet-4-20250514-v1:0" || m["created"] != 9.0 {
				t.Errorf("chunk %s: not a chat chunk of the call", c)
			}
			delete(m, "object")
			delete(m, "id")
			delete(m, "model")
			delete(m, "created")
		}
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	return out
}

func TestBedrockChatStream(t *testing.T) {
	start := `{"messageStart":{"p":"abcd","role":"assistant"}}`
	stop := func(r string) string { return `{"messageStop":{"p":"ab","stopReason":"` + r + `"}}` }
	meta := `{"metadata":{"metrics":{"latencyMs":924},"p":"x","usage":{"inputTokens":353,"outputTokens":38,"totalTokens":391,"cacheReadInputTokens":10}}}`
	const usage = `"usage":{"prompt_tokens":363,"completion_tokens":38,"total_tokens":391,"prompt_tokens_details":{"cached_tokens":10,"cache_creation_tokens":0,"text_tokens":353},"cache_creation_input_tokens":0,"cache_read_input_tokens":10}`
	tests := []struct {
		name         string
		includeUsage bool
		events       []string
		want         []string
		endUsage     bool // the span gets the usage at the end
	}{
		{
			name:   "text: the role first, deltas, the finish, [DONE]; no usage chunk unasked, the span gets it",
			events: []string{start, `{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hel"},"p":"a"}}`, `{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"lo"}}}`, `{"contentBlockStop":{"contentBlockIndex":0}}`, stop("end_turn"), meta},
			want: []string{
				`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"content":"Hel"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"content":"lo"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{},"finish_reason":"stop","index":0}]}`,
				`[DONE]`,
			},
			endUsage: true,
		},
		{
			name:         "tool calls: id and name, then the input's fragments, numbered across the stream; a call with no input gets {}; usage asked for",
			includeUsage: true,
			events: []string{start,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Checking."}}}`, `{"contentBlockStop":{"contentBlockIndex":0}}`,
				`{"contentBlockStart":{"contentBlockIndex":1,"start":{"toolUse":{"name":"top_song","toolUseId":"tooluse_p0"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"toolUse":{"input":""}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"sign\": \"W"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"toolUse":{"input":"ZPZ\"}"}}}}`,
				`{"contentBlockStop":{"contentBlockIndex":1}}`,
				`{"contentBlockStart":{"contentBlockIndex":2,"start":{"toolUse":{"name":"ping","toolUseId":"tooluse_q1"}}}}`,
				`{"contentBlockStop":{"contentBlockIndex":2}}`,
				stop("tool_use"), meta},
			want: []string{
				`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"content":"Checking."},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"","name":"top_song"},"id":"tooluse_p0","index":0,"type":"function"}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"sign\": \"W"},"index":0}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"ZPZ\"}"},"index":0}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"","name":"ping"},"id":"tooluse_q1","index":1,"type":"function"}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{}"},"index":1}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{},"finish_reason":"tool_calls","index":0}]}`,
				`{"choices":[],"usage":{"cache_creation_input_tokens":0,"cache_read_input_tokens":10,"completion_tokens":38,"prompt_tokens":363,` +
					`"prompt_tokens_details":{"cache_creation_tokens":0,"cached_tokens":10,"text_tokens":353},"total_tokens":391}}`,
				`[DONE]`,
			},
		},
		{
			name: "reasoning: text as reasoning_content and thinking blocks, the signature a block of its own; redacted reasoning",
			events: []string{start,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"The user"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"reasoningContent":{"signature":"Eu0"}}}}`,
				`{"contentBlockStop":{"contentBlockIndex":0}}`,
				`{"contentBlockStart":{"contentBlockIndex":1,"start":{"reasoningContent":{"redactedContent":"UkVE"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":2,"delta":{"text":"Hello!"}}}`,
				stop("end_turn"), meta},
			want: []string{
				`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"reasoning_content":"The user","thinking_blocks":[{"index":0,"thinking":"The user","type":"thinking"}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"reasoning_content":"","thinking_blocks":[{"index":0,"signature":"Eu0","thinking":"","type":"thinking"}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"reasoning_content":"","thinking_blocks":[{"data":"UkVE","index":1,"type":"redacted_thinking"}]},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"content":"Hello!"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{},"finish_reason":"stop","index":0}]}`,
				`[DONE]`,
			},
			endUsage: true,
		},
		{
			name: "the response format's tool streams as content, and finishes as a stop",
			events: []string{start,
				`{"contentBlockStart":{"contentBlockIndex":0,"start":{"toolUse":{"name":"json_tool_call","toolUseId":"t"}}}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":1}"}}}}`,
				`{"contentBlockStop":{"contentBlockIndex":0}}`, stop("tool_use"), meta},
			want: []string{
				`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"content":"{\"a\":1}"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{},"finish_reason":"stop","index":0}]}`,
				`[DONE]`,
			},
			endUsage: true,
		},
		{
			name:         "an exception mid-stream is an OpenAI error chunk with Bedrock's status, and the end",
			includeUsage: true,
			events: []string{start, `{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hi"}}}`,
				`{"throttlingException":{"message":"Too many tokens, please wait before trying again."}}`,
				`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"more"}}}`, meta},
			want: []string{
				`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`,
				`{"choices":[{"delta":{"content":"Hi"},"finish_reason":null,"index":0}]}`,
				`{"error":{"code":"429","message":"Too many tokens, please wait before trying again.","param":null,"type":"rate_limit_error"}}`,
			},
		},
		{
			name:   "a model stream error is a 424; an error message a 500",
			events: []string{`{"modelStreamErrorException":{"message":"boom","originalStatusCode":500}}`},
			want:   []string{`{"error":{"code":"424","message":"boom","param":null,"type":"invalid_request_error"}}`},
		},
		{
			name:   "an error message (no payload, its code in headers) is a 500",
			events: []string{start, `{"error":{"code":"InternalFailure","message":"oops"}}`},
			want: []string{`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`,
				`{"error":{"code":"500","message":"oops","param":null,"type":"api_error"}}`},
		},
		{
			name:   "events of no meaning to the client, and data that is no JSON, give nothing",
			events: []string{`{"somethingNew":{}}`, `not json`, `{}`, start, `{"contentBlockStop":{"contentBlockIndex":0}}`},
			want:   []string{`{"choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}]}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &BedrockChatStream{IncludeUsage: tt.includeUsage, Created: 9, ID: "chatcmpl-s", Model: "us.anthropic.claude-sonnet-4-20250514-v1:0"}
			var chunks [][]byte
			for _, ev := range tt.events {
				chunks = append(chunks, s.Event([]byte(ev))...)
			}
			got := chunkDeltas(t, chunks)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			end := s.EndUsage()
			if tt.endUsage != (end != nil) || end != nil && !strings.Contains(string(end), usage) {
				t.Errorf("EndUsage() = %s; want the usage %v", end, tt.endUsage)
			}
		})
	}
}

// relayBedrock runs a ConverseStream body through the translation as the
// relay does, cut into reads of n bytes: the client's bytes, and what the
// accumulator was given.
func relayBedrock(body []byte, n int, includeUsage bool) (out []byte, added [][]byte, st Stream) {
	st = OpenAIChatBedrock.Stream(&openai.Request{Stream: true, IncludeUsage: includeUsage}, "us.amazon.nova-micro-v1:0")
	framer := stream.EventStream.New(0)
	add := func(d []byte) { added = append(added, append([]byte(nil), d...)) }
	for len(body) > 0 {
		k := min(n, len(body))
		framer.Feed(body[:k], func(ev stream.Event) { out = st.Rewrite(out, ev, add) })
		body = body[k:]
	}
	st.End(add)
	return out, added, st
}

// TestBedrockStreamFraming: event-stream messages, however the reads cut
// them, reach the client as SSE chat chunks; a message whose checksum
// fails ends the client's stream with an error chunk, and nothing after
// it is translated; a message of no use (no event type) is passed over.
func TestBedrockStreamFraming(t *testing.T) {
	var body []byte
	for _, m := range [][3]string{
		{"event", "messageStart", `{"role":"assistant"}`},
		{"event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hi"}}`},
		{"event", "messageStop", `{"stopReason":"end_turn"}`},
		{"event", "metadata", `{"usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}}`},
	} {
		body = append(body, esMessage(t, m[0], m[1], []byte(m[2]))...)
	}
	for _, n := range []int{1, 7, 1 << 20} {
		out, added, st := relayBedrock(body, n, false)
		if st.ContentType() != "text/event-stream; charset=utf-8" {
			t.Errorf("content type %q", st.ContentType())
		}
		if !strings.HasPrefix(string(out), `data: {"id":"chatcmpl-`) || !strings.Contains(string(out), `"content":"Hi"`) ||
			!strings.HasSuffix(string(out), "data: [DONE]\n\n") || strings.Contains(string(out), `"usage"`) {
			t.Errorf("reads of %d: client got %s", n, out)
		}
		if last := string(added[len(added)-1]); !strings.Contains(last, `"prompt_tokens":3`) {
			t.Errorf("reads of %d: the span's last chunk %s; want the usage", n, last)
		}
	}

	msgs := [][]byte{esMessage(t, "event", "messageStart", []byte(`{"role":"assistant"}`)),
		esMessage(t, "event", "contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"Hi"}}`)),
		esMessage(t, "event", "contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"lost"}}`)),
		esMessage(t, "event", "contentBlockDelta", []byte(`{"contentBlockIndex":0,"delta":{"text":"after"}}`)),
		esMessage(t, "event", "messageStop", []byte(`{"stopReason":"end_turn"}`))}
	msgs[2][len(msgs[2])-6] ^= 0x20 // a payload byte: the message CRC fails
	out, _, _ := relayBedrock(bytes.Join(msgs, nil), 5, true)
	if !strings.Contains(string(out), `"content":"Hi"`) || !strings.Contains(string(out), `"code":"502"`) ||
		strings.Contains(string(out), "after") || strings.Contains(string(out), "[DONE]") || strings.Contains(string(out), "finish_reason\":\"stop") {
		t.Errorf("corrupt message: client got %s", out)
	}

	// A message with no event type checks out: passed over, not corrupt.
	var buf bytes.Buffer
	_ = eventstream.NewEncoder().Encode(&buf, eventstream.Message{Payload: []byte(`{}`)})
	out, _, _ = relayBedrock(append(buf.Bytes(), body...), 3, false)
	if strings.Contains(string(out), `"error"`) || !strings.HasSuffix(string(out), "data: [DONE]\n\n") {
		t.Errorf("a message of no use: client got %s", out)
	}
}

func FuzzBedrockChatStream(f *testing.F) {
	var seed []byte
	for _, m := range [][3]string{
		{"event", "messageStart", `{"role":"assistant"}`},
		{"event", "contentBlockStart", `{"contentBlockIndex":0,"start":{"toolUse":{"name":"f","toolUseId":"t"}}}`},
		{"event", "contentBlockDelta", `{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{}"}}}`},
		{"event", "contentBlockDelta", `{"contentBlockIndex":1,"delta":{"reasoningContent":{"text":"r"}}}`},
		{"exception", "throttlingException", `{"message":"slow down"}`},
		{"event", "messageStop", `{"stopReason":"tool_use"}`},
		{"event", "metadata", `{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`},
	} {
		seed = append(seed, esMessage(f, m[0], m[1], []byte(m[2]))...)
	}
	f.Add(seed, uint8(5), true)
	f.Fuzz(func(t *testing.T, body []byte, n uint8, includeUsage bool) {
		out, added, _ := relayBedrock(body, int(n)+1, includeUsage)
		done, ended, roles := false, false, 0
		var p stream.Parser
		p.Feed(out, func(ev stream.Event) {
			if done || ended {
				t.Fatalf("an event after the end: %s", ev.Data)
			}
			if string(ev.Data) == "[DONE]" {
				done = true
				return
			}
			var m map[string]any
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				t.Fatalf("chunk %q: not JSON", ev.Data)
			}
			if _, isErr := m["error"]; isErr {
				ended = true
			}
			if strings.Contains(string(ev.Data), `"role":"assistant"`) {
				roles++
			}
		})
		if p.InEvent() {
			t.Fatalf("the client's stream ends inside an event: %q", out)
		}
		if roles > 1 {
			t.Fatalf("%d role deltas", roles)
		}
		for _, a := range added {
			if string(a) != "[DONE]" && !json.Valid(a) {
				t.Fatalf("the accumulator got %q", a)
			}
		}
	})
}
