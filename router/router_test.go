package router

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phoenixproxy/llmproxy/litellmconfig"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/upstream"
)

func newTestRouter(t *testing.T, yaml string) *Router {
	t.Helper()
	f, err := litellmconfig.Parse([]byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ps, err := upstream.NewProviders(upstream.Env{AnthropicEnv: upstream.AnthropicEnv{AnthropicAPIBase: "https://api.anthropic.com"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(f, ps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const twoDeployments = `
model_list:
- model_name: gpt
  litellm_params: {model: openai/gpt-4o, api_base: "http://a.test/v1", weight: 3}
- model_name: gpt
  litellm_params: {model: openai/gpt-4o, api_base: "http://b.test/v1", weight: 1}
- model_name: backup
  litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "http://c.test"}
  model_info: {id: backup-1, base_model: claude-sonnet-4-5}
router_settings:
  num_retries: 1
  fallbacks: [{gpt: [backup]}]
`

// simple-shuffle picks by weight among the deployments not cooling down.
func TestShuffleWeights(t *testing.T) {
	r := newTestRouter(t, twoDeployments)
	counts := map[string]int{}
	for i := range 400 {
		x := float64(i) / 400
		r.float = func() float64 { return x }
		p, err := r.Plan("gpt")
		if err != nil {
			t.Fatal(err)
		}
		tg, _, err := p.Next()
		if err != nil {
			t.Fatal(err)
		}
		counts[tg.Provider.BaseURL]++
	}
	if counts["http://a.test/v1"] != 300 || counts["http://b.test/v1"] != 100 {
		t.Errorf("picks %v, want 300 and 100 (weights 3 and 1)", counts)
	}
}

// A failure is retried on the same model_name, then falls back; a 429
// cools the deployment down so the retry goes to the other one.
func TestPlanRetriesThenFallsBack(t *testing.T) {
	r := newTestRouter(t, twoDeployments)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	r.float = func() float64 { return 0 } // a first, while it is healthy

	p, _ := r.Plan("gpt")
	first, wait, err := p.Next()
	if err != nil || first.Provider.BaseURL != "http://a.test/v1" || wait != 0 {
		t.Fatalf("first attempt %v %v %v", first.Provider, wait, err)
	}
	p.Failed(first, Failure{Status: http.StatusTooManyRequests})
	second, wait, err := p.Next()
	if err != nil || second.Provider.BaseURL != "http://b.test/v1" || wait != 0 {
		t.Fatalf("retry went to %v (wait %v, err %v); want b, at once", second.Provider, wait, err)
	}
	p.Failed(second, Failure{Status: http.StatusInternalServerError})
	third, _, err := p.Next()
	if err != nil || third.Group != "backup" || third.Model != "claude-sonnet-4-5" || third.Provider.Name != "anthropic" {
		t.Fatalf("fallback %+v %v", third, err)
	}
	if p.Retries != 1 || p.Fallbacks != 1 {
		t.Errorf("retries %d fallbacks %d, want 1 and 1", p.Retries, p.Fallbacks)
	}
	p.Failed(third, Failure{Status: http.StatusInternalServerError})
	// backup has one deployment: its retry waits.
	fourth, wait, err := p.Next()
	if err != nil || fourth.Group != "backup" || wait < 500*time.Millisecond {
		t.Fatalf("backup retry %+v wait %v err %v", fourth, wait, err)
	}
	p.Failed(fourth, Failure{Status: http.StatusInternalServerError})
	if _, _, err := p.Next(); !errors.Is(err, ErrExhausted) {
		t.Errorf("after every attempt: %v, want ErrExhausted", err)
	}

	// a is cooling down (the 429): the next call goes to b whatever the
	// shuffle draws, until the cooldown ends.
	p, _ = r.Plan("gpt")
	if tg, _, _ := p.Next(); tg.Provider.BaseURL != "http://b.test/v1" {
		t.Errorf("during a's cooldown the call went to %s", tg.Provider.BaseURL)
	}
	now = now.Add(DefaultCooldown + time.Second)
	p, _ = r.Plan("gpt")
	if tg, _, _ := p.Next(); tg.Provider.BaseURL != "http://a.test/v1" {
		t.Errorf("after a's cooldown the call went to %s", tg.Provider.BaseURL)
	}
}

// A request's own 4xx is not retried: a 404 goes to the fallback at once,
// a 400 ends the plan (LiteLLM's "don't retry a malformed request"), but
// for a context window exceeded, which a larger model may serve.
func TestClientErrors(t *testing.T) {
	tests := []struct {
		name         string
		failure      Failure
		wantFallback bool
	}{
		{"404", Failure{Status: http.StatusNotFound}, true},
		{"422", Failure{Status: http.StatusUnprocessableEntity}, true},
		{"400", Failure{Status: http.StatusBadRequest}, false},
		{"400 context window", Failure{Status: http.StatusBadRequest, ContextWindow: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRouter(t, twoDeployments)
			p, _ := r.Plan("gpt")
			first, _, _ := p.Next()
			p.Failed(first, tt.failure)
			next, _, err := p.Next()
			if tt.wantFallback && (err != nil || next.Group != "backup" || p.Retries != 0) {
				t.Errorf("%+v retries %d err %v; want the fallback", next, p.Retries, err)
			}
			if !tt.wantFallback && !errors.Is(err, ErrExhausted) {
				t.Errorf("%+v %v; want the plan ended", next, err)
			}
		})
	}
}

func TestContextWindowExceeded(t *testing.T) {
	for body, want := range map[string]bool{
		`{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}`: true,
		`{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}`:                      true,
		`{"error":{"message":"Unrecognized request argument supplied: foo","type":"invalid_request_error"}}`:                                            false,
	} {
		if got := ContextWindowExceeded(400, []byte(body)); got != want {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

// Every deployment cooling down: a 429 in LiteLLM's words before any
// attempt.
func TestAllCoolingDown(t *testing.T) {
	r := newTestRouter(t, strings.Replace(twoDeployments, "fallbacks: [{gpt: [backup]}]", "allowed_fails: 0", 1))
	for _, d := range r.groups["gpt"] {
		d.failed(time.Now(), 500, 0, time.Minute)
	}
	p, _ := r.Plan("gpt")
	_, _, err := p.Next()
	var e *openai.Error
	if !errors.As(err, &e) || e.Status != 429 || !strings.Contains(e.Message, "No deployments available for selected model") {
		t.Errorf("got %v", err)
	}
}

func TestUnknownAndUnservedModels(t *testing.T) {
	path := filepath.Join("..", "litellmconfig", "testdata", "docs-configs-quick-start.yaml")
	f, err := litellmconfig.Load(path, func(string) (string, bool) { return "k", true })
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := upstream.NewProviders(upstream.Env{BedrockEnv: upstream.BedrockEnv{AWSRegion: "eu-west-1"}})
	r, err := New(f, ps)
	if err != nil {
		t.Fatal(err)
	}
	// Its two bedrock/ entries are served: no warning; each routes to
	// Bedrock with its model id, in its own region or the environment's.
	if len(r.Unserved) != 0 {
		t.Errorf("unserved %q; want none", r.Unserved)
	}
	for name, region := range map[string]string{"bedrock-claude-v1": "eu-west-1", "anthropic-claude": "us-east-1"} {
		p, err := r.Plan(name)
		if err != nil {
			t.Fatal(err)
		}
		tg, _, err := p.Next()
		if err != nil || tg.Provider.Name != upstream.BedrockProvider || tg.Model != "anthropic.claude-instant-v1" {
			t.Fatalf("%s: %+v %v; want Bedrock's anthropic.claude-instant-v1", name, tg, err)
		}
		if u := tg.Provider.URL(upstream.BedrockModelPath(tg.Model, "invoke"), tg.Model, ""); !strings.HasPrefix(u, "https://bedrock-runtime."+region+".amazonaws.com/") {
			t.Errorf("%s: upstream URL %s; want region %s", name, u, region)
		}
	}
	// A provider the proxy does not speak stays listed, unserved, and
	// its calls get a 400 that names it.
	f, err = litellmconfig.Parse([]byte("model_list:\n- model_name: c\n  litellm_params: {model: cohere/command-r}\n"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	unserved, err := New(f, ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(unserved.Unserved) != 1 || !strings.Contains(unserved.Unserved[0], "cohere") {
		t.Errorf("unserved %q", unserved.Unserved)
	}
	p, _ := unserved.Plan("c")
	_, _, err = p.Next()
	var e *openai.Error
	if !errors.As(err, &e) || e.Status != 400 || !strings.Contains(e.Message, "cohere") {
		t.Errorf("cohere entry: %v", err)
	}
	// The "*" entry serves any other name, by the environment's routing.
	p, err = r.Plan("gpt-4o-mini")
	if err != nil {
		t.Fatal(err)
	}
	if tg, _, err := p.Next(); err != nil || tg.Provider.Name != "openai" || tg.Model != "gpt-4o-mini" {
		t.Errorf("wildcard: %+v %v", tg, err)
	}
	if got := r.Names(); strings.Join(got, ",") != "gpt-4o,bedrock-claude-v1,anthropic-claude,vllm-models" {
		t.Errorf("names %q", got)
	}

	r = newTestRouter(t, "model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o}\n")
	if _, err := r.Plan("b"); err == nil || !strings.Contains(err.Error(), "Invalid model name passed in model=b") {
		t.Errorf("unknown model: %v", err)
	}
}

// "anthropic/*" serves every Anthropic model with the entry's key; the
// longest wildcard wins over "*".
func TestWildcards(t *testing.T) {
	r := newTestRouter(t, `
model_list:
- model_name: "*"
  litellm_params: {model: "openai/*", api_key: sk-openai}
- model_name: "anthropic/*"
  litellm_params: {model: "anthropic/*", api_key: sk-ant}
`)
	for model, want := range map[string]string{"anthropic/claude-haiku-4-5": "sk-ant", "gpt-4o": "sk-openai"} {
		p, err := r.Plan(model)
		if err != nil {
			t.Fatal(err)
		}
		tg, _, err := p.Next()
		if err != nil || tg.Provider.APIKey != want {
			t.Errorf("%s: key %q (%v), want %q", model, tg.Provider.APIKey, err, want)
		}
		if model == "anthropic/claude-haiku-4-5" && tg.Model != "claude-haiku-4-5" {
			t.Errorf("model %q", tg.Model)
		}
	}
}

func TestDeploymentErrors(t *testing.T) {
	f, _ := litellmconfig.Parse([]byte("model_list:\n- model_name: a\n  litellm_params: {model: azure/x, api_key: k}\n"), func(string) (string, bool) { return "", false })
	ps, _ := upstream.NewProviders(upstream.Env{})
	_, err := New(f, ps)
	if err == nil || !strings.Contains(err.Error(), `model_list[0] (model_name "a")`) || !strings.Contains(err.Error(), "api_base") {
		t.Errorf("azure without a base: %v", err)
	}
}

// The README's example config is read without a warning and routes as it
// says: my-chat over two Azure deployments priced as gpt-4o, falling back
// to claude.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := strings.SplitN(string(readme), "## A LiteLLM config file", 2)[1]
	block := strings.SplitN(strings.SplitN(section, "```yaml\n", 2)[1], "```", 2)[0]
	f, err := litellmconfig.Parse([]byte(block), func(name string) (string, bool) { return "value-of-" + name, true })
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Ignored) != 0 || len(f.Models) != 4 || f.MasterKey != "value-of-LITELLM_MASTER_KEY" {
		t.Fatalf("ignored %q, %d models, master key %q", f.Ignored, len(f.Models), f.MasterKey)
	}
	ps, _ := upstream.NewProviders(upstream.Env{AnthropicEnv: upstream.AnthropicEnv{AnthropicAPIBase: "https://api.anthropic.com"}})
	r, err := New(f, ps)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Plan("my-chat")
	tg, _, err := p.Next()
	if err != nil || tg.Provider.Name != "azure" || tg.BaseModel != "gpt-4o" || !strings.HasPrefix(tg.Model, "prod-gpt4o-") {
		t.Fatalf("my-chat: %+v %v", tg, err)
	}
	p.Failed(tg, Failure{Status: 404})
	if tg, _, err := p.Next(); err != nil || tg.Group != "claude" || tg.Provider.Name != "anthropic" {
		t.Errorf("fallback: %+v %v", tg, err)
	}
}

// A model_name with a served entry and an unserved one (cohere/) always
// routes to the served one; /model/info still lists both.
func TestMixedGroupSkipsUnserved(t *testing.T) {
	r := newTestRouter(t, `
model_list:
- model_name: gpt
  litellm_params: {model: openai/gpt-4o, api_base: "http://a.test/v1"}
- model_name: gpt
  litellm_params: {model: cohere/command-r}
`)
	for i := range 10 {
		x := float64(i) / 10
		r.float = func() float64 { return x }
		p, _ := r.Plan("gpt")
		if tg, _, err := p.Next(); err != nil || tg.Provider.BaseURL != "http://a.test/v1" {
			t.Fatalf("draw %v: %+v %v", x, tg, err)
		}
	}
	if n := len(r.Deployments()); n != 2 {
		t.Errorf("Deployments lists %d entries, want 2", n)
	}
}

// Entries with the same wildcard share its calls; a duplicate model id is
// refused; Serves tells the config's own routing from the environment's.
func TestWildcardGroupsAndIDs(t *testing.T) {
	r := newTestRouter(t, `
model_list:
- model_name: "openai/*"
  litellm_params: {model: "openai/*", api_key: k1}
- model_name: "openai/*"
  litellm_params: {model: "openai/*", api_key: k2}
- model_name: "*"
  litellm_params: {model: "*"}
`)
	keys := map[string]bool{}
	for i := range 4 {
		x := float64(i) / 4
		r.float = func() float64 { return x }
		p, _ := r.Plan("openai/gpt-4o")
		tg, _, _ := p.Next()
		keys[tg.Provider.APIKey] = true
	}
	if !keys["k1"] || !keys["k2"] {
		t.Errorf("keys used %v, want both entries", keys)
	}
	if !r.Serves("openai/gpt-4o") || r.Serves("claude-sonnet-4-5") {
		t.Error("Serves: the config's wildcard serves openai/…, the bare * hands the rest to the environment")
	}
	f, _ := litellmconfig.Parse([]byte("model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o}\n  model_info: {id: x}\n- model_name: b\n  litellm_params: {model: gpt-4o}\n  model_info: {id: x}\n"), func(string) (string, bool) { return "", false })
	ps, _ := upstream.NewProviders(upstream.Env{})
	if _, err := New(f, ps); err == nil || !strings.Contains(err.Error(), `model_list[1] (model_name "b"): model_info.id "x"`) {
		t.Errorf("duplicate id: %v", err)
	}
}

// A deployment that times out counts toward its cooldown, as LiteLLM
// counts its Timeout (408); a connection refused does not.
func TestTimeoutsCoolDown(t *testing.T) {
	r := newTestRouter(t, strings.Replace(twoDeployments, "num_retries: 1", "num_retries: 1\n  allowed_fails: 0", 1))
	r.float = func() float64 { return 0 }
	p, _ := r.Plan("gpt")
	a, _, _ := p.Next()
	p.Failed(a, Failure{Err: errors.New("connection refused")})
	if a.cooling(time.Now()) {
		t.Error("a connection error cooled the deployment down")
	}
	p, _ = r.Plan("gpt")
	a, _, _ = p.Next()
	p.Failed(a, Failure{Timeout: true})
	if !a.cooling(time.Now()) {
		t.Error("a timeout did not cool the deployment down")
	}
}

// context_window_fallbacks take a context window exceeded instead of the
// fallbacks; a model_name they do not list ends the call there.
func TestContextWindowFallbacks(t *testing.T) {
	r := newTestRouter(t, strings.Replace(twoDeployments, "router_settings:", `- model_name: big
  litellm_params: {model: openai/gpt-4.1, api_base: "http://big.test/v1"}
litellm_settings:
  context_window_fallbacks: [{gpt: [big]}]
router_settings:`, 1))
	p, _ := r.Plan("gpt")
	first, _, _ := p.Next()
	p.Failed(first, Failure{Status: 400, ContextWindow: true})
	if next, _, err := p.Next(); err != nil || next.Group != "big" {
		t.Errorf("after a context window exceeded: %+v %v; want big", next, err)
	}
	p, _ = r.Plan("backup")
	first, _, _ = p.Next()
	p.Failed(first, Failure{Status: 400, ContextWindow: true})
	if _, _, err := p.Next(); !errors.Is(err, ErrExhausted) {
		t.Errorf("backup has no context window fallback: %v", err)
	}
	p, _ = r.Plan("gpt")
	first, _, _ = p.Next()
	p.Failed(first, Failure{Status: 500})
	p.Failed(first, Failure{Status: 500}) // a retry's failure too
	if next, _, _ := p.Next(); next.Group == "big" {
		t.Error("a 500 went to the context window fallback")
	}
}

// model_group_alias: another name for a model_name, listed by /models
// unless hidden.
func TestAliases(t *testing.T) {
	r := newTestRouter(t, twoDeployments+"  model_group_alias: {gpt-4: gpt, secret: {model: backup, hidden: true}}\n")
	p, err := r.Plan("gpt-4")
	if err != nil {
		t.Fatal(err)
	}
	if tg, _, err := p.Next(); err != nil || tg.Group != "gpt" {
		t.Errorf("alias: %+v %v", tg, err)
	}
	if got := strings.Join(r.Names(), ","); got != "gpt,backup,gpt-4" {
		t.Errorf("names %s", got)
	}
	if !r.Serves("secret") {
		t.Error("a hidden alias is still served")
	}
}

// TestBedrockEntries: a config file's bedrock/ entries are served as any
// deployment: each routes to the Bedrock provider with its own region,
// endpoint and credentials (held: they replace the client's), a failed
// one falls back; its Params (what /model/info shows) name its region,
// role and endpoint, never a key, a session token or a web identity token.
func TestBedrockEntries(t *testing.T) {
	secrets := map[string]string{"KEY_ID": "AKIAEXAMPLEKEYID0001", "SECRET": "secret/EXAMPLE", "TOKEN": "session-EXAMPLE", "OIDC": "eyJ.oidc.EXAMPLE"}
	f, err := litellmconfig.Parse([]byte(`
model_list:
- model_name: claude
  litellm_params:
    model: bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0
    aws_access_key_id: os.environ/KEY_ID
    aws_secret_access_key: os.environ/SECRET
    aws_session_token: os.environ/TOKEN
    aws_region_name: eu-central-1
    aws_bedrock_runtime_endpoint: https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com
- model_name: nova
  litellm_params:
    model: bedrock/converse/amazon.nova-pro-v1:0
    aws_role_name: arn:aws:iam::123456789012:role/bedrock
    aws_session_name: proxy
    aws_web_identity_token: os.environ/OIDC
    aws_region_name: us-east-1
router_settings:
  fallbacks: [{claude: [nova]}]
`), func(name string) (string, bool) { v, ok := secrets[name]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := upstream.NewProviders(upstream.Env{})
	r, err := New(f, ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unserved) != 0 {
		t.Errorf("unserved %q; want none", r.Unserved)
	}
	p, err := r.Plan("claude")
	if err != nil {
		t.Fatal(err)
	}
	tg, _, err := p.Next()
	if err != nil || tg.Provider.Name != upstream.BedrockProvider || tg.Model != "us.anthropic.claude-sonnet-4-5-20250929-v1:0" ||
		tg.Provider.AWSRegion != "eu-central-1" || tg.Provider.BaseURL != "https://vpce-1.bedrock-runtime.eu-central-1.vpce.amazonaws.com" ||
		!tg.Provider.HoldsCredentials() {
		t.Fatalf("claude: %+v %v; want Bedrock with the entry's region, endpoint and keys", tg, err)
	}
	p.Failed(tg, Failure{Status: 503})
	for {
		next, _, err := p.Next()
		if err != nil {
			t.Fatalf("no fallback: %v", err)
		}
		if next.Group == "nova" {
			if next.Model != "amazon.nova-pro-v1:0" || next.Provider.AWSRegion != "us-east-1" || !next.Provider.HoldsCredentials() {
				t.Errorf("nova: %+v; want its own region and role", next)
			}
			break
		}
		p.Failed(next, Failure{Status: 503})
	}
	if !r.HoldKeys() {
		t.Error("HoldKeys() = false; the entries give AWS credentials")
	}
	for _, d := range r.Deployments() {
		for k, v := range d.Params {
			for _, secret := range secrets {
				if strings.Contains(fmt.Sprint(v), secret) {
					t.Errorf("%s: Params[%s] shows a secret", d.Group, k)
				}
			}
		}
	}
	if got := r.Deployments()[1].Params; got["aws_role_name"] != "arn:aws:iam::123456789012:role/bedrock" || got["aws_region_name"] != "us-east-1" || got["aws_session_name"] != "proxy" {
		t.Errorf("nova's Params %v; want its region, role and session name", got)
	}
}
