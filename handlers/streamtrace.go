package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
)

// maxTracedEvent is the largest stream event traced: a larger one is
// relayed as it comes and held nowhere (an export could not carry it
// anyway: Phoenix takes at most 4 MiB a request).
const maxTracedEvent = 4 << 20

// relayStream relays a stream through relay, the response's headers
// already set, and traces it as it passes; the one stream tracer of the
// model path. It reports whether the call succeeded.
func (h *Handler) relayStream(w http.ResponseWriter, r *http.Request, upCtx context.Context, cancel context.CancelCauseFunc,
	resp *http.Response, call *spans.Call, relay *stream.Relay) bool {
	h.metrics.StreamStarted()
	defer h.metrics.StreamEnded()
	w.WriteHeader(resp.StatusCode)
	flush := func() {}
	if f, ok := w.(http.Flusher); ok {
		flush = f.Flush
	}
	flush() // the headers go out now, not with the first event
	var src io.Reader = resp.Body
	if h.streamIdleTimeout > 0 {
		idle := time.AfterFunc(h.streamIdleTimeout, func() { cancel(errIdleTimeout) })
		defer idle.Stop()
		src = &idleReader{r: resp.Body, timer: idle, d: h.streamIdleTimeout}
	}
	err := relay.Copy(w, flush, src)
	return h.endStream(r, upCtx, cancel, call, relay, resp.StatusCode, err)
}

// endStream records how a traced stream ended, relayed by the model path
// or by the forwarder: what passed, and whether it was the whole answer.
// err is the relay's (nil: the upstream ended the stream; else wrapping
// stream.ErrRead or stream.ErrWrite). It reports whether the call
// succeeded; a stream the upstream broke is aborted, so that the client
// sees it break rather than end.
func (h *Handler) endStream(r *http.Request, upCtx context.Context, cancel context.CancelCauseFunc,
	call *spans.Call, relay *stream.Relay, status int, err error) bool {
	_ = call.Response(relay.Acc.Result()) // always an object
	if relay.CutEvents > 0 {
		call.TracingCut(fmt.Sprintf("%d stream events over %d bytes (%d bytes in all) were relayed but not traced", relay.CutEvents, maxTracedEvent, relay.CutBytes))
	}
	switch {
	case err == nil && status >= 400:
		call.UpstreamError(status, []byte(relay.Acc.Err()))
		return false
	case err == nil && relay.FramerErr() != nil:
		call.Fail(failStream, relay.FramerErr())
		return false
	case err == nil && relay.Acc.Err() != "":
		call.Fail(failStream, fmt.Errorf("error event in stream: %s", relay.Acc.Err()))
		return false
	case err == nil && relay.Truncated():
		call.Fail(failStream, errors.New("stream ended inside an event"))
		return false
	case err == nil && !relay.Done():
		call.Fail(failStream, errors.New("stream ended before its last event"))
		return false
	case err == nil:
		return true
	case relay.Done() && !errors.Is(err, stream.ErrWrite):
		// The client got [DONE] and left, as SDKs do at once (the Python
		// SDK closes the response on [DONE]): the answer was complete, and
		// the upstream's EOF that the proxy did not wait for is no failure.
		return true
	case errors.Is(err, stream.ErrWrite) || r.Context().Err() != nil:
		// The client left: stop the upstream now, not at its next write.
		// Not an error of the call: its span keeps what passed, unset.
		cancel(errClientGone)
		call.ClientLeft()
		h.log.Info("client left a stream", "method", r.Method, "path", r.URL.Path, "model", call.Model())
		return false
	}
	_, kind, cause := classify(r.Context(), upCtx, err)
	if kind == failUpstream {
		kind = failStream
	}
	call.Fail(kind, cause)
	h.logFailure(r, call.Model(), kind, cause)
	panic(http.ErrAbortHandler) // the client must see the stream break, not end
}

// idleReader restarts the idle timer after every read.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	i.timer.Reset(i.d)
	return n, err
}
