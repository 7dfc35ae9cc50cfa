package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/googlefake"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
)

// Deliberate differences between the proxy's spans and the official
// instrumentor's golden spans. Every other key, value, event and status must
// be the same.
var (
	// addedKeys are keys the proxy records that the golden spans lack.
	addedKeys = map[string]string{
		"llm.provider":      "who hosts the model (OpenInference llm.provider); this instrumentor version did not record it",
		"llm.finish_reason": "OpenInference llm.finish_reason from choice 0; this instrumentor version did not record it",
		"llm.model_name":    "the request's model on spans without a response (errors), so a failed call still shows its model",
		"llm.system":        "the API family on embedding spans too",
		"litellm.call_id":   "the id the client got in LiteLLM's x-litellm-call-id header, so an answer leads to its span",
	}
	// addedPrefixes are key families the proxy records on streams: it asks
	// the upstream for usage on the client's behalf (stream_options).
	addedStreamPrefixes = []string{"llm.token_count."}
	// droppedEventKeys are exception event keys only a Python process has.
	droppedEventKeys = map[string]string{
		"exception.stacktrace": "a Python traceback of the instrumented SDK; the proxy has no client stack",
	}
)

// goldenAPI is one API's recorded traffic (a folder of testdata) and the
// deliberate differences that apply to its spans alone.
type goldenAPI struct {
	dir string
	// path is the API's route: only calls to it have golden spans (a
	// cassette may also hold the calls that set a test up, such as file
	// uploads). "" means every call has one.
	path string
	// usageAsked: on streams the proxy asks for usage on the client's
	// behalf (stream_options), so stream spans have token counts the golden
	// lacks and their output.value has a usage member it lacks.
	usageAsked bool
	// nullAsAbsent: JSON values compare with null members taken as absent.
	// The instrumentor writes the SDK's dump of the response and its tools,
	// which adds as null every member its SDK version knows and the API did
	// not send; the proxy writes what the API sent.
	nullAsAbsent bool
	// sdkErrorMessages: the golden errors were made with openai 3.x, which
	// words an error as "Error code: 400 - <the error's message>". The
	// proxy words every error as the chat goldens do (openai 1.x: "Error
	// code: 400 - <the Python repr of the body>"), so that one API's errors
	// look alike in Phoenix; the class, the code and the message must match.
	sdkErrorMessages bool
	// firstTokenAdded: the instrumentor records no First Token Stream Event
	// on this API's streams; the proxy does, as on every stream.
	firstTokenAdded bool
	// calls, when set, says which paths are the API's (in place of path).
	calls func(path string) bool
	// keepQuery: the client sends the recorded query too (Gemini's
	// ?alt=sse makes its stream SSE).
	keepQuery bool
	// snakeCaseIO: the instrumentor records input.value and output.value
	// as its SDK's objects, every key in snake_case and bytes in URL-safe
	// base64, the output with the SDK's sdk_http_response; the proxy
	// records the JSON as it crossed the wire (Google's camelCase). They
	// are compared with the proxy's keys put in snake_case, base64 read
	// alike and sdk_http_response left out.
	snakeCaseIO bool
}

// isAPICall reports whether a recorded call is to the API's route.
func (api goldenAPI) isAPICall(path string) bool {
	if api.calls != nil {
		return api.calls(path)
	}
	return api.path == "" || path == api.path
}

// geminiCall: Google's generateContent, on the Gemini API and Vertex AI.
func geminiCall(path string) bool {
	return strings.HasSuffix(path, ":generateContent") || strings.HasSuffix(path, ":streamGenerateContent")
}

var goldenAPIs = []goldenAPI{
	{dir: "openai", usageAsked: true},
	{dir: "responses", path: "/v1/responses", nullAsAbsent: true, sdkErrorMessages: true},
	{dir: "anthropic", path: "/v1/messages", nullAsAbsent: true, firstTokenAdded: true},
	{dir: "gemini", calls: geminiCall, keepQuery: true, nullAsAbsent: true, firstTokenAdded: true, snakeCaseIO: true},
}

