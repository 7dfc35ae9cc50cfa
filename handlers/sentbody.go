package handlers

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
)

// sentBodies counts the request bodies of a call's attempts that the
// transport has not closed yet. Until it closes one it may still be reading
// it, even after its RoundTrip has returned (an upstream that answers before
// it has read the whole request: http.RoundTripper's contract). So the
// buffer under the body is not pooled again while one is open: a reused
// buffer would send the rest of another call's request upstream.
type sentBodies struct{ open atomic.Int32 }

// closed reports whether the transport has closed every body it was given.
func (s *sentBodies) closed() bool { return s.open.Load() == 0 }

// attach gives out b as its body, with a GetBody for the transport's own
// retries, each body counted until the transport closes it.
func (s *sentBodies) attach(out *http.Request, b []byte) {
	out.ContentLength = int64(len(b))
	if len(b) == 0 {
		out.Body, out.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	out.Body = s.body(b)
	out.GetBody = func() (io.ReadCloser, error) { return s.body(b), nil }
}

func (s *sentBodies) body(b []byte) *sentBody {
	s.open.Add(1)
	sb := &sentBody{owner: s}
	sb.Reset(b)
	return sb
}

// sentBody is one request body: its Close, the first, tells its owner the
// transport is done with it.
type sentBody struct {
	bytes.Reader
	owner  *sentBodies
	closed atomic.Bool
}

func (b *sentBody) Close() error {
	if b.closed.CompareAndSwap(false, true) {
		b.owner.open.Add(-1)
	}
	return nil
}
