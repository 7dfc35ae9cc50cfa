package sessions

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchConversation is a chat agent loop's request at turn n (a system
// prompt, then n rounds of a tool call and its result, each result about
// 1 KB), and the answer to it.
func benchConversation(n int) ([]byte, string) {
	msgs := []string{`{"role":"system","content":"You are a coding agent. ` + strings.Repeat("Follow the rules. ", 100) + `"}`,
		`{"role":"user","content":"Fix the failing test."}`}
	for i := 0; i < n; i++ {
		msgs = append(msgs,
			fmt.Sprintf(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"f%d.go\"}"}}]}`, i, i),
			fmt.Sprintf(`{"role":"tool","tool_call_id":"call_%d","content":"%s"}`, i, strings.Repeat("x", 1000)))
	}
	return chatBody(msgs), chatAnswer(`{"role":"assistant","content":"Done: the test passes now."}`)
}

// benchCodeConversation is an agent loop's request at turn n as the bench
// (integration/bench, step sessions) sends it: a system prompt of 2 KB,
// then rounds of a tool call and its result, 1 KB of Go code (escapes on
// every line), with a text answer and a user turn every fourth round.
func benchCodeConversation(n int) ([]byte, string) {
	code := strings.Repeat(`func (s *Store) Get(ctx context.Context, key string) (string, error) {\n\tv, ok := s.m[key]\n\tif !ok {\n\t\treturn \"\", ErrNotFound\n\t}\n\treturn v, nil\n}\n\n`, 8)
	msgs := []string{`{"role":"system","content":"You are a coding agent working in a Go repository. ` + strings.Repeat("Follow the repository's style guide: small packages, errors wrapped with context, table-driven tests. ", 20) + `"}`,
		`{"role":"user","content":"Task 1: the test TestStoreGet fails with ErrNotFound; find out why and fix it."}`}
	for i := 0; i < n; i++ {
		if i%4 == 3 {
			msgs = append(msgs, `{"role":"assistant","content":"No umbrella needed: it is sunny.","refusal":null,"annotations":[]}`,
				fmt.Sprintf(`{"role":"user","content":"Thanks. Now run the tests again and tell me what turn %d changed."}`, i))
			continue
		}
		msgs = append(msgs,
			`{"role":"assistant","content":null,"tool_calls":[{"id":"call_BENCH00000000000000000001","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"internal/store/store.go\",\"start_line\":1,\"end_line\":120}"}}],"refusal":null,"annotations":[]}`,
			fmt.Sprintf(`{"role":"tool","tool_call_id":"call_BENCH00000000000000000001","content":"// turn %d\n%s"}`, i, code))
	}
	if n%4 == 3 {
		return chatBody(msgs), chatAnswer(`{"role":"assistant","content":"No umbrella needed: it is sunny.","refusal":null,"annotations":[]}`)
	}
	return chatBody(msgs), chatAnswer(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_BENCH00000000000000000001","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"internal/store/store.go\",\"start_line\":1,\"end_line\":120}"}}],"refusal":null,"annotations":[]}`)
}

// BenchmarkIdentify is the cost session inference adds to a call that
// names no session: its history read and hashed, the longest remembered
// prefix looked up, its answer remembered. It runs after the answer has
// gone out.
func BenchmarkIdentify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		turns int
		conv  func(int) ([]byte, string)
	}{{"chat", 1, benchConversation}, {"chat", 10, benchConversation}, {"chat", 50, benchConversation}, {"chat-code", 20, benchCodeConversation}} {
		turns := tc.turns
		body, answer := tc.conv(turns)
		b.Run(fmt.Sprintf("%s/%dturns/%dKB", tc.name, turns, len(body)>>10), func(b *testing.B) {
			r := New(Options{Size: DefaultSize, TTL: time.Hour})
			// The conversation so far is remembered, as in a real loop.
			prev, prevAnswer := tc.conv(turns - 1)
			r.Identify(context.Background(), Call{Dialect: &Chat, Header: http.Header{}, Body: prev}, prevAnswer)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				r.Identify(context.Background(), Call{Dialect: &Chat, Header: http.Header{}, Body: body}, answer)
			}
		})
	}
	b.Run("client id", func(b *testing.B) {
		body, answer := benchConversation(50)
		r := New(Options{})
		h := http.Header{"X-Claude-Code-Session-Id": {"fe01a97f-b8c7-4ff4-8a9b-7c8a17d35680"}}
		b.ReportAllocs()
		for b.Loop() {
			r.Identify(context.Background(), Call{Dialect: &Chat, Header: h, Body: body}, answer)
		}
	})
}

// BenchmarkFromClient reads Claude Code's metadata.user_id from the end of
// a Messages request with a long history, as FromClient does on every
// Messages call.
func BenchmarkFromClient(b *testing.B) {
	body, _ := benchCodeConversation(100)
	body = append(body[:len(body)-1], `,"metadata":{"user_id":"user_0123456789abcdef_account_fe01a97f-b8c7-4ff4-8a9b-7c8a17d35680_session_0b5e3d7c-5a6f-4a57-9f0e-3f1c2d4b6a8e"}}`...)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if s, _ := FromClient(http.Header{}, body); s == "" {
			b.Fatal("no session")
		}
	}
}

// BenchmarkAppendQuote compares appendQuote with strconv.AppendQuote, the
// function it stands in for, on what canonical quotes most: the strings of
// tool arguments (a file's Go code, a path) and keys.
func BenchmarkAppendQuote(b *testing.B) {
	code := strings.Repeat("func (s *Store) Get(ctx context.Context, key string) (string, error) {\n\tv, ok := s.m[key]\n\tif !ok {\n\t\treturn \"\", ErrNotFound\n\t}\n\treturn v, nil\n}\n\n", 8)
	for _, tc := range []struct{ name, s string }{{"code", code}, {"path", "internal/store/store.go"}, {"prose-utf8", strings.Repeat("Le café coûte 3 € — très cher. ", 20)}} {
		for _, fn := range []struct {
			name  string
			quote func([]byte, string) []byte
		}{{"appendQuote", appendQuote}, {"strconv", strconv.AppendQuote}} {
			b.Run(tc.name+"/"+fn.name, func(b *testing.B) {
				var dst []byte
				b.SetBytes(int64(len(tc.s)))
				for b.Loop() {
					dst = fn.quote(dst[:0], tc.s)
				}
			})
		}
	}
}
