package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/phoenixproxy/llmproxy/handlers"
)

// The bench re-executes itself with -role to run the processes it measures
// against the proxy: the fake upstream, the OTLP collector and the floor.

// listen opens a loopback port and announces it on stdout, which the
// parent reads.
func listen(what string) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("%s: %v", what, err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	return ln
}

// Request headers that steer the fake upstream. Both proxies forward them.
const (
	headerLatency = "X-Bench-Latency" // pause before answering, e.g. 2ms
	headerChunks  = "X-Bench-Chunks"  // content chunks in a stream
	headerPace    = "X-Bench-Pace"    // pause between stream events
)

// runUpstream serves a fixed OpenAI chat answer. A stream's chunks carry
// the wall-clock time they were written, in nanoseconds, in OpenAI's
// "obfuscation" field (random padding in real traffic), so the client can
// measure each event's delay from upstream to client.
func runUpstream() {
	ln := listen("upstream")
	srv := &http.Server{Handler: http.HandlerFunc(serveUpstream), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

var upstreamBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func serveUpstream(w http.ResponseWriter, r *http.Request) {
	// The Gemini API's path, or Vertex AI's (a translated vertex_ai/ call).
	gemini := r.URL.Path == strings.TrimSuffix(geminiStreamPath, "?alt=sse") ||
		strings.HasPrefix(r.URL.Path, "/v1/projects/") && strings.HasSuffix(r.URL.Path, ":streamGenerateContent")
	// Bedrock's ConverseStream: from the proxy (/model/…), or as the
	// direct and floor targets send it (/bedrock/model/…).
	converse := strings.HasSuffix(r.URL.Path, "/converse-stream") &&
		(strings.HasPrefix(r.URL.Path, "/model/") || strings.HasPrefix(r.URL.Path, "/bedrock/model/"))
	if r.Method != http.MethodPost || (r.URL.Path != "/v1/chat/completions" && r.URL.Path != "/v1/responses" && r.URL.Path != "/v1/messages" && !gemini && !converse) {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	buf := upstreamBufs.Get().(*bytes.Buffer)
	defer upstreamBufs.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return
	}
	body := buf.Bytes()
	if d, err := time.ParseDuration(r.Header.Get(headerLatency)); err == nil && d > 0 {
		time.Sleep(d)
	}
	h := w.Header()
	h.Set("X-Request-Id", "req_bench0000000000000000000000001")
	h.Set("Openai-Processing-Ms", "412")
	h.Set("Openai-Version", "2020-10-01")
	h.Set("Openai-Organization", "bench-org")
	if !gemini && !converse && !gjson.GetBytes(body, "stream").Bool() {
		answer := upstreamAnswer(r.Header)
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(answer)))
		_, _ = w.Write(answer)
		return
	}
	chunks, _ := strconv.Atoi(r.Header.Get(headerChunks))
	if chunks <= 0 {
		chunks = 20
	}
	pace, err := time.ParseDuration(r.Header.Get(headerPace))
	if err != nil {
		pace = 5 * time.Millisecond
	}
	switch {
	case r.URL.Path == "/v1/responses":
		serveResponsesStream(w, chunks, pace)
		return
	case r.URL.Path == "/v1/messages":
		serveAnthropicStream(w, chunks, pace)
		return
	case gemini:
		serveGeminiStream(w, chunks, pace)
		return
	case converse:
		serveConverseStream(w, chunks, pace)
		return
	}
	usage := gjson.GetBytes(body, "stream_options.include_usage").Bool()
	// An anthropic/ model reaches the upstream as a chat call only from the
	// direct and floor targets, which cannot translate: each content chunk
	// then carries its write time as its text, as the Anthropic stream the
	// proxy translates does.
	model := gjson.GetBytes(body, "model").Str
	stampText := strings.HasPrefix(model, "anthropic/") || strings.HasPrefix(model, "vertex_ai/") || strings.HasPrefix(model, "bedrock/")
	flusher := startEventStream(w)

	// Events go out on a fixed schedule, so a slow write does not shift
	// the ones after it.
	start := time.Now()
	ev := make([]byte, 0, 512)
	for i := 0; i <= chunks+2; i++ {
		if i > 0 {
			if d := time.Until(start.Add(time.Duration(i) * pace)); d > 0 {
				time.Sleep(d)
			}
		}
		switch {
		case i == chunks+2:
			if !usage {
				ev = append(ev[:0], "data: [DONE]\n\n"...)
				break
			}
			ev = appendChunk(ev[:0], `[]`, usageJSON, false)
			ev = append(ev, "data: [DONE]\n\n"...)
		case i == 0:
			ev = appendChunk(ev[:0], `[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]`, "", usage)
		case i == chunks+1:
			ev = appendChunk(ev[:0], `[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`, "", usage)
		default:
			word := streamWords[(i-1)%len(streamWords)]
			if stampText {
				word = strconv.FormatInt(time.Now().UnixNano(), 10)
			}
			ev = appendChunk(ev[:0], `[{"index":0,"delta":{"content":"`+word+`"},"logprobs":null,"finish_reason":null}]`, "", usage)
		}
		if _, err := w.Write(ev); err != nil {
			return
		}
		flusher.Flush()
	}
}

