package sessions

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestResolver numbers its new sessions s1, s2, …
func newTestResolver(size int, ttl time.Duration) (*Resolver, *clock) {
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	var mu sync.Mutex
	n := 0
	r := New(Options{Size: size, TTL: ttl, Now: clk.Now, NewID: func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return "s" + strconv.Itoa(n)
	}})
	return r, clk
}

// chatBody is a chat completions request with these messages (raw JSON).
func chatBody(msgs []string) []byte {
	return []byte(`{"model":"gpt-4o","stream":true,"messages":[` + strings.Join(msgs, ",") + `]}`)
}

// chatAnswer is a chat completion whose message is msg, as OpenAI sends it.
func chatAnswer(msg string) string {
	return `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":` + msg +
		`,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`
}

func identify(t *testing.T, r *Resolver, d *Dialect, body []byte, answer string) Identity {
	t.Helper()
	return r.Identify(context.Background(), Call{Dialect: d, Header: http.Header{}, Body: body}, answer)
}

// A 20-turn agent loop with tool calls, where the client sends each answer
// back the way SDKs rebuild it (content as a list of text parts, tool call
// ids of its own, arguments re-serialised, fields the answer had left out),
// stays in one session; a second loop with the same system prompt and
// first message gets its own.
func TestChatAgentLoop(t *testing.T) {
	r, _ := newTestResolver(1000, time.Hour)
	const system = `{"role":"system","content":"You are a coding agent. <CLAUDE.md>Run the tests with make test.</CLAUDE.md>"}`
	const first = `{"role":"user","content":"Fix the failing test in sessions/."}`
	run := func(loop string) []string {
		msgs := []string{system, first}
		var got []string
		for turn := 0; turn < 20; turn++ {
			var answer, echo string
			if turn%2 == 0 {
				// The model calls a tool: OpenAI's spacing in arguments,
				// content null; the client's own id and compact JSON,
				// keys in another order, no content.
				answer = fmt.Sprintf(`{"role":"assistant","content":null,"refusal":null,"annotations":[],"tool_calls":[{"id":"call_%s%d","type":"function","function":{"name":"read_file","arguments":"{\"path\": \"sessions/%s%d.go\", \"limit\": 200}"}}]}`, loop, turn, loop, turn)
				echo = fmt.Sprintf(`{"role":"assistant","tool_calls":[{"type":"function","id":"toolu_%d","function":{"arguments":"{\"limit\":200,\"path\":\"sessions/%s%d.go\"}","name":"read_file"}}]}`, turn, loop, turn)
				msgs2 := append(append([]string{}, msgs...), echo, fmt.Sprintf(`{"role":"tool","tool_call_id":"toolu_%d","content":"package sessions // %s %d"}`, turn, loop, turn))
				got = append(got, identify(t, r, &Chat, chatBody(msgs), chatAnswer(answer)).Session)
				msgs = msgs2
				continue
			}
			answer = fmt.Sprintf(`{"role":"assistant","content":"\nI read it (%s, turn %d). Next I will look at the tests.\n\n","refusal":null,"annotations":[]}`, loop, turn)
			echo = fmt.Sprintf(`{"content":[{"type":"text","text":"I read it (%s, turn %d). Next I will look at the tests."}],"role":"assistant"}`, loop, turn)
			got = append(got, identify(t, r, &Chat, chatBody(msgs), chatAnswer(answer)).Session)
			msgs = append(msgs, echo, fmt.Sprintf(`{"role":"user","content":"go on (%d)"}`, turn))
		}
		return got
	}
	twoLoops(t, run("a"), run("b"))
}

