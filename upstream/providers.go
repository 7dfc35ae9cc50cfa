package upstream

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/phoenixproxy/llmproxy/openai"
)

// Providers routes model names to providers. It is read-only once built,
// but for the credentials of config files' deployments, read once per
// value at the first deployment that gives them; it is safe for
// concurrent use.
type Providers struct {
	// byName holds the providers a LiteLLM prefix routes to (Route), by
	// it; named holds those and the ones RouteNamed alone reaches.
	byName, named map[string]*Provider
	// templates holds every provider served by name, configured or not
	// (Azure without AZURE_API_BASE too): a config file's deployment
	// names one and gives the base URL itself.
	templates map[string]Provider
	// home is the provider of each dialect's own API; homeUnset names the
	// variable of those not configured.
	home      map[Dialect]*Provider
	homeUnset map[Dialect]string
	// unset names the base URL variable of each provider the proxy serves
	// but was not configured for.
	unset map[string]string
	// vertexProject is VERTEXAI_PROJECT, for deployments with credentials
	// of their own; vertexAuth holds those credentials, one per value of
	// vertex_credentials (a wildcard deployment resolves at every call).
	vertexProject string
	vertexMu      sync.Mutex
	vertexAuth    map[string]*googleAuth
	// awsAuth holds the AWS credentials of Bedrock deployments that give
	// their own, one per source (bedrockDeployment).
	awsMu   sync.Mutex
	awsAuth map[awsSource]*awsAuth
}

// NewProviders builds the routing table from the environment. A base URL
// that is not an absolute http(s) URL is an error naming its variable, and
// so are explicit credentials that do not parse. It makes no network
// call: Application Default Credentials are looked for at the first call
// that needs them.
func NewProviders(env Env) (*Providers, error) {
	entries := env.entries()
	ps := &Providers{byName: make(map[string]*Provider, len(entries)), named: make(map[string]*Provider, len(entries)),
		unset: map[string]string{}, templates: make(map[string]Provider, len(entries)),
		home: map[Dialect]*Provider{}, homeUnset: map[Dialect]string{},
		vertexProject: env.VertexProject, vertexAuth: map[string]*googleAuth{}}
	for _, e := range entries {
		if e.err != nil {
			return nil, e.err
		}
		p := e.p
		if !e.homeOnly {
			ps.templates[p.Name] = p
		}
		if p.BaseURL == "" && !e.baseOptional {
			if !e.homeOnly {
				ps.unset[p.Name] = e.env // not configured (Azure has no default)
			}
			if e.home {
				ps.homeUnset[p.Dialect()] = e.env
			}
			continue
		}
		if p.BaseURL != "" {
			if !absoluteHTTP(p.BaseURL) {
				return nil, fmt.Errorf("%s=%q: want an absolute http(s) URL", e.env, p.BaseURL)
			}
			p.BaseURL = p.family.base(p.BaseURL)
		}
		if !e.homeOnly {
			ps.templates[p.Name] = p
			ps.named[p.Name] = &p
			if !e.namedOnly {
				ps.byName[p.Name] = &p
			}
		}
		if e.home {
			ps.home[p.Dialect()] = &p
		}
	}
	return ps, nil
}

// absoluteHTTP reports whether a base URL is an absolute http(s) URL with
// a host: what a provider's base must be, from the environment or a config
// file.
func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// HoldKeys reports whether the proxy holds a key of its own for any
// provider it serves, or credentials given for Google's (Application
// Default Credentials are only looked for at the first call): a key it
// may spend on a caller's behalf.
func (ps *Providers) HoldKeys() bool {
	for _, p := range ps.named {
		if p.HoldsCredentials() {
			return true
		}
	}
	for _, p := range ps.home {
		if p.HoldsCredentials() {
			return true
		}
	}
	return false
}

// HoldsCredentials reports whether the provider has credentials of its
// own, which replace the client's: an API key (a Bedrock API key too), or
// Google or AWS credentials given to it (Application Default Credentials
// and the AWS SDKs' default chain, looked for at the first call, are not
// counted).
func (p *Provider) HoldsCredentials() bool {
	return p.APIKey != "" || p.google != nil && p.google.explicit || p.aws.explicit()
}

// Home is the provider of a dialect's own API (OpenAI for OpenAI's,
// Anthropic for the Messages API), or nil when it is not configured.
func (ps *Providers) Home(d Dialect) *Provider { return ps.home[d] }

