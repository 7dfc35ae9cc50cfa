package sessions

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

var dialects = []*Dialect{&Chat, &Messages, &Responses, &Gemini, &Converse}

// FuzzIdentify: any checked JSON request and any answer, in any dialect,
// is read without a panic and gets a session; the user that comes out is
// an id; and one history always hashes the same.
func FuzzIdentify(f *testing.F) {
	f.Add(uint8(0), `{"messages":[{"role":"user","content":"hi"}]}`, `{"choices":[{"message":{"role":"assistant","content":"hello"}}]}`, "")
	f.Add(uint8(1), `{"system":[{"type":"text","text":"s"}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"metadata":{"user_id":"user_d_account__session_s"}}`, `{"role":"assistant","content":[{"type":"tool_use","name":"t","input":{"b":1,"a":[1.0,"x"]}}]}`, "")
	f.Add(uint8(2), `{"instructions":"i","input":[{"type":"function_call","name":"f","arguments":"{\"a\": 1}"},{"type":"function_call_output","output":"o"}]}`, `{"id":"resp_1","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"t"}]}]}`, "sess")
	f.Add(uint8(2), `{"previous_response_id":"resp_1","input":"x"}`, `{"id":"resp_2","output":[]}`, "")
	f.Add(uint8(3), `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":"[[[[1]]]]"}}]}}]}`, "")
	f.Fuzz(func(t *testing.T, which uint8, body, answer, header string) {
		if !jsonbound.Valid([]byte(body)) {
			return // the handlers read no body that is not checked JSON
		}
		d := dialects[int(which)%len(dialects)]
		r := New(Options{Size: 8, TTL: time.Hour})
		hdr := http.Header{"Session_id": {header}}
		id := r.Identify(context.Background(), Call{Dialect: d, Header: hdr, Body: []byte(body)}, answer)
		if id.Session == "" {
			t.Fatalf("no session for %q", body)
		}
		if len(id.User) > maxID || strings.ContainsAny(id.User, "\x00\n\t") {
			t.Fatalf("user %q", id.User)
		}
		var h1, h2, h3 history
		d.input(&h1, parse(body))
		d.input(&h2, parse(body))
		if h1.sum() != h2.sum() || len(h1.candidates) != len(h2.candidates) {
			t.Fatalf("one history, two hashes: %x %x", h1.sum(), h2.sum())
		}
		// Read through the body's index (as the handler lends it), the
		// same hashes.
		var ends jsonbound.Ends
		b := []byte(body)
		if err := jsonbound.CheckIndex(b, &ends); err != nil {
			t.Fatal(err)
		}
		h3.ends = &ends
		d.input(&h3, parse(unsafe.String(unsafe.SliceData(b), len(b))))
		if h3.sum() != h1.sum() || !slices.Equal(h3.candidates, h1.candidates) {
			t.Fatalf("through the index, %x %x; plain %x %x", h3.sum(), h3.candidates, h1.sum(), h1.candidates)
		}
	})
}

// FuzzClaudeCodeUserID: whatever metadata.user_id holds, what comes out is
// an id of its own (no control characters, bounded), never the whole
// string of the older shape.
func FuzzClaudeCodeUserID(f *testing.F) {
	f.Add(`{"device_id":"d","account_uuid":"","session_id":"s"}`)
	f.Add(`user_abc_account_def_session_ghi`)
	f.Add(`user__account__session_`)
	f.Add(`user_a_session_b_account_c`)
	f.Fuzz(func(t *testing.T, s string) {
		session, user := claudeCodeUserID(s)
		for _, v := range []string{session, user} {
			if v != "" && !validID(v) {
				t.Fatalf("%q from %q is no id", v, s)
			}
			if v != "" && v == s {
				t.Fatalf("the whole user_id %q came out", s)
			}
		}
	})
}

// FuzzAppendQuote holds appendQuote to strconv.AppendQuote, whose bytes
// the normal form's hashes are of.
func FuzzAppendQuote(f *testing.F) {
	for _, s := range []string{"", "plain text", "line\nbreak\ttab \"quoted\" back\\slash", "é → 日本語 \u00a0\u200b\u2028",
		"\x00\x1f\x7f", "\xff\xfe invalid", "\xe2\x82", "emoji 😀 \U0010ffff", "\ufeff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefix := []byte("prefix:")
		got := appendQuote(append([]byte(nil), prefix...), s)
		want := strconv.AppendQuote(append([]byte(nil), prefix...), s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendQuote(%q) = %s, strconv writes %s", s, got, want)
		}
	})
}
