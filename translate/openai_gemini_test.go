package translate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/upstream"
)

func TestFromOpenAIChatToGemini(t *testing.T) {
	tests := []struct {
		name, model string
		target      GeminiTarget
		in, want    string
	}{
		{
			name: "system and developer messages become the system instruction; user text",
			in: `{"model":"vertex_ai/gemini-2.5-flash","messages":[{"role":"system","content":"Be brief."},` +
				`{"role":"developer","content":[{"type":"text","text":"Use "},{"type":"text","text":"French."}]},{"role":"user","content":"Hi"}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."},{"text":"Use French."}]}}`,
		},
		{
			name: "sampling, length, stop, n, seed, penalties; user, stream and stream_options dropped",
			in: `{"model":"m","messages":[{"role":"user","content":"Hi"}],"temperature":0.2,"top_p":0.9,"top_k":40,"max_tokens":5,"max_completion_tokens":100,` +
				`"stop":["END","",7],"n":2,"seed":7,"presence_penalty":0.1,"frequency_penalty":0.2,"user":"u-1","stream":true,"stream_options":{"include_usage":true},"metadata":{"a":"b"}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"temperature":0.2,"topP":0.9,"topK":40,"candidateCount":2,` +
				`"maxOutputTokens":100,"stopSequences":["END"],"presencePenalty":0.1,"frequencyPenalty":0.2,"seed":7}}`,
		},
		{
			name: "a stop string; logprobs and top_logprobs",
			in:   `{"model":"m","messages":[{"role":"user","content":"Hi"}],"stop":"END","logprobs":true,"top_logprobs":3}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"stopSequences":["END"],"responseLogprobs":true,"logprobs":3}}`,
		},
		{
			name: "Gemini 3: no penalties",
			in:   `{"model":"m","messages":[{"role":"user","content":"Hi"}],"presence_penalty":0.1,"frequency_penalty":0.2}`, model: "gemini-3-pro-preview",
			want: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}`,
		},
		{
			name: "service_tier as Gemini's; server-side tool invocations",
			in:   `{"model":"m","messages":[{"role":"user","content":"Hi"}],"service_tier":"default","include_server_side_tool_invocations":true}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"toolConfig":{"includeServerSideToolInvocations":true},"serviceTier":"standard"}`,
		},
		{
			name: "service_tier auto is priority",
			in:   `{"model":"m","messages":[{"role":"user","content":"Hi"}],"service_tier":"auto"}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"serviceTier":"priority"}`,
		},
		{
			name: "consecutive user messages share a turn, assistants become model turns",
			in: `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"},{"type":"text","text":""}]},` +
				`{"role":"assistant","content":"c"},{"role":"assistant","content":[{"type":"text","text":"d"}]},{"role":"user","content":"e"}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"a"},{"text":"b"}]},{"role":"model","parts":[{"text":"c"},{"text":"d"}]},{"role":"user","parts":[{"text":"e"}]}]}`,
		},
		{
			name: "tool calls become function calls; results, grouped, answer them by name",
			in: `{"model":"m","messages":[{"role":"user","content":"Weather in Paris and Rome?"},` +
				`{"role":"assistant","content":"Checking.","tool_calls":[` +
				`{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},` +
				`{"id":"call_2","type":"function","function":{"name":"get_time","arguments":""}}]},` +
				`{"role":"tool","tool_call_id":"call_1","content":"18C"},{"role":"tool","tool_call_id":"call_2","content":" {\"hour\":9} "},` +
				`{"role":"user","content":"Thanks"}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"Weather in Paris and Rome?"}]},` +
				`{"role":"model","parts":[{"text":"Checking."},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{}}}]},` +
				`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"content":"18C"}}},{"functionResponse":{"name":"get_time","response":{"hour":9}}}]},` +
				`{"role":"user","parts":[{"text":"Thanks"}]}]}`,
		},
		{
			name: "a tool result as text parts, a JSON list kept as content, a legacy function message",
			in: `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"[1,"},{"type":"text","text":"2]"}]},` +
				`{"role":"assistant","function_call":{"name":"g","arguments":"{\"x\":1}"}},{"role":"function","name":"g","content":"ok"}]}`,
			want: `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":{}}}]},` +
				`{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"content":"[1,2]"}}}]},` +
				`{"role":"model","parts":[{"functionCall":{"name":"g","args":{"x":1}}}]},` +
				`{"role":"user","parts":[{"functionResponse":{"name":"g","response":{"content":"ok"}}}]}]}`,
		},
		{
			name: "before Gemini 3, a tool result's images follow its response",
			in: `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"shot","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"here"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}},` +
				`{"type":"image_url","image_url":{"url":"https://example.com/unknown"}}]}]}`,
			want: `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"shot","args":{}}}]},` +
				`{"role":"user","parts":[{"functionResponse":{"name":"shot","response":{"content":"here"}}},{"inlineData":{"mimeType":"image/png","data":"iVBO"}}]}]}`,
		},
		{
			name: "Gemini 3: a tool result's images go in its response's parts; ids sent", model: "gemini-3-flash-preview",
			in: `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"shot","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c","content":[{"type":"text","text":"here"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}]},` +
				`{"role":"tool","tool_call_id":"c","content":"data:image/jpeg;charset=x;base64,/9j/"}]}`,
			want: `{"contents":[{"role":"model","parts":[{"functionCall":{"id":"c","name":"shot","args":{}},"thoughtSignature":"c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="}]},` +
				`{"role":"user","parts":[{"functionResponse":{"id":"c","name":"shot","response":{"content":"here"},"parts":[{"inlineData":{"mimeType":"image/png","data":"iVBO"}}]}},` +
				`{"functionResponse":{"id":"c","name":"shot","response":{"content":""},"parts":[{"inlineData":{"mimeType":"image/jpeg","data":"/9j/"}}]}}]}]}`,
		},
		{
			name: "thought signatures: in the id, in provider_specific_fields; reasoning sent back as a thought, thinking blocks not",
			in: `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","reasoning_content":"Hmm.",` +
				`"thinking_blocks":[{"type":"thinking","thinking":"Deep.","signature":"sig0"}],"content":"Sure.","provider_specific_fields":{"thought_signatures":["sig1"]},` +
				`"tool_calls":[{"id":"call_a__thought__sig2","type":"function","function":{"name":"f","arguments":"{}"}},` +
				`{"id":"call_b","type":"function","provider_specific_fields":{"thought_signature":"sig3"},"function":{"name":"f","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"call_a__thought__sig2","content":"1"},{"role":"tool","tool_call_id":"call_b","content":"2"}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]},{"role":"model","parts":[{"thought":true,"text":"Hmm."},` +
				`{"text":"Sure.","thoughtSignature":"sig1"},{"functionCall":{"name":"f","args":{}},"thoughtSignature":"sig2"},{"functionCall":{"name":"f","args":{}},"thoughtSignature":"sig3"}]},` +
				`{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"content":"1"}}},{"functionResponse":{"name":"f","response":{"content":"2"}}}]}]}`,
		},
		{
			name: "Gemini 3: ids sent; the first call without a signature gets the dummy one, its parallel ones none",
			in: `{"model":"m","messages":[{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}},` +
				`{"id":"d","type":"function","function":{"name":"g","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c","content":"r"},{"role":"tool","tool_call_id":"d","content":"s"}],"temperature":0.5}`, model: "gemini-3-flash-preview",
			want: `{"contents":[{"role":"model","parts":[{"text":""},{"functionCall":{"id":"c","name":"f","args":{}},"thoughtSignature":"c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="},` +
				`{"functionCall":{"id":"d","name":"g","args":{}}}]},` +
				`{"role":"user","parts":[{"functionResponse":{"id":"c","name":"f","response":{"content":"r"}}},{"functionResponse":{"id":"d","name":"g","response":{"content":"s"}}}]}],` +
				`"generationConfig":{"temperature":0.5}}`,
		},
		{
			name: "call ids go less their signatures; a result's id matches its call's without one",
			in: `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c1__thought__s","type":"function","function":{"name":"f","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c1","content":"r"}]}`, model: "gemini-3-pro-preview", target: GeminiDeveloper,
			want: `{"contents":[{"role":"model","parts":[{"functionCall":{"id":"c1","name":"f","args":{}},"thoughtSignature":"s"}]},` +
				`{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"f","response":{"content":"r"}}}]}]}`,
		},
		{
			name: "a result's name is its call's in the last assistant message that called; a JSON result with a $ref is text",
			in: `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"old","arguments":"{}"}}]},` +
				`{"role":"tool","tool_call_id":"c","content":"1"},{"role":"assistant","content":"again","tool_calls":[{"id":"c","type":"function","function":{"name":"new","arguments":"{}"}}]},` +
				`{"role":"assistant","content":"no calls"},{"role":"tool","tool_call_id":"c","content":"{\"a\":{\"$ref\":\"x\"}}"}]}`,
			want: `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"old","args":{}}}]},{"role":"user","parts":[{"functionResponse":{"name":"old","response":{"content":"1"}}}]},` +
				`{"role":"model","parts":[{"text":"again"},{"functionCall":{"name":"new","args":{}}},{"text":"no calls"}]},` +
				`{"role":"user","parts":[{"functionResponse":{"name":"new","response":{"content":"{\"a\":{\"$ref\":\"x\"}}"}}}]}]}`,
		},
		{
			name: "images: https URLs of known types, gs:// and Files API URIs by reference, a data URL inline, a given format",
			in: `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image_url","image_url":{"url":"https://example.com/Cat.JPG"}},` +
				`{"type":"image_url","image_url":{"url":"https://example.com/img?id=1","format":"image/webp"}},{"type":"image_url","image_url":{"url":"https://example.com/a.png?sig=x"}},` +
				`{"type":"image_url","image_url":"data:image/png;base64,iVBO"},{"type":"image_url","image_url":{"url":"gs://bucket/clip.MOV","video_metadata":{"fps":2,"start_offset":"1s"}}},` +
				`{"type":"file","file":{"file_id":"https://generativelanguage.googleapis.com/v1beta/files/abc"}}]}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"What?"},{"fileData":{"mimeType":"image/jpeg","fileUri":"https://example.com/Cat.JPG"}},` +
				`{"fileData":{"mimeType":"image/webp","fileUri":"https://example.com/img?id=1"}},{"fileData":{"mimeType":"image/png","fileUri":"https://example.com/a.png?sig=x"}},` +
				`{"inlineData":{"mimeType":"image/png","data":"iVBO"}},{"fileData":{"mimeType":"video/quicktime","fileUri":"gs://bucket/clip.MOV"},"videoMetadata":{"fps":2,"startOffset":"1s"}},` +
				`{"fileData":{"fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc"}}]}]}`,
		},
		{
			name: "audio inline; files by id or data; a turn without text gets a blank one",
			in: `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}},` +
				`{"type":"input_audio","input_audio":{"data":"x"}},{"type":"file","file":{"file_id":"gs://b/doc.pdf"}},` +
				`{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE"}}]}]}`,
			want: `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"audio/wav","data":"UklG"}},{"fileData":{"mimeType":"application/pdf","fileUri":"gs://b/doc.pdf"}},` +
				`{"inlineData":{"mimeType":"application/pdf","data":"JVBE"}},{"text":" "}]}]}`,
		},
		{
			name: "Gemini 3: an image's detail is its media resolution",
			in:   `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO","detail":"low"}},{"type":"text","text":"?"}]}]}`, model: "gemini-3-pro-preview",
			want: `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"iVBO"},"mediaResolution":{"level":"MEDIA_RESOLUTION_LOW"}},{"text":"?"}]}]}`,
		},
		{
			name: "Gemini 2: the highest detail is the request's media resolution",
			in: `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO","detail":"low"}},` +
				`{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO","detail":"high"}}]}]}`,
			want: `{"contents":[{"role":"user","parts":[{"inlineData":{"mimeType":"image/png","data":"iVBO"}},{"inlineData":{"mimeType":"image/png","data":"iVBO"}},{"text":" "}]}],` +
				`"generationConfig":{"mediaResolution":"MEDIA_RESOLUTION_HIGH"}}`,
		},
		{
			name: "an assistant's media and empty text are sent",
			in:   `{"model":"m","messages":[{"role":"assistant","content":[{"type":"text","text":""},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBO"}}]}]}`,
			want: `{"contents":[{"role":"model","parts":[{"text":""},{"inlineData":{"mimeType":"image/png","data":"iVBO"}}]}]}`,
		},
		{
			name: "a system prompt alone gets a user turn",
			in:   `{"model":"m","messages":[{"role":"system","content":"Say hi."}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"."}]}],"systemInstruction":{"parts":[{"text":"Say hi."}]}}`,
		},
		{
			name: "empty user text is text",
			in:   `{"model":"m","messages":[{"role":"user","content":""}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":""}]}]}`,
		},
		{
			name: "an empty conversation gets a blank user turn",
			in:   `{"model":"m","messages":[{"role":"user","content":[]}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":" "}]}]}`,
		},
		{
			name: "tools: declarations in OpenAPI's subset; a named tool choice",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","strict":true,` +
				`"parameters":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","title":"Args","additionalProperties":false,` +
				`"properties":{"city":{"type":"string","description":"The city","format":"uri","minLength":1},"days":{"type":"integer","const":3},"tags":{"type":"array","items":{}}},"required":["city"]}}},` +
				`{"type":"function","function":{"name":"now"}},{"type":"function","function":{"name":"empty","parameters":""}}],` +
				`"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather now",` +
				`"parameters":{"type":"object","title":"Args","properties":{"city":{"type":"string","description":"The city","minLength":1},"days":{"type":"integer"},` +
				`"tags":{"type":"array","items":{"type":"object"}}},"required":["city"]}},{"name":"now"},{"name":"empty","parameters":{"type":"object"}}]}],` +
				`"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}}`,
		},
		{
			name: "schemas: $defs unpacked, anyOf null as nullable, type lists as anyOf, empty enum values null, enums on strings only",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",` +
				`"$defs":{"Pet":{"type":"object","properties":{"name":{"type":"string"},"kind":{"$ref":"#/$defs/Kind"}}},"Kind":{"type":"string","enum":["cat","dog"]}},` +
				`"properties":{"pet":{"$ref":"#/$defs/Pet"},"pets":{"type":"array","items":{"$ref":"#/$defs/Pet"}},` +
				`"owner":{"anyOf":[{"type":"string"},{"type":"null"}],"description":"Who"},"age":{"type":["integer","null"]},"size":{"type":["string"],"enum":["s",""]},` +
				`"level":{"type":"integer","enum":[1,2]},"tags":{"type":"array"},"meta":{"type":["object","null"],"properties":{"k":{"type":"string"}}},"note":{"description":"free"},` +
				`"missing":{"$ref":"#/$defs/Nope"},"opts":{"type":"object","properties":{}}}}}}],` +
				`"tool_choice":"required"}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{` +
				`"pet":{"type":"object","properties":{"name":{"type":"string"},"kind":{"type":"string","enum":["cat","dog"]}}},` +
				`"pets":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"kind":{"type":"string","enum":["cat","dog"]}}}},` +
				`"owner":{"anyOf":[{"type":"string","nullable":true,"description":"Who"}]},"age":{"anyOf":[{"type":"integer","nullable":true}]},` +
				`"size":{"type":"string","enum":["s",null]},"level":{"type":"integer"},"tags":{"type":"array","items":{"type":"object"}},` +
				`"meta":{"anyOf":[{"type":"object","properties":{"k":{"type":"string"}},"nullable":true}]},"note":{"description":"free","type":"object"},` +
				`"missing":{"type":"object"},"opts":{"type":"object"}}}}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}`,
		},
		{
			name: "Gemini 3: integer enums, as strings; a $ref inside itself stays unexpanded", model: "gemini-3-pro-preview",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{` +
				`"$defs":{"N":{"type":"object","properties":{"next":{"$ref":"#/$defs/N"}}}},"properties":{"level":{"type":"integer","enum":[1,"2"]},"n":{"$ref":"#/$defs/N"}}}}}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","properties":{` +
				`"level":{"type":"integer","enum":["1","2"]},"n":{"type":"object","properties":{"next":{"type":"object"}}}}}}]}]}`,
		},
		{
			name: "tool_choice none and auto; an unknown one is dropped",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"none"}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`,
		},
		{
			name: "tool_choice auto",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto"}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"AUTO"}}}`,
		},
		{
			name: "an unknown tool_choice is dropped",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"sometimes"}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}]}`,
		},
		{
			name: "Google's own tools; web search beside functions is dropped",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}},{"googleSearch":{}},{"code_execution":{}},` +
				`{"type":"web_search"}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f"}]},{"codeExecution":{}}]}`,
		},
		{
			name: "searches alone stay; computer use in Gemini's terms",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"google_search":{}},{"url_context":{}},` +
				`{"type":"computer_use","environment":"browser","excluded_predefined_functions":["drag_and_drop"],"display_width":1}]}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"googleSearch":{}},{"urlContext":{}},` +
				`{"computerUse":{"environment":"ENVIRONMENT_BROWSER","excludedPredefinedFunctions":["drag_and_drop"]}}]}`,
		},
		{
			name: "web_search_options is Google Search",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"web_search_options":{}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"googleSearch":{}}]}`,
		},
		{
			name: "a json_object response format is a JSON MIME type",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json"}}`,
		},
		{
			name: "a JSON schema for Gemini 2 on is responseJsonSchema, less strict",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"p","strict":true,` +
				`"schema":{"type":"object","properties":{"name":{"type":"string"},"strict":{"type":"boolean"}},"required":["name"],"additionalProperties":false,"strict":true}}}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",` +
				`"responseJsonSchema":{"type":"object","properties":{"name":{"type":"string"},"strict":{"type":"boolean"}},"required":["name"],"additionalProperties":false}}}`,
		},
		{
			name: "a JSON schema before Gemini 2 is responseSchema, its properties in order",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"name":"p",` +
				`"schema":{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"object","properties":{"b":{"type":"number"},"a":{"type":"number"}}}},"additionalProperties":false}}}}`,
			model: "gemini-1.5-pro",
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"responseMimeType":"application/json",` +
				`"responseSchema":{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"object","properties":{"b":{"type":"number"},"a":{"type":"number"}},"propertyOrdering":["b","a"]}},"propertyOrdering":["zeta","alpha"]}}}`,
		},
		{
			name: "reasoning_effort is a thinking budget before Gemini 3",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"medium"}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":2048,"includeThoughts":true}}}`,
		},
		{
			name: "reasoning_effort minimal is the model's least budget",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"minimal"}`, model: "gemini-2.5-flash-lite",
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":512,"includeThoughts":true}}}`,
		},
		{
			name: "reasoning_effort none turns thinking off",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":{"effort":"none","summary":"auto"}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":0,"includeThoughts":false}}}`,
		},
		{
			name: "Gemini 3: reasoning_effort is a thinking level",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"medium"}`, model: "gemini-3-pro-preview",
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingLevel":"medium","includeThoughts":true}}}`,
		},
		{
			name: "Gemini 3: minimal is low but on Flash",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"minimal"}`, model: "gemini-3-pro-preview",
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingLevel":"low","includeThoughts":true}}}`,
		},
		{
			name: "Gemini 3 Flash: minimal is its own level; none its least, without thoughts",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"none"}`, model: "gemini-3-flash-preview",
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingLevel":"minimal","includeThoughts":false}}}`,
		},
		{
			name: "Gemini 3: Anthropic's thinking includes thoughts, without a budget",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":3000}}`, model: "gemini-3-pro-preview",
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"includeThoughts":true}}}`,
		},
		{
			name: "Anthropic's thinking parameter: its budget, thoughts included",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":3000}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":3000,"includeThoughts":true}}}`,
		},
		{
			name: "modalities; LiteLLM's safety_settings, cached_content and Vertex AI's labels",
			in: `{"model":"m","messages":[{"role":"user","content":"x"}],"modalities":["text","image"],"safety_settings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],` +
				`"cached_content":"cachedContents/1","labels":{"team":"a"}}`,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],` +
				`"generationConfig":{"responseModalities":["TEXT","IMAGE"]},"cachedContent":"cachedContents/1","labels":{"team":"a"}}`,
		},
		{
			name: "the Gemini API takes no labels",
			in:   `{"model":"m","messages":[{"role":"user","content":"x"}],"labels":{"team":"a"}}`, target: GeminiDeveloper,
			want: `{"contents":[{"role":"user","parts":[{"text":"x"}]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = "gemini-2.5-flash"
			}
			got, err := OpenAIChatToGemini([]byte(tt.in), model, tt.target)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestGeminiPropertyOrder: a response schema's propertyOrdering is its
// properties' order as sent, not sorted.
func TestGeminiPropertyOrder(t *testing.T) {
	in := `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"properties":{"z":{"type":"string"},"a":{"type":"string"},"m":{"type":"string"}}}}}}`
	got, err := OpenAIChatToGemini([]byte(in), "gemini-1.5-flash", GeminiVertex)
	if err != nil {
		t.Fatal(err)
	}
	if order := gjson.GetBytes(got, "generationConfig.responseSchema.propertyOrdering").Raw; order != `["z","a","m"]` {
		t.Errorf("propertyOrdering %s; want [\"z\",\"a\",\"m\"] (%s)", order, got)
	}
	if props := gjson.GetBytes(got, "generationConfig.responseSchema.properties").Raw; !strings.HasPrefix(props, `{"z"`) {
		t.Errorf("properties reordered: %s", props)
	}
}

func TestFromOpenAIChatToGeminiRefuses(t *testing.T) {
	for _, tt := range []struct{ in, why string }{
		{`{"model":"m","messages":[]}`, "non-empty list"},
		{`{"model":"m"}`, "non-empty list"},
		{`not json`, "JSON"},
		{`{"model":"m","messages":[{"role":"wizard","content":"x"}]}`, `role "wizard"`},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{not json"}}]}]}`, "not a JSON object"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"[1]"}}]}]}`, "not a JSON object"},
		{`{"model":"m","messages":[{"role":"tool","tool_call_id":"nope","content":"r"}]}`, "answers no tool call"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/image"}}]}]}`, "fetches nothing"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://example.com/a.png"}}]}]}`, "fetches nothing"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`, "gs://, https or data URL"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`, "no image_url"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"detail":"low"}}]}]}`, "no url"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file"}]}]}`, "has no file"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"gs://b/noext"}}]}]}`, "file.format"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,raw"}}]}]}`, "base64"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{}}]}]}`, "file_id or file_data"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"gs://b/x.bin"}}]}]}`, "file.format"},
		{`{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"xhigh"}`, `reasoning_effort "xhigh"`},
		{schemaBomb(), "more than 1 MiB"},
	} {
		if got, err := OpenAIChatToGemini([]byte(tt.in), "gemini-2.5-flash", GeminiVertex); err == nil || !strings.Contains(err.Error(), tt.why) {
			t.Errorf("OpenAIChatToGemini(%s) = %s, %v; want an error saying %q", tt.in, got, err, tt.why)
		}
	}
}

