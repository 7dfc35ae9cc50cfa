package agentcall

import (
	"fmt"

	"github.com/tidwall/gjson"
)

// The answer's next step: some text and one tool call, as an agent's
// model answers mid-task.
const (
	answerText    = "The retry loop hands the closed connection back to the pool after a timeout; that is why the second attempt fails. I changed it to discard the connection. Running the tests again."
	answerCommand = "go test ./pkg/relay/... -count=1"
)

// Answer is the provider's answer to a call in dialect d: the assistant's
// text and a tool call, the usage counting about a token per four bytes of
// the request, most of them read from the prompt cache, as an agent's
// calls are. A Responses answer echoes the request's instructions and
// tools, as OpenAI's does.
func Answer(d Dialect, body []byte) []byte {
	prompt := len(body) / 4
	cached := max(prompt/1024*1024-1024, 0)
	const completion = 52
	switch d {
	case Anthropic:
		created := prompt - cached - 4
		return fmt.Appendf(nil, `{"id":"msg_01BENCHAGENT0000000000000001","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",`+
			`"content":[{"type":"text","text":%s},{"type":"tool_use","id":"toolu_01BENCHAGENTNEXT00000000001","name":"bash","input":%s}],`+
			`"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,`+
			`"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":0},"output_tokens":%d,"service_tier":"standard"}}`,
			str(answerText), object("command", answerCommand, "timeout", 120000), created, cached, created, completion)
	case Responses:
		echo := gjson.GetManyBytes(body, "instructions", "tools")
		instructions, tools := echo[0].Raw, echo[1].Raw
		if instructions == "" {
			instructions = "null"
		}
		if tools == "" {
			tools = "[]"
		}
		return fmt.Appendf(nil, `{"id":"resp_BENCHAGENT00000000000000000001","object":"response","created_at":1764057600,"status":"completed","background":false,`+
			`"error":null,"incomplete_details":null,"instructions":%s,"max_output_tokens":8192,"max_tool_calls":null,"model":"gpt-4.1-2025-04-14",`+
			`"output":[{"id":"msg_BENCHAGENT00000000000000000001","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","annotations":[],"logprobs":[],"text":%s}]},`+
			`{"id":"fc_BENCHAGENT000000000000000000001","type":"function_call","status":"completed","arguments":%s,"call_id":"call_BENCHAGENTNEXT0000000001","name":"bash"}],`+
			`"parallel_tool_calls":true,"previous_response_id":null,"prompt_cache_key":null,"reasoning":{"effort":null,"summary":null},"safety_identifier":null,`+
			`"service_tier":"default","store":false,"temperature":1.0,"text":{"format":{"type":"text"},"verbosity":"medium"},"tool_choice":"auto","tools":%s,`+
			`"top_logprobs":0,"top_p":1.0,"truncation":"disabled","usage":{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d},"output_tokens":%d,`+
			`"output_tokens_details":{"reasoning_tokens":0},"total_tokens":%d},"user":null,"metadata":{}}`,
			instructions, str(answerText), str(object("command", answerCommand, "timeout", 120000)), tools, prompt, cached, completion, prompt+completion)
	}
	return fmt.Appendf(nil, `{"id":"chatcmpl-BENCHAGENT0000000000000000001","object":"chat.completion","created":1764057600,"model":"gpt-4.1-2025-04-14",`+
		`"choices":[{"index":0,"message":{"role":"assistant","content":%s,"tool_calls":[{"id":"call_BENCHAGENTNEXT0000000001","type":"function",`+
		`"function":{"name":"bash","arguments":%s}}],"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],`+
		`"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d,"audio_tokens":0},`+
		`"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},`+
		`"service_tier":"default","system_fingerprint":"fp_b3f1157249"}`,
		str(answerText), str(object("command", answerCommand, "timeout", 120000)), prompt, completion, prompt+completion, cached)
}
