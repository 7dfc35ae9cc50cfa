package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
)

// responsesStreams are the recorded Responses API streams, each interaction
// that streams.
func responsesStreams(t *testing.T) []fakeprovider.Cassette {
	t.Helper()
	all, err := fakeprovider.LoadDir(filepath.Join(fixturesDir(t, "responses"), "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	var out []fakeprovider.Cassette
	for _, c := range all {
		if c.Request.Path() == "/v1/responses" && c.Response.IsStream() {
			out = append(out, c)
		}
	}
	if len(out) < 3 {
		t.Fatalf("%d recorded Responses streams; want at least 3", len(out))
	}
	return out
}

// TestResponsesStreamEventsArriveOneByOne: each typed event reaches the
// client before the upstream sends the next.
func TestResponsesStreamEventsArriveOneByOne(t *testing.T) {
	for _, c := range responsesStreams(t) {
		t.Run(c.Name, func(t *testing.T) { lockstep(t, c, false, false) })
	}
}

// simpleStream is oi-simple_input_stream's request and events.
func simpleStream(t *testing.T) (request string, events []string) {
	t.Helper()
	c, err := fakeprovider.LoadFile(filepath.Join(fixturesDir(t, "responses"), "cassettes", "oi-simple_input_stream.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c.Request.Body, fakeprovider.Events(c.Response.Body)
}

// eventData is the JSON of an event's data line.
func eventData(t *testing.T, ev string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(ev, "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var m map[string]any
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no data in event %q", ev)
	return nil
}

// untilDeltas is the events of a stream up to and including its n-th text
// delta, and the text of those deltas.
func untilDeltas(t *testing.T, events []string, n int) (kept []string, text string) {
	t.Helper()
	for _, ev := range events {
		kept = append(kept, ev)
		if d := eventData(t, ev); d["type"] == "response.output_text.delta" {
			text += d["delta"].(string)
			if n--; n == 0 {
				return kept, text
			}
		}
	}
	t.Fatalf("fewer than %d deltas", n)
	return nil, ""
}

// finalEvent is an event of the given type carrying the created response
// with status, error and usage set.
func finalEvent(t *testing.T, created string, typ, status string, errObj any) string {
	t.Helper()
	resp := eventData(t, created)["response"].(map[string]any)
	resp["status"] = status
	resp["error"] = errObj
	resp["usage"] = map[string]any{"input_tokens": 19, "output_tokens": 7, "total_tokens": 26,
		"input_tokens_details": map[string]any{"cached_tokens": 0}, "output_tokens_details": map[string]any{"reasoning_tokens": 0}}
	if status == "incomplete" {
		resp["incomplete_details"] = map[string]any{"reason": "max_output_tokens"}
	}
	data, _ := json.Marshal(map[string]any{"type": typ, "response": resp, "sequence_number": 999})
	return fmt.Sprintf("event: %s\ndata: %s\n\n", typ, data)
}

// TestResponsesStreamCutShort: streams that end without response.completed
// still leave a span with the output that passed. Where the recorded stream
// is cut, what the client receives is what the upstream sent.
func TestResponsesStreamCutShort(t *testing.T) {
	request, events := simpleStream(t)
	kept, text := untilDeltas(t, events, 5)
	failure := map[string]any{"code": "server_error", "message": "The model had an error."}
	tests := []struct {
		name       string
		events     []string
		wantStatus tracepb.Status_StatusCode
		wantInDesc string // in the status description
		wantTokens bool
	}{
		{"upstream closes before the last event", kept, tracepb.Status_STATUS_CODE_ERROR, "before its last event", false},
		{"response.failed", append(append([]string(nil), kept...), finalEvent(t, events[0], "response.failed", "failed", failure)),
			tracepb.Status_STATUS_CODE_ERROR, "The model had an error.", true},
		{"response.incomplete", append(append([]string(nil), kept...), finalEvent(t, events[0], "response.incomplete", "incomplete", nil)),
			tracepb.Status_STATUS_CODE_OK, "", true},
		{"error event", append(append([]string(nil), kept...), "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"Upstream overloaded\",\"param\":null,\"sequence_number\":12}\n\n"),
			tracepb.Status_STATUS_CODE_ERROR, "Upstream overloaded", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				for _, ev := range tt.events {
					io.WriteString(w, ev)
					w.(http.Flusher).Flush()
				}
			}}
			h := newHarness(t, harnessOptions{upstream: up})
			resp, got := post(t, h.proxy.URL+"/v1/responses", "application/json", request, nil)
			if want := strings.Join(tt.events, ""); resp.StatusCode != 200 || got != want {
				t.Fatalf("client got %d %.200q; want 200 and the upstream's bytes", resp.StatusCode, got)
			}
			span := h.span(t)
			if span.Name != "Response" || span.StatusCode != tt.wantStatus || !strings.Contains(span.StatusMessage, tt.wantInDesc) {
				t.Errorf("span %q status %v %q; want Response, %v with %q", span.Name, span.StatusCode, span.StatusMessage, tt.wantStatus, tt.wantInDesc)
			}
			key := "llm.output_messages.0.message.contents.0.message_content.text"
			if span.Attributes[key] != text {
				t.Errorf("%s = %q; want the %d bytes of text that passed, %q", key, span.Attributes[key], len(text), text)
			}
			if span.Attributes["llm.output_messages.0.message.role"] != "assistant" {
				t.Errorf("output message role: %v", span.Attributes["llm.output_messages.0.message.role"])
			}
			var out map[string]any
			if err := json.Unmarshal([]byte(fmt.Sprint(span.Attributes["output.value"])), &out); err != nil || out["id"] == nil {
				t.Errorf("output.value is not the response so far: %v (%.200v)", err, span.Attributes["output.value"])
			}
			if _, ok := span.Attributes["llm.token_count.total"]; ok != tt.wantTokens {
				t.Errorf("token counts recorded: %v; want %v", ok, tt.wantTokens)
			}
			if span.Attributes["llm.model_name"] != "gpt-4.1-2025-04-14" {
				t.Errorf("llm.model_name = %v; want the response's model", span.Attributes["llm.model_name"])
			}
			firsts := 0
			for _, e := range span.Events {
				if e.Name == "First Token Stream Event" {
					firsts++
				}
			}
			if firsts != 1 {
				t.Errorf("%d first-token events; want 1", firsts)
			}
		})
	}
}

// TestResponsesOtherRoutes: the Responses API's routes beyond create reach
// the upstream unchanged and get spans named after them. A stored response
// shows its messages; its token counts only when it ran in the background
// (its create call recorded none).
func TestResponsesOtherRoutes(t *testing.T) {
	stored, err := fakeprovider.LoadFile(filepath.Join(fixturesDir(t, "responses"), "cassettes", "pa-model_simple_response.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	background := strings.Replace(stored.Response.Body, `"background":false`, `"background":true`, 1)
	if background == stored.Response.Body {
		t.Fatal("the recorded response has no background member")
	}
	request, events := simpleStream(t)
	sse := strings.Join(events, "")
	tests := []struct {
		method, path, body string
		answer, answerType string
		span               string
		want               map[string]any // attributes the span must have
		tokens             bool
	}{
		{"GET", "/v1/responses/resp_1", "", stored.Response.Body, "application/json", "responses.retrieve",
			map[string]any{"llm.output_messages.0.message.contents.0.message_content.text": "The capital of France is Paris.",
				"llm.model_name": "gpt-4o-2024-08-06"}, false},
		{"GET", "/responses/resp_1", "", background, "application/json", "responses.retrieve",
			map[string]any{"llm.token_count.total": int64(22)}, true},
		{"GET", "/v1/responses/resp_1?stream=true", "", sse, "text/event-stream", "responses.retrieve",
			map[string]any{"llm.model_name": "gpt-4.1-2025-04-14", "llm.output_messages.0.message.role": "assistant"}, false},
		{"POST", "/v1/responses/resp_1/cancel", "", background, "application/json", "responses.cancel",
			map[string]any{"llm.output_messages.0.message.role": "assistant"}, true},
		{"DELETE", "/v1/responses/resp_1", "", `{"id":"resp_1","object":"response","deleted":true}`, "application/json", "responses.delete",
			map[string]any{"output.value": `{"id":"resp_1","object":"response","deleted":true}`}, false},
		{"GET", "/v1/responses/resp_1/input_items", "", `{"object":"list","data":[],"has_more":false}`, "application/json", "responses.input_items",
			map[string]any{"output.value": `{"object":"list","data":[],"has_more":false}`}, false},
		{"POST", "/v1/responses/input_tokens", request, `{"object":"response.input_tokens","input_tokens":19}`, "application/json", "responses.input_tokens",
			map[string]any{"llm.input_messages.1.message.content": "Write a poem about a boy and his first pet dog.",
				"output.value": `{"object":"response.input_tokens","input_tokens":19}`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.answerType)
				io.WriteString(w, tt.answer)
			}}
			h := newHarness(t, harnessOptions{upstream: up})
			req, err := http.NewRequest(tt.method, h.proxy.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(got) != tt.answer {
				t.Fatalf("client got %d %.200q; want the upstream's answer", resp.StatusCode, got)
			}
			last := up.last.Load()
			if wantPath := strings.TrimPrefix(tt.path, "/v1"); last.Method != tt.method || last.URL.RequestURI() != "/v1"+wantPath {
				t.Errorf("upstream got %s %s; want %s /v1%s", last.Method, last.URL.RequestURI(), tt.method, wantPath)
			}
			span := h.span(t)
			if span.Name != tt.span || span.StatusCode != tracepb.Status_STATUS_CODE_OK {
				t.Errorf("span %q %v; want %q OK", span.Name, span.StatusCode, tt.span)
			}
			for k, v := range tt.want {
				if span.Attributes[k] != v {
					t.Errorf("%s = %#v; want %#v", k, span.Attributes[k], v)
				}
			}
			if _, ok := span.Attributes["llm.token_count.total"]; ok != tt.tokens {
				t.Errorf("token counts recorded: %v; want %v", ok, tt.tokens)
			}
			if tt.answerType == "text/event-stream" {
				if len(span.Events) != 1 || span.Events[0].Name != "First Token Stream Event" {
					t.Errorf("events %v; want the first token event", span.Events)
				}
			}
		})
	}
}
