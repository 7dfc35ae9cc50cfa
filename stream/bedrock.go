package stream

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

var (
	_ Accumulator = (*ConverseStreamAccumulator)(nil)
	_ Accumulator = (*InvokeStreamAccumulator)(nil)
)

// ConverseStreamAccumulator merges a Bedrock ConverseStream, its events as
// EventStream's Data carries them ({"<eventType>": <payload>}), into the
// ConverseResponse they make up, as openinference-instrumentation-bedrock
// accumulates one (_converse_stream_callback.py, _ConverseStreamCallback),
// so that a stream's result reads as a whole Converse answer:
//
//	{"output":{"message":{"role":"assistant","content":[...]}},
//	 "stopReason":"end_turn","usage":{...},"metrics":{"latencyMs":...}}
//
// The events merge so:
//
//   - messageStart gives the role ("assistant" when none came).
//   - Content blocks are kept by contentBlockIndex: contentBlockStart's
//     start (toolUse's toolUseId and name; toolResult, image) begins one,
//     and contentBlockDelta's deltas add to it: text joined; toolUse input
//     fragments joined, the input in the result parsed JSON ({} when none
//     came; the joined string when it is not JSON); reasoningContent's
//     text and signature joined into reasoningText, its redactedContent
//     fragments (base64) joined as bytes. Beyond the instrumentor, which
//     drops them: citation deltas make the block a citationsContent (its
//     text, the citations), toolResult deltas the tool result's content,
//     image deltas the image's members. A start of a kind not known here
//     passes as it came.
//   - messageStop's stopReason (and additionalModelResponseFields), and
//     metadata's usage, metrics (and trace, performanceConfig,
//     serviceTier) are top-level members, the last seen of each; Bedrock's
//     padding member "p" is dropped.
//   - An exception ({"<name>Exception": {...}}, or an error message's
//     {"error": {...}}) is kept for Err, not merged.
//
// Where it differs from the instrumentor: blocks are placed by their index
// (it appends a started block to its list, wherever the index says), the
// tool input is parsed when the result is read (it parses at
// contentBlockStop, and keeps a string when the stop never came), and an
// exception is not copied into the output (it merges exception members into
// "output", though boto3 raises them rather than yielding them). The zero
// value is ready to use.
type ConverseStreamAccumulator struct {
	role    string // raw JSON of messageStart's role
	blocks  []*converseBlock
	stop    []field // messageStop's members but "p"
	meta    []field // metadata's members but "p"
	err     string
	started bool
	stopped bool // messageStop has passed
	hasMeta bool // metadata has passed
}

type converseBlock struct {
	index int
	start string // raw JSON of contentBlockStart's start, or ""
	// text, tool input, reasoning text and signature joined.
	text, input, reasoning, signature             []byte
	hasText, hasInput, hasReasoning, hasSignature bool
	redacted                                      []string // redactedContent fragments, base64
	citations                                     []string // raw citation deltas
	results                                       []*resultPart
	image                                         []field // image delta members
}

// resultPart is one element of a tool result's content: text joined
// across deltas, or a raw JSON element.
type resultPart struct {
	text   []byte
	isText bool
	raw    string
}

