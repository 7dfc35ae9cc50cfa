package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// deployment is a fake upstream deployment: it fails with each status of
// its script in turn, then answers with a recorded answer, byte for byte.
type deployment struct {
	*httptest.Server
	mu     sync.Mutex
	script []int
	answer fakeprovider.Response
	seen   []seenRequest
}

type seenRequest struct {
	Host, Path string
	Header     http.Header
	Body       string
}

// contextWindow400 in a script answers OpenAI's 400 for a prompt longer
// than the context window.
const contextWindow400 = -400

func newDeployment(t *testing.T, answer fakeprovider.Response, script ...int) *deployment {
	d := &deployment{script: script, answer: answer}
	d.Server = httptest.NewServer(d)
	t.Cleanup(d.Close)
	return d
}

func (d *deployment) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	d.mu.Lock()
	host := r.Host
	if orig := r.Header.Get("X-Test-Original-Host"); orig != "" {
		host = orig
	}
	d.seen = append(d.seen, seenRequest{Host: host, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
	status := 0
	if len(d.script) > 0 {
		status, d.script = d.script[0], d.script[1:]
	}
	d.mu.Unlock()
	if status == contextWindow400 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"This model's maximum context length is 400 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`)
		return
	}
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0.05")
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"scripted failure %d","type":"server_error","param":null,"code":null}}`, status)
		return
	}
	w.Header().Set("Content-Type", d.answer.ContentType())
	w.WriteHeader(d.answer.Code)
	if f, ok := w.(http.Flusher); ok && d.answer.IsStream() {
		for _, ev := range fakeprovider.Events(d.answer.Body) {
			io.WriteString(w, ev)
			f.Flush()
		}
		return
	}
	io.WriteString(w, d.answer.Body)
}

func (d *deployment) requests() []seenRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seen)
}

// redirect sends every upstream request to one fake deployment, whatever
// host the config names, and tells it which host that was.
type redirect struct{ to *url.URL }

func (rd redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.Header.Set("X-Test-Original-Host", r.URL.Host)
	out.URL.Scheme, out.URL.Host, out.Host = rd.to.Scheme, rd.to.Host, ""
	return http.DefaultTransport.RoundTrip(out)
}

func docsConfig(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "litellmconfig", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const chatBody = `{"model":%q,"messages":[{"role":"user","content":"Hello!"}]}`

// The Quick Start config of LiteLLM's docs, unchanged: its master key
// keeps out callers without it, its two Azure deployments of gpt-4o share
// the calls with their own keys, the bedrock entry answers a clear 400,
// /models and /model/info list the config, and every answer's call id and
// model id lead to its span.
func TestConfigFromLiteLLMDocs(t *testing.T) {
	noAWSCredentials(t) // the docs' Bedrock entry names none
	answer := loadCassette(t, "chat-basic").Response
	fake := newDeployment(t, answer)
	to, _ := url.Parse(fake.URL)
	h := newHarness(t, harnessOptions{
		config:    docsConfig(t, "docs-configs-quick-start.yaml"),
		lookup:    map[string]string{"AZURE_API_KEY_EU": "key-eu", "AZURE_API_KEY_CA": "key-ca"},
		transport: redirect{to: to},
		env:       upstream.Env{AzureEnv: upstream.AzureEnv{AzureAPIVersion: "2024-12-01-preview"}}, // envconfig's default in main
	})
	auth := map[string]string{"Authorization": "Bearer sk-1234"}

	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", fmt.Sprintf(chatBody, "gpt-4o"), nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Authentication Error") {
		t.Fatalf("without the master key: %d %s", resp.StatusCode, body)
	}
	if n := len(fake.requests()); n != 0 {
		t.Fatalf("a refused call reached the upstream %d times", n)
	}

	models := get(t, h.proxy.URL+"/v1/models", auth)
	var list struct {
		Data []struct {
			ID, Object string
		}
		Object string
	}
	if err := json.Unmarshal([]byte(models), &list); err != nil || list.Object != "list" {
		t.Fatalf("/v1/models: %v %s", err, models)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	if want := []string{"gpt-4o", "bedrock-claude-v1", "anthropic-claude", "vllm-models"}; !slices.Equal(ids, want) {
		t.Errorf("/v1/models lists %q, want %q", ids, want)
	}

	info := get(t, h.proxy.URL+"/model/info", auth)
	if strings.Contains(info, "key-eu") || strings.Contains(info, "api_key") {
		t.Errorf("/model/info shows a key: %s", info)
	}
	var infos struct {
		Data []struct {
			ModelName     string         `json:"model_name"`
			LiteLLMParams map[string]any `json:"litellm_params"`
			ModelInfo     map[string]any `json:"model_info"`
		}
	}
	if err := json.Unmarshal([]byte(info), &infos); err != nil || len(infos.Data) != 6 {
		t.Fatalf("/model/info: %v %s", err, info)
	}
	idOf := map[string]string{} // api_base → model id
	for _, d := range infos.Data {
		if base, ok := d.LiteLLMParams["api_base"].(string); ok {
			idOf[base] = d.ModelInfo["id"].(string)
		}
	}

	hosts := map[string]int{}
	for range 16 {
		resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", fmt.Sprintf(chatBody, "gpt-4o"), auth)
		if resp.StatusCode != http.StatusOK || body != answer.Body {
			t.Fatalf("status %d, body differs from the recording: %s", resp.StatusCode, body)
		}
		seen := fake.requests()
		last := seen[len(seen)-1]
		hosts[last.Host]++
		region, key := "eu", "key-eu"
		base := "https://my-endpoint-europe-berri-992.openai.azure.com/"
		if strings.Contains(last.Host, "canada") {
			region, key, base = "ca", "key-ca", "https://my-endpoint-canada-berri992.openai.azure.com/"
		}
		if want := "/openai/deployments/gpt-4o-" + region + "/chat/completions?api-version=2024-12-01-preview"; last.Path != want {
			t.Errorf("upstream path %s, want %s", last.Path, want)
		}
		if last.Header.Get("Api-Key") != key || last.Header.Get("Authorization") != "" {
			t.Errorf("upstream credentials: api-key %q, authorization %q; want the deployment's key only",
				last.Header.Get("Api-Key"), last.Header.Get("Authorization"))
		}
		if !strings.Contains(last.Body, `"model":"gpt-4o-`+region+`"`) {
			t.Errorf("upstream body names no deployment: %s", last.Body)
		}
		span := h.span(t)
		modelID := resp.Header.Get("X-Litellm-Model-Id")
		if modelID == "" || modelID != idOf[base] {
			t.Errorf("x-litellm-model-id %q, want /model/info's id %q", modelID, idOf[base])
		}
		want := map[string]any{
			"llm.provider": "azure", "litellm.model_group": "gpt-4o", "litellm.model_id": modelID,
			"litellm.call_id": resp.Header.Get("X-Litellm-Call-Id"), "llm.model_name": "gpt-5-nano-2025-08-07",
		}
		for k, v := range want {
			if span.Attributes[k] != v {
				t.Errorf("span %s = %v, want %v", k, span.Attributes[k], v)
			}
		}
	}
	if len(hosts) != 2 {
		t.Errorf("16 calls went to %v; want both deployments used", hosts)
	}

	// The docs' Bedrock entry is served (translated to Converse), but the
	// proxy here holds no AWS credentials: a 401 that says what to set,
	// and nothing sent.
	before := len(fake.requests())
	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json", fmt.Sprintf(chatBody, "bedrock-claude-v1"), auth)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(msg, "AWS_ACCESS_KEY_ID") {
		t.Errorf("bedrock entry: %d %s", resp.StatusCode, body)
	}
	if len(fake.requests()) != before {
		t.Error("the bedrock call was forwarded")
	}
}

func get(t *testing.T, url string, header map[string]string) string {
	t.Helper()
	resp, body := send(t, http.MethodGet, url, "", "", header)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}

// attemptEvents are a span's failed attempts: the status of each.
func attemptEvents(span otlptest.Span) []int64 {
	var out []int64
	for _, e := range span.Events {
		if e.Name == "llmproxy.attempt_failed" {
			out = append(out, e.Attributes["http.response.status_code"].(int64))
		}
	}
	return out
}

// Retries and fallbacks as LiteLLM makes them: a 5xx is retried, a 429
// that leaves the model_name nothing else goes to the fallback; each
// failed attempt is an event on the call's one span, and the client gets
// the answer of the attempt that succeeded, byte for byte.
func TestConfigRetriesAndFallbacks(t *testing.T) {
	plain := loadCassette(t, "chat-basic").Response
	streamed := loadCassette(t, "chat-streaming").Response
	tests := []struct {
		name              string
		answer            fakeprovider.Response
		primary, backup   []int
		stream            bool
		wantStatus        int
		wantEvents        []int64
		wantFrom          string // primary or backup
		retries, fallback string
	}{
		{name: "retry after 500", answer: plain, primary: []int{500}, wantStatus: 200, wantEvents: []int64{500}, wantFrom: "primary", retries: "1", fallback: "0"},
		{name: "fallback after 429", answer: plain, primary: []int{429, 429}, wantStatus: 200, wantEvents: []int64{429, 429}, wantFrom: "backup", retries: "1", fallback: "1"},
		{name: "a 400 ends the call", answer: plain, primary: []int{400}, wantStatus: 400, retries: "0", fallback: "0"},
		{name: "fallback after a context window 400", answer: plain, primary: []int{contextWindow400}, wantStatus: 200, wantEvents: []int64{400}, wantFrom: "backup", retries: "0", fallback: "1"},
		{name: "every attempt fails", answer: plain, primary: []int{500, 502}, backup: []int{503, 504}, wantStatus: 504, wantEvents: []int64{500, 502, 503}, retries: "2", fallback: "1"},
		{name: "stream retried before its first byte", answer: streamed, primary: []int{503}, stream: true, wantStatus: 200, wantEvents: []int64{503}, wantFrom: "primary", retries: "1", fallback: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := newDeployment(t, tt.answer, tt.primary...)
			backup := newDeployment(t, tt.answer, tt.backup...)
			h := newHarness(t, harnessOptions{config: fmt.Sprintf(`
