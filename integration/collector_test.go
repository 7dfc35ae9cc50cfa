package integration

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// TestDeadOrStalledCollectorNeverBlocksCalls runs calls through a proxy
// whose collector is gone (nothing listens) or stalled (accepts, never
// answers), with a queue small enough to overflow. Every call must succeed
// while exports hang: exporting happens beside the calls, never in them.
func TestDeadOrStalledCollectorNeverBlocksCalls(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()

	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	go func() {
		for {
			c, err := stalled.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold the connection open, say nothing
		}
	}()

	for name, addr := range map[string]string{"dead": deadAddr, "stalled": stalled.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			up := httptest.NewServer(answer(200, chatAnswer))
			defer up.Close()
			tp, err := export.NewProvider(context.Background(), export.Config{
				Endpoint:           "http://" + addr,
				ProjectName:        "p",
				BatchTimeout:       5 * time.Millisecond,
				ExportTimeout:      30 * time.Second,
				MaxQueueSize:       16,
				MaxExportBatchSize: 8,
			})
			if err != nil {
				t.Fatal(err)
			}
			providers, err := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: up.URL + "/v1"}})
			if err != nil {
				t.Fatal(err)
			}
			proxy := httptest.NewServer(handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(tp)}))
			defer proxy.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for i := 0; i < 200; i++ {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxy.URL+"/v1/chat/completions",
					strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("call %d with a %s collector: %v", i, name, err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("call %d with a %s collector: status %d", i, name, resp.StatusCode)
				}
			}
			// Shutdown gives up when its context ends; it must not hang.
			sctx, scancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer scancel()
			_ = tp.Shutdown(sctx)
		})
	}
}
