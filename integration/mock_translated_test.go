package integration

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/stream"
)

// TestMockResponseTranslatedTargets: LiteLLM's mock_response on
// /chat/completions for a model_name whose deployment speaks another API
// (Anthropic's, Gemini's, Bedrock's, Claude on Vertex AI) is answered by
// the proxy in OpenAI's format, plain and streamed, as LiteLLM's mock
// completion answers whatever the provider: nothing is sent, no
// credentials are needed (the Bedrock and Vertex AI deployments have
// none), and the span is the chat call's, marked mocked, with the
// deployment's provider and model.
func TestMockResponseTranslatedTargets(t *testing.T) {
	withoutAWSCredentials(t)
	up := answer(500, `{"error":{"message":"the mock went upstream"}}`)
	h := newHarness(t, harnessOptions{upstream: up, config: `
model_list:
  - model_name: team-claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: sk-ant-team}
  - model_name: team-gemini
    litellm_params: {model: gemini/gemini-2.5-flash, api_key: team-gemini-key}
  - model_name: team-nova
    litellm_params: {model: bedrock/us.amazon.nova-micro-v1:0, aws_region_name: us-east-1}
  - model_name: team-vertex-claude
    litellm_params: {model: vertex_ai/claude-sonnet-4-5@20250929, vertex_project: team-project}
`})
	const text = "Hello from the proxy!"
	for _, tt := range []struct{ model, wantModel, wantProvider string }{
		{"team-claude", "claude-sonnet-4-5", "anthropic"},
		{"team-gemini", "gemini-2.5-flash", "google"},
		{"team-nova", "us.amazon.nova-micro-v1:0", "aws"},
		{"team-vertex-claude", "claude-sonnet-4-5@20250929", "google"},
	} {
		t.Run(tt.model, func(t *testing.T) {
			resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
				`{"model":"`+tt.model+`","messages":[{"role":"user","content":"hi"}],"mock_response":"`+text+`"}`, nil)
			got := gjson.Parse(body)
			if resp.StatusCode != 200 || got.Get("object").Str != "chat.completion" || got.Get("model").Str != tt.wantModel ||
				got.Get("choices.0.message.content").Str != text || got.Get("choices.0.finish_reason").Str != "stop" ||
				got.Get("usage.total_tokens").Int() != 30 {
				t.Fatalf("%d %s; want the mock in OpenAI's format", resp.StatusCode, body)
			}
			span := h.span(t)
			if span.Name != "ChatCompletion" || span.Attributes["litellm.mock_response"] != true || span.Attributes["llm.provider"] != tt.wantProvider ||
				span.Attributes["llm.output_messages.0.message.content"] != text || span.Attributes["llm.token_count.total"] != int64(30) ||
				span.StatusMessage != "" {
				t.Errorf("span %s %q: %v", span.Name, span.StatusMessage, span.Attributes)
			}

			resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
				`{"model":"`+tt.model+`","stream":true,"messages":[{"role":"user","content":"hi"}],"mock_response":"`+text+`"}`, nil)
			var streamed string
			done := false
			var p stream.Parser
			p.Feed([]byte(body), func(ev stream.Event) {
				if string(ev.Data) == "[DONE]" {
					done = true
					return
				}
				c := gjson.ParseBytes(ev.Data)
				if c.Get("object").Str != "chat.completion.chunk" || c.Get("model").Str != tt.wantModel {
					t.Errorf("chunk %s", ev.Data)
				}
				streamed += c.Get("choices.0.delta.content").Str
			})
			if resp.StatusCode != 200 || streamed != text || !done || strings.Contains(body, `"usage"`) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Errorf("stream: %d %q done=%v\n%s", resp.StatusCode, streamed, done, body)
			}
			span = h.span(t)
			if span.Attributes["litellm.mock_response"] != true || span.Attributes["llm.provider"] != tt.wantProvider ||
				span.Attributes["llm.output_messages.0.message.content"] != text || span.Attributes["llm.token_count.total"] != int64(30) {
				t.Errorf("stream span %q: %v", span.StatusMessage, span.Attributes)
			}
		})
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times", n)
	}
}
