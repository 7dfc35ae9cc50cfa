package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/phoenixproxy/llmproxy/spans"
)

// Hostile input: requests and answers built to crash or exhaust the proxy.

func TestDeeplyNestedRequestIs400AndTheProxyLives(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, maxBodyBytes: 32 << 20})
	for _, body := range []string{
		strings.Repeat("[", 8_000_000),
		`{"model":"gpt-4o","messages":` + strings.Repeat(`[{"a":`, 1_000_000),
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	} {
		resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status: got %d; want 400 (%.200s)", resp.StatusCode, got)
		}
		if msg, _, _ := openAIError(t, got); !strings.Contains(msg, "nested deeper than 512") {
			t.Errorf("message %q does not say the body nests too deep", msg)
		}
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times; want 0", n)
	}
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || got != chatAnswer {
		t.Errorf("after the nested bodies: got %d %q", resp.StatusCode, got)
	}
}

func TestDeeplyNestedForwardedBodyIsForwardedUntraced(t *testing.T) {
	up := answer(200, `{"id":"modr-1","results":[]}`)
	h := newHarness(t, harnessOptions{upstream: up})
	body := strings.Repeat("[", 500_000)
	resp, got := post(t, h.proxy.URL+"/v1/moderations", "application/json", body, nil)
	if resp.StatusCode != 200 || got != `{"id":"modr-1","results":[]}` {
		t.Fatalf("got %d %q; want the upstream's answer", resp.StatusCode, got)
	}
	if b := up.body.Load(); b == nil || string(*b) != body {
		t.Errorf("the upstream did not get the body unchanged")
	}
	span := h.span(t)
	if _, ok := span.Attributes["input.value"]; ok {
		t.Errorf("a body nested too deep to read is on the span as input.value")
	}
}

// An upstream that answers 200 with something that is no JSON object: the
// client gets it unchanged, the span says tracing failed instead of OK.
func TestUnreadableAnswerIsRelayedAndMarkedOnTheSpan(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"not JSON", `<html>502 Bad Gateway</html>`},
		{"nested too deep", strings.Repeat("[", 4_000_000)},
		{"deep inside an object", `{"model":"gpt-4o","choices":` + strings.Repeat("[", 4_000_000)},
		{"empty", ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{upstream: answer(200, tt.body)})
			resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
			if resp.StatusCode != 200 || got != tt.body {
				t.Fatalf("got %d, %d bytes; want 200 and the upstream's %d bytes unchanged", resp.StatusCode, len(got), len(tt.body))
			}
			span := h.span(t)
			assertErrorSpan(t, span, "TracingError")
			if tt.body != "" && span.Attributes["output.value"] != tt.body {
				t.Errorf("output.value is not the answer as text")
			}
		})
	}
}

// An error answer nested too deep is described as text, not walked.
func TestDeeplyNestedErrorAnswer(t *testing.T) {
	body := `{"error":` + strings.Repeat("[", 4_000_000)
	h := newHarness(t, harnessOptions{upstream: answer(500, body)})
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if resp.StatusCode != 500 || got != body {
		t.Fatalf("got %d; want the upstream's 500 unchanged", resp.StatusCode)
	}
	span := h.span(t)
	assertErrorSpan(t, span, "openai.InternalServerError")
}

// slowBody opens a connection and sends a request whose body comes a byte
// at a time, one every interval, until the proxy answers or closes. It
// returns the status line the proxy answered with ("" if none) and when.
func slowBody(t *testing.T, addr, path string, interval time.Duration) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return "", 0
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n", path)
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answered <- strings.TrimSpace(line)
	}()
	for i := 0; i < 1000; i++ {
		select {
		case line := <-answered:
			return line, time.Since(start)
		case <-time.After(interval):
			if _, err := conn.Write([]byte("{")); err != nil {
				return <-answered, time.Since(start)
			}
		}
	}
	return "", time.Since(start)
}

