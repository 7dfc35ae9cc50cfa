package sessions

import (
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// sessionHeaders are the headers in which coding agents name their
// session, in order of preference, in Go's canonical form (session_id is
// Session_id), as FromClient looks them up.
var sessionHeaders = []string{
	// Claude Code (newer versions): the session's UUID on every call, the
	// same value as metadata.user_id's session_id.
	"X-Claude-Code-Session-Id",
	// Codex CLI: session-id (and thread-id) in current versions; older
	// ones sent session_id and conversation_id, both the conversation's
	// id (openai/codex codex-rs/core/src/client.rs,
	// codex-rs/codex-api/src/requests/headers.rs
	// build_conversation_headers).
	"Session-Id",
	"Session_id",
	"Thread-Id",
	"Conversation_id",
	// OpenCode: x-session-affinity on calls to any provider, and
	// x-opencode-session on its own opencode provider
	// (sst/opencode packages/opencode/src/session/llm.ts). Its newest
	// versions also send X-Session-Id, which LiteLLM's proxy already reads
	// as an explicit session (handlers).
	"X-Session-Affinity",
	"X-Opencode-Session",
}

// userHeaders are the headers in which clients name their user, canonical
// as sessionHeaders.
var userHeaders = []string{
	// Gemini CLI: its installation id, when usage statistics are on
	// (google-gemini/gemini-cli packages/core/src/core/contentGenerator.ts).
	"X-Gemini-Api-Privileged-User-Id",
}

// maxID bounds an id read from a client: a longer one, or one with control
// characters, is no id (a header can hold kilobytes).
const maxID = 256

// FromClient is the session and user a call's client names of its own
// accord, in its headers or, for Claude Code, in the Messages API's
// metadata.user_id; "" for what it does not name. body is the request's
// JSON (it may be nil).
func FromClient(h http.Header, body []byte) (session, user string) {
	for _, name := range sessionHeaders {
		if v := header(h, name); validID(v) {
			session = v
			break
		}
	}
	for _, name := range userHeaders {
		if v := header(h, name); validID(v) {
			user = v
			break
		}
	}
	if len(body) > 0 {
		// jsonbound.Get crosses a long history's strings whole: gjson's
		// path would read the whole body a byte at a time to reach the
		// metadata after it.
		doc := jsonbound.ParseInPlace(body)
		if uid := jsonbound.Get(jsonbound.Get(doc, "metadata"), "user_id"); uid.Type == gjson.String {
			s, u := claudeCodeUserID(uid.Str)
			if session == "" {
				session = s
			}
			if user == "" {
				user = u
			}
		}
	}
	return session, user
}

// header is h.Get(name) for a name already in canonical form, without
// canonicalising it again.
func header(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// claudeCodeUserID reads Claude Code's metadata.user_id: a JSON object in
// a string, {"device_id":…,"account_uuid":…,"session_id":…} (newer
// versions), or user_<device hash>_account_<account uuid>_session_<session
// uuid> (older ones). The user is the account when there is one, else the
// device; never the whole string, which holds the session too. Any other
// user_id (a caller's own user id) is none of Claude Code's: nothing.
func claudeCodeUserID(s string) (session, user string) {
	if strings.HasPrefix(s, "{") {
		obj := gjson.Parse(s)
		session = obj.Get("session_id").Str
		user = obj.Get("account_uuid").Str
		if user == "" {
			user = obj.Get("device_id").Str
		}
		return validOr(session), validOr(user)
	}
	rest, ok := strings.CutPrefix(s, "user_")
	if !ok {
		return "", ""
	}
	device, rest, ok := strings.Cut(rest, "_account_")
	if !ok {
		return "", ""
	}
	account, session, ok := strings.Cut(rest, "_session_")
	if !ok {
		return "", ""
	}
	user = account
	if user == "" {
		user = device
	}
	return validOr(session), validOr(user)
}

func validOr(s string) string {
	if validID(s) {
		return s
	}
	return ""
}

// validID reports whether s may be an id: not empty, not too long, no
// control characters.
func validID(s string) bool {
	if s == "" || len(s) > maxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}
