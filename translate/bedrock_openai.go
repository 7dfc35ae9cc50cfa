package translate

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/stream"
)

// bedrockFinishReasons maps Converse's stopReason to OpenAI's
// finish_reason, as LiteLLM's map_finish_reason does; a reason it does not
// know is "stop".
var bedrockFinishReasons = map[string]string{
	"end_turn":                      "stop",
	"stop_sequence":                 "stop",
	"max_tokens":                    "length",
	"tool_use":                      "tool_calls",
	"guardrail_intervened":          "content_filter",
	"content_filtered":              "content_filter",
	"model_context_window_exceeded": "length",
}

// BedrockFinishReason is OpenAI's finish_reason for a Converse stopReason.
func BedrockFinishReason(stop string) string {
	if r, ok := bedrockFinishReasons[stop]; ok {
		return r
	}
	return "stop"
}

// bedrockUsage is OpenAI's usage object as LiteLLM fills it from
// Converse's (transform_usage): the prompt counts the cache reads and
// writes (inputTokens does not), the cache reads are cached_tokens, the
// writes cache_creation_tokens, and both are given on their own as well.
type bedrockUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens        int64 `json:"cached_tokens"`
		CacheCreationTokens int64 `json:"cache_creation_tokens"`
		TextTokens          int64 `json:"text_tokens"`
	} `json:"prompt_tokens_details"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

// BedrockUsage is a Converse usage object in OpenAI's terms. Converse
// names the cache counts cacheReadInputTokens and cacheWriteInputTokens
// (InvokeModel's …Count names are read too).
func BedrockUsage(u gjson.Result) *bedrockUsage {
	count := func(keys ...string) int64 {
		for _, k := range keys {
			if v := u.Get(k); v.Type == gjson.Number {
				return v.Int()
			}
		}
		return 0
	}
	out := &bedrockUsage{
		CompletionTokens:         count("outputTokens"),
		CacheReadInputTokens:     count("cacheReadInputTokens", "cacheReadInputTokenCount"),
		CacheCreationInputTokens: count("cacheWriteInputTokens", "cacheWriteInputTokenCount"),
	}
	input := count("inputTokens")
	out.PromptTokens = input + out.CacheReadInputTokens + out.CacheCreationInputTokens
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	if v := u.Get("totalTokens"); v.Type == gjson.Number {
		out.TotalTokens = v.Int()
	}
	out.PromptTokensDetails.CachedTokens = out.CacheReadInputTokens
	out.PromptTokensDetails.CacheCreationTokens = out.CacheCreationInputTokens
	out.PromptTokensDetails.TextTokens = input
	return out
}

// reasoningTags is a text block that begins with its reasoning in tags,
// as DeepSeek's and Nova's do (LiteLLM's parse_content_for_reasoning).
var reasoningTags = regexp.MustCompile(`(?s)^<(?:think|thinking|budget:thinking)>(.*?)</(?:think|thinking|budget:thinking)>(.*)`)

// BedrockToOpenAIChat translates a Converse answer into a chat.completion
// as LiteLLM returns it (AmazonConverseConfig._transform_response): text
// blocks joined as the content (a text block opening with its reasoning
// in <thinking> tags gives it as reasoning), toolUse blocks as tool calls
// with their input as a JSON string, reasoningContent blocks as
// reasoning_content and thinking_blocks, the stopReason as a finish
// reason, usage in OpenAI's terms (BedrockUsage), the guardrail trace when
// there is one. Converse names no model and gives no id: model is the
// call's Bedrock model id, id and created the answer's. A call of the tool
// a JSON response_format became is the content instead.
func BedrockToOpenAIChat(body []byte, model, id string, created int64) ([]byte, error) {
	if err := jsonbound.Check(body); err != nil {
		return nil, err
	}
	resp := gjson.ParseBytes(body)
	m := chatMessage{Role: "assistant"}
	// LiteLLM always gives content: a string, empty when there is no text.
	var content string
	var reasoning strings.Builder
	var native []json.RawMessage
	hasReasoning, jsonAnswer := false, false
	resp.Get("output.message.content").ForEach(func(_, b gjson.Result) bool {
		if t := b.Get("text"); t.Type == gjson.String {
			text := t.Str
			if sm := reasoningTags.FindStringSubmatch(text); sm != nil {
				reasoning.WriteString(sm[1])
				hasReasoning = true
				native = append(native, mustJSON(block{"reasoningText": block{"text": sm[1]}}))
				m.ThinkingBlocks = append(m.ThinkingBlocks, block{"type": "thinking", "thinking": sm[1]})
				text = sm[2]
			}
			content += text
		}
		if tu := b.Get("toolUse"); tu.IsObject() {
			if tu.Get("name").Str == ResponseFormatTool {
				content = compactJSON(tu.Get("input").Raw)
				jsonAnswer = true
				return true
			}
			var c toolCall
			c.ID, c.Type, c.Function.Name = tu.Get("toolUseId").Str, "function", tu.Get("name").Str
			c.Function.Arguments = compactJSON(tu.Get("input").Raw)
			m.ToolCalls = append(m.ToolCalls, c)
		}
		if rc := b.Get("reasoningContent"); rc.IsObject() {
			hasReasoning = true
			native = append(native, json.RawMessage(rc.Raw))
			if rt := rc.Get("reasoningText"); rt.IsObject() {
				reasoning.WriteString(rt.Get("text").Str)
				tb := block{"type": "thinking"}
				if v := rt.Get("text"); v.Exists() {
					tb["thinking"] = v.Str
				}
				if v := rt.Get("signature"); v.Exists() {
					tb["signature"] = v.Str
				}
				m.ThinkingBlocks = append(m.ThinkingBlocks, tb)
			} else if rd := rc.Get("redactedContent"); rd.Exists() {
				m.ThinkingBlocks = append(m.ThinkingBlocks, block{"type": "redacted_thinking", "data": rd.Str})
			}
		}
		return true
	})
	if hasReasoning {
		s := reasoning.String()
		m.ReasoningContent = &s
		m.ProviderSpecificFields = map[string]any{"reasoningContentBlocks": native}
	}
	finish := BedrockFinishReason(resp.Get("stopReason").Str)
	if finish == "tool_calls" && len(m.ToolCalls) == 0 && jsonAnswer {
		finish = "stop" // the response format's tool: an answer, not a call
	}
	m.Content = &content
	out := chatCompletion{ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []completionChoice{{Message: m, FinishReason: finish}}, Usage: BedrockUsage(resp.Get("usage"))}
	if t := resp.Get("trace"); t.IsObject() {
		out.Trace = json.RawMessage(t.Raw)
	}
	return json.Marshal(out)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v) // maps of strings: cannot fail
	return b
}

// BedrockErrorToOpenAI translates a Bedrock error answer ({"message": …},
// its type in the x-amzn-ErrorType header) into OpenAI's error envelope,
// keeping the message, with the status as its code and the type the
// proxy's other translations give the status (anthropic.TypeFor); a body
// that is not Bedrock's envelope is kept as the message.
func BedrockErrorToOpenAI(status int, body []byte) []byte {
	e := gjson.ParseBytes(body)
	msg := e.Get("message").Str
	if msg == "" {
		msg = e.Get("Message").Str // as some of AWS's services spell it
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	return openAIError(status, msg)
}

func openAIError(status int, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": anthropic.TypeFor(status), "param": nil, "code": strconv.Itoa(status),
	}})
	return b
}

// bedrockExceptionStatus is the HTTP status Bedrock gives each exception
// ConverseStream may send mid-stream (the API reference's errors of
// ConverseStream); any other is a 500.
var bedrockExceptionStatus = map[string]int{
	"validationException":         400,
	"accessDeniedException":       403,
	"resourceNotFoundException":   404,
	"modelTimeoutException":       408,
	"modelStreamErrorException":   424,
	"throttlingException":         429,
	"internalServerException":     500,
	"modelErrorException":         424,
	"serviceUnavailableException": 503,
}

// BedrockChatStream translates a ConverseStream stream into a chat
// completions stream, event by event, as LiteLLM's AWSEventStreamDecoder
// and stream wrapper do: the role with the first chunk, text deltas as
// content, reasoning deltas as reasoning_content and thinking_blocks (a
// signature, or redacted reasoning, as a thinking block of its own), each
// toolUse block as a tool call numbered across the stream (its id and
// name first, then its input's fragments as arguments; "{}" for a call
// with none), the stopReason as the finish chunk, and after the metadata
// event, which ends the stream, the usage chunk when the client asked for
// it (IncludeUsage) and [DONE]. An exception ({"throttlingException":
// {…}}, which ends a stream) becomes an OpenAI error chunk, as the
// Anthropic translation's error event does, and nothing follows it.
//
// Events arrive as stream.EventStream gives them: {"<event type>":
// payload}. Create one per stream.
type BedrockChatStream struct {
	IncludeUsage bool
	// Created is the chunks' Unix time, ID their id, Model the call's
	// Bedrock model id: ConverseStream gives none of them.
	Created   int64
	ID, Model string

	roleSent bool
	// tools maps a content block index to its tool call's index; withArgs
	// notes the tool calls that had arguments.
	tools    map[int]int
	withArgs map[int]bool
	ntools   int
	// jsonTool is the block index of the response format's tool, or -1.
	jsonTool int
	// thinking numbers the reasoning blocks as LiteLLM does, by the
	// content block they are in.
	thinking, thinkingBlock int
	usage                   gjson.Result
	ended                   bool
}

// Event translates one ConverseStream event's data into the data of the
// chat chunks that stand for it (none for a block's end and the like;
// "[DONE]" last).
func (s *BedrockChatStream) Event(data []byte) [][]byte {
	if s.tools == nil {
		s.tools, s.withArgs, s.jsonTool, s.thinkingBlock = map[int]int{}, map[int]bool{}, -1, -1
	}
	if s.ended || !jsonbound.Valid(data) {
		return nil
	}
	var name string
	var ev gjson.Result
	jsonbound.ParseInPlace(data).ForEach(func(k, v gjson.Result) bool {
		name, ev = k.Str, v
		return false
	})
	index := int(ev.Get("contentBlockIndex").Int())
	switch name {
	case "messageStart":
		empty := ""
		return s.emit(delta{Content: &empty}, nil)
	case "contentBlockStart":
		start := ev.Get("start")
		if tu := start.Get("toolUse"); tu.IsObject() {
			if tu.Get("name").Str == ResponseFormatTool {
				s.jsonTool = index
				return nil
			}
			n := s.ntools
			s.tools[index] = n
			s.ntools++
			c := toolCall{Index: &n, ID: tu.Get("toolUseId").Str, Type: "function"}
			c.Function.Name = tu.Get("name").Str
			return s.emit(delta{ToolCalls: []toolCall{c}}, nil)
		}
		if rc := start.Get("reasoningContent"); rc.IsObject() {
			return s.reasoning(rc, index)
		}
	case "contentBlockDelta":
		d := ev.Get("delta")
		switch {
		case d.Get("text").Type == gjson.String:
			t := d.Get("text").Str
			return s.emit(delta{Content: &t}, nil)
		case d.Get("toolUse").IsObject():
			frag := d.Get("toolUse.input").Str
			if index == s.jsonTool {
				return s.emit(delta{Content: &frag}, nil)
			}
			n, ok := s.tools[index]
			if !ok || frag == "" {
				return nil
			}
			s.withArgs[index] = true
			c := toolCall{Index: &n}
			c.Function.Arguments = frag
			return s.emit(delta{ToolCalls: []toolCall{c}}, nil)
		case d.Get("reasoningContent").IsObject():
			return s.reasoning(d.Get("reasoningContent"), index)
		}
	case "contentBlockStop":
		// A tool called with no input still gets arguments clients can
		// parse (LiteLLM's check_empty_tool_call_args).
		if n, ok := s.tools[index]; ok && !s.withArgs[index] {
			s.withArgs[index] = true
			c := toolCall{Index: &n}
			c.Function.Arguments = "{}"
			return s.emit(delta{ToolCalls: []toolCall{c}}, nil)
		}
	case "messageStop":
		finish := BedrockFinishReason(ev.Get("stopReason").Str)
		if finish == "tool_calls" && s.ntools == 0 && s.jsonTool >= 0 {
			finish = "stop"
		}
		return s.emit(delta{}, &finish)
	case "metadata":
		s.usage = kept(ev.Get("usage"))
		s.ended = true
		var out [][]byte
		if s.IncludeUsage {
			out = append(out, s.UsageChunk())
		}
		return append(out, []byte("[DONE]"))
	case "error":
		s.ended = true
		return [][]byte{openAIError(500, ev.Get("message").Str)}
	default:
		if strings.HasSuffix(name, "Exception") || name == "exception" {
			s.ended = true
			status, ok := bedrockExceptionStatus[name]
			if !ok {
				status = 500
			}
			msg := ev.Get("message").Str
			if msg == "" {
				msg = ev.Get("Message").Str
			}
			if msg == "" {
				msg = name
			}
			return [][]byte{openAIError(status, msg)}
		}
	}
	return nil
}

// reasoning is a reasoning delta (or a redacted block's start) as LiteLLM
// gives it: text as reasoning_content, and each piece as a thinking block
// numbered by the content block it is in.
func (s *BedrockChatStream) reasoning(rc gjson.Result, index int) [][]byte {
	if s.thinkingBlock != index {
		s.thinkingBlock = index
		s.thinking++
	}
	n := s.thinking - 1
	text := ""
	var tb block
	switch {
	case rc.Get("text").Type == gjson.String:
		text = rc.Get("text").Str
		tb = block{"type": "thinking", "thinking": text, "index": n}
	case rc.Get("signature").Type == gjson.String:
		tb = block{"type": "thinking", "thinking": "", "signature": rc.Get("signature").Str, "index": n}
	case rc.Get("redactedContent").Exists():
		tb = block{"type": "redacted_thinking", "data": rc.Get("redactedContent").Str, "index": n}
	default:
		return nil
	}
	return s.emit(delta{ReasoningContent: &text, ThinkingBlocks: []block{tb}}, nil)
}

// HasUsage reports whether the stream has given its usage.
func (s *BedrockChatStream) HasUsage() bool { return s.usage.IsObject() }

// UsageChunk is the usage chunk of the stream (choices empty, the usage in
// OpenAI's terms): what a client that asked for usage gets before [DONE],
// and what the span is given when the client did not ask.
func (s *BedrockChatStream) UsageChunk() []byte {
	b, _ := json.Marshal(chatChunk{ID: s.ID, Object: "chat.completion.chunk", Created: s.Created, Model: s.Model,
		Choices: []chunkChoice{}, Usage: BedrockUsage(s.usage)})
	return b
}

// EndUsage is the usage chunk for the span when the client did not ask
// for one (ConverseStream always sends its usage).
func (s *BedrockChatStream) EndUsage() []byte {
	if s.IncludeUsage || !s.HasUsage() {
		return nil
	}
	return s.UsageChunk()
}

// Corrupt is the client's chunk for a message of the stream that failed
// its checksums: an error chunk, and the end (what follows cannot be
// trusted to follow what was lost). The span has the parser's error.
func (s *BedrockChatStream) Corrupt() [][]byte {
	if s.ended {
		return nil
	}
	s.ended = true
	return [][]byte{openAIError(502, "Bedrock's stream had a corrupt event-stream message (a checksum failed): the answer is incomplete")}
}

// emit is the chunk of one delta; the first chunk also carries the role.
func (s *BedrockChatStream) emit(d delta, finish *string) [][]byte {
	if !s.roleSent {
		d.Role, s.roleSent = "assistant", true
	}
	b, _ := json.Marshal(chatChunk{ID: s.ID, Object: "chat.completion.chunk", Created: s.Created, Model: s.Model,
		Choices: []chunkChoice{{Delta: d, FinishReason: finish}}})
	return [][]byte{b}
}

// bedrockSSE is chatSSE for a Bedrock event stream, which also tells a
// corrupt message (one whose checksums fail: the framer passes it with no
// data) from one it has no use for, and ends the client's stream there
// with an error chunk (BedrockChatStream.Corrupt).
type bedrockSSE struct{ chatSSE }

func (s *bedrockSSE) Rewrite(out []byte, ev stream.Event, add func([]byte)) []byte {
	if !ev.HasData && !ev.Cut && len(ev.Raw) > 0 && !intactMessage(ev.Raw) {
		return writeChunks(out, s.conv.(*BedrockChatStream).Corrupt(), add)
	}
	return s.chatSSE.Rewrite(out, ev, add)
}

// intactMessage reports whether b is one whole event-stream message whose
// prelude and message checksums hold.
func intactMessage(b []byte) bool {
	if len(b) < 16 || int(binary.BigEndian.Uint32(b)) != len(b) {
		return false
	}
	return crc32.ChecksumIEEE(b[:8]) == binary.BigEndian.Uint32(b[8:12]) &&
		crc32.ChecksumIEEE(b[:len(b)-4]) == binary.BigEndian.Uint32(b[len(b)-4:])
}
