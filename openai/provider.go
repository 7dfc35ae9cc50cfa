package openai

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Provider is one upstream: one that speaks the OpenAI API, or Anthropic
// for its Messages API.
type Provider struct {
	// Name is LiteLLM's prefix for it in model names ("groq" in
	// "groq/llama-3.1-8b-instant").
	Name string
	// System is llm.system (the API family) and Host is llm.provider (who
	// serves the model), in OpenInference's values.
	System, Host string
	// BaseURL is the API root that endpoint paths are appended to, e.g.
	// https://api.openai.com/v1 (no trailing slash).
	BaseURL string
	// APIKey, when set, replaces the client's credentials upstream.
	APIKey string
	// APIVersion, for Azure, is the api-version query parameter.
	APIVersion string
}

// Azure reports whether the provider uses Azure OpenAI's URLs and api-key
// header.
func (p *Provider) Azure() bool { return p.Name == "azure" }

// Anthropic reports whether the provider is Anthropic's API, whose key goes
// in x-api-key.
func (p *Provider) Anthropic() bool { return p.Name == "anthropic" }

// URL is the upstream URL for an endpoint path such as "/chat/completions"
// and the model as the provider names it. rawQuery is the client's query.
func (p *Provider) URL(path, model, rawQuery string) string {
	u := p.BaseURL
	if p.Azure() {
		// https://{resource}.openai.azure.com/openai/deployments/{model}/chat/completions?api-version=…
		u += "/openai/deployments/" + url.PathEscape(model)
		q, _ := url.ParseQuery(rawQuery)
		if q.Get("api-version") == "" && p.APIVersion != "" {
			q.Set("api-version", p.APIVersion)
		}
		rawQuery = q.Encode()
	}
	u += path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return u
}

// Authorize puts the proxy's own key for this provider on an upstream
// request, replacing the client's. Without a key the client's credentials
// pass through as they came.
func (p *Provider) Authorize(h http.Header) {
	if p.APIKey == "" {
		return
	}
	if p.Azure() {
		h.Del("Authorization")
		h.Set("Api-Key", p.APIKey)
		return
	}
	if p.Anthropic() {
		h.Del("Authorization")
		h.Set("X-Api-Key", p.APIKey)
		return
	}
	h.Del("Api-Key")
	h.Set("Authorization", "Bearer "+p.APIKey)
}

// Env is the providers' configuration from the environment, with LiteLLM's
// variable names. Embed it in a struct read by envconfig.
type Env struct {
	OpenAIAPIBase string `envconfig:"OPENAI_API_BASE"`
	OpenAIBaseURL string `envconfig:"OPENAI_BASE_URL"`
	OpenAIAPIKey  string `envconfig:"OPENAI_API_KEY"`

	AzureAPIBase    string `envconfig:"AZURE_API_BASE"`
	AzureAPIKey     string `envconfig:"AZURE_API_KEY"`
	AzureAPIVersion string `envconfig:"AZURE_API_VERSION" default:"2024-12-01-preview"`

	GroqAPIBase       string `envconfig:"GROQ_API_BASE" default:"https://api.groq.com/openai/v1"`
	GroqAPIKey        string `envconfig:"GROQ_API_KEY"`
	TogetherAPIBase   string `envconfig:"TOGETHERAI_API_BASE" default:"https://api.together.xyz/v1"`
	TogetherAPIKey    string `envconfig:"TOGETHERAI_API_KEY"`
	FireworksAPIBase  string `envconfig:"FIREWORKS_AI_API_BASE" default:"https://api.fireworks.ai/inference/v1"`
	FireworksAPIKey   string `envconfig:"FIREWORKS_AI_API_KEY"`
	DeepSeekAPIBase   string `envconfig:"DEEPSEEK_API_BASE" default:"https://api.deepseek.com/v1"`
	DeepSeekAPIKey    string `envconfig:"DEEPSEEK_API_KEY"`
	XAIAPIBase        string `envconfig:"XAI_API_BASE" default:"https://api.x.ai/v1"`
	XAIAPIKey         string `envconfig:"XAI_API_KEY"`
	MistralAPIBase    string `envconfig:"MISTRAL_API_BASE" default:"https://api.mistral.ai/v1"`
	MistralAPIKey     string `envconfig:"MISTRAL_API_KEY"`
	OpenRouterAPIBase string `envconfig:"OPENROUTER_API_BASE" default:"https://openrouter.ai/api/v1"`
	OpenRouterAPIKey  string `envconfig:"OPENROUTER_API_KEY"`
	PerplexityAPIBase string `envconfig:"PERPLEXITYAI_API_BASE" default:"https://api.perplexity.ai"`
	PerplexityAPIKey  string `envconfig:"PERPLEXITYAI_API_KEY"`
	CerebrasAPIBase   string `envconfig:"CEREBRAS_API_BASE" default:"https://api.cerebras.ai/v1"`
	CerebrasAPIKey    string `envconfig:"CEREBRAS_API_KEY"`
	OllamaAPIBase     string `envconfig:"OLLAMA_API_BASE" default:"http://localhost:11434"`

	GeminiAPIBase string `envconfig:"GEMINI_API_BASE" default:"https://generativelanguage.googleapis.com/v1beta/openai"`
	GeminiAPIKey  string `envconfig:"GEMINI_API_KEY"`

	AnthropicAPIBase string `envconfig:"ANTHROPIC_API_BASE" default:"https://api.anthropic.com"`
	AnthropicAPIKey  string `envconfig:"ANTHROPIC_API_KEY"`
}

