package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// sessionProxy is a proxy with session inference on, between a
// fakeprovider.Conversation (an upstream that answers every call anew, as a
// model in a conversation does: a replayed cassette cannot answer a
// conversation that grows) and an OTLP receiver.
type sessionProxy struct {
	url      string
	receiver *otlptest.Receiver
	provider *export.Provider
}

func newSessionProxy(t *testing.T, resolver *sessions.Resolver) *sessionProxy {
	t.Helper()
	up := httptest.NewServer(&fakeprovider.Conversation{})
	t.Cleanup(up.Close)
	receiver := otlptest.Start(t)
	tp, err := export.NewProvider(context.Background(), export.Config{
		Endpoint: receiver.Endpoint(), ProjectName: "sessions", ServiceName: "llmproxy", BatchTimeout: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	providers, err := upstream.NewProviders(sessionEnv(up.URL))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(handlers.New(handlers.Options{
		Providers: providers, Router: router.FromEnvironment(providers),
		Recorder: spans.NewRecorder(tp), Sessions: resolver,
	}))
	t.Cleanup(proxy.Close)
	return &sessionProxy{url: proxy.URL, receiver: receiver, provider: tp}
}

// call makes one call, and returns the client's answer (for a stream, the
// chat message it adds up to, as an SDK rebuilds it) and the span that
// reached the collector.
func (p *sessionProxy) call(t *testing.T, path, body string, header map[string]string) (string, otlptest.Span) {
	t.Helper()
	resp := openWith(t, context.Background(), p.url+path, body, header)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, resp.StatusCode, b)
	}
	if err := p.provider.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := p.receiver.WaitFor(t, 1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("got %d spans, want 1", len(got))
	}
	p.receiver.Reset()
	return string(b), got[0]
}

