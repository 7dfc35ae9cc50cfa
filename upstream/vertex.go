package upstream

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// VertexEnv configures Vertex AI, in LiteLLM's variable names. Calls go to
// the host of the location their path names ({location}-aiplatform.
// googleapis.com), or to VERTEXAI_API_BASE when it is set (a private
// endpoint, a test server). VERTEXAI_CREDENTIALS is a Google credentials
// file, its path or its JSON, as LiteLLM's vertex_credentials; without it
// the proxy looks for Application Default Credentials at the first call,
// and passes the client's own Authorization when it finds none.
// VERTEXAI_PROJECT and VERTEXAI_LOCATION are for the calls whose path the
// proxy builds from a model name.
type VertexEnv struct {
	VertexAPIBase     string `envconfig:"VERTEXAI_API_BASE"`
	VertexProject     string `envconfig:"VERTEXAI_PROJECT"`
	VertexLocation    string `envconfig:"VERTEXAI_LOCATION" default:"us-central1"`
	VertexCredentials string `envconfig:"VERTEXAI_CREDENTIALS"`
}

// The names of Vertex AI's providers, as RouteNamed and Provider.Name know
// them. LiteLLM's prefix for both is "vertex_ai/": a Claude model
// ("vertex_ai/claude-sonnet-4-5@20250929") is Anthropic's on Vertex AI,
// any other Google's.
const (
	// VertexAI is Vertex AI's generateContent API, for Gemini models
	// (publishers/google).
	VertexAI = "vertex_ai"
	// VertexAIAnthropic is Claude on Vertex AI: Anthropic's Messages API
	// at :rawPredict (publishers/anthropic), in its own dialect
	// (VertexAnthropic).
	VertexAIAnthropic = "vertex_ai_anthropic"
)

// DefaultVertexLocation is Vertex AI's location when none is set, as
// LiteLLM's.
const DefaultVertexLocation = "us-central1"

func (e VertexEnv) entries() []entry {
	auth, err := newGoogleAuth(e.VertexCredentials)
	if err != nil {
		err = fmt.Errorf("VERTEXAI_CREDENTIALS: %w", err)
	}
	location := cmp.Or(e.VertexLocation, DefaultVertexLocation)
	if err == nil && !validLocation(location) {
		err = fmt.Errorf("VERTEXAI_LOCATION=%q: want a Vertex AI location (lower-case letters, digits and '-', as us-central1 or global)", location)
	}
	vertex := func(name, system string, d Dialect) entry {
		return entry{p: Provider{Name: name, System: system, Host: "google", BaseURL: e.VertexAPIBase,
			VertexProject: cmp.Or(e.VertexProject, auth.projectID()), VertexLocation: location, family: vertexAPI{d}, google: auth},
			env: "VERTEXAI_API_BASE", namedOnly: true, baseOptional: true, err: err}
	}
	// OpenInference has no llm.system for Google's API: none is recorded
	// for Gemini models; Claude's calls are Anthropic's API.
	return []entry{vertex(VertexAI, "", Gemini), vertex(VertexAIAnthropic, "anthropic", VertexAnthropic)}
}

// vertexAPI is Vertex AI, in one dialect per publisher: paths carry the
// project, location and model (/v1/projects/{p}/locations/{l}/publishers/
// {publisher}/models/{m}:{method}); the host is the location's; the
// credentials are a Google OAuth2 access token.
type vertexAPI struct{ d Dialect }

func (v vertexAPI) dialect() Dialect { return v.d }

// url is the base URL when one is set, else the host of the location the
// path names, and the path. Only a location that is one well-formed DNS
// label picks a host; any other (or none) goes to the global host, which
// answers an odd path with an error: no path can name another host.
func (vertexAPI) url(p *Provider, path, _, rawQuery string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // never userinfo or a port after the host
	}
	base := p.BaseURL
	if base == "" {
		base = vertexHost(pathLocation(path))
	}
	return joinURL(base, path, rawQuery)
}

