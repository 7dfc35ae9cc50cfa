package translate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
)

// counter makes the ids Gemini does not give: "n1", "n2", …
func counter() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("n%d", n)
	}
}

func TestGeminiToOpenAIChat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "text parts joined; id, model, usage",
			in: `{"candidates":[{"content":{"parts":[{"text":"Hello "},{"text":""},{"text":"there."}],"role":"model"},"finishReason":"STOP","avgLogprobs":-0.1}],` +
				`"usageMetadata":{"promptTokenCount":13,"candidatesTokenCount":8,"totalTokenCount":21},"modelVersion":"gemini-2.0-flash","responseId":"resp-1"}`,
			want: `{"id":"resp-1","object":"chat.completion","created":7,"model":"gemini-2.0-flash","choices":[{"index":0,` +
				`"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":13,"completion_tokens":8,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
		{
			name: "function calls as tool calls: generated ids, Gemini's own, a thought signature in the id",
			in: `{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"location":"Boston"}},"thoughtSignature":"c2ln"},` +
				`{"functionCall":{"id":"fc-2","name":"get_weather","args":{"location":"New Delhi"}}},{"functionCall":{"name":"now"}}],"role":"model"},"finishReason":"STOP"}],` +
				`"usageMetadata":{"promptTokenCount":64,"candidatesTokenCount":11,"totalTokenCount":75},"modelVersion":"gemini-2.0-flash","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"gemini-2.0-flash","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[` +
				`{"id":"call_n1__thought__c2ln","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Boston\"}"}},` +
				`{"id":"fc-2","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"New Delhi\"}"}},` +
				`{"id":"call_n2","type":"function","function":{"name":"now","arguments":"{}"}}]},"finish_reason":"tool_calls"}],` +
				`"usage":{"prompt_tokens":64,"completion_tokens":11,"total_tokens":75,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
		{
			name: "thoughts as reasoning_content and thinking blocks; thought tokens counted in the completion",
			in: `{"candidates":[{"content":{"parts":[{"text":"Let me think.","thought":true},{"text":"Paris.","thoughtSignature":"sig"}],"role":"model"},"finishReason":"STOP","index":0}],` +
				`"usageMetadata":{"promptTokenCount":29,"candidatesTokenCount":736,"thoughtsTokenCount":1001,"totalTokenCount":1766,"cachedContentTokenCount":20},` +
				`"modelVersion":"gemini-3-pro-preview","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"gemini-3-pro-preview","choices":[{"index":0,"message":{"role":"assistant","content":"Paris.",` +
				`"reasoning_content":"Let me think.","thinking_blocks":[{"type":"thinking","thinking":"Let me think."}]},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":29,"completion_tokens":1737,"total_tokens":1766,"prompt_tokens_details":{"cached_tokens":20},"completion_tokens_details":{"reasoning_tokens":1001}}}`,
		},
		{
			name: "a candidates count that holds the thoughts already; MAX_TOKENS is length",
			in: `{"candidates":[{"content":{"parts":[{"text":"Par"}],"role":"model"},"finishReason":"MAX_TOKENS"}],` +
				`"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":10,"thoughtsTokenCount":8,"totalTokenCount":15},"modelVersion":"gemini-2.5-flash","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","content":"Par"},"finish_reason":"length"}],` +
				`"usage":{"prompt_tokens":5,"completion_tokens":10,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":8}}}`,
		},
		{
			name: "candidates by index; one without content is still a choice, one without a finish too is none; no responseId",
			in: `{"candidates":[{"content":{"parts":[{"text":"A"}],"role":"model"},"finishReason":"STOP","index":0},{"finishReason":"MAX_TOKENS","index":1},{"index":2}],` +
				`"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1},"modelVersion":"gemini-2.5-flash"}`,
			want: `{"id":"chatcmpl-n1","object":"chat.completion","created":7,"model":"gemini-2.5-flash","choices":[` +
				`{"index":0,"message":{"role":"assistant","content":"A"},"finish_reason":"stop"},{"index":1,"message":{"role":"assistant","content":null},"finish_reason":"length"}],` +
				`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
		{
			name: "the model is Google's name, less its version; a search's tool prompt is not billed",
			in: `{"candidates":[{"content":{"parts":[{"text":"Sunny."}],"role":"model"},"finishReason":"STOP","groundingMetadata":{"webSearchQueries":["weather"]}}],` +
				`"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":2,"toolUsePromptTokenCount":100,"totalTokenCount":107},"modelVersion":"gemini-2.5-pro@001","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"gemini-2.5-pro","choices":[{"index":0,"message":{"role":"assistant","content":"Sunny."},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":107,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
		{
			name: "a blocked prompt is one content_filter choice",
			in:   `{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4},"modelVersion":"gemini-2.5-flash","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}],` +
				`"usage":{"prompt_tokens":4,"completion_tokens":0,"total_tokens":4,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
		{
			name: "an answer flagged for safety has no content",
			in: `{"candidates":[{"content":{"parts":[{"text":"partial"}],"role":"model"},"finishReason":"RECITATION"}],` +
				`"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"totalTokenCount":6},"modelVersion":"gemini-2.5-flash","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"gemini-2.5-flash","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}],` +
				`"usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
		{
			name: "logprobs",
			in: `{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","logprobsResult":{` +
				`"topCandidates":[{"candidates":[{"token":"Hi","logProbability":-0.1},{"token":"Hey","logProbability":-2.5}]}],` +
				`"chosenCandidates":[{"token":"Hi","logProbability":-0.1}]}}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2},"modelVersion":"m","responseId":"r"}`,
			want: `{"id":"r","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},` +
				`"logprobs":{"content":[{"token":"Hi","logprob":-0.1,"top_logprobs":[{"token":"Hi","logprob":-0.1},{"token":"Hey","logprob":-2.5}]}]},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := GeminiToOpenAIChat([]byte(tt.in), 7, counter())
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`[{"candidates":[]}]`, `not json`, `"text"`} {
		if got, err := GeminiToOpenAIChat([]byte(bad), 7, nil); err == nil {
			t.Errorf("GeminiToOpenAIChat(%s) = %s; want an error", bad, got)
		}
	}
	// Generated ids are call_ and 28 hex digits, as LiteLLM's.
	got, _ := GeminiToOpenAIChat([]byte(`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]},"finishReason":"STOP"}]}`), 7, nil)
	if id := gjson.GetBytes(got, "choices.0.message.tool_calls.0.id").Str; len(id) != len("call_")+28 || !strings.HasPrefix(id, "call_") {
		t.Errorf("generated id %q", id)
	}
}

func TestGeminiFinishReason(t *testing.T) {
	for _, tt := range []struct {
		reason string
		tools  bool
		want   string
	}{
		{"STOP", false, "stop"}, {"STOP", true, "tool_calls"}, {"MAX_TOKENS", false, "length"}, {"MAX_TOKENS", true, "tool_calls"},
		{"SAFETY", false, "content_filter"}, {"RECITATION", false, "content_filter"}, {"BLOCKLIST", false, "content_filter"},
		{"PROHIBITED_CONTENT", false, "content_filter"}, {"SPII", false, "content_filter"}, {"LANGUAGE", false, "content_filter"},
		{"OTHER", false, "content_filter"}, {"IMAGE_SAFETY", false, "content_filter"}, {"MALFORMED_FUNCTION_CALL", false, "stop"},
		{"CONTINUATION", false, "length"}, {"MISSING_THOUGHT_SIGNATURE", false, "stop"},
		{"FINISH_REASON_UNSPECIFIED", false, "stop"}, {"TOO_MANY_TOOL_CALLS", false, "stop"}, {"", false, "stop"}, {"NEW_REASON", false, "stop"},
	} {
		if got := GeminiFinishReason(tt.reason, tt.tools); got != tt.want {
			t.Errorf("GeminiFinishReason(%q, %v) = %q; want %q", tt.reason, tt.tools, got, tt.want)
		}
	}
}

func TestGeminiUsage(t *testing.T) {
	for _, tt := range []struct {
		in       string
		grounded bool
		want     string
	}{
		{`{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15}`, false,
			`{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}}`},
		{`{"promptTokenCount":10,"candidatesTokenCount":5,"thoughtsTokenCount":7,"totalTokenCount":22,"cachedContentTokenCount":4}`, false,
			`{"prompt_tokens":10,"completion_tokens":12,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":7}}`},
		{`{"promptTokenCount":10,"candidatesTokenCount":12,"thoughtsTokenCount":7,"totalTokenCount":22}`, false,
			`{"prompt_tokens":10,"completion_tokens":12,"total_tokens":22,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":7}}`},
		{`{"promptTokenCount":10,"candidatesTokenCount":5,"toolUsePromptTokenCount":3,"totalTokenCount":18}`, false,
			`{"prompt_tokens":13,"completion_tokens":5,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":0}}`},
		{`{"promptTokenCount":10,"candidatesTokenCount":5,"toolUsePromptTokenCount":3,"thoughtsTokenCount":2,"totalTokenCount":20}`, true,
			`{"prompt_tokens":10,"completion_tokens":7,"total_tokens":20,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":2}}`},
		{`{"promptTokenCount":10}`, false, `{"prompt_tokens":10,"completion_tokens":0,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":0}}`},
	} {
		got, _ := json.Marshal(GeminiUsage(gjson.Parse(tt.in), tt.grounded))
		if !jsonEqual(t, got, tt.want) {
			t.Errorf("GeminiUsage(%s, %v) = %s; want %s", tt.in, tt.grounded, got, tt.want)
		}
	}
	for _, tt := range []struct {
		candidates string
		want       bool
	}{
		{`[{"groundingMetadata":{"webSearchQueries":["weather in Paris"]}}]`, true},
		{`[{"groundingMetadata":{"webSearchQueries":[""],"groundingChunks":[{"web":{"uri":"u"}}]}}]`, false},
		{`[{"groundingMetadata":{"groundingChunks":[{"maps":{"uri":"u"}}]}}]`, true},
		{`[{"groundingMetadata":[{"googleMapsWidgetContextToken":"t"}]}]`, true},
		{`[{"content":{}}]`, false},
	} {
		if got := searchGrounded(gjson.Parse(tt.candidates)); got != tt.want {
			t.Errorf("searchGrounded(%s) = %v; want %v", tt.candidates, got, tt.want)
		}
	}
}

