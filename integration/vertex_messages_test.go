package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/gemini"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/googlefake"
	"github.com/phoenixproxy/llmproxy/translate"
)

// The paths of the Claude deployment of vertexClaudeConfig.
const (
	vertexClaudePath       = "/v1/projects/team-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"
	vertexClaudeStreamPath = "/v1/projects/team-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
)

// vertexClaudeConfig serves Claude Code's model_name with Claude on Vertex
// AI, in a project and location of its own with a service account of its
// own (TEAM_SA); claude-other-sa with the key of a service account Vertex
// AI does not take (OTHER_SA); claude-direct with Anthropic's API.
const vertexClaudeConfig = `
model_list:
  - model_name: claude-sonnet-4-5
    litellm_params:
      model: vertex_ai/claude-sonnet-4-5@20250929
      vertex_project: team-project
      vertex_location: us-east5
      vertex_credentials: os.environ/TEAM_SA
  - model_name: claude-other-sa
    litellm_params:
      model: vertex_ai/claude-sonnet-4-5@20250929
      vertex_project: team-project
      vertex_location: us-east5
      vertex_credentials: os.environ/OTHER_SA
  - model_name: claude-direct
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: sk-ant-team}
`

// vertexClaudeFake is Claude on Vertex AI: a request without a token the
// fake token endpoint issued gets Vertex AI's 401 (Google's envelope);
// any other is answered by the recorded Messages API answer of its path
// (rawPredict: oi-messages, streamRawPredict: oi-messages_streaming).
type vertexClaudeFake struct {
	tokens  *googlefake.TokenServer
	replay  *fakeprovider.Server
	refused atomic.Int64
}

func (f *vertexClaudeFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.tokens.Valid(r.Header.Get("Authorization")) {
		f.refused.Add(1)
		gemini.WriteError(w, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
		return
	}
	f.replay.ServeHTTP(w, r)
}

// vertexClaudeHarness is the proxy with vertexClaudeConfig in front of
// vertexClaudeFake; the environment has Vertex AI credentials of its own
// (the fake takes them too) and a project, for vertex_ai/ models the
// config does not name.
func vertexClaudeHarness(t *testing.T) (*harness, *vertexClaudeFake, fakeprovider.Cassette, fakeprovider.Cassette) {
	plain, streamed := loadAPICassette(t, "anthropic", "oi-messages"), loadAPICassette(t, "anthropic", "oi-messages_streaming")
	replay := fakeprovider.New([]fakeprovider.Cassette{plain, streamed})
	replay.AnyBody = map[string]string{vertexClaudePath: plain.Name, vertexClaudeStreamPath: streamed.Name,
		"/v1/projects/env-project/locations/us-east5/publishers/anthropic/models/claude-opus-4-1@20250805:rawPredict": plain.Name}
	ts, other := googlefake.NewTokenServer(t, 3600), googlefake.NewTokenServer(t, 3600)
	fake := &vertexClaudeFake{tokens: ts, replay: replay}
	o := harnessOptions{upstream: fake, config: vertexClaudeConfig, lookup: map[string]string{
		"TEAM_SA": googlefake.ServiceAccountJSON(t, ts.TokenURI()), "OTHER_SA": googlefake.ServiceAccountJSON(t, other.TokenURI())}}
	o.env.VertexCredentials = googlefake.ServiceAccountJSON(t, ts.TokenURI())
	o.env.VertexProject, o.env.VertexLocation = "env-project", "us-east5"
	return newHarness(t, o), fake, plain, streamed
}

// claudeCodeHeaders are the headers Claude Code sends the proxy
// (ANTHROPIC_BASE_URL): its key, the API version, its beta flags, of which
// Vertex AI takes two (claude-code-… and prompt-caching-scope-… it does
// not know).
var claudeCodeHeaders = map[string]string{
	"X-Api-Key": "sk-ant-client-key", "Anthropic-Version": "2023-06-01",
	"Anthropic-Beta": "claude-code-20250219,interleaved-thinking-2025-05-14,prompt-caching-scope-2026-01-05,context-1m-2025-08-07",
}

// checkVertexClaudeRequest checks what reached Vertex AI: the deployment's
// path, the body without a model and with anthropic_version (else the
// client's, byte for byte), a token the fake issued, none of the client's
// Anthropic headers, and the beta flags Vertex AI takes.
func checkVertexClaudeRequest(t *testing.T, seen fakeprovider.Seen, wantPath, wantBody string) {
	t.Helper()
	if seen.Path != wantPath || string(seen.Body) != wantBody {
		t.Errorf("upstream got %s\n%s;\nwant %s\n%s", seen.Path, seen.Body, wantPath, wantBody)
	}
	if a := seen.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ya29.test-") {
		t.Errorf("upstream Authorization %q; want the deployment's token", a)
	}
	if seen.Header.Get("X-Api-Key") != "" || seen.Header.Get("Anthropic-Version") != "" {
		t.Errorf("the client's Anthropic headers reached Google: %v", seen.Header)
	}
	if b := seen.Header.Values("Anthropic-Beta"); len(b) != 1 || b[0] != "interleaved-thinking-2025-05-14,context-1m-2025-08-07" {
		t.Errorf("upstream anthropic-beta %q; want the flags Vertex AI takes", b)
	}
}

