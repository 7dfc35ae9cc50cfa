package spans

import (
	"strconv"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// AnthropicMessages maps Anthropic's Messages API (POST /v1/messages) onto
// an LLM span, as openinference-instrumentation-anthropic does (_wrappers.py,
// _content.py, _utils.py): the system prompt and the messages in, the
// answer's content blocks out, token counts with the cache tokens counted
// in the prompt.
var AnthropicMessages = Operation{
	Name:      NameMessagesCreate,
	Kind:      KindLLM,
	System:    "anthropic",
	ParamsKey: KeyLLMInvocationParameters,
	// anthropic_version is Vertex AI's and Bedrock's body member for what
	// Anthropic's API takes as a header: no parameter of the call.
	Drop:     []string{"model", "messages", "system", "tools", "extra_headers", "output_format", "anthropic_version"},
	Request:  anthropicRequest,
	Response: anthropicResponse,

	LiteLLMMetadata: true,
}

// AnthropicCountTokens is POST /v1/messages/count_tokens: its request is a
// Messages request and is recorded as one; the count it answers is its
// output, not tokens used (nothing is generated or billed).
var AnthropicCountTokens = Operation{
	Name:      "messages.count_tokens",
	Kind:      KindLLM,
	ParamsKey: KeyLLMInvocationParameters,
	Drop:      AnthropicMessages.Drop,
	Request:   anthropicRequest,
	Response:  func(*Attrs, gjson.Result) {},
}

// AnthropicMessagesStream is AnthropicMessages for a call made by the
// Anthropic SDK's stream helper (messages.stream), which the instrumentor
// names apart; the SDK says so in its x-stainless-helper-method header.
var AnthropicMessagesStream = func() Operation {
	op := AnthropicMessages
	op.Name = NameMessagesStream
	return op
}()

// anthropicToolCallBlocks are the block types recorded as tool calls.
var anthropicToolCallBlocks = map[string]bool{"tool_use": true, "server_tool_use": true, "mcp_tool_use": true}

// anthropicRequest records the system prompt as input message 0 and the
// messages after it (from 0 without one). Each tool_result block becomes a
// message of its own, role tool, before the rest of its message, so that
// parallel results keep apart.
func anthropicRequest(a *Attrs, req *requestBody) {
	a.stringIf(KeyLLMRequestModelName, req.model)
	if !req.model.Exists() && req.pathModel != "" {
		// Claude on Vertex AI or Bedrock: the path names the model.
		a.String(KeyLLMRequestModelName, req.pathModel)
	}
	i := 0
	if system := req.system; (system.Type == gjson.String && system.Str != "") || (system.IsArray() && len(system.Raw) > 2) {
		a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageRole), "system")
		if system.Type == gjson.String {
			a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageContent), system.Str)
		} else {
			anthropicBlocksAttrs(a, KeyLLMInputMessages, 0, system, nil)
		}
		i = 1
	}
	a.forEach(req.messages, func(_, msg gjson.Result) bool {
		role, content := a.get(msg, "role"), a.get(msg, "content")
		if content.IsArray() {
			rest := false
			a.forEach(content, func(_, block gjson.Result) bool {
				if a.get(block, "type").Str != "tool_result" {
					rest = true
					return true
				}
				a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), "tool")
				anthropicBlockAttrs(a, KeyLLMInputMessages, i, 0, new(int), block)
				i++
				return true
			})
			if !rest {
				return true
			}
		}
		if role.Type == gjson.String && role.Str != "" {
			a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), role.Str)
		}
		switch {
		case content.Type == gjson.String && content.Str != "":
			a.String(indexed(KeyLLMInputMessages, i, SuffixMessageContent), content.Str)
		case content.IsArray():
			anthropicBlocksAttrs(a, KeyLLMInputMessages, i, content, func(b gjson.Result) bool {
				return a.get(b, "type").Str != "tool_result"
			})
		}
		i++
		return true
	})
	pos := 0
	a.forEach(req.tools, func(_, tool gjson.Result) bool {
		a.String(indexed(KeyLLMTools, pos, SuffixToolJSONSchema), tool.Raw)
		pos++
		return true
	})
}

