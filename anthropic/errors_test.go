package anthropic

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
)

func TestWriteError(t *testing.T) {
	tests := []struct {
		status   int
		wantType string
	}{
		{400, TypeInvalidRequest}, {401, TypeAuthentication}, {404, TypeNotFound}, {413, TypeTooLarge},
		{429, TypeRateLimit}, {502, TypeAPI}, {504, TypeTimeout}, {529, TypeOverloaded}, {422, TypeInvalidRequest},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		WriteError(rec, tt.status, `bad "thing"`)
		var got struct {
			Type  string `json:"type"`
			Error struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if rec.Code != tt.status || got.Type != "error" || got.Error.Type != tt.wantType || got.Error.Message != `bad "thing"` {
			t.Errorf("status %d: got %d %s", tt.status, rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}
