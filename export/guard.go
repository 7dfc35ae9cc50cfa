package export

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// DefaultMaxExportBytes is the gRPC default limit on a received message,
// which Phoenix's OTLP gRPC server keeps (phoenix/server/grpc_server.py sets
// no max_receive_message_length): an export request above it is rejected
// whole, with every span in it.
const DefaultMaxExportBytes = 4 << 20

// exportOverhead is what an export request holds besides its spans'
// attributes and events (resource, scope, ids, times), per request and per
// span, counted generously.
const (
	requestOverhead = 16 << 10
	spanOverhead    = 256
)

// guardedExporter makes sure the collector accepts every export request,
// since one bad span gets a whole request, up to a batch of 512 spans,
// refused:
//   - every string is valid UTF-8: protobuf will not encode anything else
//     (a client may well send a body with an invalid byte);
//   - no request is over the collector's size limit: a batch is split into
//     requests that fit, and a span too large alone (a long conversation,
//     many embedding vectors) is trimmed.
//
// It runs in the BatchSpanProcessor's goroutine, off the request path.
type guardedExporter struct {
	sdktrace.SpanExporter
	maxBytes int
}

var _ sdktrace.SpanExporter = (*guardedExporter)(nil)

// ExportSpans exports spans in as many requests as the size limit needs.
// It blocks until all are sent or ctx ends, as the SDK expects. Each span
// is inspected once: an exporter that takes the size along (the span
// buffer) gets it with the spans.
func (e *guardedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	budget := e.maxBytes - requestOverhead
	next, sized := e.SpanExporter.(sizedExporter)
	send := func(batch []sdktrace.ReadOnlySpan, size int) error {
		if sized {
			return next.exportSized(ctx, batch, size)
		}
		return e.SpanExporter.ExportSpans(ctx, batch)
	}
	var errs []error
	start, size := 0, 0
	for i := range spans {
		n, valid := inspectSpan(spans[i])
		if !valid || n > budget {
			spans[i] = repairSpan(spans[i], n, budget)
			n, _ = inspectSpan(spans[i])
		}
		if size+n > budget && i > start {
			if err := send(spans[start:i], size); err != nil {
				errs = append(errs, err)
			}
			start, size = i, 0
		}
		size += n
	}
	if start < len(spans) {
		if err := send(spans[start:], size); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sizedExporter takes spans with their size as inspectSpan estimates it,
// so that they need not be inspected again.
type sizedExporter interface {
	exportSized(ctx context.Context, spans []sdktrace.ReadOnlySpan, size int) error
}

// inspectSpan estimates a span's encoded size from above (every attribute's
// key and value plus a few bytes of framing each) and reports whether all
// its strings are valid UTF-8.
func inspectSpan(s sdktrace.ReadOnlySpan) (size int, valid bool) {
	size = spanOverhead + len(s.Name()) + len(s.Status().Description)
	valid = utf8.ValidString(s.Name()) && utf8.ValidString(s.Status().Description)
	for _, kv := range s.Attributes() {
		size += attrSize(kv)
		valid = valid && validAttr(kv)
	}
	for _, ev := range s.Events() {
		size += 32 + len(ev.Name)
		valid = valid && utf8.ValidString(ev.Name)
		for _, kv := range ev.Attributes {
			size += attrSize(kv)
			valid = valid && validAttr(kv)
		}
	}
	return size, valid
}

func validAttr(kv attribute.KeyValue) bool {
	switch kv.Value.Type() {
	case attribute.STRING:
		return utf8.ValidString(kv.Value.AsString()) && utf8.ValidString(string(kv.Key))
	case attribute.STRINGSLICE:
		for _, s := range kv.Value.AsStringSlice() {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return utf8.ValidString(string(kv.Key))
}

func isList(t attribute.Type) bool {
	return t == attribute.FLOAT64SLICE || t == attribute.STRINGSLICE || t == attribute.INT64SLICE || t == attribute.BOOLSLICE
}

func isString(t attribute.Type) bool { return t == attribute.STRING }

// cut shortens an attribute by at least excess bytes: a string keeps its
// start, cut between characters; a list goes. Either says it was cut.
func cut(kv attribute.KeyValue, excess, budget int) attribute.KeyValue {
	if kv.Value.Type() != attribute.STRING {
		return attribute.String(string(kv.Key), "[cut by llmproxy: over the export size limit]")
	}
	v := kv.Value.AsString()
	keep := len(v) - excess - 128
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(v[keep]) {
		keep-- // cut between characters
	}
	return attribute.String(string(kv.Key), fmt.Sprintf("%s…[cut by llmproxy: %d of %d bytes kept, the span was over the %d-byte export limit]", v[:keep], keep, len(v), budget))
}

// valid replaces each invalid UTF-8 sequence by U+FFFD.
func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func validKV(kv attribute.KeyValue) attribute.KeyValue {
	key := attribute.Key(valid(string(kv.Key)))
	switch kv.Value.Type() {
	case attribute.STRING:
		return key.String(valid(kv.Value.AsString()))
	case attribute.STRINGSLICE:
		ss := kv.Value.AsStringSlice()
		for i := range ss {
			ss[i] = valid(ss[i])
		}
		return key.StringSlice(ss)
	}
	return attribute.KeyValue{Key: key, Value: kv.Value}
}

func attrSize(kv attribute.KeyValue) int {
	const framing = 8
	n := framing + len(kv.Key)
	switch kv.Value.Type() {
	case attribute.STRING:
		n += len(kv.Value.AsString())
	case attribute.STRINGSLICE:
		for _, s := range kv.Value.AsStringSlice() {
			n += framing + len(s)
		}
	case attribute.FLOAT64SLICE:
		n += len(kv.Value.AsFloat64Slice()) * (framing + 8)
	case attribute.INT64SLICE:
		n += len(kv.Value.AsInt64Slice()) * (framing + 8)
	case attribute.BOOLSLICE:
		n += len(kv.Value.AsBoolSlice()) * (framing + 1)
	default:
		n += 8
	}
	return n
}

// repairSpan returns a copy of a span with its strings made valid UTF-8 and,
// if it is over budget, its largest attribute values cut, largest first
// (long strings keep their start; vectors go), until it fits. What Phoenix
// then shows is marked as cut. (tracetest's SpanStub is the SDK's one way
// to make a ReadOnlySpan.)
func repairSpan(s sdktrace.ReadOnlySpan, size, budget int) sdktrace.ReadOnlySpan {
	stub := tracetest.SpanStubFromReadOnlySpan(s)
	stub.Name = valid(stub.Name)
	stub.Status.Description = valid(stub.Status.Description)
	for i := range stub.Events {
		stub.Events[i].Name = valid(stub.Events[i].Name)
		evAttrs := make([]attribute.KeyValue, len(stub.Events[i].Attributes))
		for j, kv := range stub.Events[i].Attributes {
			evAttrs[j] = validKV(kv)
		}
		stub.Events[i].Attributes = evAttrs
	}
	// An error answer is in the status description as well as in the
	// exception event: the description, a summary, keeps its first KiB.
	const keepDescription = 1 << 10
	if d := stub.Status.Description; size > budget && len(d) > keepDescription {
		stub.Status.Description = cut(attribute.String("", d), len(d)-keepDescription, budget).Value.AsString()
		size -= len(d) - len(stub.Status.Description)
	}
	attrs := make([]attribute.KeyValue, len(stub.Attributes))
	for i, kv := range stub.Attributes {
		attrs[i] = validKV(kv)
	}
	size = cutLargest(attrs, size, budget)
	stub.Attributes = attrs
	for i := range stub.Events {
		size = cutLargest(stub.Events[i].Attributes, size, budget)
	}
	return stub.Snapshot()
}

// cutLargest cuts values of attrs, in place, until size is within budget:
// lists (embedding vectors) go first, largest first; then strings are cut,
// largest first, so a reader loses the least. It returns the new size.
func cutLargest(attrs []attribute.KeyValue, size, budget int) int {
	if size <= budget {
		return size
	}
	order := make([]int, len(attrs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return attrSize(attrs[order[a]]) > attrSize(attrs[order[b]]) })
	for _, pass := range []func(attribute.Type) bool{isList, isString} {
		for _, i := range order {
			if size <= budget {
				return size
			}
			kv := attrs[i]
			if !pass(kv.Value.Type()) {
				continue
			}
			before := attrSize(kv)
			attrs[i] = cut(kv, size-budget, budget)
			size -= before - attrSize(attrs[i])
		}
	}
	return size
}
