// Package translate carries a call made in one API to a provider that
// speaks another, and its answer back: the request, the whole answer, and a
// stream event by event as it passes. Each client→provider pair is one
// Translator, in a file named for the pair (openai_anthropic.go, with its
// answer direction in anthropic_openai.go; openai_gemini.go and
// gemini_openai.go for Google's generateContent; openai_bedrock.go and
// bedrock_openai.go for Bedrock's Converse), built from small pure
// functions, each behaviour a table row in its test. anthropic_bedrock.go
// (with bedrock_anthropic.go) carries the Messages API to Claude on
// Bedrock's InvokeModel, anthropic_vertex.go to Claude on Vertex AI's
// rawPredict (upstream.VertexAnthropic: the request adapted, the answer
// passed as it came). LiteLLM's semantics
// (field mappings, defaults, stop reasons, usage) are the reference.
package translate

import (
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// Translator carries calls of one client API to a provider of another
// dialect. Implementations hold no per-call state.
type Translator interface {
	// Request is the provider's request for the client's body, sent to
	// model (as the provider names it) at provider p, and the path it goes
	// to under p's base: p decides where a provider that hosts several
	// APIs of one dialect takes it (Vertex AI's paths carry its project
	// and location). An error is the client's fault (a 400).
	Request(body []byte, model string, p *upstream.Provider) (upBody []byte, path string, err error)
	// Header readies the client's headers for provider p: credentials
	// where p reads them, the headers it requires.
	Header(h http.Header, p *upstream.Provider)
	// Answer is the client's answer for the provider's whole answer with
	// its status, an error answer too; model is the one Request was given,
	// which the answer names when the provider's does not (Bedrock's).
	// An answer it cannot translate is an error: the client then gets a
	// 502.
	Answer(status int, body []byte, model string) ([]byte, error)
	// Framing is how the provider's streams are framed.
	Framing() stream.Framing
	// Stream starts the translation of one of the provider's streams for
	// the client's call to model (the one Request was given).
	Stream(req *openai.Request, model string) Stream
}

// HeaderRequester is a Translator whose request reads the client's
// headers too (the Messages API's anthropic-beta flags, which Bedrock
// takes in the body). The caller prefers RequestWithHeader, which is
// Request with h, the client's headers, read only.
type HeaderRequester interface {
	RequestWithHeader(body []byte, h http.Header, model string, p *upstream.Provider) (upBody []byte, path string, err error)
}

// Stream translates one stream, event by event as the relay passes them:
// a stream.Rewriter whose output is the client's events, which the
// client's accumulator reads.
type Stream interface {
	stream.Rewriter
	// ContentType is the Content-Type of the client's stream; "" keeps
	// the provider's (a stream that is the client's dialect already).
	ContentType() string
	// End gives the accumulator, once the provider's stream has ended,
	// what the stream said that the client did not ask to get (the usage
	// of a call that asked for none), so the span has it.
	End(add func(data []byte))
}

// chatChunks turns a provider's stream events into chat completion chunks,
// holding one stream's state.
type chatChunks interface {
	// Event is the client's chunks for one provider event's data.
	Event(data []byte) [][]byte
	// EndUsage is the usage chunk the span gets once the stream has
	// ended, when the client did not ask for it; nil otherwise.
	EndUsage() []byte
}

// chatSSE is the Stream of every translation to OpenAI chat: each provider
// event's chunks written as SSE events, every event translated whole.
type chatSSE struct{ conv chatChunks }

func (s *chatSSE) Rewrite(out []byte, ev stream.Event, add func([]byte)) []byte {
	if !ev.HasData {
		return out
	}
	return writeChunks(out, s.conv.Event(ev.Data), add)
}

// writeChunks appends chunks to out as SSE events, each given to add.
func writeChunks(out []byte, chunks [][]byte, add func([]byte)) []byte {
	for _, data := range chunks {
		out = append(out, "data: "...)
		out = append(out, data...)
		out = append(out, "\n\n"...)
		add(data)
	}
	return out
}

// Rest is nothing: half a provider event translates to nothing.
func (s *chatSSE) Rest([]byte) []byte { return nil }

// Bounded is false: every event is translated whole (the relay still
// bounds what one may hold: stream.ErrEventTooLarge).
func (s *chatSSE) Bounded() bool { return false }

func (s *chatSSE) ContentType() string { return "text/event-stream; charset=utf-8" }

// End gives the accumulator the usage the client did not ask for.
func (s *chatSSE) End(add func([]byte)) {
	if u := s.conv.EndUsage(); u != nil {
		add(u)
	}
}

// kept is a Result cloned: one that a stream keeps past its event. The
// streams read each event's data where it lies (jsonbound.ParseInPlace)
// and the relay reuses it once the event has passed, so what a stream
// keeps it clones (strings.Clone, kept); the stream tests hand each event
// in one buffer overwritten once it has been read, and compare.
func kept(r gjson.Result) gjson.Result {
	if !r.Exists() {
		return r
	}
	return gjson.Parse(strings.Clone(r.Raw))
}
