// Package agentcall makes agent-sized LLM API calls: the request a coding
// agent sends after hundreds of rounds of tool calls, its whole history on
// every call (issue 19: 50 KB to 1 MB, hundreds of times per task). One
// conversation, generated from fixed seeds so that every run and every
// process makes the same bytes, is written in three dialects: OpenAI chat
// completions (tool_calls and tool messages), Anthropic's Messages API
// (tool_use and tool_result blocks) and the Responses API (function_call
// and function_call_output items). Answer is a small answer to each, as
// the provider writes it.
//
// The bench (integration/bench, step agent) and the handler's benchmark
// (handlers.BenchmarkAgentCall) send these calls.
package agentcall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Dialect is the API a call is written for.
type Dialect string

// The dialects, in the order Calls returns them.
const (
	Chat      Dialect = "chat"
	Anthropic Dialect = "anthropic"
	Responses Dialect = "responses"
)

// Path is the API's path on the proxy (and on the provider).
func (d Dialect) Path() string {
	switch d {
	case Anthropic:
		return "/v1/messages"
	case Responses:
		return "/v1/responses"
	}
	return "/v1/chat/completions"
}

// Size is how large a conversation is: its chat completions request has
// Messages messages and about Bytes bytes.
type Size struct {
	Name     string
	Messages int
	Bytes    int
}

// Sizes are the two the bench measures: a 200-message, 150 KiB call, and
// a 1 MiB one of 600 messages (a long session grows in both messages and
// tool output).
var Sizes = []Size{
	{Name: "150KB", Messages: 200, Bytes: 150 << 10},
	{Name: "1MB", Messages: 600, Bytes: 1 << 20},
}

// Call is one request.
type Call struct {
	Name    string // dialect-size, e.g. chat-150KB
	Dialect Dialect
	Size    Size
	Body    []byte
	// Messages is how many messages (chat), messages (Anthropic: tool
	// results of one turn share one) or input items (Responses) it holds.
	Messages int
	// ToolCalls is how many tool calls its history holds, each with its
	// result.
	ToolCalls int
}

// Calls is the conversation of size s in each dialect.
func Calls(s Size) []Call {
	c := conversationOfSize(s)
	var out []Call
	for _, d := range []Dialect{Chat, Anthropic, Responses} {
		body, msgs := c.render(d)
		out = append(out, Call{Name: string(d) + "-" + s.Name, Dialect: d, Size: s, Body: body, Messages: msgs, ToolCalls: c.toolCalls()})
	}
	return out
}

// All is every size's calls, smallest first.
func All() []Call {
	var out []Call
	for _, s := range Sizes {
		out = append(out, Calls(s)...)
	}
	return out
}

// conversation is what a coding agent and its tools said: a system prompt,
// the task, then turns.
type conversation struct {
	system string
	task   string
	turns  []turn
}

// turn is the assistant's step (some text, then tool calls) or, when user
// is set, a message from the user.
type turn struct {
	user  string
	text  string
	calls []toolCall
}

type toolCall struct {
	n      int // the call's number in the conversation, for its ids
	tool   string
	args   string // a JSON object
	result string
}

func (c *conversation) toolCalls() int {
	n := 0
	for _, t := range c.turns {
		n += len(t.calls)
	}
	return n
}

// conversationOfSize finds the scale of the tool results that makes the
// chat request s.Bytes long: the length grows about linearly with it.
func conversationOfSize(s Size) *conversation {
	length := func(scale float64) int {
		b, _ := generate(s.Messages, scale).render(Chat)
		return len(b)
	}
	l0, l1 := length(0), length(1)
	scale := float64(s.Bytes-l0) / float64(l1-l0)
	for range 2 {
		l := length(scale)
		scale *= float64(s.Bytes-l0) / float64(l-l0)
	}
	return generate(s.Messages, max(scale, 0))
}

