package upstream

import (
	"net/http"
	"net/url"
	"strings"
)

// GeminiEnv configures Google's Gemini API. GEMINI_API_BASE is the API's
// root, as LiteLLM reads it: the native API (generateContent) is under it,
// and "gemini/" models on /chat/completions are translated to it, as
// LiteLLM sends them. A base ending in /openai (the OpenAI-compatible
// endpoint's own, as this proxy once read it) keeps "gemini/" models on
// that endpoint, untranslated, and the native root is what precedes its
// version.
type GeminiEnv struct {
	GeminiAPIBase string `envconfig:"GEMINI_API_BASE" default:"https://generativelanguage.googleapis.com"`
	GeminiAPIKey  string `envconfig:"GEMINI_API_KEY"`
}

func (e GeminiEnv) entries() []entry {
	root, compatible := geminiBases(e.GeminiAPIBase)
	// OpenInference has no llm.system for Google's own API: none is
	// recorded.
	native := Provider{Name: "gemini", Host: "google", BaseURL: root, APIKey: e.GeminiAPIKey, family: geminiAPI{}}
	prefix := native
	prefix.family = geminiChatAPI{}
	if compatibleBase(e.GeminiAPIBase) {
		prefix = Provider{Name: "gemini", System: "openai", Host: "google", BaseURL: compatible, APIKey: e.GeminiAPIKey, family: openAIAPI{}}
	}
	return []entry{
		{p: prefix, env: "GEMINI_API_BASE"},
		{p: native, env: "GEMINI_API_BASE", home: true, homeOnly: true},
	}
}

// compatibleBase reports whether a Gemini API base names the
// OpenAI-compatible endpoint (…/v1beta/openai, …/openai) rather than the
// API's root.
func compatibleBase(base string) bool {
	return strings.HasSuffix(strings.TrimSuffix(base, "/"), "/openai")
}

// geminiDeployment is the provider of a config file's "gemini/" deployment
// with an api_base of its own, from the environment's (tmpl): the
// OpenAI-compatible endpoint for a base ending in /openai, the native API,
// translated to, for any other, as GEMINI_API_BASE decides for the
// environment's.
func geminiDeployment(tmpl Provider, apiBase string) Provider {
	p := tmpl
	p.System, p.family = "", geminiChatAPI{}
	if compatibleBase(apiBase) {
		p.System, p.family = "openai", openAIAPI{}
	}
	return p
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

// geminiChatAPI is the Gemini API as "gemini/" models on /chat/completions
// reach it, translated from OpenAI's API: the native API, whose key an
// OpenAI client sends as its bearer token. Without a key of the proxy's,
// that token goes where Google reads a key, x-goog-api-key, as LiteLLM
// sends a gemini/ call's key (Google takes a bearer token for an OAuth
// access token only).
type geminiChatAPI struct{ geminiAPI }

func (a geminiChatAPI) authorize(p *Provider, r *http.Request, body []byte) error {
	if p.APIKey == "" && r.Header.Get("X-Goog-Api-Key") == "" {
		if key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && key != "" {
			r.Header.Del("Authorization")
			r.Header.Set("X-Goog-Api-Key", key)
		}
	}
	return a.geminiAPI.authorize(p, r, body)
}
