package fakeprovider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"
)

// The conversation mode calls the request's first tool, its required
// arguments filled in, while the request holds fewer tool results than
// "[tools: N]" asks for, then answers with text; in each API's shape.
func TestConversation(t *testing.T) {
	srv := httptest.NewServer(&Conversation{})
	defer srv.Close()
	const chatTools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"]}}}]`
	const msgTools = `"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]`
	const converseTools = `"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}}]}`
	const respTools = `"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]`
	tests := []struct {
		name, path, body string
		// want: the gjson path to the answer's tool call name ("" for a
		// text answer), its arguments, and the text path otherwise.
		call, args, text string
	}{
		{"chat, first call", "/v1/chat/completions", `{"model":"gpt-4o",` + chatTools + `,"messages":[{"role":"user","content":"Weather? [tools: 2]"}]}`,
			"choices.0.message.tool_calls.0.function.name", `{"city":"PotatoLand","days":1}`, ""},
		{"chat, after two results", "/v1/chat/completions", `{"model":"gpt-4o",` + chatTools + `,"messages":[{"role":"user","content":"Weather? [tools: 2]"},{"role":"tool","content":"a"},{"role":"tool","content":"b"}]}`,
			"", "", "choices.0.message.content"},
		{"chat, no tools asked", "/v1/chat/completions", `{"model":"gpt-4o",` + chatTools + `,"messages":[{"role":"user","content":"Hi"}]}`,
			"", "", "choices.0.message.content"},
		{"messages, first call", "/v1/messages", `{"model":"claude-sonnet-4-5",` + msgTools + `,"messages":[{"role":"user","content":"Weather? [tools: 1]"}]}`,
			"content.0.name", "", ""},
		{"messages, after the result", "/v1/messages", `{"model":"claude-sonnet-4-5",` + msgTools + `,"messages":[{"role":"user","content":"Weather? [tools: 1]"},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"get_weather","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"sunny"}]}]}`,
			"", "", "content.0.text"},
		{"responses, first call", "/v1/responses", `{"model":"gpt-4o",` + respTools + `,"input":"Weather? [tools: 1]"}`,
			"output.0.name", `{"city":"PotatoLand"}`, ""},
		{"responses, after the result", "/v1/responses", `{"model":"gpt-4o",` + respTools + `,"input":[{"role":"user","content":"Weather? [tools: 1]"},{"type":"function_call","call_id":"c","name":"get_weather","arguments":"{}"},{"type":"function_call_output","call_id":"c","output":"sunny"}]}`,
			"", "", "output.0.content.0.text"},
		{"converse, first call", "/model/anthropic.claude-3-haiku-20240307-v1:0/converse", `{` + converseTools + `,"messages":[{"role":"user","content":[{"text":"Weather? [tools: 1]"}]}]}`,
			"output.message.content.0.toolUse.name", "", ""},
		{"converse, after the result", "/model/anthropic.claude-3-haiku-20240307-v1:0/converse", `{` + converseTools + `,"messages":[{"role":"user","content":[{"text":"Weather? [tools: 1]"}]},{"role":"assistant","content":[{"toolUse":{"toolUseId":"t","name":"get_weather","input":{}}}]},{"role":"user","content":[{"toolResult":{"toolUseId":"t","content":[{"text":"sunny"}]}}]}]}`,
			"", "", "output.message.content.0.text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !gjson.ValidBytes(b) {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			if tt.call != "" {
				if strings.HasSuffix(tt.call, "toolUse.name") && gjson.GetBytes(b, "output.message.content.0.toolUse.input.city").Str != "PotatoLand" {
					t.Errorf("tool input: want the city filled in: %s", b)
				}
				if got := gjson.GetBytes(b, tt.call).Str; got != "get_weather" {
					t.Errorf("tool call %q; want get_weather: %s", got, b)
				}
				if tt.args != "" && !strings.Contains(string(b), strings.ReplaceAll(tt.args, `"`, `\"`)) {
					t.Errorf("arguments: want %s in %s", tt.args, b)
				}
				return
			}
			if got := gjson.GetBytes(b, tt.text).Str; !strings.HasPrefix(got, "Answer ") {
				t.Errorf("text %q; want an answer: %s", got, b)
			}
		})
	}
}

// A stream adds up to the same answer, a tool call's arguments included.
func TestConversationStream(t *testing.T) {
	srv := httptest.NewServer(&Conversation{})
	defer srv.Close()
	body := `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"tools":[{"type":"function","function":{"name":"f","parameters":{"required":["q"],"properties":{"q":{"type":"string"}}}}}],"messages":[{"role":"user","content":"[tools: 1]"}]}`
	resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var args, name, finish string
	usage := false
	for _, line := range strings.Split(string(b), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		if !gjson.Valid(data) {
			t.Fatalf("event %q is not JSON", data)
		}
		d := gjson.Get(data, "choices.0.delta.tool_calls.0.function")
		name += d.Get("name").Str
		args += d.Get("arguments").Str
		finish += gjson.Get(data, "choices.0.finish_reason").Str
		usage = usage || gjson.Get(data, "usage.total_tokens").Exists()
	}
	if name != "f" || args != `{"q":"PotatoLand"}` || finish != "tool_calls" || !usage || !strings.HasSuffix(string(b), "data: [DONE]\n\n") {
		t.Errorf("name %q, arguments %q, finish %q, usage %v: %s", name, args, finish, usage, b)
	}
}

// A ConverseStream is AWS's event stream of the events that add up to the
// same answer: the tool's use started, its input in a delta, the stop
// reason, the usage last.
func TestConversationConverseStream(t *testing.T) {
	srv := httptest.NewServer(&Conversation{})
	defer srv.Close()
	body := `{"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"required":["q"],"properties":{"q":{"type":"string"}}}}}}]},"messages":[{"role":"user","content":[{"text":"[tools: 1]"}]}]}`
	resp, err := http.Post(srv.URL+"/model/us.amazon.nova-micro-v1:0/converse-stream", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.amazon.eventstream" {
		t.Fatalf("Content-Type %q", ct)
	}
	dec := eventstream.NewDecoder()
	var types []string
	var name, input, stop string
	for {
		msg, err := dec.Decode(resp.Body, nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		typ := msg.Headers.Get(":event-type").String()
		types = append(types, typ)
		p := gjson.ParseBytes(msg.Payload)
		name += p.Get("start.toolUse.name").Str
		input += p.Get("delta.toolUse.input").Str
		stop += p.Get("stopReason").Str
		if typ == "metadata" && !p.Get("usage.totalTokens").Exists() {
			t.Errorf("metadata without usage: %s", msg.Payload)
		}
	}
	want := "messageStart contentBlockStart contentBlockDelta contentBlockStop messageStop metadata"
	if got := strings.Join(types, " "); got != want || name != "f" || input != `{"q":"PotatoLand"}` || stop != "tool_use" {
		t.Errorf("events %q (want %q), tool %q, input %q, stop %q", got, want, name, input, stop)
	}
}
