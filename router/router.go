// Package router picks the deployment that serves a call, as LiteLLM's
// Router does: a client's model is a model_name of the config file, served
// by one of its deployments chosen by weighted random shuffle (LiteLLM's
// simple-shuffle); a deployment that keeps failing is cooled down; a failed
// call is retried and then falls back to other model_names. Without a
// config file the router has one wildcard deployment that routes by
// LiteLLM's provider prefixes, as the environment configures them.
package router

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phoenixproxy/llmproxy/litellmconfig"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// LiteLLM's defaults (litellm/router.py).
const (
	DefaultAllowedFails = 3
	DefaultCooldown     = 5 * time.Second
	// maxBackoff bounds the wait before a retry that no other deployment
	// could take.
	maxBackoff = 8 * time.Second
	// DefaultNumRetries is a config file's num_retries when it sets none
	// (LiteLLM's Router takes openai.DEFAULT_MAX_RETRIES).
	DefaultNumRetries = 2
)

// Deployment is one model_list entry.
type Deployment struct {
	// Group is the model_name it serves; ID is model_info.id, or an id
	// made from its settings as LiteLLM makes one.
	Group, ID string
	// Model is litellm_params.model as written ("azure/prod-gpt4o").
	Model string
	// BaseModel is model_info.base_model: the model Phoenix prices, when
	// the provider's name for it is a deployment name.
	BaseModel string
	// Timeout and StreamTimeout bound an attempt (0: the proxy's own).
	Timeout, StreamTimeout time.Duration
	// MaxRetries retries this deployment itself before the router moves
	// on (litellm_params.max_retries; 0 when unset).
	MaxRetries int
	// Header is sent upstream with every call (extra_headers,
	// OpenAI-Organization).
	Header http.Header
	// Info is model_info as written, Params litellm_params without
	// credentials: what /model/info shows.
	Info   map[string]any
	Params map[string]any

	weight float64
	// provider and model are fixed for a plain entry; a wildcard entry
	// resolves them per call.
	provider      *upstream.Provider
	upstreamModel string
	wildcard      string // the model_name's prefix before '*'
	params        upstream.Params
	// unserved, when set, is why the proxy cannot serve this entry (a
	// LiteLLM provider it does not speak): its calls get a 400 saying so.
	unserved error

	health
}

// Target is where one attempt goes: a deployment, its provider and the
// model as the provider names it.
type Target struct {
	*Deployment
	Provider *upstream.Provider
	Model    string
}

// Router routes calls to deployments. It is safe for concurrent use.
type Router struct {
	groups    map[string][]*Deployment
	ids       map[string]*Deployment // by model_info.id, for fallbacks that name one
	names     []string               // model_names in the file's order (no wildcards)
	wildcards []*Deployment
	fallbacks map[string][]string
	// aliases is model_group_alias: another name for a model_name; hidden
	// ones are not listed.
	aliases map[string]string
	hidden  []string
	// contextWindow is context_window_fallbacks; nil when the file sets
	// none (the fallbacks then serve a context window exceeded too).
	contextWindow map[string][]string

	numRetries   int
	allowedFails int
	cooldown     time.Duration
	timeout      time.Duration
	retryAfter   time.Duration
	providers    *upstream.Providers
	configured   bool

	now   func() time.Time
	float func() float64

	// Unserved names the entries whose provider the proxy does not serve,
	// for the start-up warning.
	Unserved []string
	// written holds a model_name's entries as the file lists them where
	// routing leaves its unserved ones out, for Deployments.
	written map[string][]*Deployment
}

// FromEnvironment is the router without a config file: every model goes
// where its provider prefix says, with no retries.
func FromEnvironment(ps *upstream.Providers) *Router {
	r := newRouter(ps)
	r.wildcards = []*Deployment{{Group: "*", Model: "*"}}
	return r
}

func newRouter(ps *upstream.Providers) *Router {
	return &Router{
		groups: map[string][]*Deployment{}, ids: map[string]*Deployment{}, written: map[string][]*Deployment{},
		allowedFails: DefaultAllowedFails, cooldown: DefaultCooldown,
		providers: ps, now: time.Now, float: rand.Float64,
	}
}

