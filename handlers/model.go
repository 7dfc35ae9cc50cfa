package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/phoenixproxy/llmproxy/endpoint"
	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/metrics"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
)

// modelCall is one traced call of a described API on its way through the
// proxy: read, routed, attempted, answered.
type modelCall struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	spec   *endpoint.Spec
	via    endpoint.Route    // the route it came by
	params map[string]string // the route's parameters
	start  time.Time

	body []byte // the request's, as the client sent it
	// keepBody: the span may keep the request's buffer (see startSpan),
	// which is then not pooled again.
	keepBody bool
	// ends indexes a large body (spans.IndexFrom and more), made as it was
	// checked; pooled again once the span has ended.
	ends   *jsonbound.Ends
	req    openai.Request // what the proxy reads of it
	stream bool           // the call asked for a stream (its body, or its route)

	ctx    context.Context // the span's: the attempts' parent
	plan   router.Plan
	target router.Target // where the current attempt goes
	prep   prepared      // the current attempt's request
	span   *spans.Call

	// The attempt that answered: its context (kept for the relay), its
	// cancel and its timer.
	upCtx    context.Context
	cancel   context.CancelCauseFunc
	timer    *time.Timer
	firstOut time.Time // when the first attempt went upstream

	relay stream.Relay // the answer's, when it is a stream (see answer)
	sent  sentBodies   // the attempts' request bodies the transport has not closed
}

// callPool holds the modelCalls of ended calls: one is a few hundred
// bytes, every call makes one, and nothing holds it once serveModel has
// returned (the span ends there) and the transport has closed every
// request body it was given (they point at the call's sentBodies).
var callPool = sync.Pool{New: func() any { return new(modelCall) }}

// serveModel proxies one call to a described API and traces it: read and
// check the body, route the model, start the span, make the attempts,
// then write the answer (a stream event by event) and finish the span
// from it.
func (h *Handler) serveModel(w http.ResponseWriter, r *http.Request, spec *endpoint.Spec, route endpoint.Route, params map[string]string) {
	c := callPool.Get().(*modelCall)
	*c = modelCall{h: h, w: w, r: r, spec: spec, via: route, params: params, start: time.Now(), cancel: func(error) {}}
	buf := getBuffer()
	defer func() {
		// A body the transport has not closed may still be read: its
		// buffer and the call it counts in are left to the collector.
		sent := c.sent.closed()
		if !c.keepBody && sent {
			putBuffer(buf)
		}
		if c.ends != nil {
			putEnds(c.ends) // the span has ended: nothing reads it again
		}
		if sent {
			*c = modelCall{} // the pooled call keeps nothing of this one alive
			callPool.Put(c)
		}
	}()
	if e := c.read(buf); e != nil {
		spec.WriteError(w, e)
		return
	}
	project, e := h.project(r.Header, c.req.Project)
	if e != nil {
		spec.WriteError(w, e)
		return
	}
	if e := c.route(); e != nil {
		spec.WriteError(w, e)
		return
	}
	c.startSpan(project)
	ok := false
	defer func() {
		c.identify(ok)
		// Kept only by a span that records (a span ended records no more).
		c.keepBody = c.keepBody && c.span.Recording()
		c.span.End(ok)
		h.logCall(w, r, c.span, c.target, c.start, spec.Name)
	}()
	defer func() { c.cancel(nil) }()
	if c.req.MockFallbacks && !c.mockFailure() {
		return
	}
	resp, err := c.attempts()
	if errors.Is(err, errLeftWaiting) {
		return
	}
	if c.timer != nil {
		defer c.timer.Stop()
	}
	if h.router.Configured() {
		c.span.SetDeployment(deployment(c.target), c.plan.Retries, c.plan.Fallbacks)
	}
	if err != nil {
		c.noAnswer(err)
		return
	}
	defer resp.Body.Close()
	ok = c.answer(resp)
}