func TestGeminiErrorToOpenAI(t *testing.T) {
	for _, tt := range []struct {
		status   int
		in, want string
	}{
		{404, `{"error":{"code":404,"message":"models/gemini-3.6-flahs is not found","status":"NOT_FOUND"}}`,
			`{"error":{"message":"models/gemini-3.6-flahs is not found","type":"not_found_error","param":null,"code":"404"}}`},
		{429, `[{"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}}]`,
			`{"error":{"message":"Resource exhausted.","type":"rate_limit_error","param":null,"code":"429"}}`},
		{400, `{"error":{"code":400,"message":"Bad.","status":"INVALID_ARGUMENT"}}`,
			`{"error":{"message":"Bad.","type":"invalid_request_error","param":null,"code":"400"}}`},
		{503, `<html>Unavailable</html>`, `{"error":{"message":"<html>Unavailable</html>","type":"api_error","param":null,"code":"503"}}`},
	} {
		if got := GeminiErrorToOpenAI(tt.status, []byte(tt.in)); !jsonEqual(t, got, tt.want) {
			t.Errorf("GeminiErrorToOpenAI(%d, %s) = %s; want %s", tt.status, tt.in, got, tt.want)
		}
	}
}

// streamCase is a Gemini stream, chunk by chunk, and the chat chunks each
// gives ("[DONE]" as such).
type streamCase struct {
	name         string
	includeUsage bool
	chunks       []string
	want         [][]string
}

