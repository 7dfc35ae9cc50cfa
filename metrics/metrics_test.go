package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestModelLabelsCapped: clients choose model names, so after maxModels
// distinct names the rest share the label "other" instead of each making
// new series for the life of the process.
func TestModelLabelsCapped(t *testing.T) {
	m := New(nil)
	for i := 0; i < maxModels+50; i++ {
		m.Observe(Call{Route: "/chat/completions", Model: fmt.Sprintf("m%d", i), Provider: "openai", Status: 200, Duration: time.Millisecond})
	}
	m.Observe(Call{Route: "/chat/completions", Model: "m0", Provider: "openai", Status: 200, Duration: time.Millisecond})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`llmproxy_requests_total{model="m0",provider="openai",route="/chat/completions",status="200"} 2`,
		fmt.Sprintf(`llmproxy_requests_total{model="m%d",provider="openai",route="/chat/completions",status="200"} 1`, maxModels-1),
		`llmproxy_requests_total{model="other",provider="openai",route="/chat/completions",status="200"} 50`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(text, fmt.Sprintf(`model="m%d"`, maxModels)) {
		t.Errorf("model m%d has its own series past the cap", maxModels)
	}
}

// TestNilMetrics: a proxy run without metrics calls the same methods.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.Observe(Call{Model: "x"})
	m.UpstreamError("UpstreamTimeout")
	m.StreamStarted()
	m.StreamEnded()
}

// TestObserveAllocatesNothing: counting a call adds no allocation to the
// hot path once its series exist.
func TestObserveAllocatesNothing(t *testing.T) {
	m := New(nil)
	c := Call{Route: "/chat/completions", Model: "gpt-4o", Provider: "openai", Status: 200,
		Duration: time.Millisecond, FirstToken: time.Millisecond, PromptTokens: 3, CompletionToks: 4}
	if n := testing.AllocsPerRun(1000, func() { m.Observe(c) }); n != 0 {
		t.Errorf("Observe allocates %v times a call, want 0", n)
	}
}

// TestSessionStoreMetrics: the shared session store's counts are read at
// each scrape.
func TestSessionStoreMetrics(t *testing.T) {
	m := New(nil)
	counts := SessionStoreCounts{Up: true, Lookups: 7, Hits: 5, Failures: 1, Outages: 1, Written: 9, Dropped: 2}
	m.WatchSessionStore(func() SessionStoreCounts { return counts })
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Body)
		return string(body)
	}
	text := scrape()
	for _, want := range []string{
		"llmproxy_session_store_up 1", "llmproxy_session_store_lookups_total 7", "llmproxy_session_store_hits_total 5",
		"llmproxy_session_store_failures_total 1", "llmproxy_session_store_outages_total 1",
		"llmproxy_session_store_writes_total 9", "llmproxy_session_store_writes_dropped_total 2",
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	counts.Up = false
	if text := scrape(); !strings.Contains(text, "llmproxy_session_store_up 0\n") {
		t.Error("a store marked down still reads as up")
	}
}