// DefaultOpenAIBase is OpenAI's API root.
const DefaultOpenAIBase = "https://api.openai.com/v1"

// Providers routes model names to providers. It is read-only once built.
type Providers struct {
	byName map[string]*Provider
	// templates holds every provider served, configured or not (Azure
	// without AZURE_API_BASE too): a config file's deployment names one
	// and gives the base URL itself.
	templates map[string]Provider
	fallback  *Provider
	anthropic *Provider
	// unset names the base URL variable of each provider the proxy serves
	// but was not configured for.
	unset map[string]string
}

// NewProviders builds the routing table from the environment. A base URL
// that is not an absolute http(s) URL is an error naming its variable.
func NewProviders(env Env) (*Providers, error) {
	openAIBase := env.OpenAIAPIBase
	if openAIBase == "" {
		openAIBase = env.OpenAIBaseURL
	}
	if openAIBase == "" {
		openAIBase = DefaultOpenAIBase
	}
	type entry struct {
		p   Provider
		env string // the base URL's variable
	}
	entries := []entry{
		{Provider{Name: "openai", System: "openai", Host: "openai", BaseURL: openAIBase, APIKey: env.OpenAIAPIKey}, "OPENAI_API_BASE"},
		{Provider{Name: "azure", System: "openai", Host: "azure", BaseURL: env.AzureAPIBase, APIKey: env.AzureAPIKey, APIVersion: env.AzureAPIVersion}, "AZURE_API_BASE"},
		{Provider{Name: "groq", System: "openai", Host: "groq", BaseURL: env.GroqAPIBase, APIKey: env.GroqAPIKey}, "GROQ_API_BASE"},
		{Provider{Name: "together_ai", System: "openai", Host: "together", BaseURL: env.TogetherAPIBase, APIKey: env.TogetherAPIKey}, "TOGETHERAI_API_BASE"},
		{Provider{Name: "fireworks_ai", System: "openai", Host: "fireworks", BaseURL: env.FireworksAPIBase, APIKey: env.FireworksAPIKey}, "FIREWORKS_AI_API_BASE"},
		{Provider{Name: "deepseek", System: "openai", Host: "deepseek", BaseURL: env.DeepSeekAPIBase, APIKey: env.DeepSeekAPIKey}, "DEEPSEEK_API_BASE"},
		{Provider{Name: "xai", System: "openai", Host: "xai", BaseURL: env.XAIAPIBase, APIKey: env.XAIAPIKey}, "XAI_API_BASE"},
		{Provider{Name: "mistral", System: "mistralai", Host: "mistralai", BaseURL: env.MistralAPIBase, APIKey: env.MistralAPIKey}, "MISTRAL_API_BASE"},
		{Provider{Name: "openrouter", System: "openai", Host: "openrouter", BaseURL: env.OpenRouterAPIBase, APIKey: env.OpenRouterAPIKey}, "OPENROUTER_API_BASE"},
		{Provider{Name: "perplexity", System: "openai", Host: "perplexity", BaseURL: env.PerplexityAPIBase, APIKey: env.PerplexityAPIKey}, "PERPLEXITYAI_API_BASE"},
		{Provider{Name: "cerebras", System: "openai", Host: "cerebras", BaseURL: env.CerebrasAPIBase, APIKey: env.CerebrasAPIKey}, "CEREBRAS_API_BASE"},
		{Provider{Name: "ollama", System: "openai", Host: "ollama", BaseURL: ollamaBase(env.OllamaAPIBase)}, "OLLAMA_API_BASE"},
		{Provider{Name: "gemini", System: "openai", Host: "google", BaseURL: env.GeminiAPIBase, APIKey: env.GeminiAPIKey}, "GEMINI_API_BASE"},
		{Provider{Name: "anthropic", System: "anthropic", Host: "anthropic", BaseURL: anthropicBase(env.AnthropicAPIBase), APIKey: env.AnthropicAPIKey}, "ANTHROPIC_API_BASE"},
	}
	ps := &Providers{byName: make(map[string]*Provider, len(entries)), unset: map[string]string{},
		templates: make(map[string]Provider, len(entries))}
	for _, e := range entries {
		p := e.p
		ps.templates[p.Name] = p
		if p.BaseURL == "" {
			ps.unset[p.Name] = e.env // not configured (Azure has no default)
			continue
		}
		if !absoluteHTTP(p.BaseURL) {
			return nil, fmt.Errorf("%s=%q: want an absolute http(s) URL", e.env, p.BaseURL)
		}
		p.BaseURL = strings.TrimSuffix(p.BaseURL, "/")
		ps.templates[p.Name] = p
		ps.byName[p.Name] = &p
	}
	ps.fallback = ps.byName["openai"]
	// Anthropic does not speak the OpenAI API: it is kept apart, and the
	// "anthropic/" models that Route gives it are translated.
	ps.anthropic = ps.byName["anthropic"]
	delete(ps.byName, "anthropic")
	return ps, nil
}

