package endpoint

import (
	"net/http"
	"strings"

	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

func newResponsesAcc() stream.Accumulator { return &stream.ResponsesAccumulator{} }

// Responses is OpenAI's Responses API (create).
var Responses = Spec{
	Name: "/responses", Routes: openAIRoutes("/responses"),
	Dialect: upstream.OpenAI, Path: "/responses",
	Op: &spans.Responses, NewAccumulator: newResponsesAcc, Framing: stream.SSE,
	WriteError: writeOpenAIError,
}

// ResponsesRoutes are the Responses API's routes beyond create (retrieve,
// also as a stream; cancel; delete; input_items; input_tokens): forwarded,
// each with a span named after its route.
var ResponsesRoutes = Forward{
	Routes:  []Route{{Method: "*", Path: "/responses/*rest"}, {Method: "*", Path: "/v1/responses/*rest"}},
	Dialect: upstream.OpenAI, WriteError: writeOpenAIError,
	Op: func(method, path, fullPath string) (spans.Operation, func() stream.Accumulator) {
		rest, _ := strings.CutPrefix(path, "/responses/")
		id, sub, _ := strings.Cut(rest, "/")
		switch {
		case method == http.MethodPost && rest == "input_tokens":
			return spans.ResponsesInputTokens, nil
		case method == http.MethodGet && sub == "" && id != "":
			return spans.ResponsesRetrieve, newResponsesAcc
		case method == http.MethodPost && sub == "cancel":
			return spans.ResponsesCancel, nil
		case method == http.MethodDelete && sub == "":
			return spans.Generic("responses.delete"), nil
		case method == http.MethodGet && sub == "input_items":
			return spans.Generic("responses.input_items"), nil
		}
		return genericOp(method, path, fullPath), nil
	},
}
