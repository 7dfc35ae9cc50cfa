package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// BedrockMinThinkingBudget is the least thinking budget Bedrock takes:
// LiteLLM raises a smaller one to it (BEDROCK_MIN_THINKING_BUDGET_TOKENS).
const BedrockMinThinkingBudget = 1024

// converseRequest is a Converse (or ConverseStream) request, its members
// in the order LiteLLM sends them; empty ones are left out, which
// Converse reads as absent.
type converseRequest struct {
	Messages                     []converseMessage `json:"messages"`
	AdditionalModelRequestFields map[string]any    `json:"additionalModelRequestFields,omitempty"`
	System                       []block           `json:"system,omitempty"`
	InferenceConfig              map[string]any    `json:"inferenceConfig,omitempty"`
	ToolConfig                   *converseTools    `json:"toolConfig,omitempty"`
	GuardrailConfig              json.RawMessage   `json:"guardrailConfig,omitempty"`
	PerformanceConfig            json.RawMessage   `json:"performanceConfig,omitempty"`
	RequestMetadata              json.RawMessage   `json:"requestMetadata,omitempty"`
	ServiceTier                  block             `json:"serviceTier,omitempty"`
}

// converseMessage is one Converse message: a role and its content blocks
// ({"text": …}, {"image": …}, {"toolUse": …}, {"cachePoint": …}, …).
type converseMessage struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

type converseTools struct {
	Tools      []block `json:"tools"`
	ToolChoice block   `json:"toolChoice,omitempty"`
}

// cachePoint is the block an OpenAI cache_control mark becomes (LiteLLM's
// get_cache_point_block; "default" is the only type Converse takes).
func cachePoint() block { return block{"cachePoint": block{"type": "default"}} }

