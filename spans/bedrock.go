package spans

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// BedrockConverse maps AWS Bedrock Runtime's Converse
// (POST /model/{modelId}/converse) onto an LLM span, as
// openinference-instrumentation-bedrock 0.1.61 does
// (_converse_attributes.py): the system prompt as input message 0, role
// system; each message with its content blocks as message.contents (text,
// images as data URLs, reasoning with its signature or redacted data), its
// tool uses as tool calls, each tool result a message of its own, role
// tool, after the rest of its message; each toolConfig.tools element whole
// as a tool; inferenceConfig merged with additionalModelRequestFields as
// the invocation parameters (none when the request has neither); the
// answer's output.message out, its
// stopReason, and token counts with the cache reads and writes counted in
// the prompt (inputTokens leaves them out, totalTokens has them).
//
// The model is the path's modelId, which the handler records at the span's
// start (the body names none); llm.system is left unset, as the
// instrumentor leaves it on Converse spans whatever the model.
//
// Deliberate differences: input.value is the request body as sent and
// output.value the whole answer, as on every API here, where the
// instrumentor records the JSON of the request's messages and of the
// answer's output.message alone (binary content, such as image bytes, as a
// Python bytes literal b'…'): the whole JSON keeps what no other attribute
// holds (toolChoice, guardrailConfig, a guardrail's trace, metrics). A
// tool result's JSON content is recorded as it came, not re-serialized in
// Python's style.
var BedrockConverse = Operation{
	Name:          NameBedrockConverse,
	Kind:          KindLLM,
	Request:       converseRequest,
	Response:      converseResponse,
	UpstreamError: botocoreError("Converse"),
}

// BedrockConverseStream is ConverseStream (/converse-stream): the same
// mapping, its Response given the answer the stream's events make up, in
// the shape of a whole Converse answer ({"output":{"message":…},
// "stopReason":…,"usage":…,"metrics":…}). Unlike the instrumentor, the
// proxy marks the first token with an event, as on every stream.
var BedrockConverseStream = func() Operation {
	op := BedrockConverse
	op.Name = NameBedrockConverseStream
	op.UpstreamError = botocoreError("ConverseStream")
	return op
}()

// The instrumentor's span names.
const (
	NameBedrockConverse          = "bedrock.converse"
	NameBedrockConverseStream    = "bedrock.converse_stream"
	NameBedrockInvokeModel       = "bedrock.invoke_model"
	NameBedrockInvokeModelStream = "bedrock.invoke_model_with_response_stream"
)

func converseRequest(a *Attrs, req *requestBody) {
	obj := req.obj
	if params, ok := converseParams(a.get(obj, "inferenceConfig"), a.get(obj, "additionalModelRequestFields")); ok {
		a.String(KeyLLMInvocationParameters, params)
	}
	i := 0
	if req.system.IsArray() {
		// Only text blocks make the system message (no cachePoint or
		// guardContent); none, no message.
		j := 0
		a.forEach(req.system, func(_, block gjson.Result) bool {
			if text := a.get(block, "text"); text.Exists() {
				part := KeyLLMInputMessages + ".0." + SuffixMessageContents + "." + strconv.Itoa(j) + "."
				a.String(part+SuffixContentType, "text")
				a.stringIf(part+SuffixContentText, text)
				j++
			}
			return true
		})
		if j > 0 {
			a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageRole), "system")
			i = 1
		}
	}
	if req.messages.IsArray() {
		a.forEach(req.messages, func(_, msg gjson.Result) bool {
			i = converseMessageAttrs(a, KeyLLMInputMessages, i, msg)
			return true
		})
	}
	n := 0
	a.forEach(obj.Get("toolConfig.tools"), func(_, tool gjson.Result) bool {
		a.String(indexed(KeyLLMTools, n, SuffixToolJSONSchema), tool.Raw)
		n++
		return true
	})
}

// converseParams is the instrumentor's invocation parameters: the members
// of inferenceConfig, updated with those of additionalModelRequestFields
// (a same key keeps its place and takes the latter's value, as Python's
// dict.update does); additionalModelRequestFields that is no object is
// kept under its own name. False when the request has neither.
func converseParams(inference, additional gjson.Result) (string, bool) {
	hasAdditional := additional.Exists() && additional.Type != gjson.Null
	switch {
	case !inference.Exists() && !hasAdditional:
		return "", false
	case !hasAdditional && inference.IsObject():
		return inference.Raw, true
	}
	type member struct{ key, raw string }
	var members []member
	set := func(key, raw string) {
		for i := range members {
			if members[i].key == key {
				members[i].raw = raw
				return
			}
		}
		members = append(members, member{key, raw})
	}
	if inference.IsObject() {
		jsonbound.ForEach(inference, func(k, v gjson.Result) bool {
			set(k.Str, v.Raw)
			return true
		})
	}
	if additional.IsObject() {
		jsonbound.ForEach(additional, func(k, v gjson.Result) bool {
			set(k.Str, v.Raw)
			return true
		})
	} else if hasAdditional {
		set("additionalModelRequestFields", additional.Raw)
	}
	b := []byte{'{'}
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = openai.AppendJSONString(b, m.key)
		b = append(b, ':')
		b = append(b, m.raw...)
	}
	return string(append(b, '}')), true
}

