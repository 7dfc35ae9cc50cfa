package translate

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/upstream"
)

func TestOpenAIChatToBedrock(t *testing.T) {
	const nova, claude = "us.amazon.nova-micro-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
	tests := []struct {
		name, model, in, want string
	}{
		{
			name: "system and developer messages become system blocks; consecutive users merge",
			in: `{"model":"bedrock/m","messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Use French."}]},` +
				`{"role":"user","content":"Hi"},{"role":"user","content":[{"type":"text","text":"there"},{"type":"text","text":""}]}]}`,
			want: `{"system":[{"text":"Be brief."},{"text":"Use French."}],"messages":[{"role":"user","content":[{"text":"Hi"},{"text":"there"}]}]}`,
		},
		{
			name: "max_completion_tokens wins over max_tokens; stop, temperature, top_p; stream is the path's, not the body's",
			in: `{"model":"m","max_completion_tokens":100,"max_tokens":5,"stop":"END","temperature":0.2,"top_p":0.9,"stream":true,"user":"u",` +
				`"messages":[{"role":"user","content":"Hi"}]}`,
			want: `{"inferenceConfig":{"maxTokens":100,"stopSequences":["END"],"temperature":0.2,"topP":0.9},"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`,
		},
		{
			name: "stop lists lose their empty strings; max_tokens alone",
			in:   `{"model":"m","max_tokens":7,"stop":["a","",3],"messages":[{"role":"user","content":"Hi"}]}`,
			want: `{"inferenceConfig":{"maxTokens":7,"stopSequences":["a"]},"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`,
		},
		{
			name:  "top_k: Claude's own, in additionalModelRequestFields",
			model: claude,
			in:    `{"model":"m","top_k":5,"messages":[{"role":"user","content":"Hi"}]}`,
			want:  `{"additionalModelRequestFields":{"top_k":5},"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`,
		},
		{
			name: "top_k: Nova's inferenceConfig.topK, in additionalModelRequestFields",
			in:   `{"model":"m","top_k":5,"messages":[{"role":"user","content":"Hi"}]}`,
			want: `{"additionalModelRequestFields":{"inferenceConfig":{"topK":5}},"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`,
		},
		{
			name: "images and documents from data URLs; a format overrides the media type",
			in: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What is this?"},` +
				`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}},` +
				`{"type":"image_url","image_url":{"url":"data:application/octet-stream;base64,AAAA","format":"image/webp"}},` +
				`{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBERi0x"}},` +
				`{"type":"document","source":{"type":"base64","media_type":"text/plain","data":"aGk="}},` +
				`{"type":"input_audio","input_audio":{"data":"x","format":"wav"}}]}]}`,
			want: `{"messages":[{"role":"user","content":[{"text":"What is this?"},` +
				`{"image":{"format":"png","source":{"bytes":"iVBORw0K"}}},{"image":{"format":"webp","source":{"bytes":"AAAA"}}},` +
				`{"document":{"format":"pdf","name":"DocumentPDFmessages_` + documentHash("JVBERi0x") + `_pdf","source":{"bytes":"JVBERi0x"}}},` +
				`{"document":{"format":"txt","name":"Document_` + documentHash("aGk=") + `_txt","source":{"bytes":"aGk="}}}]}]}`,
		},
		{
			name: "a video from a data URL",
			in:   `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":"data:video/mp4;base64,AAAA"}]}]}`,
			want: `{"messages":[{"role":"user","content":[{"video":{"format":"mp4","source":{"bytes":"AAAA"}}}]}]}`,
		},
		{
			name: "tool calls and results: results join one user message, then the next user's text; toolConfig and toolChoice",
			in: `{"model":"m","messages":[{"role":"user","content":"Weather in Paris and Rome?"},` +
				`{"role":"assistant","content":"Checking.","tool_calls":[` +
				`{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
				`{"id":"call_2","type":"function","function":{"name":"get_weather","arguments":""}}]},` +
				`{"role":"tool","tool_call_id":"call_1","content":"18C"},{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"24C"}]},` +
				`{"role":"user","content":"Thanks"}],` +
				`"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},` +
				`{"type":"function","function":{"name":"ping"}}],"tool_choice":"required"}`,
			want: `{"messages":[{"role":"user","content":[{"text":"Weather in Paris and Rome?"}]},` +
				`{"role":"assistant","content":[{"text":"Checking."},` +
				`{"toolUse":{"toolUseId":"call_1","name":"get_weather","input":{"city":"Paris"}}},` +
				`{"toolUse":{"toolUseId":"call_2","name":"get_weather","input":{}}}]},` +
				`{"role":"user","content":[{"toolResult":{"toolUseId":"call_1","content":[{"text":"18C"}]}},` +
				`{"toolResult":{"toolUseId":"call_2","content":[{"text":"24C"}]}},{"text":"Thanks"}]}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","description":"Weather now","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}},` +
				`{"toolSpec":{"name":"ping","description":"ping","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"any":{}}}}`,
		},
		{
			name: "a named tool choice and auto; a tool call id Converse refuses is made one it takes, the call's and the result's alike",
			in: `{"model":"m","messages":[{"role":"user","content":"x"},` +
				`{"role":"assistant","tool_calls":[{"id":"call/1 é","type":"function","function":{"name":"ping","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"call/1 é","content":"pong"}],` +
				`"tools":[{"type":"function","function":{"name":"ping"}}],"tool_choice":{"type":"function","function":{"name":"ping"}}}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]},` +
				`{"role":"assistant","content":[{"toolUse":{"toolUseId":"` + bedrockToolUseID("call/1 é") + `","name":"ping","input":{}}}]},` +
				`{"role":"user","content":[{"toolResult":{"toolUseId":"` + bedrockToolUseID("call/1 é") + `","content":[{"text":"pong"}]}}]}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"ping","description":"ping","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"tool":{"name":"ping"}}}}`,
		},
		{
			name:  "parallel_tool_calls false is Claude's disable_parallel_tool_use, with no type beside a toolChoice",
			model: claude,
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"ping"}}],` +
				`"tool_choice":"auto","parallel_tool_calls":false}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],"additionalModelRequestFields":{"tool_choice":{"disable_parallel_tool_use":true}},` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"ping","description":"ping","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"auto":{}}}}`,
		},
		{
			name: "parallel_tool_calls is left out for a model that is not Claude",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"ping"}}],` +
				`"parallel_tool_calls":false}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"ping","description":"ping","inputSchema":{"json":{"type":"object","properties":{}}}}}]}}`,
		},
		{
			name:  "reasoning_effort is Claude's thinking budget, with room for the answer beyond it",
			model: claude,
			in:    `{"model":"m","reasoning_effort":"medium","messages":[{"role":"user","content":"x"}]}`,
			want: `{"inferenceConfig":{"maxTokens":6144},"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":2048}},` +
				`"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name:  "reasoning_effort minimal: Claude's budget raised to Bedrock's least",
			model: claude,
			in:    `{"model":"m","reasoning_effort":"minimal","max_tokens":3000,"messages":[{"role":"user","content":"x"}]}`,
			want: `{"inferenceConfig":{"maxTokens":3000},"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}},` +
				`"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name:  "thinking passes, clamped; a forced tool becomes auto, as Claude refuses forced tool use while thinking",
			model: claude,
			in: `{"model":"m","thinking":{"type":"enabled","budget_tokens":500},"max_tokens":4000,"messages":[{"role":"user","content":"x"}],` +
				`"tools":[{"type":"function","function":{"name":"ping"}}],"tool_choice":"required"}`,
			want: `{"inferenceConfig":{"maxTokens":4000},"additionalModelRequestFields":{"thinking":{"type":"enabled","budget_tokens":1024}},` +
				`"messages":[{"role":"user","content":[{"text":"x"}]}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"ping","description":"ping","inputSchema":{"json":{"type":"object","properties":{}}}}}],"toolChoice":{"auto":{}}}}`,
		},
		{
			name:  "reasoning_effort on Nova 2 is its reasoningConfig",
			model: "us.amazon.nova-2-lite-v1:0",
			in:    `{"model":"m","reasoning_effort":"high","messages":[{"role":"user","content":"x"}]}`,
			want: `{"additionalModelRequestFields":{"reasoningConfig":{"type":"enabled","maxReasoningEffort":"high"}},` +
				`"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name:  "reasoning_effort passes as it is to gpt-oss",
			model: "openai.gpt-oss-120b-1:0",
			in:    `{"model":"m","reasoning_effort":"low","messages":[{"role":"user","content":"x"}]}`,
			want:  `{"additionalModelRequestFields":{"reasoning_effort":"low"},"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name:  "DeepSeek R1 takes neither thinking nor reasoning_effort",
			model: "us.deepseek.r1-v1:0",
			in:    `{"model":"m","reasoning_effort":"low","thinking":{"type":"enabled","budget_tokens":2000},"messages":[{"role":"user","content":"x"}]}`,
			want:  `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name: "Nova v1 takes no reasoning_effort: left out",
			in:   `{"model":"m","reasoning_effort":"low","messages":[{"role":"user","content":"x"}]}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name:  "an assistant's thinking blocks go back first, signed and redacted",
			model: claude,
			in: `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":"y",` +
				`"thinking_blocks":[{"type":"thinking","thinking":"hm","signature":"sig"},{"type":"redacted_thinking","data":"ZZZ"}]},{"role":"user","content":"z"}]}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]},{"role":"assistant","content":[` +
				`{"reasoningContent":{"reasoningText":{"text":"hm","signature":"sig"}}},{"reasoningContent":{"redactedContent":"ZZZ"}},{"text":"y"}]},` +
				`{"role":"user","content":[{"text":"z"}]}]}`,
		},
		{
			name: "consecutive assistants merge, text before tool use; blank text is left out",
			in: `{"model":"m","messages":[{"role":"user","content":"x"},` +
				`{"role":"assistant","content":" ","tool_calls":[{"id":"c1","type":"function","function":{"name":"ping","arguments":"{}"}}]},` +
				`{"role":"assistant","content":[{"type":"text","text":"more"}]},{"role":"tool","tool_call_id":"c1","content":"ok"}],` +
				`"tools":[{"type":"function","function":{"name":"ping","description":"d"}}]}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]},` +
				`{"role":"assistant","content":[{"text":"more"},{"toolUse":{"toolUseId":"c1","name":"ping","input":{}}}]},` +
				`{"role":"user","content":[{"toolResult":{"toolUseId":"c1","content":[{"text":"ok"}]}}]}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"ping","description":"d","inputSchema":{"json":{"type":"object","properties":{}}}}}]}}`,
		},
		{
			name:  "cache_control marks become cachePoint blocks: system, user parts, a tool, a tool result",
			model: claude,
			in: `{"model":"m","messages":[{"role":"system","content":[{"type":"text","text":"S","cache_control":{"type":"ephemeral"}}]},` +
				`{"role":"user","content":[{"type":"text","text":"long","cache_control":{"type":"ephemeral"}},{"type":"text","text":"q"}]},` +
				`{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"ping","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"r","cache_control":{"type":"ephemeral"}}],` +
				`"tools":[{"type":"function","function":{"name":"ping","description":"d"},"cache_control":{"type":"ephemeral"}}]}`,
			want: `{"system":[{"text":"S"},{"cachePoint":{"type":"default"}}],"messages":[` +
				`{"role":"user","content":[{"text":"long"},{"cachePoint":{"type":"default"}},{"text":"q"}]},` +
				`{"role":"assistant","content":[{"toolUse":{"toolUseId":"c1","name":"ping","input":{}}}]},` +
				`{"role":"user","content":[{"toolResult":{"toolUseId":"c1","content":[{"text":"r"}]}},{"cachePoint":{"type":"default"}}]}],` +
				`"toolConfig":{"tools":[{"toolSpec":{"name":"ping","description":"d","inputSchema":{"json":{"type":"object","properties":{}}}}},{"cachePoint":{"type":"default"}}]}}`,
		},
		{
			name:  "a user message's own cache_control marks its text",
			model: claude,
			in:    `{"model":"m","messages":[{"role":"user","content":"long","cache_control":{"type":"ephemeral"}}]}`,
			want:  `{"messages":[{"role":"user","content":[{"text":"long"},{"cachePoint":{"type":"default"}}]}]}`,
		},
		{
			name:  "no cachePoint for a family without prompt caching",
			model: "meta.llama3-8b-instruct-v1:0",
			in:    `{"model":"m","messages":[{"role":"user","content":"long","cache_control":{"type":"ephemeral"}}]}`,
			want:  `{"messages":[{"role":"user","content":[{"text":"long"}]}]}`,
		},
		{
			name: "a JSON schema response format becomes a forced tool",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],` +
				`"response_format":{"type":"json_schema","json_schema":{"name":"person","description":"A person","schema":{"type":"object","properties":{"name":{"type":"string"}}}}}}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],"toolConfig":{"tools":[{"toolSpec":{"name":"json_tool_call","description":"A person",` +
				`"inputSchema":{"json":{"type":"object","properties":{"name":{"type":"string"}}}}}}],"toolChoice":{"tool":{"name":"json_tool_call"}}}}`,
		},
		{
			name: "json_object and text response formats send nothing",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}]}`,
		},
		{
			name: "guardrailConfig, performanceConfig and requestMetadata pass; service_tier auto is Bedrock's default",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1","trace":"enabled"},` +
				`"performanceConfig":{"latency":"optimized"},"requestMetadata":{"team":"a"},"service_tier":"auto"}`,
			want: `{"messages":[{"role":"user","content":[{"text":"x"}]}],"guardrailConfig":{"guardrailIdentifier":"g","guardrailVersion":"1","trace":"enabled"},` +
				`"performanceConfig":{"latency":"optimized"},"requestMetadata":{"team":"a"},"serviceTier":{"type":"default"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = nova
			}
			got, err := OpenAIChatToBedrock([]byte(tt.in), model)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestOpenAIChatToBedrockRefuses(t *testing.T) {
	for _, tt := range []struct{ in, why string }{
		{`{"model":"m","messages":[]}`, "non-empty"},
		{`{"model":"m"}`, "non-empty"},
		{`{"model":"m","messages":[{"role":"system","content":"only a system prompt"}]}`, "no user or assistant message"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{not json"}}]}],"tools":[{"type":"function","function":{"name":"f"}}]}`, "not a JSON object"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}`, "base64 data URL"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]}`, "must be base64"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/bmp;base64,AA"}}]}]}`, "not one Bedrock takes"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:application/zip;base64,AA"}}]}]}`, "no document format"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}`, "file_data or file_id"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"document","source":{"type":"url","url":"https://x"}}]}]}`, "base64 source"},
		{`{"model":"m","messages":[{"role":"wizard","content":"x"}]}`, "not one Bedrock can be sent"},
		{`{"model":"m","messages":[{"role":"function","name":"f","content":"x"}]}`, "not one Bedrock can be sent"},
		{`{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}]}`, "without `tools=`"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none"}`, `tool_choice="none"`},
		{`{"model":"m","reasoning_effort":"minimal","messages":[{"role":"user","content":"x"}]}`, "Nova 2"},
	} {
		model := "us.amazon.nova-micro-v1:0"
		if tt.why == "Nova 2" {
			model = "us.amazon.nova-2-lite-v1:0"
		}
		got, err := OpenAIChatToBedrock([]byte(tt.in), model)
		if err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("OpenAIChatToBedrock(%s) = %s, %v; want an error saying %q", tt.in, got, err, tt.why)
		}
	}
}

