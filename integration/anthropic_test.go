package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// anthropicCassettes are the recorded Messages API calls.
func anthropicCassettes(t *testing.T) []fakeprovider.Cassette {
	t.Helper()
	all, err := fakeprovider.LoadDir(filepath.Join(fixturesDir(t, "anthropic"), "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestAnthropicStreamEventsArriveOneByOne: each Messages API event reaches
// the client before the upstream sends the next.
func TestAnthropicStreamEventsArriveOneByOne(t *testing.T) {
	n := 0
	for _, c := range anthropicCassettes(t) {
		if !c.Response.IsStream() {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) { lockstep(t, c, false, false) })
	}
	if n < 4 {
		t.Fatalf("%d recorded Anthropic streams; want at least 4", n)
	}
}

// anthropicError checks an error answer's shape (the Messages API's
// envelope) and returns its type and message.
func anthropicError(t *testing.T, body string) (typ, message string) {
	t.Helper()
	var e struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Type != "error" || e.Error.Type == "" || e.Error.Message == "" {
		t.Fatalf("not an Anthropic error: %q (%v)", body, err)
	}
	return e.Error.Type, e.Error.Message
}

// The proxy's own errors on the Messages API are in Anthropic's format, so
// the Anthropic SDK raises them as it raises Anthropic's.
func TestAnthropicErrorsInAnthropicFormat(t *testing.T) {
	up := answer(200, `{}`)
	h := newHarness(t, harnessOptions{upstream: up, maxBodyBytes: 1024})
	tests := []struct {
		name, body string
		status     int
		wantType   string
		wantIn     string
	}{
		{"malformed JSON", `{"model": "claude-sonnet-4-6", "messages": [`, 400, "invalid_request_error", "not valid JSON"},
		{"missing model", `{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "model"},
		{"too large", `{"model":"claude-sonnet-4-6","messages":[{"role":"user","content":"` + strings.Repeat("x", 2000) + `"}]}`, 413, "request_too_large", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, h.proxy.URL+"/v1/messages", "application/json", tt.body, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d; want %d", resp.StatusCode, tt.status)
			}
			if typ, msg := anthropicError(t, body); typ != tt.wantType || !strings.Contains(msg, tt.wantIn) {
				t.Errorf("error %s %q; want %s mentioning %q", typ, msg, tt.wantType, tt.wantIn)
			}
		})
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times for bad input", n)
	}

	// An upstream that cannot be reached: 502, still in Anthropic's format.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	h = newHarness(t, harnessOptions{anthropicBase: "http://" + dead})
	resp, body := post(t, h.proxy.URL+"/v1/messages", "application/json", `{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if typ, _ := anthropicError(t, body); resp.StatusCode != http.StatusBadGateway || typ != "api_error" {
		t.Errorf("unreachable upstream: %d %s; want 502 api_error", resp.StatusCode, body)
	}
	assertErrorSpan(t, h.span(t), "UpstreamConnectionError")
}

// TestAnthropicCredentialsAndHeaders: the client's x-api-key and Anthropic
// headers go upstream unless the proxy holds a key, which then replaces
// the client's; the model loses LiteLLM's "anthropic/" prefix; no key
// reaches the span.
func TestAnthropicCredentialsAndHeaders(t *testing.T) {
	const req = `{"model":"anthropic/claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`
	answerBody := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":2}}`
	headers := map[string]string{"X-Api-Key": "sk-ant-client-secret", "Anthropic-Version": "2023-06-01", "Anthropic-Beta": "prompt-caching-2024-07-31"}
	for _, proxyKey := range []string{"", "sk-ant-proxy-key"} {
		t.Run("proxy key "+proxyKey, func(t *testing.T) {
			up := answer(200, answerBody)
			h := newHarness(t, harnessOptions{upstream: up, env: upstream.Env{AnthropicEnv: upstream.AnthropicEnv{AnthropicAPIKey: proxyKey}}})
			resp, body := post(t, h.proxy.URL+"/v1/messages?beta=true", "application/json", req, headers)
			if resp.StatusCode != 200 || body != answerBody {
				t.Fatalf("got %d %q", resp.StatusCode, body)
			}
			last := up.last.Load()
			wantKey := "sk-ant-client-secret"
			if proxyKey != "" {
				wantKey = proxyKey
			}
			if got := last.Header.Get("X-Api-Key"); got != wantKey {
				t.Errorf("upstream x-api-key %q; want %q", got, wantKey)
			}
			if last.URL.Path != "/v1/messages" || last.URL.RawQuery != "beta=true" ||
				last.Header.Get("Anthropic-Version") != "2023-06-01" || last.Header.Get("Anthropic-Beta") != "prompt-caching-2024-07-31" {
				t.Errorf("upstream got %s?%s with %v", last.URL.Path, last.URL.RawQuery, last.Header)
			}
			if got := string(*up.body.Load()); !strings.Contains(got, `"model":"claude-sonnet-4-6"`) {
				t.Errorf("upstream body %s; want the model without its prefix", got)
			}
			span := h.span(t)
			if span.Name != "messages.create" || span.Attributes["llm.provider"] != "anthropic" || span.Attributes["llm.system"] != "anthropic" ||
				span.Attributes["llm.token_count.total"] != int64(5) {
				t.Errorf("span %s %v", span.Name, span.Attributes)
			}
			if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "sk-ant") {
				t.Errorf("a key is in the span")
			}
		})
	}
}

// TestAnthropicCountTokens: forwarded to Anthropic; the span shows the
// request's messages and the count as output, not as tokens used.
func TestAnthropicCountTokens(t *testing.T) {
	up := answer(200, `{"input_tokens":14}`)
	h := newHarness(t, harnessOptions{upstream: up})
	resp, body := post(t, h.proxy.URL+"/v1/messages/count_tokens", "application/json",
		`{"model":"claude-sonnet-4-6","system":"Be brief.","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"X-Api-Key": "k"})
	if resp.StatusCode != 200 || body != `{"input_tokens":14}` {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if p := up.last.Load().URL.Path; p != "/v1/messages/count_tokens" {
		t.Errorf("upstream path %s", p)
	}
	span := h.span(t)
	want := map[string]any{"llm.input_messages.0.message.content": "Be brief.", "llm.input_messages.1.message.content": "hi",
		"output.value": `{"input_tokens":14}`, "llm.provider": "anthropic"}
	if span.Name != "messages.count_tokens" {
		t.Errorf("span name %q", span.Name)
	}
	for k, v := range want {
		if span.Attributes[k] != v {
			t.Errorf("%s = %v; want %v", k, span.Attributes[k], v)
		}
	}
	if _, ok := span.Attributes["llm.token_count.prompt"]; ok {
		t.Errorf("the count is recorded as tokens used")
	}
}

// TestAnthropicStreamCutShort: a stream that ends before message_stop keeps
// the text that passed, and is an error of the call; an error event is one.
func TestAnthropicStreamCutShort(t *testing.T) {
	var stream fakeprovider.Cassette
	for _, c := range anthropicCassettes(t) {
		if c.Name == "oi-messages_streaming" {
			stream = c
		}
	}
	events := fakeprovider.Events(stream.Response.Body)
	var kept []string
	text := ""
	for _, ev := range events {
		kept = append(kept, ev)
		if d := eventData(t, ev); d["type"] == "content_block_delta" {
			text += d["delta"].(map[string]any)["text"].(string)
			break
		}
	}
	overloaded := "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"
	for _, tt := range []struct {
		name, extra, wantInDesc string
	}{
		{"upstream closes early", "", "before its last event"},
		{"error event", overloaded, "Overloaded"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sent := strings.Join(kept, "") + tt.extra
			up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				io.WriteString(w, sent)
			}}
			h := newHarness(t, harnessOptions{upstream: up})
			resp, got := post(t, h.proxy.URL+"/v1/messages", "application/json", stream.Request.Body, nil)
			if resp.StatusCode != 200 || got != sent {
				t.Fatalf("client got %d %.200q", resp.StatusCode, got)
			}
			span := h.span(t)
			if span.StatusCode != tracepb.Status_STATUS_CODE_ERROR || !strings.Contains(span.StatusMessage, tt.wantInDesc) {
				t.Errorf("status %v %q; want ERROR with %q", span.StatusCode, span.StatusMessage, tt.wantInDesc)
			}
			if k := "llm.output_messages.0.message.contents.0.message_content.text"; span.Attributes[k] != text {
				t.Errorf("%s = %v; want %q", k, span.Attributes[k], text)
			}
		})
	}
}