// TestSlowBodyClientsAreCut: clients that send their body a byte at a time
// are answered 408 once the body read timeout passes, on model and
// forwarded routes alike, and the proxy keeps serving others.
func TestSlowBodyClientsAreCut(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, bodyReadTimeout: 500 * time.Millisecond})
	addr := strings.TrimPrefix(h.proxy.URL, "http://")
	var wg sync.WaitGroup
	const clients = 20
	results := make(chan string, clients)
	for i := 0; i < clients; i++ {
		path := "/v1/chat/completions"
		if i%2 == 1 {
			path = "/v1/moderations"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			line, took := slowBody(t, addr, path, 100*time.Millisecond)
			results <- fmt.Sprintf("%s after %s", line, took.Round(100*time.Millisecond))
			if !strings.Contains(line, " 408 ") || took > 3*time.Second {
				t.Errorf("%s: %q after %s; want 408 within the timeout", path, line, took)
			}
		}()
	}
	wg.Wait()
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times", n)
	}
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if resp.StatusCode != 200 || body != chatAnswer {
		t.Errorf("after the slow clients: %d %q", resp.StatusCode, body)
	}
}

// TestInFlightCap: beyond the cap a request gets 503 at once, in its API's
// format, with Retry-After; the health routes stay open.
func TestInFlightCap(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, chatAnswer)
	}}
	h := newHarness(t, harnessOptions{upstream: up, maxInFlight: 2})
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if resp, _ := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil); resp.StatusCode != 200 {
				t.Errorf("a request within the cap got %d", resp.StatusCode)
			}
		}()
	}
	<-entered
	<-entered
	start := time.Now()
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(msg, "limit of 2") {
		t.Errorf("over the cap: %d %q Retry-After %q", resp.StatusCode, msg, resp.Header.Get("Retry-After"))
	}
	resp, body = post(t, h.proxy.URL+"/v1/messages", "application/json", `{"model":"claude","messages":[]}`, nil)
	if typ, _ := anthropicError(t, body); resp.StatusCode != 503 || typ != "api_error" {
		t.Errorf("over the cap, Messages API: %d %s", resp.StatusCode, body)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusals took %s; want at once", d)
	}
	if r, err := http.Get(h.proxy.URL + "/health/readiness"); err != nil || r.StatusCode != 200 {
		t.Errorf("health route over the cap: %v %v", r, err)
	}
	close(release)
	wg.Wait()
	if resp, _ := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil); resp.StatusCode != 200 {
		t.Errorf("after the load: %d", resp.StatusCode)
	}
}

// TestPathEscapes: neither a model name nor a forwarded path can make the
// upstream URL leave the configured base; nothing reaches the upstream.
func TestPathEscapes(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up})
	for _, model := range []string{"azure/..", "azure/../../admin", "azure/a/b", "azure/%2e%2e", "azure/."} {
		resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"`+model+`","messages":[]}`, nil)
		if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "deployment") {
			t.Errorf("model %q: %d %q", model, resp.StatusCode, msg)
		}
	}
	for _, path := range []string{"/v1/../../admin", "/v1/models/..%2fadmin", "/v1/responses/%2e%2e/%2e%2e/admin", "/v1//admin", "/v1/files/./x"} {
		req, err := http.NewRequest(http.MethodGet, h.proxy.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("GET %s: %d %s; want 400", path, resp.StatusCode, b)
		}
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times; want none (last: %s)", n, up.last.Load().URL)
	}
	// A deployment with dots and dashes is fine.
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"azure/gpt-4o.mini-2024_07","messages":[]}`, nil)
	if resp.StatusCode != 200 || body != chatAnswer {
		t.Errorf("a valid deployment: %d %q", resp.StatusCode, body)
	}
	if p := up.last.Load().URL.Path; p != "/openai/deployments/gpt-4o.mini-2024_07/chat/completions" {
		t.Errorf("upstream path %s", p)
	}
}

