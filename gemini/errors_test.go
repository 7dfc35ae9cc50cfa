package gemini

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWriteError(t *testing.T) {
	for _, tt := range []struct {
		code   int
		status string
	}{
		{400, "INVALID_ARGUMENT"}, {401, "UNAUTHENTICATED"}, {403, "PERMISSION_DENIED"}, {404, "NOT_FOUND"},
		{413, "INVALID_ARGUMENT"}, {429, "RESOURCE_EXHAUSTED"}, {500, "INTERNAL"}, {502, "UNAVAILABLE"},
		{503, "UNAVAILABLE"}, {504, "DEADLINE_EXCEEDED"}, {418, "FAILED_PRECONDITION"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, tt.code, `no "such" model`)
		var got envelope
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("%d: %v in %s", tt.code, err, w.Body)
		}
		if w.Code != tt.code || got.Error.Code != tt.code || got.Error.Status != tt.status || got.Error.Message != `no "such" model` {
			t.Errorf("%d: got %d %s", tt.code, w.Code, w.Body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=UTF-8" {
			t.Errorf("%d: Content-Type %q", tt.code, ct)
		}
	}
}
