package translate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/phoenixproxy/llmproxy/stream"
)

// TestAnthropicToBedrockInvoke: the InvokeModel body of a Messages call,
// as LiteLLM's AmazonAnthropicClaudeMessagesConfig makes it, each rule a
// row.
func TestAnthropicToBedrockInvoke(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		betas      []string
		want       string
		wantStream bool
		wantErr    string
	}{
		{name: "model and stream off, anthropic_version added",
			in:   `{"model":"my-claude","max_tokens":10,"messages":[{"role":"user","content":"Hi"}],"stream":true}`,
			want: `{"max_tokens":10,"messages":[{"role":"user","content":"Hi"}],"anthropic_version":"bedrock-2023-05-31"}`, wantStream: true},
		{name: "the client's anthropic_version kept, members byte for byte",
			in:   `{"anthropic_version":"bedrock-2023-05-31","system": "Be brief" ,"messages":[],"max_tokens":1,"temperature":0.70}`,
			want: `{"anthropic_version":"bedrock-2023-05-31","system":"Be brief","messages":[],"max_tokens":1,"temperature":0.70}`},
		{name: "members Bedrock does not take dropped",
			in:   `{"messages":[],"max_tokens":1,"speed":"fast","mcp_servers":[],"container":"c","api_key":"sk-x","litellm_metadata":{},"service_tier":"auto"}`,
			want: `{"messages":[],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}`},
		{name: "every member Bedrock takes kept",
			in: `{"messages":[],"max_tokens":1,"system":[{"type":"text","text":"s"}],"stop_sequences":["x"],"top_p":1,"top_k":5,` +
				`"tool_choice":{"type":"auto"},"thinking":{"type":"enabled","budget_tokens":1024},"metadata":{"user_id":"u"},"output_config":{"effort":"low"},"anthropic_beta":["context-1m-2025-08-07"]}`,
			want: `{"messages":[],"max_tokens":1,"system":[{"type":"text","text":"s"}],"stop_sequences":["x"],"top_p":1,"top_k":5,` +
				`"tool_choice":{"type":"auto"},"thinking":{"type":"enabled","budget_tokens":1024},"metadata":{"user_id":"u"},"output_config":{"effort":"low"},"anthropic_beta":["context-1m-2025-08-07"],"anthropic_version":"bedrock-2023-05-31"}`},
		{name: "beta headers Bedrock takes, in its names; others dropped",
			in:    `{"messages":[],"max_tokens":1}`,
			betas: []string{"claude-code-20250219,context-1m-2025-08-07", "interleaved-thinking-2025-05-14, advanced-tool-use-2025-11-20", "context-1m-2025-08-07"},
			want:  `{"messages":[],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["context-1m-2025-08-07","tool-search-tool-2025-10-19"]}`},
		{name: "no beta Bedrock takes: no anthropic_beta",
			in: `{"messages":[],"max_tokens":1}`, betas: []string{"oauth-2025-04-20"},
			want: `{"messages":[],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}`},
		{name: "the body's anthropic_beta wins over the header",
			in: `{"messages":[],"max_tokens":1,"anthropic_beta":["x"]}`, betas: []string{"context-1m-2025-08-07"},
			want: `{"messages":[],"max_tokens":1,"anthropic_beta":["x"],"anthropic_version":"bedrock-2023-05-31"}`},
		{name: "custom taken off tools",
			in:   `{"messages":[],"max_tokens":1,"tools":[{"name":"a","input_schema":{},"custom":{"defer_loading":true}},{"name":"b","input_schema":{"type":"object"}}]}`,
			want: `{"messages":[],"max_tokens":1,"tools":[{"name":"a","input_schema":{}},{"name":"b","input_schema":{"type":"object"}}],"anthropic_version":"bedrock-2023-05-31"}`},
		{name: "context_management: compact edits kept, with their beta",
			in:   `{"messages":[],"max_tokens":1,"context_management":{"edits":[{"type":"clear_thinking_20251015"},{"type":"compact_20260112","trigger":1}]}}`,
			want: `{"messages":[],"max_tokens":1,"context_management":{"edits":[{"type":"compact_20260112","trigger":1}]},"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["compact-2026-01-12"]}`},
		{name: "context_management with no compact edit dropped (Claude Code's clear_thinking)",
			in:   `{"messages":[],"max_tokens":1,"context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]}}`,
			want: `{"messages":[],"max_tokens":1,"anthropic_version":"bedrock-2023-05-31"}`},
		{name: "output_format refused", in: `{"messages":[],"max_tokens":1,"output_format":{"type":"json_schema"}}`, wantErr: "output_format"},
		{name: "no messages", in: `{"max_tokens":1}`, wantErr: "messages"},
		{name: "not an object", in: `[1]`, wantErr: "JSON object"},
		{name: "not JSON", in: `{"messages":`, wantErr: "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, streams, err := AnthropicToBedrockInvoke([]byte(tt.in), tt.betas)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want || streams != tt.wantStream {
				t.Errorf("got %s, stream %v, %v;\nwant %s, stream %v", got, streams, err, tt.want, tt.wantStream)
			}
			if !json.Valid(got) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
}

