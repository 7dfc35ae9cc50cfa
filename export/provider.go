// Package export is how spans leave the process: an OpenTelemetry SDK
// TracerProvider whose BatchSpanProcessor hands them, in groups
// (coalesce.go), to an export guard that keeps every request within the
// collector's size limit and encoding (guard.go), a buffer that keeps them
// through collector outages, in memory or in a spool on disk that outlives
// the process (buffer.go), and the OTLP client, over gRPC or HTTP, on a
// connection it replaces when an attempt hangs (link.go); a tracer provider per Phoenix project a call names,
// sharing that pipeline (project.go); and the trace id a call asks for
// (traceid.go). Nothing here blocks a request.
package export

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/spool"
)

// Config says where spans go and how they are batched. The zero value of a
// duration or size means the OpenTelemetry SDK's default.
type Config struct {
	// Endpoint is the collector: OTLP gRPC (http://localhost:4317; http
	// means plaintext, https TLS) or OTLP/HTTP (a URL ending in /v1/traces,
	// such as Phoenix Cloud's https://app.phoenix.arize.com/s/<space>/v1/traces),
	// told apart as phoenix.otel.register tells them (see collectorTarget).
	Endpoint string
	// Protocol, when set, overrides that choice: "grpc" or "http/protobuf"
	// (OTEL_EXPORTER_OTLP_PROTOCOL).
	Protocol string
	// ProjectName is the Phoenix project (resource openinference.project.name).
	ProjectName string
	// ServiceName is the resource service.name.
	ServiceName string
	// Headers go with every export (Phoenix API key, client headers).
	Headers map[string]string

	BatchTimeout       time.Duration // OTEL_BSP_SCHEDULE_DELAY
	ExportTimeout      time.Duration // OTEL_BSP_EXPORT_TIMEOUT
	MaxQueueSize       int           // OTEL_BSP_MAX_QUEUE_SIZE
	MaxExportBatchSize int           // OTEL_BSP_MAX_EXPORT_BATCH_SIZE

	// MaxExportBytes bounds one export request: batches are split, and a
	// span too large alone is trimmed, to stay under it. 0 means
	// DefaultMaxExportBytes, Phoenix's limit.
	MaxExportBytes int

	// BufferBytes is the memory budget of the spans kept while the
	// collector does not take them; 0 means DefaultBufferBytes.
	BufferBytes int
	// AttemptTimeout cuts one export attempt (then retried); 0 means 10 s.
	AttemptTimeout time.Duration

	// SpoolDir, when set, keeps the spans the collector has not taken in
	// a spool on disk there instead of in memory (package spool), so that
	// they outlive the process; spans an earlier process left there are
	// sent first. SpoolBytes is its budget (0: spool.DefaultMaxBytes) and
	// SpoolFsyncInterval the longest a span waits to be synced to the disk
	// (0: spool.DefaultFsyncInterval); the batch timeout is kept within
	// it. A directory that cannot be used leaves the spans in memory.
	SpoolDir           string
	SpoolBytes         int64
	SpoolFsyncInterval time.Duration

	// MaxProjects bounds the Phoenix projects calls may name besides
	// ProjectName (each costs a resource for the life of the process); 0
	// means DefaultMaxProjects.
	MaxProjects int

	// Disabled turns tracing off (OTEL_SDK_DISABLED): a no-op tracer.
	Disabled bool
}

// Provider is what the proxy needs of a tracer provider: a Tracer to start
// spans and a Shutdown that flushes what is queued.
type Provider struct {
	trace.TracerProvider
	shutdown   func(context.Context) error
	forceFlush func(context.Context) error
	buffer     *spanBuffer
	projects   *projects
}

// ForProject is the tracer provider of spans that go to the Phoenix
// project name rather than the default one, sharing the default's
// pipeline; false when calls have named as many projects as allowed (the
// span then stays in the default project). With tracing off it is the
// no-op provider.
func (p *Provider) ForProject(name string) (trace.TracerProvider, bool) {
	if p.projects == nil {
		return p.TracerProvider, true
	}
	return p.projects.provider(name)
}

// ForceFlush exports every span that has ended, blocking until the
// collector has them or ctx ends.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p.forceFlush == nil {
		return nil
	}
	if err := p.forceFlush(ctx); err != nil {
		return err
	}
	return p.buffer.Flush(ctx)
}