// streamedMessage is the assistant message a chat stream adds up to, as
// the OpenAI SDKs rebuild it to send back: content as one string (absent
// when the model only called tools), tool calls with their arguments
// joined.
func streamedMessage(t *testing.T, sse string) string {
	t.Helper()
	var content, args, id, name string
	for _, line := range strings.Split(sse, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		d := gjson.Get(data, "choices.0.delta")
		content += d.Get("content").Str
		if tc := d.Get("tool_calls.0"); tc.Exists() {
			id += tc.Get("id").Str
			name += tc.Get("function.name").Str
			args += tc.Get("function.arguments").Str
		}
	}
	if name != "" {
		return fmt.Sprintf(`{"role":"assistant","tool_calls":[{"id":%q,"type":"function","function":{"name":%q,"arguments":%q}}]}`, id, name, args)
	}
	return fmt.Sprintf(`{"role":"assistant","content":%q}`, content)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// A chat agent loop that sends no session field at all (tool calls, tool
// results, whole answers and streams, each answer sent back as the SDK
// rebuilt it) lands in one session; a second one with the same system
// prompt and first message lands in another.
func TestSessionsChatAgentLoop(t *testing.T) {
	p := newSessionProxy(t, sessions.New(sessions.Options{}))
	const tools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]`
	system := `{"role":"system","content":"You are a weather agent. Always use the tools you have."}`
	// The fake calls the tool three times, then answers with text.
	first := `{"role":"user","content":"What is the weather in Paris? [tools: 3]"}`
	loop := func() []string {
		msgs := []string{system, first}
		var got []string
		for turn := 0; turn < 5; turn++ {
			stream := turn%2 == 1
			body := fmt.Sprintf(`{"model":"gpt-4o","stream":%v,%s,"messages":[%s]}`, stream, tools, strings.Join(msgs, ","))
			out, span := p.call(t, "/v1/chat/completions", body, nil)
			got = append(got, fmt.Sprint(span.Attributes["session.id"]))
			if _, ok := span.Attributes["user.id"]; ok {
				t.Errorf("turn %d: user.id %v, want none", turn, span.Attributes["user.id"])
			}
			var echo string
			if stream {
				echo = streamedMessage(t, out)
			} else {
				m := gjson.Get(out, "choices.0.message")
				echo = m.Raw
				if tc := m.Get("tool_calls.0"); tc.Exists() {
					// The client sends back its own JSON, spaced as
					// Python's json.dumps spaces it.
					echo = fmt.Sprintf(`{"role":"assistant","tool_calls":[{"id":%q,"type":"function","function":{"name":%q,"arguments":%q}}]}`,
						tc.Get("id").Str, tc.Get("function.name").Str, strings.NewReplacer(":", ": ", ",", ", ").Replace(tc.Get("function.arguments").Str))
				}
			}
			msgs = append(msgs, echo)
			if strings.Contains(echo, "tool_calls") {
				msgs = append(msgs, `{"role":"tool","tool_call_id":"call_x","content":"18°C, sunny"}`)
			} else {
				msgs = append(msgs, fmt.Sprintf(`{"role":"user","content":"And tomorrow (%d)?"}`, turn))
			}
		}
		if n := strings.Count(strings.Join(msgs, ","), `"role":"tool"`); n != 3 {
			t.Fatalf("%d tool calls, want 3: %s", n, msgs)
		}
		return got
	}
	twoConversations(t, loop(), loop())
}

// Claude Code names its session in a header (newer versions) or in
// metadata.user_id (in two shapes); its user is the account or the device,
// never the string with the session in it; LiteLLM's own field wins.
func TestSessionsClaudeCode(t *testing.T) {
	p := newSessionProxy(t, sessions.New(sessions.Options{}))
	const sess = "fe01a97f-b8c7-4ff4-8a9b-7c8a17d35680"
	const device = "816a2a272e95ed4ac75d4b1dee8d8a7daaf716677c8b11a4b1d8b73a05fa37d6"
	const account = "2f7c4a1e-9b3d-4e8a-8c1f-0a6b5d4e3c2b"
	body := func(metadata string) string {
		return `{"model":"claude-sonnet-4-5","max_tokens":1024,"system":[{"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude."}],` +
			`"messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}]` + metadata + `}`
	}
	tests := []struct {
		name          string
		header        map[string]string
		body          string
		session, user string
	}{
		{"header", map[string]string{"X-Claude-Code-Session-Id": sess, "Anthropic-Beta": "claude-code-20250219"}, body(""), sess, ""},
		{"metadata, JSON shape", nil, body(`,"metadata":{"user_id":"{\"device_id\":\"` + device + `\",\"account_uuid\":\"\",\"session_id\":\"` + sess + `\"}"}`), sess, device},
		{"metadata, older shape", nil, body(`,"metadata":{"user_id":"user_` + device + `_account_` + account + `_session_` + sess + `"}`), sess, account},
		{"LiteLLM's field wins", map[string]string{"X-Claude-Code-Session-Id": sess}, body(`,"litellm_metadata":{"session_id":"mine"}`), "mine", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, span := p.call(t, "/v1/messages", tt.body, tt.header)
			if got := span.Attributes["session.id"]; got != tt.session {
				t.Errorf("session.id %v, want %q", got, tt.session)
			}
			got, ok := span.Attributes["user.id"]
			if tt.user == "" && ok || tt.user != "" && got != tt.user {
				t.Errorf("user.id %v, want %q", got, tt.user)
			}
		})
	}
}

