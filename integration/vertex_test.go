package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/phoenixproxy/llmproxy/gemini"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/googlefake"
)

// fakeVertex is Vertex AI as far as the proxy can tell: it refuses a
// request without a token the fake token endpoint issued, as Vertex does
// (401 UNAUTHENTICATED), and otherwise answers with a recorded answer.
type fakeVertex struct {
	tokens *googlefake.TokenServer // nil: any bearer token is taken
	answer fakeprovider.Cassette

	mu   sync.Mutex
	seen []*http.Request
	body [][]byte
}

func (v *fakeVertex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	v.mu.Lock()
	v.seen, v.body = append(v.seen, r), append(v.body, b)
	v.mu.Unlock()
	if v.tokens != nil && !v.tokens.Valid(r.Header.Get("Authorization")) {
		gemini.WriteError(w, http.StatusUnauthorized, "Request had invalid authentication credentials. Expected OAuth 2 access token.")
		return
	}
	w.Header().Set("Content-Type", v.answer.Response.ContentType())
	w.WriteHeader(v.answer.Response.Code)
	_, _ = io.WriteString(w, v.answer.Response.Body)
}

func (v *fakeVertex) last() (*http.Request, []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.seen[len(v.seen)-1], v.body[len(v.body)-1]
}

// vertexHarness is the proxy holding a service account's key, in front of
// a fake Vertex AI that takes only the tokens the fake token endpoint
// issues.
func vertexHarness(t *testing.T, answer fakeprovider.Cassette, withCredentials bool) (*harness, *fakeVertex, *googlefake.TokenServer, *syncBuffer) {
	ts := googlefake.NewTokenServer(t, 3600)
	fake := &fakeVertex{tokens: ts, answer: answer}
	logs := &syncBuffer{}
	o := harnessOptions{upstream: fake, logOutput: logs}
	if withCredentials {
		o.env.VertexCredentials = googlefake.ServiceAccountJSON(t, ts.TokenURI())
	} else {
		fake.tokens = nil
	}
	return newHarness(t, o), fake, ts, logs
}

// TestVertexGeminiWithTheProxysCredentials: a Vertex AI client that sends
// no credentials of its own (Claude Code's CLAUDE_CODE_SKIP_VERTEX_AUTH, a
// google-genai client behind the gateway) is served with the proxy's
// service account: every call carries a token the fake issued, one token
// for many calls, and the client's bytes and span are as without it.
func TestVertexGeminiWithTheProxysCredentials(t *testing.T) {
	c := loadAPICassette(t, "gemini", "pa-test_google_model_vertex_provider")
	h, fake, ts, _ := vertexHarness(t, c, true)
	for _, prefix := range []string{"", "/vertex_ai"} {
		for range 10 {
			resp, got := post(t, h.proxy.URL+prefix+c.Request.Path(), "application/json", c.Request.Body, nil)
			if resp.StatusCode != 200 || got != c.Response.Body {
				t.Fatalf("%s: %d %s", prefix, resp.StatusCode, got)
			}
			r, _ := fake.last()
			if r.URL.Path != c.Request.Path() {
				t.Errorf("upstream path %s; want %s", r.URL.Path, c.Request.Path())
			}
			h.span(t)
		}
	}
	if n := ts.Issued.Load(); n != 1 {
		t.Errorf("%d tokens issued for 20 calls; want 1, cached", n)
	}
	golden := kvMap(loadGolden(t, fixturesDir(t, "gemini")+"/spans/pa-test_google_model_vertex_provider.json").Attributes)
	resp, _ := post(t, h.proxy.URL+c.Request.Path(), "application/json", c.Request.Body, nil)
	resp.Body.Close()
	span := h.span(t)
	for _, k := range []string{"llm.provider", "llm.model_name", "llm.output_messages.0.message.content", "llm.token_count.total", "llm.input_messages.0.message.role"} {
		if fmt.Sprint(span.Attributes[k]) != fmt.Sprint(golden[k]) {
			t.Errorf("%s = %v; want %v", k, span.Attributes[k], golden[k])
		}
	}
	if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "ya29.") {
		t.Errorf("the access token is in the span")
	}
}

