package integration

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// The collector fails in the ways a real one does (dies and comes back,
// hangs, starts after the proxy); calls go on under load meanwhile. Every
// span must reach it once it answers, and no call may fail or wait.

// outageProxy is a proxy whose collector is at addr, exporting every 20 ms.
func outageProxy(t *testing.T, addr string, bufferBytes int) (*export.Provider, string) {
	t.Helper()
	return outageProxyWith(t, addr, func(c *export.Config) { c.BufferBytes = bufferBytes })
}

// outageProxyWith is outageProxy with its export configuration changed by
// set.
func outageProxyWith(t *testing.T, addr string, set func(*export.Config)) (*export.Provider, string) {
	t.Helper()
	up := httptest.NewServer(answer(200, chatAnswer))
	t.Cleanup(up.Close)
	cfg := export.Config{
		Endpoint:       "http://" + addr,
		ProjectName:    "outage",
		BatchTimeout:   20 * time.Millisecond,
		AttemptTimeout: 300 * time.Millisecond,
	}
	set(&cfg)
	tp, err := export.NewProvider(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = tp.Shutdown(ctx)
	})
	providers, err := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: up.URL + "/v1"}})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(tp)}))
	t.Cleanup(proxy.Close)
	return tp, proxy.URL
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// load makes calls, each marked, every tick until stop is closed; it
// reports the markers and fails the test on any failed or slow call.
func load(t *testing.T, proxyURL string, tick time.Duration, stop <-chan struct{}) <-chan []string {
	out := make(chan []string, 1)
	go func() {
		var markers []string
		for i := 0; ; i++ {
			select {
			case <-stop:
				out <- markers
				return
			case <-time.After(tick):
			}
			m := fmt.Sprintf("marker-%d", i)
			start := time.Now()
			resp, body := post(t, proxyURL+"/v1/chat/completions", "application/json",
				`{"model":"gpt-4o","messages":[{"role":"user","content":"`+m+`"}]}`, nil)
			if resp.StatusCode != 200 || body != chatAnswer {
				t.Errorf("%s: %d", m, resp.StatusCode)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("%s took %s while the collector was out", m, d)
			}
			markers = append(markers, m)
		}
	}()
	return out
}

// markersIn are the markers of the spans received, with how many times each.
func markersIn(rs ...*otlptest.Receiver) map[string]int {
	got := map[string]int{}
	for _, r := range rs {
		for _, s := range r.Spans() {
			if m, ok := s.Attributes["llm.input_messages.0.message.content"].(string); ok {
				got[m]++
			}
		}
	}
	return got
}

