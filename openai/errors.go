package openai

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error types, as OpenAI and LiteLLM's proxy name them.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeNotFound       = "not_found_error"
	TypeProxy          = "proxy_error"
	TypeTimeout        = "timeout_error"
	TypeRateLimit      = "rate_limit_error"
)

// Error is an error the proxy answers itself, in the OpenAI format:
// {"error":{"message","type","param","code"}}. Code is the HTTP status as a
// string, as LiteLLM's proxy writes it.
type Error struct {
	Status  int
	Message string
	Type    string
	Param   string
}

func (e *Error) Error() string { return e.Message }

// MarshalJSON writes the OpenAI error envelope.
func (e *Error) MarshalJSON() ([]byte, error) {
	type body struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	}
	b := body{Message: e.Message, Type: e.Type, Code: strconv.Itoa(e.Status)}
	if e.Param != "" {
		b.Param = &e.Param
	}
	return json.Marshal(struct {
		Error body `json:"error"`
	}{b})
}

// Write sends the error as the response.
func (e *Error) Write(w http.ResponseWriter) {
	b, _ := e.MarshalJSON() // cannot fail: strings only
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}
