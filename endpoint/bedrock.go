package endpoint

import (
	"net/http"

	"github.com/phoenixproxy/llmproxy/bedrock"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// bedrockPrefix is LiteLLM's pass-through prefix for Bedrock, which Claude
// Code's ANTHROPIC_BEDROCK_BASE_URL and boto3's endpoint_url point at.
const bedrockPrefix = "/bedrock"

// bedrockRoutes are a Bedrock Runtime operation's routes: POST
// /model/{model}/operation, at the root (boto3 with endpoint_url set to the
// proxy) and under /bedrock. The model may be a model id, an inference
// profile or an ARN (escaped, as the AWS SDKs send it).
func bedrockRoutes(operation string, streams bool) []Route {
	return prefixed(bedrockPrefix, Route{Method: "POST", Path: "/model/{model}/" + operation, Stream: streams, ModelMethod: operation})
}

// BedrockConverse is Bedrock Runtime's Converse, signed by the proxy.
var BedrockConverse = Spec{
	Name: "bedrock/converse", Routes: bedrockRoutes("converse", false),
	Dialect: upstream.Bedrock, ModelParam: "model",
	Op: &spans.BedrockConverse, Framing: stream.EventStream,
	WriteError: writeBedrockError,
}

// BedrockConverseStream is ConverseStream: an AWS event stream.
var BedrockConverseStream = Spec{
	Name: "bedrock/converse-stream", Routes: bedrockRoutes("converse-stream", true),
	Dialect: upstream.Bedrock, ModelParam: "model",
	Op: &spans.BedrockConverseStream, Framing: stream.EventStream,
	NewAccumulator: func() stream.Accumulator { return &stream.ConverseStreamAccumulator{} },
	WriteError:     writeBedrockError,
}

// BedrockInvoke is InvokeModel: the model's own body (Claude's Messages
// body with anthropic_version, Nova's, …).
var BedrockInvoke = Spec{
	Name: "bedrock/invoke", Routes: bedrockRoutes("invoke", false),
	Dialect: upstream.Bedrock, ModelParam: "model",
	Op: &spans.BedrockInvokeModel, Framing: stream.EventStream,
	WriteError: writeBedrockError,
}

// BedrockInvokeStream is InvokeModelWithResponseStream: an event stream
// whose chunks carry the model's own events, base64.
var BedrockInvokeStream = Spec{
	Name: "bedrock/invoke-with-response-stream", Routes: bedrockRoutes("invoke-with-response-stream", true),
	Dialect: upstream.Bedrock, ModelParam: "model",
	Op: &spans.BedrockInvokeModelStream, Framing: stream.EventStream,
	NewAccumulator: func() stream.Accumulator { return &stream.InvokeStreamAccumulator{} },
	WriteError:     writeBedrockError,
}

// writeBedrockError writes Bedrock Runtime's error answer.
func writeBedrockError(w http.ResponseWriter, e *openai.Error) {
	bedrock.WriteError(w, e.Status, e.Message)
}
