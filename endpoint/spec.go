// Package endpoint describes each API the proxy serves, one description
// per API in one place, as Envoy AI Gateway's endpointspec does: its routes,
// where the model is named (the body, or a path parameter), how a stream is
// asked for (a body member, or the route itself), the dialect it speaks and
// the error envelope its callers expect, its span operation, how its
// streams are framed and accumulated, and the translations that carry it to
// providers of other dialects. The proxy's router and traced request path
// (package handlers) read these descriptions and have no branch of their own
// per API.
//
// Files: spec.go (the types), route.go (route patterns), and one file per
// API family: openai.go (chat completions, completions, embeddings, and
// the generic pass-through), responses.go, messages.go. All lists them.
//
// Adding an API (native Gemini, Bedrock Converse) is: its wire format in a
// package of its own (errors), its span mapping in spans/, its stream
// accumulator (and framer, if new) in stream/, its provider family in
// upstream/, its description in a file here, and its line in All.
package endpoint

import (
	"net/http"
	"strings"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// Spec describes one traced API.
type Spec struct {
	// Name names the API in logs and metrics (their route label): the
	// upstream path of OpenAI's APIs ("/chat/completions").
	Name string
	// Routes are the client's routes that serve it.
	Routes []Route
	// Dialect is the wire API its calls speak: a provider that speaks it
	// gets the call as it came; one of another dialect through
	// Translators.
	Dialect upstream.Dialect
	// Path is the upstream path under the provider's base URL. "{model}"
	// in it is replaced by the model as the target provider names it, and
	// any other "{name}" by the route's parameter of that name, as the
	// client sent it. "" means the route's own path, less its Prefix
	// (Google's APIs, whose paths carry their version and resource names).
	Path string
	// Home, when set, names the provider (package upstream's name) of a
	// call whose model the config file does not route; "" means the
	// provider of the dialect's own API (Anthropic's for the Messages API).
	Home string
	// ModelParam, when set, names the route parameter that carries the
	// model (Gemini's /models/{model}:generateContent); "" means the
	// body's "model" member, which must then be there.
	ModelParam string
	// Op is the span's operation. OpFor, when set, may pick another from
	// the request's headers (an SDK's stream helper names its calls).
	Op    *spans.Operation
	OpFor func(h http.Header) *spans.Operation
	// NewAccumulator makes the accumulator of one of its streams; nil for
	// an API that does not stream.
	NewAccumulator func() stream.Accumulator
	// Framing is how its streams are framed. AskedFraming, when set, is a
	// second framing whose media type is also a whole answer's (Gemini's
	// streamed JSON array, application/json): an answer is read in it
	// only on a route that streams, when it succeeded.
	Framing      stream.Framing
	AskedFraming *stream.Framing
	// WriteError answers with one of the proxy's own errors in the
	// envelope its callers expect.
	WriteError func(w http.ResponseWriter, e *openai.Error)
	// Usage, when set, is the dialect's usage option: its streams carry
	// token counts only when asked, so the proxy asks on the client's
	// behalf and takes out again what the client did not ask for.
	Usage *UsageOption
	// Mock: LiteLLM's mock_response is answered by the proxy itself, in
	// this API's format.
	Mock bool
	// LiteLLMMetadata: the body's metadata member is LiteLLM's (tags,
	// trace_user_id, spend-log fields), read and never forwarded, as
	// LiteLLM's proxy does on the APIs that it treats as having none of
	// their own (BerriAI/litellm #9104).
	LiteLLMMetadata bool
	// Translators carry its calls to providers of other dialects, by the
	// provider's dialect.
	Translators map[upstream.Dialect]translate.Translator
}

// UsageOption is how a dialect's streams are made to carry their token
// counts.
type UsageOption struct {
	// Ask returns the body asking for the usage.
	Ask func(body []byte) []byte
	// Strip makes the rewriter that takes out of one stream what asking
	// added.
	Strip func() stream.Rewriter
}

// UpstreamPattern is the upstream path pattern of a call on route r.
func (s *Spec) UpstreamPattern(r Route) string {
	if s.Path != "" {
		return s.Path
	}
	return strings.TrimPrefix(r.Path, r.Prefix)
}

// StreamFraming is the framing of an answer with this Content-Type and
// status to a call that asked for a stream or not, and whether it is a
// stream at all.
func (s *Spec) StreamFraming(contentType string, status int, asked bool) (stream.Framing, bool) {
	if s.Framing.Streams(contentType) {
		return s.Framing, true
	}
	if f := s.AskedFraming; f != nil && asked && status < 300 && f.Streams(contentType) {
		return *f, true
	}
	return s.Framing, false
}

// SpanOp is the span operation of a call with these request headers.
func (s *Spec) SpanOp(h http.Header) *spans.Operation {
	if s.OpFor != nil {
		if op := s.OpFor(h); op != nil {
			return op
		}
	}
	return s.Op
}

// Forward describes routes the proxy forwards untouched, each call with a
// span of its own.
type Forward struct {
	// Routes are the client's routes; a method of "*" is any.
	Routes []Route
	// Dialect picks the upstream: the provider of the dialect's own API
	// (the default one when that is not configured).
	Dialect upstream.Dialect
	// WriteError answers with one of the proxy's own errors in the
	// envelope its callers expect.
	WriteError func(w http.ResponseWriter, e *openai.Error)
	// Home, when set, names the provider (package upstream's name) the
	// routes go to, in place of the dialect's own.
	Home string
	// UpstreamPath, when set, is the upstream path of a request's escaped
	// path; nil means the path with /v1 taken off (the base URL has it).
	UpstreamPath func(escaped string) string
	// Op is the span of a call to the upstream path (the request's, /v1
	// taken off) and, for a route whose stream the proxy reads, that
	// stream's accumulator (nil otherwise). fullPath is the request's.
	Op func(method, path, fullPath string) (spans.Operation, func() stream.Accumulator)
}

// Upstream is the upstream path of a request's escaped path.
func (f *Forward) Upstream(escaped string) string {
	if f.UpstreamPath != nil {
		return f.UpstreamPath(escaped)
	}
	return APIPath(escaped)
}

// All are the traced APIs.
var All = []*Spec{&Chat, &Completions, &Embeddings, &Responses, &Messages,
	&GenerateContent, &StreamGenerateContent, &EmbedContent,
	&VertexGenerateContent, &VertexStreamGenerateContent, &VertexRawPredict,
	&BedrockConverse, &BedrockConverseStream, &BedrockInvoke, &BedrockInvokeStream}

// Forwards are the forwarded routes with spans of their own.
var Forwards = []*Forward{&ResponsesRoutes, &MessagesRoutes, &GeminiRoutes, &VertexRoutes}

// writeOpenAIError writes the OpenAI envelope.
func writeOpenAIError(w http.ResponseWriter, e *openai.Error) { e.Write(w) }