// checkVertexClaudeSpan checks the span of a Messages call served by
// Claude on Vertex AI: the Messages API's, as the instrumentor made it of
// the recorded call, with provider google and the config's model group,
// and no credential in it.
func checkVertexClaudeSpan(t *testing.T, h *harness, golden string) {
	t.Helper()
	span := h.span(t)
	want := kvMap(loadGolden(t, fixturesDir(t, "anthropic")+"/spans/"+golden+".json").Attributes)
	for _, k := range []string{"llm.model_name", "llm.input_messages.0.message.content", "llm.output_messages.0.message.contents.0.message_content.text",
		"llm.finish_reason", "llm.token_count.prompt", "llm.token_count.completion", "llm.token_count.total"} {
		if want[k] == nil || fmt.Sprint(span.Attributes[k]) != fmt.Sprint(want[k]) {
			t.Errorf("span %s = %v; want %v", k, span.Attributes[k], want[k])
		}
	}
	if span.Name != "messages.create" || span.StatusMessage != "" || span.Attributes["llm.provider"] != "google" ||
		span.Attributes["llm.system"] != "anthropic" || span.Attributes["litellm.model_group"] != "claude-sonnet-4-5" {
		t.Errorf("span %s %q: provider %v system %v group %v", span.Name, span.StatusMessage,
			span.Attributes["llm.provider"], span.Attributes["llm.system"], span.Attributes["litellm.model_group"])
	}
	if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "ya29.") || strings.Contains(s, "sk-ant-client-key") {
		t.Errorf("a credential is in the span")
	}
}

// TestVertexClaudeMessages: Claude Code (ANTHROPIC_BASE_URL at the proxy)
// calling a config model_name served by Claude on Vertex AI: /v1/messages
// reaches the deployment's :rawPredict in its project and location, with
// its service account's token, the body LiteLLM sends (no model,
// anthropic_version); the client gets Claude's answer byte for byte, and
// the span is the Messages API's, provider google.
func TestVertexClaudeMessages(t *testing.T) {
	h, fake, c, _ := vertexClaudeHarness(t)
	resp, got := post(t, h.proxy.URL+"/v1/messages", "application/json",
		`{"max_tokens":1024,"messages":[{"role":"user","content":"What's the capital of France?"}],"model":"claude-sonnet-4-5"}`, claudeCodeHeaders)
	if resp.StatusCode != 200 || got != c.Response.Body {
		t.Fatalf("%d %.300s; want the recorded answer", resp.StatusCode, got)
	}
	seen := fake.replay.Requests()
	if len(seen) != 1 {
		t.Fatalf("%d upstream requests; want 1", len(seen))
	}
	checkVertexClaudeRequest(t, seen[0], vertexClaudePath,
		`{"max_tokens":1024,"messages":[{"role":"user","content":"What's the capital of France?"}],"anthropic_version":"`+translate.VertexAnthropicVersion+`"}`)
	checkVertexClaudeSpan(t, h, "oi-messages")
}