// generate makes a conversation whose chat request has messages messages
// (at least 3), its tool results scale times their base length. Each tool
// result is drawn from its own seed, so that the scale changes its length
// and nothing else.
func generate(messages int, scale float64) *conversation {
	r := rand.New(rand.NewPCG(19, 1))
	c := &conversation{system: systemPrompt(rand.New(rand.NewPCG(19, 2))),
		task: "The integration tests in pkg/relay fail since the last change to the retry logic: " +
			"find out why, fix it, and make sure `go test ./...` passes. Do not change the public API."}
	count, calls := 2, 0 // system and task
	for count < messages {
		left := messages - count
		if left == 1 || r.Float64() < 0.03 {
			c.turns = append(c.turns, turn{user: prose(r, 1+r.IntN(3))})
			count++
			continue
		}
		k := 1
		if r.Float64() < 0.15 {
			k = 2 // parallel tool calls
		}
		k = min(k, left-1)
		t := turn{}
		if r.Float64() < 0.6 {
			t.text = prose(r, 1+r.IntN(2))
		}
		for range k {
			calls++
			t.calls = append(t.calls, newToolCall(r, calls, scale))
		}
		c.turns = append(c.turns, t)
		count += 1 + k
	}
	return c
}

// Identifiers, paths and words the generated code and prose draw on.
var (
	idents = []string{"relay", "retry", "backoff", "attempt", "conn", "pool", "deadline", "ctx", "buf", "frame", "header",
		"stream", "client", "server", "handler", "budget", "window", "jitter", "limit", "queue", "batch", "span", "cfg", "opts"}
	types = []string{"Relay", "Retrier", "Pool", "Conn", "Frame", "Stream", "Client", "Handler", "Budget", "Queue", "Batch"}
	paths = []string{"pkg/relay/relay.go", "pkg/relay/retry.go", "pkg/relay/retry_test.go", "pkg/relay/pool.go",
		"pkg/relay/frame.go", "pkg/relay/integration_test.go", "pkg/transport/conn.go", "pkg/transport/conn_test.go",
		"internal/backoff/backoff.go", "internal/backoff/backoff_test.go", "cmd/relayd/main.go", "pkg/config/config.go"}
	words = strings.Fields(`the a this that retry loop attempt backoff deadline test fails because when after before
		returns error context connection pool frame header stream client server handler budget window jitter limit queue
		batch change fix check now again first then still only every each last next call value field function method
		package file line case branch timeout cancel closed reused leaked expected got want instead should must can
		looks like seems so it is was are not and or but with from into of to in on for by`)
)

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

// prose is n sentences.
func prose(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		w := 6 + r.IntN(14)
		for j := range w {
			word := pick(r, words)
			if j == 0 {
				word = strings.ToUpper(word[:1]) + word[1:]
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(word)
		}
		if r.IntN(5) == 0 {
			b.WriteString(" (see `" + pick(r, paths) + "`)")
		}
		b.WriteByte('.')
	}
	return b.String()
}

// codeLine is a line of Go.
func codeLine(r *rand.Rand) string {
	a, b := pick(r, idents), pick(r, idents)
	switch r.IntN(12) {
	case 0:
		t := pick(r, types)
		return fmt.Sprintf("func (%s *%s) %s%s(ctx context.Context, %s int) (%s, error) {", strings.ToLower(t[:1]), t, strings.ToUpper(a[:1]), a[1:], b, pick(r, types))
	case 1:
		return fmt.Sprintf("\tif err := %s.%s(ctx); err != nil {", a, b)
	case 2:
		return fmt.Sprintf("\t\treturn nil, fmt.Errorf(\"%s %s: %%w\", err)", a, b)
	case 3:
		return "\t}"
	case 4:
		return fmt.Sprintf("\t%s := make(map[string]%s, len(%s))", a, pick(r, types), b)
	case 5:
		return "\t// " + prose(r, 1)
	case 6:
		return fmt.Sprintf("\tfor i, %s := range %s.%ss {", a, b, a)
	case 7:
		return fmt.Sprintf("\t\t%s.%s = time.Duration(float64(%s) * (1 + %s.Float64()))", a, b, a, pick(r, idents))
	case 8:
		return fmt.Sprintf("\tlog.Printf(\"%s: %%q → %%d\", %s, len(%s))", a, b, a)
	case 9:
		return ""
	case 10:
		return fmt.Sprintf("\tcase <-%s.Done():\n\t\treturn %s.Err()", a, a)
	}
	return "}"
}

