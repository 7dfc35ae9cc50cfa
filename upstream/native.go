package upstream

import (
	"fmt"
	"net/url"
)

// modelPather is a family whose API names the model in the path, with the
// method called after it (Google's {model}:generateContent, Bedrock's
// /model/{modelId}/converse).
type modelPather interface {
	modelPath(p *Provider, model, method string) (string, error)
}

// rooter is a family served beside a family of another dialect at one
// account (the Gemini API beside its OpenAI-compatible endpoint): the root
// of its API for the other's base URL.
type rooter interface {
	rootOf(otherBase string) string
}

// ModelPath is the upstream path of a model's method at p, for the model
// as p names it: the Gemini API's /v1beta/models/{model}:{method}, Vertex
// AI's project and location path (VertexModelPath), Bedrock's
// /model/{modelId}/{operation} (BedrockModelPath). A provider whose API
// names the model in the body (OpenAI's, Anthropic's) has none: an error
// saying so.
func (p *Provider) ModelPath(model, method string) (string, error) {
	f, ok := p.family.(modelPather)
	if !ok {
		return "", fmt.Errorf("provider %q names its model in the request body, not in a path", p.Name)
	}
	return f.modelPath(p, model, method)
}

func (geminiAPI) modelPath(_ *Provider, model, method string) (string, error) {
	return "/v1beta/models/" + url.PathEscape(model) + ":" + method, nil
}

func (vertexAPI) modelPath(p *Provider, model, method string) (string, error) {
	return p.VertexModelPath(model, method)
}

func (bedrockAPI) modelPath(_ *Provider, model, operation string) (string, error) {
	return BedrockModelPath(model, operation), nil
}

// rootOf is the Gemini API's root for a base of its OpenAI-compatible
// endpoint (…/v1beta/openai), as GEMINI_API_BASE reads both.
func (geminiAPI) rootOf(compatible string) string {
	root, _ := geminiBases(compatible)
	return root
}

// Native is the provider that serves p's account in dialect d: p itself
// when it speaks d; else the provider of d's own API that shares p's name
// and host (a config file's gemini/ deployment, LiteLLM's OpenAI-compatible
// endpoint of the Gemini API, is the Gemini API's own for generateContent),
// with p's key and p's base's root when p has settings of its own; nil
// when no provider of d serves p's account.
func (ps *Providers) Native(p *Provider, d Dialect) *Provider {
	if p.Dialect() == d {
		return p
	}
	home := ps.home[d]
	if home == nil || home.Name != p.Name || home.Host != p.Host {
		return nil
	}
	n := *home
	if p.APIKey != "" {
		n.APIKey = p.APIKey
	}
	if env := ps.named[p.Name]; (env == nil || env.BaseURL != p.BaseURL) && p.BaseURL != "" {
		r, ok := home.family.(rooter)
		if !ok {
			return nil // a base of its own that names no root of d's API
		}
		n.BaseURL = r.rootOf(p.BaseURL)
	}
	return &n
}
