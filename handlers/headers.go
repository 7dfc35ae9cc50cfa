package handlers

import (
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixproxy/llmproxy/ids"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/spans"
)

// hopHeaders are the hop-by-hop headers (RFC 9110 7.6.1) that a proxy must
// not forward, as in net/http/httputil.
var hopHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// copyHeader copies src to dst without hop-by-hop headers and without those
// that src's Connection header names. With share, dst takes src's value
// slices rather than copies: for an upstream's answer, which nothing
// changes once it is relayed (Set and Del on dst replace or drop a slice,
// they never write into one).
func copyHeader(dst, src http.Header, share bool) {
	var named []string
	for _, v := range src["Connection"] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				named = append(named, http.CanonicalHeaderKey(f))
			}
		}
	}
outer:
	for k, vv := range src {
		for _, h := range hopHeaders {
			if k == h {
				continue outer
			}
		}
		for _, h := range named {
			if k == h {
				continue outer
			}
		}
		if share {
			dst[k] = vv[:len(vv):len(vv)] // an Add on dst copies
		} else {
			dst[k] = append(dst[k][:0:0], vv...)
		}
	}
}

// isJSON reports whether a Content-Type names JSON (application/json or a
// +json type).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// tags reads the x-tags header: a comma-separated list.
func tags(h http.Header) []string {
	var out []string
	for _, name := range []string{"X-Tags", "X-Litellm-Tags"} {
		for _, t := range strings.Split(h.Get(name), ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// sessionID is the x-session-id header, or LiteLLM's x-litellm-session-id.
func sessionID(h http.Header) string {
	if s := h.Get("X-Session-Id"); s != "" {
		return s
	}
	return h.Get("X-Litellm-Session-Id")
}

// joinTrace is the context a call's span starts in: a child of the
// caller's span when the request carries a W3C traceparent, else in the
// trace LiteLLM's x-litellm-trace-id header or the body's trace_id names,
// else in a trace of its own.
func joinTrace(r *http.Request, bodyTraceID string) context.Context {
	ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	id := r.Header.Get("X-Litellm-Trace-Id")
	if id == "" {
		id = bodyTraceID
	}
	return export.WithTraceID(ctx, id)
}

// Version is the proxy's version, sent as x-litellm-version; main sets it
// from the build.
var Version = "dev"

// litellmHeaders adds the response headers LiteLLM's proxy sends, which
// clients and dashboards read, and a W3C traceresponse naming the call's
// span, so that any answer leads to its trace in Phoenix. The call id is on
// the span too (litellm.call_id). start is when the request came, sent when
// it went upstream.
func (h *Handler) litellmHeaders(hdr http.Header, call *spans.Call, t router.Target, plan *router.Plan, start, sent time.Time) {
	// The keys are written as http.CanonicalHeaderKey would make them:
	// Set would canonicalize each on every call.
	// The one-value lists share one array, each capped at its value (an
	// append to one copies it rather than write over the next): one
	// allocation where each list was one.
	vals := make([]string, 0, 6)
	one := func(v string) []string {
		vals = append(vals, v)
		return vals[len(vals)-1 : len(vals) : len(vals)]
	}
	id := ids.UUID()
	call.SetCallID(id)
	hdr["X-Litellm-Call-Id"] = one(id)
	if tr := call.TraceResponse(); tr != "" {
		hdr["Traceresponse"] = one(tr)
	}
	hdr["X-Litellm-Model-Api-Base"] = one(t.Provider.BaseURL)
	if t.ID != "" {
		hdr["X-Litellm-Model-Id"] = one(t.ID)
	}
	hdr["X-Litellm-Response-Duration-Ms"] = one(strconv.FormatFloat(float64(time.Since(start).Microseconds())/1000, 'f', 3, 64))
	hdr["X-Litellm-Overhead-Duration-Ms"] = one(strconv.FormatFloat(float64(sent.Sub(start).Microseconds())/1000, 'f', 3, 64))
	hdr["X-Litellm-Attempted-Retries"] = count(plan.Retries)
	hdr["X-Litellm-Attempted-Fallbacks"] = count(plan.Fallbacks)
	hdr["X-Litellm-Version"] = h.versionHeader
}

// zero is a header value shared by every answer (header values are not
// written to after they are set).
var zero = []string{"0"}

// count is a header value for n, shared when n is 0.
func count(n int) []string {
	if n == 0 {
		return zero
	}
	return []string{strconv.Itoa(n)}
}
