package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/google"

	"github.com/phoenixproxy/llmproxy/integration/googlefake"
	"github.com/phoenixproxy/llmproxy/openai"
)

// noADC makes the search for Application Default Credentials find none,
// with no metadata server probed, and counts the searches. HOME and
// GOOGLE_APPLICATION_CREDENTIALS are emptied as well, for any search the
// library does itself.
func noADC(t *testing.T) *atomic.Int32 {
	t.Helper()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	var searches atomic.Int32
	saved := findDefaultCredentials
	findDefaultCredentials = func() (*google.Credentials, error) {
		searches.Add(1)
		return nil, errors.New("google: could not find default credentials")
	}
	t.Cleanup(func() { findDefaultCredentials = saved })
	return &searches
}

// vertexRequest is an outgoing Vertex AI request with the client's
// credentials: a token, a Google API key in a header and in the URL.
func vertexRequest(ctx context.Context, t *testing.T, p *Provider) *http.Request {
	t.Helper()
	path := "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent"
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL(path, "gemini-2.0-flash", "alt=sse&key=client-key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer ya29.client")
	r.Header.Set("X-Goog-Api-Key", "client-key")
	r.Header.Set("Content-Type", "application/json")
	return r
}

func vertexProviders(t *testing.T, env VertexEnv) *Providers {
	t.Helper()
	ps, err := NewProviders(Env{VertexEnv: env})
	if err != nil {
		t.Fatalf("NewProviders error = %v", err)
	}
	return ps
}

func routeNamed(t *testing.T, ps *Providers, name string) *Provider {
	t.Helper()
	p, _, err := ps.RouteNamed(name, "")
	if err != nil {
		t.Fatalf("RouteNamed(%q) error = %v", name, err)
	}
	return p
}