// BufferStats are the counts of the spans sent, dropped and held; zero when
// tracing is off.
func (p *Provider) BufferStats() BufferStats {
	if p.buffer == nil {
		return BufferStats{}
	}
	return p.buffer.Stats()
}

// Shutdown flushes queued spans and stops the exporter. It blocks until done
// or until ctx ends.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.shutdown == nil {
		return nil
	}
	return p.shutdown(ctx)
}

// NewProvider builds the TracerProvider: the SDK's BatchSpanProcessor, then
// the export guard (size and encoding), the span buffer (which keeps spans
// through a collector outage, in memory or in the spool, see spanBuffer),
// and the SDK's OTLP client, over gRPC or HTTP (link.go),
// with no limit on the number of attributes per span (the SDK's default of
// 128 cuts long conversations short). It does not wait for the collector:
// gRPC connects lazily, and a dead collector never slows a request.
func NewProvider(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.Disabled {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	target, err := collectorTarget(cfg.Endpoint, cfg.Protocol)
	if err != nil {
		return nil, err
	}
	attempt := cfg.AttemptTimeout
	if attempt <= 0 {
		attempt = 10 * time.Second
	}
	link, err := newLink(ctx, target, cfg.Headers, attempt)
	if err != nil {
		return nil, err
	}

	var bspOpts []sdktrace.BatchSpanProcessorOption
	batchTimeout := cfg.BatchTimeout
	sp, spoolErr := openSpool(cfg)
	if sp != nil {
		// The processor's queue is memory: a process killed loses what it
		// holds. With a spool, it holds spans no longer than a span waits
		// for the disk.
		fsync := cfg.SpoolFsyncInterval
		if fsync <= 0 {
			fsync = spool.DefaultFsyncInterval
		}
		if batchTimeout <= 0 || batchTimeout > fsync {
			batchTimeout = fsync
		}
	}
	if batchTimeout > 0 {
		bspOpts = append(bspOpts, sdktrace.WithBatchTimeout(batchTimeout))
	}
	if cfg.ExportTimeout > 0 {
		bspOpts = append(bspOpts, sdktrace.WithExportTimeout(cfg.ExportTimeout))
	}
	queue, batch := sdktrace.DefaultMaxQueueSize, sdktrace.DefaultMaxExportBatchSize
	if cfg.MaxQueueSize > 0 {
		queue = cfg.MaxQueueSize
		bspOpts = append(bspOpts, sdktrace.WithMaxQueueSize(queue))
	}
	if cfg.MaxExportBatchSize > 0 {
		batch = cfg.MaxExportBatchSize
	}
	if batch > queue {
		// As the SDK caps its environment's: a batch the queue could
		// never hold at once.
		batch = min(sdktrace.DefaultMaxExportBatchSize, queue)
	}
	bspOpts = append(bspOpts, sdktrace.WithMaxExportBatchSize(batch))

	maxBytes := cfg.MaxExportBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxExportBytes
	}
	budget := cfg.BufferBytes
	if budget <= 0 {
		budget = DefaultBufferBytes
	}
	buffer := newSpanBuffer(link, budget, attempt, sp)
	if spoolErr != nil {
		buffer.spoolErrors.Add(1)
		buffer.spoolFailing.Store(true)
		otel.Handle(fmt.Errorf("span spool: %w; keeping spans in memory (SPAN_BUFFER_BYTES) instead", spoolErr))
	}
	guarded := &guardedExporter{SpanExporter: buffer, maxBytes: maxBytes}
	processor := newCoalescer(sdktrace.NewBatchSpanProcessor(guarded, bspOpts...), maxBytes, batch)
	common := []sdktrace.TracerProviderOption{sdktrace.WithRawSpanLimits(Limits()), sdktrace.WithIDGenerator(idGenerator{})}

	tp := sdktrace.NewTracerProvider(append([]sdktrace.TracerProviderOption{
		sdktrace.WithResource(NewResource(cfg.ServiceName, cfg.ProjectName)),
		sdktrace.WithSpanProcessor(processor),
	}, common...)...)
	maxProjects := cfg.MaxProjects
	if maxProjects <= 0 {
		maxProjects = DefaultMaxProjects
	}
	ps := &projects{serviceName: cfg.ServiceName, processor: processor, options: common, max: maxProjects}
	return &Provider{TracerProvider: tp, shutdown: tp.Shutdown, forceFlush: tp.ForceFlush, buffer: buffer, projects: ps}, nil
}

