package sessions

import (
	"net/http"
	"strings"
	"testing"
)

// FromClient looks the headers up by the names as written: they must be
// the canonical names net/http stores a request's headers under.
func TestHeaderNamesCanonical(t *testing.T) {
	for _, name := range append(append([]string{}, sessionHeaders...), userHeaders...) {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("header %q: canonical form %q", name, c)
		}
	}
}

func TestFromClient(t *testing.T) {
	const sess = "fe01a97f-b8c7-4ff4-8a9b-7c8a17d35680"
	const device = "816a2a272e95ed4ac75d4b1dee8d8a7daaf716677c8b11a4b1d8b73a05fa37d6"
	const account = "2f7c4a1e-9b3d-4e8a-8c1f-0a6b5d4e3c2b"
	tests := []struct {
		name    string
		header  map[string]string
		body    string
		session string
		user    string
	}{
		{
			name: "claude code header",
			// Claude Code sends X-Claude-Code-Session-Id on every call
			// (newer versions), the value of metadata.user_id's session_id.
			header:  map[string]string{"X-Claude-Code-Session-Id": sess},
			body:    `{"model":"claude-sonnet-4-6","messages":[]}`,
			session: sess,
		},
		{
			name: "claude code metadata, JSON shape, no account",
			// metadata.user_id = JSON.stringify({device_id, account_uuid,
			// session_id}), account_uuid "" when logged in with an API key.
			body:    `{"metadata":{"user_id":"{\"device_id\":\"` + device + `\",\"account_uuid\":\"\",\"session_id\":\"` + sess + `\"}"},"messages":[]}`,
			session: sess, user: device,
		},
		{
			name:    "claude code metadata, JSON shape, with account and parent",
			body:    `{"metadata":{"user_id":"{\"device_id\":\"` + device + `\",\"account_uuid\":\"` + account + `\",\"session_id\":\"` + sess + `\",\"parent_session_id\":\"p\"}"}}`,
			session: sess, user: account,
		},
		{
			name: "claude code metadata, older string shape",
			// user_${userID}_account_${accountUuid}_session_${sessionId}
			body:    `{"metadata":{"user_id":"user_` + device + `_account_` + account + `_session_` + sess + `"}}`,
			session: sess, user: account,
		},
		{
			name:    "claude code metadata, older string shape, no account",
			body:    `{"metadata":{"user_id":"user_` + device + `_account__session_` + sess + `"}}`,
			session: sess, user: device,
		},
		{
			name:    "header wins over metadata",
			header:  map[string]string{"X-Claude-Code-Session-Id": "from-header"},
			body:    `{"metadata":{"user_id":"user_` + device + `_account__session_` + sess + `"}}`,
			session: "from-header", user: device,
		},
		{
			name: "a caller's own user_id is not Claude Code's",
			body: `{"metadata":{"user_id":"alice@example.com"}}`,
		},
		{
			name: "user_id not a string",
			body: `{"metadata":{"user_id":{"session_id":"x"}}}`,
		},
		{
			name: "codex, older versions",
			// .header("conversation_id", id).header("session_id", id)
			// (openai/codex codex-rs/core/src/client.rs).
			header:  map[string]string{"conversation_id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "session_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"},
			session: "0199a213-81c0-7800-8aa1-bbab2a035a53",
		},
		{
			name: "codex, current versions",
			// session-id and thread-id (the Responses client's request
			// headers).
			header:  map[string]string{"session-id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "thread-id": "0199a213-81c0-7800-8aa1-bbab2a035a54"},
			session: "0199a213-81c0-7800-8aa1-bbab2a035a53",
		},
		{
			name:    "codex, thread only",
			header:  map[string]string{"thread-id": "t-1"},
			session: "t-1",
		},
		{
			name: "opencode",
			// "x-session-affinity": input.sessionID on any provider but
			// its own (sst/opencode packages/opencode/src/session/llm.ts).
			header:  map[string]string{"x-session-affinity": "ses_3a1b2c3d4e5fXyZ", "x-parent-session-id": "ses_parent"},
			session: "ses_3a1b2c3d4e5fXyZ",
		},
		{
			name:    "opencode's own provider",
			header:  map[string]string{"x-opencode-session": "ses_3a1b2c3d4e5fXyZ", "x-opencode-request": "msg_1"},
			session: "ses_3a1b2c3d4e5fXyZ",
		},
		{
			name: "gemini cli names its installation",
			// 'x-gemini-api-privileged-user-id': installationId
			// (packages/core/src/core/contentGenerator.ts).
			header: map[string]string{"x-gemini-api-privileged-user-id": "6f1e0c9a-2b7d-4c3e-9a8f-1d2e3f4a5b6c"},
			user:   "6f1e0c9a-2b7d-4c3e-9a8f-1d2e3f4a5b6c",
		},
		{
			name:   "an id too long is none",
			header: map[string]string{"session_id": strings.Repeat("a", maxID+1)},
		},
		{
			name:   "an id with control characters is none",
			header: map[string]string{"session_id": "a\tb"},
		},
		{
			name:   "the agents sdk names nothing",
			header: map[string]string{"User-Agent": "Agents/Python 0.6.1"},
			body:   `{"model":"gpt-5","input":"hi"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			session, user := FromClient(h, []byte(tt.body))
			if session != tt.session || user != tt.user {
				t.Errorf("got session %q, user %q; want %q, %q", session, user, tt.session, tt.user)
			}
		})
	}
}
