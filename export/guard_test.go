package export

import (
	"context"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/phoenixproxy/llmproxy/spans"
)

// batches records the batches it is given.
type batches struct {
	mu  sync.Mutex
	got [][]sdktrace.ReadOnlySpan
}

func (b *batches) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, append([]sdktrace.ReadOnlySpan(nil), s...))
	return nil
}
func (b *batches) Shutdown(context.Context) error { return nil }

func stubSpan(attrs ...attribute.KeyValue) sdktrace.ReadOnlySpan {
	return tracetest.SpanStub{Name: "ChatCompletion", Attributes: attrs}.Snapshot()
}

func TestGuardSplitsBatchesUnderTheLimit(t *testing.T) {
	const limit = 64 << 10
	rec := &batches{}
	g := &guardedExporter{SpanExporter: rec, maxBytes: limit + requestOverhead}
	var in []sdktrace.ReadOnlySpan
	for i := 0; i < 10; i++ {
		in = append(in, stubSpan(attribute.String(spans.KeyInputValue, strings.Repeat("x", 20<<10))))
	}
	if err := g.ExportSpans(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range rec.got {
		size := 0
		for _, s := range b {
			n, _ := inspectSpan(s)
			size += n
		}
		if size > limit {
			t.Errorf("a request of %d bytes; limit %d", size, limit)
		}
		total += len(b)
	}
	if total != 10 || len(rec.got) < 4 {
		t.Errorf("%d spans in %d requests; want all 10, at most 3 a request", total, len(rec.got))
	}
}

func TestGuardTrimsASpanTooLargeAlone(t *testing.T) {
	const limit = 64 << 10
	rec := &batches{}
	g := &guardedExporter{SpanExporter: rec, maxBytes: limit + requestOverhead}
	big := strings.Repeat("é", 100<<10) // 200 KB of 2-byte characters
	vec := make([]float64, 10_000)
	in := []sdktrace.ReadOnlySpan{stubSpan(
		attribute.String(spans.KeyOutputValue, big),
		attribute.Float64Slice("embedding.embeddings.0.embedding.vector", vec),
		attribute.Int(spans.KeyTokenTotal, 7),
	)}
	if err := g.ExportSpans(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	s := rec.got[0][0]
	if n, valid := inspectSpan(s); n > limit || !valid {
		t.Errorf("trimmed span: %d bytes, valid UTF-8 %v; want at most %d, valid", n, valid, limit)
	}
	attrs := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		attrs[kv.Key] = kv.Value
	}
	out := attrs[spans.KeyOutputValue].AsString()
	if !strings.HasPrefix(out, "éé") || !strings.Contains(out, "cut by llmproxy") || !utf8.ValidString(out) {
		t.Errorf("output.value: %.80q…", out)
	}
	if attrs[spans.KeyTokenTotal].AsInt64() != 7 {
		t.Errorf("small attributes must stay")
	}
}

func TestGuardRepairsInvalidUTF8(t *testing.T) {
	rec := &batches{}
	g := &guardedExporter{SpanExporter: rec, maxBytes: DefaultMaxExportBytes}
	in := []sdktrace.ReadOnlySpan{stubSpan(
		attribute.String(spans.KeyInputValue, "a\xffb"),
		attribute.StringSlice(spans.KeyTagTags, []string{"ok", "\xc3"}),
	)}
	if err := g.ExportSpans(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	for _, kv := range rec.got[0][0].Attributes() {
		if !validAttr(kv) {
			t.Errorf("%s still invalid: %q", kv.Key, kv.Value.String())
		}
	}
	if got := rec.got[0][0].Attributes()[0].Value.AsString(); got != "a\uFFFDb" {
		t.Errorf("got %q; want a\\uFFFDb", got)
	}
}

// An error answer too large alone is in the status description and the
// exception event as well as the attributes: all of them are cut.
func TestGuardTrimsAnErrorSpanTooLargeAlone(t *testing.T) {
	const limit = 64 << 10
	rec := &batches{}
	g := &guardedExporter{SpanExporter: rec, maxBytes: limit + requestOverhead}
	msg := strings.Repeat("[", 200<<10)
	stub := tracetest.SpanStub{
		Name:       "ChatCompletion",
		Attributes: []attribute.KeyValue{attribute.String(spans.KeyInputValue, "{}")},
		Events: []sdktrace.Event{{Name: spans.EventException, Attributes: []attribute.KeyValue{
			attribute.String(spans.KeyExceptionType, "openai.InternalServerError"),
			attribute.String(spans.KeyExceptionMessage, msg),
		}}},
	}
	stub.Status.Description = "InternalServerError: " + msg
	if err := g.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{stub.Snapshot()}); err != nil {
		t.Fatal(err)
	}
	s := rec.got[0][0]
	if n, _ := inspectSpan(s); n > limit {
		t.Errorf("trimmed span: %d bytes; want at most %d", n, limit)
	}
	if d := s.Status().Description; !strings.HasPrefix(d, "InternalServerError: [[") {
		t.Errorf("status description lost its start: %.60q", d)
	}
	ev := s.Events()[0].Attributes
	if ev[0].Value.AsString() != "openai.InternalServerError" || !strings.Contains(ev[1].Value.AsString(), "cut by llmproxy") {
		t.Errorf("exception event: %.100v", ev)
	}
}
