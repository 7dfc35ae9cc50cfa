package spans

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Responses maps the Responses API (POST /responses) onto an LLM span named
// Response, as openinference-instrumentation-openai does
// (_attributes/_responses_api.py): instructions and input items become the
// input messages, the response's output items the output messages.
var Responses = Operation{
	Name:      NameResponse,
	Kind:      KindLLM,
	ParamsKey: KeyLLMInvocationParameters,
	Drop:      []string{"input", "instructions", "tools"},
	Request:   responsesRequest,
	Response:  responsesResponse,

	LiteLLMMetadata: true,
}

// responsesRequest records the instructions as input message 0 (role
// system) and the input from index 1: a string as one user message, a list
// item by item. The request's tools are recorded too; the response's, when
// there is one, replace them.
func responsesRequest(a *Attrs, req *requestBody) {
	if req.instructions.Type == gjson.String {
		a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageRole), "system")
		a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageContent), req.instructions.Str)
	}
	switch {
	case req.input.Type == gjson.String:
		a.String(indexed(KeyLLMInputMessages, 1, SuffixMessageRole), "user")
		a.String(indexed(KeyLLMInputMessages, 1, SuffixMessageContent), req.input.Str)
	case req.input.IsArray():
		i := 1
		a.forEach(req.input, func(_, item gjson.Result) bool {
			responseItemAttrs(a, KeyLLMInputMessages, i, item, true)
			i++
			return true
		})
	}
	toolsAttrs(a, req.tools)
}

// The Responses API's other routes read or change a stored response. Their
// spans are named after the route, not Response: they create nothing.
var (
	// ResponsesRetrieve is GET /responses/{id}, also streamed
	// (?stream=true, resuming a background response).
	ResponsesRetrieve = storedResponseOp("responses.retrieve")
	// ResponsesCancel is POST /responses/{id}/cancel.
	ResponsesCancel = storedResponseOp("responses.cancel")
	// ResponsesInputTokens is POST /responses/input_tokens: the request is
	// a create request and is recorded as one; the count it answers is
	// output, not tokens used.
	ResponsesInputTokens = Operation{
		Name:      "responses.input_tokens",
		Kind:      KindLLM,
		ParamsKey: KeyLLMInvocationParameters,
		Drop:      Responses.Drop,
		Request:   responsesRequest,
		Response:  func(*Attrs, gjson.Result) {},
	}
)

// storedResponseOp records the response a route answers with as Response
// does, but for its token counts: those were recorded on the span of the
// call that created it, and Phoenix would price them twice. A background
// response is the exception: its create call answered at once, queued, with
// no usage, so the usage is recorded where the finished response is seen.
func storedResponseOp(name string) Operation {
	return Operation{
		Name:      name,
		Kind:      KindLLM,
		ParamsKey: KeyLLMInvocationParameters,
		Request:   func(*Attrs, *requestBody) {},
		Response: func(a *Attrs, resp gjson.Result) {
			responseAttrs(a, resp, a.get(resp, "background").Type == gjson.True)
		},
	}
}

func responsesResponse(a *Attrs, resp gjson.Result) { responseAttrs(a, resp, true) }

// responseAttrs records a response object: model, output items, tools and,
// with usage, its token counts.
func responseAttrs(a *Attrs, resp gjson.Result, usage bool) {
	var output, tools gjson.Result
	a.forEach(resp, func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			a.stringIf(KeyLLMModelName, v)
		case "usage":
			if usage {
				responsesUsageAttrs(a, v)
			}
		case "output":
			output = v
		case "tools":
			tools = v
		}
		return true
	})
	i, images := 0, 0
	a.forEach(output, func(_, item gjson.Result) bool {
		if a.get(item, "type").Str == "image_generation_call" {
			if imageAttrs(a, images, item) {
				images++
			}
		} else {
			responseItemAttrs(a, KeyLLMOutputMessages, i, item, false)
		}
		i++
		return true
	})
	toolsAttrs(a, tools)
}

// toolsAttrs records each tool as its JSON.
func toolsAttrs(a *Attrs, tools gjson.Result) {
	pos := 0
	a.forEach(tools, func(_, tool gjson.Result) bool {
		a.String(indexed(KeyLLMTools, pos, SuffixToolJSONSchema), tool.Raw)
		pos++
		return true
	})
}

