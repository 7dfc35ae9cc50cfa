// Package bedrock is AWS Bedrock Runtime's wire format as the proxy needs
// it: the error answer its clients (boto3, the AWS SDKs, Claude Code)
// expect, its error codes.
package bedrock

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ErrorType is the code Bedrock Runtime gives an HTTP status in its
// x-amzn-ErrorType header, which the AWS SDKs raise as the exception's
// name (ValidationException, ThrottlingException, …).
func ErrorType(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return "ValidationException"
	case http.StatusUnauthorized, http.StatusForbidden:
		return "AccessDeniedException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusRequestTimeout:
		return "ModelTimeoutException"
	case http.StatusTooManyRequests:
		return "ThrottlingException"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableException"
	}
	if status >= 400 && status < 500 {
		return "ValidationException"
	}
	return "InternalServerException"
}

// WriteError answers with an error as Bedrock Runtime does: the code in
// x-amzn-ErrorType, {"message": …} as the body.
func WriteError(w http.ResponseWriter, status int, message string) {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message}) // a struct of one string: cannot fail
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", ErrorType(status))
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