// Add merges one event's data. It reports the first event to carry a
// token: text, a tool's input, reasoning text or redacted reasoning.
func (a *ConverseStreamAccumulator) Add(data []byte) (firstToken bool, err error) {
	if !jsonbound.Valid(data) {
		return false, ErrBadChunk
	}
	ev := jsonbound.ParseInPlace(data)
	if !ev.IsObject() {
		return false, ErrBadChunk
	}
	carried := false
	ev.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "messageStart":
			if r := v.Get("role"); r.Type == gjson.String {
				a.role = strings.Clone(r.Raw)
			}
		case "contentBlockStart":
			if s := v.Get("start"); s.IsObject() {
				a.block(v).start = strings.Clone(s.Raw)
			}
		case "contentBlockDelta":
			if d := v.Get("delta"); d.IsObject() {
				carried = a.block(v).add(d) || carried
			}
		case "contentBlockStop":
		case "messageStop":
			a.stopped = true
			a.stop = setMembers(a.stop, v)
		case "metadata":
			a.hasMeta = true
			a.meta = setMembers(a.meta, v)
		default:
			if bedrockError(k.Str) {
				a.err = errMember(k, v)
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

// bedrockError reports whether an event's member names an error rather
// than an event: an exception (AWS names them ...Exception), or an error
// message's "error" (see EventStream).
func bedrockError(member string) bool {
	const suffix = "exception"
	return member == "error" || len(member) >= len(suffix) && strings.EqualFold(member[len(member)-len(suffix):], suffix)
}

// errMember is the error as Err reports it: an object of its one member,
// named after the exception.
func errMember(k, v gjson.Result) string {
	return string(openai.AppendMember([]byte{'{'}, k, v)) + "}"
}

// setMembers sets an event's members, but for the padding "p", to their
// latest value; anything but an object has none.
func setMembers(fields []field, v gjson.Result) []field {
	if !v.IsObject() {
		return fields
	}
	v.ForEach(func(k, v gjson.Result) bool {
		if k.Str != "p" && v.Type != gjson.Null {
			fields = setField(fields, k.Str, v.Raw)
		}
		return true
	})
	return fields
}

func (a *ConverseStreamAccumulator) block(ev gjson.Result) *converseBlock {
	index := int(ev.Get("contentBlockIndex").Int())
	var b *converseBlock
	a.blocks, b = byIndex(a.blocks, index, func(b *converseBlock) int { return b.index },
		func() *converseBlock { return &converseBlock{index: index} })
	return b
}

// add merges one delta into the block and reports whether it carried a
// token.
func (b *converseBlock) add(d gjson.Result) (carried bool) {
	d.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "text":
			b.text, b.hasText = append(b.text, v.Str...), true
			carried = carried || v.Str != ""
		case "toolUse":
			in := v.Get("input").Str
			b.input, b.hasInput = append(b.input, in...), true
			carried = carried || in != ""
		case "reasoningContent":
			if !v.IsObject() {
				return true
			}
			v.ForEach(func(k, v gjson.Result) bool {
				switch k.Str {
				case "text":
					b.reasoning, b.hasReasoning = append(b.reasoning, v.Str...), true
					carried = carried || v.Str != ""
				case "signature":
					b.signature, b.hasSignature = append(b.signature, v.Str...), true
				case "redactedContent":
					b.redacted = append(b.redacted, strings.Clone(v.Str))
					carried = carried || v.Str != ""
				}
				return true
			})
		case "citation":
			if v.IsObject() {
				b.citations = append(b.citations, strings.Clone(v.Raw))
			}
		case "toolResult":
			eachElement(v, func(_ int, e gjson.Result) { b.addResult(e) })
		case "image":
			b.image = setMembers(b.image, v)
		}
		return true
	})
	return carried
}

// addResult merges one toolResult delta: text joins the text before it.
func (b *converseBlock) addResult(e gjson.Result) {
	if !e.IsObject() {
		return
	}
	if t := e.Get("text"); t.Type == gjson.String {
		if n := len(b.results); n > 0 && b.results[n-1].isText {
			b.results[n-1].text = append(b.results[n-1].text, t.Str...)
			return
		}
		b.results = append(b.results, &resultPart{text: []byte(t.Str), isText: true})
		return
	}
	b.results = append(b.results, &resultPart{raw: strings.Clone(e.Raw)})
}

// Done reports whether messageStop and metadata, the stream's last two
// events, have passed: metadata carries the usage, so a stream that ends
// without it is not whole for tracing.
func (a *ConverseStreamAccumulator) Done() bool { return a.stopped && a.hasMeta }