// anthropicResponse records the answer: its model, the output message with
// its stop reason, the token counts, and what the instrumentor keeps in
// metadata.
func anthropicResponse(a *Attrs, msg gjson.Result) {
	var model, role, stopReason, content, usage gjson.Result
	a.forEach(msg, func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			model = v
		case "role":
			role = v
		case "stop_reason":
			stopReason = v
		case "content":
			content = v
		case "usage":
			usage = v
		}
		return true
	})
	if model.Type == gjson.String && model.Str != "" {
		a.String(KeyLLMModelName, model.Str)
		a.String(KeyLLMResponseModelName, model.Str)
	}
	a.stringIf(indexed(KeyLLMOutputMessages, 0, SuffixMessageRole), role)
	if stopReason.Type == gjson.String && stopReason.Str != "" {
		a.String(KeyLLMFinishReason, stopReason.Str)
	}
	anthropicBlocksAttrs(a, KeyLLMOutputMessages, 0, content, nil)
	anthropicUsageAttrs(a, usage)
	if m := anthropicMetadata(msg, content, usage); m != "" {
		a.String(KeyMetadata, m)
	}
}

// anthropicBlocksAttrs records the content blocks of message i of list
// (llm.output_messages, 0), content index j for block j. keep, when set,
// picks the blocks recorded; the others keep their index.
func anthropicBlocksAttrs(a *Attrs, list string, i int, blocks gjson.Result, keep func(gjson.Result) bool) {
	j, tools := 0, 0
	a.forEach(blocks, func(_, block gjson.Result) bool {
		if keep == nil || keep(block) {
			anthropicBlockAttrs(a, list, i, j, &tools, block)
		}
		j++
		return true
	})
}

// anthropicBlockAttrs records block j of message i of list. A tool call
// is recorded twice, as the instrumentor does: as the message's tool call
// number *tools (then counted) and as content part j.
func anthropicBlockAttrs(a *Attrs, list string, i, j int, tools *int, block gjson.Result) {
	part := func(suffix string) string { return messageListKey(list, i, SuffixMessageContents, j, suffix) }
	typ := a.get(block, "type").Str
	switch {
	case typ == "text":
		a.String(part(SuffixContentType), "text")
		a.stringIf(part(SuffixContentText), a.get(block, "text"))
	case typ == "thinking":
		a.String(part(SuffixContentType), "reasoning")
		a.stringIf(part(SuffixContentText), a.get(block, "thinking"))
		if sig := a.get(block, "signature"); sig.Str != "" {
			a.String(part(SuffixContentSignature), sig.Str)
		}
	case typ == "redacted_thinking":
		a.String(part(SuffixContentType), "reasoning")
		a.stringIf(part(SuffixContentData), a.get(block, "data"))
	case anthropicToolCallBlocks[typ]:
		id, name, args := a.get(block, "id").Str, a.get(block, "name").Str, a.get(block, "input").Raw
		if args == "" {
			args = "null"
		}
		k := *tools
		call := func(suffix string) string { return messageListKey(list, i, SuffixMessageToolCalls, k, suffix) }
		a.String(call(SuffixToolCallID), id)
		a.String(call(SuffixToolCallName), name)
		a.String(call(SuffixToolCallArguments), args)
		a.String(part(SuffixContentType), "tool_use")
		a.String(part(SuffixToolCallID), id)
		a.String(part(SuffixToolCallName), name)
		a.String(part(SuffixToolCallArguments), args)
		*tools++
	case typ == "tool_result":
		a.stringIf(indexed(list, i, SuffixMessageToolCallID), a.get(block, "tool_use_id"))
		switch c := a.get(block, "content"); {
		case c.Type == gjson.String:
			a.String(indexed(list, i, SuffixMessageContent), c.Str)
		case c.Exists() && c.Type != gjson.Null:
			a.String(indexed(list, i, SuffixMessageContent), c.Raw)
		}
	case typ == "image" && block.Get("source.type").Str != "file":
		source := a.get(block, "source")
		url := a.get(source, "url").Str
		if a.get(source, "type").Str == "base64" {
			url = "data:" + a.get(source, "media_type").Str + ";base64," + a.get(source, "data").Str
		}
		a.String(part(SuffixContentType), "image")
		a.String(part(SuffixContentImageURL), url)
	default:
		// Any other block (server tool results, documents, files) as its
		// type and its JSON.
		if typ == "" {
			typ = "unknown"
		}
		a.String(part(SuffixContentType), typ)
		a.String(part(SuffixContentText), block.Raw)
	}
}