// waitMarkers waits until every marker has arrived, or fails.
func waitMarkers(t *testing.T, markers []string, within time.Duration, rs ...*otlptest.Receiver) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := markersIn(rs...)
		var missing []string
		for _, m := range markers {
			if got[m] == 0 {
				missing = append(missing, m)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d spans never arrived (first missing: %s)", len(missing), len(markers), missing[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCollectorDownThenBackLosesNoSpan(t *testing.T) {
	addr := freeAddr(t)
	first := otlptest.StartAt(t, addr)
	_, proxyURL := outageProxy(t, addr, 0)
	stop := make(chan struct{})
	got := load(t, proxyURL, 25*time.Millisecond, stop)
	time.Sleep(500 * time.Millisecond)
	first.Stop() // down for 2 s, under load
	time.Sleep(2 * time.Second)
	second := otlptest.StartAt(t, addr)
	back := time.Now()
	time.Sleep(500 * time.Millisecond)
	close(stop)
	markers := <-got
	// A call made after the collector came back reaches it within a
	// schedule delay plus the backlog's send time.
	resp, _ := post(t, proxyURL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"after"}]}`, nil)
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	waitMarkers(t, append(markers, "after"), 3*time.Second, first, second)
	t.Logf("%d calls; every span arrived, the last %s after the collector came back", len(markers)+1, time.Since(back).Round(10*time.Millisecond))
	if len(markers) < 80 {
		t.Errorf("only %d calls under load", len(markers))
	}
}

func TestHungCollectorLosesNoSpan(t *testing.T) {
	r := otlptest.Start(t)
	r.Hang(true)
	_, proxyURL := outageProxy(t, r.Addr, 0)
	stop := make(chan struct{})
	got := load(t, proxyURL, 25*time.Millisecond, stop)
	time.Sleep(1500 * time.Millisecond) // exports hang, each cut at 300 ms
	r.Hang(false)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	waitMarkers(t, <-got, 3*time.Second, r)
}

func TestCollectorStartedAfterTheProxyGetsEverySpan(t *testing.T) {
	addr := freeAddr(t)
	_, proxyURL := outageProxy(t, addr, 0)
	stop := make(chan struct{})
	got := load(t, proxyURL, 25*time.Millisecond, stop)
	time.Sleep(1500 * time.Millisecond)
	r := otlptest.StartAt(t, addr)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	waitMarkers(t, <-got, 3*time.Second, r)
}

// Over the budget, the oldest spans go, and are counted; the newest
// arrive once the collector answers.
func TestSpanBufferBudgetDropsOldestFirst(t *testing.T) {
	addr := freeAddr(t)
	tp, proxyURL := outageProxy(t, addr, 64<<10)
	var markers []string
	for i := 0; i < 150; i++ {
		m := fmt.Sprintf("marker-%03d %s", i, strings.Repeat("x", 1000))
		post(t, proxyURL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"`+m+`"}]}`, nil)
		markers = append(markers, m)
		if i%10 == 0 {
			time.Sleep(30 * time.Millisecond) // let batches form
		}
	}
	time.Sleep(100 * time.Millisecond)
	stats := tp.BufferStats()
	if stats.Dropped == 0 || stats.HeldBytes > 64<<10 {
		t.Fatalf("buffer stats %+v; want drops, at most 64 KiB held", stats)
	}
	r := otlptest.StartAt(t, addr)
	waitMarkers(t, markers[len(markers)-10:], 3*time.Second, r)
	got := markersIn(r)
	if got[markers[0]] != 0 {
		t.Errorf("the oldest span arrived; the oldest should have been dropped")
	}
	if n := int64(len(got)); n+stats.Dropped < int64(len(markers))-1 {
		t.Errorf("%d arrived + %d dropped; want all %d accounted for", n, stats.Dropped, len(markers))
	}
}

// Shutdown sends what is held within its deadline.
func TestShutdownSendsTheBacklog(t *testing.T) {
	addr := freeAddr(t)
	tp, proxyURL := outageProxy(t, addr, 0)
	var markers []string
	for i := 0; i < 30; i++ {
		m := fmt.Sprintf("marker-%d", i)
		post(t, proxyURL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"`+m+`"}]}`, nil)
		markers = append(markers, m)
	}
	time.Sleep(200 * time.Millisecond)
	r := otlptest.StartAt(t, addr)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	wg.Wait()
	waitMarkers(t, markers, time.Second, r)
}

// TestCollectorLongOutage: a 20 s outage under load, then the collector
// back: every span of the outage arrives, and so does one made after it.
// Long, so it runs with `make soak`, not in `make test`.
func TestCollectorLongOutage(t *testing.T) {
	if os.Getenv("SOAK") == "" {
		t.Skip("set SOAK=1 (make soak) to run")
	}
	for _, tc := range []struct {
		name string
		set  func(*testing.T, *export.Config)
	}{
		{"memory buffer", func(*testing.T, *export.Config) {}},
		{"spool", func(t *testing.T, c *export.Config) { c.SpoolDir = t.TempDir() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			first := otlptest.StartAt(t, addr)
			_, proxyURL := outageProxyWith(t, addr, func(c *export.Config) { tc.set(t, c) })
			stop := make(chan struct{})
			got := load(t, proxyURL, 50*time.Millisecond, stop)
			time.Sleep(time.Second)
			first.Stop()
			time.Sleep(20 * time.Second)
			second := otlptest.StartAt(t, addr)
			time.Sleep(time.Second)
			close(stop)
			markers := <-got
			resp, _ := post(t, proxyURL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"after"}]}`, nil)
			if resp.StatusCode != 200 {
				t.Fatal(resp.StatusCode)
			}
			waitMarkers(t, append(markers, "after"), 5*time.Second, first, second)
			t.Logf("%d calls over a 20 s outage; every span arrived", len(markers)+1)
		})
	}
}