// appendChunk appends one chunk event as OpenAI writes it, stamped with
// the time now. With include_usage every chunk but the last has
// "usage":null; the last has the usage and no choices.
func appendChunk(b []byte, choices, usage string, nullUsage bool) []byte {
	b = append(b, `data: {"id":"chatcmpl-BENCH0000000000000000000001","object":"chat.completion.chunk","created":1755137933,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_560af6e559","choices":`...)
	b = append(b, choices...)
	switch {
	case usage != "":
		b = append(b, `,"usage":`...)
		b = append(b, usage...)
	case nullUsage:
		b = append(b, `,"usage":null`...)
	}
	b = append(b, `,"obfuscation":"`...)
	b = strconv.AppendInt(b, time.Now().UnixNano(), 10)
	return append(b, "\"}\n\n"...)
}

// serveResponsesStream streams a Responses API answer as OpenAI does:
// response.created and .in_progress, the message item and its content part
// added, chunks text deltas, the text, part and item done, and
// response.completed with the usage. Each event carries its write time in
// an obfuscation member, as the chat chunks do.
func serveResponsesStream(w http.ResponseWriter, chunks int, pace time.Duration) {
	flusher := startEventStream(w)
	const (
		resp    = `"id":"resp_BENCH0000000000000000000001","object":"response","created_at":1755137933,"model":"gpt-4o-mini-2024-07-18","output":`
		item    = `"id":"msg_BENCH0000000000000000000001","type":"message","role":"assistant"`
		message = `{` + item + `,"status":"completed","content":[{"type":"output_text","annotations":[],"text":%q}]}`
		usage   = `{"input_tokens":187,"input_tokens_details":{"cached_tokens":0},"output_tokens":38,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":225}`
	)
	var text strings.Builder
	for i := 0; i < chunks; i++ {
		text.WriteString(streamWords[i%len(streamWords)])
	}
	events := []string{
		`{"type":"response.created","response":{` + resp + `[],"status":"in_progress","usage":null}`,
		`{"type":"response.in_progress","response":{` + resp + `[],"status":"in_progress","usage":null}`,
		`{"type":"response.output_item.added","output_index":0,"item":{` + item + `,"status":"in_progress","content":[]}`,
		`{"type":"response.content_part.added","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"text":""}`,
	}
	for i := 0; i < chunks; i++ {
		events = append(events, fmt.Sprintf(`{"type":"response.output_text.delta","output_index":0,"content_index":0,"delta":%q`, streamWords[i%len(streamWords)]))
	}
	done := fmt.Sprintf(message, text.String())
	events = append(events,
		fmt.Sprintf(`{"type":"response.output_text.done","output_index":0,"content_index":0,"text":%q`, text.String()),
		fmt.Sprintf(`{"type":"response.content_part.done","output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"text":%q}`, text.String()),
		`{"type":"response.output_item.done","output_index":0,"item":`+done,
		`{"type":"response.completed","response":{`+resp+`[`+done+`],"status":"completed","usage":`+usage+`}`,
	)
	start := time.Now()
	ev := make([]byte, 0, 1024)
	for i, data := range events {
		if i > 0 {
			if d := time.Until(start.Add(time.Duration(i) * pace)); d > 0 {
				time.Sleep(d)
			}
		}
		typ := gjson.Get(data+"}", "type").Str
		ev = append(ev[:0], "event: "+typ+"\ndata: "+data...)
		ev = append(ev, `,"sequence_number":`...)
		ev = strconv.AppendInt(ev, int64(i), 10)
		ev = append(ev, `,"obfuscation":"`...)
		ev = strconv.AppendInt(ev, time.Now().UnixNano(), 10)
		ev = append(ev, "\"}\n\n"...)
		if _, err := w.Write(ev); err != nil {
			return
		}
		flusher.Flush()
	}
}

