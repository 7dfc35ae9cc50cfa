package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/googlefake"
)

// geminiSSEStreams are recorded Gemini API streams (?alt=sse): text,
// parallel function calls, and thoughts with signatures.
var geminiSSEStreams = []string{"oi-streaming_text_content", "oi-response_with_multiple_tool_calls-True", "pa-test_google_model_thinking_part_iter"}

// TestGeminiStreamsInLockstep: the fake Gemini API sends chunk i only
// after the client has read chunk i-1 through the proxy.
func TestGeminiStreamsInLockstep(t *testing.T) {
	for _, name := range geminiSSEStreams {
		t.Run(name, func(t *testing.T) {
			lockstep(t, loadAPICassette(t, "gemini", name), false, false)
		})
	}
}

// jsonArrayOf is a recorded SSE stream as Google writes it without
// ?alt=sse: one JSON array, its chunks separated by ",\r\n".
func jsonArrayOf(sse string) []string {
	var pieces []string
	for i, ev := range fakeprovider.Events(sse) {
		data := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ev), "data:"))
		sep := ",\r\n"
		if i == 0 {
			sep = "["
		}
		pieces = append(pieces, sep+data+"\n")
	}
	return append(pieces, "]")
}

// TestGeminiJSONArrayStream: :streamGenerateContent without ?alt=sse
// answers one JSON array, written as it is generated. It passes piece by
// piece in lockstep, byte for byte, and its span is the stream's.
func TestGeminiJSONArrayStream(t *testing.T) {
	c := loadAPICassette(t, "gemini", "oi-streaming_text_content")
	pieces := jsonArrayOf(c.Response.Body)
	want := strings.Join(pieces, "")
	var received atomic.Int64
	stalled := atomic.Int64{}
	stalled.Store(-1)
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(200)
		sent := 0
		for i, p := range pieces {
			deadline := time.Now().Add(2 * time.Second)
			for received.Load() < int64(sent) && stalled.Load() < 0 {
				if time.Now().After(deadline) {
					stalled.CompareAndSwap(-1, int64(i))
				}
				time.Sleep(50 * time.Microsecond)
			}
			_, _ = io.WriteString(w, p)
			w.(http.Flusher).Flush()
			sent += len(p)
		}
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	resp := open(t, t.Context(), h.proxy.URL+"/v1beta/models/gemini-2.0-flash:streamGenerateContent", c.Request.Body)
	defer resp.Body.Close()
	var got strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		received.Add(int64(n))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if i := stalled.Load(); i >= 0 {
		t.Errorf("piece %d: the pieces before it had not all reached the client when the upstream was ready to send it", i)
	}
	if got.String() != want {
		t.Errorf("body differs:\n got  %.300q\n want %.300q", got.String(), want)
	}
	if up.last.Load().URL.Path != "/v1beta/models/gemini-2.0-flash:streamGenerateContent" {
		t.Errorf("upstream path %s", up.last.Load().URL.Path)
	}
	span := h.span(t)
	golden := kvMap(loadGolden(t, fixturesDir(t, "gemini")+"/spans/oi-streaming_text_content.json").Attributes)
	for _, k := range []string{"llm.output_messages.0.message.content", "llm.token_count.total", "llm.finish_reason", "llm.model_name"} {
		if fmt.Sprint(span.Attributes[k]) != fmt.Sprint(golden[k]) {
			t.Errorf("%s = %.100v; want %.100v", k, span.Attributes[k], golden[k])
		}
	}
	if span.Name != "GenerateContentStream" || len(span.Events) == 0 || span.Events[0].Name != "First Token Stream Event" {
		t.Errorf("span %s with events %v", span.Name, span.Events)
	}
}

// TestGeminiAPIKeys: the client's key (x-goog-api-key, or ?key= in the
// URL) passes when the proxy holds none; the proxy's replaces it when it
// does, the query key removed; a master key is accepted in either place
// and goes no further. No key reaches a span or a log line.
func TestGeminiAPIKeys(t *testing.T) {
	const body = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	const answer = `{"candidates":[{"content":{"parts":[{"text":"Hello"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":1,"totalTokenCount":2},"modelVersion":"gemini-2.0-flash"}`
	for _, tt := range []struct {
		name                string
		proxyKey, masterKey string
		query               string
		header              map[string]string
		wantStatus          int
		wantKeyHeader       string // what the upstream gets in x-goog-api-key
		wantQuery           string
	}{
		{name: "client header passes", header: map[string]string{"X-Goog-Api-Key": "client-key-1"}, wantStatus: 200, wantKeyHeader: "client-key-1"},
		{name: "client query key passes", query: "alt=sse&key=client-key-2", wantStatus: 200, wantQuery: "alt=sse&key=client-key-2"},
		{name: "proxy key replaces header", proxyKey: "proxy-key", header: map[string]string{"X-Goog-Api-Key": "client-key-3"}, wantStatus: 200, wantKeyHeader: "proxy-key"},
		{name: "proxy key replaces query key", proxyKey: "proxy-key", query: "key=client-key-4&alt=sse", wantStatus: 200, wantKeyHeader: "proxy-key", wantQuery: "alt=sse"},
		{name: "master key in header", proxyKey: "proxy-key", masterKey: "sk-master-5", header: map[string]string{"X-Goog-Api-Key": "sk-master-5"}, wantStatus: 200, wantKeyHeader: "proxy-key"},
		{name: "master key in query", proxyKey: "proxy-key", masterKey: "sk-master-6", query: "key=sk-master-6", wantStatus: 200, wantKeyHeader: "proxy-key"},
		{name: "wrong master key", proxyKey: "proxy-key", masterKey: "sk-master-7", header: map[string]string{"X-Goog-Api-Key": "client-key-7"}, wantStatus: 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, answer)
			}}
			logs := &syncBuffer{}
			o := harnessOptions{upstream: up, logOutput: logs, masterKey: tt.masterKey}
			o.env.GeminiAPIKey = tt.proxyKey
			h := newHarness(t, o)
			url := h.proxy.URL + "/v1beta/models/gemini-2.0-flash:generateContent"
			if tt.query != "" {
				url += "?" + tt.query
			}
			resp, got := post(t, url, "application/json", body, tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			if tt.wantStatus != 200 {
				if up.calls.Load() != 0 {
					t.Errorf("the upstream was called")
				}
				return
			}
			if got != answer {
				t.Errorf("answer %s", got)
			}
			last := up.last.Load()
			if k := last.Header.Get("X-Goog-Api-Key"); k != tt.wantKeyHeader {
				t.Errorf("upstream x-goog-api-key %q; want %q", k, tt.wantKeyHeader)
			}
			if last.URL.RawQuery != tt.wantQuery {
				t.Errorf("upstream query %q; want %q", last.URL.RawQuery, tt.wantQuery)
			}
			span := h.span(t)
			all := fmt.Sprint(span.Attributes, span.Events, span.Name) + logs.String()
			for _, secret := range []string{"client-key", "sk-master", "proxy-key"} {
				if strings.Contains(all, secret) {
					t.Errorf("%s in the span or the log: %s", secret, all)
				}
			}
			if span.Attributes["llm.output_messages.0.message.content"] != "Hello" || span.Attributes["llm.provider"] != "google" {
				t.Errorf("span %v", span.Attributes)
			}
		})
	}
}

