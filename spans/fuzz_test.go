package spans

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// fuzzOps are the operations FuzzCall maps calls of, by the fuzzer's first
// byte.
var fuzzOps = []*Operation{&Chat, &Completion, &Embeddings, &Responses, &ResponsesInputTokens,
	&AnthropicMessages, &AnthropicCountTokens, &GeminiGenerateContent, &GeminiEmbedContent,
	&BedrockConverse, &BedrockInvokeModel}

// FuzzCall maps any request the handler would accept (JSON that
// jsonbound.Check passes) and any answer through every operation's span:
// whatever the upstream sends, building the span must not panic, and the
// span must end.
func FuzzCall(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, `{"model":"m","choices":[{"index":-1,"message":{"role":"assistant","content":"hi"}}]}`},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}]}`, `{"model":"m","content":[{"type":"tool_use","id":"t","name":"n","input":{}}],"usage":{"input_tokens":1}}`},
		{`{"contents":[{"role":"user","parts":[{"text":"hi"},{"functionCall":{"name":"f","args":{"a":1}}}]}]}`, `{"candidates":[{"index":-2,"content":{"role":"model","parts":[{"text":"x"}]}}]}`},
		{`{"input":[{"type":"function_call","call_id":"c","name":"n","arguments":"{}"}]}`, `{"output":[{"type":"message","content":[{"type":"output_text","text":"x"}]}]}`},
		{`{"messages":[{"role":"user","content":[{"text":"hi"},{"toolUse":{"toolUseId":"t","name":"n","input":{}}}]}]}`, `{"output":{"message":{"role":"assistant","content":[{"text":"x"}]}},"usage":{"inputTokens":1}}`},
	} {
		for op := range fuzzOps {
			f.Add(byte(op), []byte(seed[0]), []byte(seed[1]))
		}
	}
	for _, name := range []string{"bench-chat-request.json", "bedrock/oi-TestClaudeInvokeModelMessageApi.test_invoke_model.request.json"} {
		req, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(0), req, []byte(`{}`))
	}
	f.Fuzz(func(t *testing.T, op byte, req, answer []byte) {
		if jsonbound.Check(req) != nil {
			return // the handler answers 400
		}
		endedSpan(t, Request{Op: fuzzOps[int(op)%len(fuzzOps)], Body: req, Model: "m"}, true, func(call *Call) { _ = call.Response(answer) })
	})
}