// TestVertexClaudeMessagesStreamInLockstep: the stream goes to
// :streamRawPredict (stream kept in the body, as Vertex AI wants it) and
// reaches the client as Vertex AI sent it, byte for byte, each event sent
// by the fake only once the client has read the one before through the
// proxy; the span has the stream's answer.
func TestVertexClaudeMessagesStreamInLockstep(t *testing.T) {
	h, fake, _, c := vertexClaudeHarness(t)
	pace := newPacer(eachEvent)
	fake.replay.BeforeEvent = pace.wait
	body := strings.Replace(c.Request.Body, `"claude-sonnet-4-6"`, `"claude-sonnet-4-5"`, 1)
	resp := openWith(t, context.Background(), h.proxy.URL+"/v1/messages", body, claudeCodeHeaders)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != c.Response.ContentType() {
		t.Fatalf("%d %q; want Vertex AI's stream, %q", resp.StatusCode, ct, c.Response.ContentType())
	}
	got := readStream(t, resp.Body, pace.count)
	if i := pace.stalled.Load(); i >= 0 {
		t.Errorf("event %d: the events before it had not all reached the client when Vertex AI was ready to send it", i)
	}
	if got != c.Response.Body {
		t.Errorf("client stream:\n got  %.400q\n want %.400q", got, c.Response.Body)
	}
	seen := fake.replay.Requests()
	if len(seen) != 1 {
		t.Fatalf("%d upstream requests; want 1", len(seen))
	}
	checkVertexClaudeRequest(t, seen[0], vertexClaudeStreamPath,
		`{"max_tokens":1024,"messages":[{"role":"user","content":"Why is the sky blue? Answer in 5 words or less"}],"stream":true,"anthropic_version":"`+translate.VertexAnthropicVersion+`"}`)
	checkVertexClaudeSpan(t, h, "oi-messages_streaming")
}

// TestVertexClaudeMessagesRouting: Vertex AI's refusal of a deployment's
// token reaches a Messages client in Anthropic's envelope, its status and
// message Google's; a vertex_ai/claude-… model the config does not name
// goes to Vertex AI with the environment's project, as LiteLLM's router
// takes it; an Anthropic deployment on Vertex AI's :rawPredict route is
// refused before anything is sent, the 400 naming only the API that
// reaches it.
func TestVertexClaudeMessagesRouting(t *testing.T) {
	h, fake, c, _ := vertexClaudeHarness(t)
	resp, got := post(t, h.proxy.URL+"/v1/messages", "application/json",
		`{"model":"claude-other-sa","max_tokens":8,"messages":[{"role":"user","content":"Hi"}]}`, claudeCodeHeaders)
	e := gjson.Parse(got)
	if resp.StatusCode != 401 || e.Get("type").Str != "error" || e.Get("error.type").Str != "authentication_error" ||
		!strings.Contains(e.Get("error.message").Str, "Expected OAuth 2 access token") {
		t.Errorf("a token Vertex AI refuses: %d %s; want its 401 as Anthropic's authentication_error", resp.StatusCode, got)
	}
	if span := h.span(t); span.Attributes["llm.provider"] != "google" || span.StatusMessage == "" {
		t.Errorf("span of the refused call: %q %v", span.StatusMessage, span.Attributes)
	}
	if fake.refused.Load() != 1 || len(fake.replay.Requests()) != 0 {
		t.Errorf("refused %d, answered %d; want the one call refused", fake.refused.Load(), len(fake.replay.Requests()))
	}

	resp, got = post(t, h.proxy.URL+"/v1/messages", "application/json",
		`{"model":"vertex_ai/claude-opus-4-1@20250805","max_tokens":8,"messages":[{"role":"user","content":"Hi"}]}`, claudeCodeHeaders)
	if resp.StatusCode != 200 || got != c.Response.Body {
		t.Errorf("vertex_ai/ without a config entry: %d %.300s", resp.StatusCode, got)
	}
	if seen := fake.replay.Requests(); len(seen) != 1 || !strings.HasPrefix(seen[0].Path, "/v1/projects/env-project/locations/us-east5/") ||
		gjson.GetBytes(seen[0].Body, "model").Exists() {
		t.Errorf("upstream requests %+v", seen)
	}
	if span := h.span(t); span.Attributes["llm.provider"] != "google" || span.StatusMessage != "" {
		t.Errorf("span %q %v", span.StatusMessage, span.Attributes)
	}

	resp, got = post(t, h.proxy.URL+"/vertex_ai/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-direct:rawPredict", "application/json",
		`{"anthropic_version":"vertex-2023-10-16","max_tokens":8,"messages":[{"role":"user","content":"Hi"}]}`, nil)
	if msg := gjson.Get(got, "error.message").Str; resp.StatusCode != 400 || !strings.HasSuffix(msg, "call it on /messages.") {
		t.Errorf("an Anthropic deployment on :rawPredict: %d %s; want a 400 naming /messages alone", resp.StatusCode, got)
	}
	if n := len(fake.replay.Requests()) + int(fake.refused.Load()); n != 2 {
		t.Errorf("the refused call was sent (%d requests in all)", n)
	}
}
