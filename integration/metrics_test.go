package integration

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/metrics"
)

// TestMetrics: after real calls, /metrics answers with the series of each:
// calls by route, model, provider and status; latency and time-to-first-
// token histograms; tokens; upstream errors by kind; streams in flight;
// spans exported.
func TestMetrics(t *testing.T) {
	var tp *export.Provider
	m := metrics.New(func() metrics.SpanCounts {
		s := tp.BufferStats()
		return metrics.SpanCounts{Sent: s.Sent, Dropped: s.Dropped, Held: s.Held, HeldBytes: s.HeldBytes}
	})
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.Header.Get("X-Test"), "drop"):
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case strings.Contains(r.Header.Get("X-Test"), "429"):
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"slow down"}}`)
		case strings.Contains(r.Header.Get("X-Test"), "stream"):
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"id":"c","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}`+"\n\n"+
				`data: {"id":"c","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}`+"\n\ndata: [DONE]\n\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, chatAnswer)
		}
	}}
	h := newHarness(t, harnessOptions{upstream: up, metrics: m})
	tp = h.provider
	const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, nil)
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, map[string]string{"X-Test": "429"})
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`, map[string]string{"X-Test": "stream"})
	// A call whose upstream hangs up still gets its call id and
	// traceresponse, and is counted as an upstream error.
	failed, _ := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, map[string]string{"X-Test": "drop"})
	if failed.StatusCode != http.StatusBadGateway || failed.Header.Get("X-Litellm-Call-Id") == "" || failed.Header.Get("Traceresponse") == "" {
		t.Errorf("failed call: status %d, call id %q, traceresponse %q; want 502 with both", failed.StatusCode, failed.Header.Get("X-Litellm-Call-Id"), failed.Header.Get("Traceresponse"))
	}
	if err := h.provider.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.receiver.WaitFor(t, 4, 5*time.Second)
	resp, err := http.Get(h.proxy.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(b)
	for _, want := range []string{
		`llmproxy_requests_total{model="gpt-4o",provider="openai",route="/chat/completions",status="200"} 2`,
		`llmproxy_requests_total{model="gpt-4o",provider="openai",route="/chat/completions",status="429"} 1`,
		`llmproxy_requests_total{model="gpt-4o",provider="openai",route="/chat/completions",status="502"} 1`,
		`llmproxy_request_duration_seconds_count{model="gpt-4o",provider="openai",route="/chat/completions"} 4`,
		`llmproxy_time_to_first_token_seconds_count{model="gpt-4o",provider="openai",route="/chat/completions"} 1`,
		`llmproxy_tokens_total{direction="prompt",model="gpt-4o",provider="openai",route="/chat/completions"} 7`,
		`llmproxy_tokens_total{direction="completion",model="gpt-4o",provider="openai",route="/chat/completions"} 8`,
		`llmproxy_upstream_errors_total{kind="UpstreamConnectionError"} 1`,
		`llmproxy_streams_in_flight 0`,
		`llmproxy_spans_dropped_total 0`,
		`llmproxy_spans_exported_total`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}
