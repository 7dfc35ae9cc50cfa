package router

import (
	"errors"
	"fmt"

	"github.com/tidwall/gjson"

	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// health is a deployment's recent failures and cooldown, as LiteLLM keeps
// them: more than allowed_fails failures within a minute, or one 429,
// cools the deployment down for cooldown_time (not when it is its
// model_name's only deployment, which would leave nothing to serve it).
type health struct {
	mu        sync.Mutex
	window    time.Time // start of the current minute of failures
	fails     int
	coolUntil time.Time
}

func (h *health) cooling(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return now.Before(h.coolUntil)
}

// failed counts a failure, starting a cooldown when it is one too many.
func (h *health) failed(now time.Time, status, allowed int, cooldown time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Sub(h.window) >= time.Minute {
		h.window, h.fails = now, 0
	}
	h.fails++
	if status == http.StatusTooManyRequests || h.fails > allowed {
		h.coolUntil = now.Add(cooldown)
		h.fails = 0
	}
}

// Failure is one failed attempt: the upstream's status (0 when it gave no
// answer) and why.
type Failure struct {
	Status int
	Err    error
	// RetryAfter is the upstream's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Timeout marks an attempt cut by its timeout: retried, and counted
	// toward a cooldown as LiteLLM counts its Timeout (408).
	Timeout bool
	// ContextWindow marks a 400 that says the prompt is too long for the
	// model: one a fallback with a larger window may serve.
	ContextWindow bool
}

// final reports whether the failure is the request's own: a 400 (a
// malformed request fails the same everywhere, so LiteLLM neither retries
// nor falls back), but for a context window exceeded.
func (f Failure) final() bool {
	return f.Status == http.StatusBadRequest && !f.ContextWindow
}

// retryable reports whether an attempt that failed so is worth another on
// the same model_name: no answer (connection error, timeout), 408, 409,
// 429 and 5xx, and 401 where another deployment may hold another key.
// Other 4xx are the request's fault, the same anywhere: they go to the
// fallbacks at once (LiteLLM also retries them; the proxy does not spend
// the time).
func (f Failure) retryable(deployments int) bool {
	s := f.Status
	return s == 0 || s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests ||
		s >= 500 || s == http.StatusUnauthorized && deployments > 1
}

// coolsDown reports whether a failure counts toward a deployment's
// cooldown (LiteLLM's _is_cooldown_required): 401, 404, 408, 429 and 5xx;
// not a connection error, not the request's own 4xx.
func (f Failure) coolsDown() bool {
	s := f.Status
	return f.Timeout || s == http.StatusUnauthorized || s == http.StatusNotFound || s == http.StatusRequestTimeout ||
		s == http.StatusTooManyRequests || s >= 500
}

// Plan is the attempts of one call: the client's model_name with its
// retries, then each fallback with its own. Not safe for concurrent use.
type Plan struct {
	r     *Router
	model string // the client's model
	// fallbacks are the model_names tried after the client's (the
	// router's slice, shared, never written).
	fallbacks []string
	group     int // 0: the client's model_name; i: fallbacks[i-1]
	tries     int // attempts on the current group
	// Retries counts the attempts after a model_name's first, Fallbacks
	// the model_names tried after the client's.
	Retries, Fallbacks int

	last     *Deployment
	lastTry  int // attempts on last in a row
	attempts int
	lastFail *Failure
	fixed    *Target
	// contextWindow is set once the plan has turned to the
	// context_window_fallbacks: it turns once.
	contextWindow bool
}

// Plan starts the plan of a call for the client's model, or returns the
// 400 of a model no deployment serves.
//
// client, when set, are the call's own fallbacks (LiteLLM's client-side
// fallbacks): tried instead of the config's, each a model the router
// serves.
func (r *Router) Plan(model string, client ...string) (Plan, error) {
	if len(r.candidates(model)) == 0 {
		return Plan{}, r.unknownModel(model)
	}
	fallbacks, ok := r.fallbacks[model]
	if !ok {
		fallbacks = r.fallbacks["*"] // LiteLLM's default_fallbacks
	}
	if len(client) > 0 {
		for _, f := range client {
			if len(r.candidates(f)) == 0 {
				return Plan{}, r.unknownModel(f)
			}
		}
		fallbacks = client
	}
	if slices.Contains(fallbacks, model) {
		fallbacks = slices.DeleteFunc(slices.Clone(fallbacks), func(f string) bool { return f == model })
	}
	return Plan{r: r, model: model, fallbacks: fallbacks}, nil
}

// groups counts the model_names of the plan.
func (p *Plan) groups() int { return 1 + len(p.fallbacks) }

// groupName is the i-th model_name of the plan.
func (p *Plan) groupName(i int) string {
	if i == 0 {
		return p.model
	}
	return p.fallbacks[i-1]
}

// Fixed is the plan of one attempt on a provider the caller chose.
func Fixed(p *upstream.Provider, model string) Plan {
	return Plan{fixed: &Target{Deployment: &Deployment{}, Provider: p, Model: model}}
}

// ErrExhausted says every attempt a plan had was made.
var ErrExhausted = errors.New("no deployment left to try")

// Next is the next attempt's target, and how long to wait before it (an
// upstream's Retry-After, or a backoff when the only deployment left is the
// one that just failed). It returns ErrExhausted when the plan has no
// attempt left after one was made, a 429 when every deployment was cooling
// down before any, or the 400 of a model that cannot be routed.
func (p *Plan) Next() (Target, time.Duration, error) {
	if p.fixed != nil {
		if p.attempts > 0 {
			return Target{}, 0, ErrExhausted
		}
		p.attempts++
		return *p.fixed, 0, nil
	}
	for p.group < p.groups() {
		name := p.groupName(p.group)
		deployments := len(p.r.candidates(name))
		f := p.lastFail
		if f != nil && f.final() {
			break
		}
		if f != nil && p.last != nil && p.lastTry <= p.last.MaxRetries && f.retryable(deployments) {
			// The deployment's own retries first (its max_retries).
			p.lastTry++
			p.Retries++
			p.attempts++
			t, err := p.r.target(p.last, name)
			return t, p.backoff(), err
		}
		healthy := p.healthy(name)
		switch {
		case p.tries > p.r.numRetries:
		case f != nil && p.tries > 0 && !f.retryable(deployments):
		case f != nil && p.tries > 0 && healthy == 0 && p.group+1 < p.groups():
			// Nothing healthy left here (a 429 cooled it down): the
			// fallback now, not a retry that meets the same limit.
		default:
			d := p.pick(name)
			if d == nil {
				break
			}
			wait := time.Duration(0)
			if p.tries > 0 && (deployments == 1 || healthy == 0) {
				wait = p.backoff()
			}
			switch {
			case p.tries > 0:
				p.Retries++
			case p.group > 0:
				p.Fallbacks++
			}
			p.tries++
			p.attempts++
			p.last, p.lastTry = d, 1
			t, err := p.r.target(d, name)
			return t, wait, err
		}
		p.group++
		p.tries = 0
		p.last, p.lastTry = nil, 0
	}
	if p.attempts == 0 {
		return Target{}, 0, &openai.Error{Status: http.StatusTooManyRequests, Type: openai.TypeRateLimit,
			Message: fmt.Sprintf("No deployments available for selected model, Try again in %g seconds. Passed model=%s.",
				p.r.cooldown.Seconds(), p.model)}
	}
	return Target{}, 0, ErrExhausted
}

// Skip records that the target Next gave cannot take the call (its
// provider does not serve the endpoint, or it cannot be routed): the plan
// moves to the next model_name.
func (p *Plan) Skip() {
	if p.fixed != nil {
		return
	}
	p.lastFail = nil
	p.tries = p.r.numRetries + 1
	p.last = nil
}

// Failed records that the attempt on t failed so; Next then decides what
// follows. Deployments that are their model_name's only one, and wildcard
// ones, are never cooled down.
func (p *Plan) Failed(t Target, f Failure) {
	p.lastFail = &f
	if p.fixed != nil {
		return
	}
	if f.ContextWindow && p.r.contextWindow != nil && !p.contextWindow {
		// LiteLLM's context_window_fallbacks replace the rest of the plan:
		// a larger model, not a retry of this one. None for this
		// model_name: the call ends with this answer.
		p.contextWindow = true
		p.fallbacks = p.r.contextWindow[p.groupName(p.group)]
		p.model, p.group, p.tries, p.last = p.groupName(p.group), 0, p.r.numRetries+1, nil
	}
	d := t.Deployment
	if f.coolsDown() && d.Group != "*" && !strings.HasSuffix(d.Group, "*") && len(p.r.groups[d.Group]) > 1 {
		d.failed(p.r.now(), f.Status, p.r.allowedFails, p.r.cooldown)
	}
}

// healthy counts the deployments of a group not cooling down.
func (p *Plan) healthy(name string) int {
	n := 0
	now := p.r.now()
	for _, d := range p.r.candidates(name) {
		if !d.cooling(now) {
			n++
		}
	}
	return n
}

// pick chooses a deployment of a group by weighted random shuffle among
// those not cooling down (LiteLLM's simple-shuffle); nil when every one is
// cooling down.
func (p *Plan) pick(name string) *Deployment {
	ds := p.r.candidates(name)
	if len(ds) == 1 {
		return ds[0] // never cooled down
	}
	now := p.r.now()
	var room [16]*Deployment
	pool := room[:0]
	total := 0.0
	for _, d := range ds {
		if !d.cooling(now) {
			pool = append(pool, d)
			total += d.weight
		}
	}
	if len(pool) <= 1 {
		if len(pool) == 0 {
			return nil
		}
		return pool[0]
	}
	x := p.r.float() * total
	for _, d := range pool {
		if x < d.weight {
			return d
		}
		x -= d.weight
	}
	return pool[len(pool)-1]
}

// backoff is the wait before retrying when no other deployment can take
// the call: the upstream's Retry-After where it sent one, else 0.5 s
// doubling with each retry (LiteLLM's _calculate_retry_after), at most 8 s,
// at least the router's retry_after.
func (p *Plan) backoff() time.Duration {
	wait := 500 * time.Millisecond << min(p.Retries, 4)
	if p.lastFail != nil && p.lastFail.RetryAfter > 0 {
		wait = p.lastFail.RetryAfter
	}
	return max(min(wait, maxBackoff), p.r.retryAfter)
}

// ParseRetryAfter reads a Retry-After header given in seconds (the
// HTTP-date form is not worth a retry's wait).
func ParseRetryAfter(h http.Header) time.Duration {
	s := h.Get("Retry-After")
	if s == "" {
		return 0
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n * float64(time.Second))
}

// ContextWindowExceeded reports whether an error answer says the prompt is
// longer than the model's context window (OpenAI's
// context_length_exceeded, Anthropic's "prompt is too long"), as LiteLLM
// maps such errors to its ContextWindowExceededError.
func ContextWindowExceeded(status int, body []byte) bool {
	if status != http.StatusBadRequest {
		return false
	}
	e := gjson.GetBytes(body, "error")
	if e.Get("code").Str == "context_length_exceeded" {
		return true
	}
	msg := strings.ToLower(e.Get("message").Str)
	for _, s := range []string{"maximum context length", "context length", "context window", "prompt is too long", "too many tokens"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
