package translate

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("not JSON: %s (%v)", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %s (%v)", want, err)
	}
	return reflect.DeepEqual(g, w)
}

func TestFromOpenAIChat(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "system and developer messages become the system prompt; max_tokens defaults",
			in: `{"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":"Be brief."},` +
				`{"role":"developer","content":[{"type":"text","text":"Use French."}]},{"role":"user","content":"Hi"}]}`,
			want: `{"model":"claude-sonnet-4-5","max_tokens":4096,"system":[{"type":"text","text":"Be brief."},{"type":"text","text":"Use French."}],` +
				`"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "max_completion_tokens, stop, sampling, user, stream",
			in: `{"model":"m","max_completion_tokens":100,"max_tokens":5,"stop":"END","temperature":0.2,"top_p":0.9,"user":"u-1","stream":true,` +
				`"messages":[{"role":"user","content":"Hi"}]}`,
			want: `{"model":"claude","max_tokens":100,"stop_sequences":["END"],"temperature":0.2,"top_p":0.9,"metadata":{"user_id":"u-1"},"stream":true,` +
				`"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "images: an http URL and a data URL",
			in: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` +
				`{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}}]}]}`,
			want: `{"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` +
				`{"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}},` +
				`{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0K"}}]}]}`,
		},
		{
			name: "tool calls and results; parallel results share one user message",
			in: `{"model":"m","messages":[{"role":"user","content":"Weather in Paris and Rome?"},` +
				`{"role":"assistant","content":"Checking.","tool_calls":[` +
				`{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
				`{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},` +
				`{"role":"tool","tool_call_id":"call_1","content":"18C"},{"role":"tool","tool_call_id":"call_2","content":"24C"},` +
				`{"role":"user","content":"Thanks"}],` +
				`"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],` +
				`"tool_choice":"required","parallel_tool_calls":false}`,
			want: `{"model":"claude","max_tokens":4096,"messages":[` +
				`{"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"}]},` +
				`{"role":"assistant","content":[{"type":"text","text":"Checking."},` +
				`{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}},` +
				`{"type":"tool_use","id":"call_2","name":"get_weather","input":{"city":"Rome"}}]},` +
				`{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},` +
				`{"type":"tool_result","tool_use_id":"call_2","content":"24C"},{"type":"text","text":"Thanks"}]}],` +
				`"tools":[{"name":"get_weather","description":"Weather now","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],` +
				`"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`,
		},
		{
			name: "a named tool choice; no description, no parameters",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"ping"}}],` +
				`"tool_choice":{"type":"function","function":{"name":"ping"}}}`,
			want: `{"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],` +
				`"tools":[{"name":"ping","input_schema":{"type":"object","properties":{}}}],"tool_choice":{"type":"tool","name":"ping"}}`,
		},
		{
			name: "reasoning_effort becomes a thinking budget, with room for the answer beyond it",
			in:   `{"model":"m","reasoning_effort":"low","messages":[{"role":"user","content":"x"}]}`,
			want: `{"model":"claude","max_tokens":5120,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		},
		{
			name: "thinking passes through; a given max_tokens stays",
			in:   `{"model":"m","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"x"}]}`,
			want: `{"model":"claude","max_tokens":3000,"thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		},
		{
			name: "a json_object response format, which has no schema, sends nothing",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`,
			want: `{"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}`,
		},
		{
			name: "a JSON schema response format becomes a forced tool",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],` +
				`"response_format":{"type":"json_schema","json_schema":{"name":"person","schema":{"type":"object","properties":{"name":{"type":"string"}}}}}}`,
			want: `{"model":"claude","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"x"}]}],` +
				`"tools":[{"name":"json_tool_call","input_schema":{"type":"object","properties":{"name":{"type":"string"}}}}],` +
				`"tool_choice":{"type":"tool","name":"json_tool_call"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpenAIChatToAnthropic([]byte(tt.in), gotModel(tt.want))
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// gotModel is the model of a wanted request: the model FromOpenAIChat is
// given (the caller has stripped the prefix).
func gotModel(want string) string {
	var r struct{ Model string }
	_ = json.Unmarshal([]byte(want), &r)
	return r.Model
}

func TestFromOpenAIChatRefuses(t *testing.T) {
	for _, in := range []string{
		`{"model":"m","messages":[]}`,
		`{"model":"m"}`,
		`{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}`,
		`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{not json"}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`,
		`{"model":"m","messages":[{"role":"wizard","content":"x"}]}`,
	} {
		if got, err := OpenAIChatToAnthropic([]byte(in), "claude"); err == nil {
			t.Errorf("OpenAIChatToAnthropic(%s) = %s; want an error", in, got)
		}
	}
}

func FuzzFromOpenAIChat(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]},` +
		`{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"r"}]}],` +
		`"tools":[{"type":"function","function":{"name":"f"}}],"stop":["a",""],"reasoning_effort":"high","response_format":{"type":"json_object"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := OpenAIChatToAnthropic(in, "claude")
		if err != nil {
			return
		}
		var req struct {
			Model     string            `json:"model"`
			MaxTokens int64             `json:"max_tokens"`
			Messages  []json.RawMessage `json:"messages"`
		}
		if err := json.Unmarshal(out, &req); err != nil || req.Model != "claude" || len(req.Messages) == 0 {
			t.Fatalf("OpenAIChatToAnthropic(%q) = %s: not a Messages request (%v)", in, out, err)
		}
		if strings.Contains(string(out), `"text":""`) {
			t.Fatalf("an empty text block, which Anthropic refuses: %s", out)
		}
	})
}
