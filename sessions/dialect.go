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
	input func(h *history, body value)
	// output writes the answer's messages to h.
	output func(h *history, answer value)
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

// Converse is Bedrock Runtime's Converse and ConverseStream: system and
// messages of content blocks, and the answer's output message (for a
// stream, the ConverseResponse it adds up to).
var Converse = Dialect{name: "converse", input: converseInput, output: converseOutput}

func chatInput(h *history, body value) {
	var m chatMessage
	h.objects(body.get("messages"), m.member, func(value) {
		m.write(h, "user")
		m = chatMessage{}
	})
}

func chatOutput(h *history, answer value) {
	if v := answer.path("choices.0.message"); v.isObject() {
		var m chatMessage
		h.members(v, func(k string, v value) bool {
			m.member(k, v)
			return true
		})
		m.write(h, "assistant")
	}
}

// chatMessage is what counts of one chat message: its role, content (a
// string, or a list of parts), and tool calls. tool_call_id and name do
// not count.
type chatMessage struct{ role, content, calls, legacy value }

// member notes one of the message's members (the last of each name).
func (m *chatMessage) member(k string, v value) {
	switch k {
	case "role":
		m.role = v
	case "content":
		m.content = v
	case "tool_calls":
		m.calls = v
	case "function_call":
		m.legacy = v
	}
}

// write writes the message, of role unless it names its own.
func (m *chatMessage) write(h *history, role string) {
	if m.role.exists() {
		role = h.str(m.role)
	}
	h.begin(role, role == "assistant")
	chatContent(h, m.content)
	h.elements(m.calls, func(c value) bool {
		if f, custom := h.first2(c, "function", "custom"); f.exists() {
			name, args := h.first2(f, "name", "arguments")
			h.toolCall(h.str(name), args)
		} else if custom.exists() {
			name, input := h.first2(custom, "name", "input")
			h.toolCall(h.str(name), input)
		}
		return true
	})
	if m.legacy.isObject() {
		name, args := h.first2(m.legacy, "name", "arguments")
		h.toolCall(h.str(name), args)
	}
	h.end()
}

func chatContent(h *history, content value) {
	if content.isString() {
		h.text(h.str(content))
		return
	}
	var p part
	h.objects(content, p.member, func(e value) {
		switch h.str(p.typ) {
		case "text":
			h.text(h.str(p.text))
		case "refusal":
			h.text(h.str(e.get("refusal")))
		case "image_url":
			h.part('i', h.str(e.get("image_url").get("url")))
		case "input_audio":
			h.part('u', h.str(e.get("input_audio").get("data")))
		default:
			h.json('j', e)
		}
		p = part{}
	})
}

// part is what objects notes of a content part, or block: the first type
// and text it has.
type part struct{ typ, text value }

func (p *part) member(k string, v value) {
	switch {
	case k == "type" && !p.typ.exists():
		p.typ = v
	case k == "text" && !p.text.exists():
		p.text = v
	}
}

func messagesInput(h *history, body value) {
	systemAndMessages(h, body, func(system value) bool { return system.exists() && !system.isNull() }, anthropicContent)
}

// systemAndMessages writes the history of a request made of a system prompt
// and messages of a role and content (Anthropic's Messages, Bedrock's
// Converse): the system prompt when hasSystem says there is one, then each
// message, its content written by write.
func systemAndMessages(h *history, body value, hasSystem func(value) bool, write func(*history, value)) {
	var system, messages value
	h.members(body, func(k string, v value) bool {
		switch k {
		case "system":
			system = v
		case "messages":
			messages = v
		}
		return true
	})
	if hasSystem(system) {
		h.begin("system", false)
		write(h, system)
		h.end()
	}
	var role, content value
	h.objects(messages, func(k string, v value) {
		switch {
		case k == "role" && !role.exists():
			role = v
		case k == "content" && !content.exists():
			content = v
		}
	}, func(value) {
		r := h.str(role)
		h.begin(r, r == "assistant")
		write(h, content)
		h.end()
		role, content = "", ""
	})
}

