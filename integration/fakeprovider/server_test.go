package fakeprovider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnyBody: a path given an AnyBody cassette is answered with that
// recording, byte for byte, whatever the request's body; every other path
// still answers only the recorded request.
func TestAnyBody(t *testing.T) {
	dir := filepath.Join("..", "testdata", "gemini", "cassettes")
	stream, err := LoadFile(filepath.Join(dir, "pa-test_google_model_stream.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := LoadFile(filepath.Join(dir, "pa-test_google_model.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const route = "/v1beta/models/gemini-cli-model:streamGenerateContent"
	srv := New([]Cassette{stream, plain})
	var logged []string
	srv.AnyBody = map[string]string{route: stream.Name}
	srv.Log = func(format string, args ...any) { logged = append(logged, format) }
	ts := httptest.NewServer(srv)
	defer ts.Close()

	tests := []struct {
		name, path, body string
		wantCode         int
		wantBody         string
	}{
		{"route, any body", route + "?alt=sse", `{"contents":[{"parts":[{"text":"anything"}]}]}`, 200, stream.Response.Body},
		{"route, no body", route, "", 200, stream.Response.Body},
		{"other path, the recorded body", plain.Request.Path(), plain.Request.Body, 200, plain.Response.Body},
		{"other path, another body", plain.Request.Path(), `{"contents":[]}`, 404, ""},
		{"the route's cassette's own path, another body", stream.Request.Path(), `{"contents":[]}`, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status %d; want %d (%s)", resp.StatusCode, tt.wantCode, got)
			}
			if tt.wantBody != "" && string(got) != tt.wantBody {
				t.Errorf("body %q; want the recording's %q", got, tt.wantBody)
			}
		})
	}
	if len(logged) != 2 {
		t.Errorf("logged %d any-body answers; want 2", len(logged))
	}
}