func TestChatJoins(t *testing.T) {
	sys := `{"role":"system","content":"Be brief."}`
	u1 := `{"role":"user","content":"Hi"}`
	a1 := `{"role":"assistant","content":"Hello! How can I help?"}`
	u2 := `{"role":"user","content":"Tell me a joke"}`
	tests := []struct {
		name  string
		first []string // the first call's messages, answered a1
		next  []string // the second call's
		join  bool
	}{
		{"continues", []string{sys, u1}, []string{sys, u1, a1, u2}, true},
		{"continues, answer as parts", []string{sys, u1}, []string{sys, u1, `{"role":"assistant","content":[{"type":"text","text":"Hello!"},{"type":"text","text":" How can I help?"}]}`, u2}, true},
		{"continues, answer with whitespace around it", []string{sys, u1}, []string{sys, u1, `{"role":"assistant","content":"  Hello! How can I help?\n"}`, u2}, true},
		{"same system prompt and first message only", []string{sys, u1}, []string{sys, u1}, false},
		{"same system prompt, another first message", []string{sys, u1}, []string{sys, `{"role":"user","content":"Hey"}`}, false},
		{"another answer", []string{sys, u1}, []string{sys, u1, `{"role":"assistant","content":"Hello, what do you need?"}`, u2}, false},
		{"another system prompt", []string{sys, u1}, []string{`{"role":"system","content":"Be long."}`, u1, a1, u2}, false},
		{"the answer's text changed inside", []string{sys, u1}, []string{sys, u1, `{"role":"assistant","content":"Hello!  How can I help?"}`, u2}, false},
		{"the answer sent as the user's", []string{sys, u1}, []string{sys, u1, `{"role":"user","content":"Hello! How can I help?"}`, u2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := newTestResolver(100, time.Hour)
			first := identify(t, r, &Chat, chatBody(tt.first), chatAnswer(a1))
			next := identify(t, r, &Chat, chatBody(tt.next), "")
			if first.Source != FromNew {
				t.Errorf("first call: source %q, want new", first.Source)
			}
			if got := next.Session == first.Session; got != tt.join {
				t.Errorf("second call in session %q (%s), first in %q: joined %v, want %v", next.Session, next.Source, first.Session, got, tt.join)
			}
			if tt.join && next.Source != FromHistory {
				t.Errorf("source %q, want history", next.Source)
			}
		})
	}
}

// A conversation that branches (a turn retried, or edited, from an earlier
// point) continues its session on every branch.
func TestBranches(t *testing.T) {
	r, _ := newTestResolver(100, time.Hour)
	u1, a1 := `{"role":"user","content":"Plan a trip"}`, `{"role":"assistant","content":"Where to?"}`
	u2, a2 := `{"role":"user","content":"Rome"}`, `{"role":"assistant","content":"Rome it is."}`
	s := identify(t, r, &Chat, chatBody([]string{u1}), chatAnswer(a1)).Session
	b1 := identify(t, r, &Chat, chatBody([]string{u1, a1, u2}), chatAnswer(a2)).Session
	b2 := identify(t, r, &Chat, chatBody([]string{u1, a1, `{"role":"user","content":"Paris"}`}), chatAnswer(`{"role":"assistant","content":"Paris it is."}`)).Session
	deeper := identify(t, r, &Chat, chatBody([]string{u1, a1, `{"role":"user","content":"Paris"}`, `{"role":"assistant","content":"Paris it is."}`, `{"role":"user","content":"3 days"}`}), "").Session
	b1deeper := identify(t, r, &Chat, chatBody([]string{u1, a1, u2, a2, `{"role":"user","content":"5 days"}`}), "").Session
	for name, got := range map[string]string{"branch 1": b1, "branch 2": b2, "branch 2, deeper": deeper, "branch 1, deeper": b1deeper} {
		if got != s {
			t.Errorf("%s: session %q, want %q", name, got, s)
		}
	}
}

func messagesBody(system string, msgs []string) []byte {
	return []byte(`{"model":"claude-sonnet-4-5","max_tokens":32000,"system":` + system + `,"messages":[` + strings.Join(msgs, ",") + `],"stream":true}`)
}

