package handlers

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/phoenixproxy/llmproxy/stream"
)

// answer writes the answer of the attempt that answered and traces it:
// the provider's headers and LiteLLM's, then a stream event by event or a
// whole body as it arrives, each translated to the client's dialect when
// the provider speaks another. It reports whether the call succeeded.
func (c *modelCall) answer(resp *http.Response) bool {
	h, w := c.h, c.w
	copyHeader(w.Header(), resp.Header, true)
	h.litellmHeaders(w.Header(), c.span, c.target, &c.plan, c.start, c.firstOut)
	if resp.StatusCode < 400 {
		c.span.ResponseHeaders(resp.Header)
	}
	tr := c.prep.translator
	framing, streamed := c.spec.StreamFraming(resp.Header.Get("Content-Type"), resp.StatusCode, c.stream)
	if tr != nil {
		framing = tr.Framing()
		streamed = framing.Streams(resp.Header.Get("Content-Type"))
	}
	if streamed {
		stopTimer(c.timer) // from here on the idle timeout watches the stream
	}
	relay := &c.relay
	*relay = stream.Relay{Framing: framing, OnFirstToken: c.span.FirstToken, MaxEvent: maxTracedEvent}
	if c.spec.NewAccumulator != nil {
		relay.Acc = c.spec.NewAccumulator()
	}
	switch {
	case tr != nil && streamed && resp.StatusCode < 400:
		st := tr.Stream(&c.req, c.target.Model)
		relay.Rewrite = st
		relay.OnEnd = func() { st.End(func(data []byte) { _, _ = relay.Acc.Add(data) }) }
		w.Header().Del("Content-Length")
		w.Header().Del("Content-Encoding")
		if ct := st.ContentType(); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		return h.relayStream(w, c.r, c.upCtx, c.cancel, resp, c.span, relay)
	case tr != nil:
		return c.translatedBody(resp)
	case streamed:
		if c.prep.strip != nil {
			relay.Rewrite = c.prep.strip()
			w.Header().Del("Content-Length") // the client gets fewer bytes
		}
		return h.relayStream(w, c.r, c.upCtx, c.cancel, resp, c.span, relay)
	}
	w.WriteHeader(resp.StatusCode)
	return c.wholeBody(resp)
}

// wholeBody copies a whole (non-stream) answer to the client as it arrives,
// keeps a copy, and traces it. It reports whether the call succeeded.
func (c *modelCall) wholeBody(resp *http.Response) bool {
	h := c.h
	buf := getBuffer()
	defer putBuffer(buf)
	if resp.ContentLength > 0 && resp.ContentLength <= h.maxBodyBytes {
		buf.Grow(int(resp.ContentLength))
	}
	cp := stream.CopyBuffer()
	_, err := io.CopyBuffer(c.w, io.TeeReader(resp.Body, &cappedWriter{buf: buf, limit: h.maxBodyBytes}), *cp)
	stream.PutCopyBuffer(cp)
	if err != nil {
		_, kind, cause := classify(c.r.Context(), c.upCtx, err)
		cause = fmt.Errorf("after %d bytes of the answer: %w", buf.Len(), cause)
		c.span.Fail(kind, cause)
		h.logFailure(c.r, c.span.Model(), kind, cause)
		panic(http.ErrAbortHandler) // headers are out: only aborting tells the client
	}
	// The answer leaves now; tracing it is no reason to hold it back.
	if f, ok := c.w.(http.Flusher); ok {
		f.Flush()
	}
	// A body the proxy could not read whole, or one encoded against its
	// request, is relayed but not traced as output.
	readable := resp.Header.Get("Content-Encoding") == "" && int64(buf.Len()) <= h.maxBodyBytes
	if resp.StatusCode >= 400 {
		c.span.UpstreamError(resp.StatusCode, buf.Bytes())
		return false
	}
	if readable {
		return c.traceResponse(buf.Bytes())
	}
	return true
}

// translatedBody answers with the provider's whole answer in the client's
// dialect, once read. The span records the call as the client saw it.
func (c *modelCall) translatedBody(resp *http.Response) bool {
	h, w := c.h, c.w
	w.Header().Del("Content-Length")
	w.Header().Del("Content-Encoding")
	buf := getBuffer()
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, h.maxBodyBytes)); err != nil {
		status, kind, cause := classify(c.r.Context(), c.upCtx, err)
		c.span.Fail(kind, cause)
		h.logFailure(c.r, c.span.Model(), kind, cause)
		c.spec.WriteError(w, upstreamError(status, cause))
		return false
	}
	body, err := c.prep.translator.Answer(resp.StatusCode, buf.Bytes(), c.target.Model)
	if err != nil {
		cause := fmt.Errorf("translating %s's answer: %w", c.target.Provider.Host, err)
		c.span.Fail(failTracing, cause)
		h.logFailure(c.r, c.span.Model(), failTracing, cause)
		c.spec.WriteError(w, upstreamError(http.StatusBadGateway, cause))
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, bytes.NewReader(body))
	if resp.StatusCode >= 400 {
		c.span.UpstreamError(resp.StatusCode, body)
		return false
	}
	return c.traceResponse(body)
}

// traceResponse records a whole answer on the span. An answer the span
// cannot show (relayed as it came all the same) fails the call's tracing.
func (c *modelCall) traceResponse(body []byte) bool {
	if err := c.span.Response(body); err != nil {
		c.span.Fail(failTracing, err)
		c.h.logFailure(c.r, c.span.Model(), failTracing, err)
		return false
	}
	return true
}

// cappedWriter keeps at most limit+1 bytes: enough to know a body was too
// large to trace, without holding it.
type cappedWriter struct {
	buf   *bytes.Buffer
	limit int64
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if room := c.limit + 1 - int64(c.buf.Len()); room > 0 {
		if int64(len(p)) > room {
			c.buf.Write(p[:room])
		} else {
			c.buf.Write(p)
		}
	}
	return len(p), nil
}
