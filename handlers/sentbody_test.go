package handlers

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// earlyTransport answers its first request at once, without reading the
// request's body, and keeps the body unclosed, as an upstream that refuses a
// call on its headers leaves a transport still writing it; it reads the
// body of every later request before answering.
type earlyTransport struct {
	kept io.ReadCloser
}

func (t *earlyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.kept == nil {
		t.kept = r.Body
	} else {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	const answer = `{"error":{"message":"no","type":"invalid_request_error"}}`
	return &http.Response{
		StatusCode: http.StatusUnauthorized, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(answer)),
		ContentLength: int64(len(answer)), Request: r,
	}, nil
}

// TestRequestBodyOutlivesItsCall: a request body the transport has not
// closed when the call ends is still the call's own when the transport
// reads it after another call has come and gone, not that call's bytes (a
// pooled buffer reused under it would send one client's request upstream as
// the rest of another's).
func TestRequestBodyOutlivesItsCall(t *testing.T) {
	ps, err := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: "http://upstream.invalid/v1", OpenAIAPIKey: "sk-test"}})
	if err != nil {
		t.Fatal(err)
	}
	transport := &earlyTransport{}
	h := New(Options{Providers: ps, Recorder: spans.NewRecorder(noop.NewTracerProvider()), Transport: transport,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	call := func(body string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d, answer %s", w.Code, w.Body)
		}
	}
	first := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("a", 2000) + `"}]}`
	second := strings.ReplaceAll(first, "a", "b")
	call(first)
	for range 20 { // on every P's pool, whichever the calls run on
		call(second)
	}
	if transport.kept == nil {
		t.Fatal("the transport got no request")
	}
	got, err := io.ReadAll(transport.kept)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte(first)) {
		t.Errorf("the first call's body, read after the others: %d bytes, %d of them 'b' (another call's)", len(got), bytes.Count(got, []byte("b")))
	}
	_ = transport.kept.Close()
}

func TestSentBodiesCountEachBodyUntilItsFirstClose(t *testing.T) {
	var s sentBodies
	out, _ := http.NewRequest(http.MethodPost, "http://upstream.invalid", nil)
	s.attach(out, []byte("body"))
	if out.ContentLength != 4 || s.closed() {
		t.Fatalf("attached: length %d, closed %v", out.ContentLength, s.closed())
	}
	again, err := out.GetBody() // the transport's retry
	if err != nil {
		t.Fatal(err)
	}
	_ = out.Body.Close()
	_ = out.Body.Close()
	if s.closed() {
		t.Fatal("closed with the retry's body still open")
	}
	if b, _ := io.ReadAll(again); string(b) != "body" {
		t.Fatalf("the retry's body %q", b)
	}
	_ = again.Close()
	if !s.closed() {
		t.Fatal("open after both bodies closed")
	}
	var empty sentBodies
	empty.attach(out, nil)
	if out.Body != http.NoBody || !empty.closed() {
		t.Fatalf("an empty body: %v", out.Body)
	}
}
