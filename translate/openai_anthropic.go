package translate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// AnthropicDefaultMaxTokens is the max_tokens sent when an OpenAI-format request
// gives neither max_tokens nor max_completion_tokens: Anthropic requires
// one, and LiteLLM sends this.
const AnthropicDefaultMaxTokens = 4096

// thinkingBudgets are the thinking budgets LiteLLM gives OpenAI's
// reasoning_effort levels.
var thinkingBudgets = map[string]int{"minimal": 128, "low": 1024, "medium": 2048, "high": 4096, "xhigh": 8192, "max": 16384}

// block is one content block of a Messages API message, as sent.
type block map[string]any

// message is one Messages API message.
type message struct {
	Role    string  `json:"role"`
	Content []block `json:"content"`
}

// request is a Messages API request, in the order Anthropic documents it.
// Claude on Vertex AI takes no model (its path names it) and an
// anthropic_version instead.
type request struct {
	Model            string            `json:"model,omitempty"`
	AnthropicVersion string            `json:"anthropic_version,omitempty"`
	Messages         []message         `json:"messages"`
	System           []block           `json:"system,omitempty"`
	MaxTokens        int64             `json:"max_tokens"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	StopSequences    []string          `json:"stop_sequences,omitempty"`
	Stream           bool              `json:"stream,omitempty"`
	Temperature      json.RawMessage   `json:"temperature,omitempty"`
	TopP             json.RawMessage   `json:"top_p,omitempty"`
	TopK             json.RawMessage   `json:"top_k,omitempty"`
	Thinking         json.RawMessage   `json:"thinking,omitempty"`
	Tools            []block           `json:"tools,omitempty"`
	ToolChoice       block             `json:"tool_choice,omitempty"`
}

// OpenAIChatToAnthropic translates an OpenAI chat completions request into a
// Messages API request for model, as LiteLLM does for "anthropic/…"
// models. It reports an error for a request it cannot translate (no
// messages, a malformed message); the caller answers 400.
func OpenAIChatToAnthropic(body []byte, model string) ([]byte, error) {
	out, err := openAIChatToAnthropic(body, model)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// openAIChatToAnthropic is OpenAIChatToAnthropic's request, to be edited
// before it is sent (Vertex AI's).
func openAIChatToAnthropic(body []byte, model string) (*request, error) {
	if err := jsonbound.Check(body); err != nil {
		return nil, err
	}
	req := gjson.ParseBytes(body)
	out := &request{Model: model, Stream: req.Get("stream").Bool(), MaxTokens: AnthropicDefaultMaxTokens}
	maxGiven := true
	if v := req.Get("max_completion_tokens"); v.Type == gjson.Number {
		out.MaxTokens = v.Int()
	} else if v := req.Get("max_tokens"); v.Type == gjson.Number {
		out.MaxTokens = v.Int()
	} else {
		maxGiven = false
	}
	msgs := req.Get("messages")
	if !msgs.IsArray() || len(msgs.Array()) == 0 {
		return nil, fmt.Errorf("'messages' must be a non-empty list")
	}
	var err error
	msgs.ForEach(func(_, m gjson.Result) bool {
		err = out.addMessage(m)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if len(out.Messages) == 0 {
		return nil, fmt.Errorf("the request has no user or assistant message; Anthropic needs one")
	}
	for _, k := range []struct {
		name string
		dst  *json.RawMessage
	}{{"temperature", &out.Temperature}, {"top_p", &out.TopP}, {"top_k", &out.TopK}, {"thinking", &out.Thinking}} {
		if v := req.Get(k.name); v.Exists() && v.Type != gjson.Null {
			*k.dst = json.RawMessage(v.Raw)
		}
	}
	if effort := req.Get("reasoning_effort").Str; effort != "" && out.Thinking == nil {
		if budget, ok := thinkingBudgets[effort]; ok {
			out.Thinking = json.RawMessage(fmt.Sprintf(`{"type":"enabled","budget_tokens":%d}`, budget))
		}
	}
	if budget := gjson.GetBytes(out.Thinking, "budget_tokens"); budget.Type == gjson.Number && !maxGiven {
		// The answer must have room beyond the thinking, as LiteLLM makes it.
		out.MaxTokens = budget.Int() + AnthropicDefaultMaxTokens
	}
	switch stop := req.Get("stop"); {
	case stop.Type == gjson.String && stop.Str != "":
		out.StopSequences = []string{stop.Str}
	case stop.IsArray():
		stop.ForEach(func(_, s gjson.Result) bool {
			if s.Type == gjson.String && s.Str != "" {
				out.StopSequences = append(out.StopSequences, s.Str)
			}
			return true
		})
	}
	if user := req.Get("user"); user.Type == gjson.String && user.Str != "" {
		out.Metadata = map[string]string{"user_id": user.Str}
	}
	req.Get("tools").ForEach(func(_, t gjson.Result) bool {
		fn := t.Get("function")
		if t.Get("type").Str != "function" || !fn.IsObject() {
			return true
		}
		tool := block{"name": fn.Get("name").Str}
		if d := fn.Get("description"); d.Type == gjson.String {
			tool["description"] = d.Str
		}
		schema := json.RawMessage(`{"type":"object","properties":{}}`)
		if p := fn.Get("parameters"); p.IsObject() {
			schema = json.RawMessage(p.Raw)
		}
		tool["input_schema"] = schema
		out.Tools = append(out.Tools, tool)
		return true
	})
	out.ToolChoice = toolChoice(req.Get("tool_choice"), req.Get("parallel_tool_calls"))
	if rf := req.Get("response_format"); rf.IsObject() {
		out.addResponseFormat(rf)
	}
	return out, nil
}

// toolChoice maps OpenAI's tool_choice: auto, required (any), none, or one
// named function; parallel_tool_calls false disables parallel tool use.
func toolChoice(choice, parallel gjson.Result) block {
	var tc block
	switch {
	case choice.Str == "auto":
		tc = block{"type": "auto"}
	case choice.Str == "required":
		tc = block{"type": "any"}
	case choice.Str == "none":
		tc = block{"type": "none"}
	case choice.IsObject() && choice.Get("function.name").Str != "":
		tc = block{"type": "tool", "name": choice.Get("function.name").Str}
	}
	if parallel.Type == gjson.False {
		if tc == nil {
			tc = block{"type": "auto"}
		}
		tc["disable_parallel_tool_use"] = true
	}
	return tc
}

// ResponseFormatTool is the tool a JSON response_format becomes: the model
// is made to call it, and its input is the answer (LiteLLM's
// RESPONSE_FORMAT_TOOL_NAME).
const ResponseFormatTool = "json_tool_call"

// addResponseFormat asks for JSON output as LiteLLM does: a tool whose
// input schema is the requested one, which the model must call. A
// json_object format, which has no schema, sends nothing (as LiteLLM now
// does).
func (out *request) addResponseFormat(rf gjson.Result) {
	s := rf.Get("json_schema.schema")
	if rf.Get("type").Str != "json_schema" || !s.IsObject() {
		return
	}
	schema := json.RawMessage(s.Raw)
	out.Tools = append(out.Tools, block{"name": ResponseFormatTool, "input_schema": schema})
	out.ToolChoice = block{"type": "tool", "name": ResponseFormatTool}
}

// addMessage appends one OpenAI message: system and developer messages to
// the system prompt, tool results to a user message, and each message to
// the previous one when both have the same role (Anthropic wants the roles
// to alternate).
func (out *request) addMessage(m gjson.Result) error {
	role := m.Get("role").Str
	content := m.Get("content")
	switch role {
	case "system", "developer":
		out.System = append(out.System, textBlocks(content)...)
		return nil
	case "user":
		blocks, err := userBlocks(content)
		if err != nil {
			return err
		}
		out.append("user", blocks)
	case "assistant":
		blocks := textBlocks(content)
		var err error
		m.Get("tool_calls").ForEach(func(_, call gjson.Result) bool {
			var input json.RawMessage
			input, err = toolInput(call.Get("function.arguments").Str)
			blocks = append(blocks, block{"type": "tool_use", "id": call.Get("id").Str,
				"name": call.Get("function.name").Str, "input": input})
			return err == nil
		})
		if err != nil {
			return err
		}
		if fc := m.Get("function_call"); fc.IsObject() {
			input, err := toolInput(fc.Get("arguments").Str)
			if err != nil {
				return err
			}
			blocks = append(blocks, block{"type": "tool_use", "id": "call_" + fc.Get("name").Str, "name": fc.Get("name").Str, "input": input})
		}
		out.append("assistant", blocks)
	case "tool", "function":
		id := m.Get("tool_call_id").Str
		if role == "function" {
			id = "call_" + m.Get("name").Str
		}
		result := block{"type": "tool_result", "tool_use_id": id}
		if content.Type == gjson.String {
			result["content"] = content.Str
		} else if content.IsArray() {
			result["content"] = textBlocks(content)
		}
		out.append("user", []block{result})
	default:
		return fmt.Errorf("message role %q is not one Anthropic can be sent", role)
	}
	return nil
}

// append adds blocks as a message of role, merged into the last message
// when it has the same role. An empty message is left out.
func (out *request) append(role string, blocks []block) {
	if len(blocks) == 0 {
		return
	}
	if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
		out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
		return
	}
	out.Messages = append(out.Messages, message{Role: role, Content: blocks})
}

// toolInput is a tool call's arguments as the JSON object Anthropic wants.
func toolInput(arguments string) (json.RawMessage, error) {
	if strings.TrimSpace(arguments) == "" {
		return json.RawMessage("{}"), nil
	}
	if !gjson.Valid(arguments) || !gjson.Parse(arguments).IsObject() {
		return nil, fmt.Errorf("tool call arguments are not a JSON object: %.100q", arguments)
	}
	return json.RawMessage(arguments), nil
}

// textBlocks is a string or a list of text parts as text blocks; empty
// text is left out (Anthropic refuses empty text blocks).
func textBlocks(content gjson.Result) []block {
	var out []block
	switch {
	case content.Type == gjson.String && content.Str != "":
		out = append(out, block{"type": "text", "text": content.Str})
	case content.IsArray():
		content.ForEach(func(_, part gjson.Result) bool {
			if t := part.Get("text"); part.Get("type").Str == "text" && t.Str != "" {
				b := block{"type": "text", "text": t.Str}
				if cc := part.Get("cache_control"); cc.IsObject() {
					b["cache_control"] = json.RawMessage(cc.Raw)
				}
				out = append(out, b)
			}
			return true
		})
	}
	return out
}

// userBlocks is a user message's content: text, and images from URLs or
// data URLs.
func userBlocks(content gjson.Result) ([]block, error) {
	if !content.IsArray() {
		return textBlocks(content), nil
	}
	var out []block
	var err error
	content.ForEach(func(_, part gjson.Result) bool {
		switch part.Get("type").Str {
		case "text":
			out = append(out, textBlocks(gjson.Parse("["+part.Raw+"]"))...)
		case "image_url":
			url := part.Get("image_url.url").Str
			if url == "" {
				url = part.Get("image_url").Str
			}
			var b block
			b, err = imageBlock(url)
			out = append(out, b)
		}
		return err == nil
	})
	return out, err
}

// imageBlock is an image from an http(s) URL or a base64 data URL.
func imageBlock(url string) (block, error) {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		mediaType, data, ok := strings.Cut(rest, ";base64,")
		if !ok {
			return nil, fmt.Errorf("image data URL is not base64")
		}
		return block{"type": "image", "source": block{"type": "base64", "media_type": mediaType, "data": data}}, nil
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("image_url must be an http(s) or data URL")
	}
	return block{"type": "image", "source": block{"type": "url", "url": url}}, nil
}

// OpenAIChatAnthropic carries OpenAI chat completions calls to Anthropic's
// Messages API, as LiteLLM does for "anthropic/…" models.
var OpenAIChatAnthropic Translator = openAIChatAnthropic{}

// OpenAIChatVertexAnthropic carries them to Claude on Vertex AI (dialect
// upstream.VertexAnthropic), as LiteLLM's vertex_ai partner route does
// for "vertex_ai/claude-…" models (VertexAIAnthropicConfig): the same
// Messages request, but for the model, which only the path names, and
// Vertex AI's anthropic_version; the same answers.
var OpenAIChatVertexAnthropic Translator = openAIChatAnthropic{vertex: true}

// openAIChatAnthropic is both: vertex tells them apart.
type openAIChatAnthropic struct{ vertex bool }

// Request is a Messages API request to /messages, or, on Vertex AI, to the
// model's :rawPredict (:streamRawPredict for a stream) under the
// provider's project and location.
func (t openAIChatAnthropic) Request(body []byte, model string, p *upstream.Provider) ([]byte, string, error) {
	out, err := openAIChatToAnthropic(body, model)
	if err != nil {
		return nil, "", err
	}
	path := "/messages"
	if t.vertex {
		method := "rawPredict"
		if out.Stream {
			method = "streamRawPredict"
		}
		if path, err = p.VertexModelPath(model, method); err != nil {
			return nil, "", err
		}
		out.Model, out.AnthropicVersion = "", VertexAnthropicVersion
	}
	up, err := json.Marshal(out)
	return up, path, err
}

// Header turns the OpenAI client's bearer key into x-api-key (a proxy key
// replaces it after), and sets anthropic-version if the client did not.
// On Vertex AI it changes nothing: the bearer token is Google's (the
// provider puts the proxy's on when it has one), the version is in the
// body.
func (t openAIChatAnthropic) Header(h http.Header, _ *upstream.Provider) {
	if t.vertex {
		return
	}
	if key, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer "); ok && h.Get("X-Api-Key") == "" {
		h.Set("X-Api-Key", key)
	}
	h.Del("Authorization")
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", anthropic.Version)
	}
}

func (openAIChatAnthropic) Answer(status int, body []byte, _ string) ([]byte, error) {
	if status >= 400 {
		return AnthropicErrorToOpenAI(status, body), nil
	}
	return AnthropicToOpenAIChat(body, time.Now().Unix())
}

func (openAIChatAnthropic) Framing() stream.Framing { return stream.SSE }

func (openAIChatAnthropic) Stream(req *openai.Request, _ string) Stream {
	return &chatSSE{conv: &anthropicChunks{AnthropicChatStream{IncludeUsage: req.IncludeUsage, Created: time.Now().Unix()}}}
}

// anthropicChunks is an Anthropic stream's chat chunks: Anthropic always
// sends the usage, and the span gets it when the client did not ask for it.
type anthropicChunks struct{ AnthropicChatStream }

func (c *anthropicChunks) EndUsage() []byte {
	if c.IncludeUsage {
		return nil
	}
	return c.UsageChunk()
}
