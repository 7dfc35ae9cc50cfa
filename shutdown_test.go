package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/integration/otlptest"
)

// TestMain lets the test binary run as the proxy itself, so shutdown is
// tested on the real process: signals, draining, flushing.
func TestMain(m *testing.M) {
	if os.Getenv("LLMPROXY_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// TestShutdownFlushesEverySpan: on SIGTERM the proxy drains, cuts a stream
// still open past SHUTDOWN_TIMEOUT, and still exports the spans of every
// call, the cut stream's included, before it exits 0. The batch delay is an
// hour, so only the shutdown flush can export them.
func TestShutdownFlushesEverySpan(t *testing.T) {
	receiver := otlptest.Start(t)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "chat") {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"done"},"finish_reason":"stop"}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ { // a stream that never ends
			fmt.Fprintf(w, "data: {\"id\":\"s\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d \"}}]}\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}))
	defer upstream.Close()

	port := freePort(t)
	cmd := exec.Command(os.Args[0]) // TestMain runs main() before any test flag is read
	cmd.Env = append(os.Environ(),
		"LLMPROXY_RUN_MAIN=1", "HOST=127.0.0.1", "PORT="+port,
		"OPENAI_API_BASE="+upstream.URL+"/v1",
		"PHOENIX_COLLECTOR_ENDPOINT="+receiver.Endpoint(),
		"OTEL_BSP_SCHEDULE_DELAY=3600000", "SHUTDOWN_TIMEOUT=500ms",
	)
	var logs strings.Builder
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(10 * time.Second); ; {
		if r, err := http.Get(base + "/health/readiness"); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("proxy did not start: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	r, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","messages":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()

	stream, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","stream":true,"messages":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	if _, err := bufio.NewReader(stream.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("proxy exit: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("proxy did not exit after SIGTERM:\n%s", logs.String())
	}
	got := receiver.WaitFor(t, 2, 5*time.Second)
	var streamed bool
	for _, s := range got {
		if c, _ := s.Attributes["llm.output_messages.0.message.content"].(string); strings.HasPrefix(c, "t0 ") {
			streamed = true
		}
	}
	if len(got) != 2 || !streamed {
		t.Errorf("got %d spans (stream's with its content: %v); want both calls' spans", len(got), streamed)
	}
}
