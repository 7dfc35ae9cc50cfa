package sessions

import (
	"net/http"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/phoenixproxy/llmproxy/ids"

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
}

// Resolver finds the session of each call, and remembers the answers it
// saw so that the calls that continue them join their session. It is safe
// for concurrent use. A nil *Resolver infers nothing: calls get the
// sessions their fields and their clients name, no others.
type Resolver struct {
	// turns maps the hash of a conversation that ends with an answer the
	// proxy relayed to its session.
	turns *lru[uint64]
	// ids maps the Responses API's response and conversation ids to their
	// sessions.
	ids   *lru[string]
	newID func() string
	pool  sync.Pool // *history
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
		turns: newLRU[uint64](o.Size, o.TTL, o.Now),
		ids:   newLRU[string](o.Size, o.TTL, o.Now),
		newID: o.NewID,
		pool:  sync.Pool{New: func() any { return new(history) }},
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
func (r *Resolver) Identify(c Call, answer string) Identity {
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
	id.Session, id.User = strings.Clone(id.Session), strings.Clone(id.User) // they may be the body's bytes

	// The body stays unchanged while it is read, and nothing read from it
	// is kept without a copy.
	body := gjson.Parse(unsafe.String(unsafe.SliceData(c.Body), len(c.Body)))
	var ans gjson.Result
	if answer != "" {
		ans = gjson.Parse(answer)
	}
	if c.Dialect.chained {
		prev := body.Get("previous_response_id").Str
		conv := body.Get("conversation")
		if conv.IsObject() {
			conv = conv.Get("id")
		}
		if prev != "" || conv.Str != "" {
			r.chain(&id, "r:"+prev, "c:"+conv.Str, ans)
			return id
		}
	}

	if id.Session != "" {
		// Named by the call or its client: its history need not be read
		// (a coding agent's is the longest there is).
		if c.Dialect.chained && ans.Exists() {
			r.rememberResponse(ans, id.Session)
		}
		return id
	}

	h := r.pool.Get().(*history)
	defer r.pool.Put(h)
	h.reset()
	c.Dialect.input(h, body)
	// The longest prefix that ends with an answer the proxy relayed: where
	// a conversation branched, the branch it continues.
	for i := len(h.candidates) - 1; i >= 0; i-- {
		if s, ok := r.turns.get(h.candidates[i]); ok {
			id.Session, id.Source = s, FromHistory
			break
		}
	}
	if id.Session == "" {
		id.Session, id.Source = r.newID(), FromNew
	}
	if ans.Exists() {
		before := h.messages
		c.Dialect.output(h, ans)
		if h.messages > before {
			r.turns.put(h.sum(), id.Session)
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
func (r *Resolver) chain(id *Identity, prev, conv string, ans gjson.Result) {
	if id.Session == "" && len(conv) > 2 {
		if s, ok := r.ids.get(conv); ok {
			id.Session, id.Source = s, FromChain
		}
	}
	if id.Session == "" && len(prev) > 2 {
		if s, ok := r.ids.get(prev); ok {
			id.Session, id.Source = s, FromChain
		}
	}
	if id.Session == "" {
		// The chain began before the proxy's memory does (another replica,
		// a restart): its calls from here on share a new session.
		id.Session, id.Source = r.newID(), FromNew
	}
	if len(conv) > 2 {
		r.ids.put(conv, id.Session)
	}
	if ans.Exists() {
		r.rememberResponse(ans, id.Session)
	}
}

// rememberResponse remembers the session of a Responses API answer's id.
func (r *Resolver) rememberResponse(ans gjson.Result, session string) {
	if rid := ans.Get("id").Str; rid != "" && len(rid) <= maxID {
		r.ids.put("r:"+rid, session)
	}
}