// anthropicUsageAttrs records the token counts as the instrumentor
// computes them: the prompt counts the cache reads and writes, which
// Anthropic's input_tokens leaves out; the total is prompt plus completion;
// cache and thinking counts only when not zero.
func anthropicUsageAttrs(a *Attrs, usage gjson.Result) {
	if !usage.IsObject() {
		return
	}
	input, output := a.get(usage, "input_tokens").Int(), a.get(usage, "output_tokens").Int()
	cacheRead, cacheWrite := a.get(usage, "cache_read_input_tokens").Int(), a.get(usage, "cache_creation_input_tokens").Int()
	prompt := input + cacheRead + cacheWrite
	a.Int(KeyTokenPrompt, prompt)
	a.Int(KeyTokenCompletion, output)
	if cacheRead != 0 {
		a.Int(KeyTokenPromptCacheRead, cacheRead)
	}
	if cacheWrite != 0 {
		a.Int(KeyTokenPromptCacheWrite, cacheWrite)
	}
	if thinking := usage.Get("output_tokens_details.thinking_tokens").Int(); thinking != 0 {
		a.Int(KeyTokenCompletionReasoning, thinking)
	}
	a.Int(KeyTokenTotal, prompt+output)
}

// anthropicMetadata is the JSON of what the instrumentor records of an
// answer in metadata, for data with no convention of its own: the stop
// details, the container, server tool use counts (when any is not zero),
// the citations of each text block by its index, the MCP server of each
// MCP tool call. "" when there is none.
func anthropicMetadata(msg, content, usage gjson.Result) string {
	out := []byte{'{'}
	add := func(key string, raw string) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, key...)
		out = append(out, `":`...)
		out = append(out, raw...)
	}
	if d := jsonbound.Get(msg, "stop_details"); d.IsObject() && len(d.Raw) > 2 {
		add("stop_details", d.Raw)
	}
	if reason := msg.Get("diagnostics.cache_miss_reason"); reason.Exists() && reason.Type != gjson.Null && reason.Raw != `""` {
		add("cache_miss_reason", reason.Raw)
	}
	if id := msg.Get("container.id"); id.Type == gjson.String && id.Str != "" {
		add("container_id", id.Raw)
	}
	if tools := jsonbound.Get(usage, "server_tool_use"); tools.IsObject() {
		any := false
		jsonbound.ForEach(tools, func(_, v gjson.Result) bool {
			any = any || (v.Type == gjson.Number && v.Num != 0)
			return !any
		})
		if any {
			add("server_tool_use", tools.Raw)
		}
	}
	citations, servers := []byte{'{'}, []byte{'{'}
	j := 0
	jsonbound.ForEach(content, func(_, block gjson.Result) bool {
		switch jsonbound.Get(block, "type").Str {
		case "text":
			if c := jsonbound.Get(block, "citations"); c.IsArray() && len(c.Raw) > 2 {
				if len(citations) > 1 {
					citations = append(citations, ',')
				}
				citations = append(citations, `"`+strconv.Itoa(j)+`":`...)
				citations = append(citations, c.Raw...)
			}
		case "mcp_tool_use":
			if len(servers) > 1 {
				servers = append(servers, ',')
			}
			servers = append(servers, jsonbound.Get(block, "id").Raw...)
			servers = append(servers, ':')
			servers = append(servers, jsonbound.Get(block, "server_name").Raw...)
		}
		j++
		return true
	})
	if len(citations) > 1 {
		add("citations", string(append(citations, '}')))
	}
	if len(servers) > 1 {
		add("mcp_server_names", string(append(servers, '}')))
	}
	if len(out) == 1 {
		return ""
	}
	return string(append(out, '}'))
}
