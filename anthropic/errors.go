// Package anthropic is Anthropic's Messages API wire format as the proxy
// needs it: the API version it sends, and the error envelope its clients
// expect.
package anthropic

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Version is the anthropic-version header the proxy sends when the client
// sent none (a call it translated from another API).
const Version = "2023-06-01"

// Error types, as the Messages API names them
// (https://docs.anthropic.com/en/api/errors).
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeTooLarge       = "request_too_large"
	TypeRateLimit      = "rate_limit_error"
	TypeAPI            = "api_error"
	TypeTimeout        = "timeout_error"
	TypeOverloaded     = "overloaded_error"
)

// TypeFor is the error type Anthropic gives a status.
func TypeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return TypeInvalidRequest
	case http.StatusUnauthorized:
		return TypeAuthentication
	case http.StatusForbidden:
		return TypePermission
	case http.StatusNotFound:
		return TypeNotFound
	case http.StatusRequestEntityTooLarge:
		return TypeTooLarge
	case http.StatusTooManyRequests:
		return TypeRateLimit
	case http.StatusGatewayTimeout:
		return TypeTimeout
	case 529:
		return TypeOverloaded
	}
	if status >= 400 && status < 500 {
		return TypeInvalidRequest
	}
	return TypeAPI
}

// WriteError answers with an error in the Messages API's envelope:
// {"type":"error","error":{"type","message"}}.
func WriteError(w http.ResponseWriter, status int, message string) {
	b := ErrorBody(TypeFor(status), message)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ErrorBody is the Messages API's error envelope for an error of type typ
// (TypeFor's, for a status), as its answers and its streams' error events
// carry it: {"type":"error","error":{"type","message"}}.
func ErrorBody(typ, message string) []byte {
	type detail struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Type  string `json:"type"`
		Error detail `json:"error"`
	}{"error", detail{typ, message}}) // strings only: cannot fail
	return b
}