model_list:
  - model_name: primary
    litellm_params: {model: openai/gpt-5-nano, api_base: %q, api_key: sk-primary}
  - model_name: backup
    litellm_params: {model: openai/nano-deployment, api_base: %q, api_key: sk-backup, organization: org-backup, extra_headers: {X-Team: search}}
    model_info: {id: backup-1, base_model: gpt-5-nano}
router_settings:
  num_retries: 1
  retry_after: 0
  fallbacks: [{primary: [backup]}]
`, primary.URL+"/v1", backup.URL+"/v1")})
			body := fmt.Sprintf(chatBody, "primary")
			if tt.stream {
				body = `{"model":"primary","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello!"}]}`
			}
			resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, got)
			}
			if tt.wantStatus == 200 && got != tt.answer.Body {
				t.Errorf("the client's answer differs from the recording:\n%s", got)
			}
			if tt.wantStatus != 200 && !strings.Contains(got, fmt.Sprintf("scripted failure %d", tt.wantStatus)) {
				t.Errorf("the client did not get the last attempt's error: %s", got)
			}
			if r, f := resp.Header.Get("X-Litellm-Attempted-Retries"), resp.Header.Get("X-Litellm-Attempted-Fallbacks"); r != tt.retries || f != tt.fallback {
				t.Errorf("attempted retries %s fallbacks %s, want %s and %s", r, f, tt.retries, tt.fallback)
			}
			span := h.span(t)
			if got := attemptEvents(span); !slices.Equal(got, tt.wantEvents) && len(got)+len(tt.wantEvents) > 0 {
				t.Errorf("attempt events %v, want %v", got, tt.wantEvents)
			}
			if span.Attributes["litellm.call_id"] != resp.Header.Get("X-Litellm-Call-Id") {
				t.Errorf("span call id %v, header %s", span.Attributes["litellm.call_id"], resp.Header.Get("X-Litellm-Call-Id"))
			}
			switch tt.wantFrom {
			case "primary":
				if span.Attributes["litellm.model_group"] != "primary" || span.StatusCode != 1 {
					t.Errorf("span %v status %v", span.Attributes["litellm.model_group"], span.StatusCode)
				}
			case "backup":
				// The span names the deployment that answered, and the base
				// model Phoenix prices rather than the deployment's name.
				want := map[string]any{"litellm.model_group": "backup", "litellm.model_id": "backup-1", "llm.model_name": "gpt-5-nano"}
				for k, v := range want {
					if span.Attributes[k] != v {
						t.Errorf("span %s = %v, want %v", k, span.Attributes[k], v)
					}
				}
				if resp.Header.Get("X-Litellm-Model-Id") != "backup-1" {
					t.Errorf("x-litellm-model-id %q", resp.Header.Get("X-Litellm-Model-Id"))
				}
				seen := backup.requests()
				if len(seen) != 1 || seen[0].Header.Get("Authorization") != "Bearer sk-backup" || !strings.Contains(seen[0].Body, `"model":"nano-deployment"`) ||
					seen[0].Header.Get("OpenAI-Organization") != "org-backup" || seen[0].Header.Get("X-Team") != "search" {
					t.Errorf("backup saw %+v", seen)
				}
			default:
				if span.StatusCode != 2 {
					t.Errorf("span status %v, want an error", span.StatusCode)
				}
			}
		})
	}
}

// A stream that breaks after its first bytes reached the client is not
// retried: the client sees it break, and the upstream saw one request.
func TestConfigNoRetryAfterFirstByte(t *testing.T) {
	n := 0
	var mu sync.Mutex
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	t.Cleanup(up.Close)
	h := newHarness(t, harnessOptions{config: fmt.Sprintf(`