func TestGeminiChatStream(t *testing.T) {
	const head = `"id":"r1","object":"chat.completion.chunk","created":9,"model":"gemini-2.5-flash"`
	usage := `{` + head + `,"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":35,"total_tokens":45,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":5}}}`
	tests := []streamCase{
		{
			name: "thoughts, text, a tool call, then the finish in a chunk of its own; usage asked for", includeUsage: true,
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"text":"Hmm","thought":true}],"role":"model"}}],"usageMetadata":{"promptTokenCount":10},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":"Checking"}],"role":"model"}}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"}}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"s"}],"role":"model"}}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason":"STOP"}],` +
					`"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":30,"thoughtsTokenCount":5,"totalTokenCount":45,"cachedContentTokenCount":2},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
			},
			want: [][]string{
				{`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Hmm"},"finish_reason":null}]}`},
				{`{` + head + `,"choices":[{"index":0,"delta":{"content":"Checking"},"finish_reason":null}]}`},
				nil,
				{`{` + head + `,"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_n1__thought__s","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}`},
				{`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`, usage, `[DONE]`},
			},
		},
		{
			name: "text and finish in one chunk; no usage asked for",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"MAX_TOKENS"}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":"late"}]}}]}`,
			},
			want: [][]string{
				{`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`,
					`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`, `[DONE]`},
				nil,
			},
		},
		{
			name: "a call, then the length: the length stays; a later responseId does not change the stream's",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{}}}]}}],"modelVersion":"gemini-2.5-flash@002","responseId":"r1"}`,
				`{"candidates":[{"finishReason":"MAX_TOKENS"}],"modelVersion":"gemini-2.5-flash","responseId":"r2"}`,
			},
			want: [][]string{
				{`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_n1","type":"function","function":{"name":"a","arguments":"{}"}}]},"finish_reason":null}]}`},
				{`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`, `[DONE]`},
			},
		},
		{
			name: "parallel calls in one chunk are numbered",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"a","args":{}}},{"functionCall":{"name":"b","args":{"x":1}}}],"role":"model"},"finishReason":"STOP"}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
			},
			want: [][]string{{
				`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_n1","type":"function","function":{"name":"a","arguments":"{}"}},` +
					`{"index":1,"id":"call_n2","type":"function","function":{"name":"b","arguments":"{\"x\":1}"}}]},"finish_reason":null}]}`,
				`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`, `[DONE]`,
			}},
		},
		{
			name: "two candidates: the end when both have finished",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"text":"A"}]},"index":0},{"content":{"parts":[{"text":"B"}]},"index":1}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"content":{"parts":[{"text":"!"}]},"index":0,"finishReason":"STOP"}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"candidates":[{"finishReason":"SAFETY","index":1}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
			},
			want: [][]string{
				{`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"A"},"finish_reason":null}]}`,
					`{` + head + `,"choices":[{"index":1,"delta":{"role":"assistant","content":"B"},"finish_reason":null}]}`},
				{`{` + head + `,"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":null}]}`,
					`{` + head + `,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`},
				{`{` + head + `,"choices":[{"index":1,"delta":{},"finish_reason":"content_filter"}]}`, `[DONE]`},
			},
		},
		{
			name: "a blocked prompt", includeUsage: true,
			chunks: []string{`{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":10,"totalTokenCount":10},"modelVersion":"gemini-2.5-flash","responseId":"r1"}`},
			want: [][]string{{
				`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":"content_filter"}]}`,
				`{` + head + `,"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":0,"total_tokens":10,"prompt_tokens_details":{"cached_tokens":0}}}`, `[DONE]`,
			}},
		},
		{
			name: "an error mid-stream is an OpenAI error chunk, and the end",
			chunks: []string{
				`{"candidates":[{"content":{"parts":[{"text":"Hi"}]}}],"modelVersion":"gemini-2.5-flash","responseId":"r1"}`,
				`{"error":{"code":429,"message":"Resource exhausted.","status":"RESOURCE_EXHAUSTED"}}`,
				`{"candidates":[{"content":{"parts":[{"text":"more"}]},"finishReason":"STOP"}]}`,
			},
			want: [][]string{
				{`{` + head + `,"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}`},
				{`{"error":{"message":"Resource exhausted.","type":"rate_limit_error","param":null,"code":"429"}}`},
				nil,
			},
		},
		{
			name:   "what is not a chunk says nothing",
			chunks: []string{`not json`, `[1]`, `{}`},
			want:   [][]string{nil, nil, nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &GeminiChatStream{IncludeUsage: tt.includeUsage, Created: 9, NewID: counter()}
			for i, c := range tt.chunks {
				got := s.Event([]byte(c))
				if len(got) != len(tt.want[i]) {
					t.Fatalf("chunk %d (%s): %d chat chunks %q; want %d", i, c, len(got), got, len(tt.want[i]))
				}
				for j := range got {
					if tt.want[i][j] == "[DONE]" {
						if string(got[j]) != "[DONE]" {
							t.Errorf("chunk %d: got %s; want [DONE]", i, got[j])
						}
						continue
					}
					if !jsonEqual(t, got[j], tt.want[i][j]) {
						t.Errorf("chunk %d chat chunk %d:\n got  %s\n want %s", i, j, got[j], tt.want[i][j])
					}
				}
			}
		})
	}
}