// schemaBomb is a request whose tool schema's $refs unpack to gigabytes:
// each definition refers to the next ten times.
func schemaBomb() string {
	defs := `"D9":{"type":"string"}`
	for i := 8; i >= 0; i-- {
		props := ""
		for j := range 10 {
			if j > 0 {
				props += ","
			}
			props += fmt.Sprintf(`"p%d":{"$ref":"#/$defs/D%d"}`, j, i+1)
		}
		defs += fmt.Sprintf(`,"D%d":{"type":"object","properties":{%s}}`, i, props)
	}
	return `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"$defs":{` + defs +
		`},"properties":{"root":{"$ref":"#/$defs/D0"}}}}}]}`
}

func TestIsGemini3(t *testing.T) {
	for model, want := range map[string]bool{
		"gemini-3-pro-preview": true, "gemini-3-flash-preview": true, "gemini-3.5-flash": true, "gemini-4-hydrogen": true,
		"gemini-pro-latest": true, "gemini-flash-lite-latest": true, "gemini-2.5-flash": false, "gemini-2.0-flash-001": false,
		"gemini-1.5-pro": false, "gemini-pro": false, "gemini-flash": false, "gemini-exp-1206": false, "gemma-3-27b-it": false,
		"1234567890": false, "": false, "Gemini-2.5-Pro": false,
	} {
		if got := isGemini3(model); got != want {
			t.Errorf("isGemini3(%q) = %v; want %v", model, got, want)
		}
	}
}

