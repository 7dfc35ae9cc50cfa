package spans

import (
	"reflect"
	"testing"

	"github.com/tidwall/gjson"
)

func TestBedrockInvokeModelFamilies(t *testing.T) {
	in := func(i int, suffix string) string { return indexed(KeyLLMInputMessages, i, suffix) }
	for _, tt := range []struct {
		name         string
		body, answer string
		want         map[string]any
	}{{
		name: "Nova: system blocks, tool results first with their message's role, no images",
		body: `{"schemaVersion":"messages-v1","system":[{"text":"be brief"},{"text":""},{"text":"be kind"}],
			"messages":[{"role":"user","content":[{"text":"hi"},{"image":{"format":"png","source":{"bytes":"iVBO"}}}]},
			{"role":"assistant","content":[{"text":"calling"},{"toolUse":{"toolUseId":"t1","name":"f","input":{"x":1}}}]},
			{"role":"user","content":[{"toolResult":{"toolUseId":"t1","content":[{"text":"a"},{"json":{"b":1}},{"text":""}]}},{"text":"next"}]},
			{"role":"user","content":[{"image":{"format":"png","source":{"bytes":"iVBO"}}}]}],
			"toolConfig":{"tools":[{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object"}}}}]}}`,
		answer: `{"output":{"message":{"role":"assistant","content":[{"text":"ok"},{"toolUse":{"toolUseId":"t2","name":"f","input":{"x":2}}}]}},
			"stopReason":"tool_use","usage":{"inputTokens":10,"outputTokens":5,"cacheReadInputTokenCount":4,"cacheWriteInputTokenCount":0}}`,
		want: map[string]any{
			KeyLLMInvocationParameters: "{}", KeyLLMModelName: "m",
			in(0, SuffixMessageRole): "system", in(0, SuffixMessageContent): "be brief",
			in(1, SuffixMessageRole): "system", in(1, SuffixMessageContent): "be kind",
			in(2, SuffixMessageRole): "user",
			KeyLLMInputMessages + ".2.message.contents.0.message_content.type": "text",
			KeyLLMInputMessages + ".2.message.contents.0.message_content.text": "hi",
			in(3, SuffixMessageRole): "assistant",
			KeyLLMInputMessages + ".3.message.contents.0.message_content.type":           "text",
			KeyLLMInputMessages + ".3.message.contents.0.message_content.text":           "calling",
			KeyLLMInputMessages + ".3.message.tool_calls.0.tool_call.id":                 "t1",
			KeyLLMInputMessages + ".3.message.tool_calls.0.tool_call.function.name":      "f",
			KeyLLMInputMessages + ".3.message.tool_calls.0.tool_call.function.arguments": `{"x":1}`,
			in(4, SuffixMessageRole): "user", in(4, SuffixMessageToolCallID): "t1", in(4, SuffixMessageContent): "a\n{\"b\":1}",
			in(5, SuffixMessageRole): "user",
			KeyLLMInputMessages + ".5.message.contents.0.message_content.type":            "text",
			KeyLLMInputMessages + ".5.message.contents.0.message_content.text":            "next",
			indexed(KeyLLMTools, 0, SuffixToolJSONSchema):                                 `{"toolSpec":{"name":"f","inputSchema":{"json":{"type":"object"}}}}`,
			indexed(KeyLLMOutputMessages, 0, SuffixMessageRole):                           "assistant",
			KeyLLMOutputMessages + ".0.message.contents.0.message_content.type":           "text",
			KeyLLMOutputMessages + ".0.message.contents.0.message_content.text":           "ok",
			KeyLLMOutputMessages + ".0.message.tool_calls.0.tool_call.id":                 "t2",
			KeyLLMOutputMessages + ".0.message.tool_calls.0.tool_call.function.name":      "f",
			KeyLLMOutputMessages + ".0.message.tool_calls.0.tool_call.function.arguments": `{"x":2}`,
			KeyLLMFinishReason:       "tool_use",
			KeyTokenPrompt:           int64(10),
			KeyTokenCompletion:       int64(5),
			KeyTokenTotal:            int64(15), // a stream's usage has no total
			KeyTokenPromptCacheRead:  int64(4),
			KeyTokenPromptCacheWrite: int64(0),
		},
	}, {
		name:   "Claude with nothing but messages: {} as parameters, llm.system anthropic",
		body:   `{"anthropic_version":"bedrock-2023-05-31","messages":[{"role":"user","content":"hi"}]}`,
		answer: `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":0}}`,
		want: map[string]any{
			KeyLLMSystem: "anthropic", KeyLLMInvocationParameters: "{}", KeyLLMRequestModelName: "m",
			in(0, SuffixMessageRole): "user", in(0, SuffixMessageContent): "hi",
			indexed(KeyLLMOutputMessages, 0, SuffixMessageRole): "assistant",
			KeyLLMModelName: "claude-x", KeyLLMResponseModelName: "claude-x", KeyLLMFinishReason: "end_turn",
			KeyTokenPrompt: int64(1), KeyTokenCompletion: int64(0), KeyTokenTotal: int64(1),
		},
	}, {
		name:   "Claude's legacy Text Completions: another family",
		body:   `{"prompt":"\n\nHuman: hi\n\nAssistant:","max_tokens_to_sample":5}`,
		answer: `{"completion":" hello","stop_reason":"stop_sequence"}`,
		want:   map[string]any{KeyLLMInvocationParameters: `{"max_tokens_to_sample":5}`, KeyLLMModelName: "m", KeyLLMFinishReason: "stop_sequence"},
	}, {
		name:   "Llama: the prompt out of the parameters",
		body:   `{"prompt":"hi","max_gen_len":5,"temperature":0.1}`,
		answer: `{"generation":"x","prompt_token_count":1,"generation_token_count":2,"stop_reason":"stop"}`,
		want:   map[string]any{KeyLLMInvocationParameters: `{"max_gen_len":5,"temperature":0.1}`, KeyLLMModelName: "m", KeyLLMFinishReason: "stop"},
	}, {
		name:   "Mistral's chat body: not mapped, all of it parameters",
		body:   `{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}`,
		answer: `{"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"stop"}]}`,
		want:   map[string]any{KeyLLMInvocationParameters: `{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}`, KeyLLMModelName: "m", KeyLLMFinishReason: "stop"},
	}, {
		name:   "a prompt alone",
		body:   `{"prompt":"hi"}`,
		answer: `{"outputs":[{"text":"x","stop_reason":"length"}]}`,
		want:   map[string]any{KeyLLMInvocationParameters: `{}`, KeyLLMModelName: "m", KeyLLMFinishReason: "length"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got := bedrockAttrs(t, &BedrockInvokeModel, tt.body, tt.answer, "llm.")
			delete(got, KeyLLMProvider)
			checkFamily(t, got, "llm.", tt.want)
		})
	}
}

