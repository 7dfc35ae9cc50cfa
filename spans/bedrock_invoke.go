package spans

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// BedrockInvokeModel maps Bedrock Runtime's InvokeModel
// (POST /model/{modelId}/invoke), whose body is the model family's own,
// onto an LLM span, as openinference-instrumentation-bedrock 0.1.61 does
// (__init__.py, utils/_extract_invoke_model_attributes.py,
// utils/anthropic/_attributes.py) for each family:
//
//   - Anthropic's Messages body (anthropic_version and messages, no model:
//     what Claude Code and AnthropicBedrock send): the AnthropicMessages
//     mapping, with llm.system anthropic, the invocation parameters without
//     anthropic_version, and the answer's model as llm.model_name.
//   - Amazon Nova's body (messages of content blocks, system text blocks,
//     inferenceConfig): each system block a message of its own with its
//     text as message.content, the messages' texts and tool uses, each tool
//     result a message of its message's role before it, toolConfig's tools,
//     inferenceConfig as the invocation parameters; the answer's
//     output.message, stopReason and usage (prompt is inputTokens, the cache
//     counts are cacheRead/WriteInputTokenCount).
//   - Any other (Llama's, Mistral's and DeepSeek's prompt, Titan's
//     inputText, chat messages of Mistral or OpenAI…): the body without
//     its prompt as the invocation parameters and the answer's finish reason
//     (stopReason, stop_reason, finish_reason… or its first result's).
//
// The handler records the path's modelId as llm.model_name at the span's
// start and leaves llm.system unset: Request sets it for a Claude body
// alone, as the instrumentor does.
//
// Deliberate differences: the instrumentor tells the families by the
// modelId, which an Operation does not see: here the body tells them
// (anthropic_version with messages is Claude's; schemaVersion messages-v…,
// an inferenceConfig or content blocks with no type member Nova's), and
// the answer (content, output.message). A Claude call is recorded as the
// proxy records /v1/messages (content parts with their type, a tool call
// also as a tool_use part, each tool result a message of its own, a token
// total), so that it shows alike in Phoenix whichever way it went; the
// instrumentor's Bedrock Claude mapping records a lone text as
// message.content and no total. OpenAI's chat body (openai.gpt-oss…),
// which the instrumentor maps by its modelId, is by shape Mistral's chat
// body, which it does not map: both are recorded as another family.
// input.value and output.value are the body and the answer as they crossed
// the wire, where the instrumentor records Nova's messages and
// output.message alone, another family's prompt and the answer's text as
// its vendor names it. The other families' token counts come in the
// X-Amzn-Bedrock-Input-Token-Count and -Output-Token-Count headers
// (bedrockTokenHeaders), which Response does not see.
var BedrockInvokeModel = Operation{
	Name:          NameBedrockInvokeModel,
	Kind:          KindLLM,
	Request:       invokeModelRequest,
	Response:      invokeModelResponse,
	UpstreamError: botocoreError("InvokeModel"),
	// Llama's, Mistral's and the other families' token counts come only
	// in the answer's headers.
	ResponseHeaders: bedrockTokenHeaders,
	// Claude's metadata is Anthropic's own: LiteLLM's comes apart.
	LiteLLMMetadata: true,
}

// BedrockInvokeModelStream is InvokeModelWithResponseStream
// (/invoke-with-response-stream): the same mapping, its Response given the
// answer the stream's chunks make up, in the shape of the family's whole
// InvokeModel answer: for Claude a Messages answer, for Nova
// {"output":{"message":…},"stopReason":…,"usage":…} (a stream's usage has
// no totalTokens: the total is then the sum, as the instrumentor's). Unlike
// the instrumentor, the proxy marks the first token with an event, as on
// every stream.
var BedrockInvokeModelStream = func() Operation {
	op := BedrockInvokeModel
	op.Name = NameBedrockInvokeModelStream
	op.UpstreamError = botocoreError("InvokeModelWithResponseStream")
	return op
}()

// bedrockClaudeSystem is llm.system on the spans of a Claude body.
const bedrockClaudeSystem = "anthropic"

// claudeInvokeDrop are the members of a Claude body its invocation
// parameters leave out: those the Messages mapping records apart, and
// anthropic_version, which Bedrock's instrumentor drops too.
var claudeInvokeDrop = append(slices.Clone(AnthropicMessages.Drop), "anthropic_version")

