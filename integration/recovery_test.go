package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/integration/otlptest"
)

// A collector that recovers is used at once (issue 21): whatever the fault
// (down, refusing with Unavailable, started after the proxy, hung in each
// of the ways a collector hangs), the spans held through it, and one made
// the moment it is back, reach it within 2 s, with the default 10 s attempt
// timeout.

// collectorMode is how the faulty collector's OTLP service answers.
type collectorMode int32

const (
	answering   collectorMode = iota
	unavailable               // refuses every export: Unavailable
	holding                   // answers nothing until it answers again, then everything
	losing                    // what arrives now is never answered, even once it answers again
)

// faultyCollector is an OTLP collector (gRPC or HTTP) at a fixed address
// that fails on demand: behind a TCP relay that can go down, come back and
// freeze its connections, an OTLP service in one of the modes above,
// handing what it takes to an otlptest.Receiver.
type faultyCollector struct {
	t        *testing.T
	addr     string // where the proxy sends
	backend  string // the OTLP service, behind the relay
	receiver *otlptest.Receiver
	mode     atomic.Int32
	changed  chan struct{} // closed and replaced at each mode change
	mu       sync.Mutex
	ln       net.Listener // nil while down
	conns    []*relayConn
	freezing bool // connections accepted now are frozen
}

type relayConn struct {
	client, server net.Conn
	frozen         atomic.Bool
	closed         chan struct{}
}

func startFaultyCollector(t *testing.T, overHTTP bool) *faultyCollector {
	t.Helper()
	c := &faultyCollector{t: t, addr: freeAddr(t), receiver: otlptest.Start(t), changed: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.backend = ln.Addr().String()
	if overHTTP {
		srv := &http.Server{Handler: http.HandlerFunc(c.serveHTTP)}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
	} else {
		srv := grpc.NewServer()
		collectortrace.RegisterTraceServiceServer(srv, grpcService{c: c})
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(srv.Stop)
	}
	t.Cleanup(c.down)
	return c
}

func (c *faultyCollector) setMode(m collectorMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mode.Store(int32(m))
	close(c.changed)
	c.changed = make(chan struct{})
}

// export is the OTLP service: it answers as the mode says, recording
// what it answers for.
func (c *faultyCollector) export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) error {
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		switch collectorMode(c.mode.Load()) {
		case answering:
			_, err := c.receiver.Export(ctx, req)
			return err
		case unavailable:
			return status.Error(codes.Unavailable, "collector unavailable")
		case losing:
			<-ctx.Done()
			return ctx.Err()
		case holding:
			select {
			case <-changed:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

type grpcService struct {
	collectortrace.UnimplementedTraceServiceServer
	c *faultyCollector
}

func (g grpcService) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	if err := g.c.export(ctx, req); err != nil {
		return nil, err
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *faultyCollector) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ctx := metadata.NewIncomingContext(r.Context(), metadata.MD{})
	if err := c.export(ctx, &req); err != nil {
		if status.Code(err) == codes.Unavailable {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
		return
	}
	b, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(b)
}

// up starts the relay at the collector's address.
func (c *faultyCollector) up() {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port was just released
		if ln, err = net.Listen("tcp", c.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.ln = ln
	c.mu.Unlock()
	go func() {
		for {
			cl, err := ln.Accept()
			if err != nil {
				return
			}
			sv, err := net.Dial("tcp", c.backend)
			if err != nil {
				cl.Close()
				continue
			}
			rc := &relayConn{client: cl, server: sv, closed: make(chan struct{})}
			c.mu.Lock()
			rc.frozen.Store(c.freezing)
			c.conns = append(c.conns, rc)
			c.mu.Unlock()
			go rc.pipe(cl, sv)
			go rc.pipe(sv, cl)
		}
	}()
}

// pipe copies until the connection closes; frozen, it holds what it read.
func (rc *relayConn) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if rc.frozen.Load() {
			<-rc.closed
			return
		}
		if n > 0 {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			to.Close()
			return
		}
	}
}

// down closes the relay and every connection through it: a collector that
// dies.
func (c *faultyCollector) down() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for _, rc := range c.conns {
		rc.client.Close()
		rc.server.Close()
		close(rc.closed)
	}
	c.conns = nil
}

// freeze stops every connection, and every one accepted until thaw:
// a collector hung with its connections open.
func (c *faultyCollector) freeze() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.freezing = true
	for _, rc := range c.conns {
		rc.frozen.Store(true)
	}
}