// goldenSpan is one span of fixtures/openai/spans in OTLP JSON.
type goldenSpan struct {
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Attributes []otlpKV   `json:"attributes"`
	Events     []otlpEvnt `json:"events"`
	Status     struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

type otlpKV struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

type otlpEvnt struct {
	Name       string   `json:"name"`
	Attributes []otlpKV `json:"attributes"`
}

func loadGolden(t *testing.T, path string) goldenSpan {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenSpan
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

// otlpValue turns an OTLP JSON value into what otlptest gives for it.
func otlpValue(v map[string]any) any {
	for k, x := range v {
		switch k {
		case "stringValue":
			return x
		case "intValue":
			n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64)
			return n
		case "doubleValue":
			return x.(float64)
		case "boolValue":
			return x
		case "arrayValue":
			var out []any
			vals, _ := x.(map[string]any)["values"].([]any)
			for _, e := range vals {
				out = append(out, otlpValue(e.(map[string]any)))
			}
			return out
		}
	}
	return nil
}

func kvMap(kvs []otlpKV) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = otlpValue(kv.Value)
	}
	return m
}

// sameValue compares attribute values; strings holding JSON objects or
// arrays compare as JSON (Python and Go serialize differently).
func (api goldenAPI) sameValue(got, want any) bool {
	gs, ok1 := got.(string)
	ws, ok2 := want.(string)
	if ok1 && ok2 && gs != ws {
		gj, gerr := parseJSONContainer(gs)
		wj, werr := parseJSONContainer(ws)
		if api.nullAsAbsent {
			gj, wj = withoutNulls(gj), withoutNulls(wj)
		}
		return gerr == nil && werr == nil && reflect.DeepEqual(gj, wj)
	}
	return reflect.DeepEqual(got, want)
}

// withoutNulls drops the null members of every object in v.
func withoutNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
			} else {
				x[k] = withoutNulls(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = withoutNulls(e)
		}
	}
	return v
}

// sameErrorMessage compares an error description or exception message. With
// sdkErrorMessages, a golden "… Error code: N - <message>" matches the
// proxy's "… Error code: N - {'error': {… <message> …}}".
func (api goldenAPI) sameErrorMessage(got, want string) bool {
	if got == want {
		return true
	}
	head, message, ok := strings.Cut(want, " - ")
	if !ok || !api.sdkErrorMessages || !strings.HasPrefix(got, head+" - {'error': {") {
		return false
	}
	return strings.Contains(got, message)
}

func parseJSONContainer(s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return nil, fmt.Errorf("not a JSON container")
	}
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return normalizeNumbers(v), nil
}

// normalizeNumbers makes 1 and 1.0 equal, as they are to Python and Go.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// compareSpan lists every difference between a received span and the
// golden one that is not a deliberate one.
func (api goldenAPI) compareSpan(got otlptest.Span, want goldenSpan, stream bool) []string {
	var diffs []string
	if got.Name != want.Name {
		diffs = append(diffs, fmt.Sprintf("name: got %q, want %q", got.Name, want.Name))
	}
	if want.Kind == "SPAN_KIND_INTERNAL" && got.Kind != tracepb.Span_SPAN_KIND_INTERNAL {
		diffs = append(diffs, fmt.Sprintf("kind: got %v, want INTERNAL", got.Kind))
	}
	wantAttrs := kvMap(want.Attributes)
	for k, w := range wantAttrs {
		g, ok := got.Attributes[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("missing %s = %.200v", k, w))
			continue
		}
		if k == "output.value" && stream && api.usageAsked {
			g = withoutUsage(g)
		}
		if api.snakeCaseIO && (k == "input.value" || k == "output.value") {
			g, w = googleIO(g), googleIO(w)
		}
		if !api.sameValue(g, w) {
			diffs = append(diffs, fmt.Sprintf("%s:\n  got  %.600v\n  want %.600v", k, g, w))
		}
	}
	for k, g := range got.Attributes {
		if _, ok := wantAttrs[k]; ok {
			continue
		}
		if _, ok := addedKeys[k]; ok {
			continue
		}
		if stream && api.usageAsked && hasAnyPrefix(k, addedStreamPrefixes) {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("extra %s = %.200v", k, g))
	}
	wantCode := map[string]tracepb.Status_StatusCode{
		"STATUS_CODE_OK": tracepb.Status_STATUS_CODE_OK, "STATUS_CODE_ERROR": tracepb.Status_STATUS_CODE_ERROR,
		"": tracepb.Status_STATUS_CODE_UNSET,
	}[want.Status.Code]
	if got.StatusCode != wantCode {
		diffs = append(diffs, fmt.Sprintf("status: got %v, want %v", got.StatusCode, wantCode))
	}
	if !api.sameErrorMessage(got.StatusMessage, want.Status.Message) {
		diffs = append(diffs, fmt.Sprintf("status message:\n  got  %q\n  want %q", got.StatusMessage, want.Status.Message))
	}
	events := got.Events
	if stream && api.firstTokenAdded && len(events) > 0 && events[0].Name == "First Token Stream Event" {
		events = events[1:]
	}
	diffs = append(diffs, api.compareEvents(events, want.Events)...)
	return diffs
}

