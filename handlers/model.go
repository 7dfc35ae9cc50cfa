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
	"strings"
	"sync"
	"time"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/metrics"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// endpoint is one modelled API: its path under the provider's base, its
// span mapping, and how its streams are read.
type endpoint struct {
	path string
	op   *spans.Operation
	// newAcc makes the accumulator of one of its streams; nil for an API
	// that does not stream.
	newAcc func() stream.Accumulator
	// usageOption is set for APIs whose streams carry token counts only
	// when asked (stream_options.include_usage): the proxy asks on the
	// client's behalf.
	usageOption bool
	// route picks the upstream for a model that is no model_name of the
	// config file and names the model as it knows it; nil means the
	// router's own routing (LiteLLM's provider prefixes without a file).
	route func(ps *upstream.Providers, model string) (*upstream.Provider, string, error)
	// anthropicErrors makes the proxy's own errors Anthropic's envelope
	// rather than OpenAI's: the caller speaks the Messages API.
	anthropicErrors bool
}

// writeError answers with one of the proxy's own errors in the format the
// endpoint's callers expect.
func (ep *endpoint) writeError(w http.ResponseWriter, e *openai.Error) {
	if ep.anthropicErrors {
		anthropic.WriteError(w, e.Status, e.Message)
		return
	}
	e.Write(w)
}

// routeAnthropic sends a Messages API call to Anthropic, the model named
// without LiteLLM's "anthropic/" prefix if it has one.
func routeAnthropic(ps *upstream.Providers, model string) (*upstream.Provider, string, error) {
	if ps.Home(upstream.Anthropic) == nil {
		return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: "No Anthropic upstream is configured: set ANTHROPIC_API_BASE."}
	}
	return ps.Home(upstream.Anthropic), strings.TrimPrefix(model, "anthropic/"), nil
}

var (
	chatEndpoint       = endpoint{path: "/chat/completions", op: &spans.Chat, newAcc: newChatAcc, usageOption: true}
	completionEndpoint = endpoint{path: "/completions", op: &spans.Completion, newAcc: newChatAcc, usageOption: true}
	embeddingsEndpoint = endpoint{path: "/embeddings", op: &spans.Embeddings}
	responsesEndpoint  = endpoint{path: "/responses", op: &spans.Responses, newAcc: newResponsesAcc}
	messagesEndpoint   = endpoint{path: "/messages", op: &spans.AnthropicMessages, newAcc: newAnthropicAcc,
		route: routeAnthropic, anthropicErrors: true}
)

func newChatAcc() stream.Accumulator      { return &stream.ChatAccumulator{} }
func newResponsesAcc() stream.Accumulator { return &stream.ResponsesAccumulator{} }
func newAnthropicAcc() stream.Accumulator { return &stream.AnthropicAccumulator{} }

// bodyPool holds the buffers request and response bodies are read into.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// copyBufPool holds the buffers answers are copied through: one 32 KiB
// buffer a request would otherwise be allocated and zeroed each time.
var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// maxTracedEvent is the largest stream event traced: a larger one is
// relayed as it comes and held nowhere (an export could not carry it
// anyway: Phoenix takes at most 4 MiB a request).
const maxTracedEvent = 4 << 20

// maxPooledBody keeps huge buffers out of the pool, so one 30 MiB upload
// does not pin 30 MiB for the life of the process.
const maxPooledBody = 1 << 20

func getBuffer() *bytes.Buffer { return bodyPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBody {
		b.Reset()
		bodyPool.Put(b)
	}
}

