package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// maxTracedForward is how much of a forwarded request or answer is kept to
// trace it. Bodies are streamed through whatever their size; past this the
// span simply has no input or output value.
const maxTracedForward = 1 << 20

// forwardNames are the span names the OpenAI instrumentor gives the calls
// the proxy forwards without modelling them; other paths are named by
// method and path.
var forwardNames = map[string]string{
	"/images/generations":   "ImagesResponse",
	"/images/edits":         "ImagesResponse",
	"/images/variations":    "ImagesResponse",
	"/audio/transcriptions": "Transcription",
	"/audio/translations":   "Translation",
	"/audio/speech":         "Speech",
	"/moderations":          "ModerationCreateResponse",
}

// forwardOp is the span of a forwarded call and, for a route that may
// answer with an event stream the proxy can read, that stream's dialect
// (nil otherwise). The Responses API's routes beyond create have spans of
// their own; other paths get a generic span, named as the instrumentor
// names it or else by method and path.
func forwardOp(method, path, fullPath string) (spans.Operation, func() stream.Accumulator) {
	if method == http.MethodPost && path == "/messages/count_tokens" {
		return spans.AnthropicCountTokens, nil
	}
	if rest, ok := strings.CutPrefix(path, "/responses/"); ok {
		id, sub, _ := strings.Cut(rest, "/")
		switch {
		case method == http.MethodPost && rest == "input_tokens":
			return spans.ResponsesInputTokens, nil
		case method == http.MethodGet && sub == "" && id != "":
			return spans.ResponsesRetrieve, newResponsesAcc
		case method == http.MethodPost && sub == "cancel":
			return spans.ResponsesCancel, nil
		case method == http.MethodDelete && sub == "":
			return spans.Generic("responses.delete"), nil
		case method == http.MethodGet && sub == "input_items":
			return spans.Generic("responses.input_items"), nil
		}
	}
	name, known := forwardNames[path]
	if !known {
		name = method + " " + fullPath
	}
	return spans.Generic(name), nil
}

// newForwarder is the reverse proxy for every /v1 path the proxy does not
// model: bodies pass untouched both ways, streams flush as they come.
func (h *Handler) newForwarder() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			p := h.forwardProvider(pr.In.URL.Path)
			target, err := url.Parse(p.URL(apiPath(pr.In.URL.Path), "", pr.In.URL.RawQuery))
			if err != nil {
				return // unreachable: the base URL was checked at start-up
			}
			pr.Out.URL = target
			pr.Out.Host = ""
			pr.Out.Header.Del("X-Phoenix-Project-Name") // the proxy's own
			_ = p.Authorize(pr.Out, nil)                // the header families cannot fail
		},
		Transport: h.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status, kind, cause := classify(r.Context(), r.Context(), err)
			if c := callFrom(r); c != nil {
				c.Fail(kind, cause)
			}
			if h.forwardProvider(r.URL.Path).Dialect() == upstream.Anthropic {
				anthropic.WriteError(w, status, upstreamError(status, cause).Message)
				return
			}
			upstreamError(status, cause).Write(w)
		},
	}
}

// cleanPath reports whether a (decoded) path has no ".", ".." or empty
// segment after its leading slash.
func cleanPath(p string) bool {
	for _, seg := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		if seg == "." || seg == ".." || seg == "" {
			return false
		}
	}
	return true
}

// forwardProvider is the upstream of a forwarded path: Anthropic for the
// Messages API's routes, else the default (OpenAI's base URL).
func (h *Handler) forwardProvider(path string) *upstream.Provider {
	if strings.HasPrefix(apiPath(path), "/messages/") && h.providers.Home(upstream.Anthropic) != nil {
		return h.providers.Home(upstream.Anthropic)
	}
	return h.providers.Default()
}

// apiPath is a request path without its /v1 prefix: the provider's base URL
// has it.
func apiPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/v1"); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	return p
}

// callKey carries the span of a forwarded call to the error handler.
type callKey struct{}