model_list:
  - model_name: m
    litellm_params: {model: openai/m, api_base: %q}
router_settings: {num_retries: 3}
`, up.URL)})
	req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || !strings.Contains(string(got), `"content":"Hi"`) {
		t.Errorf("client read %q, err %v; want the first event, then a broken stream", got, err)
	}
	span := h.span(t)
	mu.Lock()
	defer mu.Unlock()
	if n != 1 || len(attemptEvents(span)) != 0 {
		t.Errorf("upstream called %d times, %d attempt events; want 1 and 0", n, len(attemptEvents(span)))
	}
}

// A call names its Phoenix project by header or metadata; its span carries
// that project's resource, and the rest stay in the default project. With
// a master key, only names matching the pattern are taken; beyond the
// bound, spans stay in the default project, marked.
func TestPerRequestProject(t *testing.T) {
	fake := newDeployment(t, loadCassette(t, "chat-basic").Response)
	h := newHarness(t, harnessOptions{
		openAIBase: fake.URL + "/v1", masterKey: "sk-master",
		projectPattern: regexp.MustCompile(`^(?:team-[a-z]+)$`), maxProjects: 2,
	})
	auth := "Bearer sk-master"
	tests := []struct {
		name, header, body string
		status             int
		project            string
		limited            bool
	}{
		{"header", "team-a", fmt.Sprintf(chatBody, "gpt-5-nano"), 200, "team-a", false},
		{"metadata", "", `{"model":"gpt-5-nano","metadata":{"phoenix_project_name":"team-b","session_id":"s1"},"messages":[{"role":"user","content":"Hello!"}]}`, 200, "team-b", false},
		{"litellm_metadata wins", "", `{"model":"gpt-5-nano","metadata":{"phoenix_project_name":"team-x"},"litellm_metadata":{"phoenix_project_name":"team-a"},"messages":[{"role":"user","content":"Hello!"}]}`, 200, "team-a", false},
		{"none", "", fmt.Sprintf(chatBody, "gpt-5-nano"), 200, "proxy-tests", false},
		{"beyond the bound", "team-c", fmt.Sprintf(chatBody, "gpt-5-nano"), 200, "proxy-tests", true},
		{"not matching the pattern", "other", fmt.Sprintf(chatBody, "gpt-5-nano"), 403, "", false},
		{"control characters", "", `{"model":"gpt-5-nano","metadata":{"phoenix_project_name":"team\u0001"},"messages":[]}`, 400, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.requests())
			hdr := map[string]string{"Authorization": auth}
			if tt.header != "" {
				hdr["X-Phoenix-Project-Name"] = tt.header
			}
			resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", tt.body, hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				if len(fake.requests()) != before {
					t.Error("a refused call was forwarded")
				}
				return
			}
			if seen := fake.requests(); seen[len(seen)-1].Header.Get("X-Phoenix-Project-Name") != "" {
				t.Error("x-phoenix-project-name was forwarded to the provider")
			}
			span := h.span(t)
			if got := span.Resource["openinference.project.name"]; got != tt.project {
				t.Errorf("project %v, want %s", got, tt.project)
			}
			for k := range span.Attributes {
				if strings.HasPrefix(k, "llmproxy.internal") {
					t.Errorf("internal attribute %s reached the collector", k)
				}
			}
			limited := false
			for _, e := range span.Events {
				limited = limited || e.Name == "llmproxy.project_limit"
			}
			if limited != tt.limited {
				t.Errorf("project_limit event: %v, want %v", limited, tt.limited)
			}
		})
	}
}

// A fallback that cannot take the call (an Anthropic deployment for
// /embeddings) is skipped, recorded on the span, and the client gets the
// last upstream answer, not an error of the proxy's making.
func TestConfigSkipsFallbacksThatCannotServe(t *testing.T) {
	primary := newDeployment(t, loadCassette(t, "chat-basic").Response, 503)
	h := newHarness(t, harnessOptions{config: fmt.Sprintf(`
