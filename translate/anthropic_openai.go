package translate

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// finishReasons maps Anthropic's stop_reason to OpenAI's finish_reason, as
// LiteLLM does (map_finish_reason).
var finishReasons = map[string]string{
	"end_turn":      "stop",
	"stop_sequence": "stop",
	"max_tokens":    "length",
	"tool_use":      "tool_calls",
	"pause_turn":    "stop",
	"refusal":       "content_filter",
}

// AnthropicFinishReason is OpenAI's finish_reason for an Anthropic stop_reason.
func AnthropicFinishReason(stop string) string {
	if r, ok := finishReasons[stop]; ok {
		return r
	}
	return stop
}

// usage is OpenAI's usage object as LiteLLM fills it from Anthropic's: the
// prompt counts the cache reads and writes (Anthropic's input_tokens does
// not), and the cache counts are given on their own as well.
type usage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

func openAIUsage(u map[string]int64) *usage {
	out := &usage{
		CompletionTokens:         u["output_tokens"],
		CacheCreationInputTokens: u["cache_creation_input_tokens"],
		CacheReadInputTokens:     u["cache_read_input_tokens"],
	}
	out.PromptTokens = u["input_tokens"] + out.CacheCreationInputTokens + out.CacheReadInputTokens
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	out.PromptTokensDetails.CachedTokens = out.CacheReadInputTokens
	return out
}

// usageCounts reads the numeric members of an Anthropic usage object.
func usageCounts(dst map[string]int64, u gjson.Result) {
	u.ForEach(func(k, v gjson.Result) bool {
		if v.Type == gjson.Number {
			dst[strings.Clone(k.Str)] = v.Int() // a key of the map: never the event's bytes
		}
		return true
	})
}

// AnthropicToOpenAIChat translates a Messages API answer into a chat.completion as
// LiteLLM returns it: text blocks joined as the content, tool_use blocks as
// tool calls with their input as a JSON string, thinking as
// reasoning_content, the stop reason as a finish reason, usage in OpenAI's
// terms. created is the answer's Unix time (Anthropic gives none). A call
// of the tool a JSON response_format became is the content instead.
func AnthropicToOpenAIChat(body []byte, created int64) ([]byte, error) {
	if err := jsonbound.Check(body); err != nil {
		return nil, err
	}
	msg := gjson.ParseBytes(body)
	m := chatMessage{Role: "assistant"}
	var text, thinking strings.Builder
	hasText, hasThinking := false, false
	msg.Get("content").ForEach(func(_, b gjson.Result) bool {
		switch b.Get("type").Str {
		case "text":
			text.WriteString(b.Get("text").Str)
			hasText = true
		case "thinking":
			thinking.WriteString(b.Get("thinking").Str)
			hasThinking = true
			m.ThinkingBlocks = append(m.ThinkingBlocks, json.RawMessage(b.Raw))
		case "redacted_thinking":
			m.ThinkingBlocks = append(m.ThinkingBlocks, json.RawMessage(b.Raw))
		case "tool_use":
			if b.Get("name").Str == ResponseFormatTool {
				text.WriteString(b.Get("input").Raw)
				hasText = true
				return true
			}
			var c toolCall
			c.ID, c.Type, c.Function.Name = b.Get("id").Str, "function", b.Get("name").Str
			c.Function.Arguments = compactJSON(b.Get("input").Raw)
			m.ToolCalls = append(m.ToolCalls, c)
		}
		return true
	})
	if hasText {
		s := text.String()
		m.Content = &s
	}
	if hasThinking {
		s := thinking.String()
		m.ReasoningContent = &s
	}
	finish := AnthropicFinishReason(msg.Get("stop_reason").Str)
	if finish == "tool_calls" && len(m.ToolCalls) == 0 {
		finish = "stop" // the response format's tool: an answer, not a call
	}
	counts := map[string]int64{}
	usageCounts(counts, msg.Get("usage"))
	out := chatCompletion{ID: msg.Get("id").Str, Object: "chat.completion", Created: created, Model: msg.Get("model").Str,
		Choices: []completionChoice{{Message: m, FinishReason: finish}}, Usage: openAIUsage(counts)}
	return json.Marshal(out)
}

// compactJSON is a tool input as an arguments string: the JSON as sent,
// or "{}" for none.
func compactJSON(raw string) string {
	if raw == "" || raw == "null" {
		return "{}"
	}
	return raw
}

// AnthropicErrorToOpenAI translates an Anthropic error answer into OpenAI's error
// envelope, keeping the message and naming the type as OpenAI would; a body
// that is not Anthropic's envelope is kept as the message.
func AnthropicErrorToOpenAI(status int, body []byte) []byte {
	msg := gjson.GetBytes(body, "error.message").Str
	typ := gjson.GetBytes(body, "error.type").Str
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	if typ == "" {
		typ = anthropic.TypeFor(status)
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nil, "code": strconv.Itoa(status),
	}})
	return b
}

