package openai

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestErrorJSON(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{
			name: "param",
			err:  Error{Status: 400, Type: TypeInvalidRequest, Param: "model", Message: "Missing required parameter: 'model'."},
			want: `{"error":{"message":"Missing required parameter: 'model'.","type":"invalid_request_error","param":"model","code":"400"}}`,
		},
		{
			name: "no param is null",
			err:  Error{Status: 502, Type: TypeProxy, Message: `upstream "x" failed`},
			want: `{"error":{"message":"upstream \"x\" failed","type":"proxy_error","param":null,"code":"502"}}`,
		},
		{
			name: "timeout",
			err:  Error{Status: 504, Type: TypeTimeout, Message: "upstream timed out"},
			want: `{"error":{"message":"upstream timed out","type":"timeout_error","param":null,"code":"504"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.err.MarshalJSON()
			if err != nil {
				t.Fatalf("MarshalJSON error = %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("MarshalJSON() = %s; want %s", got, tt.want)
			}
			viaJSON, err := json.Marshal(&tt.err)
			if err != nil || string(viaJSON) != tt.want {
				t.Errorf("json.Marshal(&err) = %s, %v; want %s", viaJSON, err, tt.want)
			}
			if got := tt.err.Error(); got != tt.err.Message {
				t.Errorf("Error() = %q; want the message %q", got, tt.err.Message)
			}
		})
	}
}

func TestErrorWrite(t *testing.T) {
	e := &Error{Status: http.StatusNotFound, Type: TypeNotFound, Message: "no route <x> & more"}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "text/plain")
	e.Write(rec)
	if rec.Code != http.StatusNotFound {
		t.Errorf("status = %d; want %d", rec.Code, http.StatusNotFound)
	}
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q; want %q", got, "application/json")
	}
	body := rec.Body.Bytes()
	if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(len(body)); got != want {
		t.Errorf("Content-Length = %q; want %q", got, want)
	}
	var got struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    string  `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if got.Error.Message != e.Message || got.Error.Type != TypeNotFound || got.Error.Param != nil || got.Error.Code != "404" {
		t.Errorf("body = %s; want message %q, type %q, param null, code \"404\"", body, e.Message, TypeNotFound)
	}
}
