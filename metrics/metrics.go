// Package metrics is the proxy's Prometheus metrics: calls by route,
// model, provider and status; latency and time to first token; tokens in
// and out; upstream errors by kind; streams in flight; and the spans
// exported, buffered, spooled on disk and dropped. Each Metrics has its
// own registry (no global state), served at /metrics by Handler.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxModels bounds the model label's values: model names come from
// clients, and each new one would be a new series for ever.
const maxModels = 200

// Metrics are the proxy's metrics. A nil *Metrics records nothing.
type Metrics struct {
	registry  *prometheus.Registry
	calls     *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	ttft      *prometheus.HistogramVec
	tokens    *prometheus.CounterVec
	upstream  *prometheus.CounterVec
	streaming prometheus.Gauge

	mu     sync.Mutex
	models map[string]bool

	// statuses are the status labels, made once: strconv.Itoa would
	// allocate for each call's status.
	statuses [600]string
}

// SpanCounts are the span export's counts, read when metrics are scraped.
type SpanCounts struct {
	Sent, Dropped   int64
	Held, HeldBytes int
	// The spool's part (SPAN_SPOOL_DIR): spans and bytes on disk, damaged
	// stretches skipped, batches the disk refused (kept in memory).
	Spooled                   int
	SpooledBytes              int64
	SpoolDamaged, SpoolErrors int64
}

// New makes the metrics; spans, when set, is read at each scrape.
func New(spans func() SpanCounts) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), models: map[string]bool{}}
	for i := range m.statuses {
		m.statuses[i] = strconv.Itoa(i)
	}
	labels := []string{"route", "model", "provider"}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmproxy_requests_total", Help: "Calls proxied, by route, model, provider and HTTP status.",
	}, append(labels, "status"))
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmproxy_request_duration_seconds", Help: "Time from a call's arrival to the end of its answer.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 12), // 5 ms … 19 min
	}, labels)
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "llmproxy_time_to_first_token_seconds", Help: "Time from a streamed call's arrival to its first token at the client.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12), // 10 ms … 41 s
	}, labels)
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmproxy_tokens_total", Help: "Tokens of the calls, by direction (prompt, completion).",
	}, append(labels, "direction"))
	m.upstream = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llmproxy_upstream_errors_total", Help: "Calls that got no complete answer, by kind (timeout, connection, stream, …).",
	}, []string{"kind"})
	m.streaming = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "llmproxy_streams_in_flight", Help: "Streams being relayed now.",
	})
	m.registry.MustRegister(m.calls, m.latency, m.ttft, m.tokens, m.upstream, m.streaming)
	if spans != nil {
		m.registry.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "llmproxy_spans_exported_total", Help: "Spans the collector took."},
				func() float64 { return float64(spans().Sent) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "llmproxy_spans_dropped_total", Help: "Spans dropped: the buffer or the spool was over its budget, or shutdown came first."},
				func() float64 { return float64(spans().Dropped) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmproxy_spans_buffered", Help: "Spans held for the collector now."},
				func() float64 { return float64(spans().Held) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmproxy_spans_buffered_bytes", Help: "Size of the spans held (estimated in memory, on disk in the spool)."},
				func() float64 { return float64(spans().HeldBytes) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmproxy_spans_spooled", Help: "Spans held in the spool on disk now (SPAN_SPOOL_DIR)."},
				func() float64 { return float64(spans().Spooled) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmproxy_spool_bytes", Help: "Bytes of the spool's segments on disk."},
				func() float64 { return float64(spans().SpooledBytes) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "llmproxy_spool_damaged_records_total", Help: "Damaged stretches of the spool skipped (a write cut short by a crash)."},
				func() float64 { return float64(spans().SpoolDamaged) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "llmproxy_spool_write_errors_total", Help: "Batches of spans the spool could not take (a full or read-only disk), kept in memory instead."},
				func() float64 { return float64(spans().SpoolErrors) }),
		)
	}
	return m
}

// SessionStoreCounts are the counts of the Redis that shares session
// inference's memory across replicas (SESSION_REDIS_URL).
type SessionStoreCounts struct {
	Up                                                 bool
	Lookups, Hits, Failures, Outages, Written, Dropped int64
}

// WatchSessionStore adds the shared session store's metrics, read from
// counts at each scrape. Call it once, before serving.
func (m *Metrics) WatchSessionStore(counts func() SessionStoreCounts) {
	counter := func(name, help string, v func(SessionStoreCounts) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(counts())) })
	}
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "llmproxy_session_store_up", Help: "1 while the shared session store (Redis) answers, 0 while it is marked down."},
			func() float64 {
				if counts().Up {
					return 1
				}
				return 0
			}),
		counter("llmproxy_session_store_lookups_total", "Lookups of the shared session store.", func(c SessionStoreCounts) int64 { return c.Lookups }),
		counter("llmproxy_session_store_hits_total", "Lookups of the shared session store that found a session.", func(c SessionStoreCounts) int64 { return c.Hits }),
		counter("llmproxy_session_store_failures_total", "Lookups and writes of the shared session store that failed or timed out.", func(c SessionStoreCounts) int64 { return c.Failures }),
		counter("llmproxy_session_store_outages_total", "Times the shared session store was marked down.", func(c SessionStoreCounts) int64 { return c.Outages }),
		counter("llmproxy_session_store_writes_total", "Writes the shared session store took.", func(c SessionStoreCounts) int64 { return c.Written }),
		counter("llmproxy_session_store_writes_dropped_total", "Writes given up: the queue was full or the store was down.", func(c SessionStoreCounts) int64 { return c.Dropped }),
	)
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Call is what one finished call adds.
type Call struct {
	Route, Model, Provider       string
	Status                       int
	Duration, FirstToken         time.Duration // FirstToken 0: none
	PromptTokens, CompletionToks int64
}

// Observe records a finished call.
func (m *Metrics) Observe(c Call) {
	if m == nil {
		return
	}
	model := m.model(c.Model)
	status := "other"
	if c.Status >= 0 && c.Status < len(m.statuses) {
		status = m.statuses[c.Status]
	}
	m.calls.WithLabelValues(c.Route, model, c.Provider, status).Inc()
	m.latency.WithLabelValues(c.Route, model, c.Provider).Observe(c.Duration.Seconds())
	if c.FirstToken > 0 {
		m.ttft.WithLabelValues(c.Route, model, c.Provider).Observe(c.FirstToken.Seconds())
	}
	if c.PromptTokens > 0 {
		m.tokens.WithLabelValues(c.Route, model, c.Provider, "prompt").Add(float64(c.PromptTokens))
	}
	if c.CompletionToks > 0 {
		m.tokens.WithLabelValues(c.Route, model, c.Provider, "completion").Add(float64(c.CompletionToks))
	}
}

// UpstreamError counts a call that got no complete answer.
func (m *Metrics) UpstreamError(kind string) {
	if m != nil {
		m.upstream.WithLabelValues(kind).Inc()
	}
}

// StreamStarted and StreamEnded keep the count of streams in flight.
func (m *Metrics) StreamStarted() {
	if m != nil {
		m.streaming.Inc()
	}
}

// StreamEnded: see StreamStarted.
func (m *Metrics) StreamEnded() {
	if m != nil {
		m.streaming.Dec()
	}
}

// model is the label value of a model: itself for the first maxModels
// names seen, "other" after.
func (m *Metrics) model(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.models[name] {
		return name
	}
	if len(m.models) >= maxModels {
		return "other"
	}
	m.models[name] = true
	return name
}