// TestGeminiStreamUsageForTheSpan: without include_usage the client gets
// no usage chunk, and End gives the span the stream's.
func TestGeminiStreamUsageForTheSpan(t *testing.T) {
	st := OpenAIChatGemini.Stream(&openAIRequest, "gemini-2.5-flash")
	var added [][]byte
	out := st.Rewrite(nil, sseEvent(`{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}],`+
		`"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4},"modelVersion":"gemini-2.5-flash","responseId":"r"}`),
		func(d []byte) { added = append(added, d) })
	if strings.Contains(string(out), `"usage"`) || !strings.HasSuffix(string(out), "data: [DONE]\n\n") || len(added) != 3 {
		t.Errorf("client got %q; accumulator %q", out, added)
	}
	var end []byte
	st.End(func(d []byte) { end = d })
	if u := gjson.GetBytes(end, "usage"); u.Get("prompt_tokens").Int() != 3 || u.Get("completion_tokens").Int() != 1 || u.Get("total_tokens").Int() != 4 {
		t.Errorf("End gave %s", end)
	}
	if st.ContentType() != "text/event-stream; charset=utf-8" || st.Bounded() || st.Rest([]byte("data: {")) != nil {
		t.Error("stream framing")
	}
}

// openAIRequest is a streamed call that asked for no usage.
var openAIRequest = openai.Request{Model: "vertex_ai/gemini-2.5-flash", Stream: true}