// newToolCall is tool call number n: its arguments and its result, the
// result's length scale times a base length drawn for it.
func newToolCall(r *rand.Rand, n int, scale float64) toolCall {
	own := rand.New(rand.NewPCG(19, uint64(1000+n)))
	path := pick(r, paths)
	jitter := 0.25 + 1.5*r.Float64()
	want := func(base float64) int { return int(base * jitter * scale) }
	switch p := r.IntN(100); {
	case p < 40:
		offset := 1 + 20*r.IntN(30)
		return toolCall{n: n, tool: "read_file", args: object("path", path, "offset", offset, "limit", 400),
			result: numbered(own, offset, want(3000))}
	case p < 65:
		cmd := pick(r, []string{"go test ./pkg/relay/... -run TestRetry -count=1", "go vet ./...", "go test ./... 2>&1 | tail -40",
			"git diff --stat", "go build ./... && go test -race ./pkg/relay/"})
		return toolCall{n: n, tool: "bash", args: object("command", cmd, "timeout", 120000, "description", prose(r, 1)),
			result: testOutput(own, want(1500))}
	case p < 80:
		pattern := pick(r, []string{`func .*Retry`, `backoff\.`, `ctx\.Done\(\)`, `attempt\s*\+\+`, `errors\.Is\(err`})
		return toolCall{n: n, tool: "grep", args: object("pattern", pattern, "path", "pkg", "output_mode", "content", "-n", true),
			result: grepOutput(own, want(1000))}
	case p < 95:
		old, repl := codeLine(r)+"\n"+codeLine(r)+"\n"+codeLine(r), codeLine(r)+"\n"+codeLine(r)+"\n"+codeLine(r)+"\n"+codeLine(r)
		return toolCall{n: n, tool: "edit_file", args: object("path", path, "old_string", old, "new_string", repl),
			result: "The file " + path + " has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n" +
				numbered(own, 1+r.IntN(300), want(500))}
	}
	return toolCall{n: n, tool: "list_dir", args: object("path", "pkg/relay"), result: listing(own, want(400))}
}

// numbered is source as a file reader shows it (cat -n), from line first,
// at least n bytes (one line at n = 0).
func numbered(r *rand.Rand, first, n int) string {
	var b strings.Builder
	for line := first; b.Len() == 0 || b.Len() < n; line++ {
		fmt.Fprintf(&b, "%6d\t%s\n", line, codeLine(r))
	}
	return b.String()
}

func testOutput(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() == 0 || b.Len() < n {
		name := "Test" + pick(r, types) + strings.ToUpper(pick(r, idents)[:1]) + pick(r, idents)
		switch r.IntN(6) {
		case 0:
			fmt.Fprintf(&b, "=== RUN   %s\n    %s_test.go:%d: got %q, want %q\n--- FAIL: %s (%.2fs)\n",
				name, pick(r, idents), 10+r.IntN(400), pick(r, idents), pick(r, idents), name, r.Float64())
		case 1:
			fmt.Fprintf(&b, "ok  \tgithub.com/acme/relay/pkg/%s\t%.3fs\n", pick(r, idents), r.Float64()*3)
		case 2:
			fmt.Fprintf(&b, "FAIL\tgithub.com/acme/relay/pkg/%s\t%.3fs\n", pick(r, idents), r.Float64()*3)
		default:
			fmt.Fprintf(&b, "=== RUN   %s\n--- PASS: %s (%.2fs)\n", name, name, r.Float64())
		}
	}
	return b.String()
}

func grepOutput(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() == 0 || b.Len() < n {
		fmt.Fprintf(&b, "%s:%d:%s\n", pick(r, paths), 1+r.IntN(900), codeLine(r))
	}
	return b.String()
}

func listing(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() == 0 || b.Len() < n {
		fmt.Fprintf(&b, "- %s_%s.go (%d lines)\n", pick(r, idents), pick(r, idents), 20+r.IntN(800))
	}
	return b.String()
}

// systemPrompt is a coding agent's instructions: a few KB of rules.
func systemPrompt(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("You are an interactive coding agent working in a Go repository. Use the tools to read, search and edit files and to run commands.\n\n# Rules\n")
	for range 40 {
		b.WriteString("- " + prose(r, 1+r.IntN(3)) + "\n")
	}
	b.WriteString("\n# Environment\nWorking directory: /home/dev/relay\nPlatform: linux\nToday's date: 2026-11-25\n")
	return b.String()
}

// tool is one tool the agent offers the model.
type tool struct {
	name, description, schema string
}

