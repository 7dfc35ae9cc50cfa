package agentcall

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/tidwall/gjson"
)

// TestCalls: each size's three calls are valid JSON of the size and
// message count asked, each tool call in their history has its result
// (chat's tool_call_id, Anthropic's tool_use_id, Responses' call_id), and
// a second generation makes the same bytes.
func TestCalls(t *testing.T) {
	again := All()
	for i, c := range All() {
		t.Run(c.Name, func(t *testing.T) {
			if !gjson.ValidBytes(c.Body) {
				t.Fatal("body is not valid JSON")
			}
			if !bytes.Equal(c.Body, again[i].Body) {
				t.Error("a second generation made other bytes")
			}
			if n := len(c.Body); n < c.Size.Bytes*97/100 || n > c.Size.Bytes*103/100 {
				t.Errorf("%d bytes; want %d ± 3 %%", n, c.Size.Bytes)
			}
			req := gjson.ParseBytes(c.Body)
			var calls, results []string
			var messages int
			switch c.Dialect {
			case Chat:
				messages = int(req.Get("messages.#").Int())
				if messages != c.Size.Messages {
					t.Errorf("%d messages; want %d", messages, c.Size.Messages)
				}
				calls = strs(req.Get("messages.#.tool_calls.#.id|@flatten"))
				results = strs(req.Get(`messages.#(role=="tool")#.tool_call_id`))
			case Anthropic:
				messages = int(req.Get("messages.#").Int())
				calls = strs(req.Get(`messages.#.content.#(type=="tool_use")#.id|@flatten`))
				results = strs(req.Get(`messages.#.content.#(type=="tool_result")#.tool_use_id|@flatten`))
				// Roles alternate, the first is the user's.
				for j, m := range req.Get("messages").Array() {
					if want := [2]string{"user", "assistant"}[j%2]; m.Get("role").Str != want {
						t.Fatalf("message %d is the %s's; want the %s's", j, m.Get("role").Str, want)
					}
				}
			case Responses:
				messages = int(req.Get("input.#").Int())
				calls = strs(req.Get(`input.#(type=="function_call")#.call_id`))
				results = strs(req.Get(`input.#(type=="function_call_output")#.call_id`))
			}
			if messages != c.Messages {
				t.Errorf("Messages %d; the body holds %d", c.Messages, messages)
			}
			if len(calls) != c.ToolCalls || len(results) != c.ToolCalls {
				t.Fatalf("%d tool calls and %d results; want %d of each", len(calls), len(results), c.ToolCalls)
			}
			for j := range calls {
				if calls[j] != results[j] {
					t.Fatalf("tool call %d is %q, its result names %q", j, calls[j], results[j])
				}
			}
		})
	}
}

func strs(r gjson.Result) []string {
	var out []string
	for _, v := range r.Array() {
		out = append(out, v.Str)
	}
	return out
}

// TestAnswer: each dialect's answer is its provider's shape, ending in a
// tool call, its prompt tokens about a quarter of the request's bytes; the
// Responses answer echoes the request's instructions and tools.
func TestAnswer(t *testing.T) {
	for _, c := range Calls(Sizes[0]) {
		t.Run(c.Name, func(t *testing.T) {
			a := Answer(c.Dialect, c.Body)
			prompt := strconv.Itoa(len(c.Body) / 4)
			if !gjson.ValidBytes(a) {
				t.Fatalf("answer is not valid JSON: %s", a)
			}
			for path, want := range map[Dialect]map[string]string{
				Chat: {"object": "chat.completion", "choices.0.finish_reason": "tool_calls", "choices.0.message.tool_calls.0.function.name": "bash",
					"usage.prompt_tokens": prompt},
				Anthropic: {"type": "message", "stop_reason": "tool_use", "content.1.type": "tool_use", "content.1.input.command": answerCommand,
					"usage.input_tokens": "4"},
				Responses: {"object": "response", "status": "completed", "output.1.type": "function_call", "output.1.name": "bash",
					"usage.input_tokens": prompt},
			}[c.Dialect] {
				if got := gjson.GetBytes(a, path).String(); got != want {
					t.Errorf("%s = %q; want %q", path, got, want)
				}
			}
			if c.Dialect == Responses {
				for _, key := range []string{"instructions", "tools"} {
					if got, want := gjson.GetBytes(a, key).Raw, gjson.GetBytes(c.Body, key).Raw; got != want || want == "" {
						t.Errorf("%s: echoed %d bytes; want the request's %d", key, len(got), len(want))
					}
				}
			}
		})
	}
}