// TestVertexClaudeRawPredict: Claude on Vertex AI as the Anthropic SDK's
// AnthropicVertex client (and Claude Code) calls it through LiteLLM's
// /vertex_ai prefix: a Messages body with anthropic_version and no model,
// to :rawPredict. It reaches Vertex with the proxy's token, the answer
// passes byte for byte, and the span is the Messages API's.
func TestVertexClaudeRawPredict(t *testing.T) {
	c := loadAPICassette(t, "anthropic", "oi-messages")
	h, fake, _, _ := vertexHarness(t, c, true)
	const path = "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-6:rawPredict"
	body := `{"anthropic_version":"vertex-2023-10-16","max_tokens":1024,"messages":[{"role":"user","content":"What's the capital of France?"}]}`
	resp, got := post(t, h.proxy.URL+"/vertex_ai"+path, "application/json", body, map[string]string{"Authorization": "Bearer client-own-token"})
	if resp.StatusCode != 200 || got != c.Response.Body {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	r, sent := fake.last()
	if r.URL.Path != path || string(sent) != body {
		t.Errorf("upstream got %s %s", r.URL.Path, sent)
	}
	if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ya29.test-") {
		t.Errorf("upstream Authorization %q; want the proxy's token in place of the client's", a)
	}
	span := h.span(t)
	golden := kvMap(loadGolden(t, fixturesDir(t, "anthropic")+"/spans/oi-messages.json").Attributes)
	for _, k := range []string{"llm.model_name", "llm.input_messages.0.message.content", "llm.output_messages.0.message.content", "llm.token_count.prompt", "llm.token_count.completion"} {
		if fmt.Sprint(span.Attributes[k]) != fmt.Sprint(golden[k]) {
			t.Errorf("%s = %v; want %v", k, span.Attributes[k], golden[k])
		}
	}
	if span.Name != "messages.create" || span.Attributes["llm.provider"] != "google" {
		t.Errorf("span %s, provider %v", span.Name, span.Attributes["llm.provider"])
	}
}

// TestVertexClientsOwnToken: a proxy that holds no Google credentials
// passes the client's own bearer token through, and Vertex's refusal of a
// bad one reaches the client as Vertex sent it.
func TestVertexClientsOwnToken(t *testing.T) {
	c := loadAPICassette(t, "gemini", "pa-test_google_model_vertex_provider")
	h, fake, _, logs := vertexHarness(t, c, false)
	resp, got := post(t, h.proxy.URL+c.Request.Path(), "application/json", c.Request.Body, map[string]string{"Authorization": "Bearer ya29.client-token"})
	if resp.StatusCode != 200 || got != c.Response.Body {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	if r, _ := fake.last(); r.Header.Get("Authorization") != "Bearer ya29.client-token" {
		t.Errorf("upstream Authorization %q; want the client's", r.Header.Get("Authorization"))
	}
	h.span(t)
	post(t, h.proxy.URL+c.Request.Path(), "application/json", c.Request.Body, map[string]string{"Authorization": "Bearer ya29.client-token"})
	h.span(t)
	// An operator learns, once, that the proxy found no credentials.
	if n := strings.Count(logs.String(), "holds no credentials of its own for vertex_ai"); n != 1 {
		t.Errorf("the missing credentials were logged %d times; want once:\n%s", n, logs.String())
	}

	ts := googlefake.NewTokenServer(t, 3600)
	fake.tokens = ts // Vertex now checks: the client's token is not one it issued
	resp, got = post(t, h.proxy.URL+c.Request.Path(), "application/json", c.Request.Body, map[string]string{"Authorization": "Bearer ya29.client-token"})
	if resp.StatusCode != 401 || !strings.Contains(got, `"status":"UNAUTHENTICATED"`) {
		t.Errorf("%d %s; want Vertex's 401", resp.StatusCode, got)
	}
	span := h.span(t)
	if !strings.HasPrefix(span.StatusMessage, "ClientError: 401 UNAUTHENTICATED. {'error': {'code': 401,") {
		t.Errorf("status %q", span.StatusMessage)
	}
}
