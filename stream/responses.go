package stream

import (
	"sort"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// ResponsesAccumulator follows a Responses API stream (typed events:
// response.created … response.output_text.delta … response.completed) and
// keeps what a span needs of it. A final event (response.completed,
// response.incomplete, response.failed) carries the whole response, which
// is then the result, as for the official instrumentor (which gives up on
// the last two). Before that, the
// result is the last response snapshot (response.created or
// response.in_progress) with its output assembled from the items and deltas
// that passed, so a stream cut in the middle still shows what the client
// got. The zero value is ready to use.
type ResponsesAccumulator struct {
	response string // raw JSON of the latest response object
	final    bool   // response came from a final event
	items    []*outputItem
	err      string // raw JSON of the stream's error
	started  bool   // the first token has passed
}

// outputItem is one item of response.output, by its output_index.
type outputItem struct {
	index int
	raw   string // the item as added, or as done (then complete)
	done  bool
	// parts are a message's content parts (content_index) or a reasoning
	// item's summary parts (summary_index).
	parts     []*textPart
	arguments []byte // function_call arguments deltas
	hasArgs   bool
}

// textPart is a content or summary part and its text so far; key is the
// member the text goes in ("text", or "refusal").
type textPart struct {
	index   int
	raw     string
	key     string
	text    []byte
	hasText bool
}

// Add merges one event's data.
func (a *ResponsesAccumulator) Add(data []byte) (firstToken bool, err error) {
	if !jsonbound.Valid(data) {
		return false, ErrBadChunk
	}
	ev := jsonbound.ParseInPlace(data)
	if !ev.IsObject() {
		return false, ErrBadChunk
	}
	var typ, response, item, part, delta, text gjson.Result
	outputIndex, index := -1, -1
	ev.ForEach(func(k, v gjson.Result) bool { // one pass over the event
		switch k.Str {
		case "type":
			typ = v
		case "response":
			response = v
		case "item":
			item = v
		case "part":
			part = v
		case "delta":
			delta = v
		case "text", "refusal", "arguments":
			text = v
		case "output_index":
			outputIndex = int(v.Int())
		case "content_index", "summary_index":
			index = int(v.Int())
		}
		return true
	})
	carried := false
	switch typ.Str {
	case "response.created", "response.in_progress", "response.queued":
		if response.IsObject() && !a.final {
			a.response = strings.Clone(response.Raw)
		}
	case "response.completed", "response.incomplete", "response.failed":
		if response.IsObject() {
			a.response, a.final = strings.Clone(response.Raw), true
			if e := response.Get("error"); e.IsObject() {
				a.err = strings.Clone(e.Raw)
			}
		}
	case "error":
		a.err = strings.Clone(ev.Raw)
	case "response.output_item.added", "response.output_item.done":
		if item.IsObject() && outputIndex >= 0 {
			it := a.item(outputIndex)
			if !it.done {
				it.raw, it.done = strings.Clone(item.Raw), typ.Str == "response.output_item.done"
			}
		}
	case "response.content_part.added", "response.content_part.done",
		"response.reasoning_summary_part.added", "response.reasoning_summary_part.done":
		if part.IsObject() && outputIndex >= 0 && index >= 0 {
			p := a.item(outputIndex).part(index)
			p.raw = strings.Clone(part.Raw)
			if part.Get("type").Str == "refusal" {
				p.key = "refusal"
			}
		}
	case "response.output_text.delta", "response.refusal.delta", "response.reasoning_summary_text.delta":
		if delta.Type == gjson.String && outputIndex >= 0 && index >= 0 {
			p := a.item(outputIndex).part(index)
			if typ.Str == "response.refusal.delta" {
				p.key = "refusal"
			}
			p.text, p.hasText = append(p.text, delta.Str...), true
			carried = true
		}
	case "response.output_text.done", "response.refusal.done", "response.reasoning_summary_text.done":
		if text.Type == gjson.String && outputIndex >= 0 && index >= 0 {
			p := a.item(outputIndex).part(index)
			p.text, p.hasText = append(p.text[:0], text.Str...), true
		}
	case "response.function_call_arguments.delta":
		if delta.Type == gjson.String && outputIndex >= 0 {
			it := a.item(outputIndex)
			it.arguments, it.hasArgs = append(it.arguments, delta.Str...), true
			carried = true
		}
	case "response.function_call_arguments.done":
		if text.Type == gjson.String && outputIndex >= 0 {
			it := a.item(outputIndex)
			it.arguments, it.hasArgs = append(it.arguments[:0], text.Str...), true
		}
	}
	if carried && !a.started {
		a.started = true
		return true, nil
	}
	return false, nil
}

// Done reports whether a final event has passed.
func (a *ResponsesAccumulator) Done() bool { return a.final }

// Err is the raw JSON of the stream's error event, or of the error of a
// failed response, or "".
func (a *ResponsesAccumulator) Err() string { return a.err }

// Result is the final response, or the last snapshot with the output that
// passed so far. A final response with no output (a failed one may have
// none) also gets the output that passed.
func (a *ResponsesAccumulator) Result() []byte {
	if a.final && (len(a.items) == 0 || len(gjson.Get(a.response, "output").Array()) > 0) {
		return []byte(a.response)
	}
	out := make([]byte, 0, 256)
	out = append(out, '[')
	for i, it := range a.items {
		if i > 0 {
			out = append(out, ',')
		}
		out = it.appendJSON(out)
	}
	out = append(out, ']')
	response := a.response
	if response == "" {
		response = "{}"
	}
	return openai.WithMember(response, "output", out)
}

func (a *ResponsesAccumulator) item(index int) *outputItem {
	var it *outputItem
	a.items, it = byIndex(a.items, index, func(it *outputItem) int { return it.index },
		func() *outputItem { return &outputItem{index: index, raw: "{}"} })
	return it
}

func (it *outputItem) part(index int) *textPart {
	var p *textPart
	it.parts, p = byIndex(it.parts, index, func(p *textPart) int { return p.index },
		func() *textPart { return &textPart{index: index, raw: "{}", key: "text"} })
	return p
}

// byIndex finds the element of a list sorted by index that has the given
// index, or inserts a new one in its place. Streams name their items by
// index, in any order a hostile upstream likes, so a lookup must not scan.
func byIndex[T any](list []*T, index int, indexOf func(*T) int, newT func() *T) ([]*T, *T) {
	i := sort.Search(len(list), func(i int) bool { return indexOf(list[i]) >= index })
	if i < len(list) && indexOf(list[i]) == index {
		return list, list[i]
	}
	e := newT()
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = e
	return list, e
}

// appendJSON appends the item: as done when it is, else as added with the
// parts and arguments that passed.
func (it *outputItem) appendJSON(b []byte) []byte {
	if it.done {
		return append(b, it.raw...)
	}
	raw := it.raw
	if it.hasArgs {
		raw = string(openai.WithMember(raw, "arguments", openai.AppendJSONString(nil, string(it.arguments))))
	}
	if len(it.parts) > 0 {
		list := "content"
		if gjson.Get(raw, "type").Str == "reasoning" {
			list = "summary"
		}
		parts := []byte{'['}
		for i, p := range it.parts {
			if i > 0 {
				parts = append(parts, ',')
			}
			if p.hasText {
				parts = openai.AppendWithMember(parts, p.raw, p.key, openai.AppendJSONString(nil, string(p.text)))
			} else {
				parts = append(parts, p.raw...)
			}
		}
		raw = string(openai.WithMember(raw, list, append(parts, ']')))
	}
	return append(b, raw...)
}
