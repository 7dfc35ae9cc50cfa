package redisstore

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/phoenixproxy/llmproxy/sessions/redisstore/redistest"
)

// logBuffer is a log the test reads.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// newStore is a Store on srv that probes every 20 ms, and its log.
func newStore(t *testing.T, srv *redistest.Server, o Options) (*Store, *logBuffer) {
	t.Helper()
	log := &logBuffer{}
	o.URL = srv.URL()
	if o.TTL == 0 {
		o.TTL = time.Hour
	}
	o.ProbeInterval = 20 * time.Millisecond
	o.Logger = slog.New(slog.NewTextHandler(log, nil))
	s, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, log
}

// eventually waits up to 5 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("after 5 s: not %s", what)
}

// direct is a plain client of srv, to read what the Store wrote.
func direct(t *testing.T, srv *redistest.Server) *redis.Client {
	t.Helper()
	opt, _ := redis.ParseURL(srv.URL())
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// What is written is read back: the last stored of a call's hashes (the
// longest prefix), the first stored of its ids (the conversation before
// the response); in Redis, only prefixed hashes → session ids, each with
// the TTL.
func TestStoreRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, srv, Options{TTL: 90 * time.Second})
	ctx := context.Background()
	s.PutTurn(0x1111, "sess-a")
	s.PutTurn(0x3333, "sess-b")
	s.PutID("r:resp_0123456789", "sess-c")
	s.PutID("c:conv_secret", "sess-d")
	eventually(t, "written", func() bool { return s.Stats().Written == 4 })

	for _, tt := range []struct {
		hashes  []uint64
		i       int
		session string
	}{
		{[]uint64{0x1111, 0x2222, 0x3333}, 2, "sess-b"},
		{[]uint64{0x1111, 0x2222}, 0, "sess-a"},
		{[]uint64{0x2222}, -1, ""},
		{nil, -1, ""},
	} {
		i, got, err := s.Turn(ctx, tt.hashes)
		if err != nil || i != tt.i || got != tt.session {
			t.Errorf("Turn(%x) = %d, %q, %v; want %d, %q", tt.hashes, i, got, err, tt.i, tt.session)
		}
	}
	for _, tt := range []struct {
		keys    []string
		i       int
		session string
	}{
		{[]string{"c:conv_secret", "r:resp_0123456789"}, 0, "sess-d"},
		{[]string{"c:conv_other", "r:resp_0123456789"}, 1, "sess-c"},
		{[]string{"r:resp_other"}, -1, ""},
	} {
		i, got, err := s.ID(ctx, tt.keys)
		if err != nil || i != tt.i || got != tt.session {
			t.Errorf("ID(%q) = %d, %q, %v; want %d, %q", tt.keys, i, got, err, tt.i, tt.session)
		}
	}

	c := direct(t, srv)
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 {
		t.Errorf("keys %q; want 4", keys)
	}
	shape := regexp.MustCompile(`^llmproxy:sessions:[ti]:[0-9a-f]{16}$`)
	for _, k := range keys {
		if !shape.MatchString(k) || strings.Contains(k, "resp_") || strings.Contains(k, "conv_") {
			t.Errorf("key %q: want the prefix, a kind and a hash, nothing of the id", k)
		}
		ttl, err := c.TTL(ctx, k).Result()
		if err != nil || ttl <= 80*time.Second || ttl > 90*time.Second {
			t.Errorf("key %q: TTL %v, %v; want about 90 s", k, ttl, err)
		}
		v, _ := c.Get(ctx, k).Result()
		if !strings.HasPrefix(v, "sess-") {
			t.Errorf("key %q holds %q; want a session id", k, v)
		}
	}
}

// A value another process wrote that cannot be a session id (too long) is
// none.
func TestStoreIgnoresOversizedValues(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, srv, Options{})
	ctx := context.Background()
	if err := direct(t, srv).Set(ctx, s.turnKey(7), strings.Repeat("x", maxSession+1), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if i, got, err := s.Turn(ctx, []uint64{7}); i != -1 || err != nil {
		t.Errorf("Turn = %d, %q, %v; want none", i, got, err)
	}
}

