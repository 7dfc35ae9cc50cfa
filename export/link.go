package export

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// uplink is what the span buffer sends through. upload blocks until the
// collector answers or ctx ends; probe blocks at most its timeout;
// waitReady at most d.
type uplink interface {
	// upload sends one export request.
	upload(ctx context.Context, rs []*tracepb.ResourceSpans) error
	// probe reports whether the collector answers an empty export now,
	// asked on a connection of its own.
	probe(ctx context.Context) bool
	// reset moves later uploads to a fresh connection; an upload on the
	// old one fails.
	reset()
	// waitReady waits d before a retry, less if the connection becomes
	// ready in the meantime.
	waitReady(ctx context.Context, d time.Duration)
	shutdown(ctx context.Context) error
}

// link is the connection to the collector: the OpenTelemetry SDK's OTLP
// client, over gRPC or HTTP, on a connection the link makes, so that it can
// make a fresh one when an attempt hangs on the old (reset), watch a gRPC
// connection's state (waitReady), and ask the collector on the side
// whether it answers (probe).
//
// gRPC keepalive pings a connection that has been silent for 10 s (the
// least grpc-go allows) and drops it 5 s after an unanswered ping: a
// collector gone without closing its connections (a dead node, a network
// partition) costs one connection, not every attempt until TCP gives up.
type link struct {
	target  collector
	headers map[string]string
	attempt time.Duration

	mu     sync.Mutex
	client otlptrace.Client
	conn   *grpc.ClientConn // gRPC
	tr     *http.Transport  // HTTP

	probeHTTP *http.Client // HTTP probes, each on a new connection
}

var _ uplink = (*link)(nil)

func newLink(ctx context.Context, target collector, headers map[string]string, attempt time.Duration) (*link, error) {
	l := &link{target: target, headers: headers, attempt: attempt}
	if target.http {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		l.probeHTTP = &http.Client{Transport: tr}
	}
	if err := l.connect(ctx); err != nil {
		return nil, err
	}
	return l, nil
}

// grpcOptions are the dial options of every gRPC connection to the
// collector, probes' included.
func (l *link) grpcOptions() []grpc.DialOption {
	creds := insecure.NewCredentials()
	if u, err := url.Parse(l.target.url); err == nil && u.Scheme == "https" {
		creds = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}
	return []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		// gRPC's reconnect backoff grows to two minutes by default: a
		// collector back (or started late) must be found within a second.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		}),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second}),
	}
}

func (l *link) grpcTarget() string {
	u, err := url.Parse(l.target.url)
	if err != nil {
		return l.target.url
	}
	return u.Host
}

// connect makes the client on a new connection, replacing the current
// one, which is closed in the background. The client does not retry: the
// span buffer retries, in order and without end (the client's own retry
// would hold a batch for up to a minute).
func (l *link) connect(ctx context.Context) error {
	var (
		client otlptrace.Client
		conn   *grpc.ClientConn
		tr     *http.Transport
	)
	if l.target.http {
		tr = http.DefaultTransport.(*http.Transport).Clone()
		opts := []otlptracehttp.Option{
			otlptracehttp.WithEndpointURL(l.target.url),
			otlptracehttp.WithHTTPClient(&http.Client{Transport: tr, Timeout: l.attempt}),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
		}
		if len(l.headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(l.headers))
		}
		client = otlptracehttp.NewClient(opts...)
	} else {
		var err error
		conn, err = grpc.NewClient(l.grpcTarget(), l.grpcOptions()...)
		if err != nil {
			return fmt.Errorf("creating OTLP gRPC exporter for %s: %w", l.target.url, err)
		}
		opts := []otlptracegrpc.Option{
			otlptracegrpc.WithGRPCConn(conn),
			otlptracegrpc.WithTimeout(l.attempt),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}),
		}
		if len(l.headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(l.headers))
		}
		client = otlptracegrpc.NewClient(opts...)
	}
	if err := client.Start(ctx); err != nil {
		if conn != nil {
			conn.Close()
		}
		return fmt.Errorf("starting the OTLP exporter for %s: %w", l.target.url, err)
	}
	l.mu.Lock()
	oldClient, oldConn, oldTr := l.client, l.conn, l.tr
	l.client, l.conn, l.tr = client, conn, tr
	l.mu.Unlock()
	if oldClient != nil {
		go closeClient(oldClient, oldConn, oldTr)
	}
	return nil
}

func closeClient(c otlptrace.Client, conn *grpc.ClientConn, tr *http.Transport) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return stopClient(ctx, c, conn, tr)
}

// stopClient stops c, then closes its connection (gRPC) or its
// transport's idle connections (HTTP); the error is the first of them.
func stopClient(ctx context.Context, c otlptrace.Client, conn *grpc.ClientConn, tr *http.Transport) error {
	err := c.Stop(ctx)
	if conn != nil {
		if cerr := conn.Close(); err == nil {
			err = cerr
		}
	}
	if tr != nil {
		tr.CloseIdleConnections()
	}
	return err
}

func (l *link) current() (otlptrace.Client, *grpc.ClientConn, *http.Transport) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.client, l.conn, l.tr
}

func (l *link) upload(ctx context.Context, rs []*tracepb.ResourceSpans) error {
	c, _, _ := l.current()
	return c.UploadTraces(ctx, rs)
}

func (l *link) reset() {
	// A fresh client needs no network to be made: it fails only on a
	// malformed target, which the first connect already refused.
	_ = l.connect(context.Background())
}

// probeTimeout bounds a probe: a collector that answers does within it,
// a TLS handshake included.
const probeTimeout = 750 * time.Millisecond

func (l *link) probe(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if l.target.http {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target.url, bytes.NewReader(nil))
		if err != nil {
			return false
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		for k, v := range l.headers {
			req.Header.Set(k, v)
		}
		resp, err := l.probeHTTP.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		// A gateway's "the collector behind me is away" is no answer.
		return resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusGatewayTimeout
	}
	conn, err := grpc.NewClient(l.grpcTarget(), l.grpcOptions()...)
	if err != nil {
		return false
	}
	defer conn.Close()
	if len(l.headers) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(l.headers))
	}
	_, err = collectortrace.NewTraceServiceClient(conn).Export(ctx, &collectortrace.ExportTraceServiceRequest{})
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return false
	}
	return true // answered, if only to refuse (unauthenticated, say)
}

func (l *link) waitReady(ctx context.Context, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, conn, tr := l.current()
	if tr != nil {
		// The retry goes on a new connection: the old may be the one that
		// hung.
		tr.CloseIdleConnections()
	}
	if conn == nil {
		<-ctx.Done()
		return
	}
	s := conn.GetState()
	if s == connectivity.Ready {
		// Connected, yet the export failed (the collector refused it):
		// the retry waits its turn.
		<-ctx.Done()
		return
	}
	conn.Connect()
	for s != connectivity.Ready && conn.WaitForStateChange(ctx, s) {
		s = conn.GetState()
	}
}

func (l *link) shutdown(ctx context.Context) error {
	c, conn, tr := l.current()
	return stopClient(ctx, c, conn, tr)
}