var tools = []tool{
	{"read_file", "Reads a file from the local filesystem. The path must be relative to the working directory. By default it reads up to 2000 lines from the start of the file; give an offset and a limit for long files. Lines are numbered as cat -n numbers them.",
		`{"type":"object","properties":{"path":{"type":"string","description":"The file to read"},"offset":{"type":"integer","description":"The line to start at"},"limit":{"type":"integer","description":"How many lines to read"}},"required":["path"],"additionalProperties":false}`},
	{"bash", "Runs a bash command in a persistent shell session, with an optional timeout. Use it for builds, tests and git. Quote paths with spaces. Output over 30000 characters is cut.",
		`{"type":"object","properties":{"command":{"type":"string","description":"The command to run"},"timeout":{"type":"integer","description":"Timeout in milliseconds, at most 600000"},"description":{"type":"string","description":"What the command does, in a few words"}},"required":["command"],"additionalProperties":false}`},
	{"grep", "Searches file contents with a regular expression (ripgrep syntax). Returns matching lines with their paths and line numbers, or only the paths.",
		`{"type":"object","properties":{"pattern":{"type":"string"},"path":{"type":"string"},"output_mode":{"type":"string","enum":["content","files_with_matches","count"]},"-n":{"type":"boolean"}},"required":["pattern"],"additionalProperties":false}`},
	{"edit_file", "Replaces old_string with new_string in a file. old_string must occur exactly once in the file; include enough surrounding lines to make it unique. Read the file first.",
		`{"type":"object","properties":{"path":{"type":"string"},"old_string":{"type":"string"},"new_string":{"type":"string"},"replace_all":{"type":"boolean","default":false}},"required":["path","old_string","new_string"],"additionalProperties":false}`},
	{"list_dir", "Lists the files and directories in a directory, with their sizes.",
		`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"],"additionalProperties":false}`},
	{"todo_write", "Writes the task list for the current session: items with a status (pending, in_progress, completed). Use it to plan multi-step work.",
		`{"type":"object","properties":{"todos":{"type":"array","items":{"type":"object","properties":{"content":{"type":"string"},"status":{"type":"string","enum":["pending","in_progress","completed"]}},"required":["content","status"]}}},"required":["todos"],"additionalProperties":false}`},
}