func invokeModelRequest(a *Attrs, req *requestBody) {
	obj := req.obj
	switch {
	case isClaudeBody(obj, req.messages):
		a.String(KeyLLMSystem, bedrockClaudeSystem)
		a.String(KeyLLMInvocationParameters, objectOrEmpty(withoutMembers(obj, claudeInvokeDrop...)))
		anthropicRequest(a, req)
	case isNovaBody(obj, req.messages):
		novaRequest(a, req)
	default:
		// The instrumentor pops the prompt (its input.value) and records
		// the rest, whatever the family.
		a.String(KeyLLMInvocationParameters, objectOrEmpty(withoutMembers(obj, "prompt")))
	}
}

func invokeModelResponse(a *Attrs, resp gjson.Result) {
	switch {
	case resp.Get("output.message").IsObject():
		novaResponse(a, resp)
	case a.get(resp, "content").IsArray():
		// Anthropic's answer: no other family's has a content list.
		anthropicResponse(a, resp)
	default:
		a.stringIf(KeyLLMFinishReason, invokeFinishReason(resp))
	}
}

// isClaudeBody reports whether an InvokeModel body is Anthropic's Messages
// API: Bedrock requires its anthropic_version; the legacy Text Completions
// body has a prompt instead of messages.
func isClaudeBody(obj, messages gjson.Result) bool {
	return jsonbound.Get(obj, "anthropic_version").Exists() && messages.IsArray()
}

// isNovaBody reports whether an InvokeModel body is Amazon Nova's: its
// schemaVersion (messages-v1), its inferenceConfig, or messages whose
// content is Converse's blocks ({"text": …}, no type member, which
// Anthropic's, Mistral's and OpenAI's content parts all have).
func isNovaBody(obj, messages gjson.Result) bool {
	if strings.HasPrefix(jsonbound.Get(obj, "schemaVersion").Str, "messages-v") || jsonbound.Get(obj, "inferenceConfig").IsObject() {
		return true
	}
	first := messages.Get("0.content.0")
	return first.IsObject() && !jsonbound.Get(first, "type").Exists()
}

// objectOrEmpty is raw, or {} for withoutMembers' "" (nothing left): the
// instrumentor records the JSON of what is left, an empty dict included.
func objectOrEmpty(raw string) string {
	if raw == "" {
		return "{}"
	}
	return raw
}

// novaRequest records a Nova body as the instrumentor does
// (_build_nova_input_messages, _build_nova_tools). Unlike Converse, each
// system block is a message, only texts and tool uses are content (no
// images, no reasoning), a tool result keeps its message's role and comes
// before the rest of it, and a message with nothing else is left out.
func novaRequest(a *Attrs, req *requestBody) {
	obj := req.obj
	params := "{}"
	if ic := a.get(obj, "inferenceConfig"); ic.Exists() {
		params = ic.Raw
	}
	a.String(KeyLLMInvocationParameters, params)
	i := 0
	if req.system.IsArray() {
		a.forEach(req.system, func(_, block gjson.Result) bool {
			if text := a.get(block, "text"); text.Type == gjson.String && text.Str != "" {
				a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), "system")
				a.String(indexed(KeyLLMInputMessages, i, SuffixMessageContent), text.Str)
				i++
			}
			return true
		})
	}
	if req.messages.IsArray() {
		a.forEach(req.messages, func(_, msg gjson.Result) bool {
			if msg.IsObject() {
				i = novaMessageAttrs(a, i, msg)
			}
			return true
		})
	}
	n := 0
	a.forEach(obj.Get("toolConfig.tools"), func(_, tool gjson.Result) bool {
		if tool.IsObject() {
			a.String(indexed(KeyLLMTools, n, SuffixToolJSONSchema), tool.Raw)
			n++
		}
		return true
	})
}

// novaMessageAttrs records one Nova request message from input message i
// and returns the index after it.
func novaMessageAttrs(a *Attrs, i int, msg gjson.Result) int {
	role := "user"
	if r := a.get(msg, "role"); r.Type == gjson.String {
		role = r.Str
	}
	var blocks, results []gjson.Result
	a.forEach(a.get(msg, "content"), func(_, block gjson.Result) bool {
		switch {
		case !block.IsObject():
		case pyTruthy(a.get(block, "text")), pyTruthy(a.get(block, "toolUse")):
			blocks = append(blocks, block)
		case pyTruthy(a.get(block, "toolResult")):
			results = append(results, a.get(block, "toolResult"))
		}
		return true
	})
	for _, r := range results {
		a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), role)
		a.String(indexed(KeyLLMInputMessages, i, SuffixMessageToolCallID), a.get(r, "toolUseId").String())
		var parts []string
		a.forEach(a.get(r, "content"), func(_, c gjson.Result) bool {
			if text := a.get(c, "text"); pyTruthy(text) {
				parts = append(parts, text.String())
			} else if doc := a.get(c, "json"); pyTruthy(doc) {
				parts = append(parts, doc.Raw)
			}
			return true
		})
		if len(parts) > 0 {
			a.String(indexed(KeyLLMInputMessages, i, SuffixMessageContent), strings.Join(parts, "\n"))
		}
		i++
	}
	if len(blocks) > 0 {
		a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), role)
		novaBlocksAttrs(a, KeyLLMInputMessages+"."+strconv.Itoa(i), blocks)
		i++
	}
	return i
}