// A Messages API conversation as Claude Code sends it without its ids: the
// answer's thinking block and its text come back with cache_control moved
// onto the latest message; a second conversation with the same CLAUDE.md
// first message is another session.
func TestMessagesConversation(t *testing.T) {
	r, _ := newTestResolver(100, time.Hour)
	system := `[{"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude.","cache_control":{"type":"ephemeral"}}]`
	first := `{"role":"user","content":[{"type":"text","text":"<system-reminder>Contents of CLAUDE.md: run make test</system-reminder>"},{"type":"text","text":"what does this repo do?","cache_control":{"type":"ephemeral"}}]}`
	answer := `{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"thinking","thinking":"Let me look.","signature":"EqQBCkYI"},{"type":"text","text":"I'll list the files."},{"type":"tool_use","id":"toolu_01A","name":"Bash","input":{"command":"ls","description":"List files"}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":20}}`
	echo := `{"role":"assistant","content":[{"type":"text","text":"I'll list the files."},{"type":"tool_use","id":"toolu_01A","name":"Bash","input":{"description":"List files","command":"ls"}}]}`
	result := `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A","content":"README.md\nsessions","cache_control":{"type":"ephemeral"}}]}`
	firstNoCache := `{"role":"user","content":[{"type":"text","text":"<system-reminder>Contents of CLAUDE.md: run make test</system-reminder>"},{"type":"text","text":"what does this repo do?"}]}`

	s1 := identify(t, r, &Messages, messagesBody(system, []string{first}), answer)
	s2 := identify(t, r, &Messages, messagesBody(system, []string{firstNoCache, echo, result}),
		`{"id":"msg_02","type":"message","role":"assistant","content":[{"type":"text","text":"It is a proxy."}],"stop_reason":"end_turn"}`)
	other := identify(t, r, &Messages, messagesBody(system, []string{first}), `{"role":"assistant","content":[{"type":"text","text":"Let me check."}]}`)
	if s1.Session != s2.Session || s2.Source != FromHistory {
		t.Errorf("second call %+v, first %+v: want one session", s2, s1)
	}
	if other.Session == s1.Session {
		t.Errorf("another conversation with the same first message joined session %q", s1.Session)
	}
}

func responsesBody(extra string, input string) []byte {
	return []byte(`{"model":"gpt-5","instructions":"You are Codex.","input":` + input + `,"store":false,"stream":true` + extra + `}`)
}

// The Responses API: history sent whole (reasoning items dropped or sent
// back encrypted), and chained by previous_response_id or conversation.
func TestResponses(t *testing.T) {
	r, _ := newTestResolver(100, time.Hour)
	u1 := `{"type":"message","role":"user","content":[{"type":"input_text","text":"list the files"}]}`
	out1 := `{"id":"resp_1","object":"response","status":"completed","output":[{"id":"rs_1","type":"reasoning","summary":[],"encrypted_content":"gAAAA"},{"id":"fc_1","type":"function_call","status":"completed","arguments":"{\"command\":[\"ls\"]}","call_id":"call_1","name":"shell"}]}`
	s1 := identify(t, r, &Responses, responsesBody("", "["+u1+"]"), out1)

	// Codex sends the reasoning item back encrypted, the function call
	// without its id or status, then the tool's output.
	hist := "[" + u1 + `,{"type":"reasoning","summary":[],"encrypted_content":"gAAAA-other"},{"type":"function_call","name":"shell","arguments":"{\"command\": [\"ls\"]}","call_id":"call_1"},{"type":"function_call_output","call_id":"call_1","output":"README.md"}]`
	out2 := `{"id":"resp_2","output":[{"id":"msg_2","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":"There is a README."}]}]}`
	s2 := identify(t, r, &Responses, responsesBody("", hist), out2)
	if s2.Session != s1.Session || s2.Source != FromHistory {
		t.Errorf("history: %+v, first %+v", s2, s1)
	}

	// The Agents SDK chains by previous_response_id.
	s3 := identify(t, r, &Responses, responsesBody(`,"previous_response_id":"resp_2"`, `"thanks"`), `{"id":"resp_3","output":[]}`)
	s4 := identify(t, r, &Responses, responsesBody(`,"previous_response_id":"resp_3"`, `"bye"`), `{"id":"resp_4","output":[]}`)
	if s3.Session != s1.Session || s3.Source != FromChain || s4.Session != s1.Session {
		t.Errorf("chain: %+v, %+v; want session %q", s3, s4, s1.Session)
	}
	// A chain the proxy never saw begin is a session of its own, and its
	// next call joins it.
	u1x := identify(t, r, &Responses, responsesBody(`,"previous_response_id":"resp_unknown"`, `"hi"`), `{"id":"resp_5","output":[]}`)
	u2x := identify(t, r, &Responses, responsesBody(`,"previous_response_id":"resp_5"`, `"hi"`), "")
	if u1x.Source != FromNew || u1x.Session == s1.Session || u2x.Session != u1x.Session {
		t.Errorf("unknown chain: %+v then %+v", u1x, u2x)
	}

	// Conversations: every call naming one is in its session, answered
	// or not.
	c1 := identify(t, r, &Responses, responsesBody(`,"conversation":"conv_1"`, `"hi"`), "")
	c2 := identify(t, r, &Responses, responsesBody(`,"conversation":{"id":"conv_1"}`, `"again"`), "")
	c3 := identify(t, r, &Responses, responsesBody(`,"conversation":"conv_2"`, `"hi"`), "")
	if c1.Session != c2.Session || c2.Source != FromChain || c3.Session == c1.Session {
		t.Errorf("conversations: %+v, %+v, %+v", c1, c2, c3)
	}
}

