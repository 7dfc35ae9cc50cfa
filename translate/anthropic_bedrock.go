package translate

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// BedrockAnthropicVersion is the anthropic_version Claude on Bedrock's
// InvokeModel requires in the body when the client gives none (LiteLLM's
// DEFAULT_BEDROCK_ANTHROPIC_API_VERSION).
const BedrockAnthropicVersion = "bedrock-2023-05-31"

// bedrockInvokeFields are the top-level members InvokeModel takes in a
// Claude body: the rest (model, stream, Anthropic-only extensions such as
// speed, mcp_servers, container, LiteLLM's own) is dropped, as LiteLLM's
// BedrockInvokeAnthropicMessagesRequest allowlist drops it, so Bedrock
// does not answer "Extra inputs are not permitted".
var bedrockInvokeFields = map[string]bool{
	"anthropic_version": true, "max_tokens": true, "messages": true, "anthropic_beta": true, "system": true,
	"stop_sequences": true, "temperature": true, "top_p": true, "top_k": true, "tools": true, "tool_choice": true,
	"thinking": true, "metadata": true, "output_config": true, "context_management": true,
}

// bedrockBetas are the anthropic-beta flags Claude on Bedrock takes, by the
// name Anthropic's API gives them, and Bedrock's name for each: LiteLLM's
// anthropic_beta_headers_config.json, "bedrock". Any other flag is
// dropped: Bedrock answers an unknown one with a 400.
var bedrockBetas = map[string]string{
	"advanced-tool-use-2025-11-20":              "tool-search-tool-2025-10-19",
	"compact-2026-01-12":                        "compact-2026-01-12",
	"computer-use-2025-01-24":                   "computer-use-2025-01-24",
	"computer-use-2025-11-24":                   "computer-use-2025-11-24",
	"context-1m-2025-08-07":                     "context-1m-2025-08-07",
	"context-management-2025-06-27":             "context-management-2025-06-27",
	"dangerous-tool-use-2026-09-03":             "dangerous-tool-use-2026-09-03",
	"effort-2025-11-24":                         "effort-2025-11-24",
	"fine-grained-tool-streaming-2025-05-14":    "fine-grained-tool-streaming-2025-05-14",
	"thinking-binding-controls-2026-08-01":      "thinking-binding-controls-2026-08-01",
	"tool-search-tool-2025-10-19":               "tool-search-tool-2025-10-19",
	"mid-conversation-output-config-2026-07-01": "mid-conversation-output-config-2026-07-01",
	"thinking-display-updates-2026-08-18":       "thinking-display-updates-2026-08-18",
	"mid-conversation-tool-changes-2026-07-01":  "mid-conversation-tool-changes-2026-07-01",
}

// compactEdit is the one context_management edit InvokeModel takes, with
// its beta flag.
const (
	compactEdit = "compact_20260112"
	compactBeta = "compact-2026-01-12"
)

// BedrockClaude reports whether a Bedrock model id is Claude's, whose
// InvokeModel body is the Messages API's: anthropic.… or an inference
// profile of it (us.anthropic.…, global.anthropic.…), or an ARN (an
// application inference profile names no family: the deployment's author
// chose it for the Messages API).
func BedrockClaude(id string) bool {
	return strings.Contains(id, "anthropic.") || strings.HasPrefix(id, "arn:")
}

// AnthropicToBedrockInvoke is the InvokeModel body of a Messages API
// request, as LiteLLM's AmazonAnthropicClaudeMessagesConfig makes it: the
// members Bedrock takes, byte for byte, in the client's order (no model,
// no stream: the path names both); anthropic_version when the client gave
// none; the anthropic-beta header's flags Bedrock takes in anthropic_beta,
// renamed as Bedrock names them (the body's own anthropic_beta wins);
// LiteLLM's "custom" taken off each tool; context_management with its
// compact edits only (its beta flag added), or dropped. stream reports
// whether the client asked for one. output_format, which InvokeModel does
// not take, is an error (a 400) rather than dropped unseen.
func AnthropicToBedrockInvoke(body []byte, betaHeaders []string) (up []byte, streams bool, err error) {
	req, err := messagesRequest(body)
	if err != nil {
		return nil, false, err
	}
	if req.Get("output_format").Exists() {
		return nil, false, fmt.Errorf("output_format is not taken by Claude on Bedrock's InvokeModel: use a tool, or output_config where the model has it")
	}
	betas := bedrockBetaList(betaHeaders)
	out := append(make([]byte, 0, len(body)+64), '{')
	member := func(name string, raw []byte) {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = openai.AppendJSONString(out, name)
		out = append(out, ':')
		out = append(out, raw...)
	}
	hasVersion, hasBeta := false, false
	req.ForEach(func(k, v gjson.Result) bool {
		switch name := k.String(); {
		case name == "stream":
			streams = v.Bool()
		case !bedrockInvokeFields[name]:
		case name == "tools" && v.IsArray():
			member(name, toolsWithoutCustom(v))
		case name == "context_management":
			if edits, ok := compactEdits(v); ok {
				member(name, edits)
				betas = appendBeta(betas, compactBeta)
			}
		default:
			hasVersion = hasVersion || name == "anthropic_version"
			hasBeta = hasBeta || name == "anthropic_beta"
			member(name, []byte(v.Raw))
		}
		return true
	})
	if !hasVersion {
		member("anthropic_version", openai.AppendJSONString(nil, BedrockAnthropicVersion))
	}
	if !hasBeta && len(betas) > 0 {
		list := []byte{'['}
		for i, b := range betas {
			if i > 0 {
				list = append(list, ',')
			}
			list = openai.AppendJSONString(list, b)
		}
		member("anthropic_beta", append(list, ']'))
	}
	return append(out, '}'), streams, nil
}

