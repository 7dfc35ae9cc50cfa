package sessions

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Dialect is how one API's conversations are read: the history a request
// sends, and the messages its answer adds to it.
type Dialect struct {
	name string
	// input writes the request's history (system prompt first) to h.
	input func(h *history, body gjson.Result)
	// output writes the answer's messages to h.
	output func(h *history, answer gjson.Result)
	// chained: a request may name the answer it continues
	// (previous_response_id) or a stored conversation, and then sends only
	// its new turns.
	chained bool
	// metadataUserID: Claude Code names its session in the body too
	// (metadata.user_id), on this API only.
	metadataUserID bool
}

// String names the dialect.
func (d *Dialect) String() string { return d.name }

// Chat is OpenAI's chat completions: messages, and the first choice's
// message.
var Chat = Dialect{name: "chat", input: chatInput, output: chatOutput}

// Messages is Anthropic's Messages API: system and messages, and the
// answer's content.
var Messages = Dialect{name: "messages", input: messagesInput, output: messagesOutput, metadataUserID: true}

// Responses is OpenAI's Responses API: instructions and input items, and
// the answer's output items; a call may chain on a previous response or a
// conversation.
var Responses = Dialect{name: "responses", input: responsesInput, output: responsesOutput, chained: true}

// Gemini is Google's generateContent (the Gemini API and Vertex AI):
// systemInstruction and contents, and the first candidate's content.
var Gemini = Dialect{name: "gemini", input: geminiInput, output: geminiOutput}

func chatInput(h *history, body gjson.Result) {
	each(body.Get("messages"), func(m gjson.Result) bool {
		chatMessage(h, m, "user")
		return true
	})
}

func chatOutput(h *history, answer gjson.Result) {
	if m := answer.Get("choices.0.message"); m.IsObject() {
		chatMessage(h, m, "assistant")
	}
}

// chatMessage writes one chat message: its role, content (a string, or a
// list of parts), and tool calls. tool_call_id and name do not count.
func chatMessage(h *history, m gjson.Result, role string) {
	var content, calls, legacy gjson.Result
	m.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			role = v.Str
		case "content":
			content = v
		case "tool_calls":
			calls = v
		case "function_call":
			legacy = v
		}
		return true
	})
	h.begin(role, role == "assistant")
	chatContent(h, content)
	each(calls, func(c gjson.Result) bool {
		if f := c.Get("function"); f.Exists() {
			h.toolCall(f.Get("name").Str, f.Get("arguments"))
		} else if f := c.Get("custom"); f.Exists() {
			h.toolCall(f.Get("name").Str, f.Get("input"))
		}
		return true
	})
	if legacy.IsObject() {
		h.toolCall(legacy.Get("name").Str, legacy.Get("arguments"))
	}
	h.end()
}

func chatContent(h *history, content gjson.Result) {
	if content.Type == gjson.String {
		h.text(content.Str)
		return
	}
	each(content, func(p gjson.Result) bool {
		switch typ := p.Get("type").Str; typ {
		case "text":
			h.text(p.Get("text").Str)
		case "refusal":
			h.text(p.Get("refusal").Str)
		case "image_url":
			h.part('i', p.Get("image_url.url").Str)
		case "input_audio":
			h.part('u', p.Get("input_audio.data").Str)
		default:
			h.json('j', p)
		}
		return true
	})
}

func messagesInput(h *history, body gjson.Result) {
	var system, messages gjson.Result
	body.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "system":
			system = v
		case "messages":
			messages = v
		}
		return true
	})
	if system.Exists() && system.Type != gjson.Null {
		h.begin("system", false)
		anthropicContent(h, system)
		h.end()
	}
	each(messages, func(m gjson.Result) bool {
		role := m.Get("role").Str
		h.begin(role, role == "assistant")
		anthropicContent(h, m.Get("content"))
		h.end()
		return true
	})
}

func messagesOutput(h *history, answer gjson.Result) {
	content := answer.Get("content")
	if !content.IsArray() {
		return
	}
	role := answer.Get("role").Str
	if role == "" {
		role = "assistant"
	}
	h.begin(role, true)
	anthropicContent(h, content)
	h.end()
}

// anthropicContent writes a Messages API content: a string, or blocks.
func anthropicContent(h *history, content gjson.Result) {
	if content.Type == gjson.String {
		h.text(content.Str)
		return
	}
	each(content, func(b gjson.Result) bool {
		switch typ := b.Get("type").Str; typ {
		case "text":
			h.text(b.Get("text").Str)
		case "thinking", "redacted_thinking":
			// Left out: see history.
		case "tool_use", "server_tool_use":
			h.toolCall(b.Get("name").Str, b.Get("input"))
		case "tool_result":
			h.part('r', "")
			anthropicContent(h, b.Get("content"))
		case "image", "document":
			if src := b.Get("source"); src.Get("data").Exists() {
				h.part('i', src.Get("data").Str)
			} else {
				h.json('i', src)
			}
		default:
			h.json('j', b, "cache_control", "id", "tool_use_id", "citations")
		}
		return true
	})
}