// serveModel proxies one call to a modelled endpoint and traces it: read
// and check the body, route the model, start the span, forward, then relay
// the answer (a stream event by event) and finish the span from it.
func (h *Handler) serveModel(w http.ResponseWriter, r *http.Request, ep *endpoint) {
	start := time.Now()
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		ep.writeError(w, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: fmt.Sprintf("Content-Type must be application/json, not %q.", ct)})
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if e := h.readBody(buf, r); e != nil {
		// The rest of the body stays unread: net/http would read it before
		// answering (to reuse the connection), from a client that may be
		// sending it a byte at a time.
		w.Header().Set("Connection", "close")
		ep.writeError(w, e)
		return
	}
	body := buf.Bytes()
	req, err := openai.Inspect(body)
	if err != nil {
		ep.writeError(w, err.(*openai.Error))
		return
	}

	project, e := h.project(r.Header, req.Project)
	if e != nil {
		ep.writeError(w, e)
		return
	}
	plan, err := h.plan(ep, &req)
	if err != nil {
		ep.writeError(w, routeError(err))
		return
	}
	t, _, err := plan.Next()
	if err != nil {
		ep.writeError(w, routeError(err))
		return
	}
	prep, e := prepare(ep, &req, body, t)
	if e != nil {
		ep.writeError(w, e)
		return
	}

	op := ep.op
	if ep == &messagesEndpoint && r.Header.Get("X-Stainless-Helper-Method") == "stream" {
		op = &spans.AnthropicMessagesStream
	}
	ctx := joinTrace(r, req.TraceID)
	ctx, call := h.recorder.Start(ctx, spans.Request{
		Op: op, System: t.Provider.System, Provider: t.Provider.Host, Model: t.Model, BaseModel: t.BaseModel, Body: prep.traced,
		SessionID: sessionID(r.Header), UserID: r.Header.Get("X-User-Id"), Tags: tags(r.Header),
		HeaderMetadata: r.Header.Get("X-Litellm-Spend-Logs-Metadata"), Project: project,
	})
	ok := false
	defer func() {
		call.End(ok)
		h.logCall(w, r, call, t.Provider, start, ep.path)
	}()
	mocked := req.Mock && ep == &chatEndpoint
	if mocked {
		call.SetMocked()
	}

	first := 1
	if req.MockFallbacks {
		// LiteLLM's mock_testing_fallbacks: the call's model fails at once,
		// as LiteLLM raises a mock error, and the fallbacks take the call.
		msg := fmt.Sprintf("mock_testing_fallbacks: a mock error for model=%s, to try its fallbacks", req.Model)
		call.AttemptFailed(1, deployment(t), t.Model, http.StatusInternalServerError, msg)
		plan.Skip()
		next, nextPrep, _, skipped := nextAttempt(&plan, ep, &req, body)
		recordSkipped(call, skipped)
		if next.Deployment == nil {
			cause := errors.New(msg + "; it has no fallback")
			call.Fail(failUpstream, cause)
			h.litellmHeaders(w.Header(), call, t, &plan, start, time.Now())
			ep.writeError(w, &openai.Error{Status: http.StatusInternalServerError, Type: openai.TypeProxy, Message: cause.Error()})
			return
		}
		t, prep, first = next, nextPrep, 2
		call.Retarget(t.Provider.System, t.Provider.Host, t.Model, t.BaseModel, prep.traced)
	}

	// Each attempt has its own context and timeout; the one that answers
	// keeps its own for the relay.
	var (
		upCtx    context.Context
		cancel   context.CancelCauseFunc = func(error) {}
		timer    *time.Timer
		resp     *http.Response
		firstOut time.Time // when the first attempt went upstream
	)
	defer func() { cancel(nil) }()
	for attempt := first; ; attempt++ {
		var c context.CancelCauseFunc
		upCtx, c = context.WithCancelCause(ctx)
		cancel, timer = c, nil
		if d := h.router.Timeout(t, req.Stream, h.upstreamTimeout); d > 0 {
			stop := cancel
			timer = time.AfterFunc(d, func() { stop(errUpstreamTimeout) })
		}
		if firstOut.IsZero() {
			firstOut = time.Now()
		}
		resp, err = h.roundTrip(upCtx, r, t, &prep, mocked, req.MockResponse)
		failure, final := attemptFailure(r.Context(), resp, err)
		if final {
			break
		}
		// What the failure says: the start of an error answer (put back
		// if it is the one the client gets), or why none came.
		var head []byte
		if resp != nil {
			head, _ = io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			failure.ContextWindow = router.ContextWindowExceeded(resp.StatusCode, head)
		} else {
			_, kind, cause := classify(r.Context(), upCtx, err)
			failure.Timeout = kind == failTimeout
			head = []byte(cause.Error())
		}
		plan.Failed(t, failure)
		next, nextPrep, wait, skipped := nextAttempt(&plan, ep, &req, body)
		if next.Deployment == nil {
			// Nothing left to try: the client gets this answer.
			if resp != nil {
				resp.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
			}
			recordSkipped(call, skipped)
			break
		}
		// This attempt is dropped: recorded on the span, its answer
		// discarded, and the next made before anything reached the client.
		if resp != nil {
			resp.Body.Close()
		}
		call.AttemptFailed(attempt, deployment(t), t.Model, failure.Status, string(head))
		recordSkipped(call, skipped)
		h.metrics.UpstreamError("RetriedAttempt")
		stopTimer(timer)
		cancel(errRetried)
		if wait > 0 && !sleep(r.Context(), wait) {
			call.ClientLeft()
			return
		}
		t, prep = next, nextPrep
		call.Retarget(t.Provider.System, t.Provider.Host, t.Model, t.BaseModel, prep.traced)
	}
	if timer != nil {
		defer timer.Stop()
	}
	if h.router.Configured() {
		call.SetDeployment(deployment(t), plan.Retries, plan.Fallbacks)
	}
	if err != nil {
		status, kind, cause := classify(r.Context(), upCtx, err)
		call.Fail(kind, cause)
		h.logFailure(r, t.Model, kind, cause)
		// The error carries the call id and traceresponse too: a failed
		// call is the one most worth finding in Phoenix.
		h.litellmHeaders(w.Header(), call, t, &plan, start, firstOut)
		ep.writeError(w, upstreamError(status, cause))
		return
	}
	defer resp.Body.Close()
	translate, strip := prep.translate, prep.strip
	copyHeader(w.Header(), resp.Header)
	h.litellmHeaders(w.Header(), call, t, &plan, start, firstOut)
	if translate {
		if isEventStream(resp.Header) {
			stopTimer(timer) // from here on the idle timeout watches the stream
		}
		ok = h.relayTranslated(w, r, upCtx, cancel, resp, call, req.IncludeUsage)
		return
	}
	if isEventStream(resp.Header) {
		stopTimer(timer) // from here on the idle timeout watches the stream
		if strip {
			w.Header().Del("Content-Length") // the client gets fewer bytes
		}
		w.WriteHeader(resp.StatusCode)
		ok = h.relayStream(w, r, upCtx, cancel, resp, call, ep, strip)
		return
	}
	w.WriteHeader(resp.StatusCode)
	ok = h.relayBody(w, r, upCtx, resp, call)
}