func TestPrecedence(t *testing.T) {
	r, _ := newTestResolver(100, time.Hour)
	u1, a1 := `{"role":"user","content":"hi"}`, `{"role":"assistant","content":"hello"}`
	first := identify(t, r, &Chat, chatBody([]string{u1}), chatAnswer(a1))
	next := chatBody([]string{u1, a1, `{"role":"user","content":"more"}`})
	claude := http.Header{"X-Claude-Code-Session-Id": {"cc-1"}}
	tests := []struct {
		name          string
		call          Call
		session, user string
		source        Source
	}{
		{"litellm over client over history", Call{Dialect: &Chat, Header: claude, Body: next, Session: "lite", User: "u-lite"}, "lite", "u-lite", FromLiteLLM},
		{"client over history", Call{Dialect: &Chat, Header: claude, Body: next}, "cc-1", "", FromClientID},
		{"client user under litellm session", Call{Dialect: &Chat, Header: http.Header{"X-Gemini-Api-Privileged-User-Id": {"inst-1"}}, Body: next, Session: "lite"}, "lite", "inst-1", FromLiteLLM},
		{"history", Call{Dialect: &Chat, Header: http.Header{}, Body: next}, first.Session, "", FromHistory},
		{"an API without conversations", Call{Header: http.Header{}, Body: next}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Identify(context.Background(), tt.call, "")
			if got.Session != tt.session || got.User != tt.user || got.Source != tt.source {
				t.Errorf("got %+v; want session %q, user %q, source %q", got, tt.session, tt.user, tt.source)
			}
		})
	}
	// Off: the client's ids still count, nothing is inferred.
	var off *Resolver
	if got := off.Identify(context.Background(), Call{Dialect: &Chat, Header: claude, Body: next}, ""); got.Session != "cc-1" {
		t.Errorf("off, with a client id: %+v", got)
	}
	if got := off.Identify(context.Background(), Call{Dialect: &Chat, Header: http.Header{}, Body: next}, chatAnswer(a1)); got.Session != "" {
		t.Errorf("off: %+v, want no session", got)
	}
}

// The memory is bounded by size (the least recently used conversation is
// forgotten first) and by age.
func TestBounds(t *testing.T) {
	convo := func(i int) ([]byte, string, []byte) {
		u := fmt.Sprintf(`{"role":"user","content":"question %d"}`, i)
		a := fmt.Sprintf(`{"role":"assistant","content":"answer %d"}`, i)
		return chatBody([]string{u}), chatAnswer(a), chatBody([]string{u, a, `{"role":"user","content":"and?"}`})
	}
	t.Run("size", func(t *testing.T) {
		r, _ := newTestResolver(3, time.Hour)
		var sessions []string
		for i := 0; i < 4; i++ {
			first, ans, _ := convo(i)
			sessions = append(sessions, identify(t, r, &Chat, first, ans).Session)
			if i == 2 {
				// Conversation 0 is used again: 1 is now the oldest.
				_, _, next := convo(0)
				if got := identify(t, r, &Chat, next, "").Session; got != sessions[0] {
					t.Fatalf("conversation 0 before eviction: %q, want %q", got, sessions[0])
				}
			}
		}
		for i, want := range []bool{true, false, true, true} {
			_, _, next := convo(i)
			got := identify(t, r, &Chat, next, "")
			if (got.Session == sessions[i]) != want {
				t.Errorf("conversation %d: session %q (%s), first %q; remembered %v, want %v", i, got.Session, got.Source, sessions[i], !want, want)
			}
		}
	})
	t.Run("age", func(t *testing.T) {
		r, clk := newTestResolver(100, time.Hour)
		first, ans, next := convo(0)
		s := identify(t, r, &Chat, first, ans).Session
		clk.advance(59 * time.Minute)
		if got := identify(t, r, &Chat, next, chatAnswer(`{"role":"assistant","content":"then this"}`)).Session; got != s {
			t.Fatalf("within the age: %q, want %q", got, s)
		}
		clk.advance(2 * time.Minute) // the first answer is too old; the second one is not
		u := `{"role":"user","content":"question 0"}`
		third := chatBody([]string{u, `{"role":"assistant","content":"answer 0"}`, `{"role":"user","content":"and?"}`, `{"role":"assistant","content":"then this"}`, `{"role":"user","content":"ok"}`})
		if got := identify(t, r, &Chat, third, "").Session; got != s {
			t.Errorf("the latest answer within the age: %q, want %q", got, s)
		}
		if got := identify(t, r, &Chat, next, "").Session; got == s {
			t.Errorf("an answer older than the age still joined %q", got)
		}
	})
	t.Run("100,000 conversations", func(t *testing.T) {
		const size = 1000
		r, _ := newTestResolver(size, time.Hour)
		for i := 0; i < 100_000; i++ {
			first, ans, _ := convo(i)
			identify(t, r, &Chat, first, ans)
			if n := r.local.turns.len(); n > size {
				t.Fatalf("after %d conversations: %d remembered, bound %d", i+1, n, size)
			}
		}
		_, _, last := convo(99_999)
		if got := identify(t, r, &Chat, last, ""); got.Source != FromHistory {
			t.Errorf("the latest conversation: %+v, want it remembered", got)
		}
		_, _, old := convo(0)
		if got := identify(t, r, &Chat, old, ""); got.Source != FromNew {
			t.Errorf("the first conversation: %+v, want it forgotten", got)
		}
	})
}

