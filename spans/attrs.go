package spans

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// Attrs collects the attributes of one span before they are set in one call.
// The zero value is ready to use.
type Attrs struct {
	kv []attribute.KeyValue
	// body is the request End reads, kept here (the Recorder pools Attrs)
	// rather than made per call.
	body requestBody
	// idx, when set, is ends: the index of a large request's body, which
	// forEach and get use to jump over what they skip.
	idx  *jsonbound.Ends
	ends jsonbound.Ends
}

// IndexFrom is the size from which a request's body is indexed (one pass,
// or none when Request.Index lends one) before it is mapped: below it, the
// passes the index saves cost less than the one it takes.
const IndexFrom = 16 << 10

// index has forEach and get use an index of doc, the request's body.
func (a *Attrs) index(doc string) {
	a.ends.Index(doc)
	a.idx = &a.ends
	// Room for the attributes at once, where appending grew the slice a
	// dozen times: a mapping records a few for each object of a request
	// (a message, a content block, a tool call) and one for each list.
	a.kv = slices.Grow(a.kv, 2*a.ends.Containers())
}

// useIndex has forEach and get use idx, an index of the request's body
// lent by the handler (Request.Index).
func (a *Attrs) useIndex(idx *jsonbound.Ends) {
	a.idx = idx
	a.kv = slices.Grow(a.kv, 2*idx.Containers())
}

// forEach is jsonbound.ForEach, through the body's index if there is one.
func (a *Attrs) forEach(t gjson.Result, iterator func(key, value gjson.Result) bool) {
	a.idx.ForEach(t, iterator)
}

// get is jsonbound.Get, through the body's index if there is one.
func (a *Attrs) get(t gjson.Result, key string) gjson.Result { return a.idx.Get(t, key) }

// String adds a string attribute.
func (a *Attrs) String(key, v string) { a.kv = append(a.kv, attribute.String(key, v)) }

// Int adds an integer attribute.
func (a *Attrs) Int(key string, v int64) { a.kv = append(a.kv, attribute.Int64(key, v)) }

// KeyValues returns what was added, in order.
func (a *Attrs) KeyValues() []attribute.KeyValue { return a.kv }

// stringIf adds key when v is a JSON string (an empty string included, as
// the instrumentor records any value that is not None).
func (a *Attrs) stringIf(key string, v gjson.Result) {
	if v.Type == gjson.String {
		a.String(key, v.Str)
	}
}

// hasMembers reports whether v is an object with members: in checked JSON,
// anything but space between its braces.
func hasMembers(v gjson.Result) bool {
	return v.IsObject() && strings.TrimSpace(v.Raw[1:len(v.Raw)-1]) != ""
}

// intIf adds key when v is a JSON number.
func (a *Attrs) intIf(key string, v gjson.Result) {
	if v.Type == gjson.Number {
		a.Int(key, v.Int())
	}
}

// indexed builds "prefix.i.suffix", the shape of every list attribute. The
// keys of the first elements of the top-level lists come ready-made from
// keyCache: most spans use no others, and each would be an allocation.
func indexed(prefix string, i int, suffix string) string {
	if keys, ok := keyCache[keyPair{prefix, suffix}]; ok && i >= 0 && i < len(keys) {
		return keys[i]
	}
	var ib [20]byte // formatted on the stack: strconv.Itoa allocates from 100 on
	return prefix + "." + string(strconv.AppendInt(ib[:0], int64(i), 10)) + "." + suffix
}

// messageListKey builds list.i.sub.j.suffix, the key of an attribute of
// element j of a list (sub: its contents, its tool calls) of message i of
// list (llm.input_messages, llm.output_messages), in one allocation.
func messageListKey(list string, i int, sub string, j int, suffix string) string {
	var ib, jb [20]byte
	return list + "." + string(strconv.AppendInt(ib[:0], int64(i), 10)) + "." + sub + "." +
		string(strconv.AppendInt(jb[:0], int64(j), 10)) + "." + suffix
}

// How many elements of each list keyCache covers: a coding agent's history
// runs to hundreds of messages (about 230 KB of keys for the messages'
// lists), the other lists rarely past a few.
const (
	cachedMessages = 256
	cachedIndices  = 64
)

type keyPair struct{ prefix, suffix string }

// keyCache is built once and only read.
var keyCache = func() map[keyPair][]string {
	m := map[keyPair][]string{}
	add := func(p keyPair, n int) {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = p.prefix + "." + strconv.Itoa(i) + "." + p.suffix
		}
		m[p] = keys
	}
	for _, p := range []keyPair{
		{KeyLLMTools, SuffixToolJSONSchema},
		{KeyLLMPrompts, SuffixPromptText},
		{KeyLLMChoices, SuffixCompletionText},
		{KeyEmbeddingEmbeddings, SuffixEmbeddingText},
		{KeyEmbeddingEmbeddings, SuffixEmbeddingVector},
	} {
		add(p, cachedIndices)
	}
	for _, list := range []string{KeyLLMInputMessages, KeyLLMOutputMessages} {
		for _, suffix := range []string{SuffixMessageRole, SuffixMessageContent, SuffixMessageName,
			SuffixMessageToolCallID, SuffixMessageContents, SuffixMessageToolCalls,
			SuffixMessageFunctionCallName, SuffixMessageFunctionCallArgs} {
			add(keyPair{list, suffix}, cachedMessages)
		}
	}
	return m
}()

// requestBody is what the mappings read of a request: its top-level
// members, found in one pass over the body (each gjson Get would scan it
// again), and its invocation parameters.
type requestBody struct {
	// params is the request without the operation's dropped members, its
	// other members' raw bytes copied as they came.
	params string
	obj    gjson.Result // the whole request
	// pathModel is the model the request's path names (Gemini's, Vertex
	// AI's, Bedrock's), for the APIs whose body names none.
	pathModel                                                                   string
	model, messages, tools, prompt, input, instructions, system, user, metadata gjson.Result
	litellmMetadata                                                             gjson.Result
}

// readRequest reads a request object's top-level members.
func readRequest(a *Attrs, obj gjson.Result, drop ...string) requestBody {
	r := requestBody{obj: obj}
	// The parameters are built on the stack (the invocation parameters of
	// a call are small once its messages and tools are dropped), then
	// copied once into their string.
	var scratch [1024]byte
	buf := append(scratch[:0], '{')
	a.forEach(obj, func(k, v gjson.Result) bool {
		switch k.Str {
		case "model":
			r.model = v
		case "messages":
			r.messages = v
		case "system":
			r.system = v
		case "tools":
			r.tools = v
		case "prompt":
			r.prompt = v
		case "input":
			r.input = v
		case "instructions":
			r.instructions = v
		case "user":
			r.user = v
		case "metadata":
			r.metadata = v
		case "litellm_metadata":
			r.litellmMetadata = v
		}
		if k.Str == "litellm_metadata" {
			return true // LiteLLM's, recorded as context, not a parameter
		}
		if slices.Contains(drop, k.Str) {
			return true
		}
		buf = openai.AppendMember(buf, k, v)
		return true
	})
	r.params = string(append(buf, '}'))
	return r
}

// listIndex is the position a list element is recorded at: its own "index"
// field where the API gives one (choices, embeddings), else its position.
func listIndex(elem gjson.Result, pos int) int {
	return indexOr(jsonbound.Get(elem, "index"), pos)
}

// indexOr is an element's "index" member if it is a number, else pos.
func indexOr(index gjson.Result, pos int) int {
	if index.Type == gjson.Number {
		return int(index.Int())
	}
	return pos
}
