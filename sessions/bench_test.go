package sessions

import (
	"context"
	"fmt"
	"net/http"
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

// BenchmarkIdentify is the cost session inference adds to a call that
// names no session: its history read and hashed, the longest remembered
// prefix looked up, its answer remembered. It runs after the answer has
// gone out.
func BenchmarkIdentify(b *testing.B) {
	for _, turns := range []int{1, 10, 50} {
		body, answer := benchConversation(turns)
		b.Run(fmt.Sprintf("chat/%dturns/%dKB", turns, len(body)>>10), func(b *testing.B) {
			r := New(Options{Size: DefaultSize, TTL: time.Hour})
			// The conversation so far is remembered, as in a real loop.
			prev, prevAnswer := benchConversation(turns - 1)
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
