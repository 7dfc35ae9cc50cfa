package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/stream"
)

// open sends a JSON request through the proxy and returns the response
// with its body unread.
func open(t *testing.T, ctx context.Context, url, body string) *http.Response {
	t.Helper()
	return openWith(t, ctx, url, body, nil)
}

// openWith is open with the request's headers set from header too.
func openWith(t *testing.T, ctx context.Context, url, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// pacer holds a fake upstream to the client's pace, for the tests of a
// stream in lockstep: its wait, the fake's BeforeEvent, lets event i go
// once the client has read want(i) events through the proxy (received),
// or once 2 s have passed, noting the first event that had to wait them
// out (stalled; -1 while none has).
type pacer struct {
	want     func(i int) int64
	received atomic.Int64
	stalled  atomic.Int64
}

func newPacer(want func(i int) int64) *pacer {
	p := &pacer{want: want}
	p.stalled.Store(-1)
	return p
}

// eachEvent is the pace of a stream that reaches the client event for
// event: event i goes once the client has read the i before it.
func eachEvent(i int) int64 { return int64(i) }

// wait is the fake's BeforeEvent.
func (p *pacer) wait(i int) {
	deadline := time.Now().Add(2 * time.Second)
	for p.stalled.Load() < 0 && p.received.Load() < p.want(i) {
		if time.Now().After(deadline) {
			p.stalled.CompareAndSwap(-1, int64(i))
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// count counts an event the client has read, if it has data.
func (p *pacer) count(ev stream.Event) {
	if ev.HasData {
		p.received.Add(1)
	}
}

// readStream reads a streamed body to its end as the client gets it,
// giving each event to each as soon as it is whole (so that a fake in
// lockstep sees the client's progress), and returns the bytes read.
func readStream(t *testing.T, body io.Reader, each func(stream.Event)) string {
	t.Helper()
	var got strings.Builder
	var p stream.Parser
	buf := make([]byte, 64<<10)
	for {
		n, err := body.Read(buf)
		got.Write(buf[:n])
		p.Feed(buf[:n], each)
		if err == io.EOF {
			return got.String()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func loadCassette(t *testing.T, name string) fakeprovider.Cassette {
	t.Helper()
	return loadAPICassette(t, "openai", name)
}

// loadAPICassette loads a cassette of one interaction from an API's
// recordings.
func loadAPICassette(t *testing.T, api, name string) fakeprovider.Cassette {
	t.Helper()
	c, err := fakeprovider.LoadFile(filepath.Join(fixturesDir(t, api), "cassettes", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStreamEventsArriveOneByOne runs the upstream in lockstep with the
// client: the upstream sends event i only after the client has received,
// through the proxy, every earlier event meant for it. A proxy that held an
// event back would stall the stream and fail the test. Both relay modes
// run: the client asked for usage itself (reads relayed as they come), and
// the proxy asked for it (events relayed whole, usage taken out).
func TestStreamEventsArriveOneByOne(t *testing.T) {
	for _, name := range []string{"chat-streaming", "completion-streaming", "chat-streaming-web-search"} {
		for _, clientAsks := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/client-asks-usage=%v", name, clientAsks), func(t *testing.T) {
				lockstep(t, loadCassette(t, name), true, clientAsks)
			})
		}
	}
}

// lockstep streams a cassette through the proxy in lockstep. usageOption is
// set for the APIs where the proxy asks for the usage chunk (chat,
// completions); clientAsks then says whether the client asked too.
func lockstep(t *testing.T, c fakeprovider.Cassette, usageOption, clientAsks bool) {
	sent := fakeprovider.Events(c.Response.Body)
	if usageOption {
		sent = fakeprovider.WithUsage(sent)
	}
	// visible[i] is how many of events 0..i-1 the client is meant to get.
	visible := make([]int, len(sent)+1)
	for i, ev := range sent {
		visible[i+1] = visible[i]
		if !usageOption || clientAsks || !stream.UsageOnly([]byte(strings.TrimPrefix(strings.TrimSpace(ev), "data: "))) {
			visible[i+1]++
		}
	}
	pace := newPacer(func(i int) int64 { return int64(visible[i]) })
	h := newHarness(t, harnessOptions{cassettes: []fakeprovider.Cassette{c}})
	h.upstream.BeforeEvent = pace.wait
	body := c.Request.Body
	if clientAsks {
		body = strings.Replace(body, `"stream": true`, `"stream": true, "stream_options": {"include_usage": true}`, 1)
	}
	target := h.proxy.URL + c.Request.Path()
	if u, err := url.Parse(c.Request.URL); err == nil && u.RawQuery != "" {
		target += "?" + u.RawQuery // Gemini's ?alt=sse
	}
	resp := open(t, context.Background(), target, body)
	defer resp.Body.Close()
	got := readStream(t, resp.Body, pace.count)
	if i := pace.stalled.Load(); i >= 0 {
		t.Errorf("event %d: the events before it had not all reached the client when the upstream was ready to send it", i)
	}
	want := c.Response.Body
	if usageOption && clientAsks {
		want = strings.Join(sent, "")
	}
	if got != want {
		t.Errorf("stream differs from the one expected:\n got  %.300q\n want %.300q", got, want)
	}
	span := h.span(t)
	var first *time.Time
	for _, e := range span.Events {
		if e.Name == "First Token Stream Event" {
			first = &e.Time
		}
	}
	if first == nil || first.Before(span.Start) || first.After(span.End) {
		t.Errorf("first token event %v not within the span [%v, %v]", first, span.Start, span.End)
	}
}

// TestStreamClientAskedForUsage: nothing is removed when the client asked
// for the usage chunk itself.
func TestStreamClientAskedForUsage(t *testing.T) {
	c := loadCassette(t, "chat-streaming")
	h := newHarness(t, harnessOptions{cassettes: []fakeprovider.Cassette{c}})
	body := strings.Replace(c.Request.Body, `"stream": true`, `"stream": true, "stream_options": {"include_usage": true}`, 1)
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, nil)
	want := strings.Join(fakeprovider.WithUsage(fakeprovider.Events(c.Response.Body)), "")
	if resp.StatusCode != 200 || got != want {
		t.Errorf("the client asked for usage and must get the upstream's stream unchanged:\n got  %.300q\n want %.300q", got, want)
	}
	sent := h.upstream.Requests()
	if len(sent) != 1 || string(sent[0].Body) != body {
		t.Errorf("upstream body changed although the client asked for usage itself: %q", sent[0].Body)
	}
	span := h.span(t)
	if span.Attributes["llm.token_count.total"] == nil {
		t.Errorf("no token counts: %v", span.Attributes)
	}
}

// TestStreamProxyAsksForUsage: the upstream is asked for usage, the client
// gets the recorded stream byte for byte, the span has the counts.
func TestStreamProxyAsksForUsage(t *testing.T) {
	c := loadCassette(t, "chat-streaming")
	h := newHarness(t, harnessOptions{cassettes: []fakeprovider.Cassette{c}})
	_, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", c.Request.Body, nil)
	if got != c.Response.Body {
		t.Errorf("client stream differs from what it would have been without the proxy")
	}
	sent := h.upstream.Requests()
	if !strings.Contains(string(sent[0].Body), `"stream_options":{"include_usage":true}`) {
		t.Errorf("upstream was not asked for usage: %s", sent[0].Body)
	}
	span := h.span(t)
	events := len(fakeprovider.Events(c.Response.Body)) - 1 // without [DONE]
	if got := span.Attributes["llm.token_count.completion"]; got != int64(events) {
		t.Errorf("completion tokens: got %v; want %d (from the usage chunk)", got, events)
	}
}

// endless is an upstream stream that sends a chunk every tick until its
// request is cancelled, and records when that happened.
type endless struct {
	tick      time.Duration
	cancelled chan time.Time
	fail      int // abort the connection after this many chunks (0: never)
	idleAfter int // stop sending (but keep the connection) after this many (0: never)
}

func (e *endless) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	for i := 0; ; i++ {
		if e.fail > 0 && i == e.fail {
			panic(http.ErrAbortHandler) // connection reset mid-stream
		}
		if e.idleAfter == 0 || i < e.idleAfter {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"t%d \"},\"finish_reason\":null}]}\n\n", i)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
			e.cancelled <- time.Now()
			return
		case <-time.After(e.tick):
		}
	}
}

func TestStreamClientLeavesCancelsUpstream(t *testing.T) {
	up := &endless{tick: 10 * time.Millisecond, cancelled: make(chan time.Time, 1)}
	h := newHarness(t, harnessOptions{upstream: up})
	ctx, cancel := context.WithCancel(context.Background())
	resp := open(t, ctx, h.proxy.URL+"/v1/chat/completions", `{"model":"m","stream":true,"messages":[{"role":"user","content":"go on"}]}`)
	br := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ { // three events: "data: …" and a blank line each
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		br.ReadString('\n')
	}
	left := time.Now()
	cancel()
	resp.Body.Close()
	select {
	case at := <-up.cancelled:
		if d := at.Sub(left); d > time.Second {
			t.Errorf("upstream cancelled %s after the client left", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request was not cancelled when the client left")
	}
	// Not an error of the call: status unset, an event says when the
	// client left, the output that passed is kept.
	span := h.span(t)
	if span.StatusCode != tracepb.Status_STATUS_CODE_UNSET {
		t.Errorf("status %v; want unset", span.StatusCode)
	}
	var leftAt *time.Time
	for _, e := range span.Events {
		if e.Name == "client_disconnected" {
			leftAt = &e.Time
		}
		if e.Name == "exception" {
			t.Errorf("an exception event: %v", e.Attributes)
		}
	}
	if leftAt == nil || leftAt.Before(left.Add(-time.Millisecond)) || leftAt.After(span.End) {
		t.Errorf("client_disconnected event at %v; want after %v, within the span", leftAt, left)
	}
	content, _ := span.Attributes["llm.output_messages.0.message.content"].(string)
	if !strings.HasPrefix(content, "t0 t1 t2 ") {
		t.Errorf("span lost what arrived before the client left: %q", content)
	}
}

func TestStreamUpstreamFailsMidStream(t *testing.T) {
	up := &endless{tick: time.Millisecond, fail: 3, cancelled: make(chan time.Time, 1)}
	h := newHarness(t, harnessOptions{upstream: up})
	resp := open(t, context.Background(), h.proxy.URL+"/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Errorf("the client's stream ended cleanly although the upstream broke")
	}
	if !strings.Contains(string(got), `"t2 "`) {
		t.Errorf("the client did not get what the upstream sent before breaking: %q", got)
	}
	span := h.span(t)
	assertErrorSpan(t, span, "UpstreamStreamError")
	if c := span.Attributes["llm.output_messages.0.message.content"]; c != "t0 t1 t2 " {
		t.Errorf("partial output: got %q", c)
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	up := &endless{tick: 5 * time.Millisecond, idleAfter: 2, cancelled: make(chan time.Time, 1)}
	h := newHarness(t, harnessOptions{upstream: up, streamIdleTimeout: 150 * time.Millisecond})
	resp := open(t, context.Background(), h.proxy.URL+"/v1/chat/completions", `{"model":"m","stream":true,"messages":[]}`)
	_, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Errorf("an idle stream ended cleanly; want it cut")
	}
	assertErrorSpan(t, h.span(t), "StreamIdleTimeout")
}

func TestStreamErrorEvent(t *testing.T) {
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n")
		io.WriteString(w, "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n")
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"m","stream":true,"messages":[]}`, nil)
	if resp.StatusCode != 200 || !strings.Contains(got, "server_error") {
		t.Errorf("the client must get the error event as sent: %d %q", resp.StatusCode, got)
	}
	span := h.span(t)
	assertErrorSpan(t, span, "UpstreamStreamError")
	if !strings.Contains(span.StatusMessage, "The server had an error") {
		t.Errorf("status message: %q", span.StatusMessage)
	}
}

// TestStreamOfManyChunks streams 100,000 chunks, with tool-call arguments
// spread over them, through the proxy.
func TestStreamOfManyChunks(t *testing.T) {
	const chunks = 100_000
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		bw := bufio.NewWriterSize(w, 64<<10)
		fmt.Fprint(bw, `data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]}}]}`+"\n\n")
		for i := 0; i < chunks; i++ {
			fmt.Fprint(bw, `data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"a"}}]}}]}`+"\n\n")
		}
		fmt.Fprint(bw, `data: {"id":"x","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`+"\n\ndata: [DONE]\n\n")
		bw.Flush()
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	resp := open(t, context.Background(), h.proxy.URL+"/v1/chat/completions", `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}`)
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n < chunks*100 {
		t.Fatalf("read %d bytes, err %v", n, err)
	}
	span := h.span(t)
	if span.StatusCode != tracepb.Status_STATUS_CODE_OK {
		t.Errorf("status %v %s", span.StatusCode, span.StatusMessage)
	}
	args, _ := span.Attributes["llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments"].(string)
	if len(args) != chunks || span.Attributes["llm.finish_reason"] != "tool_calls" {
		t.Errorf("arguments: %d bytes; want %d; finish %v", len(args), chunks, span.Attributes["llm.finish_reason"])
	}
}