// A Claude Code-shaped conversation without its ids (an older client, or
// another Messages client): the second call, which sends the answer back
// with cache_control moved, continues the first one's session.
func TestSessionsMessagesHistory(t *testing.T) {
	p := newSessionProxy(t, sessions.New(sessions.Options{}))
	const head = `{"model":"claude-sonnet-4-5","max_tokens":1024,"tools":[{"name":"Bash","input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}}],"system":`
	system := `[{"type":"text","text":"You are a coding agent.","cache_control":{"type":"ephemeral"}}]`
	first := `{"role":"user","content":[{"type":"text","text":"<system-reminder>CLAUDE.md: run make test</system-reminder>"},{"type":"text","text":"list the files [tools: 1]","cache_control":{"type":"ephemeral"}}]}`
	out, span1 := p.call(t, "/v1/messages", head+system+`,"messages":[`+first+`]}`, nil)
	echo := `{"role":"assistant","content":` + gjson.Get(out, "content").Raw + `}`
	result := `{"role":"user","content":[{"type":"tool_result","tool_use_id":"` + gjson.Get(out, "content.0.id").Str + `","content":"README.md","cache_control":{"type":"ephemeral"}}]}`
	firstAgain := strings.Replace(first, `,"cache_control":{"type":"ephemeral"}`, "", 1)
	_, span2 := p.call(t, "/v1/messages", head+system+`,"messages":[`+firstAgain+`,`+echo+`,`+result+`]}`, nil)
	_, other := p.call(t, "/v1/messages", head+system+`,"messages":[`+first+`]}`, nil)
	if gjson.Get(out, "content.0.type").Str != "tool_use" {
		t.Fatalf("the first answer %s: want a tool's use", out)
	}
	s1, s2, s3 := span1.Attributes["session.id"], span2.Attributes["session.id"], other.Attributes["session.id"]
	if s1 == nil || s1 != s2 {
		t.Errorf("sessions %v then %v: want one", s1, s2)
	}
	if s3 == s1 {
		t.Errorf("a new conversation with the same CLAUDE.md first message joined %v", s1)
	}
}

// A Responses API chain: each call names the previous response, and joins
// the session of the call that produced it; a call that starts a new chain
// is another session; Codex's session_id header names its own.
func TestSessionsResponsesChain(t *testing.T) {
	p := newSessionProxy(t, sessions.New(sessions.Options{}))
	out, span1 := p.call(t, "/v1/responses", `{"model":"gpt-4o","input":"What is the capital of France?"}`, nil)
	id1 := gjson.Get(out, "id").Str
	out, span2 := p.call(t, "/v1/responses", `{"model":"gpt-4o","previous_response_id":"`+id1+`","input":"And of Italy?"}`, nil)
	_, span3 := p.call(t, "/v1/responses", `{"model":"gpt-4o","previous_response_id":"`+gjson.Get(out, "id").Str+`","input":"And of Spain?"}`, nil)
	_, other := p.call(t, "/v1/responses", `{"model":"gpt-4o","input":"What is the capital of France?"}`, nil)
	_, codex := p.call(t, "/v1/responses", `{"model":"gpt-4o","instructions":"You are Codex.","input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"hi"}]}]}`,
		map[string]string{"session_id": "0199a213-81c0-7800-8aa1-bbab2a035a53", "conversation_id": "0199a213-81c0-7800-8aa1-bbab2a035a53"})
	s1 := span1.Attributes["session.id"]
	if s1 == nil || span2.Attributes["session.id"] != s1 || span3.Attributes["session.id"] != s1 {
		t.Errorf("chain: sessions %v, %v, %v; want one", s1, span2.Attributes["session.id"], span3.Attributes["session.id"])
	}
	if other.Attributes["session.id"] == s1 {
		t.Errorf("an unrelated call with the same input joined %v", s1)
	}
	if got := codex.Attributes["session.id"]; got != "0199a213-81c0-7800-8aa1-bbab2a035a53" {
		t.Errorf("codex: session.id %v", got)
	}
}

