package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
)

// recordedAnswer is what a test expects of a recorded Anthropic answer in
// OpenAI's terms: the text, the tool calls, the tokens.
type recordedAnswer struct {
	model, text            string
	tools                  []string // names
	prompt, completion     int64
	cacheRead, cacheCreate int64
}

// answerOf reads a recorded Messages answer, whole or streamed.
func answerOf(t *testing.T, c fakeprovider.Cassette) recordedAnswer {
	t.Helper()
	var a recordedAnswer
	addUsage := func(u gjson.Result) {
		if v := u.Get("input_tokens"); v.Exists() {
			a.prompt = v.Int()
		}
		if v := u.Get("output_tokens"); v.Exists() {
			a.completion = v.Int()
		}
		if v := u.Get("cache_read_input_tokens"); v.Exists() {
			a.cacheRead = v.Int()
		}
		if v := u.Get("cache_creation_input_tokens"); v.Exists() {
			a.cacheCreate = v.Int()
		}
	}
	if !c.Response.IsStream() {
		msg := gjson.Parse(c.Response.Body)
		a.model = msg.Get("model").Str
		msg.Get("content").ForEach(func(_, b gjson.Result) bool {
			switch b.Get("type").Str {
			case "text":
				a.text += b.Get("text").Str
			case "tool_use":
				a.tools = append(a.tools, b.Get("name").Str)
			}
			return true
		})
		addUsage(msg.Get("usage"))
		return a
	}
	for _, ev := range fakeprovider.Events(c.Response.Body) {
		_, data, _ := strings.Cut(ev, "data: ")
		d := gjson.Parse(data)
		switch d.Get("type").Str {
		case "message_start":
			a.model = d.Get("message.model").Str
			addUsage(d.Get("message.usage"))
		case "content_block_start":
			if d.Get("content_block.type").Str == "tool_use" {
				a.tools = append(a.tools, d.Get("content_block.name").Str)
			}
		case "content_block_delta":
			a.text += d.Get("delta.text").Str
		case "message_delta":
			addUsage(d.Get("usage"))
		}
	}
	return a
}

// chatReply is what a chat completion said, whole or streamed, in the
// terms the translation tests compare: its first choice's content,
// reasoning_content, tool calls and finish_reason, and the usage.
type chatReply struct {
	text, reasoning, finish string
	tools                   []string // the tool calls' names (streamed: the deltas that name one)
	usage                   gjson.Result
	// Of a stream: done is whether [DONE] came, roles how many deltas
	// had the assistant role.
	done  bool
	roles int
}

// readCompletion reads a whole chat.completion.
func readCompletion(body []byte) (gjson.Result, chatReply) {
	resp := gjson.ParseBytes(body)
	m := resp.Get("choices.0.message")
	got := chatReply{text: m.Get("content").Str, reasoning: m.Get("reasoning_content").Str,
		finish: resp.Get("choices.0.finish_reason").Str, usage: resp.Get("usage")}
	m.Get("tool_calls").ForEach(func(_, tc gjson.Result) bool {
		got.tools = append(got.tools, tc.Get("function.name").Str)
		return true
	})
	return resp, got
}

// chunk reads one event's data of a chat completions stream into r, and
// returns the chunk for the caller's own checks (false for [DONE]). An
// event after [DONE] and a usage chunk with choices are errors.
func (r *chatReply) chunk(t *testing.T, data []byte) (gjson.Result, bool) {
	t.Helper()
	if r.done {
		t.Errorf("an event after [DONE]: %s", data)
	}
	if string(data) == "[DONE]" {
		r.done = true
		return gjson.Result{}, false
	}
	ch := gjson.ParseBytes(data)
	if ch.Get("choices.0.delta.role").Str == "assistant" {
		r.roles++
	}
	r.text += ch.Get("choices.0.delta.content").Str
	r.reasoning += ch.Get("choices.0.delta.reasoning_content").Str
	ch.Get("choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
		if name := tc.Get("function.name").Str; name != "" {
			r.tools = append(r.tools, name)
		}
		return true
	})
	if f := ch.Get("choices.0.finish_reason").Str; f != "" {
		r.finish = f
	}
	if u := ch.Get("usage"); u.IsObject() {
		if n := len(ch.Get("choices").Array()); n != 0 {
			t.Errorf("a usage chunk with %d choices", n)
		}
		r.usage = u
	}
	return ch, true
}