// serveGeminiStream streams a generateContent answer as the Gemini API
// does with ?alt=sse: chunks text chunks (each text the time it was
// written), each a whole GenerateContentResponse with the usage so far,
// events ending in \r\n\r\n, then an empty text with the finish reason.
func serveGeminiStream(w http.ResponseWriter, chunks int, pace time.Duration) {
	flusher := startEventStream(w)
	const tail = `"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":187,"candidatesTokenCount":38,"totalTokenCount":225},` +
		`"modelVersion":"gemini-2.5-flash","responseId":"BENCH0000000000000000001"}` + "\r\n\r\n"
	start := time.Now()
	ev := make([]byte, 0, 512)
	for i := 0; i <= chunks; i++ {
		if i > 0 {
			if d := time.Until(start.Add(time.Duration(i) * pace)); d > 0 {
				time.Sleep(d)
			}
		}
		ev = append(ev[:0], `data: {"candidates":[{"content":{"parts":[{"text":"`...)
		if i < chunks {
			ev = strconv.AppendInt(ev, time.Now().UnixNano(), 10)
			ev = append(ev, tail...)
		} else {
			ev = append(ev, `"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":187,"candidatesTokenCount":38,"totalTokenCount":225},`+
				`"modelVersion":"gemini-2.5-flash","responseId":"BENCH0000000000000000001"}`+"\r\n\r\n"...)
		}
		if _, err := w.Write(ev); err != nil {
			return
		}
		flusher.Flush()
	}
}

// serveAnthropicStream streams a Messages API answer as Anthropic does:
// message_start, a text block of chunks deltas, message_delta with the
// stop reason and usage, message_stop. Each delta's text is the time it was
// written: it reaches the client as a chunk's content through the proxy's
// translation, where the client reads it.
func serveAnthropicStream(w http.ResponseWriter, chunks int, pace time.Duration) {
	flusher := startEventStream(w)
	events := []string{
		`message_start`, `{"type":"message_start","message":{"id":"msg_BENCH0000000000000000000001","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",` +
			`"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":187,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`,
		`content_block_start`, `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
	}
	for i := 0; i < chunks; i++ {
		events = append(events, "content_block_delta", "")
	}
	events = append(events,
		`content_block_stop`, `{"type":"content_block_stop","index":0}`,
		`message_delta`, `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":38}}`,
		`message_stop`, `{"type":"message_stop"}`,
	)
	start := time.Now()
	ev := make([]byte, 0, 512)
	for i := 0; i < len(events); i += 2 {
		if i > 0 {
			if d := time.Until(start.Add(time.Duration(i/2) * pace)); d > 0 {
				time.Sleep(d)
			}
		}
		ev = append(ev[:0], "event: "+events[i]+"\ndata: "...)
		if data := events[i+1]; data != "" {
			ev = append(ev, data...)
		} else {
			ev = append(ev, `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`...)
			ev = strconv.AppendInt(ev, time.Now().UnixNano(), 10)
			ev = append(ev, `"}}`...)
		}
		ev = append(ev, "\n\n"...)
		if _, err := w.Write(ev); err != nil {
			return
		}
		flusher.Flush()
	}
}