// logCall counts the call in the metrics and writes the one line a call gets: its id, route, model,
// provider, status, duration, time to first token and tokens; never a body,
// a header or a key.
func (h *Handler) logCall(w http.ResponseWriter, r *http.Request, call *spans.Call, p *upstream.Provider, start time.Time, route string) {
	status := 0
	if s, ok := w.(interface{ Status() int }); ok {
		status = s.Status()
	}
	sum := call.Summary()
	h.metrics.Observe(metrics.Call{Route: route, Model: call.Model(), Provider: p.Host, Status: status,
		Duration: time.Since(start), FirstToken: sum.FirstToken, PromptTokens: sum.PromptTokens, CompletionToks: sum.CompletionTokens})
	if !h.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	// Typed attributes, in an array on the stack: no boxing per call.
	var buf [11]slog.Attr
	attrs := append(buf[:0], slog.String("call_id", sum.CallID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("model", call.Model()), slog.String("provider", p.Host), slog.Int("status", status),
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
		buf.Grow(int(r.ContentLength))
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

// relayBody copies a whole (non-stream) answer to the client as it arrives,
// keeps a copy, and traces it. It reports whether the call succeeded.
func (h *Handler) relayBody(w http.ResponseWriter, r *http.Request, upCtx context.Context, resp *http.Response, call *spans.Call) bool {
	buf := getBuffer()
	defer putBuffer(buf)
	if resp.ContentLength > 0 && resp.ContentLength <= h.maxBodyBytes {
		buf.Grow(int(resp.ContentLength))
	}
	cp := copyBufPool.Get().(*[]byte)
	_, err := io.CopyBuffer(w, io.TeeReader(resp.Body, &cappedWriter{buf: buf, limit: h.maxBodyBytes}), *cp)
	copyBufPool.Put(cp)
	if err != nil {
		_, kind, cause := classify(r.Context(), upCtx, err)
		cause = fmt.Errorf("after %d bytes of the answer: %w", buf.Len(), cause)
		call.Fail(kind, cause)
		h.logFailure(r, call.Model(), kind, cause)
		panic(http.ErrAbortHandler) // headers are out: only aborting tells the client
	}
	// The answer leaves now; tracing it is no reason to hold it back.
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	// A body the proxy could not read whole, or one encoded against its
	// request, is relayed but not traced as output.
	readable := resp.Header.Get("Content-Encoding") == "" && int64(buf.Len()) <= h.maxBodyBytes
	if resp.StatusCode >= 400 {
		call.UpstreamError(resp.StatusCode, buf.Bytes())
		return false
	}
	if readable {
		return h.traceResponse(r, call, buf.Bytes())
	}
	return true
}

// traceResponse records a whole answer on the span. An answer the span
// cannot show (relayed as it came all the same) fails the call's tracing.
func (h *Handler) traceResponse(r *http.Request, call *spans.Call, body []byte) bool {
	if err := call.Response(body); err != nil {
		call.Fail(failTracing, err)
		h.logFailure(r, call.Model(), failTracing, err)
		return false
	}
	return true
}

// relayStream relays an event stream and traces it as it passes. It reports
// whether the call succeeded.
func (h *Handler) relayStream(w http.ResponseWriter, r *http.Request, upCtx context.Context, cancel context.CancelCauseFunc,
	resp *http.Response, call *spans.Call, ep *endpoint, strip bool) bool {
	var acc stream.Accumulator // nil: a chat stream
	if ep.newAcc != nil {
		acc = ep.newAcc()
	}
	relay := stream.Relay{StripUsage: strip, OnFirstToken: call.FirstToken, Acc: acc, MaxEvent: maxTracedEvent}
	return h.finishStream(w, r, upCtx, cancel, resp, call, &relay)
}

// finishStream relays an event stream through relay, the response's headers
// already written, and traces it as it passes. It reports whether the call
// succeeded.
func (h *Handler) finishStream(w http.ResponseWriter, r *http.Request, upCtx context.Context, cancel context.CancelCauseFunc,
	resp *http.Response, call *spans.Call, relay *stream.Relay) bool {
	h.metrics.StreamStarted()
	defer h.metrics.StreamEnded()
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
	}
	flush() // the headers go out now, not with the first event
	var src io.Reader = resp.Body
	if h.streamIdleTimeout > 0 {
		idle := time.AfterFunc(h.streamIdleTimeout, func() { cancel(errIdleTimeout) })
		defer idle.Stop()
		src = &idleReader{r: resp.Body, timer: idle, d: h.streamIdleTimeout}
	}
	err := relay.Copy(w, flush, src)
	_ = call.Response(relay.Acc.Result()) // always an object
	if relay.CutEvents > 0 {
		call.TracingCut(fmt.Sprintf("%d stream events over %d bytes (%d bytes in all) were relayed but not traced", relay.CutEvents, maxTracedEvent, relay.CutBytes))
	}

	switch {
	case err == nil && resp.StatusCode >= 400:
		call.UpstreamError(resp.StatusCode, []byte(relay.Acc.Err()))
		return false
	case err == nil && relay.Acc.Err() != "":
		call.Fail(failStream, fmt.Errorf("error event in stream: %s", relay.Acc.Err()))
		return false
	case err == nil && relay.Truncated():
		call.Fail(failStream, errors.New("stream ended inside an event"))
		return false
	case err == nil && !relay.Done():
		call.Fail(failStream, errors.New("stream ended before its last event"))
		return false
	case err == nil:
		return true
	case relay.Done() && !errors.Is(err, stream.ErrWrite):
		// The client got [DONE] and left, as SDKs do at once (the Python
		// SDK closes the response on [DONE]): the answer was complete, and
		// the upstream's EOF that the proxy did not wait for is no failure.
		return true
	case errors.Is(err, stream.ErrWrite) || r.Context().Err() != nil:
		// The client left: stop the upstream now, not at its next write.
		// Not an error of the call: its span keeps what passed, unset.
		cancel(errClientGone)
		call.ClientLeft()
		h.log.Info("client left a stream", "method", r.Method, "path", r.URL.Path, "model", call.Model())
		return false
	}
	_, kind, cause := classify(r.Context(), upCtx, err)
	if kind == failUpstream {
		kind = failStream
	}
	call.Fail(kind, cause)
	h.logFailure(r, call.Model(), kind, cause)
	panic(http.ErrAbortHandler) // the client must see the stream break, not end
}

// cappedWriter keeps at most limit+1 bytes: enough to know a body was too
// large to trace, without holding it.
type cappedWriter struct {
	buf   *bytes.Buffer
	limit int64
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if room := c.limit + 1 - int64(c.buf.Len()); room > 0 {
		if int64(len(p)) > room {
			c.buf.Write(p[:room])
		} else {
			c.buf.Write(p)
		}
	}
	return len(p), nil
}

// idleReader restarts the idle timer after every read.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	i.timer.Reset(i.d)
	return n, err
}