func withCall(ctx context.Context, c *spans.Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

func callFrom(r *http.Request) *spans.Call {
	c, _ := r.Context().Value(callKey{}).(*spans.Call)
	return c
}

// serveForward forwards a call the proxy does not model and traces it with
// a generic span: JSON or form fields in, JSON out.
func (h *Handler) serveForward(w http.ResponseWriter, r *http.Request) {
	if !cleanPath(r.URL.Path) {
		// The upstream URL is the configured base plus this path: a path
		// that climbs out of it is refused, encoded or not.
		(&openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: "The request path has '.' or '..' segments or empty ones."}).Write(w)
		return
	}
	op, newAcc := forwardOp(r.Method, apiPath(r.URL.Path), r.URL.Path)

	// Keep the start of the body to trace it; the whole body still streams.
	var in []byte
	if r.Body != nil && r.Body != http.NoBody {
		head, err := io.ReadAll(io.LimitReader(r.Body, maxTracedForward))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close") // see serveModel
			(&openai.Error{Status: http.StatusRequestTimeout, Type: openai.TypeTimeout,
				Message: fmt.Sprintf("The request body was not received within %s.", h.bodyReadTimeout)}).Write(w)
			return
		}
		if err != nil {
			upstreamError(http.StatusBadRequest, err).Write(w)
			return
		}
		in = head
		if len(head) < maxTracedForward {
			// The whole body: forward it from memory, with its length.
			r.Body = io.NopCloser(bytes.NewReader(head))
			r.ContentLength = int64(len(head))
		} else {
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		}
	}
	traced := requestJSON(r.Header.Get("Content-Type"), in, len(in) < maxTracedForward)

	project, e := h.project(r.Header, "")
	if e != nil {
		e.Write(w)
		return
	}
	p := h.forwardProvider(r.URL.Path)
	ctx := joinTrace(r, "")
	ctx, call := h.recorder.Start(ctx, spans.Request{
		Op: &op, System: p.System, Provider: p.Host, Body: traced,
		SessionID: sessionID(r.Header), UserID: r.Header.Get("X-User-Id"), Tags: tags(r.Header),
		HeaderMetadata: r.Header.Get("X-Litellm-Spend-Logs-Metadata"), Project: project,
	})
	rec := &recorder{ResponseWriter: w, newAcc: newAcc, call: call}
	ok := false
	defer func() {
		switch {
		case rec.status >= 400:
			call.UpstreamError(rec.status, rec.body.Bytes())
		case rec.acc != nil:
			_ = call.Response(rec.acc.Result()) // always an object
			switch e := rec.acc.Err(); {
			case e != "":
				call.Fail(failStream, fmt.Errorf("error event in stream: %s", e))
			case !rec.acc.Done():
				call.Fail(failStream, errors.New("stream ended before its last event"))
			default:
				ok = true
			}
		case rec.status > 0 && rec.traced():
			// A generic span promises no parsed answer: one that is no
			// JSON object is kept as text, and the call stays a success.
			_ = call.Response(rec.body.Bytes())
			ok = true
		case rec.status > 0:
			ok = true
		}
		call.End(ok)
	}()
	h.forwarder.ServeHTTP(rec, r.WithContext(withCall(ctx, call)))
}

// requestJSON is the JSON a forwarded request is traced with: its body if
// JSON, the fields of a multipart form (files left out), else nothing.
func requestJSON(contentType string, body []byte, whole bool) []byte {
	mt, params, err := mime.ParseMediaType(contentType)
	switch {
	case err != nil:
		return nil
	case isJSON(contentType) && whole && jsonbound.Valid(body):
		return body
	case mt == "multipart/form-data" && params["boundary"] != "":
		return formJSON(body, params["boundary"])
	}
	return nil
}

// formJSON reads the non-file fields of a multipart form, as far as the
// kept head of the body reaches, into a JSON object.
func formJSON(body []byte, boundary string) []byte {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	out := []byte{'{'}
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if part.FileName() != "" || part.FormName() == "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, maxTracedForward))
		if err != nil {
			break
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = openai.AppendJSONString(out, part.FormName())
		out = append(out, ':')
		out = openai.AppendJSONString(out, string(v))
	}
	if len(out) == 1 {
		return nil
	}
	return append(out, '}')
}

// recorder notes the status of a forwarded answer and keeps the start of a
// JSON body, or, for a route whose stream dialect the proxy reads, follows
// the event stream as it passes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
	json   bool
	over   bool

	newAcc func() stream.Accumulator // the route's stream dialect, or nil
	call   *spans.Call
	acc    stream.Accumulator // set once a successful event stream starts
	parser stream.Parser
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
		rec.json = isJSON(rec.Header().Get("Content-Type"))
		if rec.newAcc != nil && status < 400 && isEventStream(rec.Header()) {
			rec.acc = rec.newAcc()
			rec.parser.MaxEvent = maxTracedEvent
		}
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.json && !rec.over {
		if rec.body.Len()+len(p) > maxTracedForward {
			rec.over = true
		} else {
			rec.body.Write(p)
		}
	}
	n, err := rec.ResponseWriter.Write(p)
	if rec.acc != nil {
		// The bytes are out (the reverse proxy flushes event streams after
		// each write); now a copy is read.
		first := false
		rec.parser.Feed(p[:n], func(ev stream.Event) {
			if ev.HasData {
				if f, _ := rec.acc.Add(ev.Data); f {
					first = true
				}
			}
		})
		if first {
			_ = http.NewResponseController(rec.ResponseWriter).Flush()
			rec.call.FirstToken()
		}
	}
	return n, err
}

// traced reports whether the whole answer was kept as JSON.
func (rec *recorder) traced() bool { return rec.json && !rec.over }

// Unwrap lets http.ResponseController (used by ReverseProxy to flush) reach
// the real writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
