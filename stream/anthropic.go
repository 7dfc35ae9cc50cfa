package stream

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// AnthropicAccumulator merges an Anthropic Messages stream (message_start,
// content_block_start / _delta / _stop, message_delta, message_stop, ping,
// error) into the message it makes up, as the events pass: text, thinking
// and signature deltas appended to their block, tool input JSON fragments
// joined and parsed when their block stops, the usage of message_start
// updated by message_delta's. The zero value is ready to use.
type AnthropicAccumulator struct {
	message string // raw JSON of message_start's message
	blocks  []*anthropicBlock
	// delta holds message_delta's stop_reason and stop_sequence; usage the
	// usage so far, as raw members by name.
	delta   []field
	usage   []field
	err     string
	started bool
	done    bool
}

type anthropicBlock struct {
	index int
	raw   string // content_block_start's block
	// text, thinking and signature deltas, and the tool input fragments.
	text, thinking, signature, input []byte
	hasText, hasThinking, hasSig     bool
	hasInput                         bool
	citations                        []string
}

// Add merges one event's data.
func (a *AnthropicAccumulator) Add(data []byte) (firstToken bool, err error) {
	if !jsonbound.Valid(data) {
		return false, ErrBadChunk
	}
	ev := jsonbound.ParseInPlace(data)
	if !ev.IsObject() {
		return false, ErrBadChunk
	}
	carried := false
	switch ev.Get("type").Str {
	case "message_start":
		if m := ev.Get("message"); m.IsObject() {
			a.message = strings.Clone(m.Raw)
			a.setUsage(m.Get("usage"))
		}
	case "content_block_start":
		if b := ev.Get("content_block"); b.IsObject() {
			a.block(int(ev.Get("index").Int())).raw = strings.Clone(b.Raw)
		}
	case "content_block_delta":
		b := a.block(int(ev.Get("index").Int()))
		d := ev.Get("delta")
		switch d.Get("type").Str {
		case "text_delta":
			b.text, b.hasText = append(b.text, d.Get("text").Str...), true
			carried = true
		case "thinking_delta":
			b.thinking, b.hasThinking = append(b.thinking, d.Get("thinking").Str...), true
			carried = true
		case "signature_delta":
			b.signature, b.hasSig = append(b.signature, d.Get("signature").Str...), true
		case "input_json_delta":
			b.input, b.hasInput = append(b.input, d.Get("partial_json").Str...), true
			carried = carried || d.Get("partial_json").Str != ""
		case "citations_delta":
			if c := d.Get("citation"); c.IsObject() {
				b.citations = append(b.citations, strings.Clone(c.Raw))
			}
		}
	case "message_delta":
		d := ev.Get("delta")
		d.ForEach(func(k, v gjson.Result) bool {
			a.delta = setField(a.delta, k.Str, v.Raw)
			return true
		})
		a.setUsage(ev.Get("usage"))
	case "message_stop":
		a.done = true
	case "error":
		if e := ev.Get("error"); e.Exists() {
			a.err = strings.Clone(ev.Raw)
		}
	}
	if carried && !a.started {
		a.started = true
		return true, nil
	}
	return false, nil
}

// setUsage takes the usage members that are not null: message_delta's
// output_tokens (and, lately, its input and cache counts) update
// message_start's.
func (a *AnthropicAccumulator) setUsage(usage gjson.Result) {
	usage.ForEach(func(k, v gjson.Result) bool {
		if v.Type != gjson.Null {
			a.usage = setField(a.usage, k.Str, v.Raw)
		}
		return true
	})
}

// setField sets the member key of fields to raw, both cloned: they may
// alias an event's data (parseEvent).
func setField(fields []field, key, raw string) []field {
	for i := range fields {
		if fields[i].key == key {
			if fields[i].raw != raw {
				fields[i].raw = strings.Clone(raw)
			}
			return fields
		}
	}
	return append(fields, field{key: strings.Clone(key), raw: strings.Clone(raw)})
}

func (a *AnthropicAccumulator) block(index int) *anthropicBlock {
	var b *anthropicBlock
	a.blocks, b = byIndex(a.blocks, index, func(b *anthropicBlock) int { return b.index },
		func() *anthropicBlock { return &anthropicBlock{index: index, raw: "{}"} })
	return b
}

// Done reports whether message_stop has passed.
func (a *AnthropicAccumulator) Done() bool { return a.done }

// Err is the raw JSON of the stream's error event, or "".
func (a *AnthropicAccumulator) Err() string { return a.err }

// Result is the message as the stream built it so far.
func (a *AnthropicAccumulator) Result() []byte {
	msg := a.message
	if msg == "" {
		msg = "{}"
	}
	content := []byte{'['}
	for i, b := range a.blocks {
		if i > 0 {
			content = append(content, ',')
		}
		content = append(content, b.json()...)
	}
	out := openai.WithMember(msg, "content", append(content, ']'))
	for _, f := range a.delta {
		out = openai.WithMember(string(out), f.key, []byte(f.raw))
	}
	if len(a.usage) > 0 {
		usage := []byte{'{'}
		for i, f := range a.usage {
			if i > 0 {
				usage = append(usage, ',')
			}
			usage = openai.AppendJSONString(usage, f.key)
			usage = append(usage, ':')
			usage = append(usage, f.raw...)
		}
		out = openai.WithMember(string(out), "usage", append(usage, '}'))
	}
	return out
}

// json is the block with its deltas applied. A tool's input is its joined
// fragments when they make valid JSON ({} when none came), else the
// fragments as a string, so the result stays JSON.
func (b *anthropicBlock) json() []byte {
	out := []byte(b.raw)
	set := func(key string, value []byte) { out = openai.WithMember(string(out), key, value) }
	if b.hasText {
		set("text", openai.AppendJSONString(nil, string(b.text)))
	}
	if b.hasThinking {
		set("thinking", openai.AppendJSONString(nil, string(b.thinking)))
	}
	if b.hasSig {
		set("signature", openai.AppendJSONString(nil, string(b.signature)))
	}
	if b.hasInput {
		switch {
		case len(b.input) == 0:
			set("input", []byte("{}"))
		case jsonbound.Valid(b.input):
			set("input", b.input)
		default:
			set("input", openai.AppendJSONString(nil, string(b.input)))
		}
	}
	if len(b.citations) > 0 {
		list := []byte{'['}
		for i, c := range b.citations {
			if i > 0 {
				list = append(list, ',')
			}
			list = append(list, c...)
		}
		set("citations", append(list, ']'))
	}
	return out
}
