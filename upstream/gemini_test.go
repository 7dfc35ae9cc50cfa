package upstream

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// TestGeminiBases: GEMINI_API_BASE is the API's root; the older form, the
// OpenAI-compatible endpoint itself, still names both.
func TestGeminiBases(t *testing.T) {
	tests := []struct {
		base, wantRoot, wantCompatible string
	}{
		{"https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/openai"},
		{"https://generativelanguage.googleapis.com/", "https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/openai"},
		{"https://generativelanguage.googleapis.com/v1beta/openai", "https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/openai"},
		{"https://generativelanguage.googleapis.com/v1beta/openai/", "https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/openai"},
		{"https://generativelanguage.googleapis.com/v1/openai", "https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1/openai"},
		{"http://127.0.0.1:8080/google", "http://127.0.0.1:8080/google", "http://127.0.0.1:8080/google/v1beta/openai"},
		{"http://gw.example/google/openai", "http://gw.example/google", "http://gw.example/google/openai"},
		{"", "", ""},
	}
	for _, tt := range tests {
		root, compatible := geminiBases(tt.base)
		if root != tt.wantRoot || compatible != tt.wantCompatible {
			t.Errorf("geminiBases(%q) = %q, %q; want %q, %q", tt.base, root, compatible, tt.wantRoot, tt.wantCompatible)
		}
	}
}

// TestGeminiProviders: the native API is the Gemini dialect's home and no
// prefix's; "gemini/" is translated to the native API for a root
// GEMINI_API_BASE, as LiteLLM sends it, and stays on the OpenAI-compatible
// endpoint for a base ending in /openai; a config file's deployment
// decides by its own api_base the same way.
func TestGeminiProviders(t *testing.T) {
	const root = "https://generativelanguage.googleapis.com"
	tests := []struct {
		base        string
		wantDialect Dialect
		wantSystem  string
		wantURL     string // of /chat/completions for the compatible endpoint, of the translated path else
	}{
		{root, Gemini, "", root + "/v1beta/models/gemini-2.0-flash:generateContent"},
		{root + "/", Gemini, "", root + "/v1beta/models/gemini-2.0-flash:generateContent"},
		{root + "/v1beta/openai", OpenAI, "openai", root + "/v1beta/openai/chat/completions"},
		{root + "/v1beta/openai/", OpenAI, "openai", root + "/v1beta/openai/chat/completions"},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			ps, err := NewProviders(Env{GeminiEnv: GeminiEnv{GeminiAPIBase: tt.base, GeminiAPIKey: "g-key"}})
			if err != nil {
				t.Fatal(err)
			}
			native := ps.Home(Gemini)
			if native == nil || native.BaseURL != root || native.Dialect() != Gemini ||
				native.System != "" || native.Host != "google" {
				t.Fatalf("Home(Gemini) = %+v; want the native API at the root, no llm.system", native)
			}
			prefixed, model, err := ps.Route("gemini/gemini-2.0-flash")
			path := "/chat/completions"
			if tt.wantDialect == Gemini {
				path = "/v1beta/models/gemini-2.0-flash:generateContent"
			}
			if err != nil || prefixed.Dialect() != tt.wantDialect || prefixed.System != tt.wantSystem || prefixed.Host != "google" ||
				model != "gemini-2.0-flash" || prefixed.URL(path, model, "") != tt.wantURL {
				t.Errorf("Route(gemini/…) = %+v, %q, %v; want dialect %s, llm.system %q, %s", prefixed, model, err, tt.wantDialect, tt.wantSystem, tt.wantURL)
			}
			if p, m, err := ps.RouteHome(Gemini, "gemini/gemini-2.0-flash"); err != nil || p != native || m != "gemini-2.0-flash" {
				t.Errorf("RouteHome(Gemini, gemini/…) = %v, %q, %v; want the native API", p, m, err)
			}
			if p, _, err := ps.RouteNamed("gemini", ""); err != nil || p != prefixed {
				t.Errorf("RouteNamed(gemini) = %+v, %v; want the prefix's provider (the native one is the home only)", p, err)
			}
			if p, _, err := ps.Deployment("gemini/gemini-2.0-flash", Params{}); err != nil || p != prefixed {
				t.Errorf("Deployment(gemini/…) = %+v, %v; want the prefix's provider", p, err)
			}
			for _, d := range []struct {
				apiBase, wantBase string
				wantDialect       Dialect
			}{
				{"http://localhost:9000/v1beta/openai/", "http://localhost:9000/v1beta/openai", OpenAI},
				{"http://localhost:9000/", "http://localhost:9000", Gemini},
			} {
				p, _, err := ps.Deployment("gemini/gemini-2.0-flash", Params{APIBase: d.apiBase})
				if err != nil || p.Dialect() != d.wantDialect || p.BaseURL != d.wantBase || p.APIKey != "g-key" {
					t.Errorf("Deployment(gemini/…, api_base %s) = %+v, %v; want dialect %s at %s", d.apiBase, p, err, d.wantDialect, d.wantBase)
				}
			}
			wantServed := 0 // served() lists the prefixes of OpenAI's dialect, untranslated
			if tt.wantDialect == OpenAI {
				wantServed = 1
			}
			if got := strings.Count(ps.served(), "gemini/"); got != wantServed {
				t.Errorf("served() = %q; want gemini/ %d times", ps.served(), wantServed)
			}
		})
	}

	ps, err := NewProviders(Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ps.RouteHome(Gemini, "gemini-2.0-flash"); err == nil || !strings.Contains(err.Error(), "set GEMINI_API_BASE") {
		t.Errorf("without GEMINI_API_BASE, RouteHome(Gemini) error = %v; want one naming it", err)
	}
	if _, err := NewProviders(Env{GeminiEnv: GeminiEnv{GeminiAPIBase: "generativelanguage.googleapis.com"}}); err == nil ||
		!strings.Contains(err.Error(), "GEMINI_API_BASE") {
		t.Errorf("NewProviders(GEMINI_API_BASE without a scheme) error = %v; want one naming it", err)
	}
}