// converseMessageAttrs records a Converse message as message i of list
// (get_message_objects): its content blocks and tool calls, then each of
// its tool results as a message of its own. A message that held only tool
// results is those messages alone; any other is recorded, even with
// nothing but its role. It returns the index of the next message.
func converseMessageAttrs(a *Attrs, list string, i int, msg gjson.Result) int {
	parts, calls := 0, 0
	var results []gjson.Result
	if content := a.get(msg, "content"); content.IsArray() {
		a.forEach(content, func(_, block gjson.Result) bool {
			if r := converseBlockAttrs(a, list, i, &parts, &calls, block); r.Exists() {
				results = append(results, r)
			}
			return true
		})
	}
	if parts > 0 || calls > 0 || len(results) == 0 {
		a.stringIf(indexed(list, i, SuffixMessageRole), a.get(msg, "role"))
		i++
	}
	for _, r := range results {
		a.String(indexed(list, i, SuffixMessageRole), "tool")
		a.stringIf(indexed(list, i, SuffixMessageToolCallID), a.get(r, "toolUseId"))
		var texts []string
		a.forEach(a.get(r, "content"), func(_, c gjson.Result) bool {
			if text := a.get(c, "text"); text.Exists() {
				texts = append(texts, text.String())
			}
			if doc := a.get(c, "json"); doc.Exists() {
				texts = append(texts, doc.Raw)
			}
			// Images, documents and videos the instrumentor leaves out.
			return true
		})
		if len(texts) > 0 {
			a.String(indexed(list, i, SuffixMessageContent), strings.Join(texts, "\n\n"))
		}
		i++
	}
	return i
}

// converseBlockAttrs records one content block of message i of list:
// text, an image given by its bytes and reasoning as content part *parts,
// a tool use as tool call *calls (each counted); it returns the block's
// toolResult (for the caller to make a message of), if any. Other blocks
// (documents, videos, cache points, guard content) take no place, as in
// the instrumentor.
func converseBlockAttrs(a *Attrs, list string, i int, parts, calls *int, block gjson.Result) (toolResult gjson.Result) {
	part := func(suffix string) string { return messageListKey(list, i, SuffixMessageContents, *parts, suffix) }
	if text := a.get(block, "text"); text.Exists() {
		a.String(part(SuffixContentType), "text")
		a.stringIf(part(SuffixContentText), text)
		*parts++
	}
	if image := a.get(block, "image"); image.Exists() {
		// On the wire the bytes are base64 already: the instrumentor's
		// b64encode of the bytes boto3 decoded gives them back.
		if data := image.Get("source.bytes"); data.Exists() {
			a.String(part(SuffixContentType), "image")
			a.String(part(SuffixContentImageURL), "data:image/"+a.get(image, "format").String()+";base64,"+data.String())
			*parts++
		}
	}
	if reasoning := a.get(block, "reasoningContent"); reasoning.Exists() {
		if rt := a.get(reasoning, "reasoningText"); rt.Exists() {
			a.String(part(SuffixContentType), "reasoning")
			a.stringIf(part(SuffixContentText), a.get(rt, "text"))
			a.stringIf(part(SuffixContentSignature), a.get(rt, "signature"))
			*parts++
		} else if data := a.get(reasoning, "redactedContent"); data.Exists() {
			a.String(part(SuffixContentType), "reasoning")
			a.stringIf(part(SuffixContentData), data)
			*parts++
		}
	}
	if use := a.get(block, "toolUse"); use.Exists() {
		call := func(suffix string) string { return messageListKey(list, i, SuffixMessageToolCalls, *calls, suffix) }
		a.stringIf(call(SuffixToolCallID), a.get(use, "toolUseId"))
		a.stringIf(call(SuffixToolCallName), a.get(use, "name"))
		toolArgumentsAttr(a, call(SuffixToolCallArguments), a.get(use, "input"))
		*calls++
	}
	return a.get(block, "toolResult")
}

// toolArgumentsAttr records a tool use's input as openinference-
// instrumentation records a tool call's arguments: an object as its JSON,
// a string as it is, anything else not at all.
func toolArgumentsAttr(a *Attrs, key string, input gjson.Result) {
	switch {
	case input.IsObject():
		a.String(key, input.Raw)
	case input.Type == gjson.String:
		a.String(key, input.Str)
	}
}

func converseResponse(a *Attrs, resp gjson.Result) {
	var output, stopReason, usage gjson.Result
	a.forEach(resp, func(k, v gjson.Result) bool {
		switch k.Str {
		case "output":
			output = v
		case "stopReason":
			stopReason = v
		case "usage":
			usage = v
		}
		return true
	})
	if msg := a.get(output, "message"); msg.IsObject() {
		converseMessageAttrs(a, KeyLLMOutputMessages, 0, msg)
	}
	a.stringIf(KeyLLMFinishReason, stopReason)
	converseUsageAttrs(a, usage)
}

// converseUsageAttrs records a Converse usage: the prompt is inputTokens
// with the cache reads and writes, which it leaves out, so that prompt and
// completion make totalTokens; the cache counts whenever the usage has
// them, zero included.
func converseUsageAttrs(a *Attrs, usage gjson.Result) {
	if !usage.IsObject() {
		return
	}
	var input, output, total, cacheRead, cacheWrite gjson.Result
	a.forEach(usage, func(k, v gjson.Result) bool {
		switch k.Str {
		case "inputTokens":
			input = v
		case "outputTokens":
			output = v
		case "totalTokens":
			total = v
		case "cacheReadInputTokens":
			cacheRead = v
		case "cacheWriteInputTokens":
			cacheWrite = v
		}
		return true
	})
	if input.Type == gjson.Number {
		a.Int(KeyTokenPrompt, input.Int()+cacheRead.Int()+cacheWrite.Int())
	}
	a.intIf(KeyTokenCompletion, output)
	a.intIf(KeyTokenTotal, total)
	a.intIf(KeyTokenPromptCacheRead, cacheRead)
	a.intIf(KeyTokenPromptCacheWrite, cacheWrite)
}
