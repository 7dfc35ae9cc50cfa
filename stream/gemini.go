package stream

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

var _ Accumulator = (*GeminiAccumulator)(nil)

// GeminiAccumulator merges the chunks of a Gemini stream
// (streamGenerateContent: each chunk a GenerateContentResponse, in Google's
// camelCase wire format) into the one GenerateContentResponse they make up,
// as openinference-instrumentation-google-genai accumulates a stream
// (_stream.py, _ResponseAccumulator):
//
//   - candidates by their index (their place in the list when they have
//     none); each candidate's parts concatenated across chunks, in order,
//     consecutive text parts of one kind (thought text, or not) joined into
//     one part, and a functionCall without a name continuing the call
//     before it (its members merged); other parts kept apart. A part's
//     other members (thought, thoughtSignature) take the last value seen,
//     so a signature that comes on a later chunk, as Gemini 3 sends it on
//     an empty text part with the finishReason, lands on the part that
//     chunk's part joined.
//     (The instrumentor joins a part to the one the previous chunk had at
//     the same place in its parts, not to the last part: the same for
//     chunks of one part, as Gemini sends them, but a chunk of a thought
//     and a text then one of text would give it a text part in two.)
//   - role, finishReason and the candidate's other members (safetyRatings,
//     citationMetadata, groundingMetadata, index) are the last seen. (The
//     instrumentor appends a list to the one it has seen before instead,
//     and merges an object's members: safetyRatings sent again on each
//     chunk repeat in its result.)
//   - usageMetadata is merged member by member, the last value of each
//     winning: the last one seen, as Gemini sends cumulative usage.
//   - modelVersion, responseId, promptFeedback, createTime and any other
//     member are the last seen.
//
// Null and empty-string members never replace what came before. String
// values are kept as the raw JSON they came in; joined text is escaped
// anew. The zero value is ready to use.
type GeminiAccumulator struct {
	candidates []*geminiCandidate
	usage      []field // usageMetadata's members
	fields     []field // the other members but candidates
	err        string
	started    bool
	done       bool
}

type geminiCandidate struct {
	index   int
	parts   []*geminiPart
	last    partKind // the kind of the last part, which the next may join
	content []field  // content's members but parts (role)
	fields  []field  // the candidate's members but content
}

// partKind is what decides whether parts join: text and thought text
// stream, a function call may continue, anything else stands alone.
type partKind uint8

const (
	kindText partKind = iota
	kindThought
	kindCall
	kindOther
)

// partKinds are the members that make a part a part of its own, as the
// instrumentor reads them (_PART_KIND_FIELDS), first found first. Their
// objects are merged member by member when a part continues another.
var partKinds = [...]string{"functionCall", "functionResponse", "inlineData", "fileData", "executableCode", "codeExecutionResult"}

type geminiPart struct {
	// text is the part's text fragments joined, n how many there were
	// (empty ones skipped) and raw the first one's JSON as it came.
	text   []byte
	n      int
	raw    string
	fields []field // the other members
}

// Add merges one chunk. It reports the first chunk to carry a token: a part
// with text (thought text counts: it is generated output, and the first a
// thinking model sends), a function call or inline data. An error chunk
// ({"error":{...}}) is kept for Err, not merged.
func (a *GeminiAccumulator) Add(data []byte) (firstToken bool, err error) {
	if !jsonbound.Valid(data) {
		return false, ErrBadChunk
	}
	chunk := jsonbound.ParseInPlace(data)
	if !chunk.IsObject() {
		return false, ErrBadChunk
	}
	if e := chunk.Get("error"); e.Exists() && e.Type != gjson.Null {
		a.err = strings.Clone(chunk.Raw) // Google's error envelope: {"error":{code,message,status}}
		return false, nil
	}
	carried := false
	chunk.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "candidates":
			eachElement(v, func(pos int, c gjson.Result) {
				if c.IsObject() && !isEmpty(c) {
					carried = a.addCandidate(c, pos) || carried
				}
			})
		case "usageMetadata":
			if !v.IsObject() {
				return true
			}
			v.ForEach(func(k, v gjson.Result) bool {
				if v.Type != gjson.Null {
					a.usage = setField(a.usage, k.Str, v.Raw)
				}
				return true
			})
		default:
			a.fields = setValue(a.fields, k.Str, v)
		}
		return true
	})
	if chunk.Get("promptFeedback.blockReason").String() != "" {
		a.done = true // the prompt was blocked: no candidates will come
	}
	if carried && !a.started {
		a.started = true
		return true, nil
	}
	return false, nil
}

