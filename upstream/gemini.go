package upstream

import (
	"net/http"
	"net/url"
	"strings"
)

// GeminiEnv configures Google's Gemini API. GEMINI_API_BASE is the API's
// root, as LiteLLM reads it: the native API (generateContent) is under it,
// and the OpenAI-compatible endpoint that LiteLLM's "gemini/" models go to
// is its /v1beta/openai. A base ending in /openai (the compatible
// endpoint's own, as this proxy once read it) names that endpoint, and the
// root is what precedes its version.
type GeminiEnv struct {
	GeminiAPIBase string `envconfig:"GEMINI_API_BASE" default:"https://generativelanguage.googleapis.com"`
	GeminiAPIKey  string `envconfig:"GEMINI_API_KEY"`
}

func (e GeminiEnv) entries() []entry {
	root, compatible := geminiBases(e.GeminiAPIBase)
	return []entry{
		{p: Provider{Name: "gemini", System: "openai", Host: "google", BaseURL: compatible, APIKey: e.GeminiAPIKey, family: openAIAPI{}},
			env: "GEMINI_API_BASE"},
		// OpenInference has no llm.system for Google's own API: none is
		// recorded.
		{p: Provider{Name: "gemini", Host: "google", BaseURL: root, APIKey: e.GeminiAPIKey, family: geminiAPI{}},
			env: "GEMINI_API_BASE", home: true, homeOnly: true},
	}
}

// geminiBases are the native API's root and the OpenAI-compatible
// endpoint's base for a GEMINI_API_BASE: a root, or (the older form) the
// compatible endpoint itself, …/v1beta/openai or …/v1/openai.
func geminiBases(base string) (root, compatible string) {
	base = strings.TrimSuffix(base, "/")
	if base == "" {
		return "", ""
	}
	if rest, ok := strings.CutSuffix(base, "/openai"); ok {
		for _, version := range []string{"/v1beta", "/v1"} {
			if r, ok := strings.CutSuffix(rest, version); ok {
				return r, base
			}
		}
		return rest, base
	}
	return base, base + "/v1beta/openai"
}

// geminiAPI is Google's Gemini API (generateContent and the rest): paths
// under the root carry their version (/v1beta/models/…), the key goes in
// x-goog-api-key.
type geminiAPI struct{}

func (geminiAPI) dialect() Dialect { return Gemini }

func (geminiAPI) url(p *Provider, path, _, rawQuery string) string {
	return joinURL(p.BaseURL, path, rawQuery)
}

// authorize puts the proxy's key in x-goog-api-key, in place of the
// client's wherever it was: a header, or the URL's key parameter, which
// must not go upstream beside the proxy's. Without a key, the client's
// pass as they came.
func (geminiAPI) authorize(p *Provider, r *http.Request, _ []byte) error {
	if p.APIKey == "" {
		return nil
	}
	r.Header.Del("Authorization")
	r.Header.Set("X-Goog-Api-Key", p.APIKey)
	DropQueryKey(r.URL)
	return nil
}

func (geminiAPI) base(server string) string { return strings.TrimSuffix(server, "/") }

// DropQueryKey takes Google's key parameter out of a URL's query, however
// its name is encoded (Google decodes it), leaving the other parameters
// byte for byte.
func DropQueryKey(u *url.URL) {
	if u == nil || u.RawQuery == "" {
		return
	}
	parts := strings.Split(u.RawQuery, "&")
	kept := parts[:0]
	for _, part := range parts {
		name, _, _ := strings.Cut(part, "=")
		if decoded, err := url.QueryUnescape(name); name == "key" || err == nil && decoded == "key" {
			continue
		}
		kept = append(kept, part)
	}
	u.RawQuery = strings.Join(kept, "&")
}