// TestForwardedPathsAsSent: a forwarded path reaches the upstream with the
// client's encoding untouched (an encoded '?' stays in the path, never a
// query), and a segment that decodes to '..' at any depth is refused.
func TestForwardedPathsAsSent(t *testing.T) {
	up := answer(200, `{}`)
	h := newHarness(t, harnessOptions{upstream: up})
	for _, tt := range []struct {
		path string
		want string // the upstream's request URI; "" for a refusal
	}{
		{"/v1/models%3Fafter=x%23frag", "/v1/models%3Fafter=x%23frag"},
		{"/v1/files/file%20name%2Fx/content", "/v1/files/file%20name%2Fx/content"},
		{"/v1/files/a%252Fb", "/v1/files/a%252Fb"},
		{"/v1/files?purpose=a%2Bb", "/v1/files?purpose=a%2Bb"},
		{"/v1/%252e%252e/%252e%252e/admin", ""},
		{"/v1/files/%25252e%25252e", ""},
		{"/v1/files/x%252f..%252fadmin", ""},
	} {
		up.calls.Store(0)
		resp, body := send(t, http.MethodGet, h.proxy.URL+tt.path, "", "", nil)
		if tt.want == "" {
			if resp.StatusCode != 400 || up.calls.Load() != 0 {
				t.Errorf("GET %s: %d %s, upstream called %d times; want a 400 and no call", tt.path, resp.StatusCode, body, up.calls.Load())
			}
			continue
		}
		if resp.StatusCode != 200 || up.calls.Load() != 1 {
			t.Errorf("GET %s: %d %s", tt.path, resp.StatusCode, body)
			continue
		}
		if got := up.last.Load().RequestURI; got != tt.want {
			t.Errorf("GET %s: upstream got %s; want %s", tt.path, got, tt.want)
		}
	}
}

// TestSecretsInBodies: credentials a client puts in a request body reach
// neither the span nor a log line; LiteLLM's own members (api_key,
// api_base, …, and metadata on chat) are not forwarded, other members are,
// unchanged. A large body (an agent's) takes the other way: indexed as it
// is checked, its member names read for credentials in that pass.
func TestSecretsInBodies(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"small body", "hi"},
		{"large body, indexed as it is checked", "hi " + strings.Repeat("a long history. ", 2<<10)},
	} {
		t.Run(tc.name, func(t *testing.T) { secretsInBody(t, tc.content) })
	}
}

func secretsInBody(t *testing.T, content string) {
	up := answer(200, chatAnswer)
	logs := &syncBuffer{}
	h := newHarness(t, harnessOptions{upstream: up, logOutput: logs})
	body := `{"model":"gpt-4o","api_key":"sk-body-secret-1","api_base":"https://internal.example","aws_secret_access_key":"aws-secret-2",` +
		`"messages":[{"role":"user","content":"` + content + `"}],"metadata":{"authorization":"Bearer meta-secret-3","team":"search"},` +
		`"extra_body":{"apiKey":"camel-secret-4"}}`
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, nil)
	if resp.StatusCode != 200 || got != chatAnswer {
		t.Fatalf("got %d %q", resp.StatusCode, got)
	}
	sent := string(*up.body.Load())
	// metadata is LiteLLM's on /chat/completions (issue 20): read, not forwarded.
	for _, gone := range []string{"sk-body-secret-1", "internal.example", "aws-secret-2", "meta-secret-3"} {
		if strings.Contains(sent, gone) {
			t.Errorf("forwarded upstream: %q in %s", gone, sent)
		}
	}
	if !strings.Contains(sent, `"messages":[{"role":"user","content":"`+content+`"}],"extra_body":{"apiKey":"camel-secret-4"}`) {
		t.Errorf("the provider's members must pass unchanged: %s", sent)
	}
	span := h.span(t)
	all := fmt.Sprint(span.Attributes, span.Events) + logs.String()
	for _, secret := range []string{"sk-body-secret-1", "internal.example", "aws-secret-2", "meta-secret-3", "camel-secret-4"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q reached the span or a log", secret)
		}
	}
	if span.Attributes["metadata"] == nil || !strings.Contains(fmt.Sprint(span.Attributes["metadata"]), `"team":"search"`) {
		t.Errorf("metadata lost its other members: %v", span.Attributes["metadata"])
	}
	if !strings.Contains(fmt.Sprint(span.Attributes["input.value"]), "__REDACTED__") {
		t.Errorf("input.value does not show where a secret was: %v", span.Attributes["input.value"])
	}
	// The call's log line: who, what, how it went; no body.
	line := logs.String()
	for _, field := range []string{"msg=call", "call_id=" + fmt.Sprint(span.Attributes["litellm.call_id"]), "model=gpt-4o", "provider=openai",
		"status=200", "prompt_tokens=3", "completion_tokens=2", "path=/v1/chat/completions"} {
		if !strings.Contains(line, field) {
			t.Errorf("log line lacks %q: %s", field, line)
		}
	}
	if strings.Contains(line, "hi") && strings.Contains(line, "messages") {
		t.Errorf("a body reached the log: %s", line)
	}
}