// New builds the router of a config file. Each entry's provider must be
// one the proxy serves, with a base URL: an error names the entry and why.
func New(f *litellmconfig.File, ps *upstream.Providers) (*Router, error) {
	r := newRouter(ps)
	r.configured = true
	r.numRetries = DefaultNumRetries
	rs := f.Router
	if rs.NumRetries >= 0 {
		r.numRetries = rs.NumRetries
	}
	if rs.AllowedFails >= 0 {
		r.allowedFails = rs.AllowedFails
	}
	if rs.CooldownTime > 0 {
		r.cooldown = rs.CooldownTime
	}
	r.timeout, r.retryAfter = rs.Timeout, rs.RetryAfter
	r.fallbacks = rs.Fallbacks
	r.contextWindow = rs.ContextWindowFallbacks
	r.aliases = rs.Aliases
	r.hidden = rs.HiddenAliases
	for i, m := range f.Models {
		d, err := newDeployment(m, ps)
		switch {
		case errors.Is(err, upstream.ErrNotServed):
			d.unserved = err
			r.Unserved = append(r.Unserved, fmt.Sprintf("model_list[%d] (model_name %q): %v", i, m.Name, err))
		case err != nil:
			return nil, fmt.Errorf("config file %s: model_list[%d] (model_name %q): litellm_params: %w", f.Path, i, m.Name, err)
		}
		if m.ID != "" {
			if _, dup := r.ids[m.ID]; dup {
				return nil, fmt.Errorf("config file %s: model_list[%d] (model_name %q): model_info.id %q is another entry's id too", f.Path, i, m.Name, m.ID)
			}
			r.ids[m.ID] = d
		}
		if d.wildcard != "" || m.Name == "*" {
			r.wildcards = append(r.wildcards, d)
			continue
		}
		if _, seen := r.groups[m.Name]; !seen {
			r.names = append(r.names, m.Name)
		}
		r.groups[m.Name] = append(r.groups[m.Name], d)
	}
	// A model_name with entries the proxy serves leaves out those it does
	// not (they stay listed by /model/info): a bedrock/ twin of an OpenAI
	// deployment must not answer every other call with a 400.
	for name, ds := range r.groups {
		served := slices.DeleteFunc(slices.Clone(ds), func(d *Deployment) bool { return d.unserved != nil })
		if len(served) > 0 && len(served) < len(ds) {
			r.groups[name] = served
			r.written[name] = ds
		}
	}
	// The longest prefix wins: "anthropic/*" before "*".
	sort.SliceStable(r.wildcards, func(i, j int) bool { return len(r.wildcards[i].wildcard) > len(r.wildcards[j].wildcard) })
	return r, nil
}