// RouteHome is the provider of dialect d's own API for a model a client
// names in that dialect, and the model as the provider names it (LiteLLM's
// prefix for the provider taken off), or a 400 naming the variable that
// would configure it.
func (ps *Providers) RouteHome(d Dialect, model string) (*Provider, string, error) {
	p := ps.home[d]
	if p == nil {
		return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest,
			Message: fmt.Sprintf("No %s upstream is configured: set %s.", d, ps.homeUnset[d])}
	}
	return p, strings.TrimPrefix(model, p.Name+"/"), nil
}

// RouteNamed is the provider of that name (Provider.Name: a LiteLLM
// prefix, or VertexAIAnthropic) for a model, and the model as the
// provider names it (LiteLLM's prefix for the provider taken off), or a
// 400 naming what would configure it.
func (ps *Providers) RouteNamed(name, model string) (*Provider, string, error) {
	p := ps.named[name]
	if p == nil {
		msg := fmt.Sprintf("No upstream named %q is served.", name)
		if variable, served := ps.unset[name]; served {
			msg = fmt.Sprintf("No %s upstream is configured: set %s.", name, variable)
		}
		return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Message: msg}
	}
	return p, strings.TrimPrefix(model, p.litellmPrefix()+"/"), nil
}

// RoutePrefixed is the provider a model's LiteLLM prefix names and the
// model as that provider names it, as a config file's deployment of that
// model with no settings of its own goes (Deployment): "bedrock/invoke/
// us.anthropic.claude-…" is Bedrock's us.anthropic.claude-…. ok is false
// for a model with no prefix, or one that names no provider served: a
// caller in another dialect than OpenAI's then keeps its own routing.
func (ps *Providers) RoutePrefixed(model string) (p *Provider, upstreamModel string, ok bool) {
	if prefix, rest, found := strings.Cut(model, "/"); !found || prefix == "" || rest == "" {
		return nil, "", false
	}
	p, upstreamModel, err := ps.Deployment(model, Params{})
	return p, upstreamModel, err == nil && p != nil
}

// litellmPrefix is LiteLLM's prefix for the provider's models: its Name,
// and Vertex AI's for both of its providers.
func (p *Provider) litellmPrefix() string {
	if _, ok := p.family.(vertexAPI); ok {
		return VertexAI
	}
	return p.Name
}

// Default is the provider for un-prefixed models and other API paths:
// OpenAI's API.
func (ps *Providers) Default() *Provider { return ps.home[OpenAI] }

// Route returns the provider for a model name and the model as that
// provider names it: "groq/llama3" routes to Groq as "llama3". Only the
// prefixes of the providers served are stripped ("openai/…" too, as LiteLLM
// does). A name whose prefix is another of LiteLLM's providers, or a served
// one with no base URL configured, is an error (400) that says so, rather
// than a call sent to OpenAI for a model it does not have. A vertex_ai/
// name routes to Vertex AI: Claude ("vertex_ai/claude-sonnet-4-5@20250929")
// to VertexAIAnthropic, any other model to VertexAI, its project and
// location the environment's (VERTEXAI_PROJECT, VERTEXAI_LOCATION). A
// bedrock/ name ("bedrock/us.amazon.nova-micro-v1:0", "bedrock/converse/…",
// "bedrock_converse/…") routes to Bedrock as its model id, its calls
// translated to Converse; "bedrock/invoke/…" is a 400 (bedrockRouteError).
// Any other name, slashes included ("meta-llama/Llama-3" for a vLLM behind
// OPENAI_API_BASE), goes to the default base as it is.
func (ps *Providers) Route(model string) (*Provider, string, error) {
	prefix, rest, ok := strings.Cut(model, "/")
	if !ok || rest == "" {
		return ps.Default(), model, nil
	}
	if p, known := ps.byName[prefix]; known {
		if p.family == (azureAPI{}) && !validDeployment(rest) {
			// The deployment goes in the upstream URL's path: a name that
			// could leave the configured base is refused.
			return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("Model %q: an Azure deployment name has only letters, digits, '.', '_' and '-'.", model)}
		}
		// A provider of another dialect (Anthropic) is translated to by
		// the caller.
		return p, rest, nil
	}
	if bedrockPrefix(prefix) {
		// As LiteLLM routes bedrock/: the caller translates to Converse,
		// with the Bedrock model id; InvokeModel is not translated to.
		return ps.routeBedrock(model, prefix, rest)
	}
	if variable, served := ps.unset[prefix]; served {
		return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q names LiteLLM's provider %q, which this proxy has no base URL for: set %s.", model, prefix, variable)}
	}
	if prefix == VertexAI {
		// As LiteLLM routes vertex_ai/: Claude is Anthropic's on Vertex AI,
		// any other model Google's; the caller translates to their
		// dialects, and the project and location are the provider's.
		name := VertexAI
		if vertexClaude(rest) {
			name = VertexAIAnthropic
		}
		p := ps.named[name]
		if p == nil { // never so: Vertex AI needs no base URL
			return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("Model %q names LiteLLM's provider %q, which this proxy is not configured for.", model, prefix)}
		}
		return p, rest, nil
	}
	if litellmProviders[prefix] {
		return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q names LiteLLM's provider %q, which this proxy does not serve. Served prefixes: %s.", model, prefix, ps.served())}
	}
	return ps.Default(), model, nil
}

