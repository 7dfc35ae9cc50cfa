package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/phoenixproxy/llmproxy/endpoint"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
	"github.com/phoenixproxy/llmproxy/translate"
	"github.com/phoenixproxy/llmproxy/upstream"
)

var (
	// errRetried cancels an attempt that was given up for another.
	errRetried = errors.New("attempt failed: retried elsewhere")
	// errLeftWaiting ends the attempts of a call whose client left while
	// it waited to retry: nothing more is done or answered.
	errLeftWaiting = errors.New("client left while the call waited to retry")
)

// plan is the router's plan for a call's model. A call in a dialect other
// than OpenAI's whose model the config file does not name goes to the
// API's home provider (Vertex AI for its routes); else, when its LiteLLM
// prefix names a provider the API translates to, to that one (as
// LiteLLM's router takes "bedrock/us.anthropic.claude-…" or
// "vertex_ai/claude-…" on /v1/messages: Claude Code's ANTHROPIC_MODEL);
// else to the provider of that dialect's own API (the Messages API to
// Anthropic).
func (h *Handler) plan(spec *endpoint.Spec, req *openai.Request) (router.Plan, error) {
	model := req.Model
	if spec.Dialect != upstream.OpenAI && !h.router.Serves(model) {
		var (
			p   *upstream.Provider
			m   string
			err error
		)
		if spec.Home == "" {
			if p, m, ok := h.providers.RoutePrefixed(model); ok && p.Dialect() != spec.Dialect && spec.Translators[p.Dialect()] != nil {
				return router.Fixed(p, m), nil
			}
		}
		if spec.Home != "" {
			p, m, err = h.providers.RouteNamed(spec.Home, model)
		} else {
			p, m, err = h.providers.RouteHome(spec.Dialect, model)
		}
		if err != nil {
			return router.Plan{}, err
		}
		return router.Fixed(p, m), nil
	}
	return h.router.Plan(model, req.Fallbacks...)
}

// routeError is the client's answer when a call cannot be routed.
func routeError(err error) *openai.Error {
	var e *openai.Error
	if errors.As(err, &e) {
		return e
	}
	return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model", Message: err.Error()}
}

// prepared is one attempt's request: the body as traced (the client's,
// with the deployment's model), the body sent upstream and its path, and
// how the answer is rewritten: translated back, or with the usage the
// proxy asked for taken out.
type prepared struct {
	traced, upBody []byte
	path           string
	translator     translate.Translator   // nil: the provider speaks the call's dialect
	strip          func() stream.Rewriter // nil: the stream passes unchanged
}

// prepare readies a call's request for a target: as the client sent it,
// with the target's model and without LiteLLM's own members, to a
// provider of the call's dialect or for a call the proxy answers itself
// (LiteLLM's mock_response); translated for one of another. On a
// native route (its path names the model's method), a config file's
// deployment goes to its family's provider of the route's dialect
// (upstream.Providers.Native: t.Provider is set to it), at that
// provider's path for the deployment's model.
func (h *Handler) prepare(c *modelCall, t *router.Target) (prepared, *openai.Error) {
	spec, req := c.spec, &c.req
	var modelPath string
	if method := c.via.ModelMethod; method != "" && h.router.Serves(req.Model) {
		native := h.providers.Native(t.Provider, spec.Dialect)
		var err error
		if native != nil {
			modelPath, err = native.ModelPath(t.Model, method)
		}
		if native == nil || err != nil {
			return prepared{}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("Model %q is served by %s (%s), which %s cannot reach: call it on %s.",
					req.Model, t.Provider.Host, t.Deployment.Model, c.via.Path, h.reaching(t.Provider.Dialect(), spec.Dialect))}
		}
		t.Provider = native
	}
	tr := spec.Translators[t.Provider.Dialect()]
	if tr == nil && t.Provider.Dialect() != spec.Dialect {
		return prepared{}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q is %s's: it is served on %s only.", req.Model, t.Provider.Host, h.reaching(t.Provider.Dialect(), spec.Dialect))}
	}
	// The span records the call as the client made it (its credentials
	// masked); LiteLLM's own members (per-call keys and endpoints, tracing
	// metadata) go no further.
	p := prepared{traced: c.body}
	if spec.ModelParam == "" && t.Model != req.Model {
		p.traced = openai.SetModel(c.body, t.Model)
	}
	if tr != nil && c.mocked() {
		// LiteLLM's mock_response answers in the client's format whatever
		// the provider: nothing is translated, as nothing is sent.
		tr = nil
	}
	if tr != nil {
		// A call to a provider of another dialect is translated, and its
		// answer back, as LiteLLM does.
		var up []byte
		var path string
		var err error
		if hr, ok := tr.(translate.HeaderRequester); ok {
			up, path, err = hr.RequestWithHeader(p.traced, c.r.Header, t.Model, t.Provider)
		} else {
			up, path, err = tr.Request(p.traced, t.Model, t.Provider)
		}
		if err != nil {
			return prepared{}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Message: err.Error()}
		}
		p.upBody, p.path, p.translator = up, path, tr
		return p, nil
	}
	p.upBody, p.path = p.traced, endpoint.UpstreamPath(spec.UpstreamPattern(c.via), t.Model, c.params)
	if modelPath != "" {
		p.path = modelPath
	}
	switch {
	case spec.LiteLLMMetadata && req.Metadata:
		p.upBody = openai.WithoutLiteLLMFields(p.traced, "metadata")
	case req.LiteLLMFields:
		p.upBody = openai.WithoutLiteLLMFields(p.traced)
	}
	// Ask for usage on the client's behalf so every stream has token
	// counts; the relay takes out again what the client did not ask for.
	if spec.Usage != nil && c.stream && !req.IncludeUsage {
		p.upBody, p.strip = spec.Usage.Ask(p.upBody), spec.Usage.Strip
	}
	return p, nil
}

