package translate

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestToOpenAIChat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "text, cache-aware usage",
			in: `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there."}],` +
				`"stop_reason":"end_turn","usage":{"input_tokens":3,"cache_read_input_tokens":100,"cache_creation_input_tokens":20,"output_tokens":5}}`,
			want: `{"id":"msg_1","object":"chat.completion","created":7,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,` +
				`"message":{"role":"assistant","content":"Hello there."},"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":123,"completion_tokens":5,"total_tokens":128,"prompt_tokens_details":{"cached_tokens":100},` +
				`"cache_creation_input_tokens":20,"cache_read_input_tokens":100}}`,
		},
		{
			name: "tool use only: no content, arguments as a JSON string",
			in: `{"id":"msg_2","model":"claude","role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},` +
				`{"type":"tool_use","id":"toolu_2","name":"now","input":{}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":20}}`,
			want: `{"id":"msg_2","object":"chat.completion","created":7,"model":"claude","choices":[{"index":0,"message":{"role":"assistant","content":null,` +
				`"tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
				`{"id":"toolu_2","type":"function","function":{"name":"now","arguments":"{}"}}]},"finish_reason":"tool_calls"}],` +
				`"usage":{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":0},"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`,
		},
		{
			name: "thinking as reasoning_content; max_tokens is length",
			in: `{"id":"msg_3","model":"claude","role":"assistant","content":[{"type":"thinking","thinking":"Hmm.","signature":"sig"},{"type":"text","text":"4"}],` +
				`"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":2}}`,
			want: `{"id":"msg_3","object":"chat.completion","created":7,"model":"claude","choices":[{"index":0,"message":{"role":"assistant","content":"4",` +
				`"reasoning_content":"Hmm.","thinking_blocks":[{"type":"thinking","thinking":"Hmm.","signature":"sig"}]},"finish_reason":"length"}],` +
				`"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0},"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`,
		},
		{
			name: "the response format's tool is the answer",
			in: `{"id":"msg_4","model":"claude","role":"assistant","content":[{"type":"tool_use","id":"t","name":"json_tool_call","input":{"name":"Ada"}}],` +
				`"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":2}}`,
			want: `{"id":"msg_4","object":"chat.completion","created":7,"model":"claude","choices":[{"index":0,"message":{"role":"assistant","content":"{\"name\":\"Ada\"}"},` +
				`"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":0},"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AnthropicToOpenAIChat([]byte(tt.in), 7)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFinishReason(t *testing.T) {
	for stop, want := range map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
		"tool_use": "tool_calls", "refusal": "content_filter", "pause_turn": "stop", "new_reason": "new_reason"} {
		if got := AnthropicFinishReason(stop); got != want {
			t.Errorf("AnthropicFinishReason(%q) = %q; want %q", stop, got, want)
		}
	}
}

func TestErrorToOpenAI(t *testing.T) {
	got := AnthropicErrorToOpenAI(429, []byte(`{"type":"error","error":{"type":"rate_limit_error","message":"Slow down"}}`))
	if !jsonEqual(t, got, `{"error":{"message":"Slow down","type":"rate_limit_error","param":null,"code":"429"}}`) {
		t.Errorf("got %s", got)
	}
	got = AnthropicErrorToOpenAI(502, []byte(`<html>Bad gateway</html>`))
	if !jsonEqual(t, got, `{"error":{"message":"<html>Bad gateway</html>","type":"api_error","param":null,"code":"502"}}`) {
		t.Errorf("got %s", got)
	}
}

// TestChatStream translates a stream with text, thinking, two tool calls
// and the usage, event by event.
func TestChatStream(t *testing.T) {
	events := []string{
		`{"type":"message_start","message":{"id":"msg_1","model":"claude","role":"assistant","content":[],"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}`,
		`{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}}`,
		`{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"s"}}`,
		`{"type":"content_block_stop","index":0}`,
		`{"type":"ping"}`,
		`{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`,
		`{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Checking"}}`,
		`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}`,
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Paris\"}"}}`,
		`{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_2","name":"now","input":{}}}`,
		`{"type":"content_block_stop","index":3}`,
		`{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":30}}`,
		`{"type":"message_stop"}`,
	}
	want := [][]string{
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`},
		nil,
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"reasoning_content":"Hmm"},"finish_reason":null}]}`},
		nil, nil, nil, nil,
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"content":"Checking"},"finish_reason":null}]}`},
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}`},
		nil,
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":null}]}`},
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"toolu_2","type":"function","function":{"name":"now","arguments":""}}]},"finish_reason":null}]}`},
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]},"finish_reason":null}]}`},
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`},
		{`{"id":"msg_1","object":"chat.completion.chunk","created":9,"model":"claude","choices":[],"usage":{"prompt_tokens":15,"completion_tokens":30,"total_tokens":45,"prompt_tokens_details":{"cached_tokens":5},"cache_creation_input_tokens":0,"cache_read_input_tokens":5}}`, `[DONE]`},
	}
	s := &AnthropicChatStream{IncludeUsage: true, Created: 9}
	for i, ev := range events {
		got := s.Event([]byte(ev))
		if len(got) != len(want[i]) {
			t.Fatalf("event %d (%s): %d chunks %q; want %d", i, ev, len(got), got, len(want[i]))
		}
		for j := range got {
			if want[i][j] == "[DONE]" {
				if string(got[j]) != "[DONE]" {
					t.Errorf("event %d: got %s; want [DONE]", i, got[j])
				}
				continue
			}
			if !jsonEqual(t, got[j], want[i][j]) {
				t.Errorf("event %d chunk %d:\n got  %s\n want %s", i, j, got[j], want[i][j])
			}
		}
	}
	// Without include_usage, no usage chunk.
	s = &AnthropicChatStream{Created: 9}
	for _, ev := range events[:len(events)-1] {
		s.Event([]byte(ev))
	}
	if got := s.Event([]byte(events[len(events)-1])); len(got) != 1 || string(got[0]) != "[DONE]" {
		t.Errorf("message_stop without include_usage: %q", got)
	}
	// An error event is an OpenAI error chunk.
	s = &AnthropicChatStream{}
	if got := s.Event([]byte(`{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)); len(got) != 1 ||
		!strings.Contains(string(got[0]), `"error":{`) || !strings.Contains(string(got[0]), `"code":"529"`) {
		t.Errorf("error event: %q", got)
	}
}

func FuzzChatStream(f *testing.F) {
	f.Add([]byte(`{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}}` + "\n" +
		`{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}` + "\n" +
		`{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a"}}` + "\n" +
		`{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}` + "\n" + `{"type":"message_stop"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &AnthropicChatStream{IncludeUsage: true}
		for _, line := range strings.Split(string(in), "\n") {
			for _, c := range s.Event([]byte(line)) {
				if string(c) != "[DONE]" && !json.Valid(c) {
					t.Fatalf("Event(%q) gave %q: not JSON", line, c)
				}
			}
		}
	})
}
