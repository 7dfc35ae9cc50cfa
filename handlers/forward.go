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

	"github.com/phoenixproxy/llmproxy/endpoint"
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

// newForwarder is the reverse proxy for the routes the proxy forwards
// without modelling them: bodies pass untouched both ways, streams flush as
// they come.
func (h *Handler) newForwarder() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			fc := forwardFrom(pr.In)
			// The path as the client sent it, encoding and all: decoding
			// it would let an encoded '?' become a query, and one level
			// of a double encoding be lost.
			target, err := url.Parse(fc.provider.URL(fc.fwd.Upstream(pr.In.URL.EscapedPath()), "", pr.In.URL.RawQuery))
			if err != nil {
				return // unreachable: the base URL was checked at start-up
			}
			pr.Out.URL = target
			pr.Out.Host = ""
			pr.Out.Header.Del("X-Phoenix-Project-Name") // the proxy's own
		},
		// The provider's credentials go on last, over the request as it
		// leaves (a failure is the error handler's 502).
		Transport: roundTripperFunc(func(out *http.Request) (*http.Response, error) {
			fc := forwardFrom(out)
			err := fc.provider.Authorize(out, nil)
			h.credentialsFound(fc.provider)
			if err != nil {
				return nil, fmt.Errorf("authorizing the request to %s: %w", fc.provider.Host, err)
			}
			return h.transport.RoundTrip(out)
		}),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			fc := forwardFrom(r)
			status, kind, cause := classify(r.Context(), r.Context(), err)
			fc.call.Fail(kind, cause)
			fc.fwd.WriteError(w, upstreamError(status, cause))
		},
	}
}

// forwardCall is what the forwarder's hooks need of a call.
type forwardCall struct {
	fwd      *endpoint.Forward
	provider *upstream.Provider
	call     *spans.Call
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type forwardKey struct{}

func forwardFrom(r *http.Request) *forwardCall {
	fc, _ := r.Context().Value(forwardKey{}).(*forwardCall)
	return fc
}

// cleanPath reports whether a path has no ".", ".." or empty segment
// after its leading slash: neither as the client sent it (escaped) nor
// decoded, however many times a segment is decoded (an upstream that
// decodes it again must not walk out of the base either).
func cleanPath(escaped string) bool {
	return cleanSegments(strings.TrimPrefix(escaped, "/"), 0)
}

// maxDecodings bounds how often a segment is decoded in search of a "..":
// more encodings than this is refused outright.
const maxDecodings = 4

func cleanSegments(p string, depth int) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." || seg == "" {
			return false
		}
		dec, err := url.PathUnescape(seg)
		switch {
		case err != nil || dec == seg:
			continue
		case depth == maxDecodings || !cleanSegments(dec, depth+1):
			return false
		}
	}
	return true
}

// forwardProvider is the upstream of a forwarded route: the provider it
// names, or that of its dialect's own API, else the default one.
func (h *Handler) forwardProvider(fwd *endpoint.Forward) (*upstream.Provider, *openai.Error) {
	if fwd.Home != "" {
		p, _, err := h.providers.RouteNamed(fwd.Home, "")
		if err != nil {
			return nil, routeError(err)
		}
		return p, nil
	}
	if p := h.providers.Home(fwd.Dialect); p != nil {
		return p, nil
	}
	return h.providers.Default(), nil
}