func responsesInput(h *history, body gjson.Result) {
	var instructions, input gjson.Result
	body.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "instructions":
			instructions = v
		case "input":
			input = v
		}
		return true
	})
	if instructions.Type == gjson.String && instructions.Str != "" {
		h.begin("system", false)
		h.text(instructions.Str)
		h.end()
	}
	if input.Type == gjson.String {
		h.begin("user", false)
		h.text(input.Str)
		h.end()
		return
	}
	each(input, func(item gjson.Result) bool {
		responsesItem(h, item)
		return true
	})
}

func responsesOutput(h *history, answer gjson.Result) {
	each(answer.Get("output"), func(item gjson.Result) bool {
		responsesItem(h, item)
		return true
	})
}

// responsesItem writes one input or output item: a message (its role and
// content), a tool call the model made (function, custom or hosted), or a
// tool's output. Reasoning items are left out; ids and statuses do not
// count.
func responsesItem(h *history, item gjson.Result) {
	var typ, role, content, name, args, output gjson.Result
	item.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "type":
			typ = v
		case "role":
			role = v
		case "content":
			content = v
		case "name":
			name = v
		case "arguments", "input":
			args = v
		case "output":
			output = v
		}
		return true
	})
	switch t := typ.Str; {
	case t == "" || t == "message":
		h.begin(role.Str, role.Str == "assistant")
		responsesContent(h, content)
	case t == "reasoning":
		return
	case t == "function_call" || t == "custom_tool_call":
		h.begin(t, true)
		h.toolCall(name.Str, args)
	case strings.HasSuffix(t, "_output"):
		h.begin(t, false)
		responsesContent(h, output)
	case t == "item_reference":
		h.begin(t, false)
		h.part('x', item.Get("id").Str)
	default:
		// A hosted tool's call (web search, file search, code
		// interpreter, MCP…): the model's.
		h.begin(t, true)
		h.json('j', item, "id", "status")
	}
	h.end()
}

func responsesContent(h *history, content gjson.Result) {
	if content.Type == gjson.String {
		h.text(content.Str)
		return
	}
	each(content, func(p gjson.Result) bool {
		switch typ := p.Get("type").Str; typ {
		case "input_text", "output_text", "text":
			h.text(p.Get("text").Str)
		case "refusal":
			h.text(p.Get("refusal").Str)
		case "input_image":
			if u := p.Get("image_url"); u.Exists() {
				h.part('i', u.Str)
			} else {
				h.part('i', p.Get("file_id").Str)
			}
		default:
			h.json('j', p, "annotations", "logprobs")
		}
		return true
	})
}

func geminiInput(h *history, body gjson.Result) {
	var system, contents gjson.Result
	body.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "systemInstruction", "system_instruction":
			system = v
		case "contents":
			contents = v
		}
		return true
	})
	if system.IsObject() {
		h.begin("system", false)
		geminiParts(h, system.Get("parts"))
		h.end()
	}
	each(contents, func(c gjson.Result) bool {
		geminiContent(h, c, "user")
		return true
	})
}

func geminiOutput(h *history, answer gjson.Result) {
	if c := answer.Get("candidates.0.content"); c.IsObject() {
		geminiContent(h, c, "model")
	}
}

func geminiContent(h *history, c gjson.Result, role string) {
	if r := c.Get("role").Str; r != "" {
		role = r
	}
	h.begin(role, role == "model")
	geminiParts(h, c.Get("parts"))
	h.end()
}

func geminiParts(h *history, parts gjson.Result) {
	each(parts, func(p gjson.Result) bool {
		if p.Get("thought").Bool() {
			return true // see history
		}
		switch {
		case p.Get("text").Exists():
			h.text(p.Get("text").Str)
		case p.Get("functionCall").Exists():
			f := p.Get("functionCall")
			h.toolCall(f.Get("name").Str, f.Get("args"))
		case p.Get("function_call").Exists():
			f := p.Get("function_call")
			h.toolCall(f.Get("name").Str, f.Get("args"))
		default:
			h.json('j', p, "thoughtSignature", "thought_signature")
		}
		return true
	})
}

// each calls fn on each element of v if v is an array (gjson's ForEach
// would call it once on any other value), until fn returns false.
func each(v gjson.Result, fn func(e gjson.Result) bool) {
	if v.IsArray() {
		v.ForEach(func(_, e gjson.Result) bool { return fn(e) })
	}
}