// read reads and checks the request: its type, its body (up to the size
// limit) and what the proxy reads of it.
func (c *modelCall) read(buf *bytes.Buffer) *openai.Error {
	if ct := c.r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: fmt.Sprintf("Content-Type must be application/json, not %q.", ct)}
	}
	if e := c.h.readBody(buf, c.r); e != nil {
		// The rest of the body stays unread: net/http would read it before
		// answering (to reuse the connection), from a client that may be
		// sending it a byte at a time.
		c.w.Header().Set("Connection", "close")
		return e
	}
	c.body = buf.Bytes()
	if len(c.body) >= spans.IndexFrom {
		// Indexed as it is checked: the span's mapping reads it through
		// the index, with no pass of its own to make one.
		c.ends = endsPool.Get().(*jsonbound.Ends)
	}
	var err error
	if c.spec.ModelParam == "" {
		c.req, err = openai.InspectIndexed(c.body, c.ends)
	} else {
		c.req, err = openai.InspectWithModelIndexed(c.body, endpoint.Param(c.params, c.spec.ModelParam), c.ends)
	}
	if err != nil {
		return err.(*openai.Error)
	}
	c.stream = c.via.Stream || c.req.Stream
	return nil
}

// route plans the call's attempts and prepares the first.
func (c *modelCall) route() *openai.Error {
	var err error
	if c.plan, err = c.h.plan(c.spec, &c.req); err != nil {
		return routeError(err)
	}
	if c.target, _, err = c.plan.Next(); err != nil {
		return routeError(err)
	}
	p, e := c.h.prepare(c, &c.target)
	if e != nil {
		return e
	}
	c.prep = p
	return nil
}

// startSpan starts the call's span, in the trace the caller names.
func (c *modelCall) startSpan(project string) {
	r, t := c.r, c.target
	ctx := joinTrace(r, c.req.TraceID)
	// A large body (an agent's history) is recorded without a copy of the
	// span's own, and its buffer not pooled again, unless the buffer is
	// much larger than the body (a span would hold all of it until its
	// export). A small one is copied, its buffer pooled: a fresh buffer
	// costs more than the copy. A body the proxy rewrote is a slice of its
	// own.
	c.keepBody = len(c.body) >= keepBodyFrom && cap(c.body) <= 2*len(c.body)
	c.ctx, c.span = c.h.recorder.Start(ctx, spans.Request{
		Op: c.spec.SpanOp(r.Header), System: t.Provider.System, Provider: t.Provider.Host, Model: t.Model, BaseModel: t.BaseModel, Body: c.prep.traced, KeepBody: c.keepBody, Index: c.ends,
		SessionID: sessionID(r.Header), UserID: r.Header.Get("X-User-Id"), Tags: tags(r.Header),
		HeaderMetadata: r.Header.Get("X-Litellm-Spend-Logs-Metadata"), Project: project,
	})
	if c.mocked() {
		c.span.SetMocked()
	}
}

// mocked reports whether the proxy answers the call itself (LiteLLM's
// mock_response, on an API that has it).
func (c *modelCall) mocked() bool { return c.req.Mock && c.spec.Mock }

// mockFailure fails the call's model at once, as LiteLLM's
// mock_testing_fallbacks raises a mock error, so that the fallbacks take
// the call. It reports whether one did: else the client has its error.
func (c *modelCall) mockFailure() bool {
	t := c.target
	msg := fmt.Sprintf("mock_testing_fallbacks: a mock error for model=%s, to try its fallbacks", c.req.Model)
	c.span.AttemptFailed(1, deployment(t), t.Model, http.StatusInternalServerError, msg)
	c.plan.Skip()
	next, nextPrep, _, skipped := c.h.nextAttempt(c)
	recordSkipped(c.span, skipped)
	if next.Deployment == nil {
		cause := errors.New(msg + "; it has no fallback")
		c.span.Fail(failUpstream, cause)
		c.h.litellmHeaders(c.w.Header(), c.span, t, &c.plan, c.start, time.Now())
		c.spec.WriteError(c.w, &openai.Error{Status: http.StatusInternalServerError, Type: openai.TypeProxy, Message: cause.Error()})
		return false
	}
	c.retarget(next, nextPrep)
	return true
}

// retarget moves the call to the next attempt's target.
func (c *modelCall) retarget(t router.Target, p prepared) {
	c.target, c.prep = t, p
	c.span.Retarget(t.Provider.System, t.Provider.Host, t.Model, t.BaseModel, p.traced)
}

// noAnswer answers a call that got no answer from any attempt.
func (c *modelCall) noAnswer(err error) {
	status, kind, cause := classify(c.r.Context(), c.upCtx, err)
	c.span.Fail(kind, cause)
	c.h.logFailure(c.r, c.target.Model, kind, cause)
	// The error carries the call id and traceresponse too: a failed
	// call is the one most worth finding in Phoenix.
	c.h.litellmHeaders(c.w.Header(), c.span, c.target, &c.plan, c.start, c.firstOut)
	c.spec.WriteError(c.w, upstreamError(status, cause))
}

