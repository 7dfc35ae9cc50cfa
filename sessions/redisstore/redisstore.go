// Package redisstore keeps what package sessions remembers in Redis, so
// that the replicas behind a load balancer thread one conversation whose
// calls reach different replicas into one session.
//
// Redis holds hashes and session ids only: a conversation is keyed by the
// hash package sessions makes of its normalised history, a Responses API
// response or conversation id by a hash of the id, both under a prefix
// (Options.Prefix); the value is the session id. Each entry expires TTL
// after it was last written, as the in-process memory forgets it.
//
// A Redis that is down or slow never fails or slows a call: a lookup waits
// Options.LookupTimeout at most (50 ms), and the first that fails marks
// Redis down (one log line); while it is down, lookups and writes are not
// tried at all, and the Resolver threads conversations from its own memory.
// A probe pings Redis every ProbeInterval meanwhile; once it answers, it is
// used again (another log line). Writes go out after the call, from one
// goroutine, in pipelined batches, through a queue of QueueSize: when Redis
// lags that far behind, writes are dropped, not waited for.
package redisstore

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/phoenixproxy/llmproxy/sessions"
)

// Defaults of Options.
const (
	DefaultPrefix        = "llmproxy:sessions:"
	DefaultLookupTimeout = 50 * time.Millisecond
	DefaultWriteTimeout  = time.Second
	DefaultProbeInterval = time.Second
	DefaultQueueSize     = 4096
)

// maxBatch bounds the writes sent in one pipeline.
const maxBatch = 256

// maxSession bounds a session id read back: what another process wrote is
// not trusted to be small (package sessions checks it again).
const maxSession = 256

// Options configure a Store.
type Options struct {
	// URL is Redis's: redis://[user:password@]host:port[/db], or rediss://
	// for TLS (go-redis's ParseURL reads it, query options included).
	URL string
	// TTL is how long an entry lives after it was last written (the
	// sessions' cache TTL); it must be set.
	TTL time.Duration
	// Prefix namespaces the keys; "" means DefaultPrefix.
	Prefix string
	// LookupTimeout bounds a lookup, the only wait a call can have on
	// Redis; 0 means DefaultLookupTimeout.
	LookupTimeout time.Duration
	// WriteTimeout bounds one batch of writes, and a probe; 0 means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration
	// ProbeInterval is how often a Redis marked down is pinged; 0 means
	// DefaultProbeInterval.
	ProbeInterval time.Duration
	// QueueSize bounds the writes waiting to go out; 0 means
	// DefaultQueueSize.
	QueueSize int
	// Logger says when Redis goes down and comes back; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Store is a sessions.Store in Redis. It is safe for concurrent use.
type Store struct {
	client *redis.Client
	addr   string // host:port, for the log: the URL may hold a password
	prefix string
	ttl    time.Duration
	lookup time.Duration
	write  time.Duration
	probe  time.Duration
	log    *slog.Logger

	up     atomic.Bool
	queue  chan entry
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once

	lookups, hits, failures, outages, written, dropped atomic.Int64
}

var _ sessions.Store = (*Store)(nil)

// entry is one write: key → session.
type entry struct{ key, session string }

// errDown is a lookup's error while Redis is marked down.
var errDown = errors.New("redis marked down: not tried")

// New connects to Redis and starts the writer. A URL that does not parse
// is an error; a Redis that does not answer the first ping (bounded by
// ctx) is not: the Store starts marked down, and is used once the probe
// reaches it.
func New(ctx context.Context, o Options) (*Store, error) {
	if o.TTL <= 0 {
		return nil, errors.New("redisstore: TTL must be set")
	}
	opt, err := parseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = DefaultLookupTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = DefaultProbeInterval
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	clientOptions(opt, o)
	s := &Store{
		client: redis.NewClient(opt),
		addr:   opt.Addr,
		prefix: o.Prefix,
		ttl:    o.TTL,
		lookup: o.LookupTimeout,
		write:  o.WriteTimeout,
		probe:  o.ProbeInterval,
		log:    o.Logger,
		queue:  make(chan entry, o.QueueSize),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if err := s.client.Ping(ctx).Err(); err != nil {
		s.outages.Add(1)
		s.log.Warn("sessions: Redis does not answer: each replica threads the conversations it sees from its own memory until it does",
			"redis", s.addr, "err", err)
	} else {
		s.up.Store(true)
		s.log.Info("sessions: shared through Redis", "redis", s.addr)
	}
	go s.run()
	return s, nil
}

// CheckURL says whether New can read a Redis URL; the error does not
// repeat the URL, which may hold a password.
func CheckURL(u string) error {
	_, err := parseURL(u)
	return err
}

func parseURL(u string) (*redis.Options, error) {
	opt, err := redis.ParseURL(u)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL, password and all, left out
		}
		return nil, fmt.Errorf("redisstore: the Redis URL: %w", err)
	}
	return opt, nil
}

