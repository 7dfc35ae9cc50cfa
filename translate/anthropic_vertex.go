package translate

import (
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// VertexAnthropicVersion is the anthropic_version Claude on Vertex AI
// requires in the body, in place of the anthropic-version header.
const VertexAnthropicVersion = "vertex-2023-10-16"

// vertexBetas are the anthropic-beta flags Claude on Vertex AI takes, by
// the name Anthropic's API gives them, and Vertex AI's name for each:
// LiteLLM's anthropic_beta_headers_config.json, "vertex_ai". Any other
// flag is dropped (Claude Code's claude-code-20250219 and
// prompt-caching-scope-2026-01-05 among them): Vertex AI answers a flag
// it does not know with a 400.
var vertexBetas = map[string]string{
	"advanced-tool-use-2025-11-20":         "tool-search-tool-2025-10-19",
	"compact-2026-01-12":                   "compact-2026-01-12",
	"compact-2026-09-04":                   "compact-2026-09-04",
	"computer-use-2025-01-24":              "computer-use-2025-01-24",
	"computer-use-2025-11-24":              "computer-use-2025-11-24",
	"context-1m-2025-08-07":                "context-1m-2025-08-07",
	"context-management-2025-06-27":        "context-management-2025-06-27",
	"dangerous-tool-use-2026-09-03":        "dangerous-tool-use-2026-09-03",
	"interleaved-thinking-2025-05-14":      "interleaved-thinking-2025-05-14",
	"per-turn-control-2026-07-01":          "per-turn-control-2026-07-01",
	"thinking-binding-controls-2026-08-01": "thinking-binding-controls-2026-08-01",
	"thinking-display-updates-2026-08-18":  "thinking-display-updates-2026-08-18",
	"tool-search-tool-2025-10-19":          "tool-search-tool-2025-10-19",
	"web-search-2025-03-05":                "web-search-2025-03-05",
}

// AnthropicToVertex is the :rawPredict body of a Messages API request, as
// LiteLLM's VertexAIPartnerModelsAnthropicMessagesConfig makes it: the
// client's members byte for byte, in its order, but the model (the path
// names it) and LiteLLM's own members; anthropic_version
// (VertexAnthropicVersion) when the client gave none; the scope member
// taken off every cache_control of the system prompt's, the messages' and
// the tools' blocks, which Vertex AI refuses. stream stays in the body
// (streamRawPredict wants it too); streams reports whether the client
// asked for one.
func AnthropicToVertex(body []byte) (up []byte, streams bool, err error) {
	req, err := messagesRequest(body)
	if err != nil {
		return nil, false, err
	}
	out := append(make([]byte, 0, len(body)+48), '{')
	member := func(key string, raw []byte) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, key...)
		out = append(out, ':')
		out = append(out, raw...)
	}
	hasVersion := false
	req.ForEach(func(k, v gjson.Result) bool {
		switch name := k.String(); {
		case name == "model" || openai.LiteLLMField(name):
		case name == "system" || name == "tools":
			member(k.Raw, blocksWithoutCacheScope(v))
		case name == "messages":
			member(k.Raw, messagesWithoutCacheScope(v))
		default:
			streams = streams || name == "stream" && v.Type == gjson.True
			hasVersion = hasVersion || name == "anthropic_version"
			member(k.Raw, []byte(v.Raw))
		}
		return true
	})
	if !hasVersion {
		member(`"anthropic_version"`, openai.AppendJSONString(nil, VertexAnthropicVersion))
	}
	return append(out, '}'), streams, nil
}

// blocksWithoutCacheScope is a list of blocks (content blocks, tools) with
// scope taken off each one's cache_control, the rest byte for byte; any
// other value as it is.
func blocksWithoutCacheScope(list gjson.Result) []byte {
	if !anyElement(list, scopedCache) {
		return []byte(list.Raw)
	}
	return mapArray(list, func(b gjson.Result) []byte {
		if !scopedCache(b) {
			return []byte(b.Raw)
		}
		return withMember(b, "cache_control", withoutMember(b.Get("cache_control"), "scope"))
	})
}

// scopedCache reports whether a block's cache_control has a scope.
func scopedCache(b gjson.Result) bool {
	cc := b.Get("cache_control")
	return b.IsObject() && cc.IsObject() && cc.Get("scope").Exists()
}

// messagesWithoutCacheScope is the messages with scope taken off the
// cache_control of each one's content blocks.
func messagesWithoutCacheScope(msgs gjson.Result) []byte {
	scoped := func(m gjson.Result) bool { return m.IsObject() && anyElement(m.Get("content"), scopedCache) }
	if !anyElement(msgs, scoped) {
		return []byte(msgs.Raw)
	}
	return mapArray(msgs, func(m gjson.Result) []byte {
		if !scoped(m) {
			return []byte(m.Raw)
		}
		return withMember(m, "content", blocksWithoutCacheScope(m.Get("content")))
	})
}

// anyElement reports whether v is an array with an element for which f is
// true.
func anyElement(v gjson.Result, f func(gjson.Result) bool) bool {
	found := false
	if v.IsArray() {
		v.ForEach(func(_, e gjson.Result) bool {
			found = f(e)
			return !found
		})
	}
	return found
}