// authorize puts an access token from the provider's Google credentials
// in Authorization, in place of whatever the client sent (its token, or a
// Google API key in x-goog-api-key or the URL). Without credentials the
// client's pass as they came. It may block on the token's first fetch or
// refresh, until r's context is done.
func (vertexAPI) authorize(p *Provider, r *http.Request, _ []byte) error {
	if p.google == nil {
		return nil
	}
	tok, err := p.google.token(r.Context())
	if err != nil {
		return fmt.Errorf("%s: getting an access token: %w", VertexAI, err)
	}
	if tok == nil {
		return nil // none found: the client's own
	}
	r.Header.Del("X-Goog-Api-Key")
	DropQueryKey(r.URL)
	tok.SetAuthHeader(r)
	return nil
}

func (vertexAPI) base(server string) string { return strings.TrimSuffix(server, "/") }

// vertexHost is the API's URL for a location, as LiteLLM's
// get_vertex_base_url: https://aiplatform.googleapis.com for "global" (and
// for a location that is not one), a multi-region's (us, eu) own host, a
// region's {location}-aiplatform.googleapis.com.
func vertexHost(location string) string {
	switch {
	case location == "global" || !validLocation(location):
		return "https://aiplatform.googleapis.com"
	case !strings.Contains(location, "-"):
		return "https://aiplatform." + location + ".rep.googleapis.com"
	default:
		return "https://" + location + "-aiplatform.googleapis.com"
	}
}

// validLocation reports whether a Vertex AI location can name a host: one
// DNS label of lower-case letters, digits and '-', starting with a letter.
func validLocation(l string) bool {
	if l == "" || len(l) > 63 || l[0] < 'a' || l[0] > 'z' {
		return false
	}
	for _, c := range l {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// pathLocation is the location a Vertex AI path names,
// /{version}/projects/{project}/locations/{location}/…, or "".
func pathLocation(path string) string {
	s := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 6)
	if len(s) < 5 || s[1] != "projects" || s[3] != "locations" {
		return ""
	}
	return s[4]
}

// vertexClaude reports whether a vertex_ai/ model is Claude, Anthropic's
// on Vertex AI, as LiteLLM tells them apart.
func vertexClaude(model string) bool { return strings.HasPrefix(model, "claude") }

// VertexModelPath is the upstream path of a Vertex AI model's method
// ("generateContent", "streamGenerateContent", "rawPredict", …) for a
// model as the provider names it:
// /v1/projects/{VertexProject}/locations/{VertexLocation}/publishers/
// {google or anthropic}/models/{model}:{method}. It is an error when p is
// not Vertex AI's, when no project is known, or when the model is not one
// path segment.
func (p *Provider) VertexModelPath(model, method string) (string, error) {
	v, ok := p.family.(vertexAPI)
	switch {
	case !ok:
		return "", fmt.Errorf("provider %q is not Vertex AI's", p.Name)
	case p.VertexProject == "":
		return "", fmt.Errorf("%s: no Google Cloud project for model %q: set vertex_project or VERTEXAI_PROJECT", VertexAI, model)
	case !validVertexModel(model):
		return "", fmt.Errorf("model %q: a Vertex AI model name has only letters, digits, '.', '_', '-' and '@'", model)
	}
	publisher := "google"
	if v.d == VertexAnthropic {
		publisher = "anthropic"
	}
	return "/v1/projects/" + url.PathEscape(p.VertexProject) + "/locations/" + p.VertexLocation +
		"/publishers/" + publisher + "/models/" + model + ":" + method, nil
}

// validVertexModel reports whether a model name is one path segment that
// stays where it is put: letters, digits, '.', '_', '-', '@' (Claude's
// versions), and not "." or "..".
func validVertexModel(name string) bool {
	if strings.Trim(name, ".") == "" {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return false
		}
	}
	return true
}

// MissingCredentials is why a provider holds no credentials of its own,
// once it has looked for them at its first call and found none: Vertex
// AI's Application Default Credentials, Bedrock's AWS credentials (see
// MissingAWSCredentials). The client's own then pass. It is nil before
// that, when credentials were given or found, and for other families. The
// caller may log it once.
func (p *Provider) MissingCredentials() error {
	if p.google == nil {
		return p.MissingAWSCredentials() // Bedrock's, or nil
	}
	return p.google.missing()
}