// object writes a JSON object of the key-value pairs kv, in order.
func object(kv ...any) string {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		writeValue(&b, kv[i])
		b.WriteByte(':')
		writeValue(&b, kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// writeValue writes v as JSON, without escaping <, > and & as
// encoding/json does by default (clients send them as they are).
func writeValue(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	b.Truncate(b.Len() - 1) // Encode's newline
}

// str is s as a JSON string.
func str(s string) string {
	var b bytes.Buffer
	writeValue(&b, s)
	return b.String()
}

// id is a provider-style id: prefix and 24 letters and digits drawn from
// the call's number, so that the three dialects name a call alike.
func id(prefix string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	r := rand.New(rand.NewPCG(uint64(n), 19))
	b := []byte(prefix)
	for range 24 {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	return string(b)
}

// render writes the conversation as a request in dialect d and says how
// many messages (or input items) it holds.
func (c *conversation) render(d Dialect) ([]byte, int) {
	switch d {
	case Anthropic:
		return c.anthropic()
	case Responses:
		return c.responses()
	}
	return c.chat()
}

// list writes a JSON array of items.
func list(b *bytes.Buffer, items []string) {
	b.WriteByte('[')
	b.WriteString(strings.Join(items, ","))
	b.WriteByte(']')
}

func (c *conversation) chat() ([]byte, int) {
	msgs := []string{`{"role":"system","content":` + str(c.system) + `}`, `{"role":"user","content":` + str(c.task) + `}`}
	for _, t := range c.turns {
		if t.user != "" {
			msgs = append(msgs, `{"role":"user","content":`+str(t.user)+`}`)
			continue
		}
		content := "null"
		if t.text != "" {
			content = str(t.text)
		}
		var calls []string
		for _, tc := range t.calls {
			calls = append(calls, `{"id":`+str(id("call_", tc.n))+`,"type":"function","function":{"name":`+str(tc.tool)+`,"arguments":`+str(tc.args)+`}}`)
		}
		msgs = append(msgs, `{"role":"assistant","content":`+content+`,"tool_calls":[`+strings.Join(calls, ",")+`]}`)
		for _, tc := range t.calls {
			msgs = append(msgs, `{"role":"tool","tool_call_id":`+str(id("call_", tc.n))+`,"content":`+str(tc.result)+`}`)
		}
	}
	var defs []string
	for _, t := range tools {
		defs = append(defs, `{"type":"function","function":{"name":`+str(t.name)+`,"description":`+str(t.description)+`,"parameters":`+t.schema+`}}`)
	}
	var b bytes.Buffer
	b.WriteString(`{"model":"gpt-4.1","messages":`)
	list(&b, msgs)
	b.WriteString(`,"tools":`)
	list(&b, defs)
	b.WriteString(`,"tool_choice":"auto","parallel_tool_calls":true,"temperature":0,"max_tokens":8192}`)
	return b.Bytes(), len(msgs)
}

func (c *conversation) anthropic() ([]byte, int) {
	type message struct {
		role   string
		blocks []string
	}
	msgs := []message{{"user", []string{`{"type":"text","text":` + str(c.task) + `}`}}}
	// Anthropic's roles alternate: a user's text after tool results joins
	// their message.
	add := func(role, block string) {
		if last := &msgs[len(msgs)-1]; last.role == role {
			last.blocks = append(last.blocks, block)
			return
		}
		msgs = append(msgs, message{role, []string{block}})
	}
	for _, t := range c.turns {
		if t.user != "" {
			add("user", `{"type":"text","text":`+str(t.user)+`}`)
			continue
		}
		if t.text != "" {
			msgs = append(msgs, message{"assistant", []string{`{"type":"text","text":` + str(t.text) + `}`}})
		}
		for _, tc := range t.calls {
			add("assistant", `{"type":"tool_use","id":`+str(id("toolu_01", tc.n))+`,"name":`+str(tc.tool)+`,"input":`+tc.args+`}`)
		}
		for _, tc := range t.calls {
			add("user", `{"type":"tool_result","tool_use_id":`+str(id("toolu_01", tc.n))+`,"content":`+str(tc.result)+`}`)
		}
	}
	var items []string
	for _, m := range msgs {
		items = append(items, `{"role":"`+m.role+`","content":[`+strings.Join(m.blocks, ",")+`]}`)
	}
	var defs []string
	for _, t := range tools {
		defs = append(defs, `{"name":`+str(t.name)+`,"description":`+str(t.description)+`,"input_schema":`+t.schema+`}`)
	}
	var b bytes.Buffer
	b.WriteString(`{"model":"claude-sonnet-4-5","max_tokens":8192,"system":[{"type":"text","text":` + str(c.system) + `,"cache_control":{"type":"ephemeral"}}],"messages":`)
	list(&b, items)
	b.WriteString(`,"tools":`)
	list(&b, defs)
	b.WriteString(`,"tool_choice":{"type":"auto"},"metadata":{"user_id":"user_bench_agent"}}`)
	return b.Bytes(), len(items)
}

func (c *conversation) responses() ([]byte, int) {
	items := []string{`{"role":"user","content":[{"type":"input_text","text":` + str(c.task) + `}]}`}
	for _, t := range c.turns {
		if t.user != "" {
			items = append(items, `{"role":"user","content":[{"type":"input_text","text":`+str(t.user)+`}]}`)
			continue
		}
		if t.text != "" {
			items = append(items, `{"type":"message","role":"assistant","content":[{"type":"output_text","text":`+str(t.text)+`,"annotations":[]}]}`)
		}
		for _, tc := range t.calls {
			items = append(items, `{"type":"function_call","call_id":`+str(id("call_", tc.n))+`,"name":`+str(tc.tool)+`,"arguments":`+str(tc.args)+`}`)
		}
		for _, tc := range t.calls {
			items = append(items, `{"type":"function_call_output","call_id":`+str(id("call_", tc.n))+`,"output":`+str(tc.result)+`}`)
		}
	}
	var b bytes.Buffer
	b.WriteString(`{"model":"gpt-4.1","instructions":` + str(c.system) + `,"input":`)
	list(&b, items)
	b.WriteString(`,"tools":`)
	list(&b, responsesTools())
	b.WriteString(`,"tool_choice":"auto","parallel_tool_calls":true,"store":false,"max_output_tokens":8192}`)
	return b.Bytes(), len(items)
}

func responsesTools() []string {
	var defs []string
	for _, t := range tools {
		defs = append(defs, `{"type":"function","name":`+str(t.name)+`,"description":`+str(t.description)+`,"parameters":`+t.schema+`,"strict":false}`)
	}
	return defs
}