func (api goldenAPI) compareEvents(got []otlptest.Event, want []otlpEvnt) []string {
	if len(got) != len(want) {
		var names []string
		for _, e := range got {
			names = append(names, e.Name)
		}
		return []string{fmt.Sprintf("events: got %v, want %d events", names, len(want))}
	}
	var diffs []string
	for i, w := range want {
		g := got[i]
		if g.Name != w.Name {
			diffs = append(diffs, fmt.Sprintf("event %d: got %q, want %q", i, g.Name, w.Name))
			continue
		}
		for k, wv := range kvMap(w.Attributes) {
			if _, dropped := droppedEventKeys[k]; dropped {
				continue
			}
			gv := g.Attributes[k]
			if gs, ok := gv.(string); ok && k == "exception.message" && api.sameErrorMessage(gs, fmt.Sprint(wv)) {
				continue
			}
			if !reflect.DeepEqual(gv, wv) {
				diffs = append(diffs, fmt.Sprintf("event %s %s:\n  got  %v\n  want %v", w.Name, k, gv, wv))
			}
		}
	}
	return diffs
}

// googleIO is a Google input.value or output.value as the instrumentor
// would record it (see goldenAPI.snakeCaseIO), as JSON text.
func googleIO(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	var x any
	if json.Unmarshal([]byte(s), &x) != nil {
		return v
	}
	if m, ok := x.(map[string]any); ok {
		// A stream's accumulated output has the time as Python prints a
		// datetime ("2026-03-21 18:11:55.919086+00:00").
		for _, k := range []string{"createTime", "create_time"} {
			if ts, ok := m[k].(string); ok {
				if t, err := time.Parse("2006-01-02 15:04:05.999999-07:00", ts); err == nil {
					m[k] = t.UTC().Format(time.RFC3339Nano)
				}
			}
		}
	}
	x = snakeCased(x)
	if m, ok := x.(map[string]any); ok {
		// What the SDK adds of its own: the HTTP headers it received,
		// its automatic function calling, the parsed structured output.
		for _, k := range []string{"sdk_http_response", "automatic_function_calling_history", "parsed"} {
			delete(m, k)
		}
		// A member this SDK version does not know, so left out of its
		// dump: the API sent it, and the proxy records what the API sent.
		if u, ok := m["usage_metadata"].(map[string]any); ok {
			delete(u, "service_tier")
		}
	}
	b, _ := json.Marshal(x)
	return string(b)
}

// snakeCased is v with every object key in snake_case (the instrumentor's
// _camel_to_snake), and every string in standard base64's alphabet
// without padding, so that URL-safe and standard base64 compare equal.
func snakeCased(v any) any { return stdBase64Strings(googlefake.SnakeKeys(v)) }

func stdBase64Strings(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stdBase64Strings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = stdBase64Strings(e)
		}
	case string:
		return strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(x), "=")
	}
	return v
}

// withoutUsage drops the usage the proxy asked for from a stream's output.
func withoutUsage(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return v
	}
	delete(m, "usage")
	b, _ := json.Marshal(m)
	return string(b)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// clientRequest is the request a LiteLLM or OpenAI client would send the