// absoluteHTTP reports whether a base URL is an absolute http(s) URL with
// a host: what a provider's base must be, from the environment or a config
// file.
func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// anthropicBase is the Messages API's root under Anthropic's server URL
// (LiteLLM's ANTHROPIC_API_BASE names the server, without /v1).
func anthropicBase(server string) string {
	if server == "" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(server, "/"), "/v1") + "/v1"
}

// HoldKeys reports whether the proxy holds a key of its own for any
// provider it serves: a key it may spend on a caller's behalf.
func (ps *Providers) HoldKeys() bool {
	if ps.anthropic != nil && ps.anthropic.APIKey != "" {
		return true
	}
	for _, p := range ps.byName {
		if p.APIKey != "" {
			return true
		}
	}
	return false
}

// Anthropic is the provider of the Messages API, or nil when unset.
func (ps *Providers) Anthropic() *Provider { return ps.anthropic }

// ollamaBase is Ollama's OpenAI-compatible root under its server URL.
func ollamaBase(server string) string {
	if server == "" {
		return ""
	}
	return strings.TrimSuffix(server, "/") + "/v1"
}

// Default is the provider for un-prefixed models and other API paths.
func (ps *Providers) Default() *Provider { return ps.fallback }

// Route returns the provider for a model name and the model as that
// provider names it: "groq/llama3" routes to Groq as "llama3". Only the
// prefixes of the providers served are stripped ("openai/…" too, as LiteLLM
// does). A name whose prefix is another of LiteLLM's providers, or a served
// one with no base URL configured, is an error (400) that says so, rather
// than a call sent to OpenAI for a model it does not have. Any other name,
// slashes included ("meta-llama/Llama-3" for a vLLM behind
// OPENAI_API_BASE), goes to the default base as it is.
func (ps *Providers) Route(model string) (*Provider, string, error) {
	prefix, rest, ok := strings.Cut(model, "/")
	if !ok || rest == "" {
		return ps.fallback, model, nil
	}
	if p, known := ps.byName[prefix]; known {
		if p.Azure() && !validDeployment(rest) {
			// The deployment goes in the upstream URL's path: a name that
			// could leave the configured base is refused.
			return nil, "", &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: "model",
				Message: fmt.Sprintf("Model %q: an Azure deployment name has only letters, digits, '.', '_' and '-'.", model)}
		}
		return p, rest, nil
	}
	if prefix == "anthropic" && ps.anthropic != nil {
		// Not an OpenAI API: the caller translates (see Provider.Anthropic).
		return ps.anthropic, rest, nil
	}
	if variable, served := ps.unset[prefix]; served {
		return nil, "", &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q names LiteLLM's provider %q, which this proxy has no base URL for: set %s.", model, prefix, variable)}
	}
	if litellmProviders[prefix] {
		return nil, "", &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q names LiteLLM's provider %q, which this proxy does not serve. Served prefixes: %s.", model, prefix, ps.served())}
	}
	return ps.fallback, model, nil
}

