package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// errRetried cancels an attempt that was given up for another.
var errRetried = errors.New("attempt failed: retried elsewhere")

// plan is the router's plan for a call's model. An endpoint with routing of
// its own (the Messages API goes to Anthropic) uses it for models the
// config file does not name.
func (h *Handler) plan(ep *endpoint, req *openai.Request) (router.Plan, error) {
	model := req.Model
	if ep.route != nil && !h.router.Serves(model) {
		p, m, err := ep.route(h.providers, model)
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
// whether the answer is translated or has the usage chunk taken out.
type prepared struct {
	traced, upBody   []byte
	path             string
	translate, strip bool
}

// prepare readies a call's request for a target.
func prepare(ep *endpoint, req *openai.Request, body []byte, t router.Target) (prepared, *openai.Error) {
	if ep == &messagesEndpoint && t.Provider.Dialect() != upstream.Anthropic {
		return prepared{}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q is served by %s, not Anthropic: /v1/messages serves Anthropic's models only.", req.Model, t.Provider.Host)}
	}
	// The span records the call as the client made it (its credentials
	// masked); LiteLLM's own members (per-call keys and endpoints, tracing
	// metadata) go no further.
	p := prepared{traced: body, path: ep.path}
	if t.Model != req.Model {
		p.traced = openai.SetModel(body, t.Model)
	}
	p.upBody = p.traced
	if req.LiteLLMFields {
		p.upBody = openai.WithoutLiteLLMFields(p.traced)
	}
	// Ask for usage on the client's behalf so every stream has token
	// counts; the relay takes out again what the client did not ask for.
	p.strip = ep.usageOption && req.Stream && !req.IncludeUsage
	if p.strip {
		p.upBody = openai.WithIncludeUsage(p.upBody)
	}
	// An OpenAI-format call to Anthropic is translated to the Messages API
	// and its answer back, as LiteLLM does.
	if t.Provider.Dialect() == upstream.Anthropic && ep != &messagesEndpoint {
		if ep != &chatEndpoint {
			return prepared{}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("Model %q is Anthropic's: it is served on /chat/completions only.", req.Model)}
		}
		translated, err := anthropic.FromOpenAIChat(p.traced, t.Model)
		if err != nil {
			return prepared{}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Message: err.Error()}
		}
		p.upBody, p.path, p.strip, p.translate = translated, messagesEndpoint.path, false, true
	}
	return p, nil
}

// roundTrip makes one attempt: the prepared request to the target, with
// the client's headers, the deployment's own and the provider's key.
func (h *Handler) roundTrip(ctx context.Context, r *http.Request, t router.Target, p *prepared, mocked bool, mockText string) (*http.Response, error) {
	out, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Provider.URL(p.path, t.Model, r.URL.RawQuery), bytes.NewReader(p.upBody))
	if err != nil {
		return nil, err
	}
	copyHeader(out.Header, r.Header)
	// The proxy reads the answer to trace it, so it asks for it unencoded.
	out.Header.Del("Accept-Encoding")
	out.Header.Del("Content-Length")
	out.ContentLength = int64(len(p.upBody))
	if p.translate {
		anthropicHeaders(out.Header)
	}
	// The proxy's own headers go no further.
	out.Header.Del("X-Phoenix-Project-Name")
	for k, v := range t.Header {
		out.Header[k] = v
	}
	if err := t.Provider.Authorize(out, p.upBody); err != nil {
		return nil, err
	}
	transport := h.transport
	if mocked {
		// LiteLLM's mock_response: the proxy answers itself, traced like
		// any call (examples and tests run with no provider).
		transport = mockTransport{text: mockText, model: t.Model}
	}
	return transport.RoundTrip(out)
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
// that cannot take it (a provider that does not serve the endpoint, a
// model that cannot be routed) are skipped, and returned to be recorded.
func nextAttempt(plan *router.Plan, ep *endpoint, req *openai.Request, body []byte) (router.Target, prepared, time.Duration, []skippedTarget) {
	var skipped []skippedTarget
	for {
		t, wait, err := plan.Next()
		if err != nil && t.Deployment == nil {
			return router.Target{}, prepared{}, 0, skipped // exhausted
		}
		if err == nil {
			p, e := prepare(ep, req, body, t)
			if e == nil {
				return t, p, wait, skipped
			}
			err = e
		}
		skipped = append(skipped, skippedTarget{t, err.Error()})
		plan.Skip()
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
