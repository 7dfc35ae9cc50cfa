package upstream

import (
	"net/http"
	"strings"
)

// OpenAIEnv configures OpenAI's API, the default upstream.
type OpenAIEnv struct {
	OpenAIAPIBase string `envconfig:"OPENAI_API_BASE"`
	OpenAIBaseURL string `envconfig:"OPENAI_BASE_URL"`
	OpenAIAPIKey  string `envconfig:"OPENAI_API_KEY"`
}

// DefaultOpenAIBase is OpenAI's API root.
const DefaultOpenAIBase = "https://api.openai.com/v1"

func (e OpenAIEnv) entries() []entry {
	base := e.OpenAIAPIBase
	if base == "" {
		base = e.OpenAIBaseURL
	}
	if base == "" {
		base = DefaultOpenAIBase
	}
	return []entry{{p: Provider{Name: "openai", System: "openai", Host: "openai", BaseURL: base, APIKey: e.OpenAIAPIKey, family: openAIAPI{}}, env: "OPENAI_API_BASE", home: true}}
}

// openAI is OpenAI and every server that speaks its API at a base URL:
// paths under the base, a bearer key.
type openAIAPI struct{}

func (openAIAPI) dialect() Dialect { return OpenAI }

func (openAIAPI) url(p *Provider, path, _, rawQuery string) string {
	return joinURL(p.BaseURL, path, rawQuery)
}

func (openAIAPI) authorize(p *Provider, r *http.Request, _ []byte) error {
	if p.APIKey != "" {
		r.Header.Del("Api-Key")
		r.Header.Set("Authorization", "Bearer "+p.APIKey)
	}
	return nil
}

func (openAIAPI) base(server string) string { return strings.TrimSuffix(server, "/") }