// TestRedactionReachesTheCollector: with OPENINFERENCE_HIDE_INPUTS and a
// pattern, the span that reaches the collector holds neither the input nor
// the pattern's matches, while the client's answer is untouched.
func TestRedactionReachesTheCollector(t *testing.T) {
	const answerWithSecret = `{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"your key is sk-abcdefghijkl"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`
	h := newHarness(t, harnessOptions{upstream: answer(200, answerWithSecret), redaction: &spans.Redaction{
		HideInputs: true, Patterns: []*regexp.Regexp{regexp.MustCompile(`sk-[a-z]{8,}`)}}})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"private question"}]}`, nil)
	if resp.StatusCode != 200 || body != answerWithSecret {
		t.Fatalf("the client's answer changed: %d %s", resp.StatusCode, body)
	}
	span := h.span(t)
	all := fmt.Sprint(span.Attributes)
	if strings.Contains(all, "private question") || strings.Contains(all, "sk-abcdefghijkl") {
		t.Errorf("hidden data reached the collector: %s", all)
	}
	if span.Attributes["input.value"] != "__REDACTED__" || span.Attributes["llm.output_messages.0.message.content"] != "your key is __REDACTED__" ||
		span.Attributes["llm.token_count.total"] != int64(5) {
		t.Errorf("span: %v", span.Attributes)
	}
}

// TestHugeStreamEvent: one SSE event of 64 MB reaches the client whole, in
// both relay modes, while the proxy holds none of it (the span says the
// event was not traced). Before, the event was held some five times over.
func TestHugeStreamEvent(t *testing.T) {
	const size = 64 << 20
	huge := []byte(`data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"` +
		strings.Repeat("x", size) + `"},"finish_reason":null}]}` + "\n\n")
	tail := []byte(`data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}]}` + "\n\n" +
		`data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` + "\n\n" +
		"data: [DONE]\n\n")
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for rest := huge; len(rest) > 0; {
			n := min(len(rest), 1<<20)
			w.Write(rest[:n])
			rest = rest[n:]
		}
		w.Write(tail)
	}}
	for _, clientAsks := range []bool{true, false} {
		t.Run(fmt.Sprintf("client-asks-usage=%v", clientAsks), func(t *testing.T) {
			h := newHarness(t, harnessOptions{upstream: up})
			body := `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`
			if clientAsks {
				body = `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			resp := open(t, context.Background(), h.proxy.URL+"/v1/chat/completions", body)
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			runtime.ReadMemStats(&after)
			if err != nil || n < int64(len(huge)) {
				t.Fatalf("client got %d bytes (%v); want the whole event", n, err)
			}
			// Allocated by this process (proxy, fake upstream and client
			// together) while the event passed: less than the event (the
			// proxy holds at most the first 4 MiB of it, to learn it is too
			// large to trace).
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size*3/4 {
				t.Errorf("%d MB allocated for a %d MB event", alloc>>20, size>>20)
			}
			span := h.span(t)
			cut := false
			for _, e := range span.Events {
				cut = cut || e.Name == "llmproxy.tracing_cut"
			}
			if !cut || span.StatusCode == tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("span events %v, status %v; want a tracing_cut event and no error", span.Events, span.StatusCode)
			}
			if span.Attributes["llm.token_count.total"] != int64(3) {
				t.Errorf("the events after the huge one were not traced: %v", span.Attributes["llm.token_count.total"])
			}
		})
	}
}
