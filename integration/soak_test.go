package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSoak makes SOAK_CALLS (default 100,000) mixed calls through one proxy,
// 16 at a time: plain, streamed, upstream errors, and streams the client
// leaves. At the end the goroutines, open files and live heap must be back
// where they were: nothing leaks per call. It runs with `make soak`, not in
// `make test` (a minute or two).
func TestSoak(t *testing.T) {
	if os.Getenv("SOAK") == "" {
		t.Skip("set SOAK=1 (make soak) to run")
	}
	calls := 100_000
	if n, err := strconv.Atoi(os.Getenv("SOAK_CALLS")); err == nil && n > 0 {
		calls = n
	}
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Soak") {
		case "error":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}`)
		case "stream", "leave":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; i < 20; i++ {
				fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d \"},\"finish_reason\":null}],\"usage\":null}\n\n", i)
				w.(http.Flusher).Flush()
			}
			io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":20,\"total_tokens\":21}}\n\ndata: [DONE]\n\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, chatAnswer)
		}
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	call := func(kind string) error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		body := `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`
		if kind == "stream" || kind == "leave" {
			body = `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.proxy.URL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Soak", kind)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if kind == "leave" {
			buf := make([]byte, 64)
			_, _ = resp.Body.Read(buf)
			cancel() // the client leaves mid-stream
			return nil
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	measure := func() (goroutines, files int, heapMB float64) {
		// The test's collector keeps what it gets: flushed and emptied,
		// so that only the proxy's memory is measured.
		if err := h.provider.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.receiver.Reset()
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fds, _ := os.ReadDir("/proc/self/fd")
		return runtime.NumGoroutine(), len(fds), float64(m.HeapAlloc) / (1 << 20)
	}
	kinds := []string{"plain", "stream", "error", "leave"}
	var failed atomic.Int64
	run := func(n int) time.Duration {
		var next atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(n) {
						return
					}
					if err := call(kinds[i%int64(len(kinds))]); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		time.Sleep(500 * time.Millisecond) // streams the clients left finish unwinding
		return time.Since(start)
	}
	run(2000) // warm-up: the connection pools reach their size under this load
	g0, f0, h0 := measure()
	took := run(calls)
	g1, f1, h1 := measure()
	t.Logf("%d calls in %s (%.0f/s), %d failed; goroutines %d → %d, open files %d → %d, live heap %.1f → %.1f MB",
		calls, took.Round(time.Second), float64(calls)/took.Seconds(), failed.Load(), g0, g1, f0, f1, h0, h1)
	if failed.Load() > 0 {
		t.Errorf("%d calls failed", failed.Load())
	}
	if g1 > g0+10 {
		t.Errorf("goroutines grew from %d to %d", g0, g1)
	}
	if f1 > f0+10 {
		t.Errorf("open files grew from %d to %d", f0, f1)
	}
	if h1 > h0+16 {
		t.Errorf("live heap grew from %.1f to %.1f MB", h0, h1)
	}
}