// serveConverseStream streams a ConverseStream answer as Bedrock does, in
// AWS's event stream: messageStart, a text block of chunks deltas (each
// text the time it was written), contentBlockStop, messageStop with the
// stop reason, metadata with the usage.
func serveConverseStream(w http.ResponseWriter, chunks int, pace time.Duration) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	flusher.Flush()
	events := [][2]string{{"messageStart", `{"p":"abcdefgh","role":"assistant"}`}}
	for i := 0; i < chunks; i++ {
		events = append(events, [2]string{"contentBlockDelta", ""})
	}
	events = append(events,
		[2]string{"contentBlockStop", `{"contentBlockIndex":0,"p":"abcdefghijkl"}`},
		[2]string{"messageStop", `{"p":"abcd","stopReason":"end_turn"}`},
		[2]string{"metadata", `{"metrics":{"latencyMs":412},"p":"abcdefghijklmnop","usage":{"inputTokens":187,"outputTokens":38,"totalTokens":225}}`},
	)
	enc := eventstream.NewEncoder()
	var buf bytes.Buffer
	start := time.Now()
	for i, ev := range events {
		if i > 0 {
			if d := time.Until(start.Add(time.Duration(i) * pace)); d > 0 {
				time.Sleep(d)
			}
		}
		payload := ev[1]
		if payload == "" {
			payload = `{"contentBlockIndex":0,"delta":{"text":"` + strconv.FormatInt(time.Now().UnixNano(), 10) + `"},"p":"abcdefghij"}`
		}
		buf.Reset()
		_ = enc.Encode(&buf, eventstream.Message{Headers: eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue(ev[0])},
			{Name: ":content-type", Value: eventstream.StringValue("application/json")},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		}, Payload: []byte(payload)})
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		flusher.Flush()
	}
}

var streamWords = []string{"No", " umbrella", " needed", ":", " it", " is", " sunny", " in", " Boston", " with",
	" a", " light", " breeze", " and", " 72", "°F", ",", " and", " no", " rain", " is", " expected", "."}

const usageJSON = `{"prompt_tokens":187,"completion_tokens":38,"total_tokens":225,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`

// runFloor serves the floor (newFloor).
func runFloor(upstream string) {
	target, err := url.Parse(upstream)
	if err != nil {
		log.Fatalf("floor: %v", err)
	}
	ln := listen("floor")
	srv := &http.Server{Handler: newFloor(target), ReadHeaderTimeout: 30 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// newFloor is the floor: a bare httputil.ReverseProxy to the upstream,
// with the proxy's own upstream transport (same connection pools), and
// nothing else but reading the request body first — what any Go proxy of
// this API costs.
//
// The body must be read first because a ReverseProxy that streams an
// inbound HTTP/1 body upstream breaks streams: when the upstream answers,
// writing the response headers makes net/http's server close the inbound
// body, the transport's last read of it (checking the declared length)
// then fails, and the transport tears down the upstream connection with
// the stream still on it (golang/go#40747). Measured here: about 3% of
// streams cut after their first event. The proxy reads bodies whole too.
func newFloor(target *url.URL) http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: handlers.NewTransport(),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	})
}

// sink is an OTLP gRPC trace collector that counts the spans it receives
// per service.name (each proxy the bench starts has its own), and can be
// slowed down to play a collector that cannot keep up.
type sink struct {
	collectortrace.UnimplementedTraceServiceServer
	delay atomic.Int64 // per export, ns

	mu       sync.Mutex
	spans    map[string]int64
	exports  map[string]int64
	sessions sessionTally // the sessions step's proxies' session.ids
}

func (s *sink) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	if d := time.Duration(s.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		n := int64(0)
		for _, ss := range rs.GetScopeSpans() {
			n += int64(len(ss.GetSpans()))
		}
		s.spans[service] += n
		s.exports[service]++
		for _, ss := range rs.GetScopeSpans() {
			s.sessions.add(service, ss.GetSpans())
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// sinkCounts is the sink's answer to GET /counts.
type sinkCounts struct {
	Spans   map[string]int64 `json:"spans"`
	Exports map[string]int64 `json:"exports"`
}

// runSink serves OTLP gRPC on one port and its control API on another:
// GET /counts, POST /delay?d=500ms. It announces the gRPC port first.
func runSink() {
	s := &sink{spans: map[string]int64{}, exports: map[string]int64{}}
	grpcLn := listen("sink")
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(64 << 20))
	collectortrace.RegisterTraceServiceServer(srv, s)
	go func() { log.Fatal(srv.Serve(grpcLn)) }()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /counts", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(sinkCounts{Spans: s.spans, Exports: s.exports})
	})
	mux.HandleFunc("GET /sessions", s.sessions.serveHTTP)
	mux.HandleFunc("POST /delay", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.delay.Store(int64(d))
	})
	ctl := listen("sink control")
	os.Stdout.Sync()
	log.Fatal(http.Serve(ctl, mux))
}

// startEventStream sends a stream's headers at once, as a provider does,
// and returns what flushes its events.
func startEventStream(w http.ResponseWriter) http.Flusher {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher := w.(http.Flusher)
	flusher.Flush()
	return flusher
}