// AnthropicChatStream translates a Messages API stream into a chat completions
// stream, event by event, as LiteLLM does: the role with the first chunk,
// text deltas as content, thinking deltas as reasoning_content, each
// tool_use block as a tool call (id and name first, then its input's
// fragments as arguments), the stop reason as the finish chunk, and, when
// the client asked for it (IncludeUsage), a usage chunk before [DONE].
// Create one per stream.
type AnthropicChatStream struct {
	IncludeUsage bool
	// Created is the chunks' Unix time.
	Created int64

	id, model string
	roleSent  bool
	// tools maps a block index to its tool call's index; withArgs notes
	// the tool calls that had arguments.
	tools    map[int]int
	withArgs map[int]bool
	ntools   int
	// jsonTool is the block index of the response format's tool, or -1.
	jsonTool int
	counts   map[string]int64
	finish   string
}

// Event translates one Anthropic event's data into the data of the chat
// chunks that stand for it (none for ping, block stops and the like;
// "[DONE]" last). An error event becomes an OpenAI error chunk.
func (s *AnthropicChatStream) Event(data []byte) [][]byte {
	if s.tools == nil {
		s.tools, s.withArgs, s.counts, s.jsonTool = map[int]int{}, map[int]bool{}, map[string]int64{}, -1
	}
	if !jsonbound.Valid(data) {
		return nil
	}
	ev := jsonbound.ParseInPlace(data)
	switch ev.Get("type").Str {
	case "message_start":
		m := ev.Get("message")
		s.id, s.model = strings.Clone(m.Get("id").Str), strings.Clone(m.Get("model").Str)
		usageCounts(s.counts, m.Get("usage"))
		empty := ""
		return s.emit(delta{Content: &empty}, nil)
	case "content_block_start":
		b := ev.Get("content_block")
		if b.Get("type").Str != "tool_use" {
			return nil
		}
		index := int(ev.Get("index").Int())
		if b.Get("name").Str == ResponseFormatTool {
			s.jsonTool = index
			return nil
		}
		n := s.ntools
		s.tools[index] = n
		s.ntools++
		c := toolCall{Index: &n, ID: b.Get("id").Str, Type: "function"}
		c.Function.Name = b.Get("name").Str
		return s.emit(delta{ToolCalls: []toolCall{c}}, nil)
	case "content_block_delta":
		d := ev.Get("delta")
		index := int(ev.Get("index").Int())
		switch d.Get("type").Str {
		case "text_delta":
			t := d.Get("text").Str
			return s.emit(delta{Content: &t}, nil)
		case "thinking_delta":
			t := d.Get("thinking").Str
			return s.emit(delta{ReasoningContent: &t}, nil)
		case "input_json_delta":
			frag := d.Get("partial_json").Str
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
		}
	case "content_block_stop":
		// A tool called with no input still gets arguments clients can
		// parse.
		index := int(ev.Get("index").Int())
		if n, ok := s.tools[index]; ok && !s.withArgs[index] {
			c := toolCall{Index: &n}
			c.Function.Arguments = "{}"
			return s.emit(delta{ToolCalls: []toolCall{c}}, nil)
		}
	case "message_delta":
		usageCounts(s.counts, ev.Get("usage"))
		if stop := ev.Get("delta.stop_reason").Str; stop != "" {
			s.finish = strings.Clone(AnthropicFinishReason(stop))
			if s.finish == "tool_calls" && s.ntools == 0 {
				s.finish = "stop"
			}
			return s.emit(delta{}, &s.finish)
		}
	case "message_stop":
		var out [][]byte
		if s.IncludeUsage {
			out = append(out, s.UsageChunk())
		}
		return append(out, []byte("[DONE]"))
	case "error":
		status := 500
		if ev.Get("error.type").Str == anthropic.TypeOverloaded {
			status = 529
		}
		return [][]byte{AnthropicErrorToOpenAI(status, data)}
	}
	return nil
}

// UsageChunk is the usage chunk of the stream so far (choices empty, the
// usage in OpenAI's terms): what a client that asked for usage gets before
// [DONE], and what the span is given when the client did not ask.
func (s *AnthropicChatStream) UsageChunk() []byte {
	b, _ := json.Marshal(chatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.Created, Model: s.model,
		Choices: []chunkChoice{}, Usage: openAIUsage(s.counts)})
	return b
}

// emit is the chunk of one delta; the first chunk also carries the role.
func (s *AnthropicChatStream) emit(d delta, finish *string) [][]byte {
	if !s.roleSent {
		d.Role, s.roleSent = "assistant", true
	}
	b, _ := json.Marshal(chatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.Created, Model: s.model,
		Choices: []chunkChoice{{Delta: d, FinishReason: finish}}})
	return [][]byte{b}
}
