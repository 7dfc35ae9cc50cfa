package endpoint

import (
	"strings"

	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// vertexPrefix is LiteLLM's pass-through prefix for Vertex AI, which
// Claude Code's ANTHROPIC_VERTEX_BASE_URL points at.
const vertexPrefix = "/vertex_ai"

// vertexRoutes are a Vertex AI publisher model method's routes: POST
// /{v1,v1beta1}/projects/{project}/locations/{location}/publishers/
// {publisher}/models/{model}:method, and the same under /vertex_ai.
func vertexRoutes(publisher, method string, streams bool) []Route {
	var routes []Route
	for _, version := range []string{"/v1", "/v1beta1"} {
		routes = append(routes, Route{Method: "POST", Stream: streams, ModelMethod: method,
			Path: version + "/projects/{project}/locations/{location}/publishers/" + publisher + "/models/{model}:" + method})
	}
	return prefixed(vertexPrefix, routes...)
}

// VertexGenerateContent is generateContent of Gemini models on Vertex AI,
// served by Vertex AI with the proxy's Google credentials.
var VertexGenerateContent = Spec{
	Name: "vertex_ai:generateContent", Routes: vertexRoutes("google", "generateContent", false),
	Dialect: upstream.Gemini, Home: upstream.VertexAI, ModelParam: "model",
	Op: &spans.GeminiGenerateContent, NewAccumulator: newGeminiAcc, Framing: stream.SSE,
	WriteError: writeGeminiError,
}

// VertexStreamGenerateContent is Vertex AI's :streamGenerateContent.
var VertexStreamGenerateContent = Spec{
	Name: "vertex_ai:streamGenerateContent", Routes: vertexRoutes("google", "streamGenerateContent", true),
	Dialect: upstream.Gemini, Home: upstream.VertexAI, ModelParam: "model",
	Op: &spans.GeminiStreamGenerateContent, NewAccumulator: newGeminiAcc,
	Framing: stream.SSE, AskedFraming: &stream.JSONArray,
	WriteError: writeGeminiError,
}

// VertexRawPredict is Claude on Vertex AI: an Anthropic Messages body
// (anthropic_version, no model: the path names it; upstream.VertexAnthropic)
// to :rawPredict, or to :streamRawPredict for its stream, traced as the
// Messages API is.
var VertexRawPredict = Spec{
	Name: "vertex_ai:rawPredict",
	Routes: append(vertexRoutes("anthropic", "rawPredict", false),
		vertexRoutes("anthropic", "streamRawPredict", true)...),
	Dialect: upstream.VertexAnthropic, Home: upstream.VertexAIAnthropic, ModelParam: "model",
	Op: &spans.AnthropicMessages, OpFor: messagesStreamHelper,
	NewAccumulator: func() stream.Accumulator { return &stream.AnthropicAccumulator{} }, Framing: stream.SSE,
	WriteError: writeAnthropicError,
}

// VertexRoutes are Vertex AI's other routes under a project (countTokens,
// Claude's count-tokens, …), forwarded with a generic span.
var VertexRoutes = Forward{
	Routes: prefixed(vertexPrefix, Route{Method: "*", Path: "/v1/projects/*rest"},
		Route{Method: "*", Path: "/v1beta1/projects/*rest"}),
	Dialect: upstream.Gemini, Home: upstream.VertexAI, WriteError: writeGeminiError,
	UpstreamPath: func(escaped string) string { return strings.TrimPrefix(escaped, vertexPrefix) },
	Op: func(method, _, fullPath string) (spans.Operation, func() stream.Accumulator) {
		return googleOp(method, fullPath), nil
	},
}
