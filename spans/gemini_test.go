package spans

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/googlefake"
)

func TestSnakeCase(t *testing.T) {
	for _, k := range []string{"", "a", "mimeType", "inlineData", "HTTPServer", "ABCdEFg", "aBC", "a1B", "_Ab",
		"already_snake", "responseJsonSchema", "thinkingConfig", "URL", "fileURI", "x2Y3z", "AbC", "ABC_dEF"} {
		if got, want := snakeCase(k), googlefake.CamelToSnake(k); got != want {
			t.Errorf("snakeCase(%q) = %q; the instrumentor's is %q", k, got, want)
		}
	}
}

func FuzzSnakeCase(f *testing.F) {
	for _, k := range []string{"mimeType", "HTTPServer", "ABCdEFg", "a1B"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if strings.ContainsFunc(k, func(r rune) bool { return r > 127 }) {
			return // Python lower-cases beyond ASCII too; keys are ASCII
		}
		if got, want := snakeCase(k), googlefake.CamelToSnake(k); got != want {
			t.Errorf("snakeCase(%q) = %q; the instrumentor's is %q", k, got, want)
		}
	})
}

func TestSnakeKeys(t *testing.T) {
	in := `{"generationConfig":{"thinkingConfig":{"includeThoughts":true},"stopSequences":["aB"]},"x":[{"mimeType":"image/png"}]}`
	want := `{"generation_config":{"thinking_config":{"include_thoughts":true},"stop_sequences":["aB"]},"x":[{"mime_type":"image/png"}]}`
	if got := snakeKeys(gjson.Parse(in)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestGeminiUpstreamError(t *testing.T) {
	typ, msg, desc := geminiUpstreamError(404, []byte(`{"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}}`))
	wantMsg := "404 NOT_FOUND. {'error': {'code': 404, 'message': 'models/x is not found', 'status': 'NOT_FOUND'}}"
	if typ != "google.genai.errors.ClientError" || msg != wantMsg || desc != "ClientError: "+wantMsg {
		t.Errorf("got %q %q %q", typ, msg, desc)
	}
	typ, msg, _ = geminiUpstreamError(503, []byte("upstream connect error"))
	if typ != "google.genai.errors.ServerError" || msg != "503 Service Unavailable. {'message': 'upstream connect error', 'status': 'Service Unavailable'}" {
		t.Errorf("got %q %q", typ, msg)
	}
}
