package openai

import (
	"fmt"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// Request is what the proxy reads of a JSON request body before forwarding
// it.
type Request struct {
	// Model is the model field as the client sent it (maybe "provider/model").
	Model string
	// Stream is true when the client asked for server-sent events.
	Stream bool
	// IncludeUsage is true when the client asked for a usage chunk at the end
	// of the stream (stream_options.include_usage).
	IncludeUsage bool
	// Mock is set when the body has LiteLLM's mock_response as a string,
	// MockResponse: the proxy answers with it itself.
	Mock         bool
	MockResponse string
	// LiteLLMFields is set when the body has members that are LiteLLM's,
	// not the provider's (see WithoutLiteLLMFields); Metadata when it has
	// a metadata member (LiteLLM's on the APIs that have none of their own).
	LiteLLMFields bool
	Metadata      bool
	// Project is the Phoenix project the call's span goes to, from
	// metadata.phoenix_project_name or litellm_metadata's ("" when unset;
	// litellm_metadata's wins).
	Project string
	// TraceID is LiteLLM's trace_id (or existing_trace_id) from the same
	// metadata: the trace the call's span joins.
	TraceID string
	// Fallbacks are LiteLLM's client-side fallbacks: the model names of the
	// body's fallbacks list (names, or objects with a model).
	Fallbacks []string
	// MockFallbacks is LiteLLM's mock_testing_fallbacks: the call's own
	// model fails at once, so that its fallbacks can be tried out.
	MockFallbacks bool
}

// maxFallbacks bounds the client-side fallbacks a call may name.
const maxFallbacks = 10

// Inspect validates a JSON request body for a model endpoint and reads what
// routing needs. It returns an *Error (status 400) for a body that is not a
// JSON object or has no model.
func Inspect(body []byte) (Request, error) { return inspect(body, "", true, nil) }

// InspectIndexed is Inspect that also makes ends the index of body
// (jsonbound.CheckIndex) as it checks it, for the passes over the body
// that come after (the span's mapping of a coding agent's history):
// valid once it returns without an error, as long as body is.
func InspectIndexed(body []byte, ends *jsonbound.Ends) (Request, error) {
	return inspect(body, "", true, ends)
}

// InspectWithModel is Inspect for an API that names the model in its path
// (model): the body has no model member to read, and LiteLLM's members are
// read as on any other.
func InspectWithModel(body []byte, model string) (Request, error) {
	if model == "" {
		return Request{}, &Error{Status: 400, Type: TypeInvalidRequest, Param: "model",
			Message: "The request path names no model."}
	}
	return inspect(body, model, false, nil)
}

// InspectWithModelIndexed is InspectWithModel that indexes the body as
// InspectIndexed does.
func InspectWithModelIndexed(body []byte, model string, ends *jsonbound.Ends) (Request, error) {
	if model == "" {
		return InspectWithModel(body, model)
	}
	return inspect(body, model, false, ends)
}

// inspect is Inspect and the rest; ends, when not nil, indexes the body
// once it is checked, and speeds the pass over its members.
func inspect(body []byte, pathModel string, bodyModel bool, ends *jsonbound.Ends) (Request, error) {
	var checked error
	if ends != nil {
		checked = jsonbound.CheckIndex(body, ends)
	} else {
		checked = jsonbound.Check(body)
	}
	switch checked {
	case nil:
	case jsonbound.ErrTooDeep:
		return Request{}, &Error{Status: 400, Type: TypeInvalidRequest,
			Message: fmt.Sprintf("Request body is nested deeper than %d levels.", jsonbound.MaxDepth)}
	default:
		return Request{}, &Error{Status: 400, Type: TypeInvalidRequest,
			Message: "Request body is not valid JSON."}
	}
	// Parsed where it lies (gjson.ParseBytes would copy it): what out
	// keeps of it is cloned before it is returned, so the Request never
	// aliases body.
	root := jsonbound.ParseInPlace(body)
	if !root.IsObject() {
		return Request{}, &Error{Status: 400, Type: TypeInvalidRequest,
			Message: "Request body must be a JSON object."}
	}
	var model, stream, streamOptions gjson.Result
	var out Request
	models := 0
	ends.ForEach(root, func(k, v gjson.Result) bool { // one pass over the members (nil ends: jsonbound.ForEach)
		switch {
		case k.Str == "model":
			model = v
			models++
		case k.Str == "stream" && !stream.Exists(): // the first, as gjson's Get reads it
			stream = v
		case k.Str == "stream_options" && !streamOptions.Exists():
			streamOptions = v
		case k.Str == "mock_response" && v.Type == gjson.String:
			out.Mock, out.MockResponse = true, v.Str
		case k.Str == "mock_testing_fallbacks":
			out.MockFallbacks = v.Type == gjson.True
		case k.Str == "fallbacks" && v.IsArray():
			v.ForEach(func(_, f gjson.Result) bool {
				if f.IsObject() {
					f = f.Get("model")
				}
				if f.Type == gjson.String && f.Str != "" && len(out.Fallbacks) < maxFallbacks {
					out.Fallbacks = append(out.Fallbacks, f.Str)
				}
				return true
			})
		case (k.Str == "metadata" || k.Str == "litellm_metadata") && v.IsObject():
			if p := v.Get("phoenix_project_name"); p.Type == gjson.String && (out.Project == "" || k.Str == "litellm_metadata") {
				out.Project = p.Str
			}
			for _, name := range [...]string{"trace_id", "existing_trace_id"} {
				if id := v.Get(name); id.Type == gjson.String && id.Str != "" && (out.TraceID == "" || k.Str == "litellm_metadata") {
					out.TraceID = id.Str
					break
				}
			}
		}
		if litellmFields[k.Str] {
			out.LiteLLMFields = true
		}
		if k.Str == "metadata" {
			out.Metadata = true
		}
		return true
	})
	out.clone()
	out.Stream = stream.Type == gjson.True
	if !bodyModel {
		out.Model = pathModel
		return out, nil
	}
	if model.Type != gjson.String || model.Str == "" {
		return Request{}, &Error{Status: 400, Type: TypeInvalidRequest, Param: "model",
			Message: "Missing required parameter: 'model'."}
	}
	if models > 1 {
		// Parsers disagree on which of two keys wins: the proxy could route
		// by one model while the provider serves the other.
		return Request{}, &Error{Status: 400, Type: TypeInvalidRequest, Param: "model",
			Message: "The 'model' parameter is given more than once."}
	}
	out.Model = strings.Clone(model.Str)
	out.IncludeUsage = streamOptions.Get("include_usage").Type == gjson.True
	return out, nil
}

// clone gives the strings read from a body their own memory.
func (r *Request) clone() {
	r.MockResponse, r.Project, r.TraceID = strings.Clone(r.MockResponse), strings.Clone(r.Project), strings.Clone(r.TraceID)
	for i, f := range r.Fallbacks {
		r.Fallbacks[i] = strings.Clone(f)
	}
}

// SetModel returns body with its top-level model field replaced by model.
// The rest of the body is kept byte for byte.
func SetModel(body []byte, model string) []byte {
	v := gjson.GetBytes(body, "model")
	if v.Index <= 0 {
		return body
	}
	out := make([]byte, 0, len(body)-len(v.Raw)+len(model)+2)
	out = append(out, body[:v.Index]...)
	// Not strconv.Quote: its \x escapes are not JSON.
	out = AppendJSONString(out, model)
	return append(out, body[v.Index+len(v.Raw):]...)
}

// WithIncludeUsage returns body asking for a usage chunk at the end of the
// stream: stream_options.include_usage set to true, whatever stream_options
// held before (only include_usage is read by OpenAI today). The rest of the
// body is kept byte for byte.
func WithIncludeUsage(body []byte) []byte {
	const member = `"stream_options":{"include_usage":true}`
	if v := gjson.GetBytes(body, "stream_options"); v.Exists() && v.Index > 0 {
		// Replace the value, keeping the other options.
		opts := `{"include_usage":true}`
		if v.IsObject() {
			opts = string(WithMember(v.Raw, "include_usage", []byte("true")))
		}
		out := make([]byte, 0, len(body)+len(opts))
		out = append(out, body[:v.Index]...)
		out = append(out, opts...)
		return append(out, body[v.Index+len(v.Raw):]...)
	}
	// Add the member before the closing brace.
	end := len(body) - 1
	for end >= 0 && body[end] != '}' {
		end--
	}
	if end < 0 {
		return body
	}
	out := make([]byte, 0, len(body)+len(member)+1)
	out = append(out, body[:end]...)
	if !emptyObjectBefore(body, end) {
		out = append(out, ',')
	}
	out = append(out, member...)
	return append(out, body[end:]...)
}

// emptyObjectBefore reports whether only white space stands between the
// object's opening brace and position end.
func emptyObjectBefore(body []byte, end int) bool {
	for i := end - 1; i >= 0; i-- {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
