package upstream

import (
	"net/http"
	"strings"
)

// Dialect names the wire API a provider speaks, and a client too: a call in
// one dialect to a provider of another is translated (package translate).
type Dialect string

// The dialects served.
const (
	OpenAI    Dialect = "openai"    // OpenAI's API, and every server compatible with it
	Anthropic Dialect = "anthropic" // Anthropic's Messages API
	Gemini    Dialect = "gemini"    // Google's generateContent API (the Gemini API and Vertex AI)
	Bedrock   Dialect = "bedrock"   // Amazon Bedrock Runtime's API: Converse and InvokeModel
	// VertexAnthropic is the Messages API as Claude on Vertex AI takes it
	// at :rawPredict and :streamRawPredict: the path names the model, the
	// body has none and carries anthropic_version instead (the header's);
	// the answers and streams are the Messages API's.
	VertexAnthropic Dialect = "anthropic-vertex"
)

// Provider is one upstream.
type Provider struct {
	// Name is LiteLLM's prefix for it in model names ("groq" in
	// "groq/llama-3.1-8b-instant"), or, for a provider that shares its
	// family's prefix, the name RouteNamed knows it by
	// (VertexAIAnthropic).
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
	// VertexProject and VertexLocation, for Vertex AI, are the Google
	// Cloud project and location of a call whose path the caller builds
	// from a model name (VertexModelPath): vertex_project, else
	// VERTEXAI_PROJECT, else the project_id of the credentials given;
	// vertex_location, else VERTEXAI_LOCATION (DefaultVertexLocation). A
	// Vertex AI path a client sends names its own.
	VertexProject, VertexLocation string
	// AWSRegion, for Bedrock, is the AWS region of its calls (their host
	// and their signature): aws_region_name, else AWS_REGION_NAME,
	// AWS_REGION or AWS_DEFAULT_REGION; when empty, the shared config
	// profile's region, else DefaultBedrockRegion.
	AWSRegion string

	family family
	// google, for Vertex AI, holds its Google credentials and their
	// token; the provider's copies share it.
	google *googleAuth
	// aws, for Bedrock, holds its AWS credentials; the provider's copies
	// share it.
	aws *awsAuth
}

// family is what a kind of provider does its own way. Implementations are
// stateless values, one per file of this package.
type family interface {
	// dialect is the wire API the family's providers speak.
	dialect() Dialect
	// url is the upstream URL of an endpoint path under p's base, for the
	// model as the provider names it, with the client's query.
	url(p *Provider, path, model, rawQuery string) string
	// authorize readies an outgoing request's credentials: p's own key in
	// place of the client's, or the client's as they came. It sees the
	// whole request, body included (nil when it streams through).
	authorize(p *Provider, r *http.Request, body []byte) error
	// base is the API root under a server URL as LiteLLM's api_base names
	// it (Anthropic's has no /v1, Ollama's no /v1 either).
	base(server string) string
}

// Dialect is the wire API the provider speaks.
func (p *Provider) Dialect() Dialect { return p.family.dialect() }

// URL is the upstream URL for an endpoint path such as "/chat/completions"
// and the model as the provider names it. rawQuery is the client's query.
func (p *Provider) URL(path, model, rawQuery string) string {
	return p.family.url(p, path, model, rawQuery)
}

// Authorize puts the proxy's own credentials for this provider on an
// outgoing request, replacing the client's; without them the client's pass
// as they came. body is the request's body, as it will be sent (nil when it
// streams through unread).
func (p *Provider) Authorize(r *http.Request, body []byte) error {
	return p.family.authorize(p, r, body)
}

// joinURL is base + path, and the query when there is one. A path may
// carry a query of its own (a translated stream's "?alt=sse"): the
// client's is appended to it.
func joinURL(base, path, rawQuery string) string {
	switch {
	case rawQuery == "":
		return base + path
	case strings.Contains(path, "?"):
		return base + path + "&" + rawQuery
	}
	return base + path + "?" + rawQuery
}
