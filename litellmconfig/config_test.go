package litellmconfig

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func load(t *testing.T, name string, vars map[string]string) *File {
	t.Helper()
	f, err := Load(filepath.Join("testdata", name), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The Quick Start config of LiteLLM's docs is read as it is: its keys from
// the environment, its master key, and every setting the proxy does not
// act on named for the warning.
func TestDocsQuickStart(t *testing.T) {
	f := load(t, "docs-configs-quick-start.yaml", map[string]string{"AZURE_API_KEY_EU": "key-eu", "AZURE_API_KEY_CA": "key-ca"})
	var names, keys []string
	for _, m := range f.Models {
		names = append(names, m.Name)
		keys = append(keys, m.APIKey)
	}
	if want := []string{"gpt-4o", "bedrock-claude-v1", "gpt-4o", "anthropic-claude", "vllm-models", "*"}; !reflect.DeepEqual(names, want) {
		t.Errorf("model names %q, want %q", names, want)
	}
	if want := []string{"key-eu", "", "key-ca", "", "none", ""}; !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	if m := f.Models[0]; m.Model != "azure/gpt-4o-eu" || m.APIBase != "https://my-endpoint-europe-berri-992.openai.azure.com/" || m.RPM != 6 {
		t.Errorf("first entry %+v", m)
	}
	if f.MasterKey != "sk-1234" {
		t.Errorf("master key %q", f.MasterKey)
	}
	if r := f.Models[3].AWS.RegionName; r != "us-east-1" {
		t.Errorf("anthropic-claude's aws_region_name = %q, want us-east-1", r)
	}
	if v := f.Models[4].Info["version"]; v != uint64(2) {
		t.Errorf("model_info.version = %#v, want 2", v)
	}
	want := []string{
		"general_settings.alerting",
		`litellm_settings.drop_params`,
		`litellm_settings.success_callback`,
	}
	if !reflect.DeepEqual(f.Ignored, want) {
		t.Errorf("ignored:\n%q\nwant\n%q", f.Ignored, want)
	}
}

// router_settings wins over litellm_settings where both set a field, as
// LiteLLM's router takes its own settings first.
func TestDocsLoadBalancing(t *testing.T) {
	f := load(t, "docs-configs-load-balancing.yaml", nil)
	rs := f.Router
	if rs.NumRetries != 2 || rs.Timeout != 30*time.Second || rs.AllowedFails != 3 || rs.RoutingStrategy != "simple-shuffle" {
		t.Errorf("router settings %+v", rs)
	}
	if want := map[string][]string{"zephyr-beta": {"gpt-4o"}}; !reflect.DeepEqual(rs.Fallbacks, want) {
		t.Errorf("fallbacks %v, want %v", rs.Fallbacks, want)
	}
	if m := f.Models[0]; m.RPM != 60 || m.TPM != 1000 {
		t.Errorf("rpm/tpm %v/%v", m.RPM, m.TPM)
	}
	if want := map[string][]string{"zephyr-beta": {"gpt-3.5-turbo-16k"}, "gpt-4o": {"gpt-3.5-turbo-16k"}}; !reflect.DeepEqual(rs.ContextWindowFallbacks, want) {
		t.Errorf("context window fallbacks %v, want %v", rs.ContextWindowFallbacks, want)
	}
	if want := map[string]string{"gpt-4": "gpt-4o"}; !reflect.DeepEqual(rs.Aliases, want) {
		t.Errorf("aliases %v, want %v", rs.Aliases, want)
	}
	for _, s := range []string{"router_settings.redis_host", "router_settings.redis_password"} {
		if !contains(f.Ignored, s) {
			t.Errorf("%s not in the warning: %q", s, f.Ignored)
		}
	}
}

func TestDocsFallbackToModelID(t *testing.T) {
	f := load(t, "docs-reliability-model-id.yaml", map[string]string{"AZURE_API_BASE": "https://x.openai.azure.com", "AZURE_API_KEY": "k", "ANTHROPIC_API_KEY": "a"})
	if f.Models[0].ID != "my-specific-model-id" || f.Models[1].APIBase != "https://x.openai.azure.com" {
		t.Errorf("models %+v", f.Models)
	}
	// The doc's step 2, with it: a fallback may name a model id.
	text, _ := os.ReadFile(filepath.Join("testdata", "docs-reliability-model-id.yaml"))
	text = append(text, "litellm_settings:\n  fallbacks: [{\"gpt-4\": [\"my-specific-model-id\"]}]\n"...)
	if _, err := Parse(text, env(map[string]string{"AZURE_API_BASE": "b", "AZURE_API_KEY": "k", "ANTHROPIC_API_KEY": "a"})); err != nil {
		t.Error(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A config that cannot be served as meant stops start-up with an error
// naming the entry and the field.
func TestErrorsNameEntryAndField(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unset variable", "model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o, api_key: os.environ/NOPE}\n",
			[]string{`model_list[0] (model_name "a").litellm_params.api_key`, "NOPE", "not set"}},
		{"not YAML", "model_list: [\n", []string{"not valid YAML"}},
		{"list expected", "model_list: {a: 1}\n", []string{"model_list", "want a list"}},
		{"no model_name", "model_list:\n- litellm_params: {model: gpt-4o}\n", []string{"model_list[0]", "model_name is missing"}},
		{"no model", "model_list:\n- model_name: a\n  litellm_params: {api_base: http://x}\n", []string{`model_list[0] (model_name "a")`, "litellm_params.model is missing"}},
		{"bad timeout", "model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o, timeout: soon}\n", []string{`litellm_params.timeout`, `"soon"`}},
		{"negative retries", "router_settings: {num_retries: -1}\n", []string{"router_settings.num_retries"}},
		{"fallback to nothing", "model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o}\nrouter_settings: {fallbacks: [{a: [b]}]}\n", []string{`"a" falls back to "b"`}},
		{"fallbacks not a list", "litellm_settings: {fallbacks: {a: b}}\n", []string{"litellm_settings.fallbacks", "want a list"}},
		{"top not a mapping", "- a\n", []string{"want a mapping"}},
		{"cooldown beyond a day", "router_settings: {cooldown_time: 1e12}\n", []string{"router_settings.cooldown_time"}},
		{"unset variable in environment_variables", "environment_variables: {FOO: os.environ/LLMPROXY_NOPE}\n", []string{"environment_variables.FOO", "LLMPROXY_NOPE"}},
		{"headers not a mapping", "model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o, extra_headers: [x]}\n", []string{"litellm_params.extra_headers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// environment_variables are seen by os.environ/ references, and Load
// names the file in its errors.
func TestEnvironmentVariables(t *testing.T) {
	f, err := Parse([]byte("environment_variables: {MY_KEY: from-file, OTHER: os.environ/HOME_SET}\nmodel_list:\n- model_name: a\n  litellm_params: {model: gpt-4o, api_key: os.environ/MY_KEY, timeout: 2.5, max_retries: 1, extra_headers: {X-Team: t1}}\n"), env(map[string]string{"HOME_SET": "h"}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Environment["OTHER"] != "h" {
		t.Errorf("os.environ/ in environment_variables: %q", f.Environment["OTHER"])
	}
	m := f.Models[0]
	if m.APIKey != "from-file" || m.Timeout != 2500*time.Millisecond || m.MaxRetries != 1 || m.ExtraHeaders["X-Team"] != "t1" {
		t.Errorf("model %+v", m)
	}
	if f.Environment["MY_KEY"] != "from-file" {
		t.Errorf("environment %v", f.Environment)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("model_list: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name the file", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"docs-configs-quick-start.yaml", "docs-configs-load-balancing.yaml", "docs-reliability-model-id.yaml",
		"docs-providers-bedrock.yaml", "docs-oidc-bedrock.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, env(map[string]string{"AZURE_API_KEY_EU": "k"}))
		if err == nil && file == nil {
			t.Fatal("nil file without an error")
		}
	})
}

// The docs' "Multiple OpenAI Organizations": a list of organizations is
// one deployment each (model_name "*" quoted, as YAML needs it).
func TestOrganizationList(t *testing.T) {
	f, err := Parse([]byte(`
model_list:
  - model_name: "*"
    litellm_params:
      model: openai/*
      api_key: os.environ/OPENAI_API_KEY
      organization:
       - org-1 
       - org-2 
       - org-3
`), env(map[string]string{"OPENAI_API_KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	var orgs []string
	for _, m := range f.Models {
		orgs = append(orgs, m.Org)
	}
	if !reflect.DeepEqual(orgs, []string{"org-1", "org-2", "org-3"}) {
		t.Errorf("organizations %q", orgs)
	}
}

// TestVertexParams: a Vertex AI entry's project, location and credentials,
// the credentials as a path, as JSON text, or written inline as YAML (as
// LiteLLM takes a dict); none of them is reported as ignored.
func TestVertexParams(t *testing.T) {
	f, err := Parse([]byte(`
model_list:
  - model_name: gemini-path
    litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: p-1, vertex_location: europe-west4, vertex_credentials: /secrets/sa.json}
  - model_name: gemini-json
    litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_credentials: os.environ/SA_JSON}
  - model_name: claude-inline
    litellm_params:
      model: vertex_ai/claude-sonnet-4-5
      vertex_credentials:
        type: service_account
        project_id: p-2
`), env(map[string]string{"SA_JSON": `{"type":"service_account"}`}))
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]string{
		{"p-1", "europe-west4", "/secrets/sa.json"},
		{"", "", `{"type":"service_account"}`},
		{"", "", `{"project_id":"p-2","type":"service_account"}`},
	}
	for i, m := range f.Models {
		if got := [3]string{m.VertexProject, m.VertexLocation, m.VertexCredentials}; got != want[i] {
			t.Errorf("%s: %q; want %q", m.Name, got, want[i])
		}
	}
	for _, ig := range f.Ignored {
		if strings.Contains(ig, "vertex") {
			t.Errorf("reported as ignored: %s", ig)
		}
	}
}

// TestAWSParams: a Bedrock entry's aws_* settings, each os.environ/
// resolved as LiteLLM's get_secret does (the docs' Bedrock and OIDC
// examples, as written, and every setting at once); none is reported as
// ignored, and an unset variable is an error naming the field.
func TestAWSParams(t *testing.T) {
	vars := map[string]string{"CUSTOM_AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "CUSTOM_AWS_SECRET_ACCESS_KEY": "secret/EXAMPLE",
		"CUSTOM_AWS_REGION_NAME": "eu-west-3", "OIDC_TOKEN": "eyJ.token", "SESSION": "session-token"}
	all, err := Parse([]byte(`
model_list:
  - model_name: every-setting
    litellm_params:
      model: bedrock/converse/us.amazon.nova-pro-v1:0
      aws_access_key_id: os.environ/CUSTOM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/CUSTOM_AWS_SECRET_ACCESS_KEY
      aws_session_token: os.environ/SESSION
      aws_region_name: us-east-2
      aws_profile_name: team
      aws_role_name: arn:aws:iam::123456789012:role/bedrock
      aws_session_name: proxy
      aws_web_identity_token: os.environ/OIDC_TOKEN
      aws_bedrock_runtime_endpoint: https://vpce-1.example
`), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file *File
		want AWSParams
	}{
		{"providers/bedrock.md", load(t, "docs-providers-bedrock.yaml", vars),
			AWSParams{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret/EXAMPLE", RegionName: "eu-west-3"}},
		{"oidc.md", load(t, "docs-oidc-bedrock.yaml", nil),
			AWSParams{RegionName: "us-west-2", SessionName: "litellm", RoleName: "arn:aws:iam::YOUR_THING_HERE:role/litellm-google-demo",
				WebIdentityToken: "oidc/google/https://example.com"}},
		{"every setting", all, AWSParams{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret/EXAMPLE", SessionToken: "session-token",
			RegionName: "us-east-2", ProfileName: "team", RoleName: "arn:aws:iam::123456789012:role/bedrock", SessionName: "proxy",
			WebIdentityToken: "eyJ.token", BedrockRuntimeEndpoint: "https://vpce-1.example"}},
	}
	for _, tt := range tests {
		if got := tt.file.Models[0].AWS; got != tt.want {
			t.Errorf("%s: %+v; want %+v", tt.name, got, tt.want)
		}
		if len(tt.file.Ignored) != 0 {
			t.Errorf("%s: reported as ignored: %q", tt.name, tt.file.Ignored)
		}
	}
	_, err = Parse([]byte("model_list:\n- model_name: a\n  litellm_params: {model: bedrock/m, aws_secret_access_key: os.environ/NOPE}\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), `litellm_params.aws_secret_access_key`) || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("unset variable: %v", err)
	}
}