// TestTranslatedAnthropicCalls drives every recorded Anthropic answer
// through /chat/completions with an anthropic/ model, as the OpenAI SDK or
// LiteLLM with USE_LITELLM_PROXY would: the client gets a valid OpenAI
// answer or stream carrying the answer's text, tool calls and tokens; a
// stream arrives chunk by chunk, each translated chunk before the next
// Anthropic event is sent; the span is a ChatCompletion span of provider
// anthropic with the Anthropic model and the right tokens.
func TestTranslatedAnthropicCalls(t *testing.T) {
	for _, c := range anthropicCassettes(t) {
		t.Run(c.Name, func(t *testing.T) {
			want := answerOf(t, c)
			model := gjson.Get(c.Request.Body, "model").Str
			streamed := c.Response.IsStream()
			req := fmt.Sprintf(`{"model":"anthropic/%s","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"stream":%v`, model, streamed)
			if streamed {
				req += `,"stream_options":{"include_usage":true}`
			}
			req += "}"

			h := newHarness(t, harnessOptions{cassettes: []fakeprovider.Cassette{c}})
			var after []int64
			pace := newPacer(func(i int) int64 { return after[i] })
			if streamed {
				// after[i] is how many chunks the client gets for the
				// upstream's events before event i.
				events := fakeprovider.Events(c.Response.Body)
				after = make([]int64, len(events)+1)
				conv := &translate.AnthropicChatStream{IncludeUsage: true}
				for i, ev := range events {
					_, data, _ := strings.Cut(ev, "data: ")
					after[i+1] = after[i] + int64(len(conv.Event([]byte(strings.TrimSpace(data)))))
				}
				h.upstream.BeforeEvent = pace.wait
			}
			r := openWith(t, context.Background(), h.proxy.URL+"/v1/chat/completions", req,
				map[string]string{"Authorization": "Bearer sk-ant-client-key", fakeprovider.AnyBodyHeader: c.Name})
			defer r.Body.Close()
			if r.StatusCode != 200 {
				b, _ := io.ReadAll(r.Body)
				t.Fatalf("status %d: %s", r.StatusCode, b)
			}

			var got chatReply
			if streamed {
				readStream(t, r.Body, func(ev stream.Event) {
					if !ev.HasData {
						return
					}
					pace.received.Add(1)
					if ch, ok := got.chunk(t, ev.Data); ok && (ch.Get("object").Str != "chat.completion.chunk" || !json.Valid(ev.Data)) {
						t.Errorf("not a chat chunk: %s", ev.Data)
					}
				})
				if !got.done {
					t.Errorf("no [DONE]")
				}
				if i := pace.stalled.Load(); i >= 0 {
					t.Errorf("event %d: the chunks before it had not all reached the client", i)
				}
			} else {
				b, _ := io.ReadAll(r.Body)
				var resp gjson.Result
				resp, got = readCompletion(b)
				if resp.Get("object").Str != "chat.completion" || resp.Get("choices.0.message.role").Str != "assistant" {
					t.Errorf("not a chat completion: %s", b)
				}
				resp.Get("choices.0.message.tool_calls").ForEach(func(_, tc gjson.Result) bool {
					if !gjson.Valid(tc.Get("function.arguments").Str) {
						t.Errorf("arguments are not a JSON string: %s", tc.Raw)
					}
					return true
				})
			}
			if got.text != want.text {
				t.Errorf("content %.100q; want %.100q", got.text, want.text)
			}
			if fmt.Sprint(got.tools) != fmt.Sprint(want.tools) {
				t.Errorf("tool calls %v; want %v", got.tools, want.tools)
			}
			if got.finish == "" {
				t.Errorf("no finish_reason")
			}
			prompt := want.prompt + want.cacheRead + want.cacheCreate
			if u := got.usage; u.Get("prompt_tokens").Int() != prompt || u.Get("completion_tokens").Int() != want.completion ||
				u.Get("total_tokens").Int() != prompt+want.completion || u.Get("prompt_tokens_details.cached_tokens").Int() != want.cacheRead {
				t.Errorf("usage %s; want prompt %d (cache read %d), completion %d", u.Raw, prompt, want.cacheRead, want.completion)
			}

			sent := h.upstream.Requests()
			if len(sent) != 1 || sent[0].Path != "/v1/messages" || sent[0].Header.Get("X-Api-Key") != "sk-ant-client-key" ||
				sent[0].Header.Get("Authorization") != "" || sent[0].Header.Get("Anthropic-Version") == "" {
				t.Fatalf("upstream got %+v", sent)
			}
			if up := gjson.ParseBytes(sent[0].Body); up.Get("model").Str != model || up.Get("system.0.text").Str != "Be brief." ||
				up.Get("messages.0.content.0.text").Str != "Hello" || up.Get("max_tokens").Int() != translate.AnthropicDefaultMaxTokens {
				t.Errorf("upstream body %s", sent[0].Body)
			}

			span := h.span(t)
			if span.Name != "ChatCompletion" || span.Attributes["llm.provider"] != "anthropic" || span.Attributes["llm.system"] != "anthropic" ||
				span.Attributes["llm.model_name"] != want.model {
				t.Errorf("span %s: provider %v system %v model %v; want ChatCompletion, anthropic, %s", span.Name,
					span.Attributes["llm.provider"], span.Attributes["llm.system"], span.Attributes["llm.model_name"], want.model)
			}
			if span.Attributes["llm.token_count.prompt"] != prompt || span.Attributes["llm.token_count.completion"] != want.completion {
				t.Errorf("span tokens %v / %v; want %d / %d", span.Attributes["llm.token_count.prompt"], span.Attributes["llm.token_count.completion"], prompt, want.completion)
			}
			if span.Attributes["llm.input_messages.0.message.content"] != "Be brief." {
				t.Errorf("the span does not show the request as the client made it: %v", span.Attributes)
			}
			if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "sk-ant") {
				t.Errorf("the key is in the span")
			}
		})
	}
}