// A Bedrock Converse agent loop through the proxy's native routes, turns
// whole (converse, its answer sent back as boto3 returns it) and streamed
// (converse-stream, the message rebuilt from the events as a client
// does), lands in one session; a second loop with the same system prompt
// and first message lands in another.
func TestSessionsBedrockConverse(t *testing.T) {
	withAWSCredentials(t)
	p := newSessionProxy(t, sessions.New(sessions.Options{}))
	const tools = `"toolConfig":{"tools":[{"toolSpec":{"name":"top_song","inputSchema":{"json":{"type":"object","properties":{"sign":{"type":"string"}},"required":["sign"]}}}}]}`
	const system = `[{"text":"You are a radio assistant."}]`
	const first = `{"role":"user","content":[{"text":"What is the most popular song on WZPZ? [tools: 2]"}]}`
	const model = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/"
	loop := func() []string {
		msgs := []string{first}
		var got []string
		for turn := 0; turn < 4; turn++ {
			stream := turn%2 == 1
			path := "/bedrock" + model + "converse"
			if stream {
				path = model + "converse-stream"
			}
			out, span := p.call(t, path, `{"system":`+system+`,"messages":[`+strings.Join(msgs, ",")+`],`+tools+`}`, nil)
			got = append(got, fmt.Sprint(span.Attributes["session.id"]))
			echo := gjson.Get(out, "output.message").Raw
			if stream {
				echo = converseStreamMessage(t, out)
			}
			msgs = append(msgs, echo)
			if use := gjson.Get(echo, "content.0.toolUse"); use.Exists() {
				msgs = append(msgs, `{"role":"user","content":[{"toolResult":{"toolUseId":"`+use.Get("toolUseId").Str+`","content":[{"text":"Rock and Roll Hall"}]}}]}`)
			} else {
				msgs = append(msgs, fmt.Sprintf(`{"role":"user","content":[{"text":"And on WZPY (%d)?"}]}`, turn))
			}
		}
		if n := strings.Count(strings.Join(msgs, ","), `"toolResult"`); n != 2 {
			t.Fatalf("%d tool uses, want 2: %s", n, msgs)
		}
		return got
	}
	twoConversations(t, loop(), loop())
}

// converseStreamMessage is the message a ConverseStream adds up to, as a
// client rebuilds it to send back: the text joined, or the tool's use with
// its input parsed.
func converseStreamMessage(t *testing.T, stream string) string {
	t.Helper()
	r := strings.NewReader(stream)
	dec := eventstream.NewDecoder()
	var text, id, name, input string
	for {
		msg, err := dec.Decode(r, nil)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the stream: %v", err)
		}
		p := gjson.ParseBytes(msg.Payload)
		text += p.Get("delta.text").Str
		id += p.Get("start.toolUse.toolUseId").Str
		name += p.Get("start.toolUse.name").Str
		input += p.Get("delta.toolUse.input").Str
	}
	if name != "" {
		return fmt.Sprintf(`{"role":"assistant","content":[{"toolUse":{"toolUseId":%q,"name":%q,"input":%s}}]}`, id, name, input)
	}
	return fmt.Sprintf(`{"role":"assistant","content":[{"text":%q}]}`, text)
}

// With inference off, a call that names nothing has no session; a
// client's id still counts.
func TestSessionsInferenceOff(t *testing.T) {
	p := newSessionProxy(t, nil)
	_, span := p.call(t, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if got, ok := span.Attributes["session.id"]; ok {
		t.Errorf("session.id %v, want none", got)
	}
	_, span = p.call(t, "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, map[string]string{"x-session-affinity": "ses_1"})
	if got := span.Attributes["session.id"]; got != "ses_1" {
		t.Errorf("opencode's header: session.id %v", got)
	}
}

// sessionEnv points OpenAI's, Anthropic's and Bedrock Runtime's base URLs
// at the fake.
func sessionEnv(base string) upstream.Env {
	var env upstream.Env
	env.OpenAIAPIBase = base + "/v1"
	env.AnthropicAPIBase = base
	env.AWSBedrockRuntimeEndpoint = base
	return env
}

// twoConversations checks the sessions of two agent loops with the same
// system prompt and first message, a session.id for each call of each: a
// UUID, one for every call of a loop, and not the same for both.
func twoConversations(t *testing.T, a, b []string) {
	t.Helper()
	if !uuidPattern.MatchString(a[0]) {
		t.Fatalf("session.id %q: want a UUID", a[0])
	}
	for i := range a {
		if a[i] != a[0] || b[i] != b[0] {
			t.Errorf("turn %d: sessions %q and %q; want %q and %q", i, a[i], b[i], a[0], b[0])
		}
	}
	if a[0] == b[0] {
		t.Errorf("two conversations with the same system prompt and first message share session %q", a[0])
	}
}
