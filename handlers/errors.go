package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// Failure kinds, as they appear in a span's exception event.
const (
	failTimeout    = "UpstreamTimeout"
	failIdle       = "StreamIdleTimeout"
	failUpstream   = "UpstreamConnectionError"
	failStream     = "UpstreamStreamError"
	failClientGone = "ClientDisconnected"
	failTracing    = "TracingError"
	// failCredentials: the proxy holds no credentials for the provider and
	// the client sent none it could pass (Bedrock without AWS keys).
	failCredentials = "MissingCredentials"
)

// statusClientClosed is nginx's 499: the client went away before the answer.
// Nobody reads it; it marks the access log.
const statusClientClosed = 499

var (
	errUpstreamTimeout = errors.New("upstream did not answer within the upstream timeout")
	errIdleTimeout     = errors.New("upstream stream was idle longer than the stream idle timeout")
	errClientGone      = errors.New("client disconnected")
)

// classify is the one place where a failure to get an answer from upstream
// becomes a status and a failure kind: our own timeouts are 504, a client
// that left is 499, anything else (refused, reset, DNS) is 502.
func classify(clientCtx, upstreamCtx context.Context, err error) (status int, kind string, cause error) {
	switch {
	case clientCtx.Err() != nil:
		return statusClientClosed, failClientGone, errClientGone
	case errors.Is(context.Cause(upstreamCtx), errUpstreamTimeout):
		return http.StatusGatewayTimeout, failTimeout, errUpstreamTimeout
	case errors.Is(context.Cause(upstreamCtx), errIdleTimeout):
		return http.StatusGatewayTimeout, failIdle, errIdleTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, failTimeout, withoutURLKey(err)
	case errors.Is(err, upstream.ErrNoAWSCredentials):
		return http.StatusUnauthorized, failCredentials, upstream.ErrNoAWSCredentials
	}
	return http.StatusBadGateway, failUpstream, withoutURLKey(err)
}

// withoutURLKey hides the key query parameter (Google's API key, which
// clients may send in the URL) of the URL a transport error names: the
// error reaches the span, the log and the client.
func withoutURLKey(err error) error {
	ue, ok := err.(*url.Error)
	if !ok {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "(unparsable URL)", Err: ue.Err}
	}
	q := u.Query()
	if !q.Has("key") {
		return err
	}
	q.Set("key", "REDACTED")
	u.RawQuery = q.Encode()
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}

// upstreamError is the client's answer when no upstream answer came.
func upstreamError(status int, cause error) *openai.Error {
	typ := openai.TypeProxy
	switch status {
	case http.StatusGatewayTimeout:
		typ = openai.TypeTimeout
	case http.StatusUnauthorized:
		// Nothing was sent: the cause says what would authorize the call.
		return &openai.Error{Status: status, Type: "auth_error", Message: cause.Error()}
	}
	return &openai.Error{Status: status, Type: typ,
		Message: fmt.Sprintf("Upstream request failed: %v", cause)}
}

// writeOpenAIError writes an error in OpenAI's (and LiteLLM's) envelope.
func writeOpenAIError(w http.ResponseWriter, e *openai.Error) { e.Write(w) }