// OpenAIChatToBedrock translates an OpenAI chat completions request into a
// Converse request for the Bedrock model id, as LiteLLM's
// AmazonConverseConfig does for "bedrock/…" models: system messages as
// system blocks, the others as alternating user and assistant messages
// (consecutive ones of one role merged, tool results in the user's),
// tools as toolConfig, sampling and limits as inferenceConfig, reasoning
// as the model family takes it in additionalModelRequestFields, a JSON
// schema response format as a forced tool, cache_control marks as
// cachePoint blocks. It reports an error for a request it cannot
// translate (the caller answers 400): no messages, a malformed message, an
// image given by URL (see bedrockMedia), a tool call with no tools.
func OpenAIChatToBedrock(body []byte, model string) ([]byte, error) {
	out, err := openAIChatToBedrock(body, model)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func openAIChatToBedrock(body []byte, model string) (*converseRequest, error) {
	if err := jsonbound.Check(body); err != nil {
		return nil, err
	}
	req := gjson.ParseBytes(body)
	msgs := req.Get("messages")
	if !msgs.IsArray() || len(msgs.Array()) == 0 {
		return nil, fmt.Errorf("'messages' must be a non-empty list")
	}
	fam := bedrockFamilyOf(model)
	out := &converseRequest{InferenceConfig: map[string]any{}, AdditionalModelRequestFields: map[string]any{}}
	b := bedrockMessages{family: fam}
	var err error
	msgs.ForEach(func(_, m gjson.Result) bool {
		err = b.add(out, m)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	out.Messages = b.messages
	if len(out.Messages) == 0 {
		return nil, fmt.Errorf("the request has no user or assistant message; Bedrock needs one")
	}
	maxGiven := out.addInference(req, fam)
	if err := out.addTools(req, fam); err != nil {
		return nil, err
	}
	if out.ToolConfig == nil && b.toolBlocks {
		// LiteLLM's check: Converse refuses toolUse and toolResult blocks
		// without a toolConfig.
		return nil, fmt.Errorf("the conversation has tool calls or results, and Bedrock takes them only with the tools declared " +
			"(as LiteLLM says, no tool calling without `tools=`): pass the tools the conversation used")
	}
	if err := out.addReasoning(req, fam, maxGiven); err != nil {
		return nil, err
	}
	for _, k := range []struct {
		name string
		dst  *json.RawMessage
	}{{"guardrailConfig", &out.GuardrailConfig}, {"performanceConfig", &out.PerformanceConfig}, {"requestMetadata", &out.RequestMetadata}} {
		if v := req.Get(k.name); v.IsObject() {
			*k.dst = json.RawMessage(v.Raw)
		}
	}
	if tier := req.Get("service_tier").Str; tier != "" {
		if tier == "auto" {
			tier = "default" // Bedrock has no "auto"
		}
		if tier == "default" || tier == "flex" || tier == "priority" {
			out.ServiceTier = block{"type": tier}
		}
	}
	return out, nil
}

// bedrockFamily is what the translation needs to know of a Bedrock model
// id: the family decides where reasoning goes and what a cachePoint may
// mark.
type bedrockFamily struct {
	claude, nova, nova2, gptOSS, deepseek, deepseekR1 bool
	// noCache: a family without prompt caching, which refuses cachePoint
	// blocks (LiteLLM's bedrock_model_accepts_cache_points reads its cost
	// map; an unknown model, as an ARN, keeps them).
	noCache bool
}

func bedrockFamilyOf(model string) bedrockFamily {
	m := strings.ToLower(model)
	f := bedrockFamily{
		claude:     strings.Contains(m, "anthropic.") || strings.Contains(m, "claude"),
		nova:       strings.Contains(m, "amazon.nova"),
		nova2:      strings.Contains(m, "nova-2"),
		gptOSS:     strings.Contains(m, "gpt-oss"),
		deepseek:   strings.Contains(m, "deepseek"),
		deepseekR1: strings.Contains(m, "deepseek.r1"),
	}
	for _, p := range []string{"meta.", "mistral.", "openai.", "deepseek.", "cohere.", "ai21.", "qwen.", "writer.", "twelvelabs."} {
		if strings.Contains(m, p) {
			f.noCache = true
		}
	}
	return f
}

// addInference sets inferenceConfig from max_completion_tokens (else
// max_tokens), stop, temperature and top_p, and top_k where the family
// takes it (Claude's own top_k, Nova's inferenceConfig.topK, both in
// additionalModelRequestFields). It reports whether a maximum was given.
func (out *converseRequest) addInference(req gjson.Result, fam bedrockFamily) bool {
	maxGiven := true
	if v := req.Get("max_completion_tokens"); v.Type == gjson.Number {
		out.InferenceConfig["maxTokens"] = json.RawMessage(v.Raw)
	} else if v := req.Get("max_tokens"); v.Type == gjson.Number {
		out.InferenceConfig["maxTokens"] = json.RawMessage(v.Raw)
	} else {
		maxGiven = false
	}
	var stops []string
	switch stop := req.Get("stop"); {
	case stop.Type == gjson.String && stop.Str != "": // Converse refuses an empty one
		stops = []string{stop.Str}
	case stop.IsArray():
		stop.ForEach(func(_, s gjson.Result) bool {
			if s.Type == gjson.String && s.Str != "" {
				stops = append(stops, s.Str)
			}
			return true
		})
	}
	if len(stops) > 0 {
		out.InferenceConfig["stopSequences"] = stops
	}
	for _, k := range [][2]string{{"temperature", "temperature"}, {"top_p", "topP"}} {
		if v := req.Get(k[0]); v.Type == gjson.Number {
			out.InferenceConfig[k[1]] = json.RawMessage(v.Raw)
		}
	}
	if v := req.Get("top_k"); v.Type == gjson.Number {
		switch {
		case fam.claude:
			out.AdditionalModelRequestFields["top_k"] = json.RawMessage(v.Raw)
		case fam.nova:
			out.AdditionalModelRequestFields["inferenceConfig"] = block{"topK": json.RawMessage(v.Raw)}
		}
	}
	return maxGiven
}

// addTools sets toolConfig: each function tool as a toolSpec (its
// description, else its name: Converse refuses an empty one; its
// parameters, else an empty object schema), a cache_control mark as a
// cachePoint after it, a JSON schema response format as one more tool
// (responseFormatTool), and tool_choice as toolChoice: auto, required
// (any), one named tool. "none" has no Converse counterpart: a 400, as
// LiteLLM raises without drop_params. parallel_tool_calls is Claude's
// disable_parallel_tool_use, in additionalModelRequestFields.
func (out *converseRequest) addTools(req gjson.Result, fam bedrockFamily) error {
	var tools []block
	req.Get("tools").ForEach(func(_, t gjson.Result) bool {
		fn := t.Get("function")
		if t.Get("type").Str != "function" || !fn.IsObject() {
			return true
		}
		name := fn.Get("name").Str
		desc := fn.Get("description").Str
		if desc == "" {
			desc = name
		}
		schema := json.RawMessage(`{"type":"object","properties":{}}`)
		if p := fn.Get("parameters"); p.IsObject() {
			schema = json.RawMessage(p.Raw)
		}
		tools = append(tools, block{"toolSpec": block{"name": name, "description": desc, "inputSchema": block{"json": schema}}})
		if t.Get("cache_control").IsObject() && !fam.noCache {
			tools = append(tools, cachePoint())
		}
		return true
	})
	var choice block
	switch tc := req.Get("tool_choice"); {
	case tc.Str == "auto":
		choice = block{"auto": block{}}
	case tc.Str == "required":
		choice = block{"any": block{}}
	case tc.Str == "none":
		if len(tools) > 0 {
			return fmt.Errorf("tool_choice=\"none\" has no Bedrock counterpart: leave the tools out of the request instead")
		}
	case tc.IsObject() && tc.Get("function.name").Str != "":
		choice = block{"tool": block{"name": tc.Get("function.name").Str}}
	}
	if tool, forced := responseFormatTool(req.Get("response_format")); tool != nil {
		tools = append(tools, tool)
		if forced {
			choice = block{"tool": block{"name": ResponseFormatTool}}
		}
	}
	if len(tools) == 0 {
		return nil
	}
	out.ToolConfig = &converseTools{Tools: tools, ToolChoice: choice}
	if p := req.Get("parallel_tool_calls"); fam.claude && (p.Type == gjson.True || p.Type == gjson.False) {
		tc := block{"disable_parallel_tool_use": p.Type == gjson.False}
		if choice == nil {
			// Converse refuses a type here beside a toolChoice.
			tc["type"] = "auto"
		}
		out.AdditionalModelRequestFields["tool_choice"] = tc
	}
	return nil
}

// responseFormatTool is the tool a json_schema response format becomes,
// as LiteLLM makes it: named ResponseFormatTool, the schema its input, and
// forced (a thinking model may not be forced: addReasoning relaxes it). A
// json_object format, which has no schema, sends nothing (LiteLLM now
// sends nothing: the model answers JSON when the prompt asks for it).
// LiteLLM sends some models the schema natively (outputConfig.textFormat)
// by its model map; this translation always uses the tool, which every
// model with tool use takes.
func responseFormatTool(rf gjson.Result) (block, bool) {
	s := rf.Get("json_schema.schema")
	if rf.Get("type").Str != "json_schema" || !s.IsObject() {
		return nil, false
	}
	spec := block{"name": ResponseFormatTool, "inputSchema": block{"json": json.RawMessage(s.Raw)}}
	desc := rf.Get("json_schema.description").Str
	if desc == "" {
		desc = ResponseFormatTool // Converse refuses an empty description
	}
	spec["description"] = desc
	return block{"toolSpec": spec}, true
}

// addReasoning maps thinking and reasoning_effort as LiteLLM does by the
// model's family: Claude takes Anthropic's thinking (reasoning_effort as
// its budgets, each at least BedrockMinThinkingBudget), and, unless a
// maximum was given, a maxTokens of the budget plus
// AnthropicDefaultMaxTokens; a forced tool becomes auto, as Claude refuses
// forced tool use while thinking. Nova 2 takes reasoning_effort as
// reasoningConfig; gpt-oss and DeepSeek (but R1) take it as it is.
// DeepSeek takes no thinking member; other families take neither (LiteLLM
// drops what a model does not support).
func (out *converseRequest) addReasoning(req gjson.Result, fam bedrockFamily, maxGiven bool) error {
	effort := req.Get("reasoning_effort").Str
	var thinking block
	switch {
	case fam.claude:
		if t := req.Get("thinking"); t.IsObject() {
			if err := json.Unmarshal([]byte(t.Raw), &thinking); err != nil {
				return fmt.Errorf("thinking: %w", err)
			}
		} else if budget, ok := thinkingBudgets[effort]; ok {
			thinking = block{"type": "enabled", "budget_tokens": budget}
		}
	case fam.nova2 && effort != "":
		if effort != "low" && effort != "medium" && effort != "high" {
			return fmt.Errorf("reasoning_effort %q: Nova 2 models take low, medium or high", effort)
		}
		out.AdditionalModelRequestFields["reasoningConfig"] = block{"type": "enabled", "maxReasoningEffort": effort}
	case (fam.gptOSS || fam.deepseek && !fam.deepseekR1) && effort != "":
		out.AdditionalModelRequestFields["reasoning_effort"] = effort
	}
	if thinking == nil {
		return nil
	}
	budget, hasBudget := thinking["budget_tokens"].(float64)
	if n, ok := thinking["budget_tokens"].(int); ok {
		budget, hasBudget = float64(n), true
	}
	if hasBudget && budget < BedrockMinThinkingBudget {
		budget = BedrockMinThinkingBudget
		thinking["budget_tokens"] = BedrockMinThinkingBudget
	}
	out.AdditionalModelRequestFields["thinking"] = thinking
	if thinking["type"] != "enabled" && thinking["type"] != "adaptive" {
		return nil
	}
	if hasBudget && !maxGiven {
		out.InferenceConfig["maxTokens"] = int64(budget) + AnthropicDefaultMaxTokens
	}
	if tc := out.ToolConfig; tc != nil && (tc.ToolChoice["any"] != nil || tc.ToolChoice["tool"] != nil) {
		tc.ToolChoice = block{"auto": block{}}
	}
	return nil
}

// bedrockMessages builds a request's messages as LiteLLM's
// _bedrock_converse_messages_pt does: runs of user messages, then of tool
// results, then of assistant messages, each run one message, a run of
// tool results joining the user message before it.
type bedrockMessages struct {
	family   bedrockFamily
	messages []converseMessage
	// toolBlocks: a toolUse or toolResult block was sent.
	toolBlocks bool
}

// add appends one OpenAI message. System and developer messages go to the
// system prompt wherever they are, as the Anthropic translation sends
// them (LiteLLM hoists the leading ones and turns a later one into a user
// turn headed by a note of its own). A function message (OpenAI's
// deprecated tool result) has no tool call id to answer: refused, as
// LiteLLM's loop refuses it.
func (b *bedrockMessages) add(out *converseRequest, m gjson.Result) error {
	role, content := m.Get("role").Str, m.Get("content")
	switch role {
	case "system", "developer":
		out.System = append(out.System, b.textBlocks(content, m.Get("cache_control"))...)
	case "user":
		blocks, err := b.userBlocks(content, m.Get("cache_control"))
		if err != nil {
			return err
		}
		b.append("user", blocks)
	case "tool":
		result, err := b.toolResult(m)
		if err != nil {
			return err
		}
		b.toolBlocks = true
		b.append("user", result)
	case "assistant":
		blocks, err := b.assistantBlocks(m)
		if err != nil {
			return err
		}
		b.append("assistant", blocks)
	default:
		return fmt.Errorf("message role %q is not one Bedrock can be sent (system, user, assistant, tool)", role)
	}
	return nil
}

// append adds blocks as a message of role, merged into the last message
// when it has the same role; an assistant message's blocks stay in the
// order Converse takes (reasoning, then text and media, then tool use).
// An empty message is left out.
func (b *bedrockMessages) append(role string, blocks []block) {
	if len(blocks) == 0 {
		return
	}
	n := len(b.messages)
	if n == 0 || b.messages[n-1].Role != role {
		b.messages = append(b.messages, converseMessage{Role: role, Content: blocks})
		return
	}
	last := &b.messages[n-1]
	last.Content = dedupToolBlocks(append(last.Content, blocks...))
	if role == "assistant" {
		sortAssistantBlocks(last.Content)
	}
}

// dedupToolBlocks drops a toolUse or toolResult block whose id an earlier
// one of the message has: Converse refuses them (LiteLLM's
// _deduplicate_bedrock_content_blocks).
func dedupToolBlocks(blocks []block) []block {
	seen := map[string]bool{}
	out := blocks[:0]
	for _, bl := range blocks {
		for _, k := range []string{"toolUse", "toolResult"} {
			if inner, ok := bl[k].(block); ok {
				id, _ := inner["toolUseId"].(string)
				key := k + "\x00" + id
				if id != "" && seen[key] {
					bl = nil
				}
				seen[key] = true
			}
		}
		if bl != nil {
			out = append(out, bl)
		}
	}
	return out
}

// sortAssistantBlocks orders an assistant message's blocks as Converse
// requires (LiteLLM's _sort_bedrock_assistant_content_blocks), stably:
// reasoning, then text and media, then tool use; a cachePoint stays with
// the block it follows.
func sortAssistantBlocks(blocks []block) {
	keys := make([]int, len(blocks))
	for i, bl := range blocks {
		switch {
		case bl["reasoningContent"] != nil:
			keys[i] = 0
		case bl["toolUse"] != nil:
			keys[i] = 2
		case bl["cachePoint"] != nil && i > 0:
			keys[i] = keys[i-1]
		default:
			keys[i] = 1
		}
	}
	idx := make([]int, len(blocks))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]block, len(blocks))
	for i, j := range idx {
		sorted[i] = blocks[j]
	}
	copy(blocks, sorted)
}

// withCache appends a cachePoint after blocks when mark is an OpenAI
// cache_control object and the model takes cache points.
func (b *bedrockMessages) withCache(blocks []block, mark gjson.Result) []block {
	if mark.IsObject() && len(blocks) > 0 && !b.family.noCache {
		blocks = append(blocks, cachePoint())
	}
	return blocks
}

// textBlocks is a string or a list of text parts as text blocks, each
// with its cache point; empty text is left out (Converse refuses it).
func (b *bedrockMessages) textBlocks(content, mark gjson.Result) []block {
	var out []block
	switch {
	case content.Type == gjson.String && content.Str != "":
		out = b.withCache([]block{{"text": content.Str}}, mark)
	case content.IsArray():
		content.ForEach(func(_, part gjson.Result) bool {
			if t := part.Get("text"); part.Get("type").Str == "text" && t.Str != "" {
				out = append(out, b.withCache([]block{{"text": t.Str}}, part.Get("cache_control"))...)
			}
			return true
		})
	}
	return out
}

// userBlocks is a user message's content: text, images, documents and
// videos (image_url and file parts given as data URLs, Anthropic-style
// document parts), each with its cache point.
func (b *bedrockMessages) userBlocks(content, mark gjson.Result) ([]block, error) {
	if !content.IsArray() {
		return b.textBlocks(content, mark), nil
	}
	var out []block
	var err error
	content.ForEach(func(_, part gjson.Result) bool {
		var bl block
		switch part.Get("type").Str {
		case "text":
			out = append(out, b.textBlocks(gjson.Parse("["+part.Raw+"]"), mark)...)
			return true
		case "image_url":
			url, format := part.Get("image_url.url").Str, part.Get("image_url.format").Str
			if url == "" {
				url = part.Get("image_url").Str
			}
			bl, err = bedrockMedia(url, format)
		case "file":
			f := part.Get("file")
			url := f.Get("file_id").Str
			if url == "" {
				url = f.Get("file_data").Str
			}
			if url == "" {
				err = fmt.Errorf("a file content part needs file_data or file_id")
				break
			}
			bl, err = bedrockMedia(url, f.Get("format").Str)
		case "document":
			bl, err = bedrockDocumentPart(part.Get("source"))
		default:
			return true // no Converse counterpart (input_audio, …): LiteLLM leaves it out
		}
		if err == nil {
			out = append(out, b.withCache([]block{bl}, part.Get("cache_control"))...)
		}
		return err == nil
	})
	return out, err
}

// toolResult is a tool message as a toolResult block (its content as text
// and image blocks), and its cache point.
func (b *bedrockMessages) toolResult(m gjson.Result) ([]block, error) {
	content := m.Get("content")
	var parts []block
	mark := m.Get("cache_control")
	switch {
	case content.Type == gjson.String:
		parts = []block{{"text": content.Str}}
	case content.IsArray():
		var err error
		content.ForEach(func(_, part gjson.Result) bool {
			switch part.Get("type").Str {
			case "text":
				parts = append(parts, block{"text": part.Get("text").Str})
			case "image_url":
				url := part.Get("image_url.url").Str
				if url == "" {
					url = part.Get("image_url").Str
				}
				var bl block
				if bl, err = bedrockMedia(url, part.Get("image_url.format").Str); err == nil {
					parts = append(parts, bl)
				}
			}
			if !mark.IsObject() && part.Get("cache_control").IsObject() {
				mark = part.Get("cache_control")
			}
			return err == nil
		})
		if err != nil {
			return nil, err
		}
	}
	if parts == nil {
		parts = []block{}
	}
	result := block{"toolResult": block{"toolUseId": bedrockToolUseID(m.Get("tool_call_id").Str), "content": parts}}
	return b.withCache([]block{result}, mark), nil
}

// assistantBlocks is an assistant message's content: its thinking blocks
// as reasoningContent (a signed one as reasoningText, a redacted one as
// redactedContent), its text (blank text left out, as Converse refuses
// it), its tool calls as toolUse blocks, their arguments as the JSON
// object Converse wants.
func (b *bedrockMessages) assistantBlocks(m gjson.Result) ([]block, error) {
	var out []block
	m.Get("thinking_blocks").ForEach(func(_, t gjson.Result) bool {
		switch t.Get("type").Str {
		case "thinking":
			rt := block{"text": t.Get("thinking").Str}
			if s := t.Get("signature"); s.Type == gjson.String && s.Str != "" {
				rt["signature"] = s.Str
			}
			out = append(out, block{"reasoningContent": block{"reasoningText": rt}})
		case "redacted_thinking":
			out = append(out, block{"reasoningContent": block{"redactedContent": t.Get("data").Str}})
		}
		return true
	})
	content := m.Get("content")
	switch {
	case content.Type == gjson.String && strings.TrimSpace(content.Str) != "":
		out = append(out, b.withCache([]block{{"text": content.Str}}, m.Get("cache_control"))...)
	case content.IsArray():
		var err error
		content.ForEach(func(_, part gjson.Result) bool {
			var bl block
			switch part.Get("type").Str {
			case "text":
				if strings.TrimSpace(part.Get("text").Str) == "" {
					return true
				}
				bl = block{"text": part.Get("text").Str}
			case "image_url":
				url := part.Get("image_url.url").Str
				if url == "" {
					url = part.Get("image_url").Str
				}
				if bl, err = bedrockMedia(url, ""); err != nil {
					return false
				}
			default:
				return true
			}
			out = append(out, b.withCache([]block{bl}, part.Get("cache_control"))...)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	var err error
	m.Get("tool_calls").ForEach(func(_, call gjson.Result) bool {
		var input json.RawMessage
		if input, err = toolInput(call.Get("function.arguments").Str); err != nil {
			return false
		}
		out = append(out, b.withCache([]block{{"toolUse": block{"toolUseId": bedrockToolUseID(call.Get("id").Str),
			"name": call.Get("function.name").Str, "input": input}}}, call.Get("cache_control"))...)
		b.toolBlocks = true
		return true
	})
	if err != nil {
		return nil, err
	}
	sortAssistantBlocks(out)
	return out, nil
}

// bedrockToolUseID is a tool call id as Converse takes it
// ([a-zA-Z0-9_.:-]{1,64}), as LiteLLM's _sanitize_bedrock_tool_use_id
// makes it: an id that needs no change stays; another has its other bytes
// replaced by '_', is cut, and ends in 8 hex digits of its SHA-256, so
// that two ids stay two. The call and its result map alike.
func bedrockToolUseID(id string) string {
	const maxLen, hashLen = 64, 8
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == id && s != "" && len(s) <= maxLen {
		return s
	}
	if s == "" {
		s = "tool_use"
	}
	sum := sha256.Sum256([]byte(id))
	if len(s) > maxLen-hashLen-1 {
		s = s[:maxLen-hashLen-1]
	}
	return s + "_" + hex.EncodeToString(sum[:])[:hashLen]
}

// Content types Converse takes, by the format it names them with.
var (
	bedrockImageFormats = map[string]bool{"png": true, "jpeg": true, "gif": true, "webp": true}
	bedrockVideoFormats = map[string]bool{"mp4": true, "mov": true, "mkv": true, "webm": true, "flv": true,
		"mpeg": true, "mpg": true, "wmv": true, "3gp": true}
	// bedrockDocFormats maps a document's media type to its format, as
	// LiteLLM's _get_document_format finds it.
	bedrockDocFormats = map[string]string{
		"application/pdf": "pdf", "text/csv": "csv", "application/msword": "doc",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
		"application/vnd.ms-excel": "xls", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
		"text/html": "html", "text/plain": "txt", "text/markdown": "md",
	}
)

// bedrockMedia is an image, video or document given as a base64 data URL
// (format, when given, is its media type, overriding the URL's), as
// LiteLLM's BedrockImageProcessor makes it: {"image": {"format",
// "source": {"bytes"}}}, a video alike, a document (application/… or
// text/…) named for its content's hash.
//
// LiteLLM downloads an http(s) URL itself and sends the bytes. This proxy
// does not: fetching any URL a client names would let callers make the
// proxy reach hosts they cannot (its network, cloud metadata endpoints),
// and hold a call on a third party's server. Such a URL is a 400 that
// says to send the bytes as a data URL.
func bedrockMedia(url, format string) (block, error) {
	rest, ok := strings.CutPrefix(url, "data:")
	if !ok {
		if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
			return nil, fmt.Errorf("an image or file given by URL (%.100s) is not fetched by this proxy for Bedrock: "+
				"send its bytes as a base64 data URL (data:image/png;base64,…)", url)
		}
		return nil, fmt.Errorf("an image or file must be a base64 data URL (data:image/png;base64,…)")
	}
	meta, data, ok := strings.Cut(rest, ",")
	mediaType, params, _ := strings.Cut(meta, ";")
	if !ok || !strings.Contains(";"+params, ";base64") {
		return nil, fmt.Errorf("an image or file data URL must be base64 (data:image/png;base64,…)")
	}
	if mediaType == "" {
		mediaType = "image/jpeg" // LiteLLM's default
	}
	if format != "" {
		mediaType = format
	}
	mediaType = strings.ToLower(mediaType)
	return bedrockSource(mediaType, block{"bytes": data})
}

// bedrockSource is the content block of bytes of a media type.
func bedrockSource(mediaType string, source block) (block, error) {
	if strings.HasPrefix(mediaType, "application/") || strings.HasPrefix(mediaType, "text/") {
		format, ok := bedrockDocFormats[mediaType]
		if !ok {
			return nil, fmt.Errorf("media type %q is no document format Bedrock takes (pdf, csv, doc, docx, xls, xlsx, html, txt, md)", mediaType)
		}
		data, _ := source["bytes"].(string)
		return block{"document": block{"source": source, "format": format, "name": "DocumentPDFmessages_" + documentHash(data) + "_" + format}}, nil
	}
	_, format, _ := strings.Cut(mediaType, "/")
	switch {
	case bedrockImageFormats[format]:
		return block{"image": block{"source": source, "format": format}}, nil
	case bedrockVideoFormats[format]:
		return block{"video": block{"source": source, "format": format}}, nil
	}
	return nil, fmt.Errorf("media type %q is not one Bedrock takes (images: png, jpeg, gif, webp; videos; documents)", mediaType)
}

// documentHash names a document as LiteLLM does: 16 hex digits of the
// SHA-256 of its base64 (white space out), its first 64 KiB and its
// length, so that one document keeps one name.
func documentHash(data string) string {
	normalized := strings.Join(strings.Fields(data), "")
	sample := normalized
	if len(sample) > 64<<10 {
		sample = sample[:64<<10]
	}
	h := sha256.New()
	h.Write([]byte(sample))
	h.Write([]byte(strconv.Itoa(len(normalized))))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// bedrockDocumentPart is an Anthropic-style document part ({"type":
// "document", "source": {"type": "base64", "media_type", "data"}}), as
// LiteLLM's _process_document_message takes it.
func bedrockDocumentPart(source gjson.Result) (block, error) {
	if source.Get("type").Str != "base64" {
		return nil, fmt.Errorf("a document part must have a base64 source")
	}
	bl, err := bedrockSource(strings.ToLower(source.Get("media_type").Str), block{"bytes": source.Get("data").Str})
	if err != nil {
		return nil, err
	}
	if doc, ok := bl["document"].(block); ok {
		doc["name"] = "Document_" + documentHash(source.Get("data").Str) + "_" + doc["format"].(string)
	}
	return bl, nil
}

// OpenAIChatBedrock carries OpenAI chat completions calls to Bedrock
// Runtime's Converse API, as LiteLLM does for "bedrock/…" models
// (bedrock/converse/…, bedrock_converse/…).
//
// The call's span is the ChatCompletion span of the call as the client
// made and saw it (spans/chat.go), as for every translation, with the
// provider's llm.provider (aws) and the Bedrock model id as
// llm.model_name, the one the native Converse span records. Deliberate
// differences from LiteLLM's: no llm.system is recorded (the Bedrock
// provider has none: OpenInference's Bedrock instrumentor records one for
// Claude's InvokeModel bodies only); every bedrock/ model goes to
// Converse, where LiteLLM sends some families to InvokeModel by its model
// map; tool names pass as given (LiteLLM rewrites a name Bedrock refuses
// and maps it back through a process-wide cache, which a proxy of several
// replicas cannot share; Bedrock's 400 names the name instead); nothing
// is fetched for the request (bedrockMedia); there is no
// faked stream for a JSON response format (LiteLLM answers it with a
// Converse call made whole): the forced tool's input streams as content.
var OpenAIChatBedrock Translator = openAIChatBedrock{}

type openAIChatBedrock struct{}

// Request is the Converse request, to the model's converse path, or
// converse-stream when the call streams.
func (openAIChatBedrock) Request(body []byte, model string, _ *upstream.Provider) ([]byte, string, error) {
	if model == "" {
		return nil, "", fmt.Errorf("no Bedrock model id in the model name")
	}
	up, err := OpenAIChatToBedrock(body, model)
	if err != nil {
		return nil, "", err
	}
	op := "converse"
	if gjson.GetBytes(body, "stream").Bool() {
		op = "converse-stream"
	}
	return up, upstream.BedrockModelPath(model, op), nil
}

// Header drops the client's Accept, which names OpenAI's media types:
// Converse answers JSON, ConverseStream an event stream. The provider
// signs the request, or passes the client's Bedrock API key.
func (openAIChatBedrock) Header(h http.Header, _ *upstream.Provider) { h.Del("Accept") }

func (openAIChatBedrock) Answer(status int, body []byte, model string) ([]byte, error) {
	if status >= 400 {
		return BedrockErrorToOpenAI(status, body), nil
	}
	return BedrockToOpenAIChat(body, model, "chatcmpl-"+newCallID(), time.Now().Unix())
}

// Framing is AWS's event stream, ConverseStream's.
func (openAIChatBedrock) Framing() stream.Framing { return stream.EventStream }

func (openAIChatBedrock) Stream(req *openai.Request, model string) Stream {
	return &bedrockSSE{chatSSE{conv: &BedrockChatStream{IncludeUsage: req.IncludeUsage, Created: time.Now().Unix(),
		Model: model, ID: "chatcmpl-" + newCallID()}}}
}
