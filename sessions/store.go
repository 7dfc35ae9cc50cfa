package sessions

import (
	"context"
	"time"
)

// Store is where a Resolver remembers what it saw: the session of each
// conversation, by the hash of a history that ends with an answer the
// proxy relayed (a turn), and the session of each Responses API response
// and conversation id ("r:" or "c:" and the id). The Resolver's own memory
// is one, bounded and in this process; a shared one (package redisstore)
// lets the replicas behind a load balancer thread each other's calls.
// Implementations are safe for concurrent use.
type Store interface {
	// Turn returns the index of the last of hashes stored, and its
	// session; -1 when none is. It may block, no longer than ctx and the
	// store's own bound allow; on an error (the store unreachable, slow)
	// the Resolver does as if none was stored.
	Turn(ctx context.Context, hashes []uint64) (int, string, error)
	// ID returns the index of the first of keys stored, and its session;
	// -1 when none is. It blocks as Turn does.
	ID(ctx context.Context, keys []string) (int, string, error)
	// PutTurn and PutID remember a session. They do not block: a store
	// that keeps it elsewhere sends it afterwards, and may drop it (the
	// store unreachable, or too far behind).
	PutTurn(hash uint64, session string)
	PutID(key, session string)
}

// memory is the Resolver's own Store: two LRUs bounded by size and age.
type memory struct {
	turns *lru[uint64]
	ids   *lru[string]
}

var _ Store = (*memory)(nil)

func newMemory(size int, ttl time.Duration, now func() time.Time) *memory {
	return &memory{turns: newLRU[uint64](size, ttl, now), ids: newLRU[string](size, ttl, now)}
}

// Turn never blocks nor fails.
func (m *memory) Turn(_ context.Context, hashes []uint64) (int, string, error) {
	i, s := m.turn(hashes)
	return i, s, nil
}

func (m *memory) turn(hashes []uint64) (int, string) {
	for i := len(hashes) - 1; i >= 0; i-- {
		if s, ok := m.turns.get(hashes[i]); ok {
			return i, s
		}
	}
	return -1, ""
}

// ID never blocks nor fails.
func (m *memory) ID(_ context.Context, keys []string) (int, string, error) {
	i, s := m.id(keys)
	return i, s, nil
}

func (m *memory) id(keys []string) (int, string) {
	for i, k := range keys {
		if s, ok := m.ids.get(k); ok {
			return i, s
		}
	}
	return -1, ""
}

func (m *memory) PutTurn(hash uint64, session string) { m.turns.put(hash, session) }

func (m *memory) PutID(key, session string) { m.ids.put(key, session) }
