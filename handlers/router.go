package handlers

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/phoenixproxy/llmproxy/endpoint"
	"github.com/phoenixproxy/llmproxy/metrics"
	"github.com/phoenixproxy/llmproxy/openai"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// Options configure the proxy's HTTP side.
type Options struct {
	// Providers are the upstreams the environment configures. Required.
	Providers *upstream.Providers
	// Router routes model names to deployments: a config file's; nil
	// means router.FromEnvironment(Providers).
	Router *router.Router
	// Recorder makes the spans. Required.
	Recorder *spans.Recorder
	// Transport carries upstream requests; nil means NewTransport().
	Transport http.RoundTripper
	// MaxBodyBytes bounds a model request's body (413 above it); 0 means
	// 32 MiB.
	MaxBodyBytes int64
	// UpstreamTimeout bounds a call until its answer is complete (for a
	// stream: until its headers); 0 means none.
	UpstreamTimeout time.Duration
	// StreamIdleTimeout bounds the silence between two reads of a stream;
	// 0 means none.
	StreamIdleTimeout time.Duration
	// Logger gets one line per failed call; nil means slog.Default().
	Logger *slog.Logger
	// BodyReadTimeout bounds the time to read a request's whole body, from
	// the moment the handler starts reading it: a client that sends its
	// body a byte at a time cannot hold a connection for ever. 0 means
	// none.
	BodyReadTimeout time.Duration
	// MaxInFlight caps the requests served at once (the health routes
	// aside); beyond it a request gets 503 at once. 0 means no cap.
	MaxInFlight int
	// Metrics, when set, counts the calls and is served at /metrics.
	Metrics *metrics.Metrics
	// MasterKey, when set, is the key every caller must present (as
	// LiteLLM's proxy master key): "Authorization: Bearer <key>", an
	// api-key header, x-api-key or x-litellm-api-key. It is never sent
	// upstream. The health routes stay open.
	MasterKey string
	// Specs are the traced APIs served; nil means endpoint.All.
	Specs []*endpoint.Spec
	// ProjectPattern, when a master key is set, is what a Phoenix project
	// named by a call (x-phoenix-project-name, metadata's
	// phoenix_project_name) must match whole; with a master key and no
	// pattern, calls cannot choose their project.
	ProjectPattern *regexp.Regexp
	// Sessions infers the session of calls that name none (from the
	// conversation they continue); nil infers none: a call's session is
	// then what its LiteLLM fields or its client name.
	Sessions *sessions.Resolver
}

// DefaultMaxBodyBytes is the default request body limit.
const DefaultMaxBodyBytes = 32 << 20

// Handler is the proxy's HTTP handler.
type Handler struct {
	providers *upstream.Providers
	// versionHeader is x-litellm-version's value, shared by every answer.
	versionHeader []string
	// noCredentials holds the providers (by name) that found no
	// credentials of the proxy's, logged once each: clients' own pass.
	noCredentials     sync.Map
	router            *router.Router
	recorder          *spans.Recorder
	transport         http.RoundTripper
	maxBodyBytes      int64
	upstreamTimeout   time.Duration
	streamIdleTimeout time.Duration
	log               *slog.Logger
	bodyReadTimeout   time.Duration
	masterKey         []byte
	projectPattern    *regexp.Regexp
	metrics           *metrics.Metrics
	sessions          *sessions.Resolver
	inFlight          chan struct{} // a slot per request served; nil: no cap
	forwarder         *httputil.ReverseProxy
	engine            *gin.Engine
	specs             []*endpoint.Spec
	// patterns are the routes with parameters, matched in order once no
	// literal route has matched.
	patterns []pattern
}

// pattern is a route with parameters, and what serves it: a traced API or
// a forwarded route.
type pattern struct {
	route endpoint.Route
	spec  *endpoint.Spec
	fwd   *endpoint.Forward
}

