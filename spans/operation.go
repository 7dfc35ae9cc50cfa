package spans

import (
	"github.com/tidwall/gjson"
)

// Operation is how one API maps onto a span: its name, its OpenInference
// kind, and the attributes read from the request and from the response.
// Request and Response get the parsed JSON body and add to a.
type Operation struct {
	Name     string
	Kind     string
	Request  func(a *Attrs, req gjson.Result)
	Response func(a *Attrs, resp gjson.Result)
}

// Generic returns the operation for an OpenAI endpoint the proxy does not
// model message by message (images, audio, moderations…): the request's
// JSON is its input and invocation parameters, the response's its output, as
// the instrumentor records such calls. name is the span name.
func Generic(name string) Operation {
	return Operation{
		Name: name,
		Kind: KindLLM,
		Request: func(a *Attrs, req gjson.Result) {
			a.String(KeyLLMInvocationParameters, req.Raw)
		},
		Response: func(*Attrs, gjson.Result) {},
	}
}