model_list:
  - model_name: emb
    litellm_params: {model: openai/text-embedding-3-small, api_base: %q}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %q}
router_settings:
  num_retries: 0
  fallbacks: [{emb: [claude]}]
`, primary.URL+"/v1", primary.URL)})
	resp, body := post(t, h.proxy.URL+"/v1/embeddings", "application/json", `{"model":"emb","input":"hi"}`, nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "scripted failure 503") {
		t.Fatalf("status %d %s; want the upstream's 503", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Litellm-Call-Id") == "" {
		t.Error("no call id on the answer")
	}
	span := h.span(t)
	var skipped []string
	for _, e := range span.Events {
		if e.Name == "llmproxy.attempt_failed" && e.Attributes["llmproxy.attempt"] == int64(0) {
			skipped = append(skipped, e.Attributes["litellm.model_group"].(string))
		}
	}
	if !slices.Equal(skipped, []string{"claude"}) || span.Attributes["litellm.model_group"] != "emb" {
		t.Errorf("skipped %q, model group %v", skipped, span.Attributes["litellm.model_group"])
	}
	if n := len(primary.requests()); n != 1 {
		t.Errorf("upstream saw %d requests, want 1", n)
	}
}

// stream_timeout bounds the wait for a stream's headers, not the stream:
// a translated Anthropic stream longer than it reaches the client whole.
func TestConfigStreamTimeoutSparesTranslatedStreams(t *testing.T) {
	c, err := fakeprovider.LoadFile(filepath.Join(fixturesDir(t, "anthropic"), "cassettes", "oi-messages_streaming.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	events := fakeprovider.Events(c.Response.Body)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range events {
			io.WriteString(w, ev)
			w.(http.Flusher).Flush()
			time.Sleep(400 * time.Millisecond / time.Duration(len(events)))
		}
	}))
	t.Cleanup(slow.Close)
	h := newHarness(t, harnessOptions{config: fmt.Sprintf(`
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: %q, stream_timeout: 0.1}
`, slow.URL)})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"claude","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Fatalf("status %d; the stream did not end with [DONE]: %s", resp.StatusCode, body)
	}
	if span := h.span(t); span.StatusCode != 1 {
		t.Errorf("span status %v %s, want OK", span.StatusCode, span.StatusMessage)
	}
}

// Two deployments of one model_name, each a fake server of its own, share
// the calls by their weights; each span names the deployment that answered.
func TestConfigLoadBalancing(t *testing.T) {
	answer := loadCassette(t, "chat-basic").Response
	a, b := newDeployment(t, answer), newDeployment(t, answer)
	h := newHarness(t, harnessOptions{config: fmt.Sprintf(`
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-5-nano, api_base: %q, weight: 3}
    model_info: {id: deployment-a}
  - model_name: chat
    litellm_params: {model: openai/gpt-5-nano, api_base: %q, weight: 1}
    model_info: {id: deployment-b}
