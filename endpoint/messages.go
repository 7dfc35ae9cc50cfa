package endpoint

import (
	"net/http"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// Messages is Anthropic's Messages API, served by Anthropic; a model a
// config file serves with Claude on Bedrock goes to its InvokeModel, one
// it serves with Claude on Vertex AI to its :rawPredict, as LiteLLM's
// /v1/messages does.
var Messages = Spec{
	Name:    "/messages",
	Routes:  []Route{{Method: "POST", Path: "/messages"}, {Method: "POST", Path: "/v1/messages"}},
	Dialect: upstream.Anthropic, Path: "/messages",
	Op: &spans.AnthropicMessages, OpFor: messagesStreamHelper,
	NewAccumulator: func() stream.Accumulator { return &stream.AnthropicAccumulator{} }, Framing: stream.SSE,
	WriteError: writeAnthropicError,
	Translators: map[upstream.Dialect]translate.Translator{upstream.Bedrock: translate.AnthropicBedrock,
		upstream.VertexAnthropic: translate.AnthropicVertex},
}

// messagesStreamHelper names the calls of the SDK's messages.stream()
// helper, which says so in x-stainless-helper-method, as the instrumentor
// names them.
func messagesStreamHelper(h http.Header) *spans.Operation {
	if h.Get("X-Stainless-Helper-Method") == "stream" {
		return &spans.AnthropicMessagesStream
	}
	return nil
}

// MessagesRoutes are the Messages API's other routes (count_tokens, with
// its own span; any other under /messages/ with a generic one), forwarded
// to Anthropic.
var MessagesRoutes = Forward{
	Routes:  []Route{{Method: "POST", Path: "/messages/count_tokens"}, {Method: "*", Path: "/v1/messages/*rest"}},
	Dialect: upstream.Anthropic, WriteError: writeAnthropicError,
	Op: func(method, path, fullPath string) (spans.Operation, func() stream.Accumulator) {
		if method == http.MethodPost && path == "/messages/count_tokens" {
			return spans.AnthropicCountTokens, nil
		}
		return genericOp(method, path, fullPath), nil
	},
}

// writeAnthropicError writes the Messages API's envelope.
func writeAnthropicError(w http.ResponseWriter, e *openai.Error) {
	anthropic.WriteError(w, e.Status, e.Message)
}