// responseItemAttrs records one input or output item as message i of
// list (llm.input_messages or llm.output_messages), its keys the prebuilt
// ones where they can be. Input items may leave out their type (a
// bare {role, content} is a message); output items may not. Items the
// instrumentor does not map (MCP, code interpreter, shell…) record nothing
// and keep their index.
func responseItemAttrs(a *Attrs, list string, i int, item gjson.Result, input bool) {
	key := func(suffix string) string { return indexed(list, i, suffix) }
	typ := a.get(item, "type")
	if !typ.Exists() && input && a.get(item, "role").Exists() && a.get(item, "content").Exists() {
		typ = gjson.Result{Type: gjson.String, Str: "message"}
	}
	call := func(suffix string) string { return messageListKey(list, i, SuffixMessageToolCalls, 0, suffix) }
	switch typ.Str {
	case "message":
		a.stringIf(key(SuffixMessageRole), a.get(item, "role"))
		if content := a.get(item, "content"); content.Type == gjson.String {
			a.String(key(SuffixMessageContent), content.Str)
		} else {
			contentPartsAttrs(a, key(SuffixMessageContents), content)
		}
	case "function_call":
		a.String(key(SuffixMessageRole), "assistant")
		a.stringIf(call(SuffixToolCallID), a.get(item, "call_id"))
		a.stringIf(call(SuffixToolCallName), a.get(item, "name"))
		if args := a.get(item, "arguments"); args.Str != "{}" {
			a.stringIf(call(SuffixToolCallArguments), args)
		}
	case "custom_tool_call":
		a.String(key(SuffixMessageRole), "assistant")
		a.stringIf(call(SuffixToolCallID), a.get(item, "call_id"))
		a.stringIf(call(SuffixToolCallName), a.get(item, "name"))
		if in := a.get(item, "input"); in.Exists() && in.Type != gjson.Null {
			a.String(call(SuffixToolCallArguments), `{"input": `+in.Raw+`}`)
		}
	case "file_search_call", "web_search_call":
		a.String(key(SuffixMessageRole), "assistant")
		a.stringIf(call(SuffixToolCallID), a.get(item, "id"))
		a.String(call(SuffixToolCallName), typ.Str)
	case "computer_call":
		// As the instrumentor writes it: the role and call id of a tool
		// message, under the assistant's tool call.
		a.String(key(SuffixMessageRole), "assistant")
		a.String(call(SuffixMessageRole), "tool")
		a.stringIf(call(SuffixMessageToolCallID), a.get(item, "call_id"))
	case "function_call_output", "custom_tool_call_output", "computer_call_output":
		if !input {
			return
		}
		a.String(key(SuffixMessageRole), "tool")
		a.stringIf(key(SuffixMessageToolCallID), a.get(item, "call_id"))
		if typ.Str == "computer_call_output" {
			return
		}
		// A string output as it is; any other JSON as its text.
		switch out := a.get(item, "output"); out.Type {
		case gjson.String:
			a.String(key(SuffixMessageContent), out.Str)
		case gjson.Null:
		default:
			if out.Exists() {
				a.String(key(SuffixMessageContent), out.Raw)
			}
		}
	case "reasoning":
		a.String(key(SuffixMessageRole), "assistant")
		reasoningAttrs(a, key(SuffixMessageContents)+".0.", item, input)
	}
}

// contentPartsAttrs records the parts of a message's content list: text of
// any kind (input_text, output_text, refusal) as type text, input images
// as type image. Other parts (files, audio) and parts without a type keep
// their index and record nothing.
func contentPartsAttrs(a *Attrs, prefix string, parts gjson.Result) {
	j := 0
	a.forEach(parts, func(_, part gjson.Result) bool {
		p := func(suffix string) string { return indexed(prefix, j, suffix) }
		switch a.get(part, "type").Str {
		case "input_text", "output_text":
			if text := a.get(part, "text"); text.Type == gjson.String {
				a.String(p(SuffixContentType), "text")
				a.String(p(SuffixContentText), text.Str)
			}
		case "refusal":
			if text := a.get(part, "refusal"); text.Type == gjson.String {
				a.String(p(SuffixContentType), "text")
				a.String(p(SuffixContentText), text.Str)
			}
		case "input_image":
			if url := a.get(part, "image_url"); url.Type == gjson.String && url.Str != "" {
				a.String(p(SuffixContentType), "image")
				a.String(p(SuffixContentImageURL), url.Str)
			}
		}
		j++
		return true
	})
}

// reasoningAttrs records a reasoning item as one content part of type
// reasoning: its summary texts joined by newlines, and its encrypted
// content. Input items count only summary_text parts, as the instrumentor
// does for request parameters.
func reasoningAttrs(a *Attrs, prefix string, item gjson.Result, input bool) {
	a.String(prefix+SuffixContentType, "reasoning")
	var texts []string
	a.forEach(a.get(item, "summary"), func(_, s gjson.Result) bool {
		text := a.get(s, "text")
		if input && (a.get(s, "type").Str != "summary_text" || text.Type != gjson.String) {
			return true
		}
		texts = append(texts, text.Str)
		return true
	})
	if len(texts) > 0 {
		a.String(prefix+SuffixContentText, strings.Join(texts, "\n"))
	}
	a.stringIf(prefix+SuffixContentEncrypted, a.get(item, "encrypted_content"))
}

// imageAttrs records a generated image as output.images.N.image.url, a
// data URL, and reports whether the item had one.
func imageAttrs(a *Attrs, n int, item gjson.Result) bool {
	result := a.get(item, "result")
	if result.Type != gjson.String {
		return false
	}
	url := result.Str
	if !strings.HasPrefix(url, "data:image/") {
		format := a.get(item, "output_format").Str
		switch format {
		case "":
			format = "png"
		case "jpg":
			format = "jpeg"
		}
		url = "data:image/" + format + ";base64," + url
	}
	a.String(KeyOutputImages+"."+strconv.Itoa(n)+"."+SuffixImageURL, url)
	return true
}

// responsesUsageAttrs maps a Responses API usage object onto the token
// counts.
func responsesUsageAttrs(a *Attrs, usage gjson.Result) {
	a.forEach(usage, func(k, v gjson.Result) bool {
		switch k.Str {
		case "total_tokens":
			a.intIf(KeyTokenTotal, v)
		case "input_tokens":
			a.intIf(KeyTokenPrompt, v)
		case "output_tokens":
			a.intIf(KeyTokenCompletion, v)
		case "input_tokens_details":
			a.intIf(KeyTokenPromptCacheRead, a.get(v, "cached_tokens"))
			a.intIf(KeyTokenPromptCacheWrite, a.get(v, "cache_write_tokens"))
		case "output_tokens_details":
			a.intIf(KeyTokenCompletionReasoning, a.get(v, "reasoning_tokens"))
		}
		return true
	})
}