// thaw serves new connections again; the frozen ones stay frozen (the
// hung instance was replaced, its connections are never answered).
func (c *faultyCollector) thaw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.freezing = false
}

// recoveryProxy is a proxy exporting to endpoint every 20 ms, with the
// default attempt timeout.
func recoveryProxy(t *testing.T, endpoint string) string {
	t.Helper()
	_, proxyURL := outageProxyWith(t, "", func(c *export.Config) {
		c.Endpoint, c.ProjectName, c.AttemptTimeout = endpoint, "recovery", 0
	})
	return proxyURL
}

func call(t *testing.T, proxyURL, marker string) {
	t.Helper()
	resp, body := post(t, proxyURL+"/v1/chat/completions", "application/json",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"`+marker+`"}]}`, nil)
	if resp.StatusCode != 200 || body != chatAnswer {
		t.Fatalf("%s: %d %s", marker, resp.StatusCode, body)
	}
}

func TestRecoveredCollectorGetsSpansWithin2s(t *testing.T) {
	type fault struct {
		name    string
		http    bool
		startUp bool // the collector answers when the proxy starts
		fail    func(c *faultyCollector)
		recover func(c *faultyCollector)
	}
	faults := []fault{
		{name: "down, then back", startUp: true, fail: (*faultyCollector).down, recover: (*faultyCollector).up},
		{name: "refusing with Unavailable", startUp: true,
			fail:    func(c *faultyCollector) { c.setMode(unavailable) },
			recover: func(c *faultyCollector) { c.setMode(answering) }},
		{name: "started after the proxy", recover: (*faultyCollector).up},
		{name: "hung, then answering what it held", startUp: true,
			fail:    func(c *faultyCollector) { c.setMode(holding) },
			recover: func(c *faultyCollector) { c.setMode(answering) }},
		{name: "hung, never answering what it took", startUp: true,
			fail:    func(c *faultyCollector) { c.setMode(losing) },
			recover: func(c *faultyCollector) { c.setMode(answering) }},
		{name: "hung connections, replaced", startUp: true, fail: (*faultyCollector).freeze, recover: (*faultyCollector).thaw},
		{name: "OTLP/HTTP: hung, never answering what it took", http: true, startUp: true,
			fail:    func(c *faultyCollector) { c.setMode(losing) },
			recover: func(c *faultyCollector) { c.setMode(answering) }},
		{name: "OTLP/HTTP: down, then back", http: true, startUp: true, fail: (*faultyCollector).down, recover: (*faultyCollector).up},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			c := startFaultyCollector(t, f.http)
			endpoint := "http://" + c.addr
			if f.http {
				endpoint += "/v1/traces"
			}
			if f.startUp {
				c.up()
			}
			proxyURL := recoveryProxy(t, endpoint)
			var markers []string
			mark := func(m string) { call(t, proxyURL, m); markers = append(markers, m) }
			if f.startUp {
				mark("before")
				waitMarkers(t, markers, 3*time.Second, c.receiver)
			}
			if f.fail != nil {
				f.fail(c)
			}
			// The fault lasts long enough for an attempt to be out in it;
			// calls go on meanwhile.
			for i := 0; i < 10; i++ {
				mark(fmt.Sprintf("during-%d", i))
				time.Sleep(200 * time.Millisecond)
			}
			f.recover(c)
			back := time.Now()
			mark("after")
			waitMarkers(t, markers, 8*time.Second, c.receiver)
			took := time.Since(back)
			t.Logf("every span arrived %s after the collector recovered", took.Round(10*time.Millisecond))
			if took > 2*time.Second {
				t.Errorf("the spans arrived %s after the collector recovered; want within 2 s", took.Round(10*time.Millisecond))
			}
			for m, n := range markersIn(c.receiver) {
				if n > 2 {
					t.Errorf("%s arrived %d times", m, n)
				}
			}
		})
	}
}