func TestGeminiURL(t *testing.T) {
	ps, err := NewProviders(Env{GeminiEnv: GeminiEnv{GeminiAPIBase: "https://generativelanguage.googleapis.com/"}})
	if err != nil {
		t.Fatal(err)
	}
	native := ps.Home(Gemini)
	tests := []struct {
		path, rawQuery, want string
	}{
		{"/v1beta/models/gemini-2.0-flash:generateContent", "", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"},
		{"/v1beta/models/gemini-2.0-flash:streamGenerateContent", "alt=sse", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"},
		{"/v1/models/gemini-2.0-flash:countTokens", "", "https://generativelanguage.googleapis.com/v1/models/gemini-2.0-flash:countTokens"},
	}
	for _, tt := range tests {
		if got := native.URL(tt.path, "gemini-2.0-flash", tt.rawQuery); got != tt.want {
			t.Errorf("URL(%q, %q) = %q; want %q", tt.path, tt.rawQuery, got, tt.want)
		}
	}
}

// TestGeminiAuthorize: the proxy's key replaces the client's, in the
// header and the URL both; without one the client's pass untouched, but
// for a translated gemini/ call's bearer token, which is its Gemini key.
func TestGeminiAuthorize(t *testing.T) {
	tests := []struct {
		name       string
		chat       bool // the gemini/ prefix's provider (geminiChatAPI)
		key        string
		header     http.Header
		rawQuery   string
		wantHeader http.Header
		wantQuery  string
	}{
		{
			name: "no key: the client's header passes", header: http.Header{"X-Goog-Api-Key": {"client-key"}},
			rawQuery: "alt=sse", wantHeader: http.Header{"X-Goog-Api-Key": {"client-key"}}, wantQuery: "alt=sse",
		},
		{
			name: "no key: the client's query key passes", header: http.Header{"Authorization": {"Bearer ya29.client"}},
			rawQuery: "key=client-key&alt=sse", wantHeader: http.Header{"Authorization": {"Bearer ya29.client"}}, wantQuery: "key=client-key&alt=sse",
		},
		{
			name: "key replaces the client's header", key: "proxy-key",
			header:     http.Header{"X-Goog-Api-Key": {"client-key"}, "Authorization": {"Bearer ya29.client"}, "Content-Type": {"application/json"}},
			wantHeader: http.Header{"X-Goog-Api-Key": {"proxy-key"}, "Content-Type": {"application/json"}},
		},
		{
			name: "key: the client's query key is dropped", key: "proxy-key", header: http.Header{},
			rawQuery: "key=client-key&alt=sse", wantHeader: http.Header{"X-Goog-Api-Key": {"proxy-key"}}, wantQuery: "alt=sse",
		},
		{
			name: "key: every key parameter, however encoded, is dropped", key: "proxy-key", header: http.Header{},
			rawQuery: "alt=sse&k%65y=a&key=b&keys=kept&x=%2F", wantHeader: http.Header{"X-Goog-Api-Key": {"proxy-key"}}, wantQuery: "alt=sse&keys=kept&x=%2F",
		},
		{
			name: "key: a query of the key alone", key: "proxy-key", header: http.Header{},
			rawQuery: "key=client-key", wantHeader: http.Header{"X-Goog-Api-Key": {"proxy-key"}}, wantQuery: "",
		},
		{
			name: "gemini/, no key: the OpenAI client's bearer token is its key", chat: true,
			header:     http.Header{"Authorization": {"Bearer client-key"}, "Content-Type": {"application/json"}},
			wantHeader: http.Header{"X-Goog-Api-Key": {"client-key"}, "Content-Type": {"application/json"}},
		},
		{
			name: "gemini/, no key: a client's x-goog-api-key stays, and its bearer token", chat: true,
			header:     http.Header{"X-Goog-Api-Key": {"client-key"}, "Authorization": {"Bearer other"}},
			wantHeader: http.Header{"X-Goog-Api-Key": {"client-key"}, "Authorization": {"Bearer other"}},
		},
		{
			name: "gemini/, no key: no bearer token, nothing moved", chat: true,
			header: http.Header{"Authorization": {"Basic abc"}}, wantHeader: http.Header{"Authorization": {"Basic abc"}},
		},
		{
			name: "gemini/, key: the proxy's replaces the bearer token", chat: true, key: "proxy-key",
			header: http.Header{"Authorization": {"Bearer client-key"}}, rawQuery: "key=client-key",
			wantHeader: http.Header{"X-Goog-Api-Key": {"proxy-key"}}, wantQuery: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f family = geminiAPI{}
			if tt.chat {
				f = geminiChatAPI{}
			}
			p := Provider{Name: "gemini", APIKey: tt.key, BaseURL: "https://generativelanguage.googleapis.com", family: f}
			u, err := url.Parse(p.URL("/v1beta/models/m:generateContent", "m", tt.rawQuery))
			if err != nil {
				t.Fatal(err)
			}
			r := &http.Request{Method: http.MethodPost, URL: u, Header: tt.header}
			if err := p.Authorize(r, nil); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.Header, tt.wantHeader) {
				t.Errorf("headers = %v; want %v", r.Header, tt.wantHeader)
			}
			if r.URL.RawQuery != tt.wantQuery {
				t.Errorf("query = %q; want %q", r.URL.RawQuery, tt.wantQuery)
			}
		})
	}
}
