package spans

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// keyProject carries a call's Phoenix project from the recorder to the
// exporter, which turns it into the span's resource and takes it off.
const keyProject = "llmproxy.internal.project"

// DefaultMaxProjects bounds the Phoenix projects calls may name.
const DefaultMaxProjects = 50

// projects admits the Phoenix projects calls name, up to a bound: each
// costs a resource for the life of the process.
type projects struct {
	mu    sync.Mutex
	names map[string]struct{}
	max   int
}

// admit reports whether spans may go to the project: one already in use,
// or a new one while there is room.
func (p *projects) admit(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.names[name]; ok {
		return true
	}
	if len(p.names) >= p.max {
		return false
	}
	if p.names == nil {
		p.names = map[string]struct{}{}
	}
	p.names[name] = struct{}{}
	return true
}

// projectExporter gives each span that names a project the resource of
// that project (Phoenix files a span under its resource's
// openinference.project.name): one resource per project, made on first
// use. Spans of every project share the batch processor, the buffer and the
// exporter of the default one, so they are exported alike, in the
// background.
type projectExporter struct {
	sdktrace.SpanExporter
	serviceName string
	mu          sync.Mutex
	resources   map[string]*resource.Resource
}

func (e *projectExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	for i, s := range spans {
		attrs := s.Attributes()
		for j, kv := range attrs {
			if kv.Key != keyProject {
				continue
			}
			rest := make([]attribute.KeyValue, 0, len(attrs)-1)
			rest = append(append(rest, attrs[:j]...), attrs[j+1:]...)
			spans[i] = projectSpan{ReadOnlySpan: s, res: e.resource(kv.Value.AsString()), attrs: rest}
			break
		}
	}
	return e.SpanExporter.ExportSpans(ctx, spans)
}

func (e *projectExporter) resource(project string) *resource.Resource {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.resources[project]
	if !ok {
		if e.resources == nil {
			e.resources = map[string]*resource.Resource{}
		}
		r = NewResource(e.serviceName, project)
		e.resources[project] = r
	}
	return r
}

// projectSpan is a span with another project's resource, without the
// attribute that named it.
type projectSpan struct {
	sdktrace.ReadOnlySpan
	res   *resource.Resource
	attrs []attribute.KeyValue
}

func (s projectSpan) Resource() *resource.Resource     { return s.res }
func (s projectSpan) Attributes() []attribute.KeyValue { return s.attrs }