// novaBlocksAttrs records the texts of a Nova message as its content parts
// and its tool uses as its tool calls.
func novaBlocksAttrs(a *Attrs, prefix string, blocks []gjson.Result) {
	parts, calls := 0, 0
	for _, block := range blocks {
		if text := a.get(block, "text"); pyTruthy(text) {
			part := prefix + "." + SuffixMessageContents + "." + strconv.Itoa(parts) + "."
			a.String(part+SuffixContentType, "text")
			a.String(part+SuffixContentText, text.String())
			parts++
		} else if use := a.get(block, "toolUse"); pyTruthy(use) {
			call := prefix + "." + SuffixMessageToolCalls + "." + strconv.Itoa(calls) + "."
			a.String(call+SuffixToolCallID, a.get(use, "toolUseId").String())
			a.String(call+SuffixToolCallName, a.get(use, "name").String())
			toolArgumentsAttr(a, call+SuffixToolCallArguments, a.get(use, "input"))
			calls++
		}
	}
}

// novaResponse records a Nova answer (_build_nova_output_messages,
// _set_nova_body_token_attributes, _extract_finish_reason).
func novaResponse(a *Attrs, resp gjson.Result) {
	if msg := resp.Get("output.message"); pyTruthy(msg) {
		role := "assistant"
		if r := a.get(msg, "role"); r.Type == gjson.String {
			role = r.Str
		}
		a.String(indexed(KeyLLMOutputMessages, 0, SuffixMessageRole), role)
		var blocks []gjson.Result
		a.forEach(a.get(msg, "content"), func(_, block gjson.Result) bool {
			if block.IsObject() {
				blocks = append(blocks, block)
			}
			return true
		})
		novaBlocksAttrs(a, KeyLLMOutputMessages+".0", blocks)
	}
	a.stringIf(KeyLLMFinishReason, invokeFinishReason(resp))
	usage := a.get(resp, "usage")
	if !usage.IsObject() {
		return
	}
	input, output := a.get(usage, "inputTokens"), a.get(usage, "outputTokens")
	a.intIf(KeyTokenPrompt, input)
	a.intIf(KeyTokenCompletion, output)
	switch total := a.get(usage, "totalTokens"); {
	case total.Type == gjson.Number:
		a.Int(KeyTokenTotal, total.Int())
	case input.Type == gjson.Number && output.Type == gjson.Number:
		// A stream's usage has no total.
		a.Int(KeyTokenTotal, input.Int()+output.Int())
	}
	a.intIf(KeyTokenPromptCacheRead, a.get(usage, "cacheReadInputTokenCount"))
	a.intIf(KeyTokenPromptCacheWrite, a.get(usage, "cacheWriteInputTokenCount"))
}

// invokeFinishReason is an InvokeModel answer's finish reason, where the
// families put it (_extract_finish_reason): a top-level member, else its
// first result's, generation's, output's, choice's or completion's. An
// empty result when there is none.
func invokeFinishReason(resp gjson.Result) gjson.Result {
	for _, key := range []string{"stopReason", "stop_reason", "finishReason", "finish_reason", "completionReason"} {
		if v := resp.Get(key); v.Type == gjson.String && v.Str != "" {
			return v
		}
	}
	for _, path := range []string{"results.0.completionReason", "generations.0.finish_reason", "outputs.0.stop_reason",
		"choices.0.finish_reason", "completions.0.finishReason", "completions.0.finishReason.reason"} {
		if v := resp.Get(path); v.Type == gjson.String && v.Str != "" {
			return v
		}
	}
	return gjson.Result{}
}

// pyTruthy reports whether Python holds the value json.loads makes of v
// true: not absent, null, false, zero, "", [] or {}.
func pyTruthy(v gjson.Result) bool {
	switch v.Type {
	case gjson.Null, gjson.False:
		return false
	case gjson.Number:
		return v.Num != 0
	case gjson.String:
		return v.Str != ""
	case gjson.JSON:
		return strings.ContainsFunc(v.Raw[1:len(v.Raw)-1], func(r rune) bool {
			return r != ' ' && r != '\t' && r != '\n' && r != '\r'
		})
	}
	return true
}
