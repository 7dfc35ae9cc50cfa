package translate

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// geminiFinishReasons maps Gemini's finishReason to OpenAI's
// finish_reason, as LiteLLM does (core_helpers._FINISH_REASON_MAP, its
// Gemini rows); a reason it does not know is "stop", as in LiteLLM.
var geminiFinishReasons = map[string]string{
	"STOP":                      "stop",
	"MAX_TOKENS":                "length",
	"CONTINUATION":              "length",
	"SAFETY":                    "content_filter",
	"RECITATION":                "content_filter",
	"FINISH_REASON_UNSPECIFIED": "stop",
	"MALFORMED_FUNCTION_CALL":   "stop",
	"LANGUAGE":                  "content_filter",
	"OTHER":                     "content_filter",
	"BLOCKLIST":                 "content_filter",
	"PROHIBITED_CONTENT":        "content_filter",
	"SPII":                      "content_filter",
	"IMAGE_SAFETY":              "content_filter",
	"IMAGE_PROHIBITED_CONTENT":  "content_filter",
	"TOO_MANY_TOOL_CALLS":       "stop",
	"MALFORMED_RESPONSE":        "stop",
	"NO_IMAGE":                  "content_filter",
	"IMAGE_RECITATION":          "content_filter",
	"IMAGE_OTHER":               "content_filter",
	"ESCALATION":                "content_filter",
	"UNEXPECTED_TOOL_CALL":      "stop",
	"MISSING_THOUGHT_SIGNATURE": "stop",
}

// GeminiFinishReason is OpenAI's finish_reason for a candidate's
// finishReason, and whether it called tools: tool calls win, as in
// LiteLLM's _check_finish_reason.
func GeminiFinishReason(reason string, toolCalls bool) string {
	if toolCalls {
		return "tool_calls"
	}
	if r, ok := geminiFinishReasons[reason]; ok {
		return r
	}
	return "stop"
}

// geminiFlagged are the finishReasons of an answer LiteLLM reports as
// flagged (get_flagged_finish_reasons): the whole answer becomes one
// content_filter choice with no content.
var geminiFlagged = map[string]bool{
	"SAFETY": true, "RECITATION": true, "BLOCKLIST": true, "PROHIBITED_CONTENT": true,
	"SPII": true, "IMAGE_SAFETY": true, "IMAGE_PROHIBITED_CONTENT": true,
}

// geminiUsage is OpenAI's usage as LiteLLM fills it from Gemini's
// usageMetadata (_calculate_usage).
type geminiUsage struct {
	PromptTokens        int64 `json:"prompt_tokens"`
	CompletionTokens    int64 `json:"completion_tokens"`
	TotalTokens         int64 `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"completion_tokens_details,omitempty"`
}