// Err is the stream's exception, {"<name>": {"message": ...}}, or "".
func (a *ConverseStreamAccumulator) Err() string { return a.err }

// Result is the ConverseResponse as the stream built it so far.
func (a *ConverseStreamAccumulator) Result() []byte {
	role := a.role
	if role == "" {
		role = `"assistant"`
	}
	out := append([]byte(`{"output":{"message":{"role":`), role...)
	out = append(out, `,"content":[`...)
	for i, b := range a.blocks {
		if i > 0 {
			out = append(out, ',')
		}
		out = b.appendJSON(out)
	}
	out = append(out, "]}}"...)
	for _, f := range a.stop {
		out = appendField(append(out, ','), f)
	}
	for _, f := range a.meta {
		out = appendField(append(out, ','), f)
	}
	return append(out, '}')
}

// appendJSON appends the block as a ContentBlock: a union, one member in
// practice (all of them if deltas of several kinds came).
func (b *converseBlock) appendJSON(out []byte) []byte {
	start := gjson.Parse(b.start)
	out = append(out, '{')
	var written []string
	member := func(key string, value []byte) {
		written = append(written, key)
		if out[len(out)-1] != '{' {
			out = append(out, ',')
		}
		out = openai.AppendJSONString(out, key)
		out = append(append(out, ':'), value...)
	}
	text := openai.AppendJSONString(nil, string(b.text))
	switch {
	case len(b.citations) > 0:
		c := append([]byte(`{"content":[{"text":`), text...)
		c = append(c, `}],"citations":[`...)
		c = append(c, strings.Join(b.citations, ",")...)
		member("citationsContent", append(c, "]}"...))
	case b.hasText:
		member("text", text)
	}
	if tu := start.Get("toolUse"); tu.IsObject() || b.hasInput {
		member("toolUse", openai.WithMember(objectOr(tu), "input", toolInput(b.input)))
	}
	if tr := start.Get("toolResult"); tr.IsObject() || len(b.results) > 0 {
		content := []byte{'['}
		for i, r := range b.results {
			if i > 0 {
				content = append(content, ',')
			}
			if r.isText {
				content = openai.AppendJSONString(append(content, `{"text":`...), string(r.text))
				content = append(content, '}')
			} else {
				content = append(content, r.raw...)
			}
		}
		member("toolResult", openai.WithMember(objectOr(tr), "content", append(content, ']')))
	}
	if im := start.Get("image"); im.IsObject() || len(b.image) > 0 {
		obj := objectOr(im)
		for _, f := range b.image {
			obj = string(openai.WithMember(obj, f.key, []byte(f.raw)))
		}
		member("image", []byte(obj))
	}
	if b.hasReasoning || b.hasSignature || len(b.redacted) > 0 {
		r := []byte{'{'}
		if b.hasReasoning || b.hasSignature {
			r = append(r, `"reasoningText":{`...)
			if b.hasReasoning {
				r = openai.AppendJSONString(append(r, `"text":`...), string(b.reasoning))
			}
			if b.hasSignature {
				if b.hasReasoning {
					r = append(r, ',')
				}
				r = openai.AppendJSONString(append(r, `"signature":`...), string(b.signature))
			}
			r = append(r, '}')
		}
		if len(b.redacted) > 0 {
			if len(r) > 1 {
				r = append(r, ',')
			}
			r = openai.AppendJSONString(append(r, `"redactedContent":`...), joinBase64(b.redacted))
		}
		member("reasoningContent", append(r, '}'))
	}
	start.ForEach(func(k, v gjson.Result) bool {
		if !slices.Contains(written, k.Str) && k.Str != "toolUse" && k.Str != "toolResult" && k.Str != "image" {
			member(k.Str, []byte(v.Raw)) // a kind of block not known here
		}
		return true
	})
	return append(out, '}')
}