// messagesRequest parses a Messages API request's body: a JSON object
// with an array of messages, or an error (a 400).
func messagesRequest(body []byte) (gjson.Result, error) {
	if err := jsonbound.Check(body); err != nil {
		return gjson.Result{}, err
	}
	req := gjson.ParseBytes(body)
	if !req.IsObject() {
		return gjson.Result{}, fmt.Errorf("the request body must be a JSON object")
	}
	if !req.Get("messages").IsArray() {
		return gjson.Result{}, fmt.Errorf("messages: want an array of messages")
	}
	return req, nil
}

// bedrockBetaList is the anthropic-beta headers' flags (each header a
// comma-separated list) that Bedrock takes, in Bedrock's names, each once.
func bedrockBetaList(headers []string) []string {
	var out []string
	for _, h := range headers {
		for flag := range strings.SplitSeq(h, ",") {
			if b, ok := bedrockBetas[strings.TrimSpace(flag)]; ok {
				out = appendBeta(out, b)
			}
		}
	}
	return out
}

func appendBeta(list []string, b string) []string {
	for _, x := range list {
		if x == b {
			return list
		}
	}
	return append(list, b)
}

// toolsWithoutCustom is the tools array with LiteLLM's and Claude Code's
// "custom" member taken off each tool (Bedrock refuses it: BerriAI/litellm
// #22847), the rest byte for byte.
func toolsWithoutCustom(tools gjson.Result) []byte {
	out := []byte{'['}
	first := true
	tools.ForEach(func(_, tool gjson.Result) bool {
		if !first {
			out = append(out, ',')
		}
		first = false
		if c := tool.Get("custom"); tool.IsObject() && c.Exists() {
			out = append(out, withoutMember(tool, "custom")...)
			return true
		}
		out = append(out, tool.Raw...)
		return true
	})
	return append(out, ']')
}

// withoutMember is an object's JSON without one member, the others byte
// for byte.
func withoutMember(obj gjson.Result, name string) []byte {
	out := []byte{'{'}
	obj.ForEach(func(k, v gjson.Result) bool {
		if k.String() == name {
			return true
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, k.Raw...)
		out = append(out, ':')
		out = append(out, v.Raw...)
		return true
	})
	return append(out, '}')
}

// compactEdits is context_management with its compact edits only, the
// one kind InvokeModel takes (BerriAI/litellm #27532: Claude Code sends
// clear_thinking edits on every call), and false when none is left.
func compactEdits(cm gjson.Result) ([]byte, bool) {
	edits := cm.Get("edits")
	if !cm.IsObject() || !edits.IsArray() {
		return nil, false
	}
	list := []byte{'['}
	edits.ForEach(func(_, e gjson.Result) bool {
		if e.Get("type").String() == compactEdit {
			if len(list) > 1 {
				list = append(list, ',')
			}
			list = append(list, e.Raw...)
		}
		return true
	})
	if len(list) == 1 {
		return nil, false
	}
	return withMember(cm, "edits", append(list, ']')), true
}

// AnthropicBedrock carries Messages API calls to Claude on Bedrock
// Runtime's InvokeModel (InvokeModelWithResponseStream for a stream), as
// LiteLLM's /v1/messages does for a bedrock/ Claude deployment.
var AnthropicBedrock Translator = anthropicBedrock{}

type anthropicBedrock struct{}

// Request is RequestWithHeader without the client's headers.
func (t anthropicBedrock) Request(body []byte, model string, p *upstream.Provider) ([]byte, string, error) {
	return t.RequestWithHeader(body, nil, model, p)
}

// RequestWithHeader is the InvokeModel body of the call
// (AnthropicToBedrockInvoke, the anthropic-beta headers read) and its
// path: /model/{id}/invoke, or /invoke-with-response-stream. A model that
// is not Claude's is an error: its InvokeModel body is another family's.
func (anthropicBedrock) RequestWithHeader(body []byte, h http.Header, model string, _ *upstream.Provider) ([]byte, string, error) {
	if !BedrockClaude(model) {
		return nil, "", fmt.Errorf("model %q is not Claude: the Messages API reaches Bedrock's Claude models only "+
			"(anthropic.…, an inference profile such as us.anthropic.…, or an ARN); call Bedrock Runtime's own routes for it", model)
	}
	up, streams, err := AnthropicToBedrockInvoke(body, h.Values("Anthropic-Beta"))
	if err != nil {
		return nil, "", err
	}
	op := "invoke"
	if streams {
		op = "invoke-with-response-stream"
	}
	return up, upstream.BedrockModelPath(model, op), nil
}

// Header takes off what the Messages API's clients send that must not
// reach AWS: their Anthropic key (x-api-key; Authorization is the Bedrock
// provider's to decide), the version and beta headers (the body carries
// them), and Accept (the SDK's application/json would do, an
// event-stream client's would not: Bedrock's default is right for both).
func (anthropicBedrock) Header(h http.Header, _ *upstream.Provider) {
	for _, k := range []string{"X-Api-Key", "Anthropic-Version", "Anthropic-Beta", "Accept"} {
		h.Del(k)
	}
}

// Answer is the client's answer: InvokeModel's Claude answer is the
// Messages API's JSON already, passed as it came; an error becomes
// Anthropic's envelope, its status kept (BedrockErrorToAnthropic).
func (anthropicBedrock) Answer(status int, body []byte, _ string) ([]byte, error) {
	if status >= 400 {
		return BedrockErrorToAnthropic(status, body), nil
	}
	return body, nil
}

func (anthropicBedrock) Framing() stream.Framing { return stream.EventStream }

func (anthropicBedrock) Stream(*openai.Request, string) Stream { return &BedrockAnthropicStream{} }