func TestVertexURL(t *testing.T) {
	noADC(t)
	ps := vertexProviders(t, VertexEnv{})
	gemini, claude := routeNamed(t, ps, VertexAI), routeNamed(t, ps, VertexAIAnthropic)
	private := routeNamed(t, vertexProviders(t, VertexEnv{VertexAPIBase: "http://127.0.0.1:9999/vertex/"}), VertexAI)
	const models = "/publishers/google/models/gemini-2.0-flash:generateContent"
	tests := []struct {
		name           string
		p              *Provider
		path, rawQuery string
		want           string
	}{
		{"us-central1", gemini, "/v1/projects/p/locations/us-central1" + models, "",
			"https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1" + models},
		{"europe-west4, v1beta1, query kept", gemini, "/v1beta1/projects/p/locations/europe-west4" + models, "alt=sse",
			"https://europe-west4-aiplatform.googleapis.com/v1beta1/projects/p/locations/europe-west4" + models + "?alt=sse"},
		{"global", gemini, "/v1/projects/p/locations/global" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/global" + models},
		{"multi-region", gemini, "/v1/projects/p/locations/us" + models, "",
			"https://aiplatform.us.rep.googleapis.com/v1/projects/p/locations/us" + models},
		{"claude rawPredict", claude, "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", "",
			"https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict"},
		{"countTokens under a project", gemini, "/v1beta1/projects/p/locations/asia-northeast1/publishers/google/models/m:countTokens", "",
			"https://asia-northeast1-aiplatform.googleapis.com/v1beta1/projects/p/locations/asia-northeast1/publishers/google/models/m:countTokens"},
		{"VERTEXAI_API_BASE", private, "/v1/projects/p/locations/us-central1" + models, "alt=sse",
			"http://127.0.0.1:9999/vertex/v1/projects/p/locations/us-central1" + models + "?alt=sse"},

		// A location that is not one DNS label goes to the global host.
		{"hostile: evil.com#", gemini, "/v1/projects/p/locations/evil.com#" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/evil.com#" + models},
		{"hostile: x.attacker.net/", gemini, "/v1/projects/p/locations/x.attacker.net/" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/x.attacker.net/" + models},
		{"hostile: a subdomain", gemini, "/v1/projects/p/locations/us-central1.evil.com" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/us-central1.evil.com" + models},
		{"hostile: userinfo", gemini, "/v1/projects/p/locations/x@evil.com" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/x@evil.com" + models},
		{"hostile: a port", gemini, "/v1/projects/p/locations/evil:443" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/evil:443" + models},
		{"hostile: encoded", gemini, "/v1/projects/p/locations/evil.com%2F" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/evil.com%2F" + models},
		{"hostile: upper case", gemini, "/v1/projects/p/locations/US-CENTRAL1" + models, "",
			"https://aiplatform.googleapis.com/v1/projects/p/locations/US-CENTRAL1" + models},
		{"no location", gemini, "/v1/publishers/google/models/gemini-2.0-flash:generateContent", "",
			"https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.0-flash:generateContent"},
		{"a path without its slash", gemini, "@evil.com/v1/projects/p/locations/us-central1" + models, "",
			"https://aiplatform.googleapis.com/@evil.com/v1/projects/p/locations/us-central1" + models},
		{"a path without its slash, behind a base", private, "@evil.com/x", "",
			"http://127.0.0.1:9999/vertex/@evil.com/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.URL(tt.path, "", tt.rawQuery)
			if got != tt.want {
				t.Errorf("URL(%q, %q) = %q; want %q", tt.path, tt.rawQuery, got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatalf("URL %q does not parse: %v", got, err)
			}
			if host := u.Hostname(); u.User != nil || host != "127.0.0.1" && !strings.HasSuffix(host, "aiplatform.googleapis.com") &&
				!strings.HasSuffix(host, ".rep.googleapis.com") {
				t.Errorf("URL %q goes to host %q (user %v); want Vertex AI's or the base's", got, host, u.User)
			}
		})
	}
}

func TestValidLocation(t *testing.T) {
	for l, want := range map[string]bool{
		"us-central1": true, "europe-west4": true, "global": true, "us": true, "me-central2": true,
		"": false, "-us": false, "1us": false, "US": false, "us.evil": false, "us/": false, "us#": false,
		"us@x": false, "us:1": false, "us central": false, strings.Repeat("a", 64): false,
	} {
		if got := validLocation(l); got != want {
			t.Errorf("validLocation(%q) = %v; want %v", l, got, want)
		}
	}
}

// TestVertexAuthorize: a service account's token replaces whatever the
// client sent, token and Google API key alike.
func TestVertexAuthorize(t *testing.T) {
	noADC(t)
	ts := googlefake.NewTokenServer(t, 3600)
	ps := vertexProviders(t, VertexEnv{VertexCredentials: googlefake.ServiceAccountJSON(t, ts.TokenURI())})
	for _, name := range []string{VertexAI, VertexAIAnthropic} {
		p := routeNamed(t, ps, name)
		r := vertexRequest(context.Background(), t, p)
		if err := p.Authorize(r, nil); err != nil {
			t.Fatalf("%s: Authorize error = %v", name, err)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer ya29.test-1" {
			t.Errorf("%s: Authorization = %q; want the issued token", name, got)
		}
		if got := r.Header.Values("X-Goog-Api-Key"); got != nil {
			t.Errorf("%s: X-Goog-Api-Key = %q; want the client's removed", name, got)
		}
		if r.URL.RawQuery != "alt=sse" {
			t.Errorf("%s: query = %q; want the client's key removed", name, r.URL.RawQuery)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers = %v; want the others kept", name, r.Header)
		}
		if err := p.MissingCredentials(); err != nil {
			t.Errorf("%s: MissingCredentials() = %v; want nil", name, err)
		}
	}
	if n := ts.Issued.Load(); n != 1 {
		t.Errorf("%d tokens issued; want 1 for both providers", n)
	}
	if !ps.HoldKeys() {
		t.Error("HoldKeys() = false with VERTEXAI_CREDENTIALS; want true")
	}
	if p := routeNamed(t, ps, VertexAI); p.VertexProject != "sa-project" || p.VertexLocation != DefaultVertexLocation {
		t.Errorf("VertexProject, VertexLocation = %q, %q; want the credentials' project and the default location", p.VertexProject, p.VertexLocation)
	}
}

// TestVertexTokenShared: concurrent first calls, through copies of the
// provider, make one token request.
func TestVertexTokenShared(t *testing.T) {
	noADC(t)
	ts := googlefake.NewTokenServer(t, 3600)
	ps := vertexProviders(t, VertexEnv{VertexCredentials: googlefake.ServiceAccountJSON(t, ts.TokenURI())})
	p := routeNamed(t, ps, VertexAI)
	const calls = 50
	var wg sync.WaitGroup
	auths := make([]string, calls)
	for i := range calls {
		wg.Go(func() {
			copied := *p // the router and deployments copy providers
			r := vertexRequest(context.Background(), t, &copied)
			if err := copied.Authorize(r, nil); err != nil {
				t.Errorf("Authorize error = %v", err)
			}
			auths[i] = r.Header.Get("Authorization")
		})
	}
	wg.Wait()
	if n := ts.Issued.Load(); n != 1 {
		t.Errorf("%d concurrent calls made %d token requests; want 1", calls, n)
	}
	for i, a := range auths {
		if a != "Bearer ya29.test-1" {
			t.Errorf("call %d: Authorization = %q; want Bearer ya29.test-1", i, a)
		}
	}
}

// TestVertexTokenRefresh: a token that expires is fetched again, once for
// all the calls that find it expired. The library refreshes a token 10 s
// before it expires: one issued for 11 s is stale after 1.
func TestVertexTokenRefresh(t *testing.T) {
	noADC(t)
	ts := googlefake.NewTokenServer(t, 11)
	ps := vertexProviders(t, VertexEnv{VertexCredentials: googlefake.ServiceAccountJSON(t, ts.TokenURI())})
	p := routeNamed(t, ps, VertexAI)
	authorize := func() string {
		r := vertexRequest(context.Background(), t, p)
		if err := p.Authorize(r, nil); err != nil {
			t.Fatalf("Authorize error = %v", err)
		}
		return r.Header.Get("Authorization")
	}
	for range 5 {
		if got := authorize(); got != "Bearer ya29.test-1" {
			t.Fatalf("Authorization = %q; want the first token while it lasts", got)
		}
	}
	time.Sleep(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if got := authorize(); got != "Bearer ya29.test-2" {
				t.Errorf("Authorization = %q after expiry; want the second token", got)
			}
		})
	}
	wg.Wait()
	if n := ts.Issued.Load(); n != 2 {
		t.Errorf("%d tokens issued; want 2 (one refresh for all the calls)", n)
	}
}

func TestVertexTokenFailure(t *testing.T) {
	noADC(t)
	ts := googlefake.NewTokenServer(t, 3600)
	ts.Reject.Store(true)
	ps := vertexProviders(t, VertexEnv{VertexCredentials: googlefake.ServiceAccountJSON(t, ts.TokenURI())})
	p := routeNamed(t, ps, VertexAI)
	r := vertexRequest(context.Background(), t, p)
	err := p.Authorize(r, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "vertex_ai: getting an access token: ") || !strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("Authorize error = %v; want the token endpoint's, with context", err)
	}
}

// TestVertexNoCredentials: with none given or found, the client's own
// credentials pass as they came; the search runs once, at the first call.
func TestVertexNoCredentials(t *testing.T) {
	searches := noADC(t)
	ps := vertexProviders(t, VertexEnv{VertexProject: "env-project"})
	if n := searches.Load(); n != 0 {
		t.Fatalf("NewProviders searched for credentials %d times; want none before a call", n)
	}
	if ps.HoldKeys() {
		t.Error("HoldKeys() = true without credentials; want false")
	}
	for range 3 {
		for _, name := range []string{VertexAI, VertexAIAnthropic} {
			p := routeNamed(t, ps, name)
			r := vertexRequest(context.Background(), t, p)
			if err := p.Authorize(r, nil); err != nil {
				t.Fatalf("Authorize error = %v", err)
			}
			if r.Header.Get("Authorization") != "Bearer ya29.client" || r.Header.Get("X-Goog-Api-Key") != "client-key" ||
				r.URL.RawQuery != "alt=sse&key=client-key" {
				t.Errorf("%s: request %v %v; want the client's credentials unchanged", name, r.Header, r.URL)
			}
		}
	}
	if n := searches.Load(); n != 1 {
		t.Errorf("credentials searched for %d times; want once", n)
	}
	if err := routeNamed(t, ps, VertexAIAnthropic).MissingCredentials(); err == nil {
		t.Error("MissingCredentials() = nil after finding none; want why")
	}
}

// TestVertexSearchHonoursContext: a caller waits for a slow search only as
// long as its context allows, and the search still serves the next call.
func TestVertexSearchHonoursContext(t *testing.T) {
	noADC(t)
	ts := googlefake.NewTokenServer(t, 3600)
	sa := googlefake.ServiceAccountJSON(t, ts.TokenURI())
	release := make(chan struct{})
	saved := findDefaultCredentials
	findDefaultCredentials = func() (*google.Credentials, error) {
		<-release
		return google.CredentialsFromJSONWithTypeAndParams(credentialsContext, []byte(sa), google.ServiceAccount,
			google.CredentialsParams{Scopes: []string{cloudPlatformScope}})
	}
	t.Cleanup(func() { findDefaultCredentials = saved })

	p := routeNamed(t, vertexProviders(t, VertexEnv{}), VertexAI)
	if err := p.MissingCredentials(); err != nil {
		t.Errorf("MissingCredentials() = %v before the search; want nil", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := p.Authorize(vertexRequest(ctx, t, p), nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "vertex_ai: getting an access token") {
		t.Errorf("Authorize error = %v; want the caller's deadline, with context", err)
	}
	close(release)
	r := vertexRequest(context.Background(), t, p)
	if err := p.Authorize(r, nil); err != nil || r.Header.Get("Authorization") != "Bearer ya29.test-1" {
		t.Errorf("after the search: Authorize = %v, Authorization %q; want the found credentials' token", err, r.Header.Get("Authorization"))
	}
}

// TestVertexADC: Application Default Credentials from
// GOOGLE_APPLICATION_CREDENTIALS and from gcloud's file under HOME, found by
// the library itself at the first call (neither probes the metadata
// server: both come before it).
func TestVertexADC(t *testing.T) {
	for _, where := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "gcloud"} {
		t.Run(where, func(t *testing.T) {
			ts := googlefake.NewTokenServer(t, 3600)
			home := t.TempDir()
			t.Setenv("HOME", home)
			t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
			file := filepath.Join(t.TempDir(), "sa.json")
			if where == "gcloud" {
				file = filepath.Join(home, ".config", "gcloud", "application_default_credentials.json")
			} else {
				t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", file)
			}
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(googlefake.ServiceAccountJSON(t, ts.TokenURI())), 0o600); err != nil {
				t.Fatal(err)
			}
			p := routeNamed(t, vertexProviders(t, VertexEnv{}), VertexAI)
			r := vertexRequest(context.Background(), t, p)
			if err := p.Authorize(r, nil); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer ya29.test-1" {
				t.Errorf("Authorization = %q; want the ADC's token", got)
			}
		})
	}
}

// TestVertexMetadataServer: on Google Cloud, ADC is the metadata server's
// service account. GCE_METADATA_HOST points the library at a fake one.
// (The library then remembers, for this test binary, that it runs on GCE:
// tests that must find no credentials replace the search, noADC.)
func TestVertexMetadataServer(t *testing.T) {
	var tokens atomic.Int32
	md := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "no Metadata-Flavor", http.StatusForbidden)
			return
		}
		switch r.URL.Path {
		case "/computeMetadata/v1/project/project-id":
			fmt.Fprint(w, "md-project")
		case "/computeMetadata/v1/instance/service-accounts/default/token":
			if s := r.URL.Query().Get("scopes"); s != cloudPlatformScope {
				t.Errorf("metadata token scopes = %q; want %q", s, cloudPlatformScope)
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"ya29.md-%d","token_type":"Bearer","expires_in":3600}`, tokens.Add(1))
		default:
			http.NotFound(w, r)
		}
	}))
	defer md.Close()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(md.URL, "http://"))

	p := routeNamed(t, vertexProviders(t, VertexEnv{}), VertexAIAnthropic)
	for range 3 {
		r := vertexRequest(context.Background(), t, p)
		if err := p.Authorize(r, nil); err != nil {
			t.Fatal(err)
		}
		if got := r.Header.Get("Authorization"); got != "Bearer ya29.md-1" {
			t.Errorf("Authorization = %q; want the metadata server's token", got)
		}
	}
	if n := tokens.Load(); n != 1 {
		t.Errorf("%d metadata token requests; want 1", n)
	}
}

// TestVertexEnvErrors: explicit credentials that do not parse, and a bad
// location or base, are errors at start naming the variable, without
// quoting the credentials.
func TestVertexEnvErrors(t *testing.T) {
	noADC(t)
	const secret = "do-not-print-me"
	tests := []struct {
		name, wantErr string
		env           VertexEnv
	}{
		{"inline JSON that does not parse", "VERTEXAI_CREDENTIALS", VertexEnv{VertexCredentials: `{"type": "service_account", "private_key": "` + secret}},
		{"no such file", "VERTEXAI_CREDENTIALS", VertexEnv{VertexCredentials: filepath.Join(t.TempDir(), "missing.json")}},
		{"a file that is not JSON", "VERTEXAI_CREDENTIALS", VertexEnv{VertexCredentials: "vertex_test.go"}},
		{"an OAuth client, not credentials", "VERTEXAI_CREDENTIALS", VertexEnv{VertexCredentials: "testdata/client_secret.json"}},
		{"a service account with a bad key", "VERTEXAI_CREDENTIALS", VertexEnv{VertexCredentials: "testdata/bad_private_key.json"}},
		{"a hostile location", "VERTEXAI_LOCATION", VertexEnv{VertexLocation: "evil.com#"}},
		{"a base that is not a URL", "VERTEXAI_API_BASE", VertexEnv{VertexAPIBase: "aiplatform.googleapis.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewProviders(Env{VertexEnv: tt.env})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewProviders error = %v; want one naming %s", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("NewProviders error = %v; it quotes the credentials", err)
			}
		})
	}
	for _, file := range []string{"testdata/external_account.json"} {
		if _, err := NewProviders(Env{VertexEnv: VertexEnv{VertexCredentials: file}}); err != nil {
			t.Errorf("NewProviders(VERTEXAI_CREDENTIALS=%s) error = %v; want workload identity taken", file, err)
		}
	}
}

func TestRouteNamed(t *testing.T) {
	noADC(t)
	ps, err := NewProviders(Env{
		OpenAIEnv:    OpenAIEnv{OpenAIAPIKey: "sk-openai"},
		GeminiEnv:    GeminiEnv{GeminiAPIBase: "https://generativelanguage.googleapis.com"},
		AnthropicEnv: AnthropicEnv{AnthropicAPIBase: "https://api.anthropic.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, model          string
		wantProvider         string
		wantDialect          Dialect
		wantModel, wantErr   string
		wantSystem, wantHost string
	}{
		{VertexAI, "gemini-2.0-flash", VertexAI, Gemini, "gemini-2.0-flash", "", "", "google"},
		{VertexAI, "vertex_ai/gemini-2.0-flash", VertexAI, Gemini, "gemini-2.0-flash", "", "", "google"},
		{VertexAIAnthropic, "claude-sonnet-4-5@20250929", VertexAIAnthropic, VertexAnthropic, "claude-sonnet-4-5@20250929", "", "anthropic", "google"},
		{VertexAIAnthropic, "vertex_ai/claude-sonnet-4-5@20250929", VertexAIAnthropic, VertexAnthropic, "claude-sonnet-4-5@20250929", "", "anthropic", "google"},
		{VertexAI, "", VertexAI, Gemini, "", "", "", "google"},
		{"anthropic", "anthropic/claude-sonnet-4-5", "anthropic", Anthropic, "claude-sonnet-4-5", "", "anthropic", "anthropic"},
		{"azure", "d", "", "", "", "set AZURE_API_BASE", "", ""},
		{"cohere", "x", "", "", "", `No upstream named "cohere"`, "", ""},
	}
	for _, tt := range tests {
		p, model, err := ps.RouteNamed(tt.name, tt.model)
		if tt.wantErr != "" {
			var e *openai.Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, tt.wantErr) {
				t.Errorf("RouteNamed(%q, %q) error = %v; want a 400 saying %q", tt.name, tt.model, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("RouteNamed(%q, %q) error = %v", tt.name, tt.model, err)
			continue
		}
		if p.Name != tt.wantProvider || p.Dialect() != tt.wantDialect || model != tt.wantModel || p.System != tt.wantSystem || p.Host != tt.wantHost {
			t.Errorf("RouteNamed(%q, %q) = %s (%s, %q, %q), %q; want %s (%s, %q, %q), %q", tt.name, tt.model,
				p.Name, p.Dialect(), p.System, p.Host, model, tt.wantProvider, tt.wantDialect, tt.wantSystem, tt.wantHost, tt.wantModel)
		}
	}
	// Vertex AI is no dialect's home, and no prefix of Route's.
	if p := ps.Home(Anthropic); p == nil || p.Name != "anthropic" {
		t.Errorf("Home(Anthropic) = %+v; want Anthropic's API", p)
	}
	if p := ps.Home(Gemini); p == nil || p.Name != "gemini" || p.Dialect() != Gemini {
		t.Errorf("Home(Gemini) = %+v; want the Gemini API", p)
	}
	if strings.Contains(ps.served(), "vertex") {
		t.Errorf("served() = %q; want only OpenAI's API's prefixes", ps.served())
	}
}

func TestVertexDeployment(t *testing.T) {
	noADC(t)
	ts := googlefake.NewTokenServer(t, 3600)
	sa := googlefake.ServiceAccountJSON(t, ts.TokenURI())
	envProject := vertexProviders(t, VertexEnv{VertexProject: "env-project", VertexLocation: "europe-west4"})
	noProject := vertexProviders(t, VertexEnv{})

	tests := []struct {
		name            string
		ps              *Providers
		model           string
		params          Params
		wantProvider    string
		wantModel       string
		wantProject     string
		wantLocation    string
		wantBase        string
		wantOwnAuth     bool // credentials of its own, not the environment's
		wantEnvProvider bool // the environment's provider itself, no copy
		wantErr         string
	}{
		{name: "gemini", ps: envProject, model: "vertex_ai/gemini-2.0-flash", wantProvider: VertexAI, wantModel: "gemini-2.0-flash",
			wantProject: "env-project", wantLocation: "europe-west4", wantEnvProvider: true},
		{name: "claude", ps: envProject, model: "vertex_ai/claude-sonnet-4-5@20250929", wantProvider: VertexAIAnthropic,
			wantModel: "claude-sonnet-4-5@20250929", wantProject: "env-project", wantLocation: "europe-west4", wantEnvProvider: true},
		{name: "project and location", ps: envProject, model: "vertex_ai/gemini-2.0-flash",
			params:       Params{VertexProject: "own-project", VertexLocation: "global"},
			wantProvider: VertexAI, wantModel: "gemini-2.0-flash", wantProject: "own-project", wantLocation: "global"},
		{name: "inline credentials, the environment's project", ps: envProject, model: "vertex_ai/claude-opus-4-1",
			params:       Params{VertexCredentials: sa},
			wantProvider: VertexAIAnthropic, wantModel: "claude-opus-4-1", wantProject: "env-project", wantLocation: "europe-west4", wantOwnAuth: true},
		{name: "inline credentials, their project", ps: noProject, model: "vertex_ai/gemini-2.0-flash",
			params:       Params{VertexCredentials: sa},
			wantProvider: VertexAI, wantModel: "gemini-2.0-flash", wantProject: "sa-project", wantLocation: DefaultVertexLocation, wantOwnAuth: true},
		{name: "vertex_project over the credentials'", ps: noProject, model: "vertex_ai/gemini-2.0-flash",
			params:       Params{VertexCredentials: sa, VertexProject: "own-project", VertexLocation: "us-east5"},
			wantProvider: VertexAI, wantModel: "gemini-2.0-flash", wantProject: "own-project", wantLocation: "us-east5", wantOwnAuth: true},
		{name: "api_base", ps: envProject, model: "vertex_ai/gemini-2.0-flash", params: Params{APIBase: "https://vertex.internal.example/"},
			wantProvider: VertexAI, wantModel: "gemini-2.0-flash", wantProject: "env-project", wantLocation: "europe-west4",
			wantBase: "https://vertex.internal.example"},
		{name: "a hostile location", ps: envProject, model: "vertex_ai/gemini-2.0-flash", params: Params{VertexLocation: "x.attacker.net/"},
			wantErr: "vertex_location"},
		{name: "bad credentials", ps: envProject, model: "vertex_ai/gemini-2.0-flash", params: Params{VertexCredentials: `{"type":`},
			wantErr: "vertex_credentials"},
		{name: "credentials of another kind", ps: envProject, model: "vertex_ai/gemini-2.0-flash",
			params: Params{VertexCredentials: "testdata/client_secret.json"}, wantErr: "vertex_credentials"},
		{name: "not a prefix", ps: envProject, model: "vertex_ai_anthropic/claude-opus-4-1", wantProvider: "openai",
			wantModel: "vertex_ai_anthropic/claude-opus-4-1"},
		{name: "vertex_ai_beta is not served", ps: envProject, model: "vertex_ai_beta/gemini-2.0-flash", wantErr: "not served"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, model, err := tt.ps.Deployment(tt.model, tt.params)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Deployment error = %v; want one naming %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "BEGIN PRIVATE KEY") {
					t.Errorf("Deployment error = %v; it quotes the credentials", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Deployment error = %v", err)
			}
			if p.Name != tt.wantProvider || model != tt.wantModel {
				t.Fatalf("Deployment = %q, %q; want %q, %q", p.Name, model, tt.wantProvider, tt.wantModel)
			}
			if tt.wantProvider == "openai" {
				return
			}
			env := routeNamed(t, tt.ps, tt.wantProvider)
			if (p == env) != tt.wantEnvProvider {
				t.Errorf("Deployment shares the environment's provider: %v; want %v", p == env, tt.wantEnvProvider)
			}
			if p.VertexProject != tt.wantProject || p.VertexLocation != tt.wantLocation || p.BaseURL != tt.wantBase {
				t.Errorf("Deployment project, location, base = %q, %q, %q; want %q, %q, %q",
					p.VertexProject, p.VertexLocation, p.BaseURL, tt.wantProject, tt.wantLocation, tt.wantBase)
			}
			if (p.google != env.google) != tt.wantOwnAuth || p.HoldsCredentials() != tt.wantOwnAuth {
				t.Errorf("Deployment has credentials of its own: %v (holds %v); want %v", p.google != env.google, p.HoldsCredentials(), tt.wantOwnAuth)
			}
			if env.VertexLocation != routeNamed(t, tt.ps, VertexAI).VertexLocation || env.BaseURL != "" {
				t.Errorf("the environment's provider changed: %+v", env)
			}
		})
	}

	// Deployments that give the same credentials share them, and their
	// token: one fetch for both.
	a, _, errA := noProject.Deployment("vertex_ai/gemini-2.0-flash", Params{VertexCredentials: sa})
	b, _, errB := noProject.Deployment("vertex_ai/claude-opus-4-1", Params{VertexCredentials: sa, VertexLocation: "us-east5"})
	if errA != nil || errB != nil || a.google != b.google {
		t.Fatalf("Deployments with the same credentials: %v, %v, shared %v; want them shared", errA, errB, a.google == b.google)
	}
	for _, p := range []*Provider{a, b} {
		r := vertexRequest(context.Background(), t, p)
		if err := p.Authorize(r, nil); err != nil || r.Header.Get("Authorization") != "Bearer ya29.test-1" {
			t.Errorf("%s: Authorize = %v, %q; want the deployment's token", p.Name, err, r.Header.Get("Authorization"))
		}
	}
	if n := ts.Issued.Load(); n != 1 {
		t.Errorf("%d tokens issued; want 1", n)
	}
	// api_base moves every call there, whatever location the path names.
	p, _, err := envProject.Deployment("vertex_ai/gemini-2.0-flash", Params{APIBase: "http://127.0.0.1:9/v/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.URL("/v1/projects/p/locations/global/publishers/google/models/m:generateContent", "m", ""); got !=
		"http://127.0.0.1:9/v/v1/projects/p/locations/global/publishers/google/models/m:generateContent" {
		t.Errorf("URL with api_base = %q", got)
	}
}

func TestVertexModelPath(t *testing.T) {
	noADC(t)
	ps := vertexProviders(t, VertexEnv{VertexProject: "my-project", VertexLocation: "us-east5"})
	gemini, claude := routeNamed(t, ps, VertexAI), routeNamed(t, ps, VertexAIAnthropic)
	tests := []struct {
		p             *Provider
		model, method string
		want, wantErr string
	}{
		{gemini, "gemini-2.0-flash", "streamGenerateContent", "/v1/projects/my-project/locations/us-east5/publishers/google/models/gemini-2.0-flash:streamGenerateContent", ""},
		{claude, "claude-sonnet-4-5@20250929", "rawPredict", "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict", ""},
		{gemini, "../../x", "generateContent", "", "a Vertex AI model name"},
		{gemini, "", "generateContent", "", "a Vertex AI model name"},
		{routeNamed(t, vertexProviders(t, VertexEnv{}), VertexAI), "gemini-2.0-flash", "generateContent", "", "set vertex_project or VERTEXAI_PROJECT"},
		{&Provider{Name: "openai", family: openAIAPI{}}, "gpt-4o", "generateContent", "", "not Vertex AI's"},
	}
	for _, tt := range tests {
		got, err := tt.p.VertexModelPath(tt.model, tt.method)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s.VertexModelPath(%q) error = %v; want %q", tt.p.Name, tt.model, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s.VertexModelPath(%q, %q) = %q, %v; want %q", tt.p.Name, tt.model, tt.method, got, err, tt.want)
		}
	}
}