// openSpool opens the spool the configuration asks for: nil, nil when it
// asks for none.
func openSpool(cfg Config) (*spool.Spool, error) {
	if cfg.SpoolDir == "" {
		return nil, nil
	}
	return spool.Open(cfg.SpoolDir, spool.Options{MaxBytes: cfg.SpoolBytes, FsyncInterval: cfg.SpoolFsyncInterval})
}

// NewResource is the resource every span carries: the service name and the
// Phoenix project.
func NewResource(serviceName, projectName string) *resource.Resource {
	return resource.NewSchemaless(
		attribute.String("service.name", serviceName),
		attribute.String(spans.KeyProjectName, projectName),
	)
}

// Limits are the SDK's span limits without the cap on the attribute count:
// a 200-message conversation has well over 128 attributes, and Phoenix keeps
// them all. Attribute values are not truncated either, as in the Python SDK.
func Limits() sdktrace.SpanLimits {
	l := sdktrace.NewSpanLimits()
	l.AttributeCountLimit = -1
	l.AttributeValueLengthLimit = -1
	return l
}

// collector is where spans go, and how.
type collector struct {
	url  string // for the exporter: http(s)://host:port for gRPC, the full URL for HTTP
	http bool   // OTLP/HTTP (protobuf), else gRPC
}

// collectorTarget reads what Phoenix users write, and chooses the transport
// as phoenix.otel.register does: a protocol given wins; grpc:// or port
// 4317 means gRPC; a path, port 6006 (Phoenix's HTTP port) or no port at
// all (a hosted Phoenix, as Phoenix Cloud) means OTLP/HTTP, at /v1/traces
// under the path given. A bare host:port means plaintext. gRPC cannot
// address a path: Phoenix Cloud's spaces (…/s/<space>/v1/traces) need HTTP.
func collectorTarget(endpoint, protocol string) (collector, error) {
	if endpoint == "" {
		return collector{}, fmt.Errorf("collector endpoint is empty")
	}
	s := endpoint
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return collector{}, fmt.Errorf("collector endpoint %q: %w", endpoint, err)
	}
	if u.Host == "" {
		return collector{}, fmt.Errorf("collector endpoint %q has no host", endpoint)
	}
	grpcScheme := u.Scheme == "grpc" || u.Scheme == "grpcs"
	switch u.Scheme {
	case "http", "https":
	case "grpc":
		u.Scheme = "http"
	case "grpcs":
		u.Scheme = "https"
	default:
		return collector{}, fmt.Errorf("collector endpoint %q: scheme must be http, https, grpc or grpcs", endpoint)
	}
	path := strings.TrimSuffix(u.Path, "/")
	var useHTTP bool
	switch protocol {
	case "grpc":
		useHTTP = false
	case "http/protobuf":
		useHTTP = true
	case "":
		useHTTP = !grpcScheme && u.Port() != "4317" && (path != "" || u.Port() == "6006" || u.Port() == "")
	default:
		return collector{}, fmt.Errorf("OTLP protocol %q: want grpc or http/protobuf", protocol)
	}
	if !useHTTP {
		if path != "" {
			return collector{}, fmt.Errorf("collector endpoint %q: gRPC cannot address a path (use OTLP/HTTP, a URL ending in /v1/traces)", endpoint)
		}
		return collector{url: u.Scheme + "://" + u.Host}, nil
	}
	if !strings.HasSuffix(path, "/v1/traces") {
		path += "/v1/traces"
	}
	u.Path, u.RawPath = path, ""
	return collector{url: u.String(), http: true}, nil
}

// ParseHeaders reads PHOENIX_CLIENT_HEADERS: "k=v,k2=v2", values URL-encoded
// as in OTEL_EXPORTER_OTLP_HEADERS.
func ParseHeaders(s string) (map[string]string, error) {
	h := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("header %q is not key=value", pair)
		}
		// Percent-decoding only: a "+" stays a "+" (base64 keys hold them),
		// as in the OpenTelemetry SDKs (Python's unquote, Go's PathUnescape).
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", k, err)
		}
		h[strings.ToLower(k)] = dv
	}
	return h, nil
}
