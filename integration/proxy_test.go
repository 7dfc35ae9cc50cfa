package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

const chatAnswer = `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`

// scripted is an upstream that answers every request with the given
// handler and counts the requests.
type scripted struct {
	calls atomic.Int32
	last  atomic.Pointer[http.Request]
	body  atomic.Pointer[[]byte]
	serve func(w http.ResponseWriter, r *http.Request)
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	b, _ := io.ReadAll(r.Body)
	s.body.Store(&b)
	s.last.Store(r)
	s.serve(w, r)
}

func answer(status int, body string) *scripted {
	return &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}}
}

func post(t *testing.T, url, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	return send(t, http.MethodPost, url, contentType, body, header)
}

// send makes one request and reads its whole answer.
func send(t *testing.T, method, url, contentType, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// openAIError checks an error answer's shape and returns its message.
func openAIError(t *testing.T, body string) (message, typ, code string) {
	t.Helper()
	var e struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    string  `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("not an OpenAI error: %q (%v)", body, err)
	}
	return e.Error.Message, e.Error.Type, e.Error.Code
}

func TestBadInputIsRejectedWithoutCallingUpstream(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, maxBodyBytes: 1024})
	tests := []struct {
		name, contentType, body string
		status                  int
		wantInMessage           string
	}{
		{"malformed JSON", "application/json", `{"model": "gpt-4o", "messages": [`, 400, "not valid JSON"},
		{"not an object", "application/json", `["gpt-4o"]`, 400, "JSON object"},
		{"missing model", "application/json", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "model"},
		{"empty model", "application/json", `{"model":"","messages":[]}`, 400, "model"},
		{"wrong content type", "text/plain", `{"model":"gpt-4o","messages":[]}`, 400, "Content-Type"},
		{"form content type", "application/x-www-form-urlencoded", `model=gpt-4o`, 400, "Content-Type"},
		{"body over the limit", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`, 413, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, h.proxy.URL+"/v1/chat/completions", tt.contentType, tt.body, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d; want %d (%s)", resp.StatusCode, tt.status, body)
			}
			msg, _, code := openAIError(t, body)
			if !strings.Contains(msg, tt.wantInMessage) {
				t.Errorf("message %q does not mention %q", msg, tt.wantInMessage)
			}
			if code != fmt.Sprint(tt.status) {
				t.Errorf("code: got %q; want %q", code, fmt.Sprint(tt.status))
			}
		})
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times for bad input; want 0", n)
	}
	// The proxy keeps serving.
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || body != chatAnswer {
		t.Errorf("after bad input: got %d %q", resp.StatusCode, body)
	}
}

func TestUpstreamUnreachableIs502WithErrorSpan(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	h := newHarness(t, harnessOptions{openAIBase: "http://" + dead + "/v1"})

	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status: got %d; want 502 (%s)", resp.StatusCode, body)
	}
	openAIError(t, body)
	span := h.span(t)
	assertErrorSpan(t, span, "UpstreamConnectionError")
	if span.Attributes["llm.input_messages.0.message.content"] != "hi" {
		t.Errorf("the failed call's request is not on its span: %v", span.Attributes)
	}
}

func TestUpstreamTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}}
	h := newHarness(t, harnessOptions{upstream: up, upstreamTimeout: 100 * time.Millisecond})
	start := time.Now()
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status: got %d; want 504 (%s)", resp.StatusCode, body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %s", d)
	}
	_, typ, _ := openAIError(t, body)
	if typ != "timeout_error" {
		t.Errorf("type: got %q; want timeout_error", typ)
	}
	assertErrorSpan(t, h.span(t), "UpstreamTimeout")
}

