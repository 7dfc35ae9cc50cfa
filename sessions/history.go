package sessions

import (
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cespare/xxhash/v2"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// history hashes a conversation one message at a time, in a normal form
// that survives what a client changes when it sends the model's answer
// back as history: after each message, the running hash is the hash of
// the whole conversation so far (an xxhash digest is summed without being
// reset, so each prefix costs only its own bytes).
//
// The normal form is a message's role and its parts in order: texts (the
// string form and a list of text parts alike; consecutive text parts as
// one; whitespace at either end of the run dropped), tool calls as name
// and arguments (parsed and written with sorted keys, so that spacing and
// key order do not count; call ids do not count at all), and anything else
// as its canonical JSON without the members that are bookkeeping
// (cache_control, ids, status). Reasoning (Anthropic's thinking blocks,
// the Responses API's reasoning items, Gemini's thought parts) is left out:
// clients drop it from the history they send, or send it back encrypted.
type history struct {
	d xxhash.Digest

	// candidates are the hashes of the prefixes that end with one of the
	// model's own messages: the only places where a conversation can be
	// recognised (a prefix of only the client's messages, such as a shared
	// system prompt and first message, proves nothing).
	candidates []uint64
	messages   int // messages written

	role    string
	model   bool // the message being written is the model's
	run     bool // inside a run of text parts
	started bool // the run has written text
	pending string
	scratch []byte
	one     [1]byte

	// texts holds the strings read from the call's JSON that had escapes,
	// unescaped (value's str), until the message they were read for ends
	// (every str is read for one message, and none is used after its
	// end); kv the members of the objects canonical is writing.
	texts []byte
	kv    []member

	// ends indexes the call's body when the handler made one as it
	// checked it (Call.Index): the walks below jump over what they skip
	// through it.
	ends *jsonbound.Ends
}

// members, objects and elements are membersIn, objectsIn and elementsIn
// through the body's index when there is one.
func (h *history) members(v value, fn func(key string, v value) bool) { membersIn(h.ends, v, fn) }

func (h *history) objects(v value, member func(key string, v value), done func(e value)) {
	objectsIn(h.ends, v, member, done)
}

func (h *history) elements(v value, fn func(e value) bool) { elementsIn(h.ends, v, fn) }

// member is one member of an object, as canonical sorts them.
type member struct {
	k string
	v value
}

// maxKept bounds the buffers a history keeps from one call to the next.
const maxKept = 1 << 20

// Separators: no text or JSON written here contains them where they would
// make two different conversations write the same bytes.
const (
	sepRole    = 0x01
	sepPart    = 0x02
	sepMessage = 0x03
)

func (h *history) reset() {
	if cap(h.texts) > maxKept {
		h.texts = nil
	}
	if cap(h.scratch) > maxKept {
		h.scratch = nil
	}
	h.texts, h.kv = h.texts[:0], h.kv[:0]
	h.d.Reset()
	h.candidates = h.candidates[:0]
	h.messages = 0
	h.role, h.model, h.run, h.started, h.pending = "", false, false, false, ""
	h.ends = nil
}

// begin starts a message of role; model marks one the model wrote.
func (h *history) begin(role string, model bool) {
	h.role, h.model = role, model
	h.write(sepRole)
	h.writeString(role)
}

// end ends the message, and notes the conversation's hash if the model
// wrote it.
func (h *history) end() {
	h.closeText()
	h.texts = h.texts[:0] // the message's strings are written: one buffer serves every message
	h.write(sepMessage)
	h.messages++
	if h.model {
		h.candidates = append(h.candidates, h.d.Sum64())
	}
}

// sum is the hash of the conversation so far.
func (h *history) sum() uint64 { return h.d.Sum64() }

// text adds a text part: one run with the text parts next to it.
func (h *history) text(s string) {
	h.run = true
	if !h.started {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return
		}
		h.write(sepPart)
		h.write('t')
		h.started = true
	}
	t := strings.TrimRight(s, " \t\r\n")
	if t == "" {
		h.pending += s // rare: a part of whitespace between two others
		return
	}
	if h.pending != "" {
		h.writeString(h.pending)
	}
	h.writeString(t)
	h.pending = s[len(t):]
}

func (h *history) closeText() {
	h.run, h.started, h.pending = false, false, ""
}

// part adds a part of a kind other than text, its value as given.
func (h *history) part(kind byte, value string) {
	h.closeText()
	h.write(sepPart)
	h.write(kind)
	h.writeString(value)
}

// json adds a part whose value is JSON, in canonical form, without the
// members named in skip at its top level.
func (h *history) json(kind byte, v value, skip ...string) {
	h.scratch = h.canonical(h.scratch[:0], v, skip)
	h.closeText()
	h.write(sepPart)
	h.write(kind)
	_, _ = h.d.Write(h.scratch)
}

// toolCall adds a call the model made of a tool: its name and arguments
// (an object, or a string of JSON as OpenAI's APIs send it); its id does
// not count, since clients may make their own.
func (h *history) toolCall(name string, args value) {
	h.part('c', name)
	if args.isString() {
		if a := strings.TrimSpace(h.str(args)); a != "" && jsonbound.Valid(unsafe.Slice(unsafe.StringData(a), len(a))) {
			args = parse(a)
		} else {
			h.part('a', a)
			return
		}
	}
	h.json('a', args)
}

func (h *history) write(b byte) {
	h.one[0] = b
	_, _ = h.d.Write(h.one[:])
}

func (h *history) writeString(s string) { _, _ = h.d.WriteString(s) }

// canonical appends v as JSON with object keys sorted, strings unescaped
// and numbers in their shortest form, without the members named in skip at
// its top level; an absent value as null. v is at most jsonbound.MaxDepth
// deep (the request was checked, and so is any JSON read out of one of its
// strings).
func (h *history) canonical(dst []byte, v value, skip []string) []byte {
	switch {
	case v.isString():
		return appendQuote(dst, h.str(v))
	case v.isNumber():
		return strconv.AppendFloat(dst, v.num(), 'g', -1, 64)
	case v == "" || v.isNull():
		return append(dst, "null"...)
	case v[0] == 't':
		return append(dst, "true"...)
	case v[0] == 'f':
		return append(dst, "false"...)
	case v.isArray():
		dst = append(dst, '[')
		i := 0
		h.elements(v, func(e value) bool {
			if i > 0 {
				dst = append(dst, ',')
			}
			i++
			dst = h.canonical(dst, e, nil)
			return true
		})
		return append(dst, ']')
	case v.isObject():
		start := len(h.kv)
		h.members(v, func(k string, e value) bool {
			if !slices.Contains(skip, k) {
				h.kv = append(h.kv, member{k, e})
			}
			return true
		})
		end := len(h.kv)
		slices.SortFunc(h.kv[start:end], func(a, b member) int { return strings.Compare(a.k, b.k) })
		dst = append(dst, '{')
		for i := start; i < end; i++ {
			if i > start {
				dst = append(dst, ',')
			}
			m := h.kv[i]
			dst = appendQuote(dst, m.k)
			dst = append(dst, ':')
			dst = h.canonical(dst, m.v, nil)
		}
		h.kv = h.kv[:start]
		return append(dst, '}')
	}
	return dst // nothing: a value of no kind JSON has
}
