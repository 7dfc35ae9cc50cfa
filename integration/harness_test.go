package integration

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/litellmconfig"
	"github.com/phoenixproxy/llmproxy/metrics"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// fixturesDir is the recorded traffic and golden spans of one API (openai,
// responses, anthropic): testdata/API in the repository, or $FIXTURES_DIR/API
// when FIXTURES_DIR names another tree of the same layout.
func fixturesDir(t testing.TB, api string) string {
	t.Helper()
	root := os.Getenv("FIXTURES_DIR")
	if root == "" {
		root = "testdata"
	}
	d, err := filepath.Abs(filepath.Join(root, api))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("fixtures for %s not found (FIXTURES_DIR=%q): %v", api, os.Getenv("FIXTURES_DIR"), err)
	}
	return d
}

// syncBuffer is a bytes.Buffer safe for the proxy's goroutines to write
// while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is one proxy between a fake provider and an OTLP receiver.
type harness struct {
	upstream *fakeprovider.Server
	receiver *otlptest.Receiver
	provider *export.Provider
	proxy    *httptest.Server
}

type harnessOptions struct {
	cassettes         []fakeprovider.Cassette
	env               upstream.Env // base URLs are pointed at the fake
	upstreamTimeout   time.Duration
	streamIdleTimeout time.Duration
	maxBodyBytes      int64
	upstream          http.Handler // replaces the fake provider when set
	openAIBase        string       // replaces the upstream's URL for OpenAI when set
	anthropicBase     string       // likewise for Anthropic
	bodyReadTimeout   time.Duration
	maxInFlight       int
	logOutput         io.Writer // the proxy's log lines, when set
	redaction         *spans.Redaction
	masterKey         string
	metrics           *metrics.Metrics
	// config is a LiteLLM config file's text; lookup resolves its
	// os.environ/ references.
	config    string
	lookup    map[string]string
	transport http.RoundTripper
	// projectPattern and maxProjects: the projects a call may name.
	projectPattern *regexp.Regexp
	maxProjects    int
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{upstream: fakeprovider.New(o.cassettes)}
	h.upstream.EmulateIncludeUsage = true
	var fake http.Handler = h.upstream
	if o.upstream != nil {
		fake = o.upstream
	}
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)

	h.receiver = otlptest.Start(t)
	tp, err := export.NewProvider(context.Background(), export.Config{
		Endpoint:     h.receiver.Endpoint(),
		ProjectName:  "proxy-tests",
		ServiceName:  "llmproxy",
		Headers:      map[string]string{"authorization": "Bearer phoenix-key"},
		BatchTimeout: 20 * time.Millisecond,
		MaxProjects:  o.maxProjects,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.provider = tp
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	env := o.env
	env.OpenAIAPIBase = up.URL + "/v1"
	if o.openAIBase != "" {
		env.OpenAIAPIBase = o.openAIBase
	}
	env.AzureAPIBase = up.URL
	env.GeminiAPIBase = up.URL + "/v1beta/openai" // the OpenAI-compatible form: the native root is up.URL
	env.VertexAPIBase = up.URL
	env.AWSBedrockRuntimeEndpoint = up.URL
	env.AnthropicAPIBase = up.URL
	if o.anthropicBase != "" {
		env.AnthropicAPIBase = o.anthropicBase
	}
	providers, err := upstream.NewProviders(env)
	if err != nil {
		t.Fatal(err)
	}
	rt := router.FromEnvironment(providers)
	masterKey := o.masterKey
	if o.config != "" {
		file, err := litellmconfig.Parse([]byte(o.config), func(name string) (string, bool) {
			v, ok := o.lookup[name]
			return v, ok
		})
		if err != nil {
			t.Fatal(err)
		}
		if rt, err = router.New(file, providers); err != nil {
			t.Fatal(err)
		}
		if file.MasterKey != "" {
			masterKey = file.MasterKey
		}
	}
	redaction := o.redaction
	if redaction == nil {
		redaction = &spans.Redaction{}
	}
	var logger *slog.Logger
	if o.logOutput != nil {
		logger = slog.New(slog.NewTextHandler(o.logOutput, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	recorder := spans.NewRedactingRecorder(tp, redaction)
	h.proxy = httptest.NewServer(handlers.New(handlers.Options{
		ProjectPattern:    o.projectPattern,
		Providers:         providers,
		Router:            rt,
		Transport:         o.transport,
		Recorder:          recorder,
		UpstreamTimeout:   o.upstreamTimeout,
		StreamIdleTimeout: o.streamIdleTimeout,
		MaxBodyBytes:      o.maxBodyBytes,
		BodyReadTimeout:   o.bodyReadTimeout,
		MaxInFlight:       o.maxInFlight,
		Logger:            logger,
		MasterKey:         masterKey,
		Metrics:           o.metrics,
	}))
	t.Cleanup(h.proxy.Close)
	return h
}

// span flushes the exporter and returns the one span that arrived since
// the last reset.
func (h *harness) span(t *testing.T) otlptest.Span {
	t.Helper()
	if err := h.provider.ForceFlush(context.Background()); err != nil {
		t.Fatalf("flushing spans: %v", err)
	}
	got := h.receiver.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d spans, want 1", len(got))
	}
	h.receiver.Reset()
	return got[0]
}
