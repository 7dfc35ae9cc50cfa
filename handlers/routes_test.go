package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/phoenixproxy/llmproxy/endpoint"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// routeRig is a handler in front of a fake upstream that answers every
// request with an empty JSON object and notes the paths it was asked for,
// its spans kept in memory.
type routeRig struct {
	proxy  *httptest.Server
	spans  *tracetest.InMemoryExporter
	mu     sync.Mutex
	paths  []string // what the upstream got, escaped
	served chan struct{}
}

func newRouteRig(t *testing.T, specs []*endpoint.Spec) *routeRig {
	t.Helper()
	rig := &routeRig{spans: tracetest.NewInMemoryExporter()}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rig.mu.Lock()
		rig.paths = append(rig.paths, r.Method+" "+r.URL.EscapedPath())
		rig.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	}))
	t.Cleanup(up.Close)
	ps, err := upstream.NewProviders(upstream.Env{
		OpenAIEnv:    upstream.OpenAIEnv{OpenAIAPIBase: up.URL + "/v1"},
		AnthropicEnv: upstream.AnthropicEnv{AnthropicAPIBase: up.URL},
		GeminiEnv:    upstream.GeminiEnv{GeminiAPIBase: up.URL},
		VertexEnv:    upstream.VertexEnv{VertexAPIBase: up.URL},
		// A Bedrock API key: no AWS credentials to look for.
		BedrockEnv: upstream.BedrockEnv{AWSBedrockRuntimeEndpoint: up.URL, AWSBearerTokenBedrock: "test-bedrock-key"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(rig.spans))
	h := New(Options{Providers: ps, Recorder: spans.NewRecorder(tp), Specs: specs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rig.served = make(chan struct{}, 1)
	// A call's span ends after its answer went out: the rig waits for the
	// handler to return.
	rig.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { rig.served <- struct{}{} }()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(rig.proxy.Close)
	return rig
}

// call sends a request and returns the span it made ("" for none), the
// path the upstream got ("" for none) and the status.
func (rig *routeRig) call(t *testing.T, method, path, body string) (span, upstreamPath string, status int) {
	t.Helper()
	rig.spans.Reset()
	rig.mu.Lock()
	rig.paths = nil
	rig.mu.Unlock()
	req, err := http.NewRequest(method, rig.proxy.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	<-rig.served
	if got := rig.spans.GetSpans(); len(got) == 1 {
		span = got[0].Name
	}
	rig.mu.Lock()
	defer rig.mu.Unlock()
	if len(rig.paths) == 1 {
		upstreamPath = rig.paths[0]
	}
	return span, upstreamPath, resp.StatusCode
}

// bodyFor is a request body that every API takes: a model in the API's
// dialect, and the members each reads.
func bodyFor(spec *endpoint.Spec) string {
	switch spec.Dialect {
	case upstream.Gemini:
		return `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	case upstream.Bedrock:
		return `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`
	case upstream.Anthropic:
		return `{"model":"claude-sonnet-4-6","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`
	case upstream.VertexAnthropic:
		return `{"anthropic_version":"vertex-2023-10-16","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}`
	}
	return `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"prompt":"hi","input":"hi"}`
}

// sampleParams fills a route's parameters in with sample values.
var sampleParams = strings.NewReplacer("{model}", "m-1", "{project}", "p-1", "{location}", "us-central1")

// TestRoutesServeTheirDescriptions: the router serves each API on exactly
// the routes its description names: each route reaches the API (its span,
// its upstream path), and a near miss of it (another method, one segment
// more, one less) does not.
func TestRoutesServeTheirDescriptions(t *testing.T) {
	rig := newRouteRig(t, nil)
	for _, spec := range endpoint.All {
		t.Run(spec.Name, func(t *testing.T) {
			for _, route := range spec.Routes {
				path := sampleParams.Replace(route.Path)
				span, up, status := rig.call(t, route.Method, path, bodyFor(spec))
				// OpenAI's and Anthropic's bases end in /v1 here, and
				// their APIs go to their own route's path; Google's go to
				// the route's path, its prefix taken off.
				wantUp := "POST /v1" + endpoint.APIPath(path)
				if spec.Path == "" {
					wantUp = "POST " + strings.TrimPrefix(path, route.Prefix)
				}
				if span != spec.Op.Name || up != wantUp || status != http.StatusOK {
					t.Errorf("%s %s: span %q, upstream %q, status %d; want %q, %q, 200", route.Method, route.Path, span, up, status, spec.Op.Name, wantUp)
				}
				for _, miss := range []struct{ method, path string }{
					{http.MethodGet, path},
					{route.Method, path + "/x"},
					{route.Method, path[:strings.LastIndexByte(path, '/')] + "/x"},
				} {
					if span, _, _ := rig.call(t, miss.method, miss.path, bodyFor(spec)); span == spec.Op.Name {
						t.Errorf("%s %s: served as %s; want it not to be", miss.method, miss.path, spec.Name)
					}
				}
			}
		})
	}
}

// TestRoutesWithTheModelInThePath: an API whose route names the model and
// decides the stream (as Gemini's do) is served from its description alone:
// the model comes from the path (unescaped), the upstream path is built
// from the description with the model escaped again, and only its pattern
// matches.
func TestRoutesWithTheModelInThePath(t *testing.T) {
	op := spans.Generic("GenerateContent")
	spec := &endpoint.Spec{
		Name: "generateContent",
		Routes: []endpoint.Route{
			{Method: "POST", Path: "/v1beta/models/{model}:generateContent"},
			{Method: "POST", Path: "/v1beta/models/{model}:streamGenerateContent", Stream: true},
		},
		Dialect: upstream.OpenAI, Path: "/models/{model}:generateContent", ModelParam: "model",
		Op: &op, Framing: stream.SSE, WriteError: func(w http.ResponseWriter, e *openai.Error) { e.Write(w) },
	}
	rig := newRouteRig(t, []*endpoint.Spec{spec})
	for _, tt := range []struct {
		path, wantUp string
	}{
		{"/v1beta/models/gemini-2.5-flash:generateContent", "POST /v1/models/gemini-2.5-flash:generateContent"},
		{"/v1beta/models/gemini-2.5-flash:streamGenerateContent", "POST /v1/models/gemini-2.5-flash:generateContent"},
		{"/v1beta/models/tuned%2Fmine:generateContent", "POST /v1/models/tuned%2Fmine:generateContent"},
		{"/v1beta/models/:generateContent", ""},
		{"/v1beta/models/gemini-2.5-flash:countTokens", ""},
		{"/v1beta/models/a/b:generateContent", ""},
	} {
		span, up, _ := rig.call(t, http.MethodPost, tt.path, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`)
		if tt.wantUp == "" {
			if span == op.Name {
				t.Errorf("%s: served as %s; want it not to be", tt.path, spec.Name)
			}
			continue
		}
		if span != op.Name || up != tt.wantUp {
			t.Errorf("%s: span %q, upstream %q; want %q, %q", tt.path, span, up, op.Name, tt.wantUp)
		}
	}
	// The model on the span is the path's, unescaped.
	rig.call(t, http.MethodPost, "/v1beta/models/tuned%2Fmine:generateContent", `{}`)
	for _, kv := range rig.spans.GetSpans()[0].Attributes {
		if kv.Key == spans.KeyLLMModelName && kv.Value.AsString() != "tuned/mine" {
			t.Errorf("llm.model_name = %q; want tuned/mine", kv.Value.AsString())
		}
	}
}