// mapArray is an array's JSON with each element replaced by f's.
func mapArray(list gjson.Result, f func(gjson.Result) []byte) []byte {
	out := []byte{'['}
	list.ForEach(func(_, v gjson.Result) bool {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, f(v)...)
		return true
	})
	return append(out, ']')
}

// withMember is an object's JSON with one member's value replaced, the
// others byte for byte.
func withMember(obj gjson.Result, name string, raw []byte) []byte {
	out := []byte{'{'}
	obj.ForEach(func(k, v gjson.Result) bool {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, k.Raw...)
		out = append(out, ':')
		if k.String() == name {
			out = append(out, raw...)
		} else {
			out = append(out, v.Raw...)
		}
		return true
	})
	return append(out, '}')
}

// VertexBetas is the anthropic-beta header Claude on Vertex AI gets for
// the client's (each header a comma-separated list): the flags it takes,
// in its names, each once, in the client's order; "" when none is left.
func VertexBetas(headers []string) string {
	var out []string
	for _, h := range headers {
		for flag := range strings.SplitSeq(h, ",") {
			if b, ok := vertexBetas[strings.TrimSpace(flag)]; ok {
				out = appendBeta(out, b)
			}
		}
	}
	return strings.Join(out, ",")
}

// AnthropicVertex carries Messages API calls to Claude on Vertex AI's
// :rawPredict (:streamRawPredict for a stream), as LiteLLM's /v1/messages
// does for a vertex_ai/claude-… deployment: the request adapted
// (AnthropicToVertex), the answer and its stream the Messages API's as
// they come.
var AnthropicVertex Translator = anthropicVertex{}

type anthropicVertex struct{}

// Request is the rawPredict body of the call (AnthropicToVertex) and its
// path under the provider's project and location
// (upstream.Provider.VertexModelPath): an error for a provider that is not
// Vertex AI's, one with no project, a model that is not one path segment.
func (anthropicVertex) Request(body []byte, model string, p *upstream.Provider) ([]byte, string, error) {
	up, streams, err := AnthropicToVertex(body)
	if err != nil {
		return nil, "", err
	}
	method := "rawPredict"
	if streams {
		method = "streamRawPredict"
	}
	path, err := p.VertexModelPath(model, method)
	if err != nil {
		return nil, "", err
	}
	return up, path, nil
}

// Header takes off what the Messages API's clients send that must not
// reach Google: their Anthropic key (x-api-key; Authorization is the
// Vertex AI provider's to decide: its token, or the client's own), the
// version header (the body carries it), and the anthropic-beta flags
// Vertex AI does not take (VertexBetas).
func (anthropicVertex) Header(h http.Header, _ *upstream.Provider) {
	h.Del("X-Api-Key")
	h.Del("Anthropic-Version")
	if betas := h.Values("Anthropic-Beta"); len(betas) > 0 {
		h.Del("Anthropic-Beta")
		if b := VertexBetas(betas); b != "" {
			h.Set("Anthropic-Beta", b)
		}
	}
}

// Answer is the client's answer: Claude's answer and its errors are the
// Messages API's, passed as they came; an error of Vertex AI's own (a
// token refused, a quota, a model not enabled: Google's envelope) becomes
// Anthropic's envelope, its status and message kept
// (VertexErrorToAnthropic).
func (anthropicVertex) Answer(status int, body []byte, _ string) ([]byte, error) {
	if status >= 400 {
		return VertexErrorToAnthropic(status, body), nil
	}
	return body, nil
}

// VertexErrorToAnthropic is the Messages API's error answer for an error
// answer of Claude on Vertex AI: Anthropic's envelope
// ({"type":"error",…}) as it came; Google's ({"error":{"code","message",
// "status"}}, or a list of it) as Anthropic's, of the type Anthropic
// gives the status, with Google's message; any other body quoted,
// bounded.
func VertexErrorToAnthropic(status int, body []byte) []byte {
	e := gjson.ParseBytes(body)
	if e.Get("type").Str == "error" && e.Get("error").IsObject() {
		return body
	}
	if e.IsArray() {
		e = e.Get("0")
	}
	msg := e.Get("error.message")
	text := msg.Str
	if msg.Type != gjson.String {
		text = strings.TrimSpace(string(body))
		if len(text) > 512 {
			text = text[:512] + "…"
		}
	}
	return anthropic.ErrorBody(anthropic.TypeFor(status), text)
}

func (anthropicVertex) Framing() stream.Framing { return stream.SSE }

// Stream passes Claude's stream on as it came: it is the Messages API's.
func (anthropicVertex) Stream(*openai.Request, string) Stream { return passThrough{} }

// passThrough is the Stream of a provider whose events are the client's
// dialect already: each event's bytes as they came, its data to the
// accumulator. It holds no state.
type passThrough struct{}

func (passThrough) Rewrite(out []byte, ev stream.Event, add func([]byte)) []byte {
	if ev.HasData {
		add(ev.Data)
	}
	return append(out, ev.Raw...)
}

// Rest passes on what is held of an unfinished event as it came.
func (passThrough) Rest(pending []byte) []byte { return pending }

// Bounded is true: an event too large to hold goes out as it comes, and
// so does the rest of the stream.
func (passThrough) Bounded() bool { return true }

// ContentType is "": the client gets the provider's.
func (passThrough) ContentType() string { return "" }

// End adds nothing: Claude's stream carries its usage itself.
func (passThrough) End(func([]byte)) {}
