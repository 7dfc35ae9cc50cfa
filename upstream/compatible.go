package upstream

import "strings"

// CompatibleEnv configures the hosted servers that speak OpenAI's API, in
// LiteLLM's variable names.
type CompatibleEnv struct {
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
}

func (e CompatibleEnv) entries() []entry {
	compatible := func(name, host, base, key, variable string) entry {
		return entry{p: Provider{Name: name, System: "openai", Host: host, BaseURL: base, APIKey: key, family: openAIAPI{}}, env: variable}
	}
	return []entry{
		compatible("groq", "groq", e.GroqAPIBase, e.GroqAPIKey, "GROQ_API_BASE"),
		compatible("together_ai", "together", e.TogetherAPIBase, e.TogetherAPIKey, "TOGETHERAI_API_BASE"),
		compatible("fireworks_ai", "fireworks", e.FireworksAPIBase, e.FireworksAPIKey, "FIREWORKS_AI_API_BASE"),
		compatible("deepseek", "deepseek", e.DeepSeekAPIBase, e.DeepSeekAPIKey, "DEEPSEEK_API_BASE"),
		compatible("xai", "xai", e.XAIAPIBase, e.XAIAPIKey, "XAI_API_BASE"),
		{p: Provider{Name: "mistral", System: "mistralai", Host: "mistralai", BaseURL: e.MistralAPIBase, APIKey: e.MistralAPIKey, family: openAIAPI{}}, env: "MISTRAL_API_BASE"},
		compatible("openrouter", "openrouter", e.OpenRouterAPIBase, e.OpenRouterAPIKey, "OPENROUTER_API_BASE"),
		compatible("perplexity", "perplexity", e.PerplexityAPIBase, e.PerplexityAPIKey, "PERPLEXITYAI_API_BASE"),
		compatible("cerebras", "cerebras", e.CerebrasAPIBase, e.CerebrasAPIKey, "CEREBRAS_API_BASE"),
		{p: Provider{Name: "ollama", System: "openai", Host: "ollama", BaseURL: e.OllamaAPIBase, family: ollamaAPI{}}, env: "OLLAMA_API_BASE"},
	}
}

// openAICompatible are LiteLLM's prefixes for servers that speak the
// OpenAI API at a base URL of their own (vLLM, LM Studio, ...): a config
// entry with one of them and an api_base is served as OpenAI's API, with
// the host named here.
var openAICompatible = map[string]string{
	"hosted_vllm": "vllm", "openai_like": "openai", "custom_openai": "openai", "lm_studio": "lm_studio",
	"llamafile": "llamafile", "xinference": "xinference",
}

// ollama is Ollama's OpenAI-compatible API, under /v1 of its server URL
// (OLLAMA_API_BASE names the server).
type ollamaAPI struct{ openAIAPI }

func (ollamaAPI) base(server string) string {
	if server == "" {
		return ""
	}
	return strings.TrimSuffix(server, "/") + "/v1"
}
