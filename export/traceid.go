package export

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// traceIDKey carries the trace a call asked to join (LiteLLM's trace_id).
type traceIDKey struct{}

// WithTraceID returns ctx asking that the span started in it, if it has no
// parent, belong to the trace named by id: LiteLLM's trace_id (metadata's
// trace_id or existing_trace_id, the x-litellm-trace-id header), which
// groups calls into one trace. An id of 32 hex digits (a UUID too, its
// dashes aside) is the trace id itself; any other string is hashed to one,
// so the same string always names the same trace.
func WithTraceID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, traceIDKey{}, traceIDFrom(id))
}

func traceIDFrom(id string) trace.TraceID {
	var t trace.TraceID
	if h := strings.ReplaceAll(id, "-", ""); len(h) == 32 {
		if _, err := hex.Decode(t[:], []byte(h)); err == nil && t.IsValid() {
			return t
		}
	}
	sum := sha256.Sum256([]byte(id))
	copy(t[:], sum[:16])
	return t
}

// idGenerator makes random ids, but a root span's trace id is the one its
// context asks for (WithTraceID).
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	t, ok := ctx.Value(traceIDKey{}).(trace.TraceID)
	if !ok {
		t = randomTraceID()
	}
	return t, randomSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return randomSpanID() }

func randomTraceID() trace.TraceID {
	var t trace.TraceID
	for !t.IsValid() {
		binary.LittleEndian.PutUint64(t[:8], rand.Uint64())
		binary.LittleEndian.PutUint64(t[8:], rand.Uint64())
	}
	return t
}

func randomSpanID() trace.SpanID {
	var s trace.SpanID
	for !s.IsValid() {
		binary.LittleEndian.PutUint64(s[:], rand.Uint64())
	}
	return s
}
