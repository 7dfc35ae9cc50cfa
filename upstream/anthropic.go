package upstream

import (
	"net/http"
	"strings"
)

// AnthropicEnv configures Anthropic's Messages API. ANTHROPIC_API_BASE
// names the server, without /v1, as LiteLLM reads it.
type AnthropicEnv struct {
	AnthropicAPIBase string `envconfig:"ANTHROPIC_API_BASE" default:"https://api.anthropic.com"`
	AnthropicAPIKey  string `envconfig:"ANTHROPIC_API_KEY"`
}

func (e AnthropicEnv) entries() []entry {
	return []entry{{p: Provider{Name: "anthropic", System: "anthropic", Host: "anthropic", BaseURL: e.AnthropicAPIBase,
		APIKey: e.AnthropicAPIKey, family: anthropicAPI{}}, env: "ANTHROPIC_API_BASE", home: true}}
}

// anthropic is Anthropic's API: the Messages API under /v1, the key in
// x-api-key.
type anthropicAPI struct{}

func (anthropicAPI) dialect() Dialect { return Anthropic }

func (anthropicAPI) url(p *Provider, path, _, rawQuery string) string {
	return joinURL(p.BaseURL, path, rawQuery)
}

func (anthropicAPI) authorize(p *Provider, r *http.Request, _ []byte) error {
	if p.APIKey != "" {
		r.Header.Del("Authorization")
		r.Header.Set("X-Api-Key", p.APIKey)
	}
	return nil
}

// base is the Messages API's root under Anthropic's server URL.
func (anthropicAPI) base(server string) string {
	if server == "" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(server, "/"), "/v1") + "/v1"
}