func TestGeminiConversation(t *testing.T) {
	r, _ := newTestResolver(100, time.Hour)
	body := func(contents ...string) []byte {
		return []byte(`{"systemInstruction":{"parts":[{"text":"You are Gemini CLI."}]},"contents":[` + strings.Join(contents, ",") + `]}`)
	}
	u1 := `{"role":"user","parts":[{"text":"list files"}]}`
	// Streamed: the answer's text came in two parts, with a thought and a
	// signature; the client sends back one text part and the call.
	answer := `{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking…","thought":true},{"text":"I will "},{"text":"list them."},{"functionCall":{"name":"ls","args":{"path":"."}},"thoughtSignature":"CiQB"}]}}]}`
	echo := `{"role":"model","parts":[{"text":"I will list them."},{"functionCall":{"args":{"path":"."},"name":"ls"}}]}`
	result := `{"role":"user","parts":[{"functionResponse":{"name":"ls","response":{"output":"README.md"}}}]}`
	s1 := identify(t, r, &Gemini, body(u1), answer)
	s2 := identify(t, r, &Gemini, body(u1, echo, result), "")
	if s2.Session != s1.Session || s2.Source != FromHistory {
		t.Errorf("second call %+v, first %+v", s2, s1)
	}
}

func converseBody(system string, msgs []string) []byte {
	return []byte(`{"system":` + system + `,"messages":[` + strings.Join(msgs, ",") + `],"inferenceConfig":{"maxTokens":4096},` +
		`"toolConfig":{"tools":[{"toolSpec":{"name":"read_file","inputSchema":{"json":{"type":"object","properties":{"path":{"type":"string"}}}}}}]}}`)
}

// converseAnswer is a ConverseResponse whose message has these content
// blocks, as Bedrock sends it (and as the proxy adds a ConverseStream up).
func converseAnswer(content, stop string) string {
	return `{"output":{"message":{"role":"assistant","content":[` + content + `]}},"stopReason":"` + stop + `",` +
		`"usage":{"inputTokens":120,"outputTokens":40,"totalTokens":160},"metrics":{"latencyMs":812}}`
}