// objectOr is an object's raw JSON, or {} for anything else.
func objectOr(v gjson.Result) string {
	if v.IsObject() {
		return v.Raw
	}
	return "{}"
}

// toolInput is a tool's input as a ContentBlock holds it: its joined
// fragments when they make JSON, {} when there are none, else the
// fragments as a string, so that the result stays JSON.
func toolInput(in []byte) []byte {
	switch {
	case len(strings.TrimSpace(string(in))) == 0:
		return []byte("{}")
	case jsonbound.Valid(in):
		return in
	}
	return openai.AppendJSONString(nil, string(in))
}

// joinBase64 joins base64 fragments as the bytes they encode, or, when one
// is not base64, as the strings they are.
func joinBase64(parts []string) string {
	var joined []byte
	for _, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return strings.Join(parts, "")
		}
		joined = append(joined, b...)
	}
	return base64.StdEncoding.EncodeToString(joined)
}

// InvokeStreamAccumulator merges a Bedrock InvokeModelWithResponseStream
// into the answer InvokeModel would have given, in the model's own format.
// Each event is a chunk, {"chunk": {"bytes": "<base64>"}} as EventStream's
// Data carries it, whose bytes are the model's own JSON event. The
// family's events are read as openinference-instrumentation-bedrock's
// callbacks read them (_wrappers.py, _InvokeModelWithResponseStream); it
// picks its callback from the request (anthropic_version in the body,
// "amazon.nova" or "openai." in the model id), but an accumulator sees only
// the stream, so the first chunk's shape tells the family, and every chunk
// goes to that family's accumulator:
//
//   - Anthropic Claude (Messages stream events, "type": "message_start",
//     …): an AnthropicAccumulator; the result is the Messages answer.
//   - Amazon Nova (ConverseStream-shaped events, {"contentBlockDelta":
//     {...}}): a ConverseStreamAccumulator; the result is Nova's answer
//     ({"output": {"message": ...}, "stopReason", "usage"}), with usage's
//     totalTokens, which Nova's stream leaves out, the sum of its input and
//     output tokens, as the instrumentor derives it.
//   - OpenAI models (chat.completion.chunk, choices with deltas): a
//     ChatAccumulator.
//   - Any other family (Meta Llama, Mistral, Cohere, Amazon Titan, legacy
//     Claude Text Completions), which the instrumentor does not read at
//     all: the chunks' members merged, the last value of each winning, but
//     the text members (generation, outputText, completion, text, and
//     outputs[i].text) joined: the shape of each family's InvokeModel
//     answer.
//
// Bedrock adds amazon-bedrock-invocationMetrics (inputTokenCount,
// outputTokenCount, invocationLatency, firstByteLatency) to the last
// chunk; the result carries it as a top-level member, for token counts when
// the model's own usage has none (the instrumentor's Anthropic callback
// counts tokens from it, then from the message's usage when that has
// them). An exception is kept for Err. The zero value is ready to use.
type InvokeStreamAccumulator struct {
	family    invokeFamily
	anthropic AnthropicAccumulator
	converse  ConverseStreamAccumulator
	chat      ChatAccumulator
	other     mergedChunks
	metrics   string // raw amazon-bedrock-invocationMetrics
	err       string
}

type invokeFamily uint8

const (
	familyUnknown invokeFamily = iota
	familyAnthropic
	familyConverse
	familyChat
	familyOther
)

// invocationMetrics is the member Bedrock adds to a stream's last chunk.
const invocationMetrics = "amazon-bedrock-invocationMetrics"

