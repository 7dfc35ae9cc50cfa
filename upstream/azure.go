package upstream

import (
	"net/http"
	"net/url"
	"strings"
)

// AzureEnv configures Azure OpenAI. It has no default base: a resource is
// the user's own.
type AzureEnv struct {
	AzureAPIBase    string `envconfig:"AZURE_API_BASE"`
	AzureAPIKey     string `envconfig:"AZURE_API_KEY"`
	AzureAPIVersion string `envconfig:"AZURE_API_VERSION" default:"2024-12-01-preview"`
}

func (e AzureEnv) entries() []entry {
	return []entry{{p: Provider{Name: "azure", System: "openai", Host: "azure", BaseURL: e.AzureAPIBase, APIKey: e.AzureAPIKey,
		APIVersion: e.AzureAPIVersion, family: azureAPI{}}, env: "AZURE_API_BASE"}}
}

// azure is Azure OpenAI: OpenAI's API with the deployment in the path, an
// api-version query parameter, and the key in an api-key header.
type azureAPI struct{}

func (azureAPI) dialect() Dialect { return OpenAI }

// url is https://{resource}.openai.azure.com/openai/deployments/{model}{path}?api-version=…
func (azureAPI) url(p *Provider, path, model, rawQuery string) string {
	q, _ := url.ParseQuery(rawQuery)
	if q.Get("api-version") == "" && p.APIVersion != "" {
		q.Set("api-version", p.APIVersion)
	}
	return joinURL(p.BaseURL+"/openai/deployments/"+url.PathEscape(model), path, q.Encode())
}

func (azureAPI) authorize(p *Provider, r *http.Request, _ []byte) error {
	if p.APIKey != "" {
		r.Header.Del("Authorization")
		r.Header.Set("Api-Key", p.APIKey)
	}
	return nil
}

func (azureAPI) base(server string) string { return strings.TrimSuffix(server, "/") }

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