// New builds the handler with every route of the LiteLLM proxy API it
// serves, each with and without the /v1 prefix.
func New(opts Options) *Handler {
	h := &Handler{
		providers:         opts.Providers,
		versionHeader:     []string{Version},
		router:            opts.Router,
		recorder:          opts.Recorder,
		transport:         opts.Transport,
		maxBodyBytes:      opts.MaxBodyBytes,
		upstreamTimeout:   opts.UpstreamTimeout,
		streamIdleTimeout: opts.StreamIdleTimeout,
		log:               opts.Logger,
		bodyReadTimeout:   opts.BodyReadTimeout,
		metrics:           opts.Metrics,
		projectPattern:    opts.ProjectPattern,
		specs:             opts.Specs,
		sessions:          opts.Sessions,
	}
	if h.specs == nil {
		h.specs = endpoint.All
	}
	if opts.MasterKey != "" {
		h.masterKey = []byte(opts.MasterKey)
	}
	if opts.MaxInFlight > 0 {
		h.inFlight = make(chan struct{}, opts.MaxInFlight)
	}
	if h.router == nil {
		h.router = router.FromEnvironment(h.providers)
	}
	if h.transport == nil {
		h.transport = NewTransport()
	}
	if h.maxBodyBytes <= 0 {
		h.maxBodyBytes = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.forwarder = h.newForwarder()
	h.forwarder.ErrorLog = slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(h.recover)
	e.HandleMethodNotAllowed = false
	// No redirects: a cleaned or slash-fixed path is answered as it came
	// (a redirect would send a client elsewhere than it asked).
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// Each described API's routes, then the forwarded ones; a route with
	// parameters is matched by the API's own pattern (after the literal
	// routes), since gin's parameters take whole segments.
	for _, spec := range h.specs {
		for _, route := range spec.Routes {
			if route.HasParams() {
				h.patterns = append(h.patterns, pattern{route: route, spec: spec})
				continue
			}
			e.Handle(route.Method, route.Path, h.model(spec, route))
		}
	}
	for _, fwd := range append(slices.Clone(endpoint.Forwards), &endpoint.Passthrough) {
		for _, route := range fwd.Routes {
			switch {
			case route.HasParams():
				h.patterns = append(h.patterns, pattern{route: route, fwd: fwd})
			case route.Method == "*":
				e.Any(route.Path, h.forward(fwd))
			default:
				e.Handle(route.Method, route.Path, h.forward(fwd))
			}
		}
	}
	for _, prefix := range []string{"", "/v1"} {
		e.GET(prefix+"/models", h.models)
		e.GET(prefix+"/model/info", h.modelInfo)
	}
	// LiteLLM's health routes, without auth or the in-flight cap.
	e.GET("/health/liveliness", liveliness)
	e.GET("/health/liveness", liveliness)
	e.GET("/health/readiness", readiness)
	if h.metrics != nil {
		e.GET("/metrics", gin.WrapH(h.metrics.Handler()))
	}
	e.NoRoute(h.noRoute)
	h.engine = e
	return h
}

// ServeHTTP serves one request. A request with a body must send it whole
// within the body read timeout: the connection's read deadline is set for
// it, and cleared once the body has been read (the server's own reads of an
// idle connection, and a long answer, must not be cut by it). A body left
// unread keeps the deadline, so that what net/http reads of it after the
// handler is bounded too.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.bodyReadTimeout > 0 && r.Body != nil && r.Body != http.NoBody {
		rc := http.NewResponseController(w)
		if rc.SetReadDeadline(time.Now().Add(h.bodyReadTimeout)) == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		}
	}
	h.engine.ServeHTTP(w, r)
}

// deadlineBody clears the connection's read deadline when the body ends.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (h *Handler) model(spec *endpoint.Spec, route endpoint.Route) gin.HandlerFunc {
	return func(c *gin.Context) { h.serveSpec(c.Writer, c.Request, spec, route, nil) }
}

func (h *Handler) serveSpec(w http.ResponseWriter, r *http.Request, spec *endpoint.Spec, route endpoint.Route, params map[string]string) {
	if h.authorized(w, r, spec.WriteError) && h.admit(w, spec.WriteError) {
		defer h.release()
		h.serveModel(w, r, spec, route, params)
	}
}

func (h *Handler) forward(fwd *endpoint.Forward) gin.HandlerFunc {
	return func(c *gin.Context) { h.serveForwarded(c.Writer, c.Request, fwd) }
}

func (h *Handler) serveForwarded(w http.ResponseWriter, r *http.Request, fwd *endpoint.Forward) {
	if h.authorized(w, r, fwd.WriteError) && h.admit(w, fwd.WriteError) {
		defer h.release()
		h.serveForward(w, r, fwd)
	}
}