`, a.URL+"/v1", b.URL+"/v1")})
	const calls = 80
	byID := map[string]int{}
	for range calls {
		resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", fmt.Sprintf(chatBody, "chat"), nil)
		if resp.StatusCode != 200 || body != answer.Body {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		span := h.span(t)
		id := resp.Header.Get("X-Litellm-Model-Id")
		base := map[string]string{"deployment-a": a.URL + "/v1", "deployment-b": b.URL + "/v1"}[id]
		if span.Attributes["litellm.model_id"] != id || span.Attributes["litellm.api_base"] != base || base == "" {
			t.Fatalf("header %q, span %v at %v", id, span.Attributes["litellm.model_id"], span.Attributes["litellm.api_base"])
		}
		byID[id]++
	}
	na, nb := len(a.requests()), len(b.requests())
	if na != byID["deployment-a"] || nb != byID["deployment-b"] || na+nb != calls {
		t.Fatalf("upstreams saw %d and %d, headers said %v", na, nb, byID)
	}
	// Weights 3:1: a gets 60 of 80 on average; fewer than 40 or more than
	// 75 is beyond six standard deviations (3.9).
	if na < 40 || na > 75 || nb == 0 {
		t.Errorf("calls shared %d:%d; want about 3:1", na, nb)
	}
}

// LiteLLM's client-side fallbacks (the body's fallbacks) are tried after
// the call's model fails, with or without a config file, and are not sent
// upstream.
func TestClientSideFallbacks(t *testing.T) {
	answer := loadCassette(t, "chat-basic").Response
	fake := newDeployment(t, answer, 503)
	h := newHarness(t, harnessOptions{openAIBase: fake.URL + "/v1"})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","fallbacks":["gpt-5-nano"],"messages":[{"role":"user","content":"Hello!"}]}`, nil)
	if resp.StatusCode != 200 || body != answer.Body || resp.Header.Get("X-Litellm-Attempted-Fallbacks") != "1" {
		t.Fatalf("status %d, fallbacks %q: %s", resp.StatusCode, resp.Header.Get("X-Litellm-Attempted-Fallbacks"), body)
	}
	seen := fake.requests()
	if len(seen) != 2 || !strings.Contains(seen[1].Body, `"model":"gpt-5-nano"`) || strings.Contains(seen[0].Body+seen[1].Body, "fallbacks") {
		t.Errorf("upstream saw %+v", seen)
	}
	span := h.span(t)
	if got := attemptEvents(span); !slices.Equal(got, []int64{503}) || span.StatusCode != 1 {
		t.Errorf("events %v, status %v", got, span.StatusCode)
	}
}