// ErrNotServed marks a deployment of a LiteLLM provider this proxy does not
// serve (Cohere, SageMaker, ...), or of a model it cannot reach (a Bedrock
// imported model behind one of LiteLLM's specs: Deployment).
var ErrNotServed = errors.New("not served by this proxy")

// Params are a config file's settings of one deployment's provider
// (litellm_params): each, when set, overrides the environment's.
type Params struct {
	APIBase, APIKey, APIVersion string
	// VertexProject, VertexLocation and VertexCredentials are Vertex AI's
	// vertex_project, vertex_location and vertex_credentials (a Google
	// credentials file's path, or its JSON).
	VertexProject, VertexLocation, VertexCredentials string
	// The AWS settings of Bedrock's deployments, LiteLLM's aws_region_name,
	// aws_access_key_id, aws_secret_access_key, aws_session_token,
	// aws_profile_name, aws_role_name (assumed through STS, as
	// aws_session_name, with aws_web_identity_token when it is given:
	// an OIDC token, or where to read one) and
	// aws_bedrock_runtime_endpoint (api_base wins over it); APIKey is a
	// Bedrock API key.
	AWSRegionName, AWSAccessKeyID, AWSSecretAccessKey, AWSSessionToken     string
	AWSProfileName, AWSRoleName, AWSSessionName, AWSBedrockRuntimeEndpoint string
	AWSWebIdentityToken                                                    string
}

func (p Params) empty() bool { return p == Params{} }

// Deployment is the provider of one deployment of a config file: model is
// litellm_params.model with LiteLLM's provider prefix ("azure/prod-gpt4o",
// "anthropic/claude-sonnet-4-5", "vertex_ai/gemini-2.0-flash"; none means
// OpenAI). It returns the model as the provider names it. A deployment
// that sets nothing of its own shares the environment's provider; one that
// does gets a copy. A vertex_ai/ model whose name starts with "claude" is
// Claude on Vertex AI (VertexAIAnthropic), any other Vertex AI's Gemini
// (VertexAI).
//
// A bedrock/ model ("bedrock/us.amazon.nova-micro-v1:0", and LiteLLM's
// route prefixes "bedrock/converse/…", "bedrock/invoke/…",
// "bedrock_converse/…") is the Bedrock provider with the deployment's AWS
// settings, and its Bedrock model id, the route prefix taken off
// (SplitBedrockModel); an imported model behind one of LiteLLM's specs
// ("bedrock/llama/arn:…") is not served (bedrockDeployment). Wrong
// settings are another error, with no provider.
func (ps *Providers) Deployment(model string, params Params) (*Provider, string, error) {
	prefix, rest, ok := strings.Cut(model, "/")
	if !ok || rest == "" {
		prefix, rest = "openai", model
	}
	if bedrockPrefix(prefix) {
		return ps.bedrockDeployment(model, prefix, rest, params)
	}
	tmpl, known := ps.templates[prefix]
	known = known && tmpl.litellmPrefix() == prefix // VertexAIAnthropic is no prefix
	if known && prefix == VertexAI && vertexClaude(rest) {
		tmpl = ps.templates[VertexAIAnthropic]
	}
	if known && prefix == "gemini" && params.APIBase != "" {
		tmpl = geminiDeployment(tmpl, params.APIBase)
	}
	if !known {
		host, compatible := openAICompatible[prefix]
		switch {
		case compatible && params.APIBase != "":
			tmpl = Provider{Name: prefix, System: "openai", Host: host, family: openAIAPI{}}
		case compatible:
			return nil, "", fmt.Errorf("model %q: LiteLLM's provider %q needs an api_base", model, prefix)
		case litellmProviders[prefix]:
			return nil, "", fmt.Errorf("model %q: LiteLLM's provider %q is %w (served: %s, and OpenAI-compatible servers with an api_base)", model, prefix, ErrNotServed, ps.served())
		default:
			// No provider prefix: OpenAI's model of that name, as LiteLLM
			// infers it ("meta-llama/Llama-3" at an api_base too).
			tmpl, rest = ps.templates["openai"], model
		}
	}
	if tmpl.family == (azureAPI{}) && !validDeployment(rest) {
		return nil, "", fmt.Errorf("model %q: an Azure deployment name has only letters, digits, '.', '_' and '-'", model)
	}
	if params.empty() {
		if p := ps.named[tmpl.Name]; p != nil {
			return p, rest, nil
		}
	}
	p := tmpl
	if params.APIBase != "" {
		if !absoluteHTTP(params.APIBase) {
			return nil, "", fmt.Errorf("api_base %q: want an absolute http(s) URL", params.APIBase)
		}
		p.BaseURL = p.family.base(params.APIBase)
	}
	if _, vertex := p.family.(vertexAPI); vertex {
		if err := ps.vertexParams(&p, params); err != nil {
			return nil, "", fmt.Errorf("model %q: %w", model, err)
		}
	} else if p.BaseURL == "" {
		return nil, "", fmt.Errorf("model %q: provider %q has no base URL: set api_base, or %s", model, prefix, ps.unset[prefix])
	}
	if params.APIKey != "" {
		p.APIKey = params.APIKey
	}
	if params.APIVersion != "" {
		p.APIVersion = params.APIVersion
	}
	return &p, rest, nil
}