// TestOpenAIChatBedrockRequest: the path is the model's converse, or
// converse-stream for a stream, the model id escaped as the AWS SDKs do.
func TestOpenAIChatBedrockRequest(t *testing.T) {
	for _, tt := range []struct{ body, model, path string }{
		{`{"model":"bedrock/x","messages":[{"role":"user","content":"hi"}]}`, "us.amazon.nova-micro-v1:0", "/model/us.amazon.nova-micro-v1%3A0/converse"},
		{`{"model":"bedrock/x","stream":true,"messages":[{"role":"user","content":"hi"}]}`, "us.amazon.nova-micro-v1:0", "/model/us.amazon.nova-micro-v1%3A0/converse-stream"},
		{`{"model":"bedrock/x","stream":false,"messages":[{"role":"user","content":"hi"}]}`, "arn:aws:bedrock:us-east-1:1:application-inference-profile/p",
			"/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fp/converse"},
	} {
		up, path, err := OpenAIChatBedrock.Request([]byte(tt.body), tt.model, nil)
		if err != nil || path != tt.path || gjson.GetBytes(up, "messages.0.content.0.text").Str != "hi" ||
			gjson.GetBytes(up, "model").Exists() || gjson.GetBytes(up, "stream").Exists() {
			t.Errorf("Request(%s, %s) = %s, %q, %v; want the Converse body at %q", tt.body, tt.model, up, path, err, tt.path)
		}
		if want := upstream.BedrockModelPath(tt.model, "converse"); !strings.HasPrefix(path, want) {
			t.Errorf("path %q; want it under %q", path, want)
		}
	}
	if _, _, err := OpenAIChatBedrock.Request([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), "", nil); err == nil {
		t.Errorf("no model id: want an error")
	}
}