// Redis killed mid-run: the first lookup fails at once and marks it down
// (one log line); while it is down, lookups and writes do not touch the
// network; restarted, it is probed and used again (another line).
func TestStoreRedisStopped(t *testing.T) {
	srv := redistest.Start(t)
	s, log := newStore(t, srv, Options{})
	ctx := context.Background()
	s.PutTurn(1, "sess-1")
	eventually(t, "written", func() bool { return s.Stats().Written == 1 })

	srv.Stop()
	for i := range 50 {
		start := time.Now()
		if _, _, err := s.Turn(ctx, []uint64{1}); err == nil {
			t.Fatalf("lookup %d: no error with Redis stopped", i)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("lookup %d took %v with Redis stopped", i, d)
		}
		s.PutTurn(uint64(i), "sess-x") // never blocks
	}
	st := s.Stats()
	if st.Up || st.Outages != 1 || st.Failures != 1 || st.Lookups != 1 {
		t.Errorf("stats %+v; want down, after one failed lookup of one outage", st)
	}
	if n := log.count("Redis failed"); n != 1 {
		t.Errorf("%d log lines of the outage; want 1", n)
	}

	srv.Restart()
	eventually(t, "up again", s.Up)
	if n := log.count("Redis answers again"); n != 1 {
		t.Errorf("%d log lines of the recovery; want 1", n)
	}
	s.PutTurn(2, "sess-2")
	eventually(t, "written after the restart", func() bool {
		i, got, err := s.Turn(ctx, []uint64{2})
		return i == 0 && got == "sess-2" && err == nil
	})
}

// A Redis that hangs (its process stopped: connections accepted, nothing
// answered) costs one lookup its timeout, and none after; resumed, it is
// used again.
func TestStoreRedisHangs(t *testing.T) {
	srv := redistest.Start(t)
	s, log := newStore(t, srv, Options{LookupTimeout: 50 * time.Millisecond})
	ctx := context.Background()
	if _, _, err := s.Turn(ctx, []uint64{1}); err != nil { // a pooled connection
		t.Fatal(err)
	}
	srv.Pause()
	resumed := false
	defer func() {
		if !resumed {
			srv.Resume()
		}
	}()
	start := time.Now()
	if _, _, err := s.Turn(ctx, []uint64{1}); err == nil {
		t.Fatal("no error from a Redis that hangs")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a lookup of a Redis that hangs took %v", d)
	}
	start = time.Now()
	for range 100 {
		_, _, _ = s.ID(ctx, []string{"r:x"})
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("100 lookups with Redis marked down took %v", d)
	}
	if n := log.count("Redis failed"); n != 1 {
		t.Errorf("%d log lines of the outage; want 1", n)
	}
	srv.Resume()
	resumed = true
	eventually(t, "up again", s.Up)
	if _, _, err := s.Turn(ctx, []uint64{1}); err != nil {
		t.Errorf("after the resume: %v", err)
	}
}

// Writes never wait: with Redis hanging and the writer stuck on a batch,
// the queue fills and what does not fit is dropped, counted.
func TestStoreWritesBounded(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, srv, Options{QueueSize: 8, WriteTimeout: 300 * time.Millisecond})
	srv.Pause()
	defer srv.Resume()
	start := time.Now()
	for i := range 10_000 {
		s.PutTurn(uint64(i), "sess")
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("10,000 writes with Redis hanging took %v", d)
	}
	if st := s.Stats(); st.Dropped < 10_000-maxBatch-8 {
		t.Errorf("stats %+v; want nearly every write dropped", st)
	}
}

// A Redis that does not answer at start is not an error: the Store starts
// down and is used once Redis is there.
func TestStoreStartsDown(t *testing.T) {
	srv := redistest.Start(t)
	srv.Stop()
	s, log := newStore(t, srv, Options{})
	if s.Up() || log.count("Redis does not answer") != 1 {
		t.Fatalf("up %v, log %q; want down, said once", s.Up(), log.b.String())
	}
	srv.Restart()
	eventually(t, "up", s.Up)
}

func TestNewErrors(t *testing.T) {
	for _, o := range []Options{
		{URL: "http://127.0.0.1:6379", TTL: time.Hour},
		{URL: "redis://127.0.0.1:6379/notadb", TTL: time.Hour},
		{URL: "redis://127.0.0.1:6379"},
	} {
		if s, err := New(context.Background(), o); err == nil {
			_ = s.Close(context.Background())
			t.Errorf("New(%+v): no error", o)
		}
	}
}

// Close sends what is queued before it returns.
func TestCloseFlushes(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, srv, Options{})
	for i := range 1000 {
		s.PutTurn(uint64(i), "sess")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := direct(t, srv).DBSize(context.Background()).Result(); err != nil || n != 1000 {
		t.Errorf("%d keys, %v; want 1000", n, err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
