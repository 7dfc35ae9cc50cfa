package upstream

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/phoenixproxy/llmproxy/openai"
)

// testProviders is a routing table with OpenAI, Azure, Groq, Together and
// Ollama configured; the providers with a default base (Groq, Together,
// Mistral…) are only routed to when their base is set, as envconfig would.
func testProviders(t *testing.T) *Providers {
	t.Helper()
	ps, err := NewProviders(Env{
		OpenAIEnv: OpenAIEnv{OpenAIAPIKey: "sk-openai"},
		AzureEnv:  AzureEnv{AzureAPIBase: "https://res.openai.azure.com/", AzureAPIKey: "az-key", AzureAPIVersion: "2024-12-01-preview"},
		CompatibleEnv: CompatibleEnv{GroqAPIBase: "https://api.groq.com/openai/v1", TogetherAPIBase: "https://api.together.xyz/v1",
			OllamaAPIBase: "http://localhost:11434/"},
		GeminiEnv:    GeminiEnv{GeminiAPIBase: "https://generativelanguage.googleapis.com/v1beta/openai"},
		AnthropicEnv: AnthropicEnv{AnthropicAPIBase: "https://api.anthropic.com/"},
	})
	if err != nil {
		t.Fatalf("NewProviders error = %v", err)
	}
	return ps
}

func TestRoute(t *testing.T) {
	ps := testProviders(t)
	tests := []struct {
		model        string
		wantProvider string
		wantModel    string
		wantErr      string // in the error's message; "" for none
	}{
		{"gpt-4o", "openai", "gpt-4o", ""},
		{"openai/gpt-4o", "openai", "gpt-4o", ""},
		{"azure/my-deployment", "azure", "my-deployment", ""},
		{"groq/llama-3.1-8b-instant", "groq", "llama-3.1-8b-instant", ""},
		{"groq/meta-llama/llama-4-scout", "groq", "meta-llama/llama-4-scout", ""},
		{"together_ai/meta-llama/Llama-3-8b", "together_ai", "meta-llama/Llama-3-8b", ""},
		{"ollama/llama3", "ollama", "llama3", ""},
		{"meta-llama/Llama-3", "openai", "meta-llama/Llama-3", ""},
		{"ft:gpt-4o:org/x", "openai", "ft:gpt-4o:org/x", ""},
		{"gemini/gemini-2.0-flash", "gemini", "gemini-2.0-flash", ""},
		{"bedrock/anthropic.claude-v2", "bedrock", "anthropic.claude-v2", ""},
		{"bedrock/converse/us.amazon.nova-micro-v1:0", "bedrock", "us.amazon.nova-micro-v1:0", ""},
		{"bedrock_converse/amazon.nova-pro-v1:0", "bedrock", "amazon.nova-pro-v1:0", ""},
		{"bedrock/invoke/anthropic.claude-v2", "", "", "use bedrock/converse/anthropic.claude-v2"},
		{"bedrock/converse/", "", "", "names no Bedrock model id"},
		{"cohere/command-r", "", "", `provider "cohere", which this proxy does not serve. Served prefixes: azure/, gemini/, groq/`},
		{"vertex_ai/gemini-pro", "vertex_ai", "gemini-pro", ""},
		{"vertex_ai/gemini-2.5-flash", "vertex_ai", "gemini-2.5-flash", ""},
		{"vertex_ai/claude-sonnet-4-5@20250929", "vertex_ai_anthropic", "claude-sonnet-4-5@20250929", ""},
		{"vertex_ai_beta/gemini-pro", "", "", `"vertex_ai_beta", which this proxy does not serve`},
		{"vertex_ai_anthropic/claude-sonnet-4-5", "openai", "vertex_ai_anthropic/claude-sonnet-4-5", ""}, // a name, no prefix
		{"anthropic/claude-sonnet-4-6", "anthropic", "claude-sonnet-4-6", ""},
		{"mistral/mistral-small", "", "", "set MISTRAL_API_BASE"}, // not configured
		{"Groq/llama3", "openai", "Groq/llama3", ""},              // prefixes are lower case
		{"openai/", "openai", "openai/", ""},
		{"groq/", "openai", "groq/", ""},
		{"/gpt-4o", "openai", "/gpt-4o", ""},
		{"", "openai", "", ""},
	}
	for _, tt := range tests {
		p, model, err := ps.Route(tt.model)
		if tt.wantErr != "" {
			e, ok := err.(*openai.Error)
			if !ok || e.Status != http.StatusBadRequest || e.Param != "model" || !strings.Contains(e.Message, tt.wantErr) {
				t.Errorf("Route(%q) error = %v; want a 400 saying %q", tt.model, err, tt.wantErr)
			}
			continue
		}
		if err != nil || p == nil {
			t.Errorf("Route(%q) = %v, %v; want %q", tt.model, p, err, tt.wantProvider)
			continue
		}
		if p.Name != tt.wantProvider || model != tt.wantModel {
			t.Errorf("Route(%q) = %q, %q; want %q, %q", tt.model, p.Name, model, tt.wantProvider, tt.wantModel)
		}
	}
	if got := ps.Default(); got == nil || got.Name != "openai" || got.BaseURL != DefaultOpenAIBase {
		t.Errorf("Default() = %+v; want OpenAI at %q", got, DefaultOpenAIBase)
	}
}