// Add merges one event's data: a chunk, or an exception.
func (a *InvokeStreamAccumulator) Add(data []byte) (firstToken bool, err error) {
	if !jsonbound.Valid(data) {
		return false, ErrBadChunk
	}
	ev := jsonbound.ParseInPlace(data) // nothing of it is kept but the decoded chunk
	if !ev.IsObject() {
		return false, ErrBadChunk
	}
	ev.ForEach(func(k, v gjson.Result) bool {
		switch {
		case k.Str == "chunk":
			b := v.Get("bytes")
			chunk, derr := base64.StdEncoding.DecodeString(b.Str)
			if b.Type != gjson.String || derr != nil {
				err = ErrBadChunk
				return true
			}
			var first bool
			first, err = a.addChunk(chunk)
			firstToken = firstToken || first
		case bedrockError(k.Str):
			a.err = errMember(k, v)
		}
		return true
	})
	return firstToken, err
}

// addChunk merges one decoded model event.
func (a *InvokeStreamAccumulator) addChunk(chunk []byte) (firstToken bool, err error) {
	if !jsonbound.Valid(chunk) {
		return false, ErrBadChunk
	}
	c := jsonbound.ParseInPlace(chunk) // decoded for this event alone: what is kept of it may alias it
	if !c.IsObject() {
		return false, ErrBadChunk
	}
	if m := c.Get(invocationMetrics); m.IsObject() {
		a.metrics = m.Raw
	}
	if a.family == familyUnknown {
		a.family = familyOf(c)
	}
	switch a.family {
	case familyAnthropic:
		return a.anthropic.Add(chunk)
	case familyConverse:
		return a.converse.Add(chunk)
	case familyChat:
		return a.chat.Add(chunk)
	}
	return a.other.add(c), nil
}

// familyOf tells a model family by its first event.
func familyOf(c gjson.Result) invokeFamily {
	switch c.Get("type").Str {
	case "message_start", "content_block_start", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop", "ping", "error":
		return familyAnthropic
	}
	family := familyOther
	c.ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop", "messageStop", "metadata":
			family = familyConverse
		case "choices":
			if first := v.Get("0"); first.Get("delta").Exists() || first.Get("text").Exists() || c.Get("object").Str == "chat.completion.chunk" {
				family = familyChat
			}
		}
		return family == familyOther
	})
	return family
}

// Done reports whether the last chunk, the one with Bedrock's invocation
// metrics, has passed, or the family's own last event.
func (a *InvokeStreamAccumulator) Done() bool {
	if a.metrics != "" {
		return true
	}
	switch a.family {
	case familyAnthropic:
		return a.anthropic.Done()
	case familyConverse:
		return a.converse.Done()
	}
	return false
}

// Err is the stream's exception ({"<name>": {"message": ...}}), or the
// error event of the model's own stream, or "".
func (a *InvokeStreamAccumulator) Err() string {
	if a.err != "" {
		return a.err
	}
	switch a.family {
	case familyAnthropic:
		return a.anthropic.Err()
	case familyConverse:
		return a.converse.Err()
	case familyChat:
		return a.chat.Err()
	}
	return ""
}

// Result is the model's answer as the stream built it so far, with the
// invocation metrics once they came.
func (a *InvokeStreamAccumulator) Result() []byte {
	var out []byte
	switch a.family {
	case familyAnthropic:
		out = a.anthropic.Result()
	case familyConverse:
		out = withTotalTokens(a.converse.Result())
	case familyChat:
		out = a.chat.Result()
	case familyOther:
		out = a.other.result()
	default:
		out = []byte("{}")
	}
	if a.metrics != "" {
		out = openai.WithMember(string(out), invocationMetrics, []byte(a.metrics))
	}
	return out
}

// withTotalTokens adds usage.totalTokens, the sum of inputTokens and
// outputTokens, when a response's usage lacks it.
func withTotalTokens(resp []byte) []byte {
	usage := gjson.GetBytes(resp, "usage")
	in, out := usage.Get("inputTokens"), usage.Get("outputTokens")
	if !usage.IsObject() || usage.Get("totalTokens").Exists() || in.Type != gjson.Number || out.Type != gjson.Number {
		return resp
	}
	total := strconv.AppendInt(nil, in.Int()+out.Int(), 10)
	return openai.WithMember(string(resp), "usage", openai.WithMember(usage.Raw, "totalTokens", total))
}