// TestAnthropicBedrockRequest: the path is the model's InvokeModel, or its
// stream, the id escaped as the SDKs escape it; a model that is not
// Claude's is refused, naming what works.
func TestAnthropicBedrockRequest(t *testing.T) {
	h := http.Header{"Anthropic-Beta": {"context-1m-2025-08-07"}}
	hr := AnthropicBedrock.(HeaderRequester)
	for _, tt := range []struct{ model, body, wantPath, wantErr string }{
		{"us.anthropic.claude-sonnet-4-5-20250929-v1:0", `{"messages":[],"max_tokens":1}`, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke", ""},
		{"anthropic.claude-3-haiku-20240307-v1:0", `{"messages":[],"max_tokens":1,"stream":true}`, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream", ""},
		{"arn:aws:bedrock:us-east-1:1:application-inference-profile/p", `{"messages":[],"max_tokens":1}`, "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fp/invoke", ""},
		{"amazon.nova-pro-v1:0", `{"messages":[],"max_tokens":1}`, "", "not Claude"},
	} {
		up, path, err := hr.RequestWithHeader([]byte(tt.body), h, tt.model, nil)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v; want %q", tt.model, err, tt.wantErr)
			}
			continue
		}
		if err != nil || path != tt.wantPath || !strings.Contains(string(up), `"anthropic_beta":["context-1m-2025-08-07"]`) {
			t.Errorf("%s: %s %s %v; want %s with the header's beta", tt.model, path, up, err, tt.wantPath)
		}
	}
	out := http.Header{"X-Api-Key": {"sk-ant-client"}, "Anthropic-Version": {"2023-06-01"}, "Anthropic-Beta": {"x"}, "Accept": {"application/json"},
		"Authorization": {"Bearer bedrock-key"}, "Content-Type": {"application/json"}}
	AnthropicBedrock.Header(out, nil)
	if len(out) != 2 || out.Get("Authorization") == "" || out.Get("Content-Type") == "" {
		t.Errorf("headers after Header: %v; want the Anthropic ones off, Authorization left to the provider", out)
	}
}

// TestAnthropicBedrockAnswer: Claude's InvokeModel answer passes as it came;
// Bedrock's errors become Anthropic's envelope with the status's type.
func TestAnthropicBedrockAnswer(t *testing.T) {
	for _, tt := range []struct {
		status   int
		in, want string
	}{
		{200, `{"id":"msg_bdrk_1","type":"message","content":[]}`, `{"id":"msg_bdrk_1","type":"message","content":[]}`},
		{400, `{"message":"messages.0: field required"}`, `{"type":"error","error":{"type":"invalid_request_error","message":"messages.0: field required"}}`},
		{429, `{"message":"Too many requests, please wait before trying again."}`, `{"type":"error","error":{"type":"rate_limit_error","message":"Too many requests, please wait before trying again."}}`},
		{403, `{"Message":"User is not authorized"}`, `{"type":"error","error":{"type":"permission_error","message":"User is not authorized"}}`},
		{503, `upstream connect error`, `{"type":"error","error":{"type":"api_error","message":"upstream connect error"}}`},
	} {
		got, err := AnthropicBedrock.Answer(tt.status, []byte(tt.in), "m")
		if err != nil || string(got) != tt.want {
			t.Errorf("Answer(%d, %s) = %s, %v; want %s", tt.status, tt.in, got, err, tt.want)
		}
	}
}

// claudeEvent is a chunk event of an Anthropic stream event's JSON.
func claudeEvent(t testing.TB, event string) []byte {
	return esMessage(t, "event", "chunk", []byte(`{"bytes":"`+base64.StdEncoding.EncodeToString([]byte(event))+`"}`))
}

// translateStream runs an event stream through the translation as the
// relay does, and returns the client's bytes and what the accumulator got.
func translateStream(in []byte) (string, []string) {
	var p stream.EventStreamParser
	s := AnthropicBedrock.Stream(nil, "m")
	var out []byte
	var added []string
	p.Feed(in, func(ev stream.Event) {
		out = s.Rewrite(out, ev, func(d []byte) { added = append(added, string(d)) })
	})
	return string(out), added
}

