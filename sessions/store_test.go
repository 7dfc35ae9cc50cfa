package sessions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// sharedMap is a Store the test's replicas share: maps, the lookups it
// was asked, and an outage switch.
type sharedMap struct {
	mu          sync.Mutex
	turns       map[uint64]string
	ids         map[string]string
	turnLookups int
	idLookups   int
	down        bool
}

func newSharedMap() *sharedMap {
	return &sharedMap{turns: map[uint64]string{}, ids: map[string]string{}}
}

var errTestDown = errors.New("store down")

func (m *sharedMap) Turn(_ context.Context, hashes []uint64) (int, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.turnLookups++
	if m.down {
		return -1, "", errTestDown
	}
	for i := len(hashes) - 1; i >= 0; i-- {
		if s, ok := m.turns[hashes[i]]; ok {
			return i, s, nil
		}
	}
	return -1, "", nil
}

func (m *sharedMap) ID(_ context.Context, keys []string) (int, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.idLookups++
	if m.down {
		return -1, "", errTestDown
	}
	for i, k := range keys {
		if s, ok := m.ids[k]; ok {
			return i, s, nil
		}
	}
	return -1, "", nil
}

func (m *sharedMap) PutTurn(h uint64, s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.down {
		m.turns[h] = s
	}
}

func (m *sharedMap) PutID(k, s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.down {
		m.ids[k] = s
	}
}

func (m *sharedMap) set(down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = down
}

func (m *sharedMap) lookups() (turns, ids int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.turnLookups, m.idLookups
}

// replica is a Resolver sharing m, whose new sessions are name1, name2, …
func replica(name string, m Store) *Resolver {
	n := 0
	return New(Options{Size: 1000, TTL: time.Hour, Shared: m, NewID: func() string {
		n++
		return name + strconv.Itoa(n)
	}})
}

// chatLoop runs turns calls of one chat agent loop, call i through
// replicas[pick(i)], and returns each call's identity.
func chatLoop(t *testing.T, loop string, turns int, pick func(int) *Resolver) []Identity {
	t.Helper()
	msgs := []string{`{"role":"system","content":"You are a coding agent."}`, `{"role":"user","content":"Fix the test."}`}
	var got []Identity
	for i := range turns {
		answer := fmt.Sprintf(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function","function":{"name":"read","arguments":"{\"path\": \"%s%d.go\"}"}}]}`, i, loop, i)
		got = append(got, identify(t, pick(i), &Chat, chatBody(msgs), chatAnswer(answer)))
		msgs = append(msgs, answer, fmt.Sprintf(`{"role":"tool","tool_call_id":"call_%d","content":"package %s"}`, i, loop))
	}
	return got
}

// Two replicas sharing a store thread one conversation whose calls
// alternate between them; the shared store is asked only when the
// replica did not relay the previous answer itself; a second loop with the
// same system prompt and first message is a second session.
func TestSharedStoreThreadsReplicas(t *testing.T) {
	m := newSharedMap()
	a, b := replica("a", m), replica("b", m)
	alternate := func(i int) *Resolver { return []*Resolver{a, b}[i%2] }
	first := chatLoop(t, "x", 10, alternate)
	for i, id := range first {
		if id.Session != "a1" {
			t.Errorf("call %d: %+v; want session a1", i, id)
		}
	}
	if turns, _ := m.lookups(); turns != 9 {
		t.Errorf("%d lookups of the shared store; want one per call that continues another replica's answer (9)", turns)
	}
	second := chatLoop(t, "y", 4, alternate)
	if second[0].Session == "a1" || second[3].Session != second[0].Session {
		t.Errorf("second loop: %+v", second)
	}

	// A loop served by one replica never waits on the shared store.
	before, _ := m.lookups()
	chatLoop(t, "z", 10, func(int) *Resolver { return b })
	if after, _ := m.lookups(); after != before {
		t.Errorf("one replica's loop asked the shared store %d times", after-before)
	}
}

// The Responses API's chaining across replicas: a previous_response_id
// answered by the other replica, a conversation begun on it.
func TestSharedStoreChains(t *testing.T) {
	m := newSharedMap()
	a, b := replica("a", m), replica("b", m)
	s1 := identify(t, a, &Responses, responsesBody("", `"hi"`), `{"id":"resp_1","output":[]}`)
	s2 := identify(t, b, &Responses, responsesBody(`,"previous_response_id":"resp_1"`, `"more"`), `{"id":"resp_2","output":[]}`)
	s3 := identify(t, a, &Responses, responsesBody(`,"previous_response_id":"resp_2"`, `"again"`), "")
	if s2.Session != s1.Session || s2.Source != FromChain || s3.Session != s1.Session {
		t.Errorf("chain across replicas: %+v, %+v, %+v", s1, s2, s3)
	}
	c1 := identify(t, b, &Responses, responsesBody(`,"conversation":"conv_9"`, `"hi"`), "")
	c2 := identify(t, a, &Responses, responsesBody(`,"conversation":"conv_9"`, `"again"`), "")
	if c2.Session != c1.Session || c2.Source != FromChain {
		t.Errorf("conversation across replicas: %+v, %+v", c1, c2)
	}
}

// With the shared store down, nothing fails: each replica threads what it
// relayed itself (a loop on one replica stays one session), a call
// continuing the other's answer starts a session; back up, the replicas
// share again.
func TestSharedStoreDown(t *testing.T) {
	m := newSharedMap()
	a, b := replica("a", m), replica("b", m)
	m.set(true)
	one := chatLoop(t, "x", 6, func(int) *Resolver { return a })
	for _, id := range one {
		if id.Session != one[0].Session {
			t.Fatalf("one replica, store down: %+v", one)
		}
	}
	split := chatLoop(t, "y", 4, func(i int) *Resolver { return []*Resolver{a, b}[i%2] })
	if split[1].Session == split[0].Session {
		t.Errorf("store down: the other replica found %q, which only the store could tell it", split[0].Session)
	}
	m.set(false)
	shared := chatLoop(t, "z", 6, func(i int) *Resolver { return []*Resolver{a, b}[i%2] })
	for _, id := range shared {
		if id.Session != shared[0].Session {
			t.Errorf("store back: %+v", shared)
			break
		}
	}
}

// A session the shared store holds that no client could have sent (too
// long, control characters) is not used.
func TestSharedStoreValuesChecked(t *testing.T) {
	for _, bad := range []string{string(make([]byte, maxID+1)), "a\nb"} {
		m := newSharedMap()
		a, b := replica("a", m), replica("b", m)
		got := chatLoop(t, "x", 2, func(i int) *Resolver {
			if i == 0 {
				return a
			}
			m.mu.Lock()
			defer m.mu.Unlock()
			for h := range m.turns {
				m.turns[h] = bad
			}
			return b
		})
		if got[1].Session == bad || got[1].Session == got[0].Session || got[1].Source != FromNew {
			t.Errorf("value %q: %+v", bad, got[1])
		}
	}
}
