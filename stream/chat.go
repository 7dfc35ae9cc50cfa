package stream

import (
	"bytes"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// ChatAccumulator merges the chunks of a chat completion or legacy completion
// stream into one response object as they pass, the way
// openinference-instrumentation-openai's _response_accumulator.py does:
// content and tool-call arguments concatenated, tool calls keyed by their
// index, other fields taking their last non-null value, usage from the chunk
// that has it. It is pure (chunks in, JSON out) and not safe for concurrent
// use. The zero value is ready to use.
type ChatAccumulator struct {
	fields  []chatField // top-level members other than choices and usage
	choices []*choice   // sorted by index
	usage   string      // raw JSON of the last usage object
	err     string      // raw JSON of an error chunk's error
	started bool        // the first token has passed
	done    bool        // the [DONE] event has passed
}

type field struct{ key, raw string }

// chatField is a top-level member of a chat stream's chunks: its value
// changes in place, since one (OpenAI's obfuscation) changes with every
// chunk.
type chatField struct {
	key string
	raw []byte
}

type choice struct {
	index        int
	finishReason string
	// Chat deltas.
	role, content, refusal          []byte
	hasRole, hasContent, hasRefusal bool
	toolCalls                       []*toolCall // sorted by index
	functionCall                    *toolCall   // legacy function_call
	// Legacy completions.
	text    []byte
	hasText bool
}

type toolCall struct {
	index         int
	id, typ, name string
	arguments     []byte
}

// Add merges one chunk (an event's data). It reports whether this chunk
// carried the stream's first token: the first content, refusal, tool call or
// completion text.
func (a *ChatAccumulator) Add(data []byte) (firstToken bool, err error) {
	if isDone(data) {
		a.done = true
		return false, nil
	}
	// gjson parses leniently: without validation, a malformed member would
	// be copied into Result as it came and make it invalid JSON.
	if !jsonbound.Valid(data) {
		return false, ErrBadChunk
	}
	root := jsonbound.ParseInPlace(data)
	if !root.IsObject() {
		return false, ErrBadChunk
	}
	carried := false
	root.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "choices":
			v.ForEach(func(_, c gjson.Result) bool {
				if a.addChoice(c) {
					carried = true
				}
				return true
			})
		case "usage":
			if v.IsObject() {
				a.usage = strings.Clone(v.Raw)
			}
		case "error":
			if v.Type != gjson.Null {
				a.err = strings.Clone(v.Raw)
			}
		default:
			if v.Type != gjson.Null {
				a.setField(k.Str, v.Raw)
			}
		}
		return true
	})
	if carried && !a.started {
		a.started = true
		return true, nil
	}
	return false, nil
}

// Done reports whether the [DONE] event has passed.
func (a *ChatAccumulator) Done() bool { return a.done }

// Err is the raw JSON of the error an error chunk carried, or "".
func (a *ChatAccumulator) Err() string { return a.err }

func isDone(data []byte) bool {
	return bytes.Equal(bytes.TrimSpace(data), []byte("[DONE]"))
}

func (a *ChatAccumulator) setField(key, raw string) {
	for i := range a.fields {
		if a.fields[i].key == key {
			if string(a.fields[i].raw) != raw { // most fields repeat
				a.fields[i].raw = append(a.fields[i].raw[:0], raw...)
			}
			return
		}
	}
	a.fields = append(a.fields, chatField{key: strings.Clone(key), raw: []byte(raw)})
}

// addChoice merges one choice of a chunk and reports whether it carried a
// token.
func (a *ChatAccumulator) addChoice(c gjson.Result) bool {
	ch := a.choice(int(c.Get("index").Int()))
	if fr := c.Get("finish_reason"); fr.Type == gjson.String && fr.Str != ch.finishReason {
		ch.finishReason = strings.Clone(fr.Str)
	}
	carried := false
	if text := c.Get("text"); text.Type == gjson.String {
		ch.text = append(ch.text, text.Str...)
		ch.hasText = true
		carried = carried || text.Str != ""
	}
	delta := c.Get("delta")
	if !delta.IsObject() {
		return carried
	}
	delta.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "role":
			if v.Type == gjson.String {
				ch.role, ch.hasRole = append(ch.role[:0], v.Str...), true
			}
		case "content":
			if v.Type == gjson.String {
				ch.content, ch.hasContent = append(ch.content, v.Str...), true
				carried = carried || v.Str != ""
			}
		case "refusal":
			if v.Type == gjson.String {
				ch.refusal, ch.hasRefusal = append(ch.refusal, v.Str...), true
				carried = carried || v.Str != ""
			}
		case "reasoning_content", "reasoning":
			// A reasoning model's thoughts (DeepSeek's, vLLM's, OpenRouter's
			// member): tokens the client sees first, though the
			// instrumentor's accumulator keeps only their last fragment.
			carried = carried || v.Type == gjson.String && v.Str != ""
		case "tool_calls":
			v.ForEach(func(_, tc gjson.Result) bool {
				ch.addToolCall(tc)
				carried = true
				return true
			})
		case "function_call":
			if v.IsObject() {
				if ch.functionCall == nil {
					ch.functionCall = &toolCall{}
				}
				ch.functionCall.merge(v)
				carried = true
			}
		}
		return true
	})
	return carried
}