// TestBedrockAnthropicStream: each chunk becomes the Anthropic SSE event
// its JSON names; exceptions and error messages become Anthropic's error
// event; the accumulator reads the client's events.
func TestBedrockAnthropicStream(t *testing.T) {
	start := `{"type":"message_start","message":{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-3-5-sonnet-20240620","content":[],"usage":{"input_tokens":9,"output_tokens":1}}}`
	delta := `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi\n"}}`
	stop := `{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":9,"outputTokenCount":2}}`
	tests := []struct {
		name string
		in   [][]byte
		want string
	}{
		{"chunks", [][]byte{claudeEvent(t, start), claudeEvent(t, delta), claudeEvent(t, stop)},
			"event: message_start\ndata: " + start + "\n\nevent: content_block_delta\ndata: " + delta + "\n\nevent: message_stop\ndata: " + stop + "\n\n"},
		{"a chunk's JSON on one line", [][]byte{claudeEvent(t, "{\n  \"type\": \"ping\"\n}")}, "event: ping\ndata: {\"type\":\"ping\"}\n\n"},
		{"a throttling exception", [][]byte{claudeEvent(t, start), esMessage(t, "exception", "throttlingException", []byte(`{"message":"Too many tokens"}`))},
			"event: message_start\ndata: " + start + "\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"throttlingException: Too many tokens\"}}\n\n"},
		{"a model stream error", [][]byte{esMessage(t, "exception", "modelStreamErrorException", []byte(`{"message":"boom","originalStatusCode":500}`))},
			"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"modelStreamErrorException: boom\"}}\n\n"},
		{"an unknown exception", [][]byte{esMessage(t, "exception", "newException", []byte(`{"message":"m"}`))},
			"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"newException: m\"}}\n\n"},
		{"a chunk that is not base64", [][]byte{esMessage(t, "event", "chunk", []byte(`{"bytes":"%%%"}`))},
			"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Bedrock sent a stream chunk that holds no JSON event\"}}\n\n"},
		{"a chunk with a type that could break the SSE", [][]byte{claudeEvent(t, `{"type":"a\nevent: x"}`)},
			"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"Bedrock sent a stream chunk that holds no Anthropic event\"}}\n\n"},
		{"another event type passes nothing", [][]byte{esMessage(t, "event", "initial-response", []byte(`{}`)), claudeEvent(t, stop)},
			"event: message_stop\ndata: " + stop + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, added := translateStream(bytes.Join(tt.in, nil))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			var p stream.Parser
			i := 0
			p.Feed([]byte(got), func(ev stream.Event) {
				if i >= len(added) || string(ev.Data) != added[i] {
					t.Errorf("event %d: the accumulator got %q, the client %q", i, added, ev.Data)
				}
				i++
			})
			if i != len(added) {
				t.Errorf("the client got %d events, the accumulator %d", i, len(added))
			}
		})
	}
}

// FuzzBedrockAnthropicStream: whatever bytes Bedrock sends, the client
// gets well-formed SSE: each event named by a type with no line break,
// its data one line of JSON (an Anthropic error event where the chunk
// held none), and the accumulator exactly the client's events.
func FuzzBedrockAnthropicStream(f *testing.F) {
	f.Add(bytes.Join([][]byte{claudeEvent(f, `{"type":"message_start","message":{"usage":{"input_tokens":1}}}`),
		claudeEvent(f, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}`),
		esMessage(f, "exception", "throttlingException", []byte(`{"message":"slow down"}`))}, nil))
	f.Add(claudeEvent(f, "{\"type\": \"ping\",\n\"x\": [1, 2]}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, added := translateStream(in)
		var p stream.Parser
		i := 0
		p.Feed([]byte(got), func(ev stream.Event) {
			if !ev.HasData || ev.Type == "" || !json.Valid(ev.Data) {
				t.Fatalf("event %q: want a named event of JSON data", ev.Raw)
			}
			if i >= len(added) || string(ev.Data) != added[i] {
				t.Fatalf("event %d %q is not what the accumulator got", i, ev.Data)
			}
			i++
		})
		if i != len(added) || p.InEvent() {
			t.Fatalf("the client's stream %q does not end on a whole event (%d of %d)", got, i, len(added))
		}
	})
}

// FuzzAnthropicToBedrockInvoke: any body that translates is one JSON
// object InvokeModel takes: no model, no stream, an anthropic_version,
// only the members Bedrock takes.
func FuzzAnthropicToBedrockInvoke(f *testing.F) {
	f.Add([]byte(`{"model":"m","stream":true,"max_tokens":5,"messages":[{"role":"user","content":"Hi"}],"tools":[{"name":"t","custom":{}}],`+
		`"context_management":{"edits":[{"type":"compact_20260112"},{"type":"clear_thinking_20251015"}]},"speed":"fast"}`), "context-1m-2025-08-07,x")
	f.Fuzz(func(t *testing.T, in []byte, beta string) {
		out, _, err := AnthropicToBedrockInvoke(in, []string{beta})
		if err != nil {
			return
		}
		var req map[string]json.RawMessage
		if err := json.Unmarshal(out, &req); err != nil {
			t.Fatalf("AnthropicToBedrockInvoke(%q) = %s: not a JSON object (%v)", in, out, err)
		}
		for k := range req {
			if !bedrockInvokeFields[k] {
				t.Fatalf("AnthropicToBedrockInvoke(%q) = %s: member %q", in, out, k)
			}
		}
		if _, ok := req["anthropic_version"]; !ok {
			t.Fatalf("AnthropicToBedrockInvoke(%q) = %s: no anthropic_version", in, out)
		}
	})
}