// serveForward forwards a call the proxy does not model and traces it with
// a span of its route: JSON or form fields in, JSON out, or a stream the
// proxy reads in the route's dialect.
func (h *Handler) serveForward(w http.ResponseWriter, r *http.Request, fwd *endpoint.Forward) {
	if !cleanPath(r.URL.EscapedPath()) {
		// The upstream URL is the configured base plus this path: a path
		// that climbs out of it is refused, encoded or not.
		fwd.WriteError(w, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: "The request path has '.' or '..' segments or empty ones."})
		return
	}
	op, newAcc := fwd.Op(r.Method, fwd.Upstream(r.URL.Path), r.URL.Path)

	// Keep the start of the body to trace it; the whole body still streams.
	var in []byte
	if r.Body != nil && r.Body != http.NoBody {
		head, err := io.ReadAll(io.LimitReader(r.Body, maxTracedForward))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close") // see serveModel
			fwd.WriteError(w, &openai.Error{Status: http.StatusRequestTimeout, Type: openai.TypeTimeout,
				Message: fmt.Sprintf("The request body was not received within %s.", h.bodyReadTimeout)})
			return
		}
		if err != nil {
			fwd.WriteError(w, upstreamError(http.StatusBadRequest, err))
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
		fwd.WriteError(w, e)
		return
	}
	p, e := h.forwardProvider(fwd)
	if e != nil {
		fwd.WriteError(w, e)
		return
	}
	ctx := joinTrace(r, "")
	ctx, call := h.recorder.Start(ctx, spans.Request{
		Op: &op, System: p.System, Provider: p.Host, Body: traced,
		SessionID: sessionID(r.Header), UserID: r.Header.Get("X-User-Id"), Tags: tags(r.Header),
		HeaderMetadata: r.Header.Get("X-Litellm-Spend-Logs-Metadata"), Project: project,
	})
	fc := &forwardCall{fwd: fwd, provider: p, call: call}
	rec := &recorder{ResponseWriter: w, newAcc: newAcc, call: call}
	ok := false
	defer func() { call.End(ok) }()
	defer func() {
		aborted := recover()
		ok = h.endForward(r, rec, aborted != nil)
		if aborted != nil {
			panic(aborted)
		}
	}()
	h.forwarder.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, forwardKey{}, fc)))
}

// endForward records how a forwarded answer ended; aborted says the
// reverse proxy cut it short (it could not copy the whole answer). It
// reports whether the call succeeded.
func (h *Handler) endForward(r *http.Request, rec *recorder, aborted bool) bool {
	call := rec.call
	switch {
	case rec.status >= 400:
		call.UpstreamError(rec.status, rec.body.Bytes())
		return false
	case rec.relay != nil:
		// The one stream tracer of the model path, with what the reverse
		// proxy's copy ended on.
		var err error
		switch {
		case rec.writeErr != nil:
			err = fmt.Errorf("%w: %w", stream.ErrWrite, rec.writeErr)
		case aborted:
			err = fmt.Errorf("%w: the upstream's answer broke off", stream.ErrRead)
		}
		defer func() {
			if v := recover(); v != nil && !aborted {
				panic(v)
			}
		}()
		return h.endStream(r, r.Context(), func(error) {}, call, rec.relay, rec.status, err)
	case rec.status > 0 && rec.traced():
		// A generic span promises no parsed answer: one that is no JSON
		// object is kept as text, and the call stays a success.
		_ = call.Response(rec.body.Bytes())
		return true
	}
	return rec.status > 0
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

	newAcc   func() stream.Accumulator // the route's stream dialect, or nil
	call     *spans.Call
	relay    *stream.Relay // set once a successful event stream starts
	writeErr error         // the client's side failed
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
		ct := rec.Header().Get("Content-Type")
		rec.json = isJSON(ct)
		if rec.newAcc != nil && status < 400 && stream.SSE.Streams(ct) {
			rec.relay = &stream.Relay{Acc: rec.newAcc(), MaxEvent: maxTracedEvent, OnFirstToken: func() {
				// The first token's bytes are out: the reverse proxy
				// flushes event streams after each write, and so does this.
				_ = http.NewResponseController(rec.ResponseWriter).Flush()
				rec.call.FirstToken()
			}}
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
	if err != nil && rec.writeErr == nil {
		rec.writeErr = err
	}
	if rec.relay != nil {
		// The bytes are out; now a copy is read.
		rec.relay.Observe(p[:n])
	}
	return n, err
}

// traced reports whether the whole answer was kept as JSON.
func (rec *recorder) traced() bool { return rec.json && !rec.over }

// Unwrap lets http.ResponseController (used by ReverseProxy to flush) reach
// the real writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }
