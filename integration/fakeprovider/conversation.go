package fakeprovider

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"
)

// Conversation answers every call anew, as a model in a conversation
// does: a recording cannot answer an agent loop whose requests grow with
// each answer. It serves OpenAI's chat completions (whole or streamed),
// Anthropic's Messages API, the Responses API and Bedrock Runtime's
// Converse and ConverseStream (in AWS's event stream; it checks no
// signature), in the shapes of the recorded answers, each answer's text
// and ids numbered by the call.
//
// Tools: a request whose messages say "[tools: N]" gets a call of its
// first tool (its required arguments filled in from its schema) while it
// holds fewer than N tool results, then a text answer. Any other request
// gets a text answer.
type Conversation struct{ n atomic.Int64 }

var toolsAsked = regexp.MustCompile(`\[tools: (\d+)\]`)

// ServeHTTP answers one call.
func (c *Conversation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !gjson.ValidBytes(body) {
		http.Error(w, "want a JSON body", http.StatusBadRequest)
		return
	}
	n := c.n.Add(1)
	req := gjson.ParseBytes(body)
	text := fmt.Sprintf("Answer %d.", n)
	switch r.URL.Path {
	case "/v1/chat/completions":
		tool := req.Get("tools.0.function")
		call := wantsTool(body, countRole(req.Get("messages"), "tool"), tool)
		chatAnswer(w, n, text, call, tool, req.Get("stream").Bool(), req.Get("stream_options.include_usage").Bool())
	case "/v1/messages":
		tool := req.Get("tools.0")
		content := fmt.Sprintf(`[{"type":"text","text":%s}]`, js(text))
		stop := "end_turn"
		if wantsTool(body, countBlocks(req.Get("messages"), "tool_result"), tool) {
			content = fmt.Sprintf(`[{"type":"tool_use","id":"toolu_%d","name":%s,"input":%s}]`, n, js(tool.Get("name").Str), arguments(tool.Get("input_schema")))
			stop = "tool_use"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"msg_%d","type":"message","role":"assistant","model":%s,"content":%s,"stop_reason":%s,"stop_sequence":null,"usage":{"input_tokens":20,"output_tokens":10}}`,
			n, js(req.Get("model").Str), content, js(stop))
	case "/v1/responses":
		tool := req.Get("tools.0")
		output := fmt.Sprintf(`{"id":"msg_%d","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":%s}]}`, n, js(text))
		if wantsTool(body, countItems(req.Get("input"), "function_call_output"), tool) {
			output = fmt.Sprintf(`{"id":"fc_%d","type":"function_call","status":"completed","call_id":"call_%d","name":%s,"arguments":%s}`, n, n, js(tool.Get("name").Str), js(arguments(tool.Get("parameters"))))
		}
		prev := req.Get("previous_response_id").Raw
		if prev == "" {
			prev = "null"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"resp_%d","object":"response","created_at":1757604033,"status":"completed","model":%s,"output":[%s],"parallel_tool_calls":true,"previous_response_id":%s,"tool_choice":"auto","tools":[],"usage":{"input_tokens":14,"input_tokens_details":{"cached_tokens":0},"output_tokens":8,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":22}}`,
			n, js(req.Get("model").Str), output, prev)
	default:
		if op, ok := converseOp(r.URL.Path); ok {
			tool := req.Get("toolConfig.tools.0.toolSpec")
			call := wantsTool(body, countUnions(req.Get("messages"), "toolResult"), tool)
			converseAnswer(w, n, text, call, tool, op == "converse-stream")
			return
		}
		http.NotFound(w, r)
	}
}

// converseOp is the Bedrock Runtime operation of a path,
// /model/{model}/converse or /model/{model}/converse-stream.
func converseOp(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/model/")
	if !ok {
		return "", false
	}
	op := rest[strings.LastIndexByte(rest, '/')+1:]
	return op, op == "converse" || op == "converse-stream"
}

// wantsTool says whether the answer calls the tool: the request has one,
// asks for N calls, and holds fewer than N results.
func wantsTool(body []byte, results int, tool gjson.Result) bool {
	m := toolsAsked.FindSubmatch(body)
	if m == nil || !tool.Get("name").Exists() {
		return false
	}
	want, _ := strconv.Atoi(string(m[1]))
	return results < want
}

func countRole(msgs gjson.Result, role string) int {
	n := 0
	msgs.ForEach(func(_, m gjson.Result) bool {
		if m.Get("role").Str == role {
			n++
		}
		return true
	})
	return n
}

func countBlocks(msgs gjson.Result, typ string) int {
	n := 0
	msgs.ForEach(func(_, m gjson.Result) bool {
		m.Get("content").ForEach(func(_, b gjson.Result) bool {
			if b.Get("type").Str == typ {
				n++
			}
			return true
		})
		return true
	})
	return n
}

// countUnions counts the content blocks of a Converse conversation that
// are of a kind (a union's member: toolResult).
func countUnions(msgs gjson.Result, kind string) int {
	n := 0
	msgs.ForEach(func(_, m gjson.Result) bool {
		m.Get("content").ForEach(func(_, b gjson.Result) bool {
			if b.Get(kind).Exists() {
				n++
			}
			return true
		})
		return true
	})
	return n
}