// GeminiUsage is OpenAI's usage for a usageMetadata, as LiteLLM's
// _calculate_usage counts it: the prompt is promptTokenCount and the
// tools' prompt (toolUsePromptTokenCount), but for an answer grounded in
// Google Search or Maps (grounded), whose retrieved tokens Google does
// not bill as input; its cached part is cachedContentTokenCount; the
// completion is candidatesTokenCount, and the thoughts too
// (thoughtsTokenCount, also the reasoning tokens) unless the candidates
// count holds them already (prompt + candidates + tool prompt = total:
// is_candidate_token_count_inclusive); the total is totalTokenCount.
func GeminiUsage(u gjson.Result, grounded bool) *geminiUsage {
	prompt, candidates := u.Get("promptTokenCount").Int(), u.Get("candidatesTokenCount").Int()
	toolUse := u.Get("toolUsePromptTokenCount").Int()
	total := u.Get("totalTokenCount")
	out := &geminiUsage{PromptTokens: prompt, CompletionTokens: candidates, TotalTokens: total.Int()}
	if !grounded {
		out.PromptTokens += toolUse
	}
	if t := u.Get("thoughtsTokenCount"); t.Type == gjson.Number {
		thoughts := t.Int()
		if prompt+candidates+toolUse != total.Int() {
			out.CompletionTokens += thoughts
		}
		out.CompletionTokensDetails = &struct {
			ReasoningTokens int64 `json:"reasoning_tokens"`
		}{thoughts}
	}
	if !total.Exists() {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	out.PromptTokensDetails.CachedTokens = u.Get("cachedContentTokenCount").Int()
	return out
}

// searchGrounded reports whether an answer's candidates were grounded in
// a Google Search (a groundingMetadata's webSearchQueries) or Maps (a
// maps groundingChunk, or a widget token), as LiteLLM's
// _response_has_search_grounding tells.
func searchGrounded(candidates gjson.Result) bool {
	grounded := false
	candidates.ForEach(func(_, c gjson.Result) bool {
		gm := c.Get("groundingMetadata")
		items := []gjson.Result{gm}
		if gm.IsArray() {
			items = gm.Array()
		}
		for _, m := range items {
			m.Get("webSearchQueries").ForEach(func(_, q gjson.Result) bool {
				grounded = grounded || q.Type == gjson.String && q.Str != ""
				return !grounded
			})
			m.Get("groundingChunks").ForEach(func(_, ch gjson.Result) bool {
				grounded = grounded || ch.Get("maps").Exists()
				return !grounded
			})
			grounded = grounded || m.Get("googleMapsWidgetContextToken").String() != ""
		}
		return !grounded
	})
	return grounded
}

// servedModel is Google's name of the model that answered (modelVersion),
// less a version after "@", as LiteLLM's _served_model_name.
func servedModel(version string) string {
	name, _, _ := strings.Cut(version, "@")
	return name
}

// newCallID is a random 28 hex digits, as LiteLLM's tool call ids
// ("call_" + uuid4().hex[:28]).
func newCallID() string {
	var b [14]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// GeminiToOpenAIChat translates a generateContent answer into a
// chat.completion as LiteLLM returns it
// (_transform_google_generate_content_to_openai_model_response): each
// candidate a choice, its text parts joined as the content, its thought
// parts as reasoning_content (and thinking_blocks, with their
// signatures), its function calls as tool calls, its finishReason as a
// finish reason; usage in OpenAI's terms (GeminiUsage). A candidate with
// neither content nor a finishReason is no choice. The id is responseId
// (LiteLLM's too), or "chatcmpl-" and 28 random hex digits when Gemini
// gives none; the model is Google's name of the model that answered
// (servedModel; LiteLLM's too, which falls back to the model asked for).
// created is the answer's Unix time. A blocked prompt, or an answer
// flagged by its first candidate, is one content_filter choice with no
// content. newID makes the ids Gemini does not give (nil: random).
func GeminiToOpenAIChat(body []byte, created int64, newID func() string) ([]byte, error) {
	if err := jsonbound.Check(body); err != nil {
		return nil, err
	}
	resp := gjson.ParseBytes(body)
	if !resp.IsObject() {
		return nil, errors.New("the answer is not a generateContent response")
	}
	if newID == nil {
		newID = newCallID
	}
	out := chatCompletion{ID: resp.Get("responseId").Str, Object: "chat.completion", Created: created, Model: servedModel(resp.Get("modelVersion").Str),
		Choices: []completionChoice{}, Usage: GeminiUsage(resp.Get("usageMetadata"), searchGrounded(resp.Get("candidates")))}
	if out.ID == "" {
		out.ID = "chatcmpl-" + newID()
	}
	candidates := resp.Get("candidates")
	if resp.Get("promptFeedback.blockReason").String() != "" || geminiFlagged[candidates.Get("0.finishReason").Str] {
		// LiteLLM's _handle_blocked_response and
		// _handle_content_policy_violation: the usage without its details.
		u := resp.Get("usageMetadata")
		out.Usage = &geminiUsage{PromptTokens: u.Get("promptTokenCount").Int(), CompletionTokens: u.Get("candidatesTokenCount").Int(),
			TotalTokens: u.Get("totalTokenCount").Int()}
		out.Choices = append(out.Choices, completionChoice{Message: chatMessage{Role: "assistant"}, FinishReason: "content_filter"})
		return json.Marshal(out)
	}
	calls := 0
	pos := 0
	candidates.ForEach(func(_, c gjson.Result) bool {
		index := pos
		if i := c.Get("index"); i.Type == gjson.Number {
			index = int(i.Int())
		}
		pos++
		if !c.Get("content").Exists() && !c.Get("finishReason").Exists() {
			return true
		}
		parts := geminiParts(c.Get("content.parts"), &calls, newID)
		for i := range parts.calls {
			parts.calls[i].Index = nil // a stream's, not a message's
		}
		m := chatMessage{Role: "assistant", ToolCalls: parts.calls}
		if parts.hasText {
			s := parts.text.String()
			m.Content = &s
		}
		if parts.hasThought {
			s := parts.thought.String()
			m.ReasoningContent = &s
			m.ThinkingBlocks = parts.thinking
		}
		out.Choices = append(out.Choices, completionChoice{Index: index, Message: m, Logprobs: geminiLogprobs(c.Get("logprobsResult")),
			FinishReason: GeminiFinishReason(c.Get("finishReason").Str, len(m.ToolCalls) > 0)})
		return true
	})
	return json.Marshal(out)
}

// candidateParts is what a candidate's parts say in OpenAI's terms.
type candidateParts struct {
	text, thought       strings.Builder
	hasText, hasThought bool
	thinking            []any
	calls               []toolCall
}

// geminiParts reads a candidate's parts, as LiteLLM's
// get_assistant_content_message and _transform_parts do: text (empty text
// says nothing), thought text (thought: true), and function calls, each a
// tool call numbered from *calls on, with Gemini's id or a generated
// "call_…" one that carries the part's thought signature after
// "__thought__" (which the request direction sends back). Other parts
// (inline images and audio, code execution) are left out.
func geminiParts(parts gjson.Result, calls *int, newID func() string) *candidateParts {
	out := &candidateParts{}
	parts.ForEach(func(_, p gjson.Result) bool {
		if fc := p.Get("functionCall"); fc.IsObject() {
			n := *calls
			*calls++
			id := fc.Get("id").Str
			if id == "" {
				id = "call_" + newID()
			}
			if sig := p.Get("thoughtSignature").Str; sig != "" {
				id += thoughtSeparator + sig
			}
			c := toolCall{Index: &n, ID: id, Type: "function"}
			c.Function.Name = fc.Get("name").Str
			c.Function.Arguments = compactJSON(fc.Get("args").Raw)
			out.calls = append(out.calls, c)
			return true
		}
		t := p.Get("text")
		if t.Type != gjson.String || t.Str == "" {
			return true
		}
		if p.Get("thought").Type == gjson.True {
			out.thought.WriteString(t.Str)
			out.hasThought = true
			b := map[string]string{"type": "thinking", "thinking": t.Str}
			if sig := p.Get("thoughtSignature").Str; sig != "" {
				b["signature"] = sig
			}
			out.thinking = append(out.thinking, b)
			return true
		}
		out.text.WriteString(t.Str)
		out.hasText = true
		return true
	})
	return out
}

// geminiLogprobs is a candidate's logprobsResult as OpenAI's logprobs
// (_transform_logprobs): each chosen token with its log probability and
// the top candidates at its place; nil without any.
func geminiLogprobs(r gjson.Result) json.RawMessage {
	chosen := r.Get("chosenCandidates")
	if !chosen.IsArray() {
		return nil
	}
	type top struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
	}
	type token struct {
		Token       string  `json:"token"`
		Logprob     float64 `json:"logprob"`
		TopLogprobs []top   `json:"top_logprobs"`
	}
	tops := r.Get("topCandidates").Array()
	content := []token{}
	i := 0
	chosen.ForEach(func(_, c gjson.Result) bool {
		t := token{Token: c.Get("token").Str, Logprob: c.Get("logProbability").Float(), TopLogprobs: []top{}}
		if i < len(tops) {
			tops[i].Get("candidates").ForEach(func(_, o gjson.Result) bool {
				t.TopLogprobs = append(t.TopLogprobs, top{o.Get("token").Str, o.Get("logProbability").Float()})
				return true
			})
		}
		content = append(content, t)
		i++
		return true
	})
	b, _ := json.Marshal(struct {
		Content []token `json:"content"`
	}{content})
	return b
}

// GeminiErrorToOpenAI translates Google's error envelope
// ({"error":{"code","message","status"}}, or a list of it, as Vertex AI's
// JSON-array streams send it) into OpenAI's, keeping the message, with
// the status as its code and the type OpenAI's SDKs and the proxy's
// other translations give the status (anthropic.TypeFor); a body that is
// not Google's envelope is kept as the message.
func GeminiErrorToOpenAI(status int, body []byte) []byte {
	e := gjson.ParseBytes(body)
	if e.IsArray() {
		e = e.Get("0")
	}
	msg := e.Get("error.message").Str
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message": msg, "type": anthropic.TypeFor(status), "param": nil, "code": strconv.Itoa(status),
	}})
	return b
}