// addCandidate merges one candidate, pos its place in the chunk's list. It
// reports whether it carried a token.
func (a *GeminiAccumulator) addCandidate(c gjson.Result, pos int) (carried bool) {
	index := pos
	if i := c.Get("index"); i.Type == gjson.Number {
		index = int(i.Int())
	}
	var cand *geminiCandidate
	a.candidates, cand = byIndex(a.candidates, index, func(c *geminiCandidate) int { return c.index },
		func() *geminiCandidate { return &geminiCandidate{index: index} })
	c.ForEach(func(k, v gjson.Result) bool {
		if k.Str != "content" {
			cand.fields = setValue(cand.fields, k.Str, v)
			return true
		}
		if !v.IsObject() {
			return true
		}
		v.ForEach(func(k, v gjson.Result) bool {
			if k.Str == "parts" {
				carried = cand.addParts(v) || carried
			} else {
				cand.content = setValue(cand.content, k.Str, v)
			}
			return true
		})
		return true
	})
	if c.Get("finishReason").String() != "" {
		a.done = true
	}
	return carried
}

// addParts merges one chunk's parts, each into a new part or into the
// last one (_PartsAccumulator's rules, by order rather than by place; see
// GeminiAccumulator).
func (c *geminiCandidate) addParts(parts gjson.Result) (carried bool) {
	eachElement(parts, func(_ int, p gjson.Result) {
		if !p.IsObject() || isEmpty(p) {
			return // skipped, as the instrumentor does
		}
		kind := kindOf(p)
		if len(c.parts) == 0 || startsPart(p, kind, c.last) {
			c.parts = append(c.parts, &geminiPart{})
		}
		c.last = kind
		c.parts[len(c.parts)-1].add(p)
		carried = carried || p.Get("text").Str != "" || p.Get("functionCall").IsObject() || p.Get("inlineData").IsObject()
	})
	return carried
}

// kindOf is a part's kind (_part_kind).
func kindOf(p gjson.Result) partKind {
	for i, k := range partKinds {
		if p.Get(k).Exists() {
			if i == 0 {
				return kindCall
			}
			return kindOther
		}
	}
	if p.Get("thought").Type == gjson.True {
		return kindThought
	}
	return kindText
}

// startsPart reports whether a part of this kind, after a part of kind
// last, starts a part of its own (_starts_new_slot): text joins
// text of its kind; a function call continues the last unless it has a
// name.
func startsPart(p gjson.Result, kind, last partKind) bool {
	switch {
	case kind != last:
		return true
	case kind == kindText || kind == kindThought:
		return false
	case kind == kindCall:
		return p.Get("functionCall.name").Exists()
	}
	return true
}

// add merges a chunk's part into the part.
func (pt *geminiPart) add(p gjson.Result) {
	p.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "text" {
			if v.Type == gjson.String && v.Str != "" {
				if pt.n == 0 {
					pt.raw = strings.Clone(v.Raw)
				}
				pt.text = append(pt.text, v.Str...)
				pt.n++
			}
			return true
		}
		for _, kind := range partKinds {
			if k.Str == kind {
				pt.merge(kind, v)
				return true
			}
		}
		pt.fields = setValue(pt.fields, k.Str, v)
		return true
	})
}