func countItems(items gjson.Result, typ string) int {
	n := 0
	items.ForEach(func(_, it gjson.Result) bool {
		if it.Get("type").Str == typ {
			n++
		}
		return true
	})
	return n
}

// arguments fills a JSON schema's required properties: a string, a
// number, a boolean, as their types say.
func arguments(schema gjson.Result) string {
	args := map[string]any{}
	schema.Get("required").ForEach(func(_, name gjson.Result) bool {
		switch schema.Get("properties." + gjson.Escape(name.Str) + ".type").Str {
		case "integer", "number":
			args[name.Str] = 1
		case "boolean":
			args[name.Str] = true
		default:
			args[name.Str] = "PotatoLand"
		}
		return true
	})
	b, _ := json.Marshal(args)
	return string(b)
}

// chatAnswer writes a chat completion, or its stream.
func chatAnswer(w http.ResponseWriter, n int64, text string, call bool, tool gjson.Result, stream, usage bool) {
	name, args := tool.Get("name").Str, ""
	if call {
		args = arguments(tool.Get("parameters"))
	}
	finish := "stop"
	if call {
		finish = "tool_calls"
	}
	if !stream {
		msg := fmt.Sprintf(`{"role":"assistant","content":%s,"refusal":null,"annotations":[]}`, js(text))
		if call {
			msg = fmt.Sprintf(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_%d","type":"function","function":{"name":%s,"arguments":%s}}],"refusal":null,"annotations":[]}`, n, js(name), js(args))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1741569952,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":%s,"logprobs":null,"finish_reason":%s}],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20}}`, n, msg, js(finish))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta, finish string) {
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-%d\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"delta\":%s,\"logprobs\":null,\"finish_reason\":%s}]}\n\n", n, delta, finish)
	}
	chunk(`{"role":"assistant","content":"","refusal":null}`, "null")
	if call {
		chunk(fmt.Sprintf(`{"tool_calls":[{"index":0,"id":"call_%d","type":"function","function":{"name":%s,"arguments":""}}]}`, n, js(name)), "null")
		chunk(fmt.Sprintf(`{"tool_calls":[{"index":0,"function":{"arguments":%s}}]}`, js(args)), "null")
	} else {
		for _, word := range strings.SplitAfter(text, " ") {
			chunk(fmt.Sprintf(`{"content":%s}`, js(word)), "null")
		}
	}
	chunk(`{}`, js(finish))
	if usage {
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-%d\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":8,\"total_tokens\":20}}\n\n", n)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

// converseAnswer writes a ConverseResponse, or the ConverseStream events
// that add up to it: messageStart, the block's start (a tool's use) and
// deltas (the text word by word, or the tool's input), contentBlockStop,
// messageStop with the stop reason, metadata with the usage.
func converseAnswer(w http.ResponseWriter, n int64, text string, call bool, tool gjson.Result, stream bool) {
	name, input, stop := tool.Get("name").Str, "", "end_turn"
	if call {
		input, stop = arguments(tool.Get("inputSchema.json")), "tool_use"
	}
	const usage = `"usage":{"inputTokens":20,"outputTokens":10,"totalTokens":30},"metrics":{"latencyMs":412}`
	if !stream {
		content := fmt.Sprintf(`[{"text":%s}]`, js(text))
		if call {
			content = fmt.Sprintf(`[{"toolUse":{"toolUseId":"tooluse_%d","name":%s,"input":%s}}]`, n, js(name), input)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"output":{"message":{"role":"assistant","content":%s}},"stopReason":%s,%s}`, content, js(stop), usage)
		return
	}
	events := [][2]string{{"messageStart", `{"role":"assistant"}`}}
	if call {
		events = append(events,
			[2]string{"contentBlockStart", fmt.Sprintf(`{"contentBlockIndex":0,"start":{"toolUse":{"toolUseId":"tooluse_%d","name":%s}}}`, n, js(name))},
			[2]string{"contentBlockDelta", fmt.Sprintf(`{"contentBlockIndex":0,"delta":{"toolUse":{"input":%s}}}`, js(input))})
	} else {
		for _, word := range strings.SplitAfter(text, " ") {
			events = append(events, [2]string{"contentBlockDelta", fmt.Sprintf(`{"contentBlockIndex":0,"delta":{"text":%s}}`, js(word))})
		}
	}
	events = append(events,
		[2]string{"contentBlockStop", `{"contentBlockIndex":0}`},
		[2]string{"messageStop", fmt.Sprintf(`{"stopReason":%s}`, js(stop))},
		[2]string{"metadata", "{" + usage + "}"})
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	enc := eventstream.NewEncoder()
	for _, ev := range events {
		_ = enc.Encode(w, eventstream.Message{Headers: eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue(ev[0])},
			{Name: ":content-type", Value: eventstream.StringValue("application/json")},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		}, Payload: []byte(ev[1])})
	}
}

// js is s as a JSON string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
