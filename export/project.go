package export

import (
	"context"
	"sync"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultMaxProjects bounds the Phoenix projects calls may name.
const DefaultMaxProjects = 50

// projects are the tracer providers of the Phoenix projects calls name
// (Phoenix files a span under its resource's openinference.project.name,
// and a resource is a tracer provider's). Each shares the default
// provider's span processor, so spans of every project are batched,
// buffered and exported alike, in the background; only the resource
// differs. Each costs a provider for the life of the process, so their
// number is bounded.
type projects struct {
	serviceName string
	processor   sdktrace.SpanProcessor // shared; owned by the default provider
	options     []sdktrace.TracerProviderOption
	max         int

	mu        sync.Mutex
	providers map[string]*sdktrace.TracerProvider
}

// provider is the tracer provider of a project: one already in use, or a
// new one while there is room; false beyond the bound.
func (p *projects) provider(name string) (trace.TracerProvider, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tp, ok := p.providers[name]; ok {
		return tp, true
	}
	if len(p.providers) >= p.max {
		return nil, false
	}
	if p.providers == nil {
		p.providers = map[string]*sdktrace.TracerProvider{}
	}
	// The processor is registered through a wrapper that ignores Shutdown:
	// the default provider shuts it down, once. These providers are never
	// shut down themselves.
	opts := append([]sdktrace.TracerProviderOption{
		sdktrace.WithResource(NewResource(p.serviceName, name)),
		sdktrace.WithSpanProcessor(shared{p.processor}),
	}, p.options...)
	tp := sdktrace.NewTracerProvider(opts...)
	p.providers[name] = tp
	return tp, true
}

// shared is a span processor registered with more than one provider: only
// its owner shuts it down or flushes it.
type shared struct{ sdktrace.SpanProcessor }

func (shared) Shutdown(context.Context) error   { return nil }
func (shared) ForceFlush(context.Context) error { return nil }
