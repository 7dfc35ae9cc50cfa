package translate

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// TestAnthropicToVertex: the :rawPredict body of a Messages call, as
// LiteLLM's VertexAIPartnerModelsAnthropicMessagesConfig makes it, each
// rule a row.
func TestAnthropicToVertex(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantStream     bool
		wantErr        string
	}{
		{name: "model off, anthropic_version added, the rest byte for byte",
			in:   `{"model":"claude-sonnet-4-5@20250929", "max_tokens" : 10,"messages":[{"role":"user","content":"Hi"}],"temperature":0.70}`,
			want: `{"max_tokens":10,"messages":[{"role":"user","content":"Hi"}],"temperature":0.70,"anthropic_version":"vertex-2023-10-16"}`},
		{name: "stream kept: streamRawPredict wants it",
			in:   `{"model":"m","stream":true,"max_tokens":1,"messages":[]}`,
			want: `{"stream":true,"max_tokens":1,"messages":[],"anthropic_version":"vertex-2023-10-16"}`, wantStream: true},
		{name: "stream false is no stream",
			in:   `{"stream":false,"messages":[]}`,
			want: `{"stream":false,"messages":[],"anthropic_version":"vertex-2023-10-16"}`},
		{name: "the client's anthropic_version kept",
			in:   `{"anthropic_version":"vertex-2023-10-16","messages":[],"max_tokens":1}`,
			want: `{"anthropic_version":"vertex-2023-10-16","messages":[],"max_tokens":1}`},
		{name: "LiteLLM's members dropped, Anthropic's kept",
			in: `{"messages":[],"api_key":"sk-x","vertex_project":"p","vertex_credentials":"{}","litellm_metadata":{},"mock_response":"m",` +
				`"metadata":{"user_id":"u"},"thinking":{"type":"adaptive"},"output_config":{"effort":"high"},"context_management":{"edits":[{"type":"clear_thinking_20251015"}]}}`,
			want: `{"messages":[],"metadata":{"user_id":"u"},"thinking":{"type":"adaptive"},"output_config":{"effort":"high"},` +
				`"context_management":{"edits":[{"type":"clear_thinking_20251015"}]},"anthropic_version":"vertex-2023-10-16"}`},
		{name: "cache_control scope taken off system, message and tool blocks",
			in: `{"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral","scope":"global"}}],` +
				`"messages":[{"role":"user","content":[{"type":"text","text":"a","cache_control":{"scope":"global","type":"ephemeral","ttl":"1h"}},{"type":"text","text":"b"}]},{"role":"assistant","content":"scope"}],` +
				`"tools":[{"name":"t","input_schema":{"properties":{"scope":{}}},"cache_control":{"type":"ephemeral","scope":"global"}}]}`,
			want: `{"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],` +
				`"messages":[{"role":"user","content":[{"type":"text","text":"a","cache_control":{"type":"ephemeral","ttl":"1h"}},{"type":"text","text":"b"}]},{"role":"assistant","content":"scope"}],` +
				`"tools":[{"name":"t","input_schema":{"properties":{"scope":{}}},"cache_control":{"type":"ephemeral"}}],"anthropic_version":"vertex-2023-10-16"}`},
		{name: "an escaped scope taken off too",
			in:   `{"system":[{"type":"text","text":"s","c\u0061che_control":{"sc\u006fpe":"global","type":"ephemeral"}}],"messages":[]}`,
			want: `{"system":[{"type":"text","text":"s","c\u0061che_control":{"type":"ephemeral"}}],"messages":[],"anthropic_version":"vertex-2023-10-16"}`},
		{name: "a scope that is no cache_control's kept",
			in:   `{"system":"scope","messages":[{"role":"user","content":[{"type":"text","text":"scope","scope":1}]}]}`,
			want: `{"system":"scope","messages":[{"role":"user","content":[{"type":"text","text":"scope","scope":1}]}],"anthropic_version":"vertex-2023-10-16"}`},
		{name: "an escaped member name is read as its name",
			in:   `{"mod\u0065l":"m","messages":[]}`,
			want: `{"messages":[],"anthropic_version":"vertex-2023-10-16"}`},
		{name: "no messages", in: `{"max_tokens":1}`, wantErr: "messages"},
		{name: "not an object", in: `[1]`, wantErr: "JSON object"},
		{name: "not JSON", in: `{"messages":`, wantErr: "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, streams, err := AnthropicToVertex([]byte(tt.in))
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

// TestVertexBetas: the anthropic-beta flags Vertex AI takes, renamed as
// it names them, each once, in the client's order; the rest dropped.
func TestVertexBetas(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"claude-code-20250219,prompt-caching-scope-2026-01-05"}, ""},
		{[]string{"claude-code-20250219, interleaved-thinking-2025-05-14 ,context-1m-2025-08-07"}, "interleaved-thinking-2025-05-14,context-1m-2025-08-07"},
		{[]string{"advanced-tool-use-2025-11-20", "tool-search-tool-2025-10-19,web-search-2025-03-05"}, "tool-search-tool-2025-10-19,web-search-2025-03-05"},
		{[]string{"effort-2025-11-24,fine-grained-tool-streaming-2025-05-14,output-128k-2025-02-19", "context-management-2025-06-27"}, "context-management-2025-06-27"},
	} {
		if got := VertexBetas(tt.in); got != tt.want {
			t.Errorf("VertexBetas(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestAnthropicVertexRequest: the call goes to the model's :rawPredict
// (:streamRawPredict for a stream) under the provider's project and
// location; a provider with no project, a model that leaves its path
// segment and a provider that is not Vertex AI's are errors.
func TestAnthropicVertexRequest(t *testing.T) {
	_, claude, studio := geminiProviders(t)
	noProject := *claude
	noProject.VertexProject = ""
	const body = `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"Hi"}]}`
	for _, tt := range []struct {
		name, in, model string
		p               *upstream.Provider
		want, err       string
	}{
		{"rawPredict", body, "claude-sonnet-4-5@20250929", claude,
			"/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", ""},
		{"streamRawPredict", strings.Replace(body, "{", `{"stream":true,`, 1), "claude-sonnet-4-5@20250929", claude,
			"/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict", ""},
		{"no project", body, "claude-sonnet-4-5@20250929", &noProject, "", "VERTEXAI_PROJECT"},
		{"a model that leaves its segment", body, "../x", claude, "", "Vertex AI model name"},
		{"not Vertex AI", body, "claude-sonnet-4-5", studio, "", "not Vertex AI's"},
		{"an untranslatable request", `{"model":"m"}`, "claude-sonnet-4-5@20250929", claude, "", "messages"},
	} {
		up, path, err := AnthropicVertex.Request([]byte(tt.in), tt.model, tt.p)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v; want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || path != tt.want || gjson.GetBytes(up, "model").Exists() || gjson.GetBytes(up, "anthropic_version").Str != VertexAnthropicVersion {
			t.Errorf("%s: %q %s %v; want %q", tt.name, path, up, err, tt.want)
		}
	}
}

// TestAnthropicVertexHeader: the client's Anthropic key and version go no
// further; its beta flags only as far as Vertex AI takes them; the rest
// (Authorization, which the provider decides) as they came.
func TestAnthropicVertexHeader(t *testing.T) {
	for _, tt := range []struct {
		name     string
		in, want http.Header
	}{
		{"Claude Code's", http.Header{"X-Api-Key": {"sk-ant"}, "Anthropic-Version": {"2023-06-01"}, "Authorization": {"Bearer ya29.client"},
			"Anthropic-Beta": {"claude-code-20250219,interleaved-thinking-2025-05-14", "context-1m-2025-08-07"}, "X-App": {"cli"}},
			http.Header{"Authorization": {"Bearer ya29.client"}, "Anthropic-Beta": {"interleaved-thinking-2025-05-14,context-1m-2025-08-07"}, "X-App": {"cli"}}},
		{"no flag Vertex AI takes", http.Header{"Anthropic-Beta": {"claude-code-20250219"}}, http.Header{}},
		{"none", http.Header{"Content-Type": {"application/json"}}, http.Header{"Content-Type": {"application/json"}}},
	} {
		AnthropicVertex.Header(tt.in, nil)
		if got, want := headerString(tt.in), headerString(tt.want); got != want {
			t.Errorf("%s: %s; want %s", tt.name, got, want)
		}
	}
}

func headerString(h http.Header) string {
	var b strings.Builder
	_ = h.WriteSubset(&b, nil)
	return b.String()
}

// TestVertexErrorToAnthropic: Claude's own errors pass as they came;
// Vertex AI's (Google's envelope, or a list of it) become Anthropic's with
// Google's message and the type of the status; anything else is quoted.
func TestVertexErrorToAnthropic(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		in     string
		want   string
	}{
		{"Claude's", 400, `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`,
			`{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: Field required"}}`},
		{"Vertex AI's quota", 429, `{"error":{"code":429,"message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model.","status":"RESOURCE_EXHAUSTED"}}`,
			`{"type":"error","error":{"type":"rate_limit_error","message":"Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model."}}`},
		{"Vertex AI's, in a list", 404, `[{"error":{"code":404,"message":"Publisher Model was not found.","status":"NOT_FOUND"}}]`,
			`{"type":"error","error":{"type":"not_found_error","message":"Publisher Model was not found."}}`},
		{"a proxy's page", 502, " <html>Bad Gateway</html>\n", `{"type":"error","error":{"type":"api_error","message":"\u003chtml\u003eBad Gateway\u003c/html\u003e"}}`},
	} {
		got, err := AnthropicVertex.Answer(tt.status, []byte(tt.in), "m")
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	ok := `{"type":"message","content":[]}`
	if got, err := AnthropicVertex.Answer(200, []byte(ok), "m"); err != nil || string(got) != ok {
		t.Errorf("a success: %s, %v; want it as it came", got, err)
	}
}

// TestAnthropicVertexStream: the stream reaches the client byte for byte
// (comments, CRLFs and a truncated last event too), its events' data
// given to the accumulator; the Content-Type stays the provider's.
func TestAnthropicVertexStream(t *testing.T) {
	in := ": ping\r\n\r\nevent: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n" +
		"data: \"delta\":{\"text\":\"Hi\"}}\n\nevent: message_stop\ndata: {\"type\":\"mess"
	for _, size := range []int{1, 7, len(in)} {
		st := AnthropicVertex.Stream(nil, "m")
		relay := stream.Relay{Rewrite: st, Acc: &stream.AnthropicAccumulator{}}
		var out strings.Builder
		var added []string
		relay.Acc = recordingAcc{relay.Acc, &added}
		if err := relay.Copy(&out, func() {}, &chunked{s: in, n: size}); err != nil {
			t.Fatal(err)
		}
		if out.String() != in {
			t.Errorf("reads of %d: client got %q; want %q", size, out.String(), in)
		}
		want := []string{`{"type":"message_start"}`, "{\"type\":\"content_block_delta\",\n\"delta\":{\"text\":\"Hi\"}}"}
		if strings.Join(added, "|") != strings.Join(want, "|") {
			t.Errorf("reads of %d: accumulator got %q; want %q", size, added, want)
		}
		if st.ContentType() != "" {
			t.Errorf("ContentType %q; want the provider's kept", st.ContentType())
		}
	}
}

// recordingAcc notes the data it is given.
type recordingAcc struct {
	stream.Accumulator
	added *[]string
}

func (a recordingAcc) Add(data []byte) (bool, error) {
	*a.added = append(*a.added, string(data))
	return a.Accumulator.Add(data)
}

// chunked reads s n bytes at a time.
type chunked struct {
	s string
	n int
}

func (c *chunked) Read(p []byte) (int, error) {
	if c.s == "" {
		return 0, io.EOF
	}
	k := min(c.n, len(c.s), len(p))
	copy(p, c.s[:k])
	c.s = c.s[k:]
	return k, nil
}

func FuzzAnthropicToVertex(f *testing.F) {
	f.Add([]byte(`{"model":"m","stream":true,"max_tokens":5,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral","scope":"global"}}],` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"Hi","cache_control":{"scope":"global"}}]}],"tools":[{"name":"t","cache_control":{"scope":1}}],"api_key":"k"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, streams, err := AnthropicToVertex(in)
		if err != nil {
			return
		}
		if !json.Valid(out) || !gjson.ParseBytes(out).IsObject() {
			t.Fatalf("AnthropicToVertex(%q) = %s: not a JSON object", in, out)
		}
		versions, sawStream := 0, false
		gjson.ParseBytes(out).ForEach(func(k, v gjson.Result) bool {
			switch k.String() {
			case "model", "api_key", "vertex_credentials":
				t.Fatalf("AnthropicToVertex(%q) = %s: %s sent", in, out, k.String())
			case "anthropic_version":
				versions++
			case "stream":
				sawStream = sawStream || v.Type == gjson.True
			}
			return true
		})
		if versions == 0 || streams != sawStream {
			t.Fatalf("AnthropicToVertex(%q) = %s: anthropic_version %d times, stream %v", in, out, versions, streams)
		}
		up := gjson.ParseBytes(out)
		scoped := anyElement(up.Get("system"), scopedCache) || anyElement(up.Get("tools"), scopedCache) ||
			anyElement(up.Get("messages"), func(m gjson.Result) bool { return anyElement(m.Get("content"), scopedCache) })
		if scoped {
			t.Fatalf("AnthropicToVertex(%q) = %s: a cache_control scope sent", in, out)
		}
	})
}
