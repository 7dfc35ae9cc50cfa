package endpoint

import (
	"net/http"
	"strings"

	"github.com/phoenixproxy/llmproxy/gemini"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// geminiPrefix is LiteLLM's pass-through prefix for the Gemini API.
const geminiPrefix = "/gemini"

func newGeminiAcc() stream.Accumulator { return &stream.GeminiAccumulator{} }

// geminiRoutes are a Gemini API method's routes: POST
// /{v1beta,v1}/models/{model}:method, and the same under /gemini.
func geminiRoutes(method string, streams bool) []Route {
	var routes []Route
	for _, version := range []string{"/v1beta", "/v1"} {
		routes = append(routes, Route{Method: "POST", Path: version + "/models/{model}:" + method, Stream: streams, ModelMethod: method})
	}
	return prefixed(geminiPrefix, routes...)
}

// GenerateContent is the Gemini API's generateContent, served by the
// Gemini API (GEMINI_API_BASE) with the model named in the path.
var GenerateContent = Spec{
	Name: ":generateContent", Routes: geminiRoutes("generateContent", false),
	Dialect: upstream.Gemini, ModelParam: "model",
	Op: &spans.GeminiGenerateContent, NewAccumulator: newGeminiAcc, Framing: stream.SSE,
	WriteError: writeGeminiError,
}

// StreamGenerateContent is :streamGenerateContent: SSE with ?alt=sse (as
// the SDKs ask), else one JSON array written as it is generated.
var StreamGenerateContent = Spec{
	Name: ":streamGenerateContent", Routes: geminiRoutes("streamGenerateContent", true),
	Dialect: upstream.Gemini, ModelParam: "model",
	Op: &spans.GeminiStreamGenerateContent, NewAccumulator: newGeminiAcc,
	Framing: stream.SSE, AskedFraming: &stream.JSONArray,
	WriteError: writeGeminiError,
}

// EmbedContent is :embedContent and :batchEmbedContents.
var EmbedContent = Spec{
	Name:    ":embedContent",
	Routes:  append(geminiRoutes("embedContent", false), geminiRoutes("batchEmbedContents", false)...),
	Dialect: upstream.Gemini, ModelParam: "model",
	Op: &spans.GeminiEmbedContent, Framing: stream.SSE, WriteError: writeGeminiError,
}

// GeminiRoutes are the Gemini API's other routes (countTokens, models,
// files, cached contents, …), forwarded to it with a generic span. Under
// /v1 only countTokens is Google's: the rest of /v1 is OpenAI's.
var GeminiRoutes = Forward{
	Routes: []Route{{Method: "*", Path: "/v1beta/*rest"}, {Method: "POST", Path: "/v1/models/{model}:countTokens"},
		{Method: "*", Path: geminiPrefix + "/*rest", Prefix: geminiPrefix}},
	Dialect: upstream.Gemini, WriteError: writeGeminiError,
	UpstreamPath: func(escaped string) string { return strings.TrimPrefix(escaped, geminiPrefix) },
	Op: func(method, _, fullPath string) (spans.Operation, func() stream.Accumulator) {
		return googleOp(method, fullPath), nil
	},
}

// googleOp is the span of a forwarded call to a Google API: CountTokens
// (as the SDK's method is named), else named by HTTP method and path.
func googleOp(method, path string) spans.Operation {
	if method == http.MethodPost && strings.HasSuffix(path, ":countTokens") {
		return spans.Generic("CountTokens")
	}
	return spans.Generic(method + " " + path)
}

// writeGeminiError writes Google's error envelope.
func writeGeminiError(w http.ResponseWriter, e *openai.Error) {
	gemini.WriteError(w, e.Status, e.Message)
}