// reaching lists the APIs whose calls reach a provider of dialect d: those
// of the client's dialect that translate to it, else d's own.
func (h *Handler) reaching(d, client upstream.Dialect) string {
	var translated, native []string
	for _, s := range h.specs {
		switch {
		case s.Dialect == client && s.Translators[d] != nil:
			translated = append(translated, s.Name)
		case s.Dialect == d:
			native = append(native, s.Name)
		}
	}
	if len(translated) == 0 {
		translated = native
	}
	return strings.Join(translated, ", ")
}

// attempts makes the call's attempts, the router's plan deciding what
// follows a failure, until one gives the answer the client gets: a
// success, the last failure, or no answer at all (the error).
func (c *modelCall) attempts() (*http.Response, error) {
	first := 1
	if c.req.MockFallbacks {
		first = 2 // the first failed already (mockFailure)
	}
	for n := first; ; n++ {
		resp, err := c.attempt()
		failure, final := attemptFailure(c.r.Context(), resp, err)
		if final {
			return resp, err
		}
		// What the failure says: the start of an error answer (put back
		// if it is the one the client gets), or why none came.
		var head []byte
		if resp != nil {
			head, _ = io.ReadAll(io.LimitReader(resp.Body, 4<<10))
			failure.ContextWindow = router.ContextWindowExceeded(resp.StatusCode, head)
		} else {
			_, kind, cause := classify(c.r.Context(), c.upCtx, err)
			failure.Timeout = kind == failTimeout
			head = []byte(cause.Error())
		}
		c.plan.Failed(c.target, failure)
		next, nextPrep, wait, skipped := c.h.nextAttempt(c)
		if next.Deployment == nil {
			// Nothing left to try: the client gets this answer.
			if resp != nil {
				resp.Body = struct {
					io.Reader
					io.Closer
				}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
			}
			recordSkipped(c.span, skipped)
			return resp, err
		}
		// This attempt is dropped: recorded on the span, its answer
		// discarded, and the next made before anything reached the client.
		if resp != nil {
			resp.Body.Close()
		}
		c.span.AttemptFailed(n, deployment(c.target), c.target.Model, failure.Status, string(head))
		recordSkipped(c.span, skipped)
		c.h.metrics.UpstreamError("RetriedAttempt")
		stopTimer(c.timer)
		c.cancel(errRetried)
		if wait > 0 && !sleep(c.r.Context(), wait) {
			c.span.ClientLeft()
			return nil, errLeftWaiting
		}
		c.retarget(next, nextPrep)
	}
}

// attempt makes one attempt, with a context and a timeout of its own (the
// one that answers keeps them for the relay).
func (c *modelCall) attempt() (*http.Response, error) {
	upCtx, cancel := context.WithCancelCause(c.ctx)
	c.upCtx, c.cancel, c.timer = upCtx, cancel, nil
	if d := c.h.router.Timeout(c.target, c.stream, c.h.upstreamTimeout); d > 0 {
		c.timer = time.AfterFunc(d, func() { cancel(errUpstreamTimeout) })
	}
	if c.firstOut.IsZero() {
		c.firstOut = time.Now()
	}
	return c.h.roundTrip(upCtx, c.r, c.target, &c.prep, &c.sent, c.mocked(), c.req.MockResponse)
}