// clientOptions sets what makes every wait on Redis bounded: the
// context's deadline reaches the socket, no retries, no waiting for a
// connection longer than a lookup may take, one dial attempt, and no
// handshake beyond authentication.
func clientOptions(opt *redis.Options, o Options) {
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DialTimeout = o.WriteTimeout
	opt.DialerRetries = 1
	opt.ReadTimeout = o.WriteTimeout
	opt.WriteTimeout = o.WriteTimeout
	opt.PoolTimeout = o.LookupTimeout
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

// Turn looks the hashes up in one round trip.
func (s *Store) Turn(ctx context.Context, hashes []uint64) (int, string, error) {
	if len(hashes) == 0 {
		return -1, "", nil
	}
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = s.turnKey(h)
	}
	vals, err := s.mget(ctx, keys)
	if err != nil {
		return -1, "", err
	}
	for i := len(vals) - 1; i >= 0; i-- {
		if v, ok := session(vals[i]); ok {
			s.hits.Add(1)
			return i, v, nil
		}
	}
	return -1, "", nil
}

// ID looks the keys up in one round trip.
func (s *Store) ID(ctx context.Context, keys []string) (int, string, error) {
	if len(keys) == 0 {
		return -1, "", nil
	}
	rkeys := make([]string, len(keys))
	for i, k := range keys {
		rkeys[i] = s.idKey(k)
	}
	vals, err := s.mget(ctx, rkeys)
	if err != nil {
		return -1, "", err
	}
	for i, v := range vals {
		if v, ok := session(v); ok {
			s.hits.Add(1)
			return i, v, nil
		}
	}
	return -1, "", nil
}

// mget is one MGET, bounded by the lookup timeout; a failure marks Redis
// down.
func (s *Store) mget(ctx context.Context, keys []string) ([]any, error) {
	if !s.up.Load() {
		return nil, errDown
	}
	s.lookups.Add(1)
	ctx, cancel := context.WithTimeout(ctx, s.lookup)
	defer cancel()
	vals, err := s.client.MGet(ctx, keys...).Result()
	if err != nil {
		s.down(err)
		return nil, fmt.Errorf("redisstore: looking up %d keys: %w", len(keys), err)
	}
	return vals, nil
}

// session is a value read back, if it can be a session id.
func session(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok && s != "" && len(s) <= maxSession
}

// PutTurn queues the write; it never blocks.
func (s *Store) PutTurn(hash uint64, session string) { s.put(s.turnKey(hash), session) }

// PutID queues the write; it never blocks.
func (s *Store) PutID(key, session string) { s.put(s.idKey(key), session) }

func (s *Store) put(key, session string) {
	if !s.up.Load() {
		s.dropped.Add(1)
		return
	}
	select {
	case s.queue <- entry{key, session}:
	default:
		s.dropped.Add(1) // Redis lags a whole queue behind: not waited for
	}
}

// turnKey is a conversation's key: its history's hash.
func (s *Store) turnKey(h uint64) string { return s.key("t:", h) }