// GeminiChatStream translates a streamGenerateContent stream (alt=sse:
// each event one GenerateContentResponse) into a chat completions stream,
// chunk by chunk, as LiteLLM's ModelResponseIterator and stream wrapper
// do: each Gemini chunk's text, thought text and function calls as one
// chat chunk per candidate (the first with the role), tool calls numbered
// across the stream, each complete (Gemini sends a call whole); a
// candidate's finishReason as a chunk of its own, a stop tool_calls if
// the stream called any (LiteLLM's has_seen_tool_calls); once every
// candidate has finished, the usage chunk when the client asked for it
// (IncludeUsage) and [DONE]. A blocked prompt is a content_filter finish;
// an error chunk ({"error":…}, which Vertex AI sends mid-stream with
// status 200) an OpenAI error chunk, and the end. Create one per stream.
type GeminiChatStream struct {
	IncludeUsage bool
	// Created is the chunks' Unix time.
	Created int64
	// NewID makes the ids Gemini does not give (nil: random).
	NewID func() string

	id, model string
	usage     gjson.Result
	grounded  bool // the stream was grounded in a search (GeminiUsage)
	calls     int
	called    bool // a tool was called
	// candidates holds each candidate's state, by its index.
	candidates map[int]*streamCandidate
	done       bool
}