func TestNewProviders(t *testing.T) {
	tests := []struct {
		name       string
		env        Env
		wantOpenAI string // the default provider's base URL
		wantErr    string // a substring of the error; "" for none
	}{
		{name: "defaults", wantOpenAI: "https://api.openai.com/v1"},
		{name: "OPENAI_API_BASE", env: Env{OpenAIEnv: OpenAIEnv{OpenAIAPIBase: "http://localhost:8080/v1/"}}, wantOpenAI: "http://localhost:8080/v1"},
		{name: "OPENAI_BASE_URL", env: Env{OpenAIEnv: OpenAIEnv{OpenAIBaseURL: "https://proxy.example/v1"}}, wantOpenAI: "https://proxy.example/v1"},
		{
			name:       "OPENAI_API_BASE wins",
			env:        Env{OpenAIEnv: OpenAIEnv{OpenAIAPIBase: "https://a.example/v1", OpenAIBaseURL: "https://b.example/v1"}},
			wantOpenAI: "https://a.example/v1",
		},
		{name: "not a URL", env: Env{OpenAIEnv: OpenAIEnv{OpenAIAPIBase: "localhost:8080"}}, wantErr: "OPENAI_API_BASE"},
		{name: "bad scheme", env: Env{CompatibleEnv: CompatibleEnv{GroqAPIBase: "ftp://api.groq.com"}}, wantErr: "GROQ_API_BASE"},
		{name: "no host", env: Env{AzureEnv: AzureEnv{AzureAPIBase: "https://"}}, wantErr: "AZURE_API_BASE"},
		{name: "relative", env: Env{CompatibleEnv: CompatibleEnv{MistralAPIBase: "/v1"}}, wantErr: "MISTRAL_API_BASE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := NewProviders(tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("NewProviders error = %v; want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewProviders error = %v", err)
			}
			if got := ps.Default().BaseURL; got != tt.wantOpenAI {
				t.Errorf("Default().BaseURL = %q; want %q", got, tt.wantOpenAI)
			}
		})
	}
	ps, err := NewProviders(Env{})
	if err != nil {
		t.Fatal(err)
	}
	for prefix, variable := range map[string]string{"azure": "AZURE_API_BASE", "anthropic": "ANTHROPIC_API_BASE"} {
		if _, _, err := ps.Route(prefix + "/x"); err == nil || !strings.Contains(err.Error(), "set "+variable) {
			t.Errorf("without %s, Route(%s/x) error = %v; want one naming it", variable, prefix, err)
		}
	}
	if p := ps.Home(Anthropic); p != nil {
		t.Errorf("Home(Anthropic) = %+v without ANTHROPIC_API_BASE; want nil", p)
	}
	if p := testProviders(t).Home(Anthropic); p == nil || p.BaseURL != "https://api.anthropic.com/v1" {
		t.Errorf("Home(Anthropic) = %+v; want the Messages API's root", p)
	}
}

