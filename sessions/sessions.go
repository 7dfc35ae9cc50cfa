package sessions

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/phoenixproxy/llmproxy/ids"
	"github.com/phoenixproxy/llmproxy/jsonbound"

	"github.com/tidwall/gjson"
)

// Defaults of Options.
const (
	DefaultSize = 100_000
	DefaultTTL  = 24 * time.Hour
)

// Options configure a Resolver.
type Options struct {
	// Size bounds the conversations remembered (answers, and Responses
	// ids); 0 means DefaultSize.
	Size int
	// TTL is how long a conversation is remembered after its last answer;
	// 0 means DefaultTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes the id of a new session; nil means a random (version 4)
	// UUID.
	NewID func() string
	// Shared, when set, is a store the replicas share (package
	// redisstore): what the Resolver remembers goes there too, and what
	// its own memory lacks is looked up there, so that a conversation
	// whose calls reach different replicas stays one session. nil: this
	// process's memory alone.
	Shared Store
}

// maxSharedTurns bounds the hashes of one call looked up in the shared
// store: the most recent answers of its history that this process does not
// remember (a conversation none of whose last 64 answers is remembered is
// older than the stores' TTL).
const maxSharedTurns = 64

// Resolver finds the session of each call, and remembers the answers it
// saw so that the calls that continue them join their session. It is safe
// for concurrent use. A nil *Resolver infers nothing: calls get the
// sessions their fields and their clients name, no others.
type Resolver struct {
	// local maps the hash of a conversation that ends with an answer the
	// proxy relayed, and the Responses API's response and conversation
	// ids, to their sessions; shared too, when there is one.
	local  *memory
	shared Store
	newID  func() string
	pool   sync.Pool // *history
}

// New returns a Resolver with the options' bounds.
func New(o Options) *Resolver {
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = ids.UUID
	}
	return &Resolver{
		local:  newMemory(o.Size, o.TTL, o.Now),
		shared: o.Shared,
		newID:  o.NewID,
		pool:   sync.Pool{New: func() any { return new(history) }},
	}
}

// Source says where a call's session came from.
type Source string

// The sources, in order of precedence.
const (
	// FromLiteLLM: the call's own LiteLLM fields (x-session-id,
	// x-litellm-session-id, metadata's session_id…).
	FromLiteLLM Source = "litellm"
	// FromClientID: an id the client sends of its accord (Claude Code's,
	// Codex's, OpenCode's).
	FromClientID Source = "client"
	// FromChain: the Responses API response or conversation the call
	// continues.
	FromChain Source = "chain"
	// FromHistory: the conversation the call's history continues.
	FromHistory Source = "history"
	// FromNew: a conversation the proxy had not seen.
	FromNew Source = "new"
)

// Call is what a call says of itself.
type Call struct {
	// Dialect is its API's; nil for an API whose conversations are not
	// read (its session is still what its fields and client name).
	Dialect *Dialect
	Header  http.Header
	// Body is the request's JSON, as the client sent it. It is only read
	// during Identify.
	Body []byte
	// Index, when set, is the index of Body the handler made as it checked
	// it (jsonbound.CheckIndex): the history is read through it, jumping
	// over what it skips. It is used only if it indexes Body itself.
	Index *jsonbound.Ends
	// Session and User are what LiteLLM's fields name ("" for none):
	// they win over everything else.
	Session, User string
}

// Identity is who a call is from and which conversation it belongs to.
type Identity struct {
	Session, User string
	Source        Source // "" when the call has no session
}