// bodyPool holds the buffers request and response bodies are read into.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// endsPool holds the indexes of large request bodies (jsonbound.Ends),
// made as a body is checked and lent to its span; each looks at the
// member names for credentials in the same pass (spans.WatchSecrets).
var endsPool = sync.Pool{New: func() any {
	e := new(jsonbound.Ends)
	spans.WatchSecrets(e)
	return e
}}

// maxPooledContainers keeps the index of a huge body out of the pool, as
// maxPooledBody does its buffer.
const maxPooledContainers = 1 << 16

func putEnds(e *jsonbound.Ends) {
	if e.Containers() <= maxPooledContainers {
		e.Reset()
		endsPool.Put(e)
	}
}

// maxPooledBody keeps huge buffers out of the pool, so one 30 MiB upload
// does not pin 30 MiB for the life of the process.
const maxPooledBody = 1 << 20

// keepBodyFrom is the size from which a span keeps the request's buffer
// rather than copy the body (see startSpan).
const keepBodyFrom = 32 << 10

func getBuffer() *bytes.Buffer { return bodyPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		b.Reset()
		bodyPool.Put(b)
	}
}

// logCall counts the call in the metrics and writes the one line a call gets: its id, route, model,
// provider, status, duration, time to first token and tokens; never a body,
// a header or a key.
func (h *Handler) logCall(w http.ResponseWriter, r *http.Request, call *spans.Call, t router.Target, start time.Time, route string) {
	status := 0
	if s, ok := w.(interface{ Status() int }); ok {
		status = s.Status()
	}
	host := t.Provider.Host
	sum := call.Summary()
	h.metrics.Observe(metrics.Call{Route: route, Model: call.Model(), Provider: host, Status: status,
		Duration: time.Since(start), FirstToken: sum.FirstToken, PromptTokens: sum.PromptTokens, CompletionToks: sum.CompletionTokens})
	if !h.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	// Typed attributes, in an array on the stack: no boxing per call.
	var buf [11]slog.Attr
	attrs := append(buf[:0], slog.String("call_id", sum.CallID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("model", call.Model()), slog.String("provider", host), slog.Int("status", status),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()))
	if sum.FirstToken > 0 {
		attrs = append(attrs, slog.Int64("ttft_ms", sum.FirstToken.Milliseconds()))
	}
	if sum.PromptTokens > 0 || sum.CompletionTokens > 0 {
		attrs = append(attrs, slog.Int64("prompt_tokens", sum.PromptTokens), slog.Int64("completion_tokens", sum.CompletionTokens))
	}
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "call", attrs...)
}

// logFailure logs a call that got no complete answer: never headers or
// bodies, which may hold credentials and user data.
func (h *Handler) logFailure(r *http.Request, model, kind string, err error) {
	h.metrics.UpstreamError(kind)
	h.log.Warn("call failed", "method", r.Method, "path", r.URL.Path, "model", model, "kind", kind, "err", err)
}

// readBody reads the request body into buf, up to the size limit.
func (h *Handler) readBody(buf *bytes.Buffer, r *http.Request) *openai.Error {
	tooLarge := func() *openai.Error {
		return &openai.Error{Status: http.StatusRequestEntityTooLarge, Type: openai.TypeInvalidRequest,
			Message: fmt.Sprintf("Request body is larger than the limit of %d bytes.", h.maxBodyBytes)}
	}
	if r.ContentLength > h.maxBodyBytes {
		return tooLarge()
	}
	if r.ContentLength > 0 {
		// ReadFrom wants bytes.MinRead free before each read, the one
		// that finds the end included: without them a body of exactly
		// the length grew the buffer to twice its size.
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, h.maxBodyBytes+1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &openai.Error{Status: http.StatusRequestTimeout, Type: openai.TypeTimeout,
			Message: fmt.Sprintf("The request body was not received within %s.", h.bodyReadTimeout)}
	}
	if err != nil {
		return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: fmt.Sprintf("Reading request body: %v", err)}
	}
	if n > h.maxBodyBytes {
		return tooLarge()
	}
	return nil
}
