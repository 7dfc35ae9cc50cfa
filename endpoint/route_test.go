package endpoint

import (
	"reflect"
	"testing"
)

func TestRouteMatch(t *testing.T) {
	const gemini = "/v1beta/models/{model}:generateContent"
	const vertex = "/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:streamGenerateContent"
	tests := []struct {
		pattern, path string
		want          map[string]string // nil: no match
	}{
		{"/v1/chat/completions", "/v1/chat/completions", map[string]string{}},
		{"/v1/chat/completions", "/v1/chat/completions/", nil},
		{"/v1/chat/completions", "/v1/chat", nil},
		{gemini, "/v1beta/models/gemini-2.5-flash:generateContent", map[string]string{"model": "gemini-2.5-flash"}},
		{gemini, "/v1beta/models/tunedModels%2Fmine:generateContent", map[string]string{"model": "tunedModels%2Fmine"}},
		{gemini, "/v1beta/models/gemini-2.5-flash:streamGenerateContent", nil},
		{gemini, "/v1beta/models/:generateContent", nil},
		{gemini, "/v1beta/models/a/b:generateContent", nil},
		{gemini, "/v1beta/models/bad%zz:generateContent", nil},
		{vertex, "/v1/projects/p-1/locations/us-central1/publishers/google/models/gemini-2.0-flash:streamGenerateContent",
			map[string]string{"project": "p-1", "location": "us-central1", "model": "gemini-2.0-flash"}},
		{vertex, "/v1/projects/p-1/locations/us-central1/publishers/anthropic/models/claude:streamGenerateContent", nil},
		{"/v1/*rest", "/v1/files/x", map[string]string{"rest": "files/x"}},
		{"/v1/*rest", "/v1/", map[string]string{"rest": ""}},
		{"/v1/*rest", "/v1", nil},
		{"/v1/*rest", "/v2/x", nil},
	}
	for _, tt := range tests {
		got, ok := Route{Path: tt.pattern}.Match(tt.path)
		if tt.want == nil {
			if ok {
				t.Errorf("Match(%q, %q) = %v; want no match", tt.pattern, tt.path, got)
			}
			continue
		}
		if got == nil {
			got = map[string]string{}
		}
		if !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Match(%q, %q) = %v, %v; want %v", tt.pattern, tt.path, got, ok, tt.want)
		}
	}
}

func TestUpstreamPath(t *testing.T) {
	params := map[string]string{"model": "tuned%2Fmine", "location": "us-central1"}
	tests := []struct {
		pattern, model string
		want           string
	}{
		{"/chat/completions", "gpt-4o", "/chat/completions"},
		{"/models/{model}:generateContent", "tuned/mine", "/models/tuned%2Fmine:generateContent"},
		{"/models/{model}:generateContent", "gemini-2.5-pro", "/models/gemini-2.5-pro:generateContent"},
		{"/models/{model}:generateContent", "a b/c", "/models/a%20b%2Fc:generateContent"},
		{"/locations/{location}/models/{model}", "m", "/locations/us-central1/models/m"},
	}
	for _, tt := range tests {
		if got := UpstreamPath(tt.pattern, tt.model, params); got != tt.want {
			t.Errorf("UpstreamPath(%q, %q) = %q; want %q", tt.pattern, tt.model, got, tt.want)
		}
	}
}