func newDeployment(m litellmconfig.Model, ps *upstream.Providers) (*Deployment, error) {
	d := &Deployment{
		Group: m.Name, ID: m.ID, Model: m.Model, BaseModel: m.BaseModel,
		Timeout: m.Timeout, StreamTimeout: m.StreamTimeout, Info: m.Info,
		params: upstream.Params{APIBase: m.APIBase, APIKey: m.APIKey, APIVersion: m.APIVersion,
			VertexProject: m.VertexProject, VertexLocation: m.VertexLocation, VertexCredentials: m.VertexCredentials,
			AWSRegionName: m.AWS.RegionName, AWSAccessKeyID: m.AWS.AccessKeyID, AWSSecretAccessKey: m.AWS.SecretAccessKey,
			AWSSessionToken: m.AWS.SessionToken, AWSProfileName: m.AWS.ProfileName, AWSRoleName: m.AWS.RoleName,
			AWSSessionName: m.AWS.SessionName, AWSWebIdentityToken: m.AWS.WebIdentityToken,
			AWSBedrockRuntimeEndpoint: m.AWS.BedrockRuntimeEndpoint},
	}
	if m.MaxRetries > 0 {
		d.MaxRetries = m.MaxRetries
	}
	// simple-shuffle's weights: weight, else rpm, else tpm, else even.
	switch {
	case m.Weight > 0:
		d.weight = m.Weight
	case m.RPM > 0:
		d.weight = m.RPM
	case m.TPM > 0:
		d.weight = m.TPM
	default:
		d.weight = 1
	}
	if len(m.ExtraHeaders) > 0 || m.Org != "" {
		d.Header = http.Header{}
		for k, v := range m.ExtraHeaders {
			d.Header.Set(k, v)
		}
		if m.Org != "" {
			d.Header.Set("OpenAI-Organization", m.Org)
		}
	}
	d.Params = map[string]any{"model": m.Model}
	if m.APIBase != "" {
		d.Params["api_base"] = m.APIBase
	}
	if m.APIVersion != "" {
		d.Params["api_version"] = m.APIVersion
	}
	// The AWS settings that name no secret, as LiteLLM's /model/info
	// shows them: never the keys, the session token or the web identity
	// token.
	for k, v := range map[string]string{"aws_region_name": m.AWS.RegionName, "aws_profile_name": m.AWS.ProfileName,
		"aws_role_name": m.AWS.RoleName, "aws_session_name": m.AWS.SessionName, "aws_bedrock_runtime_endpoint": m.AWS.BedrockRuntimeEndpoint} {
		if v != "" {
			d.Params[k] = v
		}
	}
	if m.Timeout > 0 {
		d.Params["timeout"] = m.Timeout.Seconds()
	}
	if m.StreamTimeout > 0 {
		d.Params["stream_timeout"] = m.StreamTimeout.Seconds()
	}
	if m.MaxRetries >= 0 {
		d.Params["max_retries"] = m.MaxRetries
	}
	if m.Weight > 0 {
		d.Params["weight"] = m.Weight
	}
	if d.ID == "" {
		d.ID = modelID(m)
	}
	if prefix, ok := strings.CutSuffix(m.Name, "*"); ok {
		d.wildcard = prefix
		if m.Name == "*" {
			d.wildcard = ""
		}
		if !strings.Contains(m.Model, "*") {
			// A wildcard name served by one fixed model.
			p, model, err := ps.Deployment(m.Model, d.params)
			if err != nil {
				return d, err
			}
			d.provider, d.upstreamModel = p, model
		} else if _, err := resolveWildcard(d, ps, "x"); err != nil && m.Model != "*" {
			return d, err // the provider is checked now, not at the first call
		}
		return d, nil
	}
	p, model, err := ps.Deployment(m.Model, d.params)
	if err != nil {
		return d, err
	}
	d.provider, d.upstreamModel = p, model
	return d, nil
}

// modelID is LiteLLM's kind of id for an entry without one: a hash of its
// model_name and settings, stable across restarts and replicas.
func modelID(m litellmconfig.Model) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%g\x00%s", m.Name, m.Model, m.APIBase, m.APIKey, m.APIVersion, m.Weight, m.Org)
	if m.VertexProject != "" || m.VertexLocation != "" || m.VertexCredentials != "" {
		// Only when set: the ids of every other entry stay as they were.
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s", m.VertexProject, m.VertexLocation, m.VertexCredentials)
	}
	if m.AWS != (litellmconfig.AWSParams{}) {
		a := m.AWS
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s", a.RegionName, a.AccessKeyID, a.SecretAccessKey,
			a.SessionToken, a.ProfileName, a.RoleName, a.SessionName, a.WebIdentityToken, a.BedrockRuntimeEndpoint)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// resolveWildcard is the provider and model of a wildcard deployment for a
// full model name: "*" in litellm_params.model becomes the part of name
// that the model_name's "*" matched.
func resolveWildcard(d *Deployment, ps *upstream.Providers, matched string) (Target, error) {
	if d.provider != nil {
		return Target{Deployment: d, Provider: d.provider, Model: d.upstreamModel}, nil
	}
	model := matched // "*": the name as the client gave it
	if d.Model != "*" {
		model = strings.Replace(d.Model, "*", matched, 1)
	}
	var (
		p   *upstream.Provider
		up  string
		err error
	)
	if d.Model == "*" && d.params == (upstream.Params{}) {
		// The environment's routing, errors in OpenAI's format included.
		p, up, err = ps.Route(model)
	} else {
		p, up, err = ps.Deployment(model, d.params)
	}
	if err != nil {
		return Target{}, err
	}
	return Target{Deployment: d, Provider: p, Model: up}, nil
}