// authorized checks the caller's key against the master key, when there is
// one, in constant time, and takes the caller's credentials off the request
// so that they go no further (the provider key comes from the proxy's
// configuration). A missing or wrong key gets 401 in the format of the
// route's API (LiteLLM's on OpenAI's routes).
func (h *Handler) authorized(w http.ResponseWriter, r *http.Request, writeError func(http.ResponseWriter, *openai.Error)) bool {
	if h.masterKey == nil {
		return true
	}
	key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	for _, alt := range callerKeyHeaders[1:] {
		if key == "" {
			key = r.Header.Get(alt)
		}
	}
	// Google's clients may send their key in the URL (?key=), as LiteLLM
	// takes it on its /gemini routes.
	queryKey := ""
	if key == "" && strings.Contains(r.URL.RawQuery, "key=") {
		queryKey = r.URL.Query().Get("key")
		key = queryKey
	}
	if subtle.ConstantTimeCompare([]byte(key), h.masterKey) != 1 {
		msg := "Authentication Error, invalid proxy server token passed."
		if key == "" {
			msg = "Authentication Error, no api key passed in."
		}
		writeError(w, &openai.Error{Status: http.StatusUnauthorized, Type: "auth_error", Param: "None", Message: msg})
		return false
	}
	for _, hdr := range callerKeyHeaders {
		r.Header.Del(hdr)
	}
	if queryKey != "" {
		upstream.DropQueryKey(r.URL)
	}
	return true
}

// callerKeyHeaders are where a caller may present the master key: OpenAI's
// Authorization first, then Azure's, Anthropic's, LiteLLM's and Google's.
var callerKeyHeaders = []string{"Authorization", "Api-Key", "X-Api-Key", "X-Litellm-Api-Key", "X-Goog-Api-Key"}

// admit takes a slot for a request, or answers 503 when every slot is
// taken: a clear answer a client can retry beats a queue that grows
// without bound.
func (h *Handler) admit(w http.ResponseWriter, writeError func(http.ResponseWriter, *openai.Error)) bool {
	if h.inFlight == nil {
		return true
	}
	select {
	case h.inFlight <- struct{}{}:
		return true
	default:
		w.Header().Set("Retry-After", "1")
		e := &openai.Error{Status: http.StatusServiceUnavailable, Type: openai.TypeProxy,
			Message: fmt.Sprintf("The proxy is serving its limit of %d requests at once; retry shortly.", cap(h.inFlight))}
		writeError(w, e)
		return false
	}
}

func (h *Handler) release() {
	if h.inFlight != nil {
		<-h.inFlight
	}
}

// noRoute serves the routes with parameters, the first whose pattern
// matches (a described API's, a forwarded route's, then any other /v1
// path, forwarded untouched), and answers 404 in the OpenAI format for the
// rest.
func (h *Handler) noRoute(c *gin.Context) {
	r := c.Request
	for _, p := range h.patterns {
		if p.route.Method != "*" && p.route.Method != r.Method {
			continue
		}
		params, ok := p.route.Match(r.URL.EscapedPath())
		switch {
		case !ok:
			continue
		case p.spec != nil:
			h.serveSpec(c.Writer, r, p.spec, p.route, params)
		default:
			h.serveForwarded(c.Writer, r, p.fwd)
		}
		return
	}
	(&openai.Error{Status: http.StatusNotFound, Type: openai.TypeNotFound,
		Message: "Unknown route: " + r.Method + " " + r.URL.Path}).Write(c.Writer)
}

// recover turns a panic into a 500 in the OpenAI format, except
// http.ErrAbortHandler, which net/http uses to cut a response short.
func (h *Handler) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("panic serving request", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			if !c.Writer.Written() {
				(&openai.Error{Status: http.StatusInternalServerError, Type: openai.TypeProxy,
					Message: "Internal proxy error."}).Write(c.Writer)
			}
		}
	}()
	c.Next()
}

func liveliness(c *gin.Context) {
	c.JSON(http.StatusOK, "I'm alive!")
}

func readiness(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "healthy"})
}

// NewTransport is the shared upstream transport: keep-alive pools sized for
// a busy proxy, HTTP/2 where the upstream offers it, and no transparent
// decompression (the proxy relays bytes as the upstream sent them).
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   512,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		DisableCompression:    true,
	}
}
