package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// GeminiTarget is which of Google's generateContent APIs a translated
// request goes to. Their requests differ in one member: only Vertex AI
// takes labels.
type GeminiTarget uint8

const (
	// GeminiVertex is Vertex AI's generateContent (publishers/google).
	GeminiVertex GeminiTarget = iota
	// GeminiDeveloper is the Gemini API's (generativelanguage.googleapis.com).
	GeminiDeveloper
)

// thoughtSeparator joins a Gemini thought signature to the id of the tool
// call it came with, as LiteLLM does (THOUGHT_SIGNATURE_SEPARATOR,
// BerriAI/litellm#18374): an OpenAI client sends the id back with the
// call's result, and Gemini 3 refuses a function call without its
// signature.
const thoughtSeparator = "__thought__"

// dummyThoughtSignature is the signature Google documents for a function
// call that has none of its own (base64 of
// "skip_thought_signature_validator"): LiteLLM sends it on the first
// function call of a model turn for Gemini 3 on, which otherwise refuses
// the call (a conversation begun with another model).
const dummyThoughtSignature = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I="

// geminiThinkingBudgets are the thinkingBudget LiteLLM gives OpenAI's
// reasoning_effort levels before Gemini 3
// (_map_reasoning_effort_to_thinking_budget, the
// DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET constants); "minimal" depends
// on the model (geminiMinimalBudget). "none" and "disable" turn thinking
// off. The reference is LiteLLM 1.110 (the e2e suite's), as throughout
// this pair.
var geminiThinkingBudgets = map[string]int{"low": 1024, "medium": 2048, "high": 4096, "none": 0, "disable": 0}

// geminiMinimalBudget is the thinkingBudget of reasoning_effort "minimal":
// the least each model takes.
func geminiMinimalBudget(model string) int {
	m := strings.ToLower(model)
	switch {
	case strings.Contains(m, "gemini-2.5-flash-lite"):
		return 512
	case strings.Contains(m, "gemini-2.5-pro"):
		return 128
	case strings.Contains(m, "gemini-2.5-flash"):
		return 1
	}
	return 128
}

// isGemini3 reports whether a model is Gemini 3 or later, as LiteLLM
// tells (_is_gemini_3_or_newer): thinking levels, not budgets; no penalty
// parameters; function call ids; media in function responses; thought
// signatures required. Any name but an older Gemini's (1.x, 2.x, pro,
// flash, exp), a Gemma or a tuned model's number is taken for a newer
// one, as LiteLLM takes it.
func isGemini3(model string) bool {
	name := strings.ToLower(model[strings.LastIndex(model, "/")+1:])
	if name == "" || strings.HasPrefix(name, "gemma-") || strings.Trim(name, "0123456789") == "" {
		return false
	}
	if m := olderGemini.FindStringSubmatch(name); m != nil {
		// gemini-pro-latest and gemini-flash(-lite)-latest name the newest.
		rest := strings.TrimPrefix(name, m[0])
		return (m[1] == "pro" || m[1] == "flash") && strings.HasSuffix(m[0], "-") && (rest == "latest" || rest == "lite-latest")
	}
	return true
}

// olderGemini matches the names of the models before Gemini 3.
var olderGemini = regexp.MustCompile(`^gemini-([12](?:\.\d+)?|exp|pro|flash)(?:-|$)`)

// gemini2Plus matches the models that take responseJsonSchema, a JSON
// Schema as it is, for structured output (LiteLLM's
// supports_response_json_schema: Gemini 2.0 on); older ones take
// responseSchema, OpenAPI's subset.
var gemini2Plus = regexp.MustCompile(`gemini-(?:[2-9]|[1-9]\d+)(?:\.|-)`)

// geminiRequest is a generateContent request, its members in the order
// LiteLLM sends them (_transform_request_body). Google's JSON names are
// camelCase (LiteLLM sends some snake_case, which Google also reads).
type geminiRequest struct {
	Contents          []geminiContent   `json:"contents"`
	SystemInstruction *geminiContent    `json:"systemInstruction,omitempty"`
	Tools             []block           `json:"tools,omitempty"`
	ToolConfig        block             `json:"toolConfig,omitempty"`
	SafetySettings    json.RawMessage   `json:"safetySettings,omitempty"`
	GenerationConfig  *generationConfig `json:"generationConfig,omitempty"`
	CachedContent     string            `json:"cachedContent,omitempty"`
	ServiceTier       string            `json:"serviceTier,omitempty"`
	Labels            json.RawMessage   `json:"labels,omitempty"`
}

// geminiContent is one turn of a conversation, or the system instruction
// (which has no role).
type geminiContent struct {
	Role  string  `json:"role,omitempty"`
	Parts []block `json:"parts"`
}

// generationConfig is the request's generationConfig, in Google's
// documented order.
type generationConfig struct {
	Temperature        json.RawMessage `json:"temperature,omitempty"`
	TopP               json.RawMessage `json:"topP,omitempty"`
	TopK               json.RawMessage `json:"topK,omitempty"`
	CandidateCount     json.RawMessage `json:"candidateCount,omitempty"`
	MaxOutputTokens    json.RawMessage `json:"maxOutputTokens,omitempty"`
	StopSequences      []string        `json:"stopSequences,omitempty"`
	PresencePenalty    json.RawMessage `json:"presencePenalty,omitempty"`
	FrequencyPenalty   json.RawMessage `json:"frequencyPenalty,omitempty"`
	Seed               json.RawMessage `json:"seed,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseSchema     json.RawMessage `json:"responseSchema,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	ResponseLogprobs   json.RawMessage `json:"responseLogprobs,omitempty"`
	Logprobs           json.RawMessage `json:"logprobs,omitempty"`
	ResponseModalities []string        `json:"responseModalities,omitempty"`
	ThinkingConfig     block           `json:"thinkingConfig,omitempty"`
	MediaResolution    string          `json:"mediaResolution,omitempty"`
}