// Serves reports whether the config file routes model itself: a
// model_name, a model id, or a wildcard entry other than a bare "*" that
// only hands the name to the environment's routing.
func (r *Router) Serves(model string) bool {
	ds := r.candidates(model)
	return len(ds) > 0 && !(len(ds) == 1 && ds[0].passthrough())
}

// passthrough reports whether d is "*" → "*" with nothing of its own: the
// environment's routing.
func (d *Deployment) passthrough() bool {
	return d.Model == "*" && d.provider == nil && d.params == (upstream.Params{})
}

// Configured reports whether the router comes from a config file.
func (r *Router) Configured() bool { return r.configured }

// Names are the configured model_names, in the file's order, and the
// aliases not hidden, sorted.
func (r *Router) Names() []string {
	if len(r.aliases) == 0 {
		return r.names
	}
	var aliases []string
	for a := range r.aliases {
		if !slices.Contains(r.hidden, a) && len(r.groups[a]) == 0 {
			aliases = append(aliases, a)
		}
	}
	sort.Strings(aliases)
	return append(slices.Clip(r.names), aliases...)
}

// Deployments are every deployment, in model_name order, wildcards last.
func (r *Router) Deployments() []*Deployment {
	var out []*Deployment
	for _, name := range r.names {
		ds, ok := r.written[name]
		if !ok {
			ds = r.groups[name]
		}
		out = append(out, ds...)
	}
	return append(out, r.wildcards...)
}

// HoldKeys reports whether any deployment, or the environment, gives the
// proxy a provider key of its own.
func (r *Router) HoldKeys() bool {
	for _, d := range r.Deployments() {
		if d.params.APIKey != "" || d.params.VertexCredentials != "" || d.provider != nil && d.provider.HoldsCredentials() {
			return true
		}
	}
	return r.providers.HoldKeys()
}

// Timeout is the router's timeout for an attempt: the deployment's, else
// the file's, else def.
func (r *Router) Timeout(t Target, stream bool, def time.Duration) time.Duration {
	switch {
	case stream && t.StreamTimeout > 0:
		return t.StreamTimeout
	case t.Timeout > 0:
		return t.Timeout
	case r.timeout > 0:
		return r.timeout
	}
	return def
}

// UnknownModelError is a model no deployment serves.
func (r *Router) unknownModel(model string) error {
	names := strings.Join(r.names, ", ")
	return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
		Message: fmt.Sprintf("Invalid model name passed in model=%s. Call `/v1/models` to view available models for your key. Configured model_names: %s.", model, names)}
}

// candidates are the deployments of a model_name, and the wildcard match
// when no entry has that name.
func (r *Router) candidates(model string) []*Deployment {
	if ds := r.groups[model]; len(ds) > 0 {
		return ds
	}
	if to, ok := r.aliases[model]; ok {
		return r.groups[to]
	}
	if d := r.ids[model]; d != nil {
		return []*Deployment{d}
	}
	// The longest matching prefix wins; every entry with it shares the
	// calls (wildcards is sorted longest first).
	for i, d := range r.wildcards {
		if strings.HasPrefix(model, d.wildcard) {
			j := i + 1
			for j < len(r.wildcards) && r.wildcards[j].wildcard == d.wildcard {
				j++
			}
			return r.wildcards[i:j:j]
		}
	}
	return nil
}

// target resolves a deployment for a model name.
func (r *Router) target(d *Deployment, model string) (Target, error) {
	var t Target
	var err error
	if d.unserved != nil {
		return Target{Deployment: d}, &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q is served by %v", model, d.unserved)}
	}
	if d.provider != nil {
		t = Target{Deployment: d, Provider: d.provider, Model: d.upstreamModel}
	} else {
		t, err = resolveWildcard(d, r.providers, strings.TrimPrefix(model, d.wildcard))
		if err != nil {
			return Target{Deployment: d}, err
		}
	}
	return t, nil
}