// roundTrip sends one attempt's request to its target, with the client's
// headers, the deployment's own and the provider's credentials.
func (h *Handler) roundTrip(ctx context.Context, r *http.Request, t router.Target, p *prepared, sent *sentBodies, mocked bool, mockText string) (*http.Response, error) {
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Provider.URL(p.path, t.Model, r.URL.RawQuery), nil)
	if err != nil {
		return nil, err
	}
	copyHeader(out.Header, r.Header, false)
	// The proxy reads the answer to trace it, so it asks for it unencoded.
	out.Header.Del("Accept-Encoding")
	out.Header.Del("Content-Length")
	out.ContentLength = int64(len(p.upBody)) // before Authorize: SigV4 signs it
	if p.translator != nil {
		p.translator.Header(out.Header, t.Provider)
	}
	// The proxy's own headers go no further.
	out.Header.Del("X-Phoenix-Project-Name")
	for k, v := range t.Header {
		out.Header[k] = v
	}
	if mocked {
		// LiteLLM's mock_response: the proxy answers itself, traced like
		// any call (examples and tests run with no provider, and with no
		// credentials: none is looked for).
		sent.attach(out, p.upBody)
		return mockTransport{text: mockText, model: t.Model}.RoundTrip(out)
	}
	err = t.Provider.Authorize(out, p.upBody)
	h.credentialsFound(t.Provider)
	if err != nil {
		return nil, fmt.Errorf("authorizing the request to %s: %w", t.Provider.Host, err)
	}
	sent.attach(out, p.upBody) // last: a body is counted only once a transport has it
	return h.transport.RoundTrip(out)
}

// attemptFailure reads an attempt's outcome: final when it is the answer
// the client gets whatever follows (a success, or a client that left),
// else the failure the router weighs for a retry or a fallback.
func attemptFailure(clientCtx context.Context, resp *http.Response, err error) (router.Failure, bool) {
	switch {
	case err != nil && clientCtx.Err() != nil:
		return router.Failure{}, true
	case err != nil:
		return router.Failure{Err: err}, false
	case resp.StatusCode >= 400:
		return router.Failure{Status: resp.StatusCode, RetryAfter: router.ParseRetryAfter(resp.Header)}, false
	}
	return router.Failure{}, true
}

// skippedTarget is a target the plan gave that could not take the call.
type skippedTarget struct {
	target router.Target
	why    string
}

// nextAttempt is the plan's next target that can take the call, prepared,
// and the wait before it; its Deployment is nil when none is left. Targets
// that cannot take it (a provider that does not serve the API, a model
// that cannot be routed) are skipped, and returned to be recorded.
func (h *Handler) nextAttempt(c *modelCall) (router.Target, prepared, time.Duration, []skippedTarget) {
	var skipped []skippedTarget
	for {
		t, wait, err := c.plan.Next()
		if err != nil && t.Deployment == nil {
			return router.Target{}, prepared{}, 0, skipped // exhausted
		}
		if err == nil {
			p, e := h.prepare(c, &t)
			if e == nil {
				return t, p, wait, skipped
			}
			err = e
		}
		skipped = append(skipped, skippedTarget{t, err.Error()})
		c.plan.Skip()
	}
}

// recordSkipped puts the targets a call could not use on its span, as
// attempts numbered 0 with status 0.
func recordSkipped(call *spans.Call, skipped []skippedTarget) {
	for _, s := range skipped {
		call.AttemptFailed(0, deployment(s.target), s.target.Model, 0, "not attempted: "+s.why)
	}
}

// deployment is the span's record of a target.
func deployment(t router.Target) spans.Deployment {
	d := spans.Deployment{Group: t.Group, ID: t.ID}
	if t.Provider != nil {
		d.APIBase = t.Provider.BaseURL
	}
	return d
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// sleep waits d, or less if ctx ends first: it reports whether it waited
// the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// credentialsFound logs, once a provider, that it looked for credentials
// of the proxy's own (Vertex AI's Application Default Credentials,
// Bedrock's AWS credentials) and found none: the clients' own then pass,
// which an operator should know.
func (h *Handler) credentialsFound(p *upstream.Provider) {
	if err := p.MissingCredentials(); err != nil {
		if _, logged := h.noCredentials.LoadOrStore(p.Name, true); !logged {
			h.log.Warn("the proxy holds no credentials of its own for "+p.Name+": its calls carry the client's own", "err", err)
		}
	}
}