type streamCandidate struct {
	roleSent, finished bool
}

// Event translates one Gemini chunk's data into the data of the chat
// chunks that stand for it (none for a chunk that says nothing new;
// "[DONE]" last). Anything after the end is dropped.
func (s *GeminiChatStream) Event(data []byte) [][]byte {
	if s.done || !jsonbound.Valid(data) {
		return nil
	}
	if s.candidates == nil {
		s.candidates = map[int]*streamCandidate{}
		if s.NewID == nil {
			s.NewID = newCallID
		}
	}
	ch := jsonbound.ParseInPlace(data)
	if !ch.IsObject() {
		return nil
	}
	if e := ch.Get("error"); e.Exists() && e.Type != gjson.Null {
		s.done = true
		status := int(e.Get("code").Int())
		if status < 400 || status > 599 {
			status = 500
		}
		return [][]byte{GeminiErrorToOpenAI(status, data)}
	}
	if s.id == "" {
		// The first responseId is the stream's, as LiteLLM keeps it.
		if s.id = strings.Clone(ch.Get("responseId").Str); s.id == "" {
			s.id = "chatcmpl-" + s.NewID()
		}
	}
	if m := ch.Get("modelVersion").Str; m != "" {
		s.model = strings.Clone(servedModel(m))
	}
	if u := ch.Get("usageMetadata"); u.IsObject() {
		s.usage = kept(u) // cumulative: the last is the whole stream's
	}
	s.grounded = s.grounded || searchGrounded(ch.Get("candidates"))
	var out [][]byte
	if ch.Get("promptFeedback.blockReason").String() != "" {
		finish := "content_filter"
		out = append(out, s.emit(0, delta{}, nil, &finish))
		s.candidate(0).finished = true
	}
	pos := 0
	ch.Get("candidates").ForEach(func(_, c gjson.Result) bool {
		index := pos
		if i := c.Get("index"); i.Type == gjson.Number {
			index = int(i.Int())
		}
		pos++
		cand := s.candidate(index)
		if cand.finished {
			return true
		}
		parts := geminiParts(c.Get("content.parts"), &s.calls, s.NewID)
		var d delta
		if parts.hasText {
			t := parts.text.String()
			d.Content = &t
		}
		if parts.hasThought {
			t := parts.thought.String()
			d.ReasoningContent = &t
		}
		d.ToolCalls = parts.calls
		s.called = s.called || len(parts.calls) > 0
		logprobs := geminiLogprobs(c.Get("logprobsResult"))
		if d.Content != nil || d.ReasoningContent != nil || len(d.ToolCalls) > 0 || logprobs != nil {
			out = append(out, s.emit(index, d, logprobs, nil))
		}
		if reason := c.Get("finishReason").Str; reason != "" {
			// Tool calls come before the finish, in chunks of their own:
			// a stop after any is tool_calls (LiteLLM's
			// has_seen_tool_calls); another reason stays.
			finish := GeminiFinishReason(reason, len(parts.calls) > 0)
			if finish == "stop" && s.called {
				finish = "tool_calls"
			}
			out = append(out, s.emit(index, delta{}, nil, &finish))
			cand.finished = true
		}
		return true
	})
	if s.allFinished() {
		s.done = true
		if s.IncludeUsage {
			out = append(out, s.UsageChunk())
		}
		out = append(out, []byte("[DONE]"))
	}
	return out
}