// vertexParams applies a deployment's Vertex AI settings to its copy of
// the provider: its project, its location, its own credentials (read once
// per value, shared by the deployments that give it).
func (ps *Providers) vertexParams(p *Provider, params Params) error {
	if l := params.VertexLocation; l != "" {
		if !validLocation(l) {
			return fmt.Errorf("vertex_location %q: want a Vertex AI location (lower-case letters, digits and '-', as us-central1 or global)", l)
		}
		p.VertexLocation = l
	}
	if params.VertexCredentials != "" {
		ps.vertexMu.Lock()
		auth := ps.vertexAuth[params.VertexCredentials]
		if auth == nil {
			var err error
			if auth, err = newGoogleAuth(params.VertexCredentials); err != nil {
				ps.vertexMu.Unlock()
				return fmt.Errorf("vertex_credentials: %w", err)
			}
			ps.vertexAuth[params.VertexCredentials] = auth
		}
		ps.vertexMu.Unlock()
		p.google = auth
		// The environment's project, else these credentials' own (not
		// the environment's credentials').
		p.VertexProject = cmp.Or(ps.vertexProject, auth.projectID())
	}
	if params.VertexProject != "" {
		p.VertexProject = params.VertexProject
	}
	return nil
}

// served lists the prefixes routed to a server of OpenAI's API, sorted.
func (ps *Providers) served() string {
	names := make([]string, 0, len(ps.byName))
	for name, p := range ps.byName {
		if p.Dialect() == OpenAI {
			names = append(names, name+"/")
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// litellmProviders are LiteLLM's provider prefixes (litellm/types/utils.py,
// LlmProviders) that the proxy does not serve: a model named with one was
// meant for that provider, not for the default upstream.
var litellmProviders = map[string]bool{
	"anthropic": true, "anthropic_text": true, "sagemaker": true,
	"sagemaker_chat": true, "vertex_ai_beta": true, "gemini": true, "palm": true,
	"cohere": true, "cohere_chat": true, "huggingface": true, "replicate": true, "ai21": true,
	"ai21_chat": true, "watsonx": true, "watsonx_text": true, "databricks": true, "cloudflare": true,
	"voyage": true, "nlp_cloud": true, "aleph_alpha": true, "baseten": true, "petals": true,
	"predibase": true, "triton": true, "clarifai": true, "nvidia_nim": true, "anyscale": true,
	"deepinfra": true, "friendliai": true, "github": true, "sambanova": true, "lm_studio": true,
	"hosted_vllm": true, "text-completion-openai": true, "text-completion-codestral": true,
	"codestral": true, "azure_ai": true, "azure_text": true, "dashscope": true, "moonshot": true,
	"volcengine": true, "snowflake": true, "oci": true, "nscale": true, "featherless_ai": true,
	"novita": true, "nebius": true, "jina_ai": true, "infinity": true, "ollama_chat": true,
	"llamafile": true, "empower": true, "galadriel": true, "xinference": true, "custom_openai": true,
}
