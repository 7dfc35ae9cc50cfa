package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/sessions/redisstore"
	"github.com/phoenixproxy/llmproxy/sessions/redisstore/redistest"
)

// replica is one proxy of several behind a load balancer: its own
// handler and Resolver, its memory shared through the Redis they share.
type replica struct {
	*sessionProxy
	store *redisstore.Store
}

func newReplica(t *testing.T, redisURL string) *replica {
	t.Helper()
	store, err := redisstore.New(context.Background(), redisstore.Options{
		URL: redisURL, TTL: time.Hour, ProbeInterval: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(context.Background()) })
	return &replica{newSessionProxy(t, sessions.New(sessions.Options{Shared: store})), store}
}

// conversation is a chat agent loop the test drives, one streamed call at
// a time, through the replica it is given.
type conversation struct {
	msgs []string
}

func newConversation(name string) *conversation {
	return &conversation{msgs: []string{
		`{"role":"system","content":"You are a weather agent. Always use the tools you have."}`,
		// The fake calls the tool at every turn.
		fmt.Sprintf(`{"role":"user","content":"What is the weather in %s? [tools: 100]"}`, name),
	}}
}

// next makes the conversation's next call through r, streamed (the
// client's read ends only when the proxy's handler does: the time it
// takes includes the session lookup), sends the answer back with the
// tool's result, and returns the call's span and its time.
func (c *conversation) next(t *testing.T, r *replica) (otlptest.Span, time.Duration) {
	t.Helper()
	body := fmt.Sprintf(`{"model":"gpt-4o","stream":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"messages":[%s]}`, strings.Join(c.msgs, ","))
	written := r.store.Stats().Written
	start := time.Now()
	req, _ := http.NewRequest(http.MethodPost, r.url+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sse, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, sse)
	}
	if err := r.provider.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := r.receiver.WaitFor(t, 1, 5*time.Second)
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	r.receiver.Reset()
	echo := streamedMessage(t, string(sse))
	c.msgs = append(c.msgs, echo, `{"role":"tool","tool_call_id":"call_x","content":"18°C, sunny"}`)
	// The answer's write goes out after the call, from the replica's
	// writer: the next call, at the other replica, comes after it (an
	// agent runs its tool first; here, the test waits for it, or for the
	// replica to find Redis down).
	waitFor(t, "the answer written to Redis", func() bool { return r.store.Stats().Written > written || !r.store.Up() })
	return spans[0], took
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("after 5 s: not %s", what)
}

// sessionsOf runs n calls of c, alternating between the replicas from
// the first, and returns the session.id of each call's span; each call
// must take less than a second.
func sessionsOf(t *testing.T, c *conversation, n int, replicas ...*replica) []string {
	t.Helper()
	var got []string
	for i := range n {
		span, took := c.next(t, replicas[i%len(replicas)])
		if took > time.Second {
			t.Errorf("call %d took %v", i, took)
		}
		got = append(got, fmt.Sprint(span.Attributes["session.id"]))
	}
	return got
}

func distinct(ss []string) int {
	seen := map[string]bool{}
	for _, s := range ss {
		seen[s] = true
	}
	return len(seen)
}

// Two proxies sharing a real Redis thread one conversation whose calls
// alternate between them. Redis killed mid-run: every call still
// succeeds, as fast; the conversation under way stays one session (each
// replica remembers its own part of it); a new one started meanwhile
// falls back to each replica's memory, one session per replica. Redis
// restarted (empty): shared again. Redis hung: calls stay fast.
func TestSessionsSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newReplica(t, srv.URL()), newReplica(t, srv.URL())

	long := newConversation("Paris")
	got := sessionsOf(t, long, 6, a, b)
	if !uuidPattern.MatchString(got[0]) || distinct(got) != 1 {
		t.Fatalf("with Redis: sessions %q; want one", got)
	}
	session := got[0]
	other := sessionsOf(t, newConversation("Oslo"), 4, b, a)
	if distinct(other) != 1 || other[0] == session {
		t.Errorf("a second conversation: sessions %q; want one of its own", other)
	}

	srv.Stop()
	down := sessionsOf(t, long, 4, a, b)
	for i, s := range down {
		if s != session {
			t.Errorf("Redis down, call %d of the conversation under way: session %q; want %q", i, s, session)
		}
	}
	split := sessionsOf(t, newConversation("Rome"), 4, a, b)
	if distinct(split) != 2 || split[0] != split[2] || split[1] != split[3] {
		t.Errorf("Redis down, a new conversation: sessions %q; want one per replica", split)
	}
	if a.store.Up() || b.store.Up() {
		t.Error("the stores do not say Redis is down")
	}

	srv.Restart()
	waitFor(t, "Redis used again", func() bool { return a.store.Up() && b.store.Up() })
	again := sessionsOf(t, newConversation("Lima"), 6, a, b)
	if distinct(again) != 1 || again[0] == session {
		t.Errorf("Redis back: sessions %q; want one new session", again)
	}

	srv.Pause()
	defer srv.Resume()
	hung := sessionsOf(t, long, 4, b, a) // each takes less than a second
	if distinct(hung) != 1 || hung[0] != session {
		t.Errorf("Redis hung: sessions %q; want %q", hung, session)
	}
}