// idKey is a Responses API id's key: a hash of it, so that no id a client
// could use with the provider's API is stored.
func (s *Store) idKey(k string) string { return s.key("i:", xxhash.Sum64String(k)) }

// key is the prefix, the kind and the hash in hex.
func (s *Store) key(kind string, h uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	return s.prefix + kind + hex.EncodeToString(b[:])
}

// run is the writer: it sends queued writes in pipelined batches while
// Redis is up, drops them while it is down, and probes it meanwhile.
func (s *Store) run() {
	defer close(s.done)
	tick := time.NewTicker(s.probe)
	defer tick.Stop()
	batch := make([]entry, 0, maxBatch)
	for {
		select {
		case <-s.stop:
			s.drain(batch[:0])
			return
		case e := <-s.queue:
			batch = s.fill(append(batch[:0], e))
			s.send(batch)
		case <-tick.C:
			if !s.up.Load() {
				s.ping()
			}
		}
	}
}

// fill adds what else is queued to batch, up to maxBatch.
func (s *Store) fill(batch []entry) []entry {
	for len(batch) < maxBatch {
		select {
		case e := <-s.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// send writes a batch in one pipeline, each entry with the TTL.
func (s *Store) send(batch []entry) {
	if !s.up.Load() {
		s.dropped.Add(int64(len(batch)))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.write)
	defer cancel()
	pipe := s.client.Pipeline()
	for _, e := range batch {
		pipe.Set(ctx, e.key, e.session, s.ttl)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.dropped.Add(int64(len(batch)))
		s.down(err)
		return
	}
	s.written.Add(int64(len(batch)))
}

// drain sends what is queued at Close, while Redis is up.
func (s *Store) drain(batch []entry) {
	for {
		batch = s.fill(batch[:0])
		if len(batch) == 0 {
			return
		}
		s.send(batch)
	}
}

// ping probes a Redis marked down, and marks it up when it answers.
func (s *Store) ping() {
	ctx, cancel := context.WithTimeout(context.Background(), s.write)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return
	}
	if s.up.CompareAndSwap(false, true) {
		s.log.Info("sessions: Redis answers again: conversations are shared across replicas again", "redis", s.addr)
	}
}

// down marks Redis down after a failure; the first failure of an outage
// says so in the log.
func (s *Store) down(err error) {
	s.failures.Add(1)
	if s.up.CompareAndSwap(true, false) {
		s.outages.Add(1)
		s.log.Warn("sessions: Redis failed: each replica threads the conversations it sees from its own memory until it answers again",
			"redis", s.addr, "err", err)
	}
}

// Up says whether Redis is in use now (not marked down).
func (s *Store) Up() bool { return s.up.Load() }

// Stats are a Store's counts since it started.
type Stats struct {
	Up bool
	// Lookups made, and those that found a session; Failures of lookups
	// and writes; Outages: the times Redis was marked down.
	Lookups, Hits, Failures, Outages int64
	// Written and Dropped: the writes Redis took, and those given up.
	Written, Dropped int64
}

// Stats returns the counts.
func (s *Store) Stats() Stats {
	return Stats{
		Up: s.up.Load(), Lookups: s.lookups.Load(), Hits: s.hits.Load(), Failures: s.failures.Load(),
		Outages: s.outages.Load(), Written: s.written.Load(), Dropped: s.dropped.Load(),
	}
}

// Close stops the writer once what is queued has gone out (or ctx is
// done), and closes the connections. It runs once; later calls return nil.
func (s *Store) Close(ctx context.Context) error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		select {
		case <-s.done:
		case <-ctx.Done():
			err = fmt.Errorf("redisstore: writes left unsent: %w", ctx.Err())
		}
		if cerr := s.client.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("redisstore: closing: %w", cerr)
		}
	})
	return err
}

// RouteClientLog sends go-redis's own log lines (one per failed dial, a
// few per outage) to log at debug level: the Store says what matters, once
// an outage. go-redis has one logger per process: main calls this once.
func RouteClientLog(log *slog.Logger) { redis.SetLogger(clientLog{log}) }

type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}
