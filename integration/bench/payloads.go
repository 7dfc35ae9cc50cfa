package main

import "bytes"

// chatRequest is a realistic chat call: a system prompt, a question, a
// tool call and its result, a follow-up, and one tool, so the proxy
// extracts every kind of message attribute ("full message attributes").
// spans/bench_test.go measures the same request.
var chatRequest = []byte(`{"model":"gpt-4o-mini","messages":[` +
	`{"role":"system","content":"You are a helpful assistant that answers questions about the weather. Use the tools when you need current data."},` +
	`{"role":"user","content":"What is the weather like in Boston today?"},` +
	`{"role":"assistant","content":null,"tool_calls":[{"id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","type":"function","function":{"name":"get_current_weather","arguments":"{\"location\":\"Boston, MA\",\"unit\":\"fahrenheit\"}"}}]},` +
	`{"role":"tool","tool_call_id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","content":"{\"temperature\":72,\"unit\":\"fahrenheit\",\"description\":\"Sunny with a light breeze\"}"},` +
	`{"role":"user","content":"Should I take an umbrella this afternoon?"}],` +
	`"tools":[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location",` +
	`"parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},` +
	`"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}}],` +
	`"tool_choice":"auto","temperature":0.2,"max_tokens":256,"user":"bench-user"}`)

// streamRequest is chatRequest with "stream":true; streamUsageRequest also
// asks for include_usage, so the proxy has nothing to add or strip.
var (
	streamRequest      = withMembers(chatRequest, `"stream":true`)
	streamUsageRequest = withMembers(chatRequest, `"stream":true,"stream_options":{"include_usage":true}`)
	// anthropicStreamRequest is streamRequest for an Anthropic model, which
	// the proxy translates to the Messages API.
	anthropicStreamRequest = bytes.Replace(streamRequest, []byte(`"model":"gpt-4o-mini"`), []byte(`"model":"anthropic/claude-sonnet-4-5"`), 1)
	// vertexStreamRequest is streamRequest for a Gemini model on Vertex
	// AI, which the proxy translates to generateContent.
	vertexStreamRequest = bytes.Replace(streamRequest, []byte(`"model":"gpt-4o-mini"`), []byte(`"model":"vertex_ai/gemini-2.5-flash"`), 1)
	// bedrockStreamRequest is streamRequest for a Bedrock model, which the
	// proxy translates to ConverseStream.
	bedrockStreamRequest = bytes.Replace(streamRequest, []byte(`"model":"gpt-4o-mini"`), []byte(`"model":"bedrock/us.amazon.nova-micro-v1:0"`), 1)
)

// converseStreamRequest is the same conversation as a native Bedrock
// ConverseStream call: system, messages with a tool use and its result,
// one tool.
var converseStreamRequest = []byte(`{"system":[{"text":"You are a helpful assistant that answers questions about the weather. Use the tools when you need current data."}],` +
	`"messages":[{"role":"user","content":[{"text":"What is the weather like in Boston today?"}]},` +
	`{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_8ZfZ2Jd3kQyN1Lw0mXo4","name":"get_current_weather","input":{"location":"Boston, MA","unit":"fahrenheit"}}}]},` +
	`{"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_8ZfZ2Jd3kQyN1Lw0mXo4","content":[{"json":{"temperature":72,"unit":"fahrenheit","description":"Sunny with a light breeze"}}]}},` +
	`{"text":"Should I take an umbrella this afternoon?"}]}],` +
	`"toolConfig":{"tools":[{"toolSpec":{"name":"get_current_weather","description":"Get the current weather in a given location",` +
	`"inputSchema":{"json":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},` +
	`"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}}}]},` +
	`"inferenceConfig":{"temperature":0.2,"maxTokens":256}}`)

// converseStreamPath is where converseStreamRequest goes: the proxy's
// /bedrock route (LiteLLM's pass-through prefix), which the upstream
// also answers for the direct and floor targets.
const converseStreamPath = "/bedrock/model/us.amazon.nova-micro-v1%3A0/converse-stream"

// geminiStreamRequest is the same conversation as a native Gemini API
// call (:streamGenerateContent?alt=sse): system instruction, contents with
// a function call and its response, one function declaration.
var geminiStreamRequest = []byte(`{"systemInstruction":{"parts":[{"text":"You are a helpful assistant that answers questions about the weather. Use the tools when you need current data."}]},` +
	`"contents":[{"role":"user","parts":[{"text":"What is the weather like in Boston today?"}]},` +
	`{"role":"model","parts":[{"functionCall":{"name":"get_current_weather","args":{"location":"Boston, MA","unit":"fahrenheit"}}}]},` +
	`{"role":"user","parts":[{"functionResponse":{"name":"get_current_weather","response":{"temperature":72,"unit":"fahrenheit","description":"Sunny with a light breeze"}}}]},` +
	`{"role":"user","parts":[{"text":"Should I take an umbrella this afternoon?"}]}],` +
	`"tools":[{"functionDeclarations":[{"name":"get_current_weather","description":"Get the current weather in a given location",` +
	`"parameters":{"type":"OBJECT","properties":{"location":{"type":"STRING","description":"The city and state, e.g. San Francisco, CA"},` +
	`"unit":{"type":"STRING","enum":["celsius","fahrenheit"]}},"required":["location"]}}]}],` +
	`"generationConfig":{"temperature":0.2,"maxOutputTokens":256}}`)

// geminiStreamPath is where geminiStreamRequest goes.
const geminiStreamPath = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"

// responsesStreamRequest is the same conversation as a streamed Responses
// API call: instructions, the input items (messages, a function call and
// its output) and one tool.
var responsesStreamRequest = []byte(`{"model":"gpt-4o-mini","stream":true,` +
	`"instructions":"You are a helpful assistant that answers questions about the weather. Use the tools when you need current data.",` +
	`"input":[{"role":"user","content":"What is the weather like in Boston today?"},` +
	`{"type":"function_call","call_id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","name":"get_current_weather","arguments":"{\"location\":\"Boston, MA\",\"unit\":\"fahrenheit\"}"},` +
	`{"type":"function_call_output","call_id":"call_8ZfZ2Jd3kQyN1Lw0mXo4","output":"{\"temperature\":72,\"unit\":\"fahrenheit\",\"description\":\"Sunny with a light breeze\"}"},` +
	`{"role":"user","content":[{"type":"input_text","text":"Should I take an umbrella this afternoon?"}]}],` +
	`"tools":[{"type":"function","name":"get_current_weather","description":"Get the current weather in a given location",` +
	`"parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},` +
	`"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]},"strict":false}],` +
	`"temperature":0.2,"max_output_tokens":256,"user":"bench-user"}`)

func withMembers(obj []byte, members string) []byte {
	out := append([]byte(nil), obj[:len(obj)-1]...)
	out = append(out, ',')
	out = append(out, members...)
	return append(out, '}')
}

// chatResponse is the upstream's fixed answer.
var chatResponse = []byte(`{"id":"chatcmpl-BENCH0000000000000000000001","object":"chat.completion","created":1755137933,"model":"gpt-4o-mini-2024-07-18",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"No umbrella needed: it is sunny in Boston with a light breeze and 72°F, and no rain is expected this afternoon. A light jacket may be handy in the evening.","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],` +
	`"usage":` + usageJSON + `,"service_tier":"default","system_fingerprint":"fp_560af6e559"}`)