// sseEvent is one SSE event of data, as Google frames it.
func sseEvent(data string) stream.Event {
	return stream.Event{Data: []byte(data), Raw: []byte("data: " + data + "\r\n\r\n"), HasData: true}
}

func FuzzGeminiChatStream(f *testing.F) {
	f.Add([]byte(`{"candidates":[{"content":{"parts":[{"text":"a","thought":true},{"text":"b"}]},"index":0}],"usageMetadata":{"promptTokenCount":1},"responseId":"r"}` + "\n" +
		`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"x":1}},"thoughtSignature":"s"}]}}]}` + "\n" +
		`{"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"thoughtsTokenCount":3,"totalTokenCount":6}}` + "\n" +
		`{"error":{"code":500,"message":"x"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &GeminiChatStream{IncludeUsage: true}
		done := false
		for _, line := range strings.Split(string(in), "\n") {
			for _, c := range s.Event([]byte(line)) {
				if done {
					t.Fatalf("a chunk after [DONE]: %s", c)
				}
				if string(c) == "[DONE]" {
					done = true
					continue
				}
				if !json.Valid(c) {
					t.Fatalf("Event(%q) gave %q: not JSON", line, c)
				}
			}
		}
		if !json.Valid(s.UsageChunk()) {
			t.Fatalf("usage chunk %q", s.UsageChunk())
		}
	})
}