// LiteLLM's mock_testing_fallbacks: the call's model fails at once, without
// a request upstream, and its fallbacks answer; with none, a 500 says so.
func TestMockTestingFallbacks(t *testing.T) {
	answer := loadCassette(t, "chat-basic").Response
	fake := newDeployment(t, answer)
	h := newHarness(t, harnessOptions{openAIBase: fake.URL + "/v1"})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","mock_testing_fallbacks":true,"fallbacks":["gpt-5-nano"],"messages":[{"role":"user","content":"Hello!"}]}`, nil)
	if resp.StatusCode != 200 || body != answer.Body || resp.Header.Get("X-Litellm-Attempted-Fallbacks") != "1" {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	seen := fake.requests()
	if len(seen) != 1 || !strings.Contains(seen[0].Body, `"model":"gpt-5-nano"`) || strings.Contains(seen[0].Body, "mock_testing") {
		t.Errorf("upstream saw %+v", seen)
	}
	if got := attemptEvents(h.span(t)); !slices.Equal(got, []int64{500}) {
		t.Errorf("attempt events %v", got)
	}

	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","mock_testing_fallbacks":true,"messages":[{"role":"user","content":"Hello!"}]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 500 || !strings.Contains(msg, "no fallback") {
		t.Errorf("without fallbacks: %d %s", resp.StatusCode, body)
	}
	if len(fake.requests()) != 1 {
		t.Error("a mocked failure reached the upstream")
	}
	if span := h.span(t); span.StatusCode != 2 {
		t.Errorf("span status %v", span.StatusCode)
	}
}
