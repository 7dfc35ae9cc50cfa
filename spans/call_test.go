package spans

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// endedSpan makes a call of req's, has during record on it what the
// handler would, ends it (ok) and returns its span, the one that ended.
func endedSpan(t testing.TB, req Request, ok bool, during func(*Call)) sdktrace.ReadOnlySpan {
	t.Helper()
	sr := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr))
	_, call := NewRecorder(tp).Start(context.Background(), req)
	during(call)
	call.End(ok)
	spans := sr.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans ended; want 1", len(spans))
	}
	return spans[0]
}

// upstreamErrorSpan records UpstreamError(status, body) on a span and
// returns the span.
func upstreamErrorSpan(t *testing.T, status int, body []byte) sdktrace.ReadOnlySpan {
	t.Helper()
	op := Chat
	return endedSpan(t, Request{Op: &op, Body: []byte(`{"model":"m"}`)}, false, func(call *Call) { call.UpstreamError(status, body) })
}

// TestUpstreamErrorGolden replays the error bodies of the recorded cassettes
// and compares the span status with the one the official instrumentor
// recorded.
func TestUpstreamErrorGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
	}{
		{"chat-bad-request", 400},
		{"chat-unknown-model", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := readTestdata(t, tt.name+".body.json")
			want := string(readTestdata(t, tt.name+".status.txt"))
			span := upstreamErrorSpan(t, tt.status, body)
			if got := span.Status(); got.Code != codes.Error || got.Description != want {
				t.Errorf("status = %v %q; want Error %q", got.Code, got.Description, want)
			}
			class, msg, _ := strings.Cut(want, ": ")
			checkExceptionEvent(t, span, "openai."+class, msg)
		})
	}
}

func checkExceptionEvent(t *testing.T, span sdktrace.ReadOnlySpan, typ, msg string) {
	t.Helper()
	for _, e := range span.Events() {
		if e.Name != EventException {
			continue
		}
		attrs := map[string]string{}
		for _, kv := range e.Attributes {
			attrs[string(kv.Key)] = kv.Value.AsString()
		}
		want := map[string]string{KeyExceptionType: typ, KeyExceptionMessage: msg, KeyExceptionEscaped: "False"}
		if !reflect.DeepEqual(attrs, want) {
			t.Errorf("exception event attributes = %q; want %q", attrs, want)
		}
		return
	}
	t.Errorf("no %q event in %v", EventException, span.Events())
}

// TestUpstreamErrorMessage checks the message against the OpenAI Python
// SDK's _make_status_error_from_response: "Error code: N - " and the repr of
// the parsed JSON; the stripped text alone when the body is not JSON; "Error
// code: N" when it is empty.
func TestUpstreamErrorMessage(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   string
	}{
		{401, `{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}`,
			"AuthenticationError: Error code: 401 - {'error': {'message': 'Incorrect API key provided', 'code': 'invalid_api_key'}}"},
		{429, "\n {\"error\": \"rate limited\"} \n", "RateLimitError: Error code: 429 - {'error': 'rate limited'}"},
		{500, `"oops"`, "InternalServerError: Error code: 500 - 'oops'"},
		{502, "<html>Bad Gateway</html>\n", "InternalServerError: <html>Bad Gateway</html>"},
		{503, "  upstream connect error  ", "InternalServerError: upstream connect error"},
		{418, "", "APIStatusError: Error code: 418"},
		{409, " \n ", "ConflictError: Error code: 409"},
		{422, `{"detail":[{"loc":["body","model"],"msg":"field required"}]}`,
			"UnprocessableEntityError: Error code: 422 - {'detail': [{'loc': ['body', 'model'], 'msg': 'field required'}]}"},
	}
	for _, tt := range tests {
		span := upstreamErrorSpan(t, tt.status, []byte(tt.body))
		if got := span.Status().Description; got != tt.want {
			t.Errorf("UpstreamError(%d, %q): status %q; want %q", tt.status, tt.body, got, tt.want)
		}
		class, msg, _ := strings.Cut(tt.want, ": ")
		checkExceptionEvent(t, span, "openai."+class, msg)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNegativeOutputIndex: an answer whose choice or candidate names a
// negative index (an upstream's bug) is recorded under that index, as the
// instrumentor's f-string would name it, where the prebuilt keys' lookup
// indexed below their first.
func TestNegativeOutputIndex(t *testing.T) {
	for _, tt := range []struct {
		name   string
		op     Operation
		answer string
	}{
		{"chat", Chat, `{"model":"m","choices":[{"index":-1,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`},
		{"gemini", GeminiGenerateContent, `{"modelVersion":"m","candidates":[{"index":-1,"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}]}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			span := endedSpan(t, Request{Op: &tt.op, Body: []byte(`{"model":"m"}`)}, true, func(call *Call) {
				if err := call.Response([]byte(tt.answer)); err != nil {
					t.Fatal(err)
				}
			})
			attrs := map[string]string{}
			for _, kv := range span.Attributes() {
				attrs[string(kv.Key)] = kv.Value.String()
			}
			if got := attrs["llm.output_messages.-1.message.content"]; got != "hi" {
				t.Errorf("llm.output_messages.-1.message.content = %q; attributes %v", got, attrs)
			}
		})
	}
}