func messagesOutput(h *history, answer value) {
	content, role := h.first2(answer, "content", "role")
	answerMessage(h, role, content, anthropicContent)
}

// answerMessage writes an answer's message, its content blocks written by
// write: the role it names, else the assistant's. An answer with no blocks
// writes nothing.
func answerMessage(h *history, role, content value, write func(*history, value)) {
	if !content.isArray() {
		return
	}
	r := h.str(role)
	if r == "" {
		r = "assistant"
	}
	h.begin(r, true)
	write(h, content)
	h.end()
}

// anthropicContent writes a Messages API content: a string, or blocks.
func anthropicContent(h *history, content value) {
	if content.isString() {
		h.text(h.str(content))
		return
	}
	var p part
	h.objects(content, p.member, func(b value) {
		switch h.str(p.typ) {
		case "text":
			h.text(h.str(p.text))
		case "thinking", "redacted_thinking":
			// Left out: see history.
		case "tool_use", "server_tool_use":
			name, input := h.first2(b, "name", "input")
			h.toolCall(h.str(name), input)
		case "tool_result":
			h.part('r', "")
			anthropicContent(h, b.get("content"))
		case "image", "document":
			if src := b.get("source"); src.get("data").exists() {
				h.part('i', h.str(src.get("data")))
			} else {
				h.json('i', src)
			}
		default:
			h.json('j', b, "cache_control", "id", "tool_use_id", "citations")
		}
		p = part{}
	})
}

func responsesInput(h *history, body value) {
	var instructions, input value
	h.members(body, func(k string, v value) bool {
		switch k {
		case "instructions":
			instructions = v
		case "input":
			input = v
		}
		return true
	})
	if s := h.str(instructions); s != "" {
		h.begin("system", false)
		h.text(s)
		h.end()
	}
	if input.isString() {
		h.begin("user", false)
		h.text(h.str(input))
		h.end()
		return
	}
	responsesItems(h, input)
}

func responsesOutput(h *history, answer value) {
	responsesItems(h, answer.get("output"))
}