func TestUpstreamErrorPassesThroughAndMarksSpan(t *testing.T) {
	const rateLimited = `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(429)
		io.WriteString(w, rateLimited)
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	resp, body := post(t, h.proxy.URL+"/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if resp.StatusCode != 429 || body != rateLimited || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("got %d %q Retry-After=%q; want the upstream's answer unchanged", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	span := h.span(t)
	assertErrorSpan(t, span, "openai.RateLimitError")
	want := `RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}`
	if span.StatusMessage != want {
		t.Errorf("status message:\n got  %q\n want %q", span.StatusMessage, want)
	}
}

func assertErrorSpan(t *testing.T, span otlptest.Span, exceptionType string) {
	t.Helper()
	if span.StatusCode != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("status: got %v; want ERROR", span.StatusCode)
	}
	for _, e := range span.Events {
		if e.Name == "exception" {
			if e.Attributes["exception.type"] != exceptionType {
				t.Errorf("exception.type: got %v; want %s", e.Attributes["exception.type"], exceptionType)
			}
			if e.Attributes["exception.message"] == "" {
				t.Errorf("exception event without message")
			}
			return
		}
	}
	t.Errorf("no exception event in %v", span.Events)
}

func TestSecretsNeverReachSpans(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	secrets := map[string]string{
		"Authorization": "Bearer sk-live-authorization-secret",
		"Api-Key":       "azure-api-key-secret",
		"X-Api-Key":     "anthropic-x-api-key-secret",
	}
	resp, _ := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, secrets)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	span := h.span(t)
	all := fmt.Sprintf("%v %v %v %v", span.Attributes, span.Resource, span.Events, span.StatusMessage)
	for _, s := range []string{"authorization-secret", "azure-api-key-secret", "x-api-key-secret"} {
		if strings.Contains(all, s) {
			t.Errorf("secret %q is in the span", s)
		}
	}
	// Without a key of its own the proxy passes the client's on.
	if got := up.last.Load().Header.Get("Authorization"); got != secrets["Authorization"] {
		t.Errorf("upstream Authorization: got %q; want the client's", got)
	}
}

func TestProxyKeyReplacesClientKey(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, env: upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIKey: "sk-proxy-own-key"}}})
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`,
		map[string]string{"Authorization": "Bearer sk-client"})
	if got := up.last.Load().Header.Get("Authorization"); got != "Bearer sk-proxy-own-key" {
		t.Errorf("upstream Authorization: got %q; want the proxy's key", got)
	}
	span := h.span(t)
	if s := fmt.Sprint(span.Attributes); strings.Contains(s, "sk-proxy-own-key") {
		t.Errorf("the proxy's key is in the span")
	}
}

func TestTraceparentMakesSpanAChild(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, chatAnswer)})
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`,
		map[string]string{"traceparent": "00-" + traceID + "-" + parentID + "-01"})
	span := h.span(t)
	if span.TraceID != traceID || span.ParentSpanID != parentID {
		t.Errorf("got trace %s parent %s; want trace %s parent %s", span.TraceID, span.ParentSpanID, traceID, parentID)
	}
	// Without one, the span is a root.
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if span := h.span(t); span.ParentSpanID != "" || span.TraceID == traceID {
		t.Errorf("span without traceparent: trace %s parent %q; want a new root", span.TraceID, span.ParentSpanID)
	}
}

func TestLongConversationKeepsEveryAttribute(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, chatAnswer)})
	var msgs []string
	for i := 0; i < 200; i++ {
		role := []string{"user", "assistant"}[i%2]
		msgs = append(msgs, fmt.Sprintf(`{"role":%q,"content":"message %d"}`, role, i))
	}
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","messages":[`+strings.Join(msgs, ",")+`]}`, nil)
	span := h.span(t)
	if n := len(span.Attributes); n < 400 {
		t.Errorf("span has %d attributes; want every one of the 200 messages' (400+)", n)
	}
	for _, i := range []int{0, 127, 199} {
		key := fmt.Sprintf("llm.input_messages.%d.message.content", i)
		if got := span.Attributes[key]; got != fmt.Sprintf("message %d", i) {
			t.Errorf("%s: got %v", key, got)
		}
	}
	for _, k := range []string{"input.value", "output.value", "llm.token_count.total", "llm.output_messages.0.message.content"} {
		if _, ok := span.Attributes[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
}

func TestContextHeadersAndBodyFields(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, chatAnswer)})
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","messages":[],"user":"body-user","metadata":{"team":"search","run":3}}`,
		map[string]string{"X-Session-Id": "sess-42", "X-Tags": "prod, search ,,beta"})
	span := h.span(t)
	want := map[string]any{
		"session.id": "sess-42",
		"user.id":    "body-user",
		"metadata":   `{"team":"search","run":3}`,
		"tag.tags":   []any{"prod", "search", "beta"},
	}
	for k, w := range want {
		if got := span.Attributes[k]; fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: got %v; want %v", k, got, w)
		}
	}
	// The x-user-id header wins over the body's user.
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[],"user":"body-user"}`,
		map[string]string{"X-User-Id": "header-user"})
	if got := h.span(t).Attributes["user.id"]; got != "header-user" {
		t.Errorf("user.id: got %v; want header-user", got)
	}
}

func TestProviderPrefixRoutesAndStrips(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model": "openai/gpt-4o", "messages": []}`, nil)
	if got := string(*up.body.Load()); got != `{"model": "gpt-4o", "messages": []}` {
		t.Errorf("upstream body: got %q; want the model without its prefix and every other byte kept", got)
	}
	span := h.span(t)
	if span.Attributes["llm.provider"] != "openai" || span.Attributes["llm.system"] != "openai" {
		t.Errorf("provider/system: %v %v", span.Attributes["llm.provider"], span.Attributes["llm.system"])
	}
}

