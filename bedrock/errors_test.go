package bedrock

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWriteError(t *testing.T) {
	for _, tt := range []struct {
		status int
		code   string
	}{
		{400, "ValidationException"}, {401, "AccessDeniedException"}, {403, "AccessDeniedException"},
		{404, "ResourceNotFoundException"}, {408, "ModelTimeoutException"}, {413, "ValidationException"},
		{429, "ThrottlingException"}, {500, "InternalServerException"}, {502, "InternalServerException"},
		{503, "ServiceUnavailableException"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, tt.status, `model "x" not found`)
		var body struct{ Message string }
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Message != `model "x" not found` {
			t.Errorf("%d: body %s (%v)", tt.status, w.Body, err)
		}
		if w.Code != tt.status || w.Header().Get("X-Amzn-ErrorType") != tt.code {
			t.Errorf("%d: got %d, x-amzn-ErrorType %q; want %q", tt.status, w.Code, w.Header().Get("X-Amzn-ErrorType"), tt.code)
		}
	}
}
