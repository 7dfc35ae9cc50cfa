package translate

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/stream"
)

// BedrockErrorToAnthropic is the Messages API's error answer for a Bedrock
// Runtime error answer ({"message": …}, or "Message" as some of its
// services write it): the error type Anthropic gives the status, the
// message Bedrock's. A body with no message is quoted, bounded.
func BedrockErrorToAnthropic(status int, body []byte) []byte {
	msg := gjson.GetBytes(body, "message")
	if !msg.Exists() {
		msg = gjson.GetBytes(body, "Message")
	}
	text := msg.String()
	if msg.Type != gjson.String {
		text = strings.TrimSpace(string(body))
		if len(text) > 512 {
			text = text[:512] + "…"
		}
	}
	return anthropic.ErrorBody(anthropic.TypeFor(status), text)
}

// bedrockExceptionTypes are the Anthropic error types of the exceptions
// that end an InvokeModelWithResponseStream (the event stream's
// :exception-type, as boto3 names the union's members).
var bedrockExceptionTypes = map[string]string{
	"throttlingException":         anthropic.TypeRateLimit,
	"serviceUnavailableException": anthropic.TypeOverloaded,
	"validationException":         anthropic.TypeInvalidRequest,
	"modelTimeoutException":       anthropic.TypeTimeout,
	"internalServerException":     anthropic.TypeAPI,
	"modelStreamErrorException":   anthropic.TypeAPI,
}

// BedrockAnthropicStream turns an InvokeModelWithResponseStream event
// stream of Claude into the Messages API's SSE stream, event by event as
// they pass: each chunk's bytes (base64 of one Anthropic stream event's
// JSON) become "event: <its type>\ndata: <the JSON>\n\n", the JSON as
// Bedrock sent it (its amazon-bedrock-invocationMetrics member on
// message_stop too: the SDKs ignore it); an exception, or an event-stream
// error message, becomes Anthropic's error event, as the Anthropic SDK
// raises it. It holds no state: one per stream all the same.
type BedrockAnthropicStream struct{}

// Rewrite appends the client's SSE event for one event-stream message and
// gives its data to the accumulator.
func (s *BedrockAnthropicStream) Rewrite(out []byte, ev stream.Event, add func([]byte)) []byte {
	if !ev.HasData {
		return out
	}
	var typ string
	var data []byte
	switch {
	case ev.Type == "chunk":
		typ, data = claudeChunk(ev.Data)
	case strings.HasPrefix(ev.Type, "exception:"):
		name := strings.TrimPrefix(ev.Type, "exception:")
		kind, ok := bedrockExceptionTypes[name]
		if !ok {
			kind = anthropic.TypeAPI
		}
		msg := gjson.GetBytes(ev.Data, gjson.Escape(name)+".message").String()
		if name == "" {
			msg = gjson.GetBytes(ev.Data, "exception.message").String()
		}
		typ, data = "error", anthropic.ErrorBody(kind, strings.TrimSpace(name+": "+msg))
	case strings.HasPrefix(ev.Type, "error:"):
		e := gjson.GetBytes(ev.Data, "error")
		typ, data = "error", anthropic.ErrorBody(anthropic.TypeAPI, e.Get("code").String()+": "+e.Get("message").String())
	default:
		return out // initial-response and the like: nothing the client reads
	}
	out = append(out, "event: "...)
	out = append(out, typ...)
	out = append(out, "\ndata: "...)
	out = append(out, data...)
	out = append(out, "\n\n"...)
	add(data)
	return out
}

// claudeChunk is a chunk event's Anthropic event: its type and its JSON
// on one line. A chunk that holds no Anthropic event (not base64, not a
// JSON object with a type that can name an SSE event) is an api_error
// event: the client learns the stream went wrong there.
func claudeChunk(d []byte) (typ string, data []byte) {
	raw, err := base64.StdEncoding.DecodeString(gjson.GetBytes(d, "chunk.bytes").String())
	if err != nil || !gjson.ValidBytes(raw) {
		return "error", anthropic.ErrorBody(anthropic.TypeAPI, "Bedrock sent a stream chunk that holds no JSON event")
	}
	t := gjson.GetBytes(raw, "type")
	if t.Type != gjson.String || t.Str == "" || strings.ContainsAny(t.Str, "\r\n") || !gjson.ParseBytes(raw).IsObject() {
		return "error", anthropic.ErrorBody(anthropic.TypeAPI, "Bedrock sent a stream chunk that holds no Anthropic event")
	}
	if bytes.ContainsAny(raw, "\r\n") {
		// An SSE data line holds no line break: the JSON on one line.
		var b bytes.Buffer
		if json.Compact(&b, raw) == nil {
			raw = b.Bytes()
		}
	}
	return t.Str, raw
}

// Rest is nothing: half an event-stream message translates to nothing.
func (s *BedrockAnthropicStream) Rest([]byte) []byte { return nil }

// Bounded is false: every message is translated whole.
func (s *BedrockAnthropicStream) Bounded() bool { return false }

func (s *BedrockAnthropicStream) ContentType() string { return "text/event-stream; charset=utf-8" }

// End adds nothing: Claude's stream carries its usage itself.
func (s *BedrockAnthropicStream) End(func([]byte)) {}