func TestRequestBodyGoesUpstreamByteForByte(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	body := "{\n  \"model\" : \"gpt-4o\",\n  \"messages\": [{\"role\":\"user\",\"content\":\"h\\u00e9\"}],\n  \"temperature\": 0.70\n}"
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body,
		map[string]string{"X-Custom": "kept", "Connection": "X-Hop", "X-Hop": "dropped"})
	if resp.StatusCode != 200 || got != chatAnswer {
		t.Fatalf("got %d %q", resp.StatusCode, got)
	}
	if sent := string(*up.body.Load()); sent != body {
		t.Errorf("upstream body:\n got  %q\n want %q", sent, body)
	}
	r := up.last.Load()
	if r.Header.Get("X-Custom") != "kept" || r.Header.Get("X-Hop") != "" {
		t.Errorf("headers: X-Custom=%q X-Hop=%q; want end-to-end kept, hop-by-hop dropped", r.Header.Get("X-Custom"), r.Header.Get("X-Hop"))
	}
	h.span(t)
}

func TestOtherV1PathsAreForwardedWithGenericSpan(t *testing.T) {
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"query":%q}`, r.URL.Path, r.URL.RawQuery)
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	resp, body := post(t, h.proxy.URL+"/v1/moderations?x=1", "application/json", `{"input":"hello"}`, nil)
	if resp.StatusCode != 200 || body != `{"path":"/v1/moderations","query":"x=1"}` {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	span := h.span(t)
	if span.Name != "ModerationCreateResponse" || span.Attributes["input.value"] != `{"input":"hello"}` || span.Attributes["output.value"] != body {
		t.Errorf("generic span: %s %v", span.Name, span.Attributes)
	}

	r, err := http.Get(h.proxy.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(b) != `{"path":"/v1/models","query":""}` {
		t.Errorf("GET /v1/models: got %d %q", r.StatusCode, b)
	}
	h.span(t)
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, chatAnswer)})
	for _, path := range []string{"/health/liveliness", "/health/readiness"} {
		r, err := http.Get(h.proxy.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Errorf("%s: %d", path, r.StatusCode)
		}
	}
	r, err := http.Get(h.proxy.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("/nope: %d", r.StatusCode)
	}
	openAIError(t, string(b))
}

// TestExporterHeaders checks the Phoenix API key travels as a bearer token.
func TestExporterHeaders(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, chatAnswer)})
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	span := h.span(t)
	if span.Resource["openinference.project.name"] != "proxy-tests" || span.Resource["service.name"] != "llmproxy" {
		t.Errorf("resource: %v", span.Resource)
	}
	md := h.receiver.Headers()
	if len(md) == 0 || len(md[0].Get("authorization")) == 0 || md[0].Get("authorization")[0] != "Bearer phoenix-key" {
		t.Errorf("export metadata: %v", md)
	}
}

// TestLiteLLMPrefixes: gemini/ goes to Gemini's OpenAI-compatible API with
// provider google; a LiteLLM provider the proxy does not serve is refused
// with a 400 that names it, and nothing goes upstream; vertex_ai/ is
// translated to Vertex AI (vertex_translate_test.go), which with no
// project to send it to is a 400 that says what to set.
func TestLiteLLMPrefixes(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, env: upstream.Env{GeminiEnv: upstream.GeminiEnv{GeminiAPIKey: "gemini-key"}}})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gemini/gemini-2.0-flash","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || body != chatAnswer {
		t.Fatalf("gemini: got %d %q", resp.StatusCode, body)
	}
	last := up.last.Load()
	if last.URL.Path != "/v1beta/openai/chat/completions" || last.Header.Get("Authorization") != "Bearer gemini-key" ||
		!strings.Contains(string(*up.body.Load()), `"model":"gemini-2.0-flash"`) {
		t.Errorf("upstream got %s, auth %q, body %s", last.URL.Path, last.Header.Get("Authorization"), *up.body.Load())
	}
	if span := h.span(t); span.Attributes["llm.provider"] != "google" {
		t.Errorf("llm.provider = %v; want google", span.Attributes["llm.provider"])
	}

	for _, model := range []string{"bedrock/invoke/anthropic.claude-3-sonnet"} {
		resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
			`{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`, nil)
		if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "InvokeModel") {
			t.Errorf("%s: got %d %q; want 400 naming the API not translated to", model, resp.StatusCode, msg)
		}
	}
	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"vertex_ai/gemini-pro","messages":[{"role":"user","content":"hi"}]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "VERTEXAI_PROJECT") {
		t.Errorf("vertex_ai/gemini-pro without a project: got %d %q; want 400 naming VERTEXAI_PROJECT", resp.StatusCode, msg)
	}
	if n := up.calls.Load(); n != 1 {
		t.Errorf("upstream called %d times; want once (gemini)", n)
	}
}

// TestMasterKey: with a master key, a caller without it (or with a wrong
// one) gets 401 in LiteLLM's format and nothing is forwarded; the right key,
// in any of the headers LiteLLM takes, passes, and never goes upstream,
// where the proxy's provider key is used; the health routes stay open.
func TestMasterKey(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, masterKey: "sk-master-1234", env: upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIKey: "sk-provider"}}})
	const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	for name, hdr := range map[string]map[string]string{
		"none":  nil,
		"wrong": {"Authorization": "Bearer sk-master-1235"},
		"short": {"Authorization": "Bearer sk-master"},
		"other": {"X-Api-Key": "sk-provider"},
	} {
		resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, hdr)
		msg, typ, code := openAIError(t, got)
		if resp.StatusCode != 401 || typ != "auth_error" || code != "401" || !strings.HasPrefix(msg, "Authentication Error") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, got)
		}
	}
	for _, path := range []string{"/v1/models", "/v1/messages", "/v1/responses/resp_1"} {
		req, _ := http.NewRequest(http.MethodGet, h.proxy.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 && resp.StatusCode != 404 {
			t.Errorf("GET %s without the key: %d", path, resp.StatusCode)
		}
	}
	if n := up.calls.Load(); n != 0 {
		t.Fatalf("%d calls forwarded without the master key", n)
	}
	for _, hdr := range []map[string]string{{"Authorization": "Bearer sk-master-1234"}, {"Api-Key": "sk-master-1234"}, {"X-Api-Key": "sk-master-1234"},
		{"X-Litellm-Api-Key": "sk-master-1234"}} {
		resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, hdr)
		if resp.StatusCode != 200 || got != chatAnswer {
			t.Errorf("with %v: %d %s", hdr, resp.StatusCode, got)
		}
		last := up.last.Load()
		if a := last.Header.Get("Authorization"); a != "Bearer sk-provider" || last.Header.Get("Api-Key") != "" || last.Header.Get("X-Api-Key") != "" ||
			last.Header.Get("X-Litellm-Api-Key") != "" {
			t.Errorf("upstream got Authorization %q, api-key %q, x-api-key %q", a, last.Header.Get("Api-Key"), last.Header.Get("X-Api-Key"))
		}
	}
	if r, err := http.Get(h.proxy.URL + "/health/liveliness"); err != nil || r.StatusCode != 200 {
		t.Errorf("health route with a master key: %v %v", r, err)
	}
}

// TestLiteLLMHeadersAndMetadata: the answer carries LiteLLM's headers and a
// traceresponse naming the span, whose litellm.call_id is the header's; the
// request's LiteLLM metadata and headers land in session.id, user.id,
// tag.tags and metadata; litellm_metadata is not forwarded.
func TestLiteLLMHeadersAndMetadata(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	resp, _ := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"metadata":{"session_id":"sess-1","trace_user_id":"user-7","tags":["prod","search"],"team":"growth"}}`,
		map[string]string{"X-Litellm-Tags": "from-header"})
	callID := resp.Header.Get("X-Litellm-Call-Id")
	for _, name := range []string{"X-Litellm-Call-Id", "X-Litellm-Model-Api-Base", "X-Litellm-Response-Duration-Ms",
		"X-Litellm-Overhead-Duration-Ms", "X-Litellm-Attempted-Retries", "X-Litellm-Attempted-Fallbacks", "X-Litellm-Version", "Traceresponse"} {
		if resp.Header.Get(name) == "" {
			t.Errorf("no %s header", name)
		}
	}
	span := h.span(t)
	if span.Attributes["litellm.call_id"] != callID {
		t.Errorf("litellm.call_id = %v; want the header's %q", span.Attributes["litellm.call_id"], callID)
	}
	var traceID, spanID string
	if _, err := fmt.Sscanf(strings.ReplaceAll(resp.Header.Get("Traceresponse"), "-", " "), "00 %s %s", &traceID, &spanID); err != nil ||
		traceID != span.TraceID || spanID != span.SpanID {
		t.Errorf("traceresponse %q; want trace %s span %s", resp.Header.Get("Traceresponse"), span.TraceID, span.SpanID)
	}
	want := map[string]any{"session.id": "sess-1", "user.id": "user-7", "metadata": `{"team":"growth"}`}
	for k, v := range want {
		if span.Attributes[k] != v {
			t.Errorf("%s = %v; want %v", k, span.Attributes[k], v)
		}
	}
	if tags := fmt.Sprint(span.Attributes["tag.tags"]); tags != "[from-header prod search]" {
		t.Errorf("tag.tags = %s", tags)
	}

	// On the Responses API, LiteLLM's metadata is litellm_metadata; the
	// API's own metadata is the provider's and goes upstream.
	up2 := answer(200, `{"id":"resp_1","object":"response","model":"gpt-4o","output":[],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}`)
	h2 := newHarness(t, harnessOptions{upstream: up2})
	post(t, h2.proxy.URL+"/v1/responses", "application/json",
		`{"model":"gpt-4o","input":"hi","metadata":{"order":"42"},"litellm_metadata":{"session_id":"sess-2","tags":["t"]}}`,
		map[string]string{"X-Litellm-Session-Id": "sess-header"})
	sent := string(*up2.body.Load())
	if strings.Contains(sent, "litellm_metadata") || !strings.Contains(sent, `"metadata":{"order":"42"}`) {
		t.Errorf("upstream got %s", sent)
	}
	span = h2.span(t)
	if span.Attributes["session.id"] != "sess-header" || fmt.Sprint(span.Attributes["tag.tags"]) != "[t]" {
		t.Errorf("session %v, tags %v", span.Attributes["session.id"], span.Attributes["tag.tags"])
	}
}