func (s *GeminiChatStream) candidate(index int) *streamCandidate {
	c := s.candidates[index]
	if c == nil {
		c = &streamCandidate{}
		s.candidates[index] = c
	}
	return c
}

// allFinished reports whether the stream has had candidates and all have
// finished.
func (s *GeminiChatStream) allFinished() bool {
	for _, c := range s.candidates {
		if !c.finished {
			return false
		}
	}
	return len(s.candidates) > 0
}

// HasUsage reports whether the stream has carried a usageMetadata.
func (s *GeminiChatStream) HasUsage() bool { return s.usage.Exists() }

// UsageChunk is the usage chunk of the stream so far (choices empty, the
// usage in OpenAI's terms): what a client that asked for usage gets before
// [DONE], and what the span is given when the client did not ask.
func (s *GeminiChatStream) UsageChunk() []byte {
	b, _ := json.Marshal(chatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.Created, Model: s.model,
		Choices: []chunkChoice{}, Usage: GeminiUsage(s.usage, s.grounded)})
	return b
}

// emit is the chunk of one candidate's delta; its first also carries the
// role.
func (s *GeminiChatStream) emit(index int, d delta, logprobs json.RawMessage, finish *string) []byte {
	c := s.candidate(index)
	if !c.roleSent {
		d.Role, c.roleSent = "assistant", true
	}
	b, _ := json.Marshal(chatChunk{ID: s.id, Object: "chat.completion.chunk", Created: s.Created, Model: s.model,
		Choices: []chunkChoice{{Index: index, Delta: d, Logprobs: logprobs, FinishReason: finish}}})
	return b
}