func TestBedrockInvokeModelBodies(t *testing.T) {
	for _, tt := range []struct {
		body         string
		claude, nova bool
	}{
		{`{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`, true, false},
		{`{"anthropic_version":"bedrock-2023-05-31","prompt":"\n\nHuman: hi"}`, false, false},
		{`{"schemaVersion":"messages-v1","messages":[{"role":"user","content":[{"text":"hi"}]}]}`, false, true},
		{`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`, false, true},
		{`{"messages":[{"role":"user","content":[{"text":"hi"}]}],"inferenceConfig":{"maxTokens":5}}`, false, true},
		{`{"messages":[{"role":"user","content":"hi"}],"inferenceConfig":{"maxTokens":5}}`, false, true},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}`, false, false},
		{`{"messages":[{"role":"user","content":"hi"}],"max_tokens":5}`, false, false},
		{`{"inputText":"hi","textGenerationConfig":{"maxTokenCount":5}}`, false, false},
	} {
		obj := gjson.Parse(tt.body)
		if claude, nova := isClaudeBody(obj, obj.Get("messages")), isNovaBody(obj, obj.Get("messages")); claude != tt.claude || nova != tt.nova {
			t.Errorf("%s: claude %v, nova %v; want %v, %v", tt.body, claude, nova, tt.claude, tt.nova)
		}
	}
}

func TestInvokeFinishReason(t *testing.T) {
	for _, tt := range []struct{ answer, want string }{
		{`{"stopReason":"end_turn"}`, "end_turn"},
		{`{"stop_reason":"","finish_reason":"stop"}`, "stop"},
		{`{"completionReason":"FINISH"}`, "FINISH"},
		{`{"results":[{"outputText":"x","completionReason":"LENGTH"}]}`, "LENGTH"},
		{`{"generations":[{"text":"x","finish_reason":"COMPLETE"}]}`, "COMPLETE"},
		{`{"outputs":[{"text":"x","stop_reason":"stop"}]}`, "stop"},
		{`{"choices":[{"finish_reason":"length"}]}`, "length"},
		{`{"completions":[{"finishReason":"endoftext"}]}`, "endoftext"},
		{`{"completions":[{"finishReason":{"reason":"length","length":5}}]}`, "length"},
		{`{"generation":"x"}`, ""},
		{`{"stopReason":5}`, ""},
	} {
		if got := invokeFinishReason(gjson.Parse(tt.answer)).Str; got != tt.want {
			t.Errorf("invokeFinishReason(%s) = %q; want %q", tt.answer, got, tt.want)
		}
	}
}

func TestPyTruthy(t *testing.T) {
	got := map[string]bool{}
	for _, v := range []string{`null`, `false`, `true`, `0`, `0.0`, `1`, `""`, `"a"`, `{}`, `{ }`, `[]`, `[0]`, `{"a":1}`} {
		got[v] = pyTruthy(gjson.Parse(v))
	}
	got["absent"] = pyTruthy(gjson.Result{})
	want := map[string]bool{`null`: false, `false`: false, `true`: true, `0`: false, `0.0`: false, `1`: true, `""`: false, `"a"`: true,
		`{}`: false, `{ }`: false, `[]`: false, `[0]`: true, `{"a":1}`: true, "absent": false}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pyTruthy: got %v; want %v", got, want)
	}
}