// responsesItems writes input or output items: a message (its role and
// content), a tool call the model made (function, custom or hosted), or a
// tool's output. Reasoning items are left out; ids and statuses do not
// count.
func responsesItems(h *history, items value) {
	var typ, role, content, name, args, output value
	h.objects(items, func(k string, v value) {
		switch k {
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
	}, func(item value) {
		responsesItem(h, item, h.str(typ), role, content, name, args, output)
		typ, role, content, name, args, output = "", "", "", "", "", ""
	})
}

func responsesItem(h *history, item value, t string, role, content, name, args, output value) {
	switch {
	case t == "" || t == "message":
		r := h.str(role)
		h.begin(r, r == "assistant")
		responsesContent(h, content)
	case t == "reasoning":
		return
	case t == "function_call" || t == "custom_tool_call":
		h.begin(t, true)
		h.toolCall(h.str(name), args)
	case strings.HasSuffix(t, "_output"):
		h.begin(t, false)
		responsesContent(h, output)
	case t == "item_reference":
		h.begin(t, false)
		h.part('x', h.str(item.get("id")))
	default:
		// A hosted tool's call (web search, file search, code
		// interpreter, MCP…): the model's.
		h.begin(t, true)
		h.json('j', item, "id", "status")
	}
	h.end()
}

func responsesContent(h *history, content value) {
	if content.isString() {
		h.text(h.str(content))
		return
	}
	var p part
	h.objects(content, p.member, func(e value) {
		switch h.str(p.typ) {
		case "input_text", "output_text", "text":
			h.text(h.str(p.text))
		case "refusal":
			h.text(h.str(e.get("refusal")))
		case "input_image":
			if u, file := h.first2(e, "image_url", "file_id"); u.exists() {
				h.part('i', h.str(u))
			} else {
				h.part('i', h.str(file))
			}
		default:
			h.json('j', e, "annotations", "logprobs")
		}
		p = part{}
	})
}

func geminiInput(h *history, body value) {
	var system, contents value
	h.members(body, func(k string, v value) bool {
		switch k {
		case "systemInstruction", "system_instruction":
			system = v
		case "contents":
			contents = v
		}
		return true
	})
	if system.isObject() {
		h.begin("system", false)
		geminiParts(h, system.get("parts"))
		h.end()
	}
	var role, parts value
	h.objects(contents, func(k string, v value) {
		switch {
		case k == "role" && !role.exists():
			role = v
		case k == "parts" && !parts.exists():
			parts = v
		}
	}, func(value) {
		geminiContent(h, h.str(role), parts, "user")
		role, parts = "", ""
	})
}

func geminiOutput(h *history, answer value) {
	if c := answer.path("candidates.0.content"); c.isObject() {
		role, parts := h.first2(c, "role", "parts")
		geminiContent(h, h.str(role), parts, "model")
	}
}

// geminiContent writes one content of role (else the given one) and its
// parts.
func geminiContent(h *history, role string, parts value, or string) {
	if role == "" {
		role = or
	}
	h.begin(role, role == "model")
	geminiParts(h, parts)
	h.end()
}

func geminiParts(h *history, parts value) {
	var thought, text, call, snakeCall value
	h.objects(parts, func(k string, v value) {
		switch {
		case k == "thought" && !thought.exists():
			thought = v
		case k == "text" && !text.exists():
			text = v
		case k == "functionCall" && !call.exists():
			call = v
		case k == "function_call" && !snakeCall.exists():
			snakeCall = v
		}
	}, func(p value) {
		switch {
		case thought.truthy(h):
			// Left out: see history.
		case text.exists():
			h.text(h.str(text))
		case call.exists():
			name, args := h.first2(call, "name", "args")
			h.toolCall(h.str(name), args)
		case snakeCall.exists():
			name, args := h.first2(snakeCall, "name", "args")
			h.toolCall(h.str(name), args)
		default:
			h.json('j', p, "thoughtSignature", "thought_signature")
		}
		thought, text, call, snakeCall = "", "", "", ""
	})
}

func converseInput(h *history, body value) {
	// The system prompt is a list of blocks; none (pydantic-ai sends []) is
	// no system prompt.
	systemAndMessages(h, body, nonEmpty, converseContent)
}

func converseOutput(h *history, answer value) {
	role, content := h.first2(answer.get("output").get("message"), "role", "content")
	answerMessage(h, role, content, converseContent)
}

// converseContent writes Converse content blocks (of a message, a system
// prompt, a tool result): each a union whose member names its kind. The
// model's reasoning is left out (see history), and so are cache points,
// which clients move from turn to turn as they do cache_control; a tool's
// use is its name and input (its id does not count), a tool's result its
// content; an image's, a document's or a video's bytes are the part.
func converseContent(h *history, content value) {
	h.elements(content, func(b value) bool {
		h.members(b, func(kind string, v value) bool {
			switch kind {
			case "text":
				h.text(h.str(v))
			case "reasoningContent", "cachePoint":
			case "toolUse":
				name, input := h.first2(v, "name", "input")
				h.toolCall(h.str(name), input)
			case "toolResult":
				h.part('r', "")
				converseContent(h, v.get("content"))
			case "image", "document", "video":
				if data := v.get("source").get("bytes"); data.exists() {
					h.part('i', h.str(data))
				} else {
					h.json('i', v)
				}
			default:
				// json (a tool's result), guardContent, citationsContent…
				h.part('k', kind)
				h.json('j', v)
			}
			return true
		})
		return true
	})
}

// nonEmpty reports an array with an element.
func nonEmpty(v value) bool {
	some := false
	elements(v, func(value) bool {
		some = true
		return false
	})
	return some
}

// first2 is the first members of an object named a and b ("" for one it
// does not have), read in one scan that ends once both are found.
func (h *history) first2(v value, a, b string) (va, vb value) {
	h.members(v, func(k string, e value) bool {
		switch {
		case k == a && va == "":
			va = e
		case k == b && vb == "":
			vb = e
		}
		return va == "" || vb == ""
	})
	return va, vb
}

// path is the value at a gjson path (an index into an array, say) of an
// answer: read once per call, and small.
func (v value) path(p string) value { return value(gjson.Get(string(v), p).Raw) }
