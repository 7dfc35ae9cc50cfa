package spans

import (
	"net/http"

	"github.com/tidwall/gjson"
)

// Operation is how one API maps onto a span: its name, its OpenInference
// kind, and the attributes read from the request and from the response.
// Request gets the request's members, read once; Response the parsed
// response body. Both add to a.
type Operation struct {
	Name string
	Kind string
	// System, when set, is llm.system of the API's calls to a provider
	// that has none of its own: the API names the family (Claude's
	// Messages API through Bedrock is Anthropic's).
	System string
	// ParamsKey is the invocation parameters' key; Drop the request members
	// they leave out (the messages, prompt or input recorded apart). With
	// no ParamsKey, Request records them itself, if at all.
	ParamsKey string
	Drop      []string
	Request   func(a *Attrs, req *requestBody)
	Response  func(a *Attrs, resp gjson.Result)
	// ResponseHeaders, when set, reads attributes from the answer's
	// headers (Bedrock's token counts of InvokeModel); the answer body's
	// win where both name a key.
	ResponseHeaders func(a *Attrs, h http.Header)
	// UpstreamError, when set, words a provider's error answer as the
	// API's own SDK raises it: the exception type and message, and the
	// span's status description. Unset: as the OpenAI SDK does.
	UpstreamError func(status int, body []byte) (typ, msg, description string)
	// LiteLLMMetadata: the API has a metadata member of its own (the
	// Responses API, Anthropic's Messages), so LiteLLM's tracing metadata
	// comes in litellm_metadata.
	LiteLLMMetadata bool
}

// Generic returns the operation for an OpenAI endpoint the proxy does not
// model message by message (images, audio, moderations…): the request's
// JSON is its input and invocation parameters, the response's its output, as
// the instrumentor records such calls. name is the span name.
func Generic(name string) Operation {
	return Operation{
		Name:      name,
		Kind:      KindLLM,
		ParamsKey: KeyLLMInvocationParameters,
		Request:   func(*Attrs, *requestBody) {},
		Response:  func(*Attrs, gjson.Result) {},
	}
}