// TestLiteLLMTraceIDAndGenerationName: calls that give one LiteLLM trace_id
// (metadata's trace_id or existing_trace_id, or the x-litellm-trace-id
// header) land in one trace, a UUID being the trace id itself; a W3C
// traceparent wins over them; generation_name names the span.
func TestLiteLLMTraceIDAndGenerationName(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	call := func(metadata string, header map[string]string) otlptest.Span {
		t.Helper()
		post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
			`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]`+metadata+`}`, header)
		return h.span(t)
	}
	a := call(`,"metadata":{"trace_id":"conversation-42","generation_name":"summarize"}`, nil)
	b := call(`,"litellm_metadata":{"existing_trace_id":"conversation-42"}`, nil)
	c := call("", map[string]string{"X-Litellm-Trace-Id": "conversation-42"})
	if a.TraceID != b.TraceID || a.TraceID != c.TraceID || a.SpanID == b.SpanID {
		t.Errorf("traces %s %s %s; want one trace for one trace_id", a.TraceID, b.TraceID, c.TraceID)
	}
	if a.Name != "summarize" || b.Name != "ChatCompletion" {
		t.Errorf("span names %q %q; want generation_name, then the operation's", a.Name, b.Name)
	}
	uuid := call(`,"metadata":{"trace_id":"0af76519-16cd-43dd-8448-eb211c80319c"}`, nil)
	if uuid.TraceID != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("a UUID trace_id gave trace %s", uuid.TraceID)
	}
	parent := call(`,"metadata":{"trace_id":"conversation-42"}`,
		map[string]string{"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	if parent.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || parent.ParentSpanID != "00f067aa0ba902b7" {
		t.Errorf("with a traceparent: trace %s parent %s", parent.TraceID, parent.ParentSpanID)
	}
}

