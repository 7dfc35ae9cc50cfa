package redisstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/sessions/redisstore"
	"github.com/phoenixproxy/llmproxy/sessions/redisstore/redistest"
)

func benchStore(b *testing.B, srv *redistest.Server) *redisstore.Store {
	b.Helper()
	s, err := redisstore.New(context.Background(), redisstore.Options{
		URL: srv.URL(), TTL: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// BenchmarkLookup is what a call waits on Redis when the replica did not
// relay the previous answer itself: one MGET on loopback, of the one key
// that is there, or of the most recent 64 answers, none there.
func BenchmarkLookup(b *testing.B) {
	srv := redistest.Start(b)
	s := benchStore(b, srv)
	ctx := context.Background()
	s.PutTurn(42, "fe01a97f-b8c7-4ff4-8a9b-7c8a17d35680")
	for deadline := time.Now().Add(5 * time.Second); s.Stats().Written == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("not written")
		}
	}
	miss := make([]uint64, 64)
	for i := range miss {
		miss[i] = uint64(1000 + i)
	}
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if i, _, err := s.Turn(ctx, []uint64{42}); i != 0 || err != nil {
				b.Fatal(i, err)
			}
		}
	})
	b.Run("64 keys, miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if i, _, err := s.Turn(ctx, miss); i != -1 || err != nil {
				b.Fatal(i, err)
			}
		}
	})
}

// BenchmarkIdentifyShared is Identify on a replica that did not relay the
// previous answer (its memory misses, Redis has it), against the same
// call on the replica that did (its memory has it: Redis is not asked).
func BenchmarkIdentifyShared(b *testing.B) {
	srv := redistest.Start(b)
	body, answer := conversation(10)
	prev, prevAnswer := conversation(9)
	call := func(body []byte) sessions.Call {
		return sessions.Call{Dialect: &sessions.Chat, Header: http.Header{}, Body: body}
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		local bool
	}{{"other replica relayed the last answer", false}, {"this replica relayed it", true}} {
		b.Run(tt.name, func(b *testing.B) {
			store := benchStore(b, srv)
			writer := sessions.New(sessions.Options{Shared: store})
			writer.Identify(ctx, call(prev), prevAnswer)
			for deadline := time.Now().Add(5 * time.Second); store.Stats().Written == 0; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatal("not written")
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				r := writer
				if !tt.local {
					b.StopTimer()
					r = sessions.New(sessions.Options{Size: 16, Shared: store}) // remembers nothing yet
					b.StartTimer()
				}
				if id := r.Identify(ctx, call(body), answer); id.Source != sessions.FromHistory {
					b.Fatalf("source %q", id.Source)
				}
			}
		})
	}
}

// conversation is a chat agent loop's request at turn n, and its answer.
func conversation(n int) ([]byte, string) {
	msgs := []string{`{"role":"system","content":"You are a coding agent."}`, `{"role":"user","content":"Fix the failing test."}`}
	for i := range n {
		msgs = append(msgs,
			fmt.Sprintf(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"f%d.go\"}"}}]}`, i, i),
			fmt.Sprintf(`{"role":"tool","tool_call_id":"call_%d","content":"%s"}`, i, strings.Repeat("x", 1000)))
	}
	body := []byte(`{"model":"gpt-4o","messages":[` + strings.Join(msgs, ",") + `]}`)
	answer := fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"f%d.go\"}"}}]},"finish_reason":"tool_calls"}]}`, n, n)
	return body, answer
}