// TestTranslatedAnthropicErrors: Anthropic's error answers reach an
// OpenAI-format caller as OpenAI errors with the same status; an
// anthropic/ model on an API Anthropic has no counterpart for is refused.
func TestTranslatedAnthropicErrors(t *testing.T) {
	up := answer(429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}`)
	h := newHarness(t, harnessOptions{upstream: up})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"user","content":"hi"}]}`, nil)
	msg, typ, code := openAIError(t, body)
	if resp.StatusCode != 429 || typ != "rate_limit_error" || code != "429" || !strings.Contains(msg, "rate limit") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	assertErrorSpan(t, h.span(t), "openai.RateLimitError")

	for _, path := range []string{"/v1/completions", "/v1/embeddings"} {
		resp, body := post(t, h.proxy.URL+path, "application/json", `{"model":"anthropic/claude-sonnet-4-5","prompt":"hi","input":"hi"}`, nil)
		if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "/chat/completions only") {
			t.Errorf("%s: got %d %q", path, resp.StatusCode, msg)
		}
	}
	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":"only this"}]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "no user or assistant message") {
		t.Errorf("untranslatable request: got %d %q", resp.StatusCode, msg)
	}
	if n := up.calls.Load(); n != 1 {
		t.Errorf("upstream called %d times; want once", n)
	}
}

// TestTranslatedStreamWithoutUsageStillHasTokens: a client that does not
// ask for usage gets no usage chunk, and the span has the tokens Anthropic
// sent anyway.
func TestTranslatedStreamWithoutUsageStillHasTokens(t *testing.T) {
	var c fakeprovider.Cassette
	for _, x := range anthropicCassettes(t) {
		if x.Name == "oi-messages_streaming" {
			c = x
		}
	}
	want := answerOf(t, c)
	h := newHarness(t, harnessOptions{cassettes: []fakeprovider.Cassette{c}})
	_, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"anthropic/claude-sonnet-4-6","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{fakeprovider.AnyBodyHeader: c.Name})
	if strings.Contains(body, `"usage"`) {
		t.Errorf("a usage chunk the client did not ask for: %s", body)
	}
	span := h.span(t)
	if span.Attributes["llm.token_count.prompt"] != want.prompt || span.Attributes["llm.token_count.completion"] != want.completion {
		t.Errorf("span tokens %v / %v; want %d / %d", span.Attributes["llm.token_count.prompt"], span.Attributes["llm.token_count.completion"], want.prompt, want.completion)
	}
}

// TestAnthropicStreamHelperSpanName: the SDK's messages.stream() helper
// says so in a header; its span is named messages.stream, as the
// instrumentor names it.
func TestAnthropicStreamHelperSpanName(t *testing.T) {
	up := answer(200, `{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":1}}`)
	h := newHarness(t, harnessOptions{upstream: up})
	post(t, h.proxy.URL+"/v1/messages", "application/json", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{"X-Stainless-Helper-Method": "stream"})
	if name := h.span(t).Name; name != "messages.stream" {
		t.Errorf("span name %q; want messages.stream", name)
	}
	post(t, h.proxy.URL+"/v1/messages", "application/json", `{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, nil)
	if name := h.span(t).Name; name != "messages.create" {
		t.Errorf("span name %q; want messages.create", name)
	}
}

// TestTranslatedStreamHugeEventIsBounded: a translated stream holds each
// Anthropic event whole to translate it; one over the per-event bound (4
// MiB) ends the stream there, as a broken stream, rather than growing the
// proxy's memory with it (issue 21). What came before reached the client;
// the span says why it ended.
func TestTranslatedStreamHugeEventIsBounded(t *testing.T) {
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-6\",\"content\":[],\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n"+
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"+
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\""+strings.Repeat("x", 5<<20)+"\"}}\n\n")
		_, _ = io.WriteString(w, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	}}
	h := newHarness(t, harnessOptions{upstream: up})
	resp := open(t, t.Context(), h.proxy.URL+"/v1/chat/completions",
		`{"model":"anthropic/claude-sonnet-4-6","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Errorf("the stream ended cleanly; want it broken at the huge event")
	}
	if !strings.Contains(string(got), `"content":"Hi"`) || strings.Contains(string(got), "xxxx") {
		t.Errorf("client got %.300q; want the events before the huge one, and not it", got)
	}
	span := h.span(t)
	if !strings.Contains(span.StatusMessage, "too large") {
		t.Errorf("span status %q; want the event too large named", span.StatusMessage)
	}
}