// Identify finds a call's session: the one its LiteLLM fields name, else
// the one its client names, else the session of the Responses API answer
// or conversation it continues, else that of the conversation whose answer
// its history repeats, else a new one. answer is the call's answer as the
// client received it (nil when it got none): it is remembered, so that the
// call that continues it joins the same session. Identify is called once
// the answer has gone out, so that the client never waits for it.
//
// ctx is the call's. With a shared store, what this process does not
// remember is looked up there, for no longer than the store's bound; the
// cancellation of ctx is not heeded, since the client may leave once it
// has its answer and the lookup is still worth finishing.
func (r *Resolver) Identify(ctx context.Context, c Call, answer string) Identity {
	id := Identity{Session: c.Session, User: c.User}
	if id.Session != "" {
		id.Source = FromLiteLLM
	}
	var clientBody []byte
	if c.Dialect == nil || c.Dialect.metadataUserID {
		clientBody = c.Body // else not scanned for what is not there
	}
	cs, cu := FromClient(c.Header, clientBody)
	if id.Session == "" && cs != "" {
		id.Session, id.Source = cs, FromClientID
	}
	if id.User == "" {
		id.User = cu
	}
	if r == nil || c.Dialect == nil {
		return id
	}
	if r.shared != nil {
		ctx = context.WithoutCancel(ctx)
	}
	id.Session, id.User = strings.Clone(id.Session), strings.Clone(id.User) // they may be the body's bytes

	if id.Session != "" && !c.Dialect.chained {
		// Named by the call or its client: its history need not be read
		// (a coding agent's is the longest there is).
		return id
	}

	h := r.pool.Get().(*history)
	defer r.pool.Put(h)
	h.reset()
	defer func() { h.ends = nil }() // the pooled history keeps no call's index
	if c.Index.Indexes(c.Body) {
		h.ends = c.Index
	}
	// The body stays unchanged while it is read, and nothing read from it
	// is kept without a copy.
	body := parse(unsafe.String(unsafe.SliceData(c.Body), len(c.Body)))
	// An answer that is not JSON (an upstream's text) is not one the next
	// call can send back as a message: it is not remembered.
	var ans gjson.Result
	if answer != "" && jsonbound.Valid(unsafe.Slice(unsafe.StringData(answer), len(answer))) {
		ans = gjson.Parse(answer)
	}
	if c.Dialect.chained {
		prevV, conv := h.first2(body, "previous_response_id", "conversation")
		if conv.isObject() {
			conv = conv.get("id")
		}
		if prev, conv := h.str(prevV), h.str(conv); prev != "" || conv != "" {
			r.chain(ctx, &id, "r:"+prev, "c:"+conv, ans)
			return id
		}
	}

	if id.Session != "" {
		// Named, as above, on the Responses API: the calls that chain on
		// its answer join it.
		if ans.Exists() {
			r.rememberResponse(ans, id.Session)
		}
		return id
	}

	c.Dialect.input(h, body)
	// The longest prefix that ends with an answer the proxy relayed: where
	// a conversation branched, the branch it continues. The shared store
	// is asked only for the prefixes longer than any this process
	// remembers: none, where this replica relayed the last answer.
	i, s := r.local.turn(h.candidates)
	found := i >= 0
	if r.shared != nil && i < len(h.candidates)-1 {
		if ss, ok := r.sharedTurn(ctx, h.candidates[i+1:]); ok {
			s, found = ss, true
		}
	}
	if found {
		id.Session, id.Source = s, FromHistory
	}
	if id.Session == "" {
		id.Session, id.Source = r.newID(), FromNew
	}
	if ans.Exists() {
		before := h.messages
		c.Dialect.output(h, parse(answer))
		if h.messages > before {
			r.putTurn(h.sum(), id.Session)
		}
		if c.Dialect.chained {
			r.rememberResponse(ans, id.Session)
		}
	}
	return id
}

// chain finds and remembers the session of a call that continues a stored
// response (prev) or conversation (conv); either key is empty after its
// prefix when the call names none.
func (r *Resolver) chain(ctx context.Context, id *Identity, prev, conv string, ans gjson.Result) {
	if id.Session == "" {
		// The conversation's session wins over the response's.
		var buf [2]string
		keys := buf[:0]
		if len(conv) > 2 {
			keys = append(keys, conv)
		}
		if len(prev) > 2 {
			keys = append(keys, prev)
		}
		if i, s := r.local.id(keys); i >= 0 {
			id.Session, id.Source = s, FromChain
		} else if s, ok := r.sharedID(ctx, keys); ok {
			id.Session, id.Source = s, FromChain
		}
	}
	if id.Session == "" {
		// The chain began before the proxy's memory does (another replica,
		// a restart): its calls from here on share a new session.
		id.Session, id.Source = r.newID(), FromNew
	}
	if len(conv) > 2 {
		r.putID(conv, id.Session)
	}
	if ans.Exists() {
		r.rememberResponse(ans, id.Session)
	}
}

// rememberResponse remembers the session of a Responses API answer's id.
func (r *Resolver) rememberResponse(ans gjson.Result, session string) {
	if rid := ans.Get("id").Str; rid != "" && len(rid) <= maxID {
		r.putID("r:"+rid, session)
	}
}

// sharedTurn asks the shared store for the last of hashes it holds; a hit
// is remembered here too, so that the next call of the conversation this
// replica serves need not ask.
func (r *Resolver) sharedTurn(ctx context.Context, hashes []uint64) (string, bool) {
	if len(hashes) > maxSharedTurns {
		hashes = hashes[len(hashes)-maxSharedTurns:]
	}
	i, s, err := r.shared.Turn(ctx, hashes)
	if err != nil || i < 0 || i >= len(hashes) || !validID(s) {
		return "", false
	}
	r.local.PutTurn(hashes[i], s)
	return s, true
}

// sharedID asks the shared store for the first of keys it holds, and
// remembers a hit here too.
func (r *Resolver) sharedID(ctx context.Context, keys []string) (string, bool) {
	if r.shared == nil || len(keys) == 0 {
		return "", false
	}
	keys = slices.Clone(keys) // the caller's stay on its stack
	i, s, err := r.shared.ID(ctx, keys)
	if err != nil || i < 0 || i >= len(keys) || !validID(s) {
		return "", false
	}
	r.local.PutID(keys[i], s)
	return s, true
}

// putTurn and putID remember a session here and in the shared store.
func (r *Resolver) putTurn(hash uint64, session string) {
	r.local.PutTurn(hash, session)
	if r.shared != nil {
		r.shared.PutTurn(hash, session)
	}
}

func (r *Resolver) putID(key, session string) {
	r.local.PutID(key, session)
	if r.shared != nil {
		r.shared.PutID(key, session)
	}
}
