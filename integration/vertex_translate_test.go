package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/googlefake"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
)

// The Vertex AI project and location the proxy is configured with
// (VERTEXAI_PROJECT, VERTEXAI_LOCATION).
const (
	translateProject  = "my-project"
	translateLocation = "europe-west4"
)

// vertexTranslateHarness is the proxy with a service account's key and a
// project and location of its own, in front of a fake Vertex AI that
// answers every call with a recorded answer.
func vertexTranslateHarness(t *testing.T, answer fakeprovider.Cassette) (*harness, *fakeVertex) {
	ts := googlefake.NewTokenServer(t, 3600)
	fake := &fakeVertex{tokens: ts, answer: answer}
	o := harnessOptions{upstream: fake}
	o.env.VertexCredentials = googlefake.ServiceAccountJSON(t, ts.TokenURI())
	o.env.VertexProject, o.env.VertexLocation = translateProject, translateLocation
	return newHarness(t, o), fake
}

// geminiCassettes are the recorded generateContent and
// streamGenerateContent calls that succeeded, every interaction of every
// cassette.
func geminiCassettes(t *testing.T) []fakeprovider.Cassette {
	t.Helper()
	all, err := fakeprovider.LoadDir(filepath.Join(fixturesDir(t, "gemini"), "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	var out []fakeprovider.Cassette
	for _, c := range all {
		if c.Response.Code == 200 && (strings.Contains(c.Request.URL, ":generateContent") || strings.Contains(c.Request.URL, ":streamGenerateContent")) {
			out = append(out, c)
		}
	}
	return out
}

// cassetteModel is the model a recorded Gemini call names in its path.
func cassetteModel(c fakeprovider.Cassette) string {
	_, rest, _ := strings.Cut(c.Request.Path(), "/models/")
	model, _, _ := strings.Cut(rest, ":")
	return model
}

// geminiAnswer is what a test expects of a recorded Gemini answer in
// OpenAI's terms.
type geminiAnswer struct {
	model, text, finish       string
	tools                     []string // names
	prompt, completion, total int64
	cached, reasoning         int64
	hasReasoning              bool
}

// geminiAnswerOf reads a recorded Gemini answer, whole or streamed: its
// first candidate's text and function calls, its last usage, as LiteLLM
// counts it.
func geminiAnswerOf(t *testing.T, c fakeprovider.Cassette) geminiAnswer {
	t.Helper()
	var chunks []gjson.Result
	if c.Response.IsStream() {
		for _, ev := range fakeprovider.Events(c.Response.Body) {
			_, data, _ := strings.Cut(ev, "data: ")
			if d := strings.TrimSpace(data); d != "" {
				chunks = append(chunks, gjson.Parse(d))
			}
		}
	} else {
		chunks = []gjson.Result{gjson.Parse(c.Response.Body)}
	}
	var a geminiAnswer
	reason, grounded := "", false
	for _, ch := range chunks {
		if m := ch.Get("modelVersion").Str; m != "" {
			a.model, _, _ = strings.Cut(m, "@")
		}
		ch.Get("candidates.0.content.parts").ForEach(func(_, p gjson.Result) bool {
			switch {
			case p.Get("functionCall").Exists():
				a.tools = append(a.tools, p.Get("functionCall.name").Str)
			case p.Get("thought").Bool():
				a.hasReasoning = true
			default:
				a.text += p.Get("text").Str
			}
			return true
		})
		if r := ch.Get("candidates.0.finishReason").Str; r != "" {
			reason = r
		}
		grounded = grounded || len(ch.Get("candidates.0.groundingMetadata.webSearchQueries").Array()) > 0
		if u := ch.Get("usageMetadata"); u.IsObject() {
			a.prompt, a.completion, a.total = u.Get("promptTokenCount").Int(), u.Get("candidatesTokenCount").Int(), u.Get("totalTokenCount").Int()
			a.cached, a.reasoning = u.Get("cachedContentTokenCount").Int(), u.Get("thoughtsTokenCount").Int()
			toolUse := u.Get("toolUsePromptTokenCount").Int()
			if a.prompt+a.completion+toolUse != a.total {
				a.completion += a.reasoning // the thoughts, counted apart
			}
			if !grounded {
				a.prompt += toolUse // a search's is not billed
			}
		}
	}
	a.finish = map[string]string{"STOP": "stop", "MAX_TOKENS": "length"}[reason]
	if len(a.tools) > 0 {
		a.finish = "tool_calls"
	}
	if a.finish == "" {
		t.Fatalf("%s: finishReason %q", c.Name, reason)
	}
	return a
}

// TestTranslatedVertexGeminiCalls drives every recorded Gemini answer
// through /chat/completions with a vertex_ai/ model, as the OpenAI SDK or
// LiteLLM with USE_LITELLM_PROXY would: Vertex AI gets the translated
// request at the model's path under the proxy's project and location,
// with the proxy's token; the client gets a valid OpenAI answer or stream
// with the answer's text, tool calls, finish reason and tokens; the span
// is a ChatCompletion span of provider google with Google's model name.
func TestTranslatedVertexGeminiCalls(t *testing.T) {
	cassettes := geminiCassettes(t)
	if len(cassettes) < 15 {
		t.Fatalf("%d Gemini cassettes; want the recorded ones", len(cassettes))
	}
	streams := 0
	for _, c := range cassettes {
		t.Run(c.Name, func(t *testing.T) {
			want := geminiAnswerOf(t, c)
			model := cassetteModel(c)
			streamed := c.Response.IsStream()
			if streamed {
				streams++
			}
			req := fmt.Sprintf(`{"model":"vertex_ai/%s","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hello"}],"stream":%v`, model, streamed)
			if streamed {
				req += `,"stream_options":{"include_usage":true}`
			}
			req += "}"
			h, fake := vertexTranslateHarness(t, c)
			resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", req, map[string]string{"Authorization": "Bearer sk-client"})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}

			r, sent := fake.last()
			method, query := "generateContent", ""
			if streamed {
				method, query = "streamGenerateContent", "alt=sse"
			}
			wantPath := fmt.Sprintf("/v1/projects/%s/locations/%s/publishers/google/models/%s:%s", translateProject, translateLocation, model, method)
			if r.URL.Path != wantPath || r.URL.RawQuery != query {
				t.Errorf("upstream got %s?%s; want %s?%s", r.URL.Path, r.URL.RawQuery, wantPath, query)
			}
			if a := r.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ya29.test-") {
				t.Errorf("upstream Authorization %q; want the proxy's token", a)
			}
			up := gjson.ParseBytes(sent)
			if up.Get("systemInstruction.parts.0.text").Str != "Be brief." || up.Get("contents.0.role").Str != "user" ||
				up.Get("contents.0.parts.0.text").Str != "Hello" || up.Get("messages").Exists() || up.Get("model").Exists() || up.Get("stream").Exists() {
				t.Errorf("upstream body %s", sent)
			}

			var got chatReply
			if streamed {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
					t.Errorf("Content-Type %q", ct)
				}
				var p stream.Parser
				p.Feed([]byte(body), func(ev stream.Event) {
					if !ev.HasData {
						return
					}
					ch, ok := got.chunk(t, ev.Data)
					if !ok {
						return
					}
					if ch.Get("object").Str != "chat.completion.chunk" || !json.Valid(ev.Data) || ch.Get("model").Str != want.model {
						t.Errorf("not a chat chunk of %s: %s", want.model, ev.Data)
					}
					ch.Get("choices.0.delta.tool_calls").ForEach(func(_, tc gjson.Result) bool {
						if !gjson.Valid(tc.Get("function.arguments").Str) || !strings.HasPrefix(tc.Get("id").Str, "call_") {
							t.Errorf("a tool call OpenAI clients cannot use: %s", tc.Raw)
						}
						return true
					})
				})
				if !got.done || got.roles != 1 {
					t.Errorf("[DONE] %v, %d role deltas; want the end and one", got.done, got.roles)
				}
			} else {
				var resp gjson.Result
				resp, got = readCompletion([]byte(body))
				if resp.Get("object").Str != "chat.completion" || resp.Get("choices.0.message.role").Str != "assistant" || resp.Get("model").Str != want.model {
					t.Errorf("not a chat completion of %s: %s", want.model, body)
				}
				resp.Get("choices.0.message.tool_calls").ForEach(func(_, tc gjson.Result) bool {
					if !gjson.Valid(tc.Get("function.arguments").Str) || tc.Get("type").Str != "function" {
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
			if reasoning := got.reasoning != ""; reasoning != want.hasReasoning {
				t.Errorf("reasoning_content %v; want %v", reasoning, want.hasReasoning)
			}
			if got.finish != want.finish {
				t.Errorf("finish_reason %q; want %q", got.finish, want.finish)
			}
			if usage := got.usage; usage.Get("prompt_tokens").Int() != want.prompt || usage.Get("completion_tokens").Int() != want.completion ||
				usage.Get("total_tokens").Int() != want.total || usage.Get("prompt_tokens_details.cached_tokens").Int() != want.cached ||
				usage.Get("completion_tokens_details.reasoning_tokens").Int() != want.reasoning {
				t.Errorf("usage %s; want prompt %d (cached %d), completion %d (reasoning %d), total %d", usage.Raw,
					want.prompt, want.cached, want.completion, want.reasoning, want.total)
			}

			span := h.span(t)
			if span.Name != "ChatCompletion" || span.Attributes["llm.provider"] != "google" || span.Attributes["llm.model_name"] != want.model {
				t.Errorf("span %s: provider %v, model %v; want ChatCompletion, google, %s", span.Name,
					span.Attributes["llm.provider"], span.Attributes["llm.model_name"], want.model)
			}
			if span.Attributes["llm.token_count.prompt"] != want.prompt || span.Attributes["llm.token_count.completion"] != want.completion {
				t.Errorf("span tokens %v / %v; want %d / %d", span.Attributes["llm.token_count.prompt"], span.Attributes["llm.token_count.completion"], want.prompt, want.completion)
			}
			if span.Attributes["llm.input_messages.0.message.content"] != "Be brief." || span.Attributes["llm.input_messages.1.message.content"] != "Hello" {
				t.Errorf("the span does not show the request as the client made it: %v", span.Attributes)
			}
			if s := fmt.Sprint(span.Attributes, span.Events); strings.Contains(s, "ya29.") || strings.Contains(s, "sk-client") {
				t.Errorf("a credential is in the span")
			}
		})
	}
	if streams < 5 {
		t.Errorf("%d streamed cassettes; want the recorded ones", streams)
	}
}

// TestTranslatedVertexStreamWithoutUsage: a client that does not ask for
// usage gets no usage chunk, and the span has Gemini's tokens anyway.
func TestTranslatedVertexStreamWithoutUsage(t *testing.T) {
	c := loadAPICassette(t, "gemini", "oi-streaming_text_content")
	want := geminiAnswerOf(t, c)
	h, _ := vertexTranslateHarness(t, c)
	_, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"vertex_ai/gemini-2.0-flash","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
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

// TestTranslatedVertexErrors: Google's error envelope reaches the client as
// OpenAI's with the same status; a request that cannot be translated, or
// sent (no project), is a 400 and goes nowhere.
func TestTranslatedVertexErrors(t *testing.T) {
	c := loadAPICassette(t, "gemini", "pa-test_model_name_suggestion-google")
	h, fake := vertexTranslateHarness(t, c)
	resp, body := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"vertex_ai/gemini-3.6-flahs","messages":[{"role":"user","content":"hi"}]}`, nil)
	msg, typ, code := openAIError(t, body)
	if resp.StatusCode != 404 || typ != "not_found_error" || code != "404" || !strings.Contains(msg, gjson.Get(c.Response.Body, "error.message").Str) {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
	assertErrorSpan(t, h.span(t), "openai.NotFoundError")

	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"vertex_ai/gemini-2.5-flash","messages":[{"role":"tool","tool_call_id":"nope","content":"r"}]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "answers no tool call") {
		t.Errorf("untranslatable request: got %d %q", resp.StatusCode, msg)
	}
	for _, path := range []string{"/v1/completions", "/v1/embeddings"} {
		resp, body := post(t, h.proxy.URL+path, "application/json", `{"model":"vertex_ai/gemini-2.5-flash","prompt":"hi","input":"hi"}`, nil)
		if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "/chat/completions only") {
			t.Errorf("%s: got %d %q", path, resp.StatusCode, msg)
		}
	}
	fake.mu.Lock()
	calls := len(fake.seen)
	fake.mu.Unlock()
	if calls != 1 {
		t.Errorf("Vertex AI called %d times; want once", calls)
	}

	// No project configured: the 400 says what to set.
	ts := googlefake.NewTokenServer(t, 3600)
	o := harnessOptions{upstream: &fakeVertex{tokens: ts, answer: c}}
	h = newHarness(t, o)
	resp, body = post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"vertex_ai/gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}`, nil)
	if msg, _, _ := openAIError(t, body); resp.StatusCode != 400 || !strings.Contains(msg, "VERTEXAI_PROJECT") {
		t.Errorf("no project: got %d %q", resp.StatusCode, msg)
	}
}

// TestTranslatedVertexClaude: a vertex_ai/claude-… model on
// /chat/completions is the Messages API on Vertex AI, as LiteLLM's
// vertex_ai partner route sends it: :rawPredict (:streamRawPredict for a
// stream) under the proxy's project and location, no model in the body,
// anthropic_version vertex-2023-10-16; the answer comes back in OpenAI's
// format.
func TestTranslatedVertexClaude(t *testing.T) {
	for _, name := range []string{"oi-messages", "oi-messages_streaming"} {
		t.Run(name, func(t *testing.T) {
			c := loadAPICassette(t, "anthropic", name)
			want := answerOf(t, c)
			streamed := c.Response.IsStream()
			h, fake := vertexTranslateHarness(t, c)
			hreq, err := http.NewRequest(http.MethodPost, h.proxy.URL+"/v1/chat/completions",
				strings.NewReader(fmt.Sprintf(`{"model":"vertex_ai/claude-sonnet-4-6","stream":%v,"messages":[{"role":"user","content":"What's the capital of France?"}]}`, streamed)))
			if err != nil {
				t.Fatal(err)
			}
			hreq.Header.Set("Content-Type", "application/json")
			r, err := http.DefaultClient.Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r.Body)
			r.Body.Close()
			if r.StatusCode != 200 {
				t.Fatalf("status %d: %s", r.StatusCode, b)
			}
			method := "rawPredict"
			if streamed {
				method = "streamRawPredict"
			}
			upReq, sent := fake.last()
			wantPath := fmt.Sprintf("/v1/projects/%s/locations/%s/publishers/anthropic/models/claude-sonnet-4-6:%s", translateProject, translateLocation, method)
			up := gjson.ParseBytes(sent)
			if upReq.URL.Path != wantPath || up.Get("model").Exists() || up.Get("anthropic_version").Str != translate.VertexAnthropicVersion ||
				up.Get("messages.0.content.0.text").Str != "What's the capital of France?" {
				t.Errorf("upstream got %s %s", upReq.URL.Path, sent)
			}
			if a := upReq.Header.Get("Authorization"); !strings.HasPrefix(a, "Bearer ya29.test-") {
				t.Errorf("upstream Authorization %q; want the proxy's token", a)
			}
			text := gjson.GetBytes(b, "choices.0.message.content").Str
			if streamed {
				text = ""
				var p stream.Parser
				p.Feed(b, func(ev stream.Event) {
					if ev.HasData && string(ev.Data) != "[DONE]" {
						text += gjson.GetBytes(ev.Data, "choices.0.delta.content").Str
					}
				})
			}
			if text != want.text {
				t.Errorf("content %.100q; want %.100q", text, want.text)
			}
			span := h.span(t)
			if span.Name != "ChatCompletion" || span.Attributes["llm.provider"] != "google" || span.Attributes["llm.system"] != "anthropic" ||
				span.Attributes["llm.model_name"] != want.model {
				t.Errorf("span %s: provider %v system %v model %v", span.Name, span.Attributes["llm.provider"], span.Attributes["llm.system"], span.Attributes["llm.model_name"])
			}
		})
	}
}

// TestTranslatedVertexClaudeClientsToken: without Google credentials of
// the proxy's, a chat call to vertex_ai/claude-… carries the client's own
// bearer token to Vertex AI, as it came (not moved into x-api-key as for
// Anthropic's API).
func TestTranslatedVertexClaudeClientsToken(t *testing.T) {
	c := loadAPICassette(t, "anthropic", "oi-messages")
	fake := &fakeVertex{answer: c}
	o := harnessOptions{upstream: fake}
	o.env.VertexProject, o.env.VertexLocation = translateProject, translateLocation
	h := newHarness(t, o)
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json",
		`{"model":"vertex_ai/claude-sonnet-4-6","messages":[{"role":"user","content":"What's the capital of France?"}]}`,
		map[string]string{"Authorization": "Bearer ya29.client-own"})
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	r, _ := fake.last()
	if r.Header.Get("Authorization") != "Bearer ya29.client-own" || r.Header.Get("X-Api-Key") != "" {
		t.Errorf("upstream Authorization %q, x-api-key %q; want the client's token as it came", r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	}
	h.span(t)
}
