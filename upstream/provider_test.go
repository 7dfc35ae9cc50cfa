package upstream

import "testing"

// TestJoinURL: the client's query follows the path's own (a translated
// stream's ?alt=sse) with "&", never a second "?".
func TestJoinURL(t *testing.T) {
	tests := []struct {
		name, base, path, rawQuery, want string
	}{
		{"no query", "https://api.example/v1", "/chat/completions", "", "https://api.example/v1/chat/completions"},
		{"the client's query", "https://api.example/v1", "/models", "b=2&a=1", "https://api.example/v1/models?b=2&a=1"},
		{"the path's query", "https://h", "/v1/m:streamGenerateContent?alt=sse", "", "https://h/v1/m:streamGenerateContent?alt=sse"},
		{"both", "https://h", "/v1/m:streamGenerateContent?alt=sse", "key=k", "https://h/v1/m:streamGenerateContent?alt=sse&key=k"},
	}
	for _, tt := range tests {
		if got := joinURL(tt.base, tt.path, tt.rawQuery); got != tt.want {
			t.Errorf("%s: joinURL(%q, %q, %q) = %q; want %q", tt.name, tt.base, tt.path, tt.rawQuery, got, tt.want)
		}
	}
	// Through a provider: Vertex AI's host from the path's location, the
	// queries joined.
	p := &Provider{Name: VertexAI, family: vertexAPI{Gemini}}
	const path = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
	want := "https://us-central1-aiplatform.googleapis.com" + path + "&x=1"
	if got := p.URL(path, "gemini-2.5-flash", "x=1"); got != want {
		t.Errorf("Vertex URL = %q; want %q", got, want)
	}
}