// TestMockResponse: LiteLLM's mock_response is answered by the proxy, plain
// and streamed, with nothing sent upstream, and traced like any call,
// marked as mocked.
func TestMockResponse(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"mock_response":"Hello from the proxy!"}`, nil)
	var got struct {
		Object  string `json:"object"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct{ Role, Content string } `json:"message"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != 200 || got.Object != "chat.completion" ||
		got.Model != "gpt-4o-mini" || got.Choices[0].Message.Content != "Hello from the proxy!" || got.Usage.TotalTokens != 30 {
		t.Fatalf("got %d %s (%v)", resp.StatusCode, body, err)
	}
	span := h.span(t)
	if span.Attributes["litellm.mock_response"] != true || span.Attributes["llm.output_messages.0.message.content"] != "Hello from the proxy!" ||
		span.Attributes["llm.token_count.total"] != int64(30) {
		t.Errorf("span: %v", span.Attributes)
	}

	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"mock_response":"Hello from the proxy!"}`, nil)
	var text string
	var p stream.Parser
	done := false
	p.Feed([]byte(body), func(ev stream.Event) {
		if string(ev.Data) == "[DONE]" {
			done = true
			return
		}
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Errorf("chunk %s: %v", ev.Data, err)
		}
		if len(c.Choices) == 0 {
			t.Errorf("a usage chunk the client did not ask for: %s", ev.Data)
			return
		}
		text += c.Choices[0].Delta.Content
	})
	if resp.StatusCode != 200 || text != "Hello from the proxy!" || !done || strings.Contains(body, `"usage"`) {
		t.Errorf("stream: %d %q done=%v\n%s", resp.StatusCode, text, done, body)
	}
	span = h.span(t)
	if span.Attributes["litellm.mock_response"] != true || span.Attributes["llm.token_count.total"] != int64(30) {
		t.Errorf("stream span: %v", span.Attributes)
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times", n)
	}
}