// merge merges an object member of a kind (functionCall, inlineData, …)
// into the one the part has: its members set one by one, as the
// instrumentor's _DictReplace updates a dict. Anything but a non-empty
// object leaves it as it was.
func (pt *geminiPart) merge(key string, v gjson.Result) {
	if !v.IsObject() || isEmpty(v) {
		return
	}
	for i := range pt.fields {
		if pt.fields[i].key == key {
			obj := pt.fields[i].raw
			v.ForEach(func(k, v gjson.Result) bool {
				obj = string(openai.WithMember(obj, k.Str, []byte(v.Raw)))
				return true
			})
			pt.fields[i].raw = obj
			return
		}
	}
	pt.fields = append(pt.fields, field{key: key, raw: strings.Clone(v.Raw)})
}

// setValue sets a member to its latest value, unless that is null or "".
func setValue(fields []field, key string, v gjson.Result) []field {
	if v.Type == gjson.Null || v.Type == gjson.String && v.Str == "" {
		return fields
	}
	return setField(fields, key, v.Raw)
}

// eachElement calls fn with each element of an array and its place; an
// object is a list of one, as the instrumentor reads a Mapping where it
// expects a list; anything else, of none.
func eachElement(v gjson.Result, fn func(pos int, e gjson.Result)) {
	if v.IsObject() {
		fn(0, v)
		return
	}
	if !v.IsArray() {
		return
	}
	pos := 0
	v.ForEach(func(_, e gjson.Result) bool {
		fn(pos, e)
		pos++
		return true
	})
}

// isEmpty reports whether an object or array has no members.
func isEmpty(v gjson.Result) bool {
	empty := true
	v.ForEach(func(_, _ gjson.Result) bool { empty = false; return false })
	return empty
}

// Done reports whether a candidate's finishReason, or a promptFeedback's
// blockReason, has passed.
func (a *GeminiAccumulator) Done() bool { return a.done }

// Err is the raw JSON of the stream's error chunk ({"error":{...}}), or "".
func (a *GeminiAccumulator) Err() string { return a.err }

// Result is the GenerateContentResponse as the stream built it so far.
func (a *GeminiAccumulator) Result() []byte {
	out := []byte(`{"candidates":[`)
	for i, c := range a.candidates {
		if i > 0 {
			out = append(out, ',')
		}
		out = c.appendJSON(out)
	}
	out = append(out, ']')
	if len(a.usage) > 0 {
		out = append(out, `,"usageMetadata":`...)
		out = appendFields(append(out, '{'), a.usage)
		out = append(out, '}')
	}
	for _, f := range a.fields {
		out = appendField(append(out, ','), f)
	}
	return append(out, '}')
}

// appendJSON appends the candidate: its content first, with every part
// that holds something.
func (c *geminiCandidate) appendJSON(b []byte) []byte {
	b = append(b, `{"content":{"parts":[`...)
	n := 0
	for _, p := range c.parts {
		if p.n == 0 && len(p.fields) == 0 {
			continue // only empty text came: the instrumentor drops it
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = p.appendJSON(b)
	}
	b = append(b, ']')
	for _, f := range c.content {
		b = appendField(append(b, ','), f)
	}
	b = append(b, '}')
	for _, f := range c.fields {
		b = appendField(append(b, ','), f)
	}
	return append(b, '}')
}

// appendJSON appends the part: its joined text first, then its other
// members.
func (pt *geminiPart) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if pt.n > 0 {
		b = append(b, `"text":`...)
		if pt.n == 1 {
			b = append(b, pt.raw...)
		} else {
			b = openai.AppendJSONString(b, string(pt.text))
		}
		if len(pt.fields) > 0 {
			b = append(b, ',')
		}
	}
	return append(appendFields(b, pt.fields), '}')
}

// appendFields appends members, comma-separated.
func appendFields(b []byte, fields []field) []byte {
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendField(b, f)
	}
	return b
}

func appendField(b []byte, f field) []byte {
	b = openai.AppendJSONString(b, f.key)
	b = append(b, ':')
	return append(b, f.raw...)
}