// ErrNotServed marks a deployment of a LiteLLM provider this proxy does not
// serve (Bedrock, Vertex AI, ...).
var ErrNotServed = errors.New("not served by this proxy")

// openAICompatible are LiteLLM's prefixes for servers that speak the
// OpenAI API at a base URL of their own (vLLM, LM Studio, ...): a config
// entry with one of them and an api_base is served as OpenAI's API.
var openAICompatible = map[string]string{
	"hosted_vllm": "vllm", "openai_like": "openai", "custom_openai": "openai", "lm_studio": "lm_studio",
	"llamafile": "llamafile", "xinference": "xinference",
}

// Deployment is the provider of one deployment of a config file: model is
// litellm_params.model with LiteLLM's provider prefix ("azure/prod-gpt4o",
// "anthropic/claude-sonnet-4-5"; none means OpenAI), apiBase, apiKey and
// apiVersion override the environment's where set. It returns the model as
// the provider names it. An unset override shares the environment's
// provider; a set one gets a copy.
func (ps *Providers) Deployment(model, apiBase, apiKey, apiVersion string) (*Provider, string, error) {
	prefix, rest, ok := strings.Cut(model, "/")
	if !ok || rest == "" {
		prefix, rest = "openai", model
	}
	tmpl, known := ps.templates[prefix]
	if !known {
		host, compatible := openAICompatible[prefix]
		switch {
		case compatible && apiBase != "":
			tmpl = Provider{Name: prefix, System: "openai", Host: host}
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
	if tmpl.Azure() && !validDeployment(rest) {
		return nil, "", fmt.Errorf("model %q: an Azure deployment name has only letters, digits, '.', '_' and '-'", model)
	}
	if apiBase == "" && apiKey == "" && apiVersion == "" {
		if p := ps.byName[tmpl.Name]; p != nil {
			return p, rest, nil
		}
		if tmpl.Anthropic() && ps.anthropic != nil {
			return ps.anthropic, rest, nil
		}
	}
	p := tmpl
	if apiBase != "" {
		if !absoluteHTTP(apiBase) {
			return nil, "", fmt.Errorf("api_base %q: want an absolute http(s) URL", apiBase)
		}
		switch p.Name {
		case "anthropic":
			apiBase = anthropicBase(apiBase)
		case "ollama":
			apiBase = ollamaBase(apiBase)
		}
		p.BaseURL = strings.TrimSuffix(apiBase, "/")
	}
	if p.BaseURL == "" {
		return nil, "", fmt.Errorf("model %q: provider %q has no base URL: set api_base, or %s", model, prefix, ps.unset[prefix])
	}
	if apiKey != "" {
		p.APIKey = apiKey
	}
	if apiVersion != "" {
		p.APIVersion = apiVersion
	}
	return &p, rest, nil
}

// validDeployment reports whether an Azure deployment name is one path
// segment that stays where it is put: letters, digits, '.', '_', '-', and
// not "." or "..".
func validDeployment(name string) bool {
	if name == "" || strings.Trim(name, ".") == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// served lists the prefixes routed, sorted.
func (ps *Providers) served() string {
	names := make([]string, 0, len(ps.byName))
	for name := range ps.byName {
		names = append(names, name+"/")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// litellmProviders are LiteLLM's provider prefixes (litellm/types/utils.py,
// LlmProviders) that the proxy does not serve: a model named with one was
// meant for that provider, not for the default upstream.
var litellmProviders = map[string]bool{
	"anthropic": true, "anthropic_text": true, "bedrock": true, "bedrock_converse": true, "sagemaker": true,
	"sagemaker_chat": true, "vertex_ai": true, "vertex_ai_beta": true, "gemini": true, "palm": true,
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