// OpenAIChatToGemini translates an OpenAI chat completions request into a
// generateContent request for model, as LiteLLM does for "vertex_ai/…"
// and "gemini/…" models (VertexGeminiConfig.map_openai_params,
// _gemini_convert_messages_with_history): system and developer messages
// become the system instruction, the rest contents; the parameters
// Gemini has become generationConfig, tools and toolConfig; the others
// are dropped, as LiteLLM's drop_params drops them. It reports an error
// for a request it cannot translate (no messages, a malformed message, a
// media URL it cannot send); the caller answers 400.
func OpenAIChatToGemini(body []byte, model string, target GeminiTarget) ([]byte, error) {
	if err := jsonbound.Check(body); err != nil {
		return nil, err
	}
	req := gjson.ParseBytes(body)
	msgs := req.Get("messages")
	if !msgs.IsArray() || len(msgs.Array()) == 0 {
		return nil, fmt.Errorf("'messages' must be a non-empty list")
	}
	c := geminiConv{model: model, target: target}
	if err := c.messages(msgs); err != nil {
		return nil, err
	}
	out := geminiRequest{Contents: c.contents, SystemInstruction: c.system}
	gen := &generationConfig{}
	var err error
	req.ForEach(func(k, v gjson.Result) bool {
		err = c.param(&out, gen, k.Str, v)
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if strings.Contains(model, "gemini-2") && c.detail != "" {
		// Gemini 2 takes the media resolution for the whole request.
		gen.MediaResolution = mediaResolution(c.detail)
	}
	if out.Tools, err = geminiTools(req, model); err != nil {
		return nil, err
	}
	if tc := geminiToolChoice(req.Get("tool_choice")); tc != nil {
		out.ToolConfig = block{"functionCallingConfig": tc}
	}
	if serverSideTools(req) {
		if out.ToolConfig == nil {
			out.ToolConfig = block{}
		}
		out.ToolConfig["includeServerSideToolInvocations"] = true
	}
	if b, _ := json.Marshal(gen); string(b) != "{}" {
		out.GenerationConfig = gen
	}
	return json.Marshal(out)
}

// param maps one top-level member of the request, as LiteLLM's
// map_openai_params does (the members it does not name are dropped).
// messages, tools and tool_choice are mapped apart.
func (c *geminiConv) param(out *geminiRequest, gen *generationConfig, name string, v gjson.Result) error {
	number := func(dst *json.RawMessage) {
		if v.Type == gjson.Number {
			*dst = json.RawMessage(v.Raw)
		}
	}
	switch name {
	case "temperature":
		number(&gen.Temperature)
	case "top_p":
		number(&gen.TopP)
	case "top_k": // not OpenAI's, but LiteLLM passes Gemini's own parameters on
		number(&gen.TopK)
	case "n":
		number(&gen.CandidateCount)
	case "max_tokens", "max_completion_tokens":
		number(&gen.MaxOutputTokens)
	case "stop":
		gen.StopSequences = stopSequences(v)
	case "presence_penalty", "frequency_penalty":
		if !geminiTakesPenalties(c.model) {
			return nil
		}
		if name == "presence_penalty" {
			number(&gen.PresencePenalty)
		} else {
			number(&gen.FrequencyPenalty)
		}
	case "seed":
		number(&gen.Seed)
	case "logprobs":
		if v.IsBool() {
			gen.ResponseLogprobs = json.RawMessage(v.Raw)
		}
	case "top_logprobs":
		number(&gen.Logprobs)
	case "response_format":
		if v.IsObject() {
			return c.responseFormat(gen, v)
		}
	case "reasoning_effort":
		effort := v.Str
		if v.IsObject() { // the OpenAI Agents SDK's {"effort": …, "summary": …}
			effort = v.Get("effort").Str
		}
		if effort == "" {
			return nil
		}
		tc, err := geminiEffort(effort, c.model)
		if err != nil {
			return err
		}
		gen.ThinkingConfig = tc
	case "thinking":
		if v.IsObject() {
			gen.ThinkingConfig = geminiThinking(v, c.model)
		}
	case "modalities":
		v.ForEach(func(_, m gjson.Result) bool {
			gen.ResponseModalities = append(gen.ResponseModalities, geminiModality(m.Str))
			return true
		})
	case "safety_settings", "safetySettings":
		if v.IsArray() {
			out.SafetySettings = json.RawMessage(v.Raw)
		}
	case "cached_content", "cachedContent":
		out.CachedContent = v.Str
	case "labels":
		if v.IsObject() && c.target == GeminiVertex {
			out.Labels = json.RawMessage(v.Raw)
		}
	case "service_tier":
		// LiteLLM's _map_service_tier_param, and Gemini's name of OpenAI's
		// default tier.
		switch tier := strings.ToLower(v.Str); tier {
		case "":
		case "auto":
			out.ServiceTier = "priority"
		case "default":
			out.ServiceTier = "standard"
		default:
			out.ServiceTier = tier
		}
	}
	return nil
}

// serverSideTools reports whether the request asks for Gemini's
// server-side tool invocations (include_server_side_tool_invocations):
// searches may then stand beside functions.
func serverSideTools(req gjson.Result) bool {
	return req.Get("include_server_side_tool_invocations").Type == gjson.True ||
		req.Get("includeServerSideToolInvocations").Type == gjson.True
}

// stopSequences is OpenAI's stop, a string or a list, without empty
// strings.
func stopSequences(stop gjson.Result) []string {
	var out []string
	switch {
	case stop.Type == gjson.String && stop.Str != "":
		out = []string{stop.Str}
	case stop.IsArray():
		stop.ForEach(func(_, s gjson.Result) bool {
			if s.Type == gjson.String && s.Str != "" {
				out = append(out, s.Str)
			}
			return true
		})
	}
	return out
}

// geminiTakesPenalties reports whether a model takes presence_penalty and
// frequency_penalty: not Gemini 3 on, nor one preview LiteLLM names
// (_supports_penalty_parameters).
func geminiTakesPenalties(model string) bool {
	return !isGemini3(model) && model != "gemini-2.5-pro-preview-06-05"
}

// geminiModality is Google's name of an OpenAI output modality.
func geminiModality(m string) string {
	switch m {
	case "text":
		return "TEXT"
	case "image":
		return "IMAGE"
	case "audio":
		return "AUDIO"
	case "video":
		return "VIDEO"
	}
	return "MODALITY_UNSPECIFIED"
}

// geminiEffort is the thinkingConfig of a reasoning_effort, as LiteLLM
// maps it: a thinkingLevel for Gemini 3 on
// (_map_reasoning_effort_to_thinking_level: minimal only on Flash, whose
// least it is, low on the others), a thinkingBudget before; thoughts
// included but for none and disable. An effort it does not know is an
// error, as in LiteLLM ("xhigh", which LiteLLM's model map allows for a
// few models only, and "max" too).
func geminiEffort(effort, model string) (block, error) {
	off := effort == "none" || effort == "disable"
	if isGemini3(model) {
		least := "low"
		if strings.Contains(strings.ToLower(model), "flash") {
			least = "minimal"
		}
		var level string
		switch effort {
		case "minimal", "none", "disable":
			level = least // Gemini 3 cannot stop thinking
		case "low", "medium", "high":
			level = effort
		default:
			return nil, fmt.Errorf("reasoning_effort %q is not one Gemini takes (minimal, low, medium, high, none, disable)", effort)
		}
		return block{"thinkingLevel": level, "includeThoughts": !off}, nil
	}
	budget, ok := geminiThinkingBudgets[effort]
	if effort == "minimal" {
		budget, ok = geminiMinimalBudget(model), true
	}
	if !ok {
		return nil, fmt.Errorf("reasoning_effort %q is not one Gemini takes (minimal, low, medium, high, none, disable)", effort)
	}
	return block{"thinkingBudget": budget, "includeThoughts": !off}, nil
}

// geminiThinking is the thinkingConfig of Anthropic's thinking parameter
// ({"type":"enabled","budget_tokens":N}), as LiteLLM maps it
// (_map_thinking_param): thoughts included when enabled with a budget
// other than 0, and the budget as thinkingBudget; Gemini 3 on, which
// takes levels, gets no budget.
func geminiThinking(t gjson.Result, model string) block {
	enabled := t.Get("type").Str == "enabled"
	budget := t.Get("budget_tokens")
	out := block{}
	if isGemini3(model) {
		out["includeThoughts"] = enabled && !(budget.Type == gjson.Number && budget.Int() == 0)
		return out
	}
	if enabled && !(budget.Type == gjson.Number && budget.Int() == 0) {
		out["includeThoughts"] = true
	}
	if budget.Type == gjson.Number {
		out["thinkingBudget"] = budget.Int()
	}
	return out
}

// responseFormat asks for JSON as LiteLLM does
// (apply_response_schema_transformation): a JSON MIME type, and the
// schema as responseJsonSchema (as it is, less OpenAI's "strict") for
// Gemini 2.0 on, or as responseSchema (OpenAPI's subset, properties in
// order) before.
func (c *geminiConv) responseFormat(gen *generationConfig, rf gjson.Result) error {
	switch rf.Get("type").Str {
	case "json_object":
		gen.ResponseMimeType = "application/json"
	case "text":
		gen.ResponseMimeType = "text/plain"
	}
	schema := rf.Get("response_schema") // LiteLLM's own form
	if !schema.Exists() && rf.Get("type").Str == "json_schema" {
		schema = rf.Get("json_schema.schema")
	}
	if !schema.Exists() {
		return nil
	}
	gen.ResponseMimeType = "application/json"
	if !schema.IsObject() {
		return nil
	}
	if gemini2Plus.MatchString(strings.ToLower(c.model)) {
		b, err := json.Marshal(withoutStrict(parseSchema(schema)))
		gen.ResponseJSONSchema = b
		return err
	}
	s, err := vertexSchema(schema, true, isGemini3(c.model))
	gen.ResponseSchema = s
	return err
}

// geminiConv converts one request's messages.
type geminiConv struct {
	model  string
	target GeminiTarget

	contents []geminiContent
	system   *geminiContent
	// lastCalls are the tool calls of the last assistant message that made
	// any: the calls a tool result answers.
	lastCalls gjson.Result
	// results gathers consecutive tool results into one user turn.
	results []block
	// detail is the highest detail an image asked for (Gemini 2 takes
	// one media resolution for the request).
	detail string
}

// messages converts the messages as LiteLLM's
// gemini_convert_messages_with_history does: system and developer
// messages, wherever they are, to the system instruction; consecutive
// user messages merged into one user turn, consecutive assistant messages
// into one model turn, consecutive tool results into one user turn of
// functionResponse parts. A conversation of system messages alone gets
// the user turn "." (BerriAI/litellm#13769), an empty one " "
// (BerriAI/litellm#9733): Gemini needs one.
func (c *geminiConv) messages(msgs gjson.Result) error {
	var rest []gjson.Result
	msgs.ForEach(func(_, m gjson.Result) bool {
		switch m.Get("role").Str {
		case "system", "developer": // LiteLLM makes developer messages system ones
			c.addSystem(m.Get("content"))
		default:
			rest = append(rest, m)
		}
		return true
	})
	if c.system != nil && len(rest) == 0 {
		c.contents = []geminiContent{{Role: "user", Parts: []block{{"text": "."}}}}
		return nil
	}
	var user, model []block
	flush := func(except string) {
		if except != "user" && len(user) > 0 {
			if !hasText(user) {
				// Vertex AI refuses a turn without text (BerriAI/litellm#5515).
				user = append(user, block{"text": " "})
			}
			c.contents = append(c.contents, geminiContent{Role: "user", Parts: user})
			user = nil
		}
		if except != "model" && len(model) > 0 {
			c.contents = append(c.contents, geminiContent{Role: "model", Parts: model})
			model = nil
		}
		if except != "tool" && len(c.results) > 0 {
			c.contents = append(c.contents, geminiContent{Role: "user", Parts: c.results})
			c.results = nil
		}
	}
	for i, m := range rest {
		role := m.Get("role").Str
		switch role {
		case "user":
			flush("user")
			parts, err := c.userParts(m.Get("content"), i)
			if err != nil {
				return err
			}
			user = append(user, parts...)
		case "assistant":
			flush("model")
			parts, err := c.modelParts(m)
			if err != nil {
				return err
			}
			model = append(model, parts...)
		case "tool", "function":
			flush("tool")
			parts, err := c.toolResult(m)
			if err != nil {
				return err
			}
			c.results = append(c.results, parts...)
		default:
			return fmt.Errorf("message role %q is not one Gemini can be sent", role)
		}
	}
	flush("")
	if len(c.contents) == 0 {
		c.contents = []geminiContent{{Role: "user", Parts: []block{{"text": " "}}}}
	}
	return nil
}

// addSystem adds a system or developer message to the system
// instruction: its text, a list's text parts joined. Empty text is left
// out (Vertex AI refuses an empty system instruction part).
func (c *geminiConv) addSystem(content gjson.Result) {
	text := content.Str
	if content.IsArray() {
		var b strings.Builder
		content.ForEach(func(_, p gjson.Result) bool {
			b.WriteString(p.Get("text").Str)
			return true
		})
		text = b.String()
	}
	if text == "" {
		return
	}
	if c.system == nil {
		c.system = &geminiContent{}
	}
	c.system.Parts = append(c.system.Parts, block{"text": text})
}

// hasText reports whether parts hold a text part, empty or not
// (check_text_in_content).
func hasText(parts []block) bool {
	for _, p := range parts {
		if _, ok := p["text"]; ok {
			return true
		}
	}
	return false
}

// userParts is a user message's content as parts: its text (a string,
// even empty, or the list's text parts that are not), images, audio and
// files. msg is the message's place, for errors.
func (c *geminiConv) userParts(content gjson.Result, msg int) ([]block, error) {
	if content.Type == gjson.String {
		return []block{{"text": content.Str}}, nil
	}
	var out []block
	var err error
	i := 0
	content.ForEach(func(_, part gjson.Result) bool {
		var p block
		if part.Get("type").Str == "text" {
			if t := part.Get("text").Str; t != "" {
				p = block{"text": t}
			}
		} else if p, err = c.contentMedia(part); err != nil {
			err = fmt.Errorf("messages[%d].content[%d]: %w", msg, i, err)
		}
		if p != nil {
			out = append(out, p)
		}
		i++
		return err == nil
	})
	return out, err
}

// contentMedia is the part for a content part that is media, as LiteLLM's
// gemini_media_source reads it: an image (image_url, its url a string or
// an object with a format, detail and video_metadata), input_audio (sent
// inline as audio/<format>; without data or format it is left out), or a
// file (file_id, else file_data, with a format). Any other type is nil.
func (c *geminiConv) contentMedia(part gjson.Result) (block, error) {
	switch part.Get("type").Str {
	case "image_url", "input_image", "image":
		img := part.Get("image_url")
		if !img.Exists() {
			return nil, errors.New("an image_url part has no image_url")
		}
		url := img.Str
		if img.IsObject() {
			url = img.Get("url").Str
			if url == "" {
				return nil, errors.New("an image_url part has no url")
			}
		}
		return c.media(url, mediaFormat(img), img.Get("detail").Str, img.Get("video_metadata"))
	case "input_audio":
		data, format := part.Get("input_audio.data").Str, part.Get("input_audio.format").Str
		if data == "" || format == "" {
			return nil, nil
		}
		if !strings.HasPrefix(format, "audio/") {
			format = "audio/" + format
		}
		return block{"inlineData": block{"mimeType": format, "data": data}}, nil
	case "file":
		f := part.Get("file")
		if !f.Exists() {
			return nil, errors.New("a file part has no file")
		}
		file := f.Get("file_id").Str
		if file == "" {
			file = f.Get("file_data").Str
		}
		if file == "" {
			return nil, errors.New("a file part needs a file_id or file_data")
		}
		p, err := c.media(file, mediaFormat(f), f.Get("detail").Str, f.Get("video_metadata"))
		if err != nil {
			return nil, fmt.Errorf("%w; set file.format to its MIME type", err)
		}
		return p, nil
	}
	return nil, nil
}

// mediaFormat is the MIME type a media object gives (format, mime_type or
// content_type), or "".
func mediaFormat(o gjson.Result) string {
	for _, k := range []string{"format", "mime_type", "content_type"} {
		if f := o.Get(k).Str; f != "" {
			return f
		}
	}
	return ""
}

// geminiFilesURI starts the URI of a file uploaded to the Gemini API's
// Files API: passed on as it is.
const geminiFilesURI = "https://generativelanguage.googleapis.com/v1beta/files/"

// media is the part for a media URL, as LiteLLM's process_gemini_media
// makes it: a Cloud Storage URI, a Files API URI, or an https URL whose
// MIME type is given or known from its path's extension, as fileData
// (Google fetches it); a base64 data URL as inlineData. LiteLLM downloads
// any other http(s) URL and sends its bytes; the proxy fetches nothing on
// a caller's behalf, so those are refused. For Gemini 3 on an image's
// detail becomes its mediaResolution; a video's metadata its
// videoMetadata.
func (c *geminiConv) media(url, format, detail string, video gjson.Result) (block, error) {
	var p block
	switch {
	case strings.HasPrefix(url, "gs://"):
		mime := format
		if mime == "" {
			if mime = gcsMIME(url); mime == "" {
				return nil, fmt.Errorf("cannot tell the type of %.100q, or it is not one Gemini takes", url)
			}
		}
		p = block{"fileData": block{"mimeType": mime, "fileUri": url}}
	case strings.HasPrefix(url, geminiFilesURI):
		fd := block{"fileUri": url}
		if format != "" {
			fd["mimeType"] = format
		}
		p = block{"fileData": fd}
	case strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://"):
		mime := format
		if mime == "" {
			mime = mimeFromPath(url)
		}
		if mime == "" || strings.HasPrefix(url, "http://") {
			return nil, fmt.Errorf("cannot send %.100q to Gemini: give an https URL with its format, or a data URL (the proxy fetches nothing itself)", url)
		}
		p = block{"fileData": block{"mimeType": mime, "fileUri": url}}
	case strings.HasPrefix(url, "data:"):
		mediaType, data, ok := dataURL(url)
		if !ok {
			return nil, fmt.Errorf("a data URL must be base64")
		}
		if format != "" {
			mediaType = format
		}
		p = block{"inlineData": block{"mimeType": mediaType, "data": data}}
	default:
		return nil, fmt.Errorf("a media URL must be a gs://, https or data URL, not %.100q", url)
	}
	if r := mediaResolution(detail); r != "" {
		if isGemini3(c.model) {
			p["mediaResolution"] = block{"level": r}
		}
		if detailRank[detail] > detailRank[c.detail] {
			c.detail = detail
		}
	}
	if vm := videoMetadata(video); vm != nil {
		p["videoMetadata"] = vm
	}
	return p, nil
}

// detailRank orders image details, the highest winning for Gemini 2's
// request-wide media resolution.
var detailRank = map[string]int{"low": 1, "medium": 2, "high": 3, "ultra_high": 4}

// mediaResolution is Gemini's media resolution for an OpenAI image detail
// (_convert_detail_to_media_resolution_enum).
func mediaResolution(detail string) string {
	if detailRank[detail] == 0 {
		return ""
	}
	return "MEDIA_RESOLUTION_" + strings.ToUpper(detail)
}

// videoMetadata is LiteLLM's video_metadata in Google's names.
func videoMetadata(v gjson.Result) block {
	if !v.IsObject() {
		return nil
	}
	out := block{}
	for from, to := range map[string]string{"fps": "fps", "start_offset": "startOffset", "end_offset": "endOffset"} {
		if x := v.Get(from); x.Exists() {
			out[to] = json.RawMessage(x.Raw)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// urlExtensions are the MIME types LiteLLM knows a media URL's by the
// extension of its path (get_image_mime_type_from_url), first match
// first.
var urlExtensions = []struct{ ext, mime string }{
	{".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".png", "image/png"}, {".webp", "image/webp"},
	{".mp4", "video/mp4"}, {".mov", "video/mov"}, {".mpeg", "video/mpeg"}, {".mpg", "video/mpeg"},
	{".avi", "video/avi"}, {".wmv", "video/wmv"}, {".mpegps", "video/mpegps"}, {".flv", "video/flv"},
	{".mp3", "audio/mp3"}, {".wav", "audio/wav"}, {".ogg", "audio/ogg"}, {".pdf", "application/pdf"}, {".txt", "text/plain"},
}

// mimeFromPath is a URL's MIME type by its path's extension (its query
// and fragment aside), or "".
func mimeFromPath(url string) string {
	path := strings.ToLower(url)
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	for _, e := range urlExtensions {
		if strings.HasSuffix(path, e.ext) {
			return e.mime
		}
	}
	return ""
}

// gcsExtensions are the file types Gemini takes from Cloud Storage, by
// extension, with LiteLLM's MIME types (GEMINI_1_5_ACCEPTED_FILE_TYPES).
var gcsExtensions = map[string]string{
	"txt": "text/plain", "3gpp": "video/3gpp", "mpa": "audio/m4a", "jpeg": "image/jpeg", "jpg": "image/jpeg",
	"png": "image/png", "wmv": "video/wmv", "pdf": "application/pdf", "aac": "audio/aac", "mpeg": "video/mpeg",
	"wav": "audio/wav", "webm": "video/webm", "mpg": "video/mpg", "mov": "video/quicktime", "mpga": "audio/mpga",
	"pcm": "audio/pcm", "opus": "audio/opus", "mp4": "video/mp4", "webp": "image/webp", "flac": "audio/flac",
	"mp3": "audio/mpeg", "mpegps": "video/mpegps", "flv": "video/x-flv",
}

// gcsMIME is a gs:// URI's MIME type by its extension, or "": LiteLLM
// reads an extension-less object's from Cloud Storage, which the proxy
// does not.
func gcsMIME(uri string) string {
	name := uri[strings.LastIndex(uri, "/")+1:]
	dot := strings.LastIndex(name, ".")
	if dot < 0 {
		return ""
	}
	return gcsExtensions[strings.ToLower(name[dot+1:])]
}

// modelParts is an assistant message as a model turn's parts, as LiteLLM
// builds it: its reasoning_content as a thought; its text (with the
// message's first thought signature, unless a tool call carries it) and
// media; each tool call as a functionCall with its arguments parsed, its
// thought signature (from provider_specific_fields or the id it was
// given) and, for Gemini 3 on, its id.
func (c *geminiConv) modelParts(m gjson.Result) ([]block, error) {
	var out []block
	if rc := m.Get("reasoning_content"); rc.Type == gjson.String && rc.Str != "" {
		out = append(out, block{"thought": true, "text": rc.Str})
	}
	calls := m.Get("tool_calls")
	switch content := m.Get("content"); {
	case content.Type == gjson.String:
		p := block{"text": content.Str}
		if sig := m.Get("provider_specific_fields.thought_signatures.0"); sig.Type == gjson.String && sig.Str != "" && !carriesSignature(calls, sig.Str) {
			p["thoughtSignature"] = sig.Str
		}
		out = append(out, p)
	case content.IsArray():
		var err error
		content.ForEach(func(_, part gjson.Result) bool {
			var p block
			if part.Get("type").Str == "text" {
				p = block{"text": part.Get("text").Str}
			} else {
				p, err = c.contentMedia(part)
			}
			if p != nil {
				out = append(out, p)
			}
			return err == nil
		})
		if err != nil {
			return nil, err
		}
	}
	var err error
	first := true
	calls.ForEach(func(_, call gjson.Result) bool {
		fn := call.Get("function")
		if !fn.IsObject() {
			err = fmt.Errorf("a tool call has no function: %.100s", call.Raw)
			return false
		}
		var p block
		p, err = c.functionCall(fn, call.Get("id").Str, toolSignature(call), first)
		out = append(out, p)
		first = false
		return err == nil
	})
	if err != nil {
		return nil, err
	}
	if len(calls.Array()) > 0 {
		c.lastCalls = calls
	}
	if fc := m.Get("function_call"); fc.IsObject() && !calls.IsArray() {
		p, err := c.functionCall(fc, "", fc.Get("provider_specific_fields.thought_signature").Str, true)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		c.lastCalls = gjson.Result{}
	}
	return out, nil
}

// carriesSignature reports whether one of the tool calls carries a thought
// signature: sent on the call, not again on the text (Gemini bills each
// copy).
func carriesSignature(calls gjson.Result, sig string) bool {
	found := false
	calls.ForEach(func(_, call gjson.Result) bool {
		found = toolSignature(call) == sig
		return !found
	})
	return found
}

// functionCall is a tool call as a functionCall part: its arguments, a
// JSON string, as the object they hold ({} for none); its thought
// signature, or, for the first call of a turn to Gemini 3 on, the dummy
// one (Gemini signs the first of parallel calls); its id, less the
// signature, for Gemini 3 on.
func (c *geminiConv) functionCall(fn gjson.Result, id, signature string, first bool) (block, error) {
	args := json.RawMessage("{}")
	if a := fn.Get("arguments").Str; strings.TrimSpace(a) != "" {
		if !gjson.Valid(a) || !gjson.Parse(a).IsObject() {
			return nil, fmt.Errorf("tool call arguments are not a JSON object: %.100q", a)
		}
		args = json.RawMessage(a)
	}
	call := block{"name": fn.Get("name").Str, "args": args}
	gemini3 := isGemini3(c.model)
	if base, _, _ := strings.Cut(id, thoughtSeparator); gemini3 && base != "" {
		call["id"] = base
	}
	p := block{"functionCall": call}
	if signature == "" && first && gemini3 {
		signature = dummyThoughtSignature
	}
	if signature != "" {
		p["thoughtSignature"] = signature
	}
	return p, nil
}

// toolSignature is a tool call's thought signature, where LiteLLM looks
// for it (get_thought_signature_from_tool): provider_specific_fields, its
// function's, or the id it was given.
func toolSignature(call gjson.Result) string {
	for _, path := range []string{"provider_specific_fields.thought_signature", "function.provider_specific_fields.thought_signature"} {
		if s := call.Get(path).Str; s != "" {
			return s
		}
	}
	_, sig, _ := strings.Cut(call.Get("id").Str, thoughtSeparator)
	return sig
}

// calledName is the function of the call a tool result answers, among the
// last assistant message's calls: the one of that id, else the one
// whose id less its signature is the same (LiteLLM's _called_tool_name).
func (c *geminiConv) calledName(id string) string {
	if id == "" {
		return ""
	}
	base, _, _ := strings.Cut(id, thoughtSeparator)
	exact, prefix, prefixes := "", "", 0
	c.lastCalls.ForEach(func(_, call gjson.Result) bool {
		callID := call.Get("id").Str
		name := call.Get("function.name").Str
		if callID == id && exact == "" {
			exact = name
		}
		if b, _, _ := strings.Cut(callID, thoughtSeparator); base != "" && b == base {
			prefix, prefixes = name, prefixes+1
		}
		return true
	})
	if exact != "" {
		return exact
	}
	if prefixes == 1 {
		return prefix
	}
	return ""
}

// toolResult is a tool (or legacy function) message as a functionResponse
// part, as LiteLLM's convert_to_gemini_tool_call_result makes it: the
// function named by the call it answers (or the message's name); the
// response the result's JSON object when it is one, else {"content":
// text}; its id for Gemini 3 on. Its media, inline from data URLs (or, to
// Vertex AI, by reference), go in the response's parts for Gemini 3 on,
// in parts after it before; media the proxy cannot send are left out, as
// LiteLLM leaves out what it cannot fetch.
func (c *geminiConv) toolResult(m gjson.Result) ([]block, error) {
	var text strings.Builder
	var media []block
	content := m.Get("content")
	switch {
	case content.Type == gjson.String:
		if mime, data, ok := imageDataURL(content.Str); ok {
			media = append(media, block{"inlineData": block{"mimeType": mime, "data": data}})
		} else {
			text.WriteString(content.Str)
		}
	case content.IsArray():
		content.ForEach(func(_, part gjson.Result) bool {
			switch part.Get("type").Str {
			case "text":
				text.WriteString(part.Get("text").Str)
			case "image": // Anthropic's image block
				if src := part.Get("source"); src.Get("type").Str == "base64" {
					mime := src.Get("media_type").Str
					if mime == "" {
						mime = "image/jpeg"
					}
					media = append(media, block{"inlineData": block{"mimeType": mime, "data": src.Get("data").Str}})
				}
			default:
				if p := c.toolMedia(part); p != nil {
					media = append(media, p)
				}
			}
			return true
		})
	}
	id := m.Get("tool_call_id").Str
	name := c.calledName(id)
	if name == "" {
		name = m.Get("name").Str
	}
	if name == "" {
		return nil, fmt.Errorf("tool message for call %q answers no tool call of the last assistant message that made any", id)
	}
	var response json.RawMessage
	if s := strings.TrimSpace(text.String()); strings.HasPrefix(s, "{") && gjson.Valid(s) && gjson.Parse(s).IsObject() && !partReference(gjson.Parse(s)) {
		response = json.RawMessage(s)
	} else {
		response, _ = json.Marshal(block{"content": text.String()})
	}
	fr := block{"name": name, "response": response}
	gemini3 := isGemini3(c.model)
	if base, _, _ := strings.Cut(id, thoughtSeparator); gemini3 && base != "" {
		fr["id"] = base
	}
	out := []block{{"functionResponse": fr}}
	if len(media) > 0 {
		if !gemini3 {
			return append(out, media...), nil
		}
		fr["parts"] = media
	}
	return out, nil
}

// toolMedia is a tool result's media part, as Gemini takes it in a
// function's response: a data URL inline, or to Vertex AI a reference it
// fetches; nil for anything else.
func (c *geminiConv) toolMedia(part gjson.Result) block {
	var url, format string
	switch part.Get("type").Str {
	case "image_url", "input_image":
		img := part.Get("image_url")
		url, format = img.Str, mediaFormat(img)
		if img.IsObject() {
			url = img.Get("url").Str
		}
	case "file", "input_file":
		f := part.Get("file")
		url = part.Get("file_data").Str
		if url == "" {
			url = f.Get("file_data").Str
		}
		if url == "" && f.Type == gjson.String {
			url = f.Str
		}
		format = mediaFormat(f)
	case "input_audio":
		p, _ := c.contentMedia(part)
		return p
	default:
		return nil
	}
	if mime, data, ok := dataURL(url); ok {
		if format != "" {
			mime = format
		}
		return block{"inlineData": block{"mimeType": mime, "data": data}}
	}
	if c.target != GeminiVertex {
		return nil // the Gemini API takes media in a response inline only
	}
	p, err := c.media(url, format, "", gjson.Result{})
	if err != nil {
		return nil
	}
	return p
}

// partReference reports whether a tool result's JSON holds
// {"$ref": "<string>"}, which Gemini reads as a pointer to one of the
// response's parts (BerriAI/litellm#38223): such a result is sent as
// text.
func partReference(v gjson.Result) bool {
	found := false
	var walk func(v gjson.Result)
	walk = func(v gjson.Result) {
		if found {
			return
		}
		if v.IsObject() {
			if r := v.Get(`\$ref`); r.Type == gjson.String && r.Str != "" {
				found = true
				return
			}
		}
		if v.IsObject() || v.IsArray() {
			v.ForEach(func(_, x gjson.Result) bool {
				walk(x)
				return !found
			})
		}
	}
	walk(v)
	return found
}

// dataURL is a base64 data URL's media type and data.
func dataURL(url string) (mime, data string, ok bool) {
	rest, ok := strings.CutPrefix(url, "data:")
	if !ok {
		return "", "", false
	}
	mime, data, ok = strings.Cut(rest, ";base64,")
	return mime, data, ok
}

// imageDataURL is a tool result that is one image's data URL (as
// LiteLLM's Anthropic translation leaves an image result): its media type,
// less any parameters, and data.
func imageDataURL(s string) (mime, data string, ok bool) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "data:") {
		return "", "", false
	}
	mime, data, ok = strings.Cut(s[5:], ";base64,")
	if !ok || !strings.HasPrefix(mime, "image/") {
		return "", "", false
	}
	mime, _, _ = strings.Cut(mime, ";")
	return strings.TrimSpace(mime), data, true
}

// geminiSearchTools are Google's own tools a request may name as a tool
// of one member ({"googleSearch": {}}), in either spelling, by the name
// Google documents and the order LiteLLM sends them in; search says
// which are searches, which Vertex AI will not take beside function
// declarations.
var geminiSearchTools = []struct {
	name, snake string
	search      bool
}{
	{"googleSearch", "google_search", true},
	{"googleSearchRetrieval", "google_search_retrieval", true},
	{"enterpriseWebSearch", "enterprise_web_search", true},
	{"codeExecution", "code_execution", false},
	{"urlContext", "url_context", true},
	{"googleMaps", "google_maps", false},
	{"computerUse", "computer_use", false},
}

// geminiTools is the request's tools and functions as Gemini's: the
// functions' declarations in one tool, their parameters in OpenAPI's
// subset as LiteLLM builds them (_build_vertex_schema); OpenAI's
// web_search tools and web_search_options as googleSearch; Google's own
// tools each in a tool of its own. Searches beside function declarations
// are dropped, as LiteLLM drops them (Vertex AI refuses the mix;
// BerriAI/litellm#23337) unless include_server_side_tool_invocations.
func geminiTools(req gjson.Result, model string) ([]block, error) {
	// Gemini 3 on takes integer enums, their values as strings, while
	// they fit in its limit; LiteLLM drops them otherwise
	// (with_integer_enums_that_fit).
	decls, special, err := functionDeclarations(req, isGemini3(model))
	if err == nil && isGemini3(model) && !integerEnumsFit(decls) {
		decls, special, err = functionDeclarations(req, false)
	}
	if err != nil {
		return nil, err
	}
	if req.Get("web_search_options").IsObject() {
		special["googleSearch"] = json.RawMessage("{}")
	}
	var out []block
	if len(decls) > 0 {
		out = append(out, block{"functionDeclarations": decls})
	}
	mixed := len(decls) > 0 && !serverSideTools(req)
	for _, s := range geminiSearchTools {
		if v, ok := special[s.name]; ok && !(mixed && s.search) {
			out = append(out, block{s.name: v})
		}
	}
	return out, nil
}

// functionDeclarations reads the request's tools and functions: the
// functions' declarations, and Google's own tools by name.
func functionDeclarations(req gjson.Result, integerEnums bool) ([]block, map[string]json.RawMessage, error) {
	var decls []block
	special := map[string]json.RawMessage{}
	var err error
	add := func(_, t gjson.Result) bool {
		if !t.IsObject() {
			return true
		}
		switch typ := t.Get("type").Str; {
		case typ == "web_search" || typ == "web_search_preview":
			special["googleSearch"] = json.RawMessage("{}")
			return true
		case typ == "computer_use":
			special["computerUse"] = computerUse(t)
			return true
		case t.Get("function").IsObject():
			var d block
			d, err = functionDeclaration(t.Get("function"), integerEnums)
			if d != nil {
				decls = append(decls, d)
			}
			return err == nil
		case typ == "" && t.Get("name").Type == gjson.String: // the legacy functions list
			var d block
			d, err = functionDeclaration(t, integerEnums)
			if d != nil {
				decls = append(decls, d)
			}
			return err == nil
		}
		var name string
		var value json.RawMessage
		n := 0
		t.ForEach(func(k, v gjson.Result) bool {
			if k.Str != "type" {
				name, value = k.Str, json.RawMessage(v.Raw)
				n++
			}
			return true
		})
		if n == 1 {
			for _, s := range geminiSearchTools {
				if name == s.name || name == s.snake {
					special[s.name] = value
				}
			}
		}
		return true
	}
	req.Get("tools").ForEach(add)
	if err == nil {
		req.Get("functions").ForEach(add)
	}
	return decls, special, err
}

// computerUse is a computer_use tool's configuration in Gemini's terms
// (_transform_computer_use_config): its environment, and the predefined
// functions it excludes.
func computerUse(t gjson.Result) json.RawMessage {
	out := block{}
	switch env := t.Get("environment").Str; env {
	case "browser":
		out["environment"] = "ENVIRONMENT_BROWSER"
	case "unspecified":
		out["environment"] = "ENVIRONMENT_UNSPECIFIED"
	case "ENVIRONMENT_BROWSER", "ENVIRONMENT_UNSPECIFIED":
		out["environment"] = env
	}
	for _, k := range []string{"excluded_predefined_functions", "excludedPredefinedFunctions"} {
		if x := t.Get(k); x.Exists() {
			out["excludedPredefinedFunctions"] = json.RawMessage(x.Raw)
			break
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// functionDeclaration is an OpenAI function as Gemini's declaration.
func functionDeclaration(fn gjson.Result, integerEnums bool) (block, error) {
	d := block{"name": fn.Get("name").Str}
	if desc := fn.Get("description"); desc.Type == gjson.String {
		d["description"] = desc.Str
	}
	switch p := fn.Get("parameters"); {
	case p.IsObject():
		s, err := vertexSchema(p, false, integerEnums)
		if err != nil {
			return nil, fmt.Errorf("function %q: %w", fn.Get("name").Str, err)
		}
		d["parameters"] = s
	case p.Type == gjson.String && p.Str == "":
		d["parameters"] = block{"type": "object"}
	}
	return d, nil
}

// geminiToolChoice is OpenAI's tool_choice as Gemini's
// functionCallingConfig (map_tool_choice_values): none, auto, required
// (ANY), or one named function (ANY of it). Anything else is dropped.
func geminiToolChoice(choice gjson.Result) block {
	switch {
	case choice.Str == "none":
		return block{"mode": "NONE"}
	case choice.Str == "auto":
		return block{"mode": "AUTO"}
	case choice.Str == "required":
		return block{"mode": "ANY"}
	case choice.IsObject():
		return block{"mode": "ANY", "allowedFunctionNames": []string{choice.Get("function.name").Str}}
	}
	return nil
}

// OpenAIChatGemini carries OpenAI chat completions calls to Google's
// generateContent API, as LiteLLM does for "vertex_ai/…" (Gemini) and
// "gemini/…" models: to Vertex AI (upstream.VertexAI) under its project
// and location, or to the Gemini API.
var OpenAIChatGemini Translator = openAIChatGemini{}

type openAIChatGemini struct{}

// Request is the generateContent request and its path: Vertex AI's
// model path for a Vertex AI provider, the Gemini API's
// /v1beta/models/{model} for any other; :streamGenerateContent?alt=sse
// when the call streams (SSE, as LiteLLM asks for it), :generateContent
// else.
func (openAIChatGemini) Request(body []byte, model string, p *upstream.Provider) ([]byte, string, error) {
	target := GeminiDeveloper
	if p != nil && p.Name == upstream.VertexAI {
		target = GeminiVertex
	}
	up, err := OpenAIChatToGemini(body, model, target)
	if err != nil {
		return nil, "", err
	}
	method, query := "generateContent", ""
	if gjson.GetBytes(body, "stream").Bool() {
		method, query = "streamGenerateContent", "?alt=sse"
	}
	var path string
	if target == GeminiVertex {
		if path, err = p.VertexModelPath(model, method); err != nil {
			return nil, "", err
		}
	} else {
		if !geminiModelName(model) {
			return nil, "", fmt.Errorf("model %q: a Gemini model name has only letters, digits, '.', '_' and '-'", model)
		}
		path = "/v1beta/models/" + model + ":" + method
	}
	return up, path + query, nil
}

// geminiModelName reports whether a model name is one path segment that
// stays where it is put.
func geminiModelName(name string) bool {
	if strings.Trim(name, ".") == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Header leaves the client's headers as they are: the provider puts its
// own credentials in place of the client's (Vertex AI's token, the Gemini
// API's key); without them the client's bearer token passes, as a Google
// access token.
func (openAIChatGemini) Header(http.Header, *upstream.Provider) {}

func (openAIChatGemini) Answer(status int, body []byte, _ string) ([]byte, error) {
	if status >= 400 {
		return GeminiErrorToOpenAI(status, body), nil
	}
	return GeminiToOpenAIChat(body, time.Now().Unix(), nil)
}

// Framing is SSE: the translation asks for alt=sse.
func (openAIChatGemini) Framing() stream.Framing { return stream.SSE }

func (openAIChatGemini) Stream(req *openai.Request, _ string) Stream {
	return &chatSSE{conv: &geminiChunks{GeminiChatStream{IncludeUsage: req.IncludeUsage, Created: time.Now().Unix()}}}
}

// geminiChunks is a Gemini stream's chat chunks: Gemini sends the usage on
// every chunk, and the span gets it when the client did not ask for it.
type geminiChunks struct{ GeminiChatStream }

func (c *geminiChunks) EndUsage() []byte {
	if c.IncludeUsage || !c.HasUsage() {
		return nil
	}
	return c.UsageChunk()
}