func TestBedrockToolUseID(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_.:-]{1,64}$`)
	for _, id := range []string{"call_abc123", "tooluse_Z4oIdWzp6MUkuN99WX3jLk", "", "call/1", "call 1", strings.Repeat("a", 64), strings.Repeat("a", 65), "é"} {
		got := bedrockToolUseID(id)
		if !valid.MatchString(got) {
			t.Errorf("bedrockToolUseID(%q) = %q: not an id Converse takes", id, got)
		}
		if valid.MatchString(id) && got != id {
			t.Errorf("bedrockToolUseID(%q) = %q; want a valid id unchanged", id, got)
		}
	}
	if bedrockToolUseID("call/1") == bedrockToolUseID("call 1") {
		t.Errorf("two ids became one")
	}
}

func FuzzOpenAIChatToBedrock(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}},{"type":"text","text":"t","cache_control":{}}]},`+
		`{"role":"assistant","content":"","thinking_blocks":[{"type":"thinking","thinking":"t","signature":"s"}],"tool_calls":[{"id":"c","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"r"}]}],`+
		`"tools":[{"type":"function","function":{"name":"f"}}],"stop":["a",""],"reasoning_effort":"high","top_k":3,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`), "us.anthropic.claude-sonnet-4-5-v1:0")
	f.Fuzz(func(t *testing.T, in []byte, model string) {
		out, err := OpenAIChatToBedrock(in, model)
		if err != nil {
			return
		}
		var req struct {
			Messages []struct {
				Role    string            `json:"role"`
				Content []json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(out, &req); err != nil || len(req.Messages) == 0 {
			t.Fatalf("OpenAIChatToBedrock(%q) = %s: not a Converse request (%v)", in, out, err)
		}
		for i, m := range req.Messages {
			if m.Role != "user" && m.Role != "assistant" || len(m.Content) == 0 {
				t.Fatalf("message %d: role %q with %d blocks: %s", i, m.Role, len(m.Content), out)
			}
			if i > 0 && req.Messages[i-1].Role == m.Role {
				t.Fatalf("two %s messages in a row: %s", m.Role, out)
			}
		}
		if strings.Contains(string(out), `"text":""`) && !strings.Contains(string(out), `"toolResult"`) {
			t.Fatalf("an empty text block, which Converse refuses: %s", out)
		}
		valid := regexp.MustCompile(`^[a-zA-Z0-9_.:-]{1,64}$`)
		gjson.GetBytes(out, "messages.#.content.#.toolUse.toolUseId").ForEach(func(_, ids gjson.Result) bool {
			ids.ForEach(func(_, id gjson.Result) bool {
				if !valid.MatchString(id.Str) {
					t.Fatalf("toolUseId %q: not one Converse takes", id.Str)
				}
				return true
			})
			return true
		})
	})
}