// A 20-turn Bedrock Converse agent loop (tool uses and results, the
// model's reasoning), where the client sends each answer back as boto3's
// converse returns it (output.message, reasoning and ids included) or as a
// converse_stream client rebuilds it (reasoning dropped, the tool's input
// re-serialised), and moves the cache point from the system prompt to the
// latest message, stays in one session; a second loop with the same
// system prompt and first message gets its own.
func TestConverseAgentLoop(t *testing.T) {
	r, _ := newTestResolver(1000, time.Hour)
	const systemText = `{"text":"You are a coding agent. <CLAUDE.md>Run the tests with make test.</CLAUDE.md>"}`
	const first = `{"role":"user","content":[{"text":"Fix the failing test in sessions/."}]}`
	run := func(loop string) []string {
		msgs := []string{first}
		var got []string
		for turn := 0; turn < 20; turn++ {
			system := `[` + systemText + `,{"cachePoint":{"type":"default"}}]`
			body := append([]string{}, msgs...)
			if turn > 0 {
				// The cache point moves onto the latest message.
				system = `[` + systemText + `]`
				last := body[len(body)-1]
				body[len(body)-1] = strings.TrimSuffix(last, `]}`) + `,{"cachePoint":{"type":"default"}}]}`
			}
			var answer, echo, next string
			if turn%2 == 0 {
				blocks := fmt.Sprintf(`{"reasoningContent":{"reasoningText":{"text":"I should read %s%d.","signature":"EqQBCkYI%d"}}},{"text":"Let me read it."},`+
					`{"toolUse":{"toolUseId":"tooluse_%s%d","name":"read_file","input":{"path":"sessions/%s%d.go","limit":200}}}`, loop, turn, turn, loop, turn, loop, turn)
				answer = converseAnswer(blocks, "tool_use")
				echo = `{"role":"assistant","content":[` + blocks + `]}`
				if turn%4 == 0 {
					echo = fmt.Sprintf(`{"content":[{"text":"Let me read it."},{"toolUse":{"input":{"limit":200,"path":"sessions/%s%d.go"},"name":"read_file","toolUseId":"tooluse_%s%d"}}],"role":"assistant"}`, loop, turn, loop, turn)
				}
				next = fmt.Sprintf(`{"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_%s%d","content":[{"json":{"lines":["package sessions // %s %d"]}}],"status":"success"}}]}`, loop, turn, loop, turn)
			} else {
				answer = converseAnswer(fmt.Sprintf(`{"text":"\nI read it (%s, turn %d). Next I will look at the tests.\n"}`, loop, turn), "end_turn")
				echo = fmt.Sprintf(`{"role":"assistant","content":[{"text":"I read it (%s, turn %d). Next I will look at the tests."}]}`, loop, turn)
				next = fmt.Sprintf(`{"role":"user","content":[{"text":"go on (%d)"}]}`, turn)
			}
			got = append(got, identify(t, r, &Converse, converseBody(system, body), answer).Session)
			msgs = append(msgs, echo, next)
		}
		return got
	}
	twoLoops(t, run("a"), run("b"))
}

func TestNewSessionIsUUID(t *testing.T) {
	r := New(Options{})
	id := identify(t, r, &Chat, chatBody([]string{`{"role":"user","content":"hi"}`}), "")
	if len(id.Session) != 36 || id.Session[14] != '4' || strings.Count(id.Session, "-") != 4 {
		t.Errorf("new session %q: want a version 4 UUID", id.Session)
	}
	if again := identify(t, r, &Chat, chatBody([]string{`{"role":"user","content":"hi"}`}), ""); again.Session == id.Session {
		t.Errorf("two new conversations share %q", id.Session)
	}
}

// Many goroutines identifying calls at once (run with -race).
func TestConcurrent(t *testing.T) {
	r, _ := newTestResolver(64, time.Hour)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				u := fmt.Sprintf(`{"role":"user","content":"g%d q%d"}`, g, i%10)
				a := fmt.Sprintf(`{"role":"assistant","content":"a%d"}`, i%10)
				identify(t, r, &Chat, chatBody([]string{u}), chatAnswer(a))
				identify(t, r, &Responses, responsesBody(fmt.Sprintf(`,"previous_response_id":"resp_%d"`, i%5), `"x"`), fmt.Sprintf(`{"id":"resp_%d","output":[]}`, i%7))
			}
		}()
	}
	wg.Wait()
}

// twoLoops checks the sessions of two agent loops with the same system
// prompt and first message, one for each call of each: the same for every
// call of a loop, and not the same for both.
func twoLoops(t *testing.T, a, b []string) {
	t.Helper()
	for i := range a {
		if a[i] != a[0] {
			t.Errorf("loop a, turn %d: session %q, want %q", i, a[i], a[0])
		}
		if b[i] != b[0] {
			t.Errorf("loop b, turn %d: session %q, want %q", i, b[i], b[0])
		}
	}
	if a[0] == b[0] {
		t.Errorf("two loops with the same system prompt and first message share session %q", a[0])
	}
}