// proxy for a recorded call: the same body to /v1/<endpoint>, with Azure
// deployments named "azure/<deployment>" and forms rebuilt from the golden
// span's recorded fields.
func clientRequest(t *testing.T, proxyURL string, c fakeprovider.Cassette, golden goldenSpan) *http.Request {
	t.Helper()
	path := c.Request.Path()
	body := []byte(c.Request.Body)
	contentType := c.Request.ContentType()
	if contentType == "" {
		contentType = "application/json"
	}
	if strings.Contains(c.Request.URL, "azure.com") {
		path = "/v1" + path[strings.LastIndex(path, "/chat/"):]
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		body = bytes.Replace(body, []byte(`"model": "`), []byte(`"model": "azure/`), 1)
	}
	if c.Request.Body == "[multipart form data omitted]" {
		var fields map[string]string
		if err := json.Unmarshal([]byte(kvMap(golden.Attributes)["input.value"].(string)), &fields); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			_ = mw.WriteField(k, fields[k])
		}
		fw, _ := mw.CreateFormFile("file", "speech.mp3")
		_, _ = fw.Write([]byte("ID3 not really audio"))
		_ = mw.Close()
		body, contentType = buf.Bytes(), mw.FormDataContentType()
	}
	req, err := http.NewRequest(c.Request.Method, proxyURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer sk-client-secret-0123456789")
	req.Header.Set(fakeprovider.CassetteHeader, c.Name) // recordings may share a request
	return req
}

// TestGoldenSpans sends every recorded call through the proxy: the client
// must get the recorded answer byte for byte, and the span that reaches the
// collector must match the official instrumentor's span for the same call.
// One subtest per API: chat, completions and embeddings (openai), the
// Responses API (responses).
func TestGoldenSpans(t *testing.T) {
	for _, api := range goldenAPIs {
		t.Run(api.dir, func(t *testing.T) { api.testGoldenSpans(t) })
	}
}

func (api goldenAPI) testGoldenSpans(t *testing.T) {
	dir := fixturesDir(t, api.dir)
	cassettes, err := fakeprovider.LoadDir(filepath.Join(dir, "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{cassettes: cassettes})
	compared := 0
	for _, c := range cassettes {
		t.Run(c.Name, func(t *testing.T) {
			goldenPath := api.goldenFile(dir, cassettes, c)
			var golden goldenSpan
			if goldenPath != "" {
				golden = loadGolden(t, goldenPath)
			}
			if api.calls != nil && !api.isAPICall(c.Request.Path()) {
				t.Skip("a call to another host (a download the recording made first)")
			}
			req := clientRequest(t, h.proxy.URL, c, golden)
			if api.keepQuery {
				if u, err := url.Parse(c.Request.URL); err == nil {
					req.URL.RawQuery = u.RawQuery
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.Response.Code {
				t.Errorf("status: got %d, want %d (%s)", resp.StatusCode, c.Response.Code, got)
			}
			if string(got) != c.Response.Body {
				t.Errorf("body differs from the recorded one:\n got  %.500q\n want %.500q", got, c.Response.Body)
			}
			span := h.span(t)
			if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "sk-client-secret") {
				t.Errorf("the client's API key is in the span")
			}
			if goldenPath == "" {
				return // a call that sets the test up (a file upload): forwarded, no golden
			}
			compared++
			for _, d := range api.compareSpan(span, golden, c.Response.IsStream()) {
				t.Error(d)
			}
			if c.Response.IsStream() && c.Response.Code == 200 {
				// Every stream span has token counts: the Responses API
				// sends them in its last event; for chat the client did not
				// ask for them, the proxy did, and the fake answered as
				// OpenAI does.
				if _, ok := span.Attributes["llm.token_count.total"]; !ok {
					t.Errorf("stream span has no token counts: %v", span.Attributes)
				}
			}
		})
	}
	if compared == 0 {
		t.Errorf("no span of %s was compared with a golden one", api.dir)
	}
}

// goldenFile is the golden span of a recorded call, or "" for a call to
// another path than the API's. The first call to the API in a cassette
// has NAME.json, a later one (interaction K) NAME@K.json.
func (api goldenAPI) goldenFile(dir string, cassettes []fakeprovider.Cassette, c fakeprovider.Cassette) string {
	if !api.isAPICall(c.Request.Path()) {
		return ""
	}
	base, _, _ := strings.Cut(c.Name, "@")
	for _, other := range cassettes {
		b, _, _ := strings.Cut(other.Name, "@")
		if b == base && api.isAPICall(other.Request.Path()) {
			if other.Name == c.Name {
				return filepath.Join(dir, "spans", base+".json") // the first
			}
			break
		}
	}
	return filepath.Join(dir, "spans", c.Name+".json")
}
