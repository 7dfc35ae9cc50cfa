package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// The receiver in these tests is a real gRPC server with gRPC's default
// 4 MiB limit on a message, the limit Phoenix keeps: an export request over
// it, or one protobuf cannot encode, loses every span in it.

// TestInvalidUTF8DoesNotLoseTheBatch: a client body with an invalid byte
// must not make its span, and the spans exported with it, unencodable.
func TestInvalidUTF8DoesNotLoseTheBatch(t *testing.T) {
	h := newHarness(t, harnessOptions{upstream: answer(200, chatAnswer)})
	post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		"{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"bad \xff\xfe byte\"}]}", nil)
	span := h.span(t)
	if got := span.Attributes["llm.input_messages.0.message.content"]; got != "bad \uFFFD byte" {
		t.Errorf("content: got %q; want the invalid bytes replaced", got)
	}
}

// TestLargeSpansAreExportedWithinTheLimit flushes, in one batch, spans far
// larger together than a message may be, and one embeddings span larger
// alone: every span must arrive.
func TestLargeSpansAreExportedWithinTheLimit(t *testing.T) {
	const n = 40
	vec := "[" + strings.TrimSuffix(strings.Repeat("0.0123456789,", 3072), ",") + "]"
	var data []string
	for i := 0; i < 200; i++ {
		data = append(data, fmt.Sprintf(`{"object":"embedding","index":%d,"embedding":%s}`, i, vec))
	}
	bigEmbeddings := `{"object":"list","model":"text-embedding-3-large","data":[` + strings.Join(data, ",") + `],"usage":{"prompt_tokens":200,"total_tokens":200}}`

	up := httptest.NewServer(&scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/embeddings") {
			io.WriteString(w, bigEmbeddings)
			return
		}
		io.WriteString(w, chatAnswer)
	}})
	defer up.Close()
	receiver := otlptest.Start(t)
	tp, err := export.NewProvider(context.Background(), export.Config{
		Endpoint:     receiver.Endpoint(),
		BatchTimeout: time.Hour, // everything goes in the one flush below
		MaxQueueSize: 1000, MaxExportBatchSize: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Shutdown(context.Background())
	providers, _ := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: up.URL + "/v1"}})
	proxy := httptest.NewServer(handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(tp)}))
	defer proxy.Close()

	long := strings.Repeat("é long conversation ", 10_000) // 210 KB a message
	for i := 0; i < n; i++ {
		post(t, proxy.URL+"/v1/chat/completions", "application/json",
			fmt.Sprintf(`{"model":"gpt-4o","messages":[{"role":"user","content":%q}]}`, long), nil)
	}
	resp, _ := post(t, proxy.URL+"/v1/embeddings", "application/json", `{"model":"text-embedding-3-large","input":"x"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("embeddings: %d", resp.StatusCode)
	}
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	got := receiver.WaitFor(t, n+1, 10*time.Second)
	if len(got) != n+1 {
		t.Fatalf("%d spans arrived; want %d", len(got), n+1)
	}
	for _, s := range got {
		if s.Name == "CreateEmbeddings" {
			out, _ := s.Attributes["output.value"].(string)
			if !strings.Contains(out, "cut by llmproxy") || !utf8.ValidString(out) {
				t.Errorf("the oversized span was not trimmed to fit: output.value has %d bytes", len(out))
			}
			if s.Attributes["llm.token_count.total"] != int64(200) {
				t.Errorf("trimming lost small attributes: %v", s.Attributes["llm.token_count.total"])
			}
		} else if s.Attributes["llm.input_messages.0.message.content"] != long {
			t.Errorf("a span that fits was changed")
		}
	}
}

// TestPhoenixCloudOverHTTP: an endpoint with a path (Phoenix Cloud's
// https://app.phoenix.arize.com/s/<space>/v1/traces) is exported to over
// OTLP/HTTP, at that path, with the API key; gRPC could not address it.
func TestPhoenixCloudOverHTTP(t *testing.T) {
	receiver := otlptest.StartHTTP(t, "/s/my-space/v1/traces")
	tp, err := export.NewProvider(context.Background(), export.Config{
		Endpoint:     receiver.Endpoint(),
		ProjectName:  "cloud",
		Headers:      map[string]string{"authorization": "Bearer phoenix-cloud-key"},
		BatchTimeout: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tp.Shutdown(context.Background())
	up := httptest.NewServer(answer(200, chatAnswer))
	defer up.Close()
	providers, _ := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: up.URL + "/v1"}})
	proxy := httptest.NewServer(handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(tp)}))
	defer proxy.Close()
	post(t, proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"to the cloud"}]}`, nil)
	if err := tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := receiver.WaitFor(t, 1, 5*time.Second)
	if got[0].Attributes["llm.input_messages.0.message.content"] != "to the cloud" || got[0].Resource["openinference.project.name"] != "cloud" {
		t.Errorf("span: %v, resource %v", got[0].Attributes, got[0].Resource)
	}
	if h := receiver.Headers(); len(h) == 0 || strings.Join(h[0]["authorization"], "") != "Bearer phoenix-cloud-key" {
		t.Errorf("export headers %v; want the API key", h)
	}
}