// TestLiteLLMMetadataNotForwarded: LiteLLM's metadata on chat, completions
// and embeddings is read (the span has it) and never reaches the provider,
// as LiteLLM's proxy does (BerriAI/litellm #9104); the Responses and
// Messages APIs' own metadata is theirs, and goes upstream.
func TestLiteLLMMetadataNotForwarded(t *testing.T) {
	const md = `"metadata":{"tags":["prod"],"trace_user_id":"u-1","spend_logs_metadata":{"team":3}}`
	for _, tt := range []struct {
		path, body string
		forwarded  bool
	}{
		{"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],` + md + `}`, false},
		{"/v1/chat/completions", `{"model":"gpt-4o",` + md + `,"messages":[{"role":"user","content":"hi"}],"api_key":"sk-1"}`, false},
		{"/v1/completions", `{"model":"gpt-3.5-turbo-instruct","prompt":"hi",` + md + `}`, false},
		{"/v1/embeddings", `{"model":"text-embedding-3-small","input":"hi",` + md + `}`, false},
		{"/v1/responses", `{"model":"gpt-4o","input":"hi",` + md + `}`, true},
		{"/v1/messages", `{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}],` + md + `}`, true},
	} {
		up := answer(200, `{"id":"x","object":"chat.completion","model":"m","choices":[]}`)
		h := newHarness(t, harnessOptions{upstream: up})
		resp, body := post(t, h.proxy.URL+tt.path, "application/json", tt.body, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", tt.path, resp.StatusCode, body)
		}
		sent := string(*up.body.Load())
		if got := strings.Contains(sent, `"metadata"`); got != tt.forwarded || !json.Valid([]byte(sent)) {
			t.Errorf("%s: upstream got %s; metadata forwarded %v, want %v", tt.path, sent, got, tt.forwarded)
		}
		if strings.Contains(sent, "api_key") || !strings.Contains(sent, `"model"`) {
			t.Errorf("%s: upstream got %s", tt.path, sent)
		}
		if span := h.span(t); !tt.forwarded && span.Attributes["user.id"] != "u-1" {
			t.Errorf("%s: user.id = %v; want LiteLLM's trace_user_id read", tt.path, span.Attributes["user.id"])
		}
	}
}