func TestProviderURL(t *testing.T) {
	ps := testProviders(t)
	openai, _, _ := ps.Route("gpt-4o")
	azure, _, _ := ps.Route("azure/x")
	groq, _, _ := ps.Route("groq/x")
	ollama, _, _ := ps.Route("ollama/x")
	noVersion := &Provider{Name: "azure", BaseURL: "https://r.openai.azure.com", family: azureAPI{}}
	tests := []struct {
		name                  string
		p                     *Provider
		path, model, rawQuery string
		want                  string
	}{
		{"openai", openai, "/chat/completions", "gpt-4o", "", "https://api.openai.com/v1/chat/completions"},
		{"query kept as sent", openai, "/models", "", "b=2&a=1", "https://api.openai.com/v1/models?b=2&a=1"},
		{"groq", groq, "/chat/completions", "llama3", "", "https://api.groq.com/openai/v1/chat/completions"},
		{"ollama under /v1", ollama, "/embeddings", "llama3", "", "http://localhost:11434/v1/embeddings"},
		{
			"azure deployment and api-version", azure, "/chat/completions", "my-deployment", "",
			"https://res.openai.azure.com/openai/deployments/my-deployment/chat/completions?api-version=2024-12-01-preview",
		},
		{
			"azure: the client's api-version wins", azure, "/chat/completions", "d", "api-version=2024-02-01",
			"https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-02-01",
		},
		{
			"azure: other parameters kept", azure, "/embeddings", "d", "foo=bar",
			"https://res.openai.azure.com/openai/deployments/d/embeddings?api-version=2024-12-01-preview&foo=bar",
		},
		{
			"azure: deployment escaped", azure, "/chat/completions", "my deploy/1", "",
			"https://res.openai.azure.com/openai/deployments/my%20deploy%2F1/chat/completions?api-version=2024-12-01-preview",
		},
		{
			"azure without a version", noVersion, "/completions", "d", "",
			"https://r.openai.azure.com/openai/deployments/d/completions",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.URL(tt.path, tt.model, tt.rawQuery); got != tt.want {
				t.Errorf("URL(%q, %q, %q) = %q; want %q", tt.path, tt.model, tt.rawQuery, got, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	client := func() http.Header {
		return http.Header{
			"Authorization": {"Bearer sk-client"},
			"Api-Key":       {"client-azure"},
			"Content-Type":  {"application/json"},
		}
	}
	tests := []struct {
		name string
		p    Provider
		want http.Header
	}{
		{
			name: "no key: the client's credentials pass",
			p:    Provider{Name: "openai", family: openAIAPI{}},
			want: client(),
		},
		{
			name: "azure, no key: the client's credentials pass",
			p:    Provider{Name: "azure", family: azureAPI{}},
			want: client(),
		},
		{
			name: "key replaces the client's",
			p:    Provider{Name: "groq", APIKey: "gsk-proxy", family: openAIAPI{}},
			want: http.Header{"Authorization": {"Bearer gsk-proxy"}, "Content-Type": {"application/json"}},
		},
		{
			name: "azure uses api-key",
			p:    Provider{Name: "azure", APIKey: "az-proxy", family: azureAPI{}},
			want: http.Header{"Api-Key": {"az-proxy"}, "Content-Type": {"application/json"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: client()}
			if err := tt.p.Authorize(r, nil); err != nil {
				t.Fatal(err)
			}
			if h := r.Header; !reflect.DeepEqual(h, tt.want) {
				t.Errorf("headers = %v; want %v", h, tt.want)
			}
		})
	}
}

// TestHoldKeys: a key counts when the proxy can spend it, on the default
// upstream, a prefixed provider or Anthropic; a key for a provider with no
// base URL is never sent, so it does not. (Env's defaults come from
// envconfig: a literal Env has only the bases it names.)
func TestHoldKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  Env
		want bool
	}{
		{"none", Env{}, false},
		{"openai", Env{OpenAIEnv: OpenAIEnv{OpenAIAPIKey: "sk-1"}}, true},
		{"groq", Env{CompatibleEnv: CompatibleEnv{GroqAPIKey: "gsk-1", GroqAPIBase: "https://api.groq.com/openai/v1"}}, true},
		{"anthropic", Env{AnthropicEnv: AnthropicEnv{AnthropicAPIKey: "sk-ant-1", AnthropicAPIBase: "https://api.anthropic.com"}}, true},
		{"azure without a base", Env{AzureEnv: AzureEnv{AzureAPIKey: "az-1"}}, false},
		{"azure", Env{AzureEnv: AzureEnv{AzureAPIKey: "az-1", AzureAPIBase: "https://x.openai.azure.com"}}, true},
	} {
		ps, err := NewProviders(tc.env)
		if err != nil {
			t.Fatal(err)
		}
		if got := ps.HoldKeys(); got != tc.want {
			t.Errorf("%s: HoldKeys() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
