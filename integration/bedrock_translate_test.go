package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
)

// converseCassettes are the recorded Converse and ConverseStream calls,
// every interaction of every cassette, errors too.
func converseCassettes(t *testing.T) []fakeprovider.Cassette {
	t.Helper()
	all, err := fakeprovider.LoadDir(filepath.Join(fixturesDir(t, "bedrock"), "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	var out []fakeprovider.Cassette
	for _, c := range all {
		if strings.HasSuffix(c.Request.Path(), "/converse") || strings.HasSuffix(c.Request.Path(), "/converse-stream") {
			out = append(out, c)
		}
	}
	return out
}

// converseModel is the Bedrock model id a recorded call names in its
// path, unescaped, and the path as the AWS SDK escaped it.
func converseModel(t *testing.T, c fakeprovider.Cassette) (id, escapedPath string) {
	t.Helper()
	u, err := url.Parse(c.Request.URL)
	if err != nil {
		t.Fatal(err)
	}
	rest := strings.TrimPrefix(u.EscapedPath(), "/model/")
	escaped, _, _ := strings.Cut(rest, "/")
	id, err = url.PathUnescape(escaped)
	if err != nil {
		t.Fatal(err)
	}
	return id, u.EscapedPath()
}

// converseAnswer is what a test expects of a recorded Converse answer in
// OpenAI's terms, read from the recording.
type converseAnswer struct {
	text, finish              string
	tools                     []string // names
	reasoning                 bool
	prompt, completion, total int64
	cacheRead, cacheWrite     int64
}

// leadingReasoning is a text that opens with its reasoning in tags, which
// LiteLLM gives as reasoning_content (parse_content_for_reasoning); a
// stream's text passes as it is.
var leadingReasoning = regexp.MustCompile(`(?s)^<(?:think|thinking)>.*?</(?:think|thinking)>(.*)`)

// converseAnswerOf reads a recorded Converse answer, whole or streamed.
func converseAnswerOf(t *testing.T, c fakeprovider.Cassette) converseAnswer {
	t.Helper()
	var a converseAnswer
	var stop string
	usage := func(u gjson.Result) {
		a.cacheRead, a.cacheWrite = u.Get("cacheReadInputTokens").Int(), u.Get("cacheWriteInputTokens").Int()
		a.prompt = u.Get("inputTokens").Int() + a.cacheRead + a.cacheWrite
		a.completion, a.total = u.Get("outputTokens").Int(), u.Get("totalTokens").Int()
	}
	if c.Response.IsStream() {
		var p stream.EventStreamParser
		p.Feed([]byte(c.Response.Body), func(ev stream.Event) {
			d := gjson.ParseBytes(ev.Data)
			switch ev.Type {
			case "contentBlockStart":
				if n := d.Get("contentBlockStart.start.toolUse.name"); n.Exists() {
					a.tools = append(a.tools, n.Str)
				}
			case "contentBlockDelta":
				a.text += d.Get("contentBlockDelta.delta.text").Str
				a.reasoning = a.reasoning || d.Get("contentBlockDelta.delta.reasoningContent").Exists()
			case "messageStop":
				stop = d.Get("messageStop.stopReason").Str
			case "metadata":
				usage(d.Get("metadata.usage"))
			}
		})
		if p.Err() != nil {
			t.Fatal(p.Err())
		}
	} else {
		resp := gjson.Parse(c.Response.Body)
		resp.Get("output.message.content").ForEach(func(_, b gjson.Result) bool {
			switch {
			case b.Get("text").Exists():
				text := b.Get("text").Str
				if m := leadingReasoning.FindStringSubmatch(text); m != nil {
					text, a.reasoning = m[1], true
				}
				a.text += text
			case b.Get("toolUse").Exists():
				a.tools = append(a.tools, b.Get("toolUse.name").Str)
			case b.Get("reasoningContent").Exists():
				a.reasoning = true
			}
			return true
		})
		stop = resp.Get("stopReason").Str
		usage(resp.Get("usage"))
	}
	a.finish = map[string]string{"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}[stop]
	if a.finish == "" {
		t.Fatalf("%s: stopReason %q", c.Name, stop)
	}
	return a
}

// pathRecorder keeps the escaped path of the last request before passing
// it on (a fakeprovider.Server keeps it unescaped).
type pathRecorder struct {
	next http.Handler
	path atomic.Pointer[string]
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	p.path.Store(&escaped)
	p.next.ServeHTTP(w, r)
}

// bedrockTranslateHarness is the proxy with the test's AWS credentials in
// front of a fake Bedrock that takes only requests signed with them and
// answers with the cassettes.
func bedrockTranslateHarness(t *testing.T, cassettes ...fakeprovider.Cassette) (*harness, *fakeprovider.Server, *pathRecorder) {
	t.Helper()
	withAWSCredentials(t)
	fake := fakeprovider.New(cassettes)
	rec := &pathRecorder{next: fake}
	return newHarness(t, harnessOptions{upstream: awsfake.New().Handler(rec)}), fake, rec
}

// TestTranslatedBedrockCalls drives every recorded Converse and
// ConverseStream answer through /chat/completions with a bedrock/ model,
// as the OpenAI SDK or LiteLLM with USE_LITELLM_PROXY would: Bedrock gets
// the translated request at the model's converse (or converse-stream)
// path, escaped as the AWS SDKs escape it, signed with the proxy's
// credentials (the fake takes nothing else); the client gets a valid
// OpenAI answer or stream with the answer's text, tool calls, reasoning,
// finish reason and tokens, or an OpenAI error with Bedrock's status; a
// stream arrives chunk by chunk, each translated chunk before the next
// event-stream message is sent; the span is a ChatCompletion span of
// provider aws with the Bedrock model id, the request as the client made
// it, the answer and the tokens.
func TestTranslatedBedrockCalls(t *testing.T) {
	cassettes := converseCassettes(t)
	streams, failures := 0, 0
	for _, c := range cassettes {
		t.Run(c.Name, func(t *testing.T) {
			id, escapedPath := converseModel(t, c)
			streamed := strings.HasSuffix(c.Request.Path(), "/converse-stream")
			prefix := []string{"bedrock/", "bedrock/converse/", "bedrock_converse/"}[len(c.Name)%3]
			req := fmt.Sprintf(`{"model":%q,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"stream":%v`, prefix+id, streamed)
			if streamed {
				req += `,"stream_options":{"include_usage":true}`
			}
			req += "}"
			h, fake, rec := bedrockTranslateHarness(t, c)

			var after []int64
			pace := newPacer(func(i int) int64 { return after[i] })
			if streamed && c.Response.Code == 200 {
				streams++
				// after[i] is how many chunks the client gets for the
				// messages before message i.
				msgs := fakeprovider.Messages(c.Response.Body)
				after = make([]int64, len(msgs)+1)
				conv := &translate.BedrockChatStream{IncludeUsage: true}
				for i, m := range msgs {
					var p stream.EventStreamParser
					n := 0
					p.Feed([]byte(m), func(ev stream.Event) { n += len(conv.Event(ev.Data)) })
					after[i+1] = after[i] + int64(n)
				}
				fake.BeforeEvent = pace.wait
			}
			resp := openWith(t, context.Background(), h.proxy.URL+"/v1/chat/completions", req,
				map[string]string{"Authorization": "Bearer sk-client", fakeprovider.AnyBodyHeader: c.Name})
			defer resp.Body.Close()
			if resp.StatusCode != c.Response.Code {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s; want %d", resp.StatusCode, b, c.Response.Code)
			}

			// The translated request, as the fake got it.
			sent := fake.Requests()
			if len(sent) != 1 {
				t.Fatalf("Bedrock got %d requests; want 1", len(sent))
			}
			if p := *rec.path.Load(); p != escapedPath {
				t.Errorf("upstream path %s; want %s, escaped as the AWS SDKs do", p, escapedPath)
			}
			if a := sent[0].Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential="+awsfake.AccessKeyID+"/") ||
				sent[0].Header.Get("X-Amz-Security-Token") != awsfake.SessionToken {
				t.Errorf("upstream Authorization %q: want the proxy's signature", a)
			}
			up := gjson.ParseBytes(sent[0].Body)
			if up.Get("system.0.text").Str != "Be brief." || up.Get("messages.0.role").Str != "user" ||
				up.Get("messages.0.content.0.text").Str != "Hello" || len(up.Get("messages").Array()) != 1 ||
				up.Get("model").Exists() || up.Get("stream").Exists() || up.Get("stream_options").Exists() {
				t.Errorf("upstream body %s; want a Converse request", sent[0].Body)
			}

			if c.Response.Code >= 400 {
				failures++
				b, _ := io.ReadAll(resp.Body)
				msg, _, code := openAIError(t, string(b))
				if code != fmt.Sprint(c.Response.Code) || !strings.Contains(msg, gjson.Get(c.Response.Body, "message").Str) {
					t.Errorf("client got %s; want Bedrock's message and status in OpenAI's format", b)
				}
				span := h.span(t)
				assertErrorSpan(t, span, "openai.BadRequestError")
				if span.Name != "ChatCompletion" || span.Attributes["llm.provider"] != "aws" || span.Attributes["llm.model_name"] != id {
					t.Errorf("span %s: provider %v, model %v", span.Name, span.Attributes["llm.provider"], span.Attributes["llm.model_name"])
				}
				return
			}

			want := converseAnswerOf(t, c)
			var got chatReply
			reasoning := false
			if streamed {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
					t.Errorf("Content-Type %q", ct)
				}
				readStream(t, resp.Body, func(ev stream.Event) {
					if !ev.HasData {
						return
					}
					pace.received.Add(1)
					ch, ok := got.chunk(t, ev.Data)
					if !ok {
						return
					}
					if ch.Get("object").Str != "chat.completion.chunk" || !json.Valid(ev.Data) || ch.Get("model").Str != id ||
						!strings.HasPrefix(ch.Get("id").Str, "chatcmpl-") {
						t.Errorf("not a chat chunk of %s: %s", id, ev.Data)
					}
					ch.Get("choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
						if tc.Get("function.name").Str != "" && (!strings.HasPrefix(tc.Get("id").Str, "tooluse_") || tc.Get("index").Type != gjson.Number) {
							t.Errorf("a tool call start OpenAI clients cannot use: %s", tc.Raw)
						}
						return true
					})
				})
				if !got.done || got.roles != 1 {
					t.Errorf("[DONE] %v, %d role deltas; want the end and one", got.done, got.roles)
				}
				if i := pace.stalled.Load(); i >= 0 {
					t.Errorf("message %d: the chunks before it had not all reached the client", i)
				}
				reasoning = got.reasoning != ""
			} else {
				b, _ := io.ReadAll(resp.Body)
				var r gjson.Result
				r, got = readCompletion(b)
				if r.Get("object").Str != "chat.completion" || r.Get("choices.0.message.role").Str != "assistant" || r.Get("model").Str != id ||
					!strings.HasPrefix(r.Get("id").Str, "chatcmpl-") {
					t.Errorf("not a chat completion of %s: %s", id, b)
				}
				reasoning = r.Get("choices.0.message.reasoning_content").Exists()
				r.Get("choices.0.message.tool_calls").ForEach(func(_, tc gjson.Result) bool {
					if !gjson.Valid(tc.Get("function.arguments").Str) || tc.Get("type").Str != "function" || tc.Get("id").Str == "" {
						t.Errorf("a tool call OpenAI clients cannot use: %s", tc.Raw)
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
			if reasoning != want.reasoning {
				t.Errorf("reasoning_content %v; want %v", reasoning, want.reasoning)
			}
			if got.finish != want.finish {
				t.Errorf("finish_reason %q; want %q", got.finish, want.finish)
			}
			if usage := got.usage; usage.Get("prompt_tokens").Int() != want.prompt || usage.Get("completion_tokens").Int() != want.completion ||
				usage.Get("total_tokens").Int() != want.total || usage.Get("prompt_tokens_details.cached_tokens").Int() != want.cacheRead ||
				usage.Get("prompt_tokens_details.cache_creation_tokens").Int() != want.cacheWrite {
				t.Errorf("usage %s; want prompt %d (cache read %d, write %d), completion %d, total %d", usage.Raw,
					want.prompt, want.cacheRead, want.cacheWrite, want.completion, want.total)
			}

			span := h.span(t)
			if span.Name != "ChatCompletion" || span.Attributes["llm.provider"] != "aws" || span.Attributes["llm.model_name"] != id {
				t.Errorf("span %s: provider %v, model %v; want ChatCompletion, aws, %s", span.Name,
					span.Attributes["llm.provider"], span.Attributes["llm.model_name"], id)
			}
			if span.StatusCode.String() == "STATUS_CODE_ERROR" {
				t.Errorf("span status %v %q", span.StatusCode, span.StatusMessage)
			}
			for k, w := range map[string]int64{"llm.token_count.prompt": want.prompt, "llm.token_count.completion": want.completion,
				"llm.token_count.total": want.total} {
				if span.Attributes[k] != w {
					t.Errorf("span %s = %v; want %d", k, span.Attributes[k], w)
				}
			}
			if want.cacheWrite > 0 && span.Attributes["llm.token_count.prompt_details.cache_write"] != want.cacheWrite {
				t.Errorf("span cache write %v; want %d", span.Attributes["llm.token_count.prompt_details.cache_write"], want.cacheWrite)
			}
			if span.Attributes["llm.input_messages.0.message.content"] != "Be brief." || span.Attributes["llm.input_messages.1.message.content"] != "Hello" ||
				span.Attributes["llm.output_messages.0.message.role"] != "assistant" {
				t.Errorf("the span does not show the call as the client made it: %v", span.Attributes)
			}
			if want.text != "" && span.Attributes["llm.output_messages.0.message.content"] != want.text {
				t.Errorf("span output %v; want %.100q", span.Attributes["llm.output_messages.0.message.content"], want.text)
			}
			if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "sk-client") || strings.Contains(s, awsfake.SecretAccessKey) {
				t.Errorf("a credential is in the span")
			}
		})
	}
	if len(cassettes) < 20 || streams < 6 || failures < 2 {
		t.Errorf("%d cassettes, %d streams, %d errors; want the recorded ones", len(cassettes), streams, failures)
	}
}

// TestTranslatedBedrockStreamWithoutUsage: a client that does not ask for
// usage gets no usage chunk, and the span has Bedrock's tokens anyway.
func TestTranslatedBedrockStreamWithoutUsage(t *testing.T) {
	c := loadAPICassette(t, "bedrock", "pa-test_bedrock_model_stream")
	want := converseAnswerOf(t, c)
	h, _, _ := bedrockTranslateHarness(t, c)
	_, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"bedrock/us.amazon.nova-micro-v1:0","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		map[string]string{fakeprovider.AnyBodyHeader: c.Name})
	if strings.Contains(body, `"usage"`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("client stream %s", body)
	}
	span := h.span(t)
	if span.Attributes["llm.token_count.prompt"] != want.prompt || span.Attributes["llm.token_count.completion"] != want.completion ||
		span.Attributes["llm.token_count.total"] != want.total {
		t.Errorf("span tokens %v / %v / %v; want %d / %d / %d", span.Attributes["llm.token_count.prompt"], span.Attributes["llm.token_count.completion"],
			span.Attributes["llm.token_count.total"], want.prompt, want.completion, want.total)
	}
}

// eventStreamMessage is one AWS event-stream message: an event, or an
// exception of that name.
func eventStreamMessage(t *testing.T, exception bool, name, payload string) []byte {
	t.Helper()
	typ, header := "event", ":event-type"
	if exception {
		typ, header = "exception", ":exception-type"
	}
	var buf bytes.Buffer
	err := eventstream.NewEncoder().Encode(&buf, eventstream.Message{Headers: eventstream.Headers{
		{Name: ":message-type", Value: eventstream.StringValue(typ)},
		{Name: header, Value: eventstream.StringValue(name)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
	}, Payload: []byte(payload)})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTranslatedBedrockStreamFailures: a ConverseStream that breaks
// mid-way ends the client's stream with an OpenAI error chunk after what
// came before, and no [DONE]; the span is an error span that says why.
// An exception (throttling) keeps Bedrock's status; a message whose
// checksum fails is a corrupt stream, and the proxy goes on serving.
func TestTranslatedBedrockStreamFailures(t *testing.T) {
	c := loadAPICassette(t, "bedrock", "pa-test_bedrock_model_stream")
	msgs := fakeprovider.Messages(c.Response.Body)
	corrupt := append([]string(nil), msgs...)
	bad := []byte(corrupt[2])
	bad[len(bad)-5] ^= 0x20 // a payload byte: the message CRC fails
	corrupt[2] = string(bad)
	throttled := append(append([]string(nil), msgs[:3]...),
		string(eventStreamMessage(t, true, "throttlingException", `{"message":"Too many tokens, please wait before trying again."}`)))
	for _, tt := range []struct {
		name, body, code, status, output string
	}{
		{"a corrupt message", strings.Join(corrupt, ""), "502", "corrupt", "The"},
		{"a throttling exception", strings.Join(throttled, ""), "429", "Too many tokens", "The capital of France is Paris."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withAWSCredentials(t)
			up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
				_, _ = io.WriteString(w, tt.body)
			}}
			h := newHarness(t, harnessOptions{upstream: awsfake.New().Handler(up)})
			resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
				`{"model":"bedrock/us.amazon.nova-micro-v1:0","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, got)
			}
			var last string
			var p stream.Parser
			p.Feed([]byte(got), func(ev stream.Event) { last = string(ev.Data) })
			if !strings.Contains(got, `"content":"The"`) || strings.Contains(got, "[DONE]") || strings.Contains(got, "Paris is not") ||
				gjson.Get(last, "error.code").Str != tt.code {
				t.Errorf("client got %s; want the text before the failure, then an error chunk %s, and no [DONE]", got, tt.code)
			}
			span := h.span(t)
			if span.StatusCode.String() != "STATUS_CODE_ERROR" || !strings.Contains(span.StatusMessage, tt.status) || span.Name != "ChatCompletion" {
				t.Errorf("span %s status %v %q; want an error naming %q", span.Name, span.StatusCode, span.StatusMessage, tt.status)
			}
			if span.Attributes["llm.output_messages.0.message.content"] != tt.output {
				t.Errorf("span output %v; want what passed", span.Attributes["llm.output_messages.0.message.content"])
			}
			// The proxy goes on serving.
			if resp, _ := send(t, http.MethodGet, h.proxy.URL+"/health/liveliness", "", "", nil); resp.StatusCode != 200 {
				t.Errorf("after the broken stream: health %d", resp.StatusCode)
			}
		})
	}
}

// TestTranslatedBedrockInvokeRefused: a bedrock/invoke/ model on
// /chat/completions is a 400 in OpenAI's format that names what works
// (the native InvokeModel route, or bedrock/converse/); nothing is sent.
func TestTranslatedBedrockInvokeRefused(t *testing.T) {
	withAWSCredentials(t)
	up := answer(200, "{}")
	h := newHarness(t, harnessOptions{upstream: awsfake.New().Handler(up)})
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"bedrock/invoke/anthropic.claude-3-5-haiku-20241022-v1:0","messages":[{"role":"user","content":"hi"}]}`, nil)
	msg, typ, _ := openAIError(t, body)
	if resp.StatusCode != 400 || typ != "invalid_request_error" || !strings.Contains(msg, "/bedrock/model/{modelId}/invoke") ||
		!strings.Contains(msg, "bedrock/converse/anthropic.claude-3-5-haiku-20241022-v1:0") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	// A request that cannot be translated is a 400 too, and goes nowhere.
	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"bedrock/us.amazon.nova-pro-v1:0","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://169.254.169.254/latest/meta-data/"}}]}]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "data URL") {
		t.Errorf("an image by URL: got %d %s", resp.StatusCode, body)
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("Bedrock called %d times; want none", n)
	}
}