// TestGeminiErrorsInGoogleFormat: the proxy's own errors on Google's
// routes come in Google's envelope.
func TestGeminiErrorsInGoogleFormat(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, "{}"), masterKey: "sk-master"})
	for _, path := range []string{"/v1beta/models/gemini-2.0-flash:generateContent", "/gemini/v1beta/models/x:streamGenerateContent",
		"/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent"} {
		resp, got := post(t, h.proxy.URL+path, "application/json", `{"contents":[]}`, nil)
		if resp.StatusCode != 401 || !strings.Contains(got, `"status":"UNAUTHENTICATED"`) || !strings.Contains(got, `"code":401`) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, got)
		}
	}
}

// TestGoogleForwardedRoutes: Google's routes the proxy does not model go
// to the Gemini API or to Vertex AI as they came (LiteLLM's prefix taken
// off), with the proxy's credentials and a span named for the call.
func TestGoogleForwardedRoutes(t *testing.T) {
	up := answer(200, `{"totalTokens":3}`)
	ts := googlefake.NewTokenServer(t, 3600)
	o := harnessOptions{upstream: up}
	o.env.GeminiAPIKey = "proxy-key"
	o.env.VertexCredentials = googlefake.ServiceAccountJSON(t, ts.TokenURI())
	h := newHarness(t, o)
	for _, tt := range []struct {
		method, path, wantPath, wantSpan string
		vertex                           bool
	}{
		{"POST", "/v1beta/models/gemini-2.0-flash:countTokens", "/v1beta/models/gemini-2.0-flash:countTokens", "CountTokens", false},
		{"POST", "/gemini/v1beta/models/gemini-2.0-flash:countTokens?key=client-key", "/v1beta/models/gemini-2.0-flash:countTokens", "CountTokens", false},
		{"POST", "/v1/models/gemini-2.0-flash:countTokens", "/v1/models/gemini-2.0-flash:countTokens", "CountTokens", false},
		{"GET", "/v1beta/models", "/v1beta/models", "GET /v1beta/models", false},
		{"GET", "/gemini/v1beta/cachedContents", "/v1beta/cachedContents", "GET /gemini/v1beta/cachedContents", false},
		{"POST", "/vertex_ai/v1/projects/p-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-6:count-tokens",
			"/v1/projects/p-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-6:count-tokens", "POST /vertex_ai/v1/projects/p-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-6:count-tokens", true},
		{"POST", "/v1beta1/projects/p-1/locations/global/publishers/google/models/gemini-2.0-flash:countTokens",
			"/v1beta1/projects/p-1/locations/global/publishers/google/models/gemini-2.0-flash:countTokens", "CountTokens", true},
	} {
		body := ""
		if tt.method == "POST" {
			body = `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
		}
		resp, got := send(t, tt.method, h.proxy.URL+tt.path, "application/json", body, nil)
		if resp.StatusCode != 200 || got != `{"totalTokens":3}` {
			t.Errorf("%s %s: %d %s", tt.method, tt.path, resp.StatusCode, got)
			continue
		}
		last := up.last.Load()
		if last.URL.Path != tt.wantPath || strings.Contains(last.URL.RawQuery, "key=") {
			t.Errorf("%s %s: upstream got %s?%s; want %s", tt.method, tt.path, last.URL.Path, last.URL.RawQuery, tt.wantPath)
		}
		if tt.vertex {
			if a := last.Header.Get("Authorization"); !ts.Valid(a) {
				t.Errorf("%s %s: upstream Authorization %q; want the proxy's token", tt.method, tt.path, a)
			}
		} else if k := last.Header.Get("X-Goog-Api-Key"); k != "proxy-key" {
			t.Errorf("%s %s: upstream x-goog-api-key %q", tt.method, tt.path, k)
		}
		if span := h.span(t); span.Name != tt.wantSpan || span.Attributes["llm.provider"] != "google" {
			t.Errorf("%s %s: span %q, provider %v; want %q", tt.method, tt.path, span.Name, span.Attributes["llm.provider"], tt.wantSpan)
		}
	}
}