// geminiProviders are Vertex AI (project p, location us-east5) and the
// Gemini API.
func geminiProviders(t *testing.T) (vertex, claude, studio *upstream.Provider) {
	t.Helper()
	ps, err := upstream.NewProviders(upstream.Env{
		VertexEnv: upstream.VertexEnv{VertexProject: "p", VertexLocation: "us-east5"},
		GeminiEnv: upstream.GeminiEnv{GeminiAPIBase: "https://generativelanguage.googleapis.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	vertex, _, _ = ps.RouteNamed(upstream.VertexAI, "")
	claude, _, _ = ps.RouteNamed(upstream.VertexAIAnthropic, "")
	studio = ps.Home(upstream.Gemini)
	if vertex == nil || claude == nil || studio == nil {
		t.Fatal("providers missing")
	}
	return vertex, claude, studio
}

func TestGeminiRequestPath(t *testing.T) {
	vertex, _, studio := geminiProviders(t)
	noProject := &upstream.Provider{}
	*noProject = *vertex
	noProject.VertexProject = ""
	const body = `{"model":"m","messages":[{"role":"user","content":"Hi"}]}`
	const streamed = `{"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]}`
	tests := []struct {
		name      string
		p         *upstream.Provider
		model, in string
		want, err string
	}{
		{"Vertex AI", vertex, "gemini-2.5-flash", body, "/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent", ""},
		{"Vertex AI, streamed", vertex, "gemini-2.5-flash", streamed, "/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse", ""},
		{"the Gemini API", studio, "gemini-2.5-flash", body, "/v1beta/models/gemini-2.5-flash:generateContent", ""},
		{"the Gemini API, streamed", studio, "gemini-2.5-flash", streamed, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", ""},
		{"no project", noProject, "gemini-2.5-flash", body, "", "VERTEXAI_PROJECT"},
		{"a model that leaves its segment", vertex, "../x", body, "", "Vertex AI model name"},
		{"the Gemini API: a model that leaves its segment", studio, "a/b", body, "", "Gemini model name"},
		{"an untranslatable request", vertex, "gemini-2.5-flash", `{"messages":[]}`, "", "non-empty"},
	}
	for _, tt := range tests {
		up, path, err := OpenAIChatGemini.Request([]byte(tt.in), tt.model, tt.p)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v; want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || path != tt.want || !json.Valid(up) || gjson.GetBytes(up, "contents.0.parts.0.text").Str != "Hi" {
			t.Errorf("%s: %q, %s, %v; want %q", tt.name, path, up, err, tt.want)
		}
	}
}

// TestVertexClaudeRequest: Claude on Vertex AI gets the Messages request
// at :rawPredict (:streamRawPredict), without its model and with Vertex
// AI's anthropic_version; Anthropic's API keeps /messages and the model.
func TestVertexClaudeRequest(t *testing.T) {
	_, claude, _ := geminiProviders(t)
	for _, tt := range []struct {
		name, in, path string
		p              *upstream.Provider
	}{
		{"rawPredict", `{"model":"m","messages":[{"role":"user","content":"Hi"}]}`,
			"/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", claude},
		{"streamRawPredict", `{"model":"m","stream":true,"messages":[{"role":"user","content":"Hi"}]}`,
			"/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict", claude},
		{"Anthropic's API", `{"model":"m","messages":[{"role":"user","content":"Hi"}]}`, "/messages", nil},
	} {
		tr := OpenAIChatAnthropic
		if tt.p != nil {
			tr = OpenAIChatVertexAnthropic
		}
		up, path, err := tr.Request([]byte(tt.in), "claude-sonnet-4-5@20250929", tt.p)
		if err != nil || path != tt.path {
			t.Errorf("%s: path %q, %v; want %q", tt.name, path, err, tt.path)
			continue
		}
		req := gjson.ParseBytes(up)
		vertex := tt.p != nil
		if req.Get("model").Exists() == vertex || (req.Get("anthropic_version").Str == VertexAnthropicVersion) != vertex ||
			req.Get("messages.0.content.0.text").Str != "Hi" || req.Get("max_tokens").Int() != AnthropicDefaultMaxTokens ||
			req.Get("stream").Bool() != strings.Contains(tt.in, `"stream"`) {
			t.Errorf("%s: body %s", tt.name, up)
		}
	}
	if _, _, err := OpenAIChatVertexAnthropic.Request([]byte(`{"model":"m","messages":[{"role":"user","content":"Hi"}]}`), "../x", claude); err == nil {
		t.Error("a Claude model that leaves its path segment was sent")
	}
}

func FuzzFromOpenAIChatToGemini(f *testing.F) {
	f.Add([]byte(`{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AA"}}]},` +
		`{"role":"assistant","content":"","tool_calls":[{"id":"c__thought__s","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c__thought__s","content":"{\"a\":1}"}],` +
		`"tools":[{"type":"function","function":{"name":"f","parameters":{"$defs":{"A":{"type":"string"}},"properties":{"a":{"$ref":"#/$defs/A"},"b":{"anyOf":[{"type":"string"},{"type":"null"}]}}}}}],` +
		`"stop":["a",""],"reasoning_effort":"high","response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}},"tool_choice":"required"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, model := range []string{"gemini-2.5-flash", "gemini-1.5-pro", "gemini-3-pro-preview"} {
			out, err := OpenAIChatToGemini(in, model, GeminiVertex)
			if err != nil {
				return
			}
			var req struct {
				Contents []struct {
					Role  string            `json:"role"`
					Parts []json.RawMessage `json:"parts"`
				} `json:"contents"`
			}
			if err := json.Unmarshal(out, &req); err != nil || len(req.Contents) == 0 {
				t.Fatalf("OpenAIChatToGemini(%q) = %s: not a generateContent request (%v)", in, out, err)
			}
			for _, c := range req.Contents {
				if (c.Role != "user" && c.Role != "model") || len(c.Parts) == 0 {
					t.Fatalf("a turn Gemini refuses (role %q, %d parts): %s", c.Role, len(c.Parts), out)
				}
			}
		}
	})
}
