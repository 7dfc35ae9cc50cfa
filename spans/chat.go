package spans

import "github.com/tidwall/gjson"

// Chat maps /chat/completions onto an LLM span, as
// openinference-instrumentation-openai does
// (_request_attributes_extractor.py, _response_attributes_extractor.py).
var Chat = Operation{
	Name:     NameChatCompletion,
	Kind:     KindLLM,
	Request:  chatRequest,
	Response: chatResponse,
}

func chatRequest(a *Attrs, req gjson.Result) {
	a.String(KeyLLMInvocationParameters, withoutKeys(req, "messages", "functions", "tools"))
	pos := 0
	req.Get("messages").ForEach(func(_, msg gjson.Result) bool {
		messageAttrs(a, KeyLLMInputMessages, pos, msg)
		pos++
		return true
	})
	pos = 0
	req.Get("tools").ForEach(func(_, tool gjson.Result) bool {
		a.String(indexed(KeyLLMTools, pos, SuffixToolJSONSchema), tool.Raw)
		pos++
		return true
	})
}

func chatResponse(a *Attrs, resp gjson.Result) {
	a.stringIf(KeyLLMModelName, resp.Get("model"))
	pos := 0
	resp.Get("choices").ForEach(func(_, choice gjson.Result) bool {
		if pos == 0 {
			a.stringIf(KeyLLMFinishReason, choice.Get("finish_reason"))
		}
		if msg := choice.Get("message"); msg.IsObject() {
			messageAttrs(a, KeyLLMOutputMessages, listIndex(choice, pos), msg)
		}
		pos++
		return true
	})
	usageAttrs(a, resp.Get("usage"))
}

// messageAttrs records one chat message, input or output, under prefix.i.
func messageAttrs(a *Attrs, prefix string, i int, msg gjson.Result) {
	a.stringIf(indexed(prefix, i, SuffixMessageRole), msg.Get("role"))
	switch content := msg.Get("content"); {
	case content.Type == gjson.String && content.Str != "":
		// An empty content is not recorded: the instrumentor tests it for
		// truth (chat-detailed-usage, chat-text-to-image-tool).
		a.String(indexed(prefix, i, SuffixMessageContent), content.Str)
	case content.IsArray():
		contentsPrefix := indexed(prefix, i, SuffixMessageContents)
		pos := 0
		content.ForEach(func(_, part gjson.Result) bool {
			contentPartAttrs(a, contentsPrefix, pos, part)
			pos++
			return true
		})
	}
	a.stringIf(indexed(prefix, i, SuffixMessageName), msg.Get("name"))
	a.stringIf(indexed(prefix, i, SuffixMessageToolCallID), msg.Get("tool_call_id"))
	if calls := msg.Get("tool_calls"); calls.IsArray() {
		callsPrefix := indexed(prefix, i, SuffixMessageToolCalls)
		pos := 0
		calls.ForEach(func(_, call gjson.Result) bool {
			a.stringIf(indexed(callsPrefix, pos, SuffixToolCallID), call.Get("id"))
			a.stringIf(indexed(callsPrefix, pos, SuffixToolCallName), call.Get("function.name"))
			a.stringIf(indexed(callsPrefix, pos, SuffixToolCallArguments), call.Get("function.arguments"))
			pos++
			return true
		})
	}
	if fc := msg.Get("function_call"); fc.IsObject() {
		a.stringIf(indexed(prefix, i, SuffixMessageFunctionCallName), fc.Get("name"))
		a.stringIf(indexed(prefix, i, SuffixMessageFunctionCallArgs), fc.Get("arguments"))
	}
}

// contentPartAttrs records one part of a multi-part message. Text and images
// are recorded; other parts (input_audio, file) are not, as in the
// instrumentor, and keep their position so indices match the request.
func contentPartAttrs(a *Attrs, prefix string, j int, part gjson.Result) {
	switch part.Get("type").Str {
	case "text":
		a.String(indexed(prefix, j, SuffixContentType), "text")
		a.stringIf(indexed(prefix, j, SuffixContentText), part.Get("text"))
	case "image_url":
		a.String(indexed(prefix, j, SuffixContentType), "image")
		a.stringIf(indexed(prefix, j, SuffixContentImageURL), part.Get("image_url.url"))
	}
}

// usageAttrs maps an OpenAI usage object onto the token counts.
func usageAttrs(a *Attrs, usage gjson.Result) {
	if !usage.IsObject() {
		return
	}
	a.intIf(KeyTokenTotal, usage.Get("total_tokens"))
	a.intIf(KeyTokenPrompt, usage.Get("prompt_tokens"))
	a.intIf(KeyTokenCompletion, usage.Get("completion_tokens"))
	a.intIf(KeyTokenPromptCacheRead, usage.Get("prompt_tokens_details.cached_tokens"))
	a.intIf(KeyTokenPromptCacheWrite, usage.Get("prompt_tokens_details.cache_creation_tokens"))
	a.intIf(KeyTokenPromptAudio, usage.Get("prompt_tokens_details.audio_tokens"))
	a.intIf(KeyTokenCompletionReasoning, usage.Get("completion_tokens_details.reasoning_tokens"))
	a.intIf(KeyTokenCompletionAudio, usage.Get("completion_tokens_details.audio_tokens"))
}