// choice returns the choice with index i, creating it in order.
func (a *ChatAccumulator) choice(i int) *choice {
	n := sort.Search(len(a.choices), func(j int) bool { return a.choices[j].index >= i })
	if n < len(a.choices) && a.choices[n].index == i {
		return a.choices[n]
	}
	ch := &choice{index: i}
	a.choices = append(a.choices, nil)
	copy(a.choices[n+1:], a.choices[n:])
	a.choices[n] = ch
	return ch
}

func (ch *choice) addToolCall(tc gjson.Result) {
	i := int(tc.Get("index").Int())
	n := sort.Search(len(ch.toolCalls), func(j int) bool { return ch.toolCalls[j].index >= i })
	if n == len(ch.toolCalls) || ch.toolCalls[n].index != i {
		ch.toolCalls = append(ch.toolCalls, nil)
		copy(ch.toolCalls[n+1:], ch.toolCalls[n:])
		ch.toolCalls[n] = &toolCall{index: i}
	}
	t := ch.toolCalls[n]
	if id := tc.Get("id"); id.Type == gjson.String && id.Str != "" && id.Str != t.id {
		t.id = strings.Clone(id.Str)
	}
	if typ := tc.Get("type"); typ.Type == gjson.String && typ.Str != "" && typ.Str != t.typ {
		t.typ = strings.Clone(typ.Str)
	}
	t.merge(tc.Get("function"))
}

// merge adds a function delta: the name is set once, arguments concatenate.
func (t *toolCall) merge(fn gjson.Result) {
	if name := fn.Get("name"); name.Type == gjson.String && name.Str != "" && t.name == "" {
		t.name = strings.Clone(name.Str)
	}
	if args := fn.Get("arguments"); args.Type == gjson.String {
		t.arguments = append(t.arguments, args.Str...)
	}
}

// Result is the assembled response as JSON, in the shape the instrumentor
// records as output.value: {"choices":[{"message":{…},"index","finish_reason"}],
// "id",…,"usage"}. A legacy completion's choices hold "text" instead of
// "message".
func (a *ChatAccumulator) Result() []byte {
	b := make([]byte, 0, 256)
	b = append(b, `{"choices":[`...)
	for i, ch := range a.choices {
		if i > 0 {
			b = append(b, ',')
		}
		b = ch.appendJSON(b)
	}
	b = append(b, ']')
	for _, f := range a.fields {
		b = append(b, ',')
		b = openai.AppendJSONString(b, f.key)
		b = append(b, ':')
		b = append(b, f.raw...)
	}
	if a.usage != "" {
		b = append(b, `,"usage":`...)
		b = append(b, a.usage...)
	}
	return append(b, '}')
}

func (ch *choice) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if ch.hasText && !ch.hasRole && !ch.hasContent && ch.toolCalls == nil {
		b = append(b, `"text":`...)
		b = openai.AppendJSONString(b, string(ch.text))
	} else {
		b = append(b, `"message":{`...)
		n := 0
		sep := func() {
			if n > 0 {
				b = append(b, ',')
			}
			n++
		}
		if ch.hasContent && len(ch.content) > 0 {
			// As the instrumentor's string accumulator: an empty content
			// (a stream of reasoning or tool calls only) is left out.
			sep()
			b = append(b, `"content":`...)
			b = openai.AppendJSONString(b, string(ch.content))
		}
		if ch.hasRole {
			sep()
			b = append(b, `"role":`...)
			b = openai.AppendJSONString(b, string(ch.role))
		}
		if ch.hasRefusal {
			sep()
			b = append(b, `"refusal":`...)
			b = openai.AppendJSONString(b, string(ch.refusal))
		}
		if ch.functionCall != nil {
			sep()
			b = append(b, `"function_call":`...)
			b = ch.functionCall.appendFunction(b)
		}
		if len(ch.toolCalls) > 0 {
			sep()
			b = append(b, `"tool_calls":[`...)
			for i, t := range ch.toolCalls {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"index":`...)
				b = strconv.AppendInt(b, int64(t.index), 10)
				if t.id != "" {
					b = append(b, `,"id":`...)
					b = openai.AppendJSONString(b, t.id)
				}
				if t.typ != "" {
					b = append(b, `,"type":`...)
					b = openai.AppendJSONString(b, t.typ)
				}
				b = append(b, `,"function":`...)
				b = t.appendFunction(b)
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(ch.index), 10)
	if ch.finishReason != "" {
		b = append(b, `,"finish_reason":`...)
		b = openai.AppendJSONString(b, ch.finishReason)
	}
	return append(b, '}')
}

func (t *toolCall) appendFunction(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = openai.AppendJSONString(b, t.name)
	b = append(b, `,"arguments":`...)
	b = openai.AppendJSONString(b, string(t.arguments))
	return append(b, '}')
}