// mergedChunks merges the chunks of a model family read by no other
// accumulator: members take their last value (null and "" never replace
// one), text members are joined.
type mergedChunks struct {
	fields  []field // in order of first appearance; text members hold ""
	texts   []mergedText
	outputs []*mergedOutput // Mistral's outputs, by place
	started bool
}

type mergedText struct {
	key  string
	text []byte
}

type mergedOutput struct {
	text    []byte
	hasText bool
	fields  []field
}

// textMembers are the members that stream text in the families
// mergedChunks reads: Llama's generation, Titan's outputText, Claude Text
// Completions' completion, Cohere's text.
var textMembers = [...]string{"generation", "outputText", "completion", "text"}

// add merges one chunk and reports whether it carried the first token.
func (m *mergedChunks) add(c gjson.Result) (firstToken bool) {
	carried := false
	c.ForEach(func(k, v gjson.Result) bool {
		switch {
		case k.Str == invocationMetrics:
			return true // the accumulator adds the last
		case k.Str == "outputs" && v.IsArray():
			m.fields = setField(m.fields, k.Str, "[]")
			eachElement(v, func(pos int, o gjson.Result) {
				if o.IsObject() {
					carried = m.output(pos).add(o) || carried
				}
			})
			return true
		case v.Type == gjson.String && isTextMember(k.Str):
			m.fields = setField(m.fields, k.Str, `""`)
			m.appendText(k.Str, v.Str)
			carried = carried || v.Str != ""
			return true
		}
		m.fields = setValue(m.fields, k.Str, v)
		return true
	})
	if carried && !m.started {
		m.started = true
		return true
	}
	return false
}

func isTextMember(key string) bool {
	for _, t := range textMembers {
		if key == t {
			return true
		}
	}
	return false
}

func (m *mergedChunks) appendText(key, s string) {
	for i := range m.texts {
		if m.texts[i].key == key {
			m.texts[i].text = append(m.texts[i].text, s...)
			return
		}
	}
	m.texts = append(m.texts, mergedText{key: key, text: []byte(s)})
}

func (m *mergedChunks) output(pos int) *mergedOutput {
	for len(m.outputs) <= pos {
		m.outputs = append(m.outputs, &mergedOutput{})
	}
	return m.outputs[pos]
}

func (o *mergedOutput) add(v gjson.Result) (carried bool) {
	v.ForEach(func(k, v gjson.Result) bool {
		if k.Str == "text" && v.Type == gjson.String {
			o.text, o.hasText = append(o.text, v.Str...), true
			carried = carried || v.Str != ""
			return true
		}
		o.fields = setValue(o.fields, k.Str, v)
		return true
	})
	return carried
}

// result is the merged answer.
func (m *mergedChunks) result() []byte {
	out := []byte{'{'}
	for i, f := range m.fields {
		if i > 0 {
			out = append(out, ',')
		}
		switch {
		case f.key == "outputs" && f.raw == "[]":
			out = append(openai.AppendJSONString(out, f.key), ":["...)
			for j, o := range m.outputs {
				if j > 0 {
					out = append(out, ',')
				}
				out = append(out, '{')
				if o.hasText {
					out = openai.AppendJSONString(append(out, `"text":`...), string(o.text))
					if len(o.fields) > 0 {
						out = append(out, ',')
					}
				}
				out = append(appendFields(out, o.fields), '}')
			}
			out = append(out, ']')
		case f.raw == `""` && isTextMember(f.key):
			out = append(openai.AppendJSONString(out, f.key), ':')
			out = openai.AppendJSONString(out, string(m.text(f.key)))
		default:
			out = appendField(out, f)
		}
	}
	return append(out, '}')
}

func (m *mergedChunks) text(key string) []byte {
	for _, t := range m.texts {
		if t.key == key {
			return t.text
		}
	}
	return nil
}
