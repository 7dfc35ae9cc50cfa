package sessions

import (
	"sync"
	"time"
)

// lru is a map bounded by size and by age: beyond size entries the least
// recently used goes; an entry older than ttl is gone when next looked at.
// Entries sit in one ring of a slice, linked by index, so that an entry
// costs no allocation of its own. It is safe for concurrent use.
type lru[K comparable] struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	now   func() time.Time
	index map[K]int32 // key → slot
	slots []slot[K]
	head  int32 // most recently used; -1 when empty
}

type slot[K comparable] struct {
	key        K
	session    string
	added      int64 // unix nanoseconds
	prev, next int32
}

func newLRU[K comparable](size int, ttl time.Duration, now func() time.Time) *lru[K] {
	return &lru[K]{size: size, ttl: ttl, now: now, index: make(map[K]int32), head: -1}
}

// get is the session stored under k, and whether one is there and young
// enough; a hit becomes the most recently used.
func (l *lru[K]) get(k K) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.getLocked(k, l.now().UnixNano())
}

func (l *lru[K]) getLocked(k K, now int64) (string, bool) {
	i, ok := l.index[k]
	if !ok {
		return "", false
	}
	s := &l.slots[i]
	if time.Duration(now-s.added) > l.ttl {
		return "", false // left for put to reuse: it is the oldest soon enough
	}
	l.moveToFront(i)
	return s.session, true
}

// put stores session under k (replacing what k held), the most recently
// used; the least recently used goes when the map is full.
func (l *lru[K]) put(k K, session string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixNano()
	if i, ok := l.index[k]; ok {
		l.slots[i].session, l.slots[i].added = session, now
		l.moveToFront(i)
		return
	}
	var i int32
	switch {
	case len(l.slots) < l.size:
		l.slots = append(l.slots, slot[K]{})
		i = int32(len(l.slots) - 1)
		l.link(i)
	default:
		// The tail: the least recently used, reused in place.
		i = l.slots[l.head].prev
		delete(l.index, l.slots[i].key)
		l.moveToFront(i)
	}
	l.slots[i].key, l.slots[i].session, l.slots[i].added = k, session, now
	l.index[k] = i
}

// link puts a new slot at the front.
func (l *lru[K]) link(i int32) {
	if l.head < 0 {
		l.slots[i].prev, l.slots[i].next = i, i
		l.head = i
		return
	}
	h := l.head
	t := l.slots[h].prev
	l.slots[i].prev, l.slots[i].next = t, h
	l.slots[t].next = i
	l.slots[h].prev = i
	l.head = i
}

func (l *lru[K]) moveToFront(i int32) {
	if i == l.head {
		return
	}
	s := &l.slots[i]
	l.slots[s.prev].next = s.next
	l.slots[s.next].prev = s.prev
	h := l.head
	t := l.slots[h].prev
	s.prev, s.next = t, h
	l.slots[t].next = i
	l.slots[h].prev = i
	l.head = i
}

// len is the number of entries held, expired ones included until reused.
func (l *lru[K]) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.index)
}
