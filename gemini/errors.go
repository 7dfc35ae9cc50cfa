// Package gemini is Google's generateContent API wire format (the Gemini
// API and Vertex AI) as the proxy needs it: the error envelope its clients
// expect, and the canonical status names Google's errors carry.
package gemini

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Status is the canonical name Google's APIs give an HTTP status in an
// error's "status" member (google.rpc.Code, as mapped to HTTP in
// https://cloud.google.com/apis/design/errors#handling_errors).
func Status(code int) string {
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "INVALID_ARGUMENT"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusConflict:
		return "ABORTED"
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	case http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case http.StatusServiceUnavailable, http.StatusBadGateway:
		return "UNAVAILABLE"
	}
	if code >= 400 && code < 500 {
		return "FAILED_PRECONDITION"
	}
	return "INTERNAL"
}

// envelope is Google's error body: {"error":{"code","message","status"}}.
type envelope struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// ErrorBody is the JSON of an error in Google's envelope.
func ErrorBody(code int, message string) []byte {
	var e envelope
	e.Error.Code, e.Error.Message, e.Error.Status = code, message, Status(code)
	b, _ := json.Marshal(e) // a struct of strings and an int: cannot fail
	return b
}

// WriteError answers with an error in Google's envelope, as the Gemini API
// and Vertex AI answer theirs.
func WriteError(w http.ResponseWriter, code int, message string) {
	b := ErrorBody(code, message)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
