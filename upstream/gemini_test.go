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
// prefix's; "gemini/" stays the OpenAI-compatible endpoint's, with either
// form of GEMINI_API_BASE.
func TestGeminiProviders(t *testing.T) {
	for _, base := range []string{"https://generativelanguage.googleapis.com", "https://generativelanguage.googleapis.com/v1beta/openai"} {
		t.Run(base, func(t *testing.T) {
			ps, err := NewProviders(Env{GeminiEnv: GeminiEnv{GeminiAPIBase: base, GeminiAPIKey: "g-key"}})
			if err != nil {
				t.Fatal(err)
			}
			native := ps.Home(Gemini)
			if native == nil || native.BaseURL != "https://generativelanguage.googleapis.com" || native.Dialect() != Gemini ||
				native.System != "" || native.Host != "google" {
				t.Fatalf("Home(Gemini) = %+v; want the native API at the root, no llm.system", native)
			}
			compatible, model, err := ps.Route("gemini/gemini-2.0-flash")
			if err != nil || compatible.Dialect() != OpenAI || compatible.System != "openai" || model != "gemini-2.0-flash" ||
				compatible.URL("/chat/completions", model, "") != "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions" {
				t.Errorf("Route(gemini/…) = %+v, %q, %v; want the OpenAI-compatible endpoint", compatible, model, err)
			}
			if p, m, err := ps.RouteHome(Gemini, "gemini/gemini-2.0-flash"); err != nil || p != native || m != "gemini-2.0-flash" {
				t.Errorf("RouteHome(Gemini, gemini/…) = %v, %q, %v; want the native API", p, m, err)
			}
			if p, _, err := ps.RouteNamed("gemini", ""); err != nil || p != compatible {
				t.Errorf("RouteNamed(gemini) = %+v, %v; want the compatible endpoint (the native one is the home only)", p, err)
			}
			if p, _, err := ps.Deployment("gemini/gemini-2.0-flash", Params{}); err != nil || p != compatible {
				t.Errorf("Deployment(gemini/…) = %+v, %v; want the compatible endpoint", p, err)
			}
			if p, _, err := ps.Deployment("gemini/gemini-2.0-flash", Params{APIBase: "http://localhost:9000/v1beta/openai/"}); err != nil ||
				p.Dialect() != OpenAI || p.BaseURL != "http://localhost:9000/v1beta/openai" {
				t.Errorf("Deployment(gemini/…, api_base) = %+v, %v; want the compatible endpoint there", p, err)
			}
			if got := strings.Count(ps.served(), "gemini/"); got != 1 {
				t.Errorf("served() = %q; want gemini/ once", ps.served())
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
// header and the URL both; without one the client's pass untouched.
func TestGeminiAuthorize(t *testing.T) {
	tests := []struct {
		name       string
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Provider{Name: "gemini", APIKey: tt.key, BaseURL: "https://generativelanguage.googleapis.com", family: geminiAPI{}}
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