// TestStreamClientLeavesAfterDone: SDKs close the response as soon as they
// read [DONE] (the Python SDK does). An upstream that ends its side a
// moment later must not turn a complete answer into a failed span.
func TestStreamClientLeavesAfterDone(t *testing.T) {
	for _, clientAsks := range []bool{false, true} {
		t.Run(fmt.Sprintf("client-asks-usage=%v", clientAsks), func(t *testing.T) {
			up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n")
				io.WriteString(w, "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\n")
				io.WriteString(w, "data: [DONE]\n\n")
				w.(http.Flusher).Flush()
				select { // the upstream's end comes late
				case <-r.Context().Done():
				case <-time.After(500 * time.Millisecond):
				}
			}}
			h := newHarness(t, harnessOptions{upstream: up})
			body := `{"model":"m","stream":true,"messages":[]}`
			if clientAsks {
				body = `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}`
			}
			resp := open(t, context.Background(), h.proxy.URL+"/v1/chat/completions", body)
			br := bufio.NewReader(resp.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatalf("stream ended before [DONE]: %v", err)
				}
				if strings.HasPrefix(line, "data: [DONE]") {
					break
				}
			}
			resp.Body.Close() // leave at once, as the SDKs do
			span := h.span(t)
			if span.StatusCode != tracepb.Status_STATUS_CODE_OK {
				t.Errorf("status %v %q; want OK: the client had the whole answer", span.StatusCode, span.StatusMessage)
			}
			if span.Attributes["llm.token_count.total"] != int64(2) {
				t.Errorf("token counts lost: %v", span.Attributes)
			}
		})
	}
}
