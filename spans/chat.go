package spans

import (
	"github.com/tidwall/gjson"
)

// Chat maps /chat/completions onto an LLM span, as
// openinference-instrumentation-openai does
// (_request_attributes_extractor.py, _response_attributes_extractor.py).
var Chat = Operation{
	Name:      NameChatCompletion,
	Kind:      KindLLM,
	ParamsKey: KeyLLMInvocationParameters,
	Drop:      []string{"messages", "functions", "tools"},
	Request:   chatRequest,
	Response:  chatResponse,
}

func chatRequest(a *Attrs, req *requestBody) {
	pos := 0
	a.forEach(req.messages, func(_, msg gjson.Result) bool {
		messageAttrs(a, KeyLLMInputMessages, pos, msg)
		pos++
		return true
	})
	pos = 0
	a.forEach(req.tools, func(_, tool gjson.Result) bool {
		a.String(indexed(KeyLLMTools, pos, SuffixToolJSONSchema), tool.Raw)
		pos++
		return true
	})
}

func chatResponse(a *Attrs, resp gjson.Result) {
	a.forEach(resp, func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			a.stringIf(KeyLLMModelName, v)
		case "choices":
			pos := 0
			a.forEach(v, func(_, choice gjson.Result) bool {
				var index, msg gjson.Result
				a.forEach(choice, func(k, v gjson.Result) bool {
					switch k.Str {
					case "index":
						index = v
					case "message":
						msg = v
					case "finish_reason":
						if pos == 0 {
							a.stringIf(KeyLLMFinishReason, v)
						}
					}
					return true
				})
				if msg.IsObject() {
					messageAttrs(a, KeyLLMOutputMessages, indexOr(index, pos), msg)
				}
				pos++
				return true
			})
		case "usage":
			usageAttrs(a, v)
		}
		return true
	})
}

// messageAttrs records one chat message, input or output, under prefix.i.
// It reads the message's members in one pass.
func messageAttrs(a *Attrs, prefix string, i int, msg gjson.Result) {
	var role, content, name, toolCallID, toolCalls, functionCall gjson.Result
	a.forEach(msg, func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			role = v
		case "content":
			content = v
		case "name":
			name = v
		case "tool_call_id":
			toolCallID = v
		case "tool_calls":
			toolCalls = v
		case "function_call":
			functionCall = v
		}
		return true
	})
	a.stringIf(indexed(prefix, i, SuffixMessageRole), role)
	switch {
	case content.Type == gjson.String && content.Str != "":
		// An empty content is not recorded: the instrumentor tests it for
		// truth (chat-detailed-usage, chat-text-to-image-tool).
		a.String(indexed(prefix, i, SuffixMessageContent), content.Str)
	case content.IsArray():
		contentsPrefix := indexed(prefix, i, SuffixMessageContents)
		pos := 0
		a.forEach(content, func(_, part gjson.Result) bool {
			contentPartAttrs(a, contentsPrefix, pos, part)
			pos++
			return true
		})
	}
	a.stringIf(indexed(prefix, i, SuffixMessageName), name)
	a.stringIf(indexed(prefix, i, SuffixMessageToolCallID), toolCallID)
	if toolCalls.IsArray() {
		callsPrefix := indexed(prefix, i, SuffixMessageToolCalls)
		pos := 0
		a.forEach(toolCalls, func(_, call gjson.Result) bool {
			a.stringIf(indexed(callsPrefix, pos, SuffixToolCallID), a.get(call, "id"))
			fn := a.get(call, "function")
			a.stringIf(indexed(callsPrefix, pos, SuffixToolCallName), a.get(fn, "name"))
			a.stringIf(indexed(callsPrefix, pos, SuffixToolCallArguments), a.get(fn, "arguments"))
			pos++
			return true
		})
	}
	if functionCall.IsObject() {
		a.stringIf(indexed(prefix, i, SuffixMessageFunctionCallName), a.get(functionCall, "name"))
		a.stringIf(indexed(prefix, i, SuffixMessageFunctionCallArgs), a.get(functionCall, "arguments"))
	}
}

// contentPartAttrs records one part of a multi-part message. Text and images
// are recorded; other parts (input_audio, file) are not, as in the
// instrumentor, and keep their position so indices match the request.
func contentPartAttrs(a *Attrs, prefix string, j int, part gjson.Result) {
	switch a.get(part, "type").Str {
	case "text":
		a.String(indexed(prefix, j, SuffixContentType), "text")
		a.stringIf(indexed(prefix, j, SuffixContentText), a.get(part, "text"))
	case "image_url":
		a.String(indexed(prefix, j, SuffixContentType), "image")
		a.stringIf(indexed(prefix, j, SuffixContentImageURL), part.Get("image_url.url"))
	}
}

// usageAttrs maps an OpenAI usage object onto the token counts, reading
// it in one pass.
func usageAttrs(a *Attrs, usage gjson.Result) {
	a.forEach(usage, func(k, v gjson.Result) bool {
		switch k.Str {
		case "total_tokens":
			a.intIf(KeyTokenTotal, v)
		case "prompt_tokens":
			a.intIf(KeyTokenPrompt, v)
		case "completion_tokens":
			a.intIf(KeyTokenCompletion, v)
		case "prompt_tokens_details":
			a.forEach(v, func(k, v gjson.Result) bool {
				switch k.Str {
				case "cached_tokens":
					a.intIf(KeyTokenPromptCacheRead, v)
				case "cache_creation_tokens":
					a.intIf(KeyTokenPromptCacheWrite, v)
				case "audio_tokens":
					a.intIf(KeyTokenPromptAudio, v)
				}
				return true
			})
		case "completion_tokens_details":
			a.forEach(v, func(k, v gjson.Result) bool {
				switch k.Str {
				case "reasoning_tokens":
					a.intIf(KeyTokenCompletionReasoning, v)
				case "audio_tokens":
					a.intIf(KeyTokenCompletionAudio, v)
				}
				return true
			})
		}
		return true
	})
}
