package endpoint

import (
	"strings"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// chatUsage is the chat dialect's usage option:
// stream_options.include_usage, and the usage stripper.
var chatUsage = UsageOption{
	Ask:   openai.WithIncludeUsage,
	Strip: func() stream.Rewriter { return &stream.UsageStripper{} },
}

func newChatAcc() stream.Accumulator { return &stream.ChatAccumulator{} }

// Chat is OpenAI's chat completions API; "anthropic/…" models are
// translated to Anthropic's Messages API ("vertex_ai/claude-…" to it on
// Vertex AI), Gemini's to generateContent, "bedrock/…" models to
// Bedrock's Converse, as LiteLLM does.
var Chat = Spec{
	Name: "/chat/completions", Routes: openAIRoutes("/chat/completions"),
	Dialect: upstream.OpenAI, Path: "/chat/completions",
	Op: &spans.Chat, NewAccumulator: newChatAcc, Framing: stream.SSE,
	WriteError: writeOpenAIError, Usage: &chatUsage, Mock: true, LiteLLMMetadata: true,
	Translators: map[upstream.Dialect]translate.Translator{upstream.Anthropic: translate.OpenAIChatAnthropic,
		upstream.VertexAnthropic: translate.OpenAIChatVertexAnthropic, upstream.Gemini: translate.OpenAIChatGemini,
		upstream.Bedrock: translate.OpenAIChatBedrock},
}

// Completions is OpenAI's legacy completions API.
var Completions = Spec{
	Name: "/completions", Routes: openAIRoutes("/completions"),
	Dialect: upstream.OpenAI, Path: "/completions",
	Op: &spans.Completion, NewAccumulator: newChatAcc, Framing: stream.SSE,
	WriteError: writeOpenAIError, Usage: &chatUsage, LiteLLMMetadata: true,
}

// Embeddings is OpenAI's embeddings API, which does not stream.
var Embeddings = Spec{
	Name: "/embeddings", Routes: openAIRoutes("/embeddings"),
	Dialect: upstream.OpenAI, Path: "/embeddings",
	Op: &spans.Embeddings, Framing: stream.SSE, WriteError: writeOpenAIError, LiteLLMMetadata: true,
}

// Passthrough is every other /v1 path: forwarded untouched to the default
// upstream with a generic span.
var Passthrough = Forward{
	Routes:  []Route{{Method: "*", Path: "/v1/*rest"}},
	Dialect: upstream.OpenAI, WriteError: writeOpenAIError,
	Op: func(method, path, fullPath string) (spans.Operation, func() stream.Accumulator) {
		return genericOp(method, path, fullPath), nil
	},
}

// forwardNames are the span names the OpenAI instrumentor gives the calls
// the proxy forwards without modelling them; other paths are named by
// method and path.
var forwardNames = map[string]string{
	"/images/generations":   "ImagesResponse",
	"/images/edits":         "ImagesResponse",
	"/images/variations":    "ImagesResponse",
	"/audio/transcriptions": "Transcription",
	"/audio/translations":   "Translation",
	"/audio/speech":         "Speech",
	"/moderations":          "ModerationCreateResponse",
}

// genericOp is the span of a forwarded call: named as the instrumentor
// names it, or else by method and path.
func genericOp(method, path, fullPath string) spans.Operation {
	name, known := forwardNames[path]
	if !known {
		name = method + " " + fullPath
	}
	return spans.Generic(name)
}

// APIPath is a request path without its /v1 prefix: a provider's base URL
// has it.
func APIPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/v1"); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	return p
}
