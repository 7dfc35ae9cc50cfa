// Command llmproxy is a LiteLLM-compatible reverse proxy for LLM APIs that
// records every call as an OpenInference span in Arize Phoenix.
//
// Point an OpenAI or LiteLLM client's base URL at it (http://localhost:4000)
// and change nothing else: each call is forwarded to the provider, its
// answer comes back as the provider sent it, streams included, and its span
// is exported over OTLP gRPC in the background. Configuration is by
// environment variable, and optionally by LiteLLM's config file
// (--config PATH or CONFIG_FILE_PATH); see README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/kelseyhightower/envconfig"
	"go.opentelemetry.io/otel"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/litellmconfig"
	"github.com/phoenixproxy/llmproxy/metrics"
	"github.com/phoenixproxy/llmproxy/router"
	"github.com/phoenixproxy/llmproxy/sessions"
	"github.com/phoenixproxy/llmproxy/sessions/redisstore"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// Config is the whole configuration, read from the environment.
type Config struct {
	Port int `envconfig:"PORT" default:"4000"`
	// Host is loopback unless set: a proxy holding provider keys is not
	// offered to the network by default (the container image sets 0.0.0.0).
	Host string `envconfig:"HOST" default:"127.0.0.1"`
	// MasterKey, as LiteLLM's LITELLM_MASTER_KEY: every caller must
	// present it.
	MasterKey string `envconfig:"LITELLM_MASTER_KEY"`

	upstream.Env

	CollectorEndpoint string `envconfig:"PHOENIX_COLLECTOR_ENDPOINT" default:"http://localhost:4317"`
	// OTLPProtocol overrides the transport the endpoint implies: grpc or
	// http/protobuf.
	OTLPProtocol string `envconfig:"OTEL_EXPORTER_OTLP_PROTOCOL"`
	ProjectName  string `envconfig:"PHOENIX_PROJECT_NAME" default:"default"`
	// ProjectPattern is what a project named per call must match whole
	// when a master key is set; MaxProjects bounds those projects.
	ProjectPattern string `envconfig:"PHOENIX_PROJECT_PATTERN"`
	MaxProjects    int    `envconfig:"PHOENIX_MAX_PROJECTS" default:"50"`
	PhoenixAPIKey  string `envconfig:"PHOENIX_API_KEY"`
	ClientHeaders  string `envconfig:"PHOENIX_CLIENT_HEADERS"`
	ServiceName    string `envconfig:"OTEL_SERVICE_NAME" default:"llmproxy"`

	// The BatchSpanProcessor's settings, in the OpenTelemetry SDK's
	// variables (milliseconds for durations).
	BSPScheduleDelayMS int  `envconfig:"OTEL_BSP_SCHEDULE_DELAY" default:"5000"`
	BSPExportTimeoutMS int  `envconfig:"OTEL_BSP_EXPORT_TIMEOUT" default:"30000"`
	BSPMaxQueueSize    int  `envconfig:"OTEL_BSP_MAX_QUEUE_SIZE" default:"2048"`
	BSPMaxExportBatch  int  `envconfig:"OTEL_BSP_MAX_EXPORT_BATCH_SIZE" default:"512"`
	TracingDisabled    bool `envconfig:"OTEL_SDK_DISABLED" default:"false"`
	// MaxExportBytes bounds one OTLP export request (Phoenix refuses one
	// over gRPC's 4 MiB default, with all its spans).
	MaxExportBytes int `envconfig:"OTLP_MAX_EXPORT_BYTES" default:"4194304"`
	// SpanBufferBytes is the memory the spans may take while the collector
	// does not take them (down, hung, not yet started); the oldest go
	// beyond it. ExportAttemptTimeout cuts one export attempt.
	SpanBufferBytes      int           `envconfig:"SPAN_BUFFER_BYTES" default:"67108864"`
	ExportAttemptTimeout time.Duration `envconfig:"OTLP_EXPORT_ATTEMPT_TIMEOUT" default:"10s"`
	// SpoolDir, when set, keeps those spans on disk instead (package
	// spool), so that a crash does not cost them: within SpoolBytes, each
	// synced to the disk within SpoolFsyncInterval.
	SpoolDir           string        `envconfig:"SPAN_SPOOL_DIR"`
	SpoolBytes         int64         `envconfig:"SPAN_SPOOL_BYTES" default:"67108864"`
	SpoolFsyncInterval time.Duration `envconfig:"SPAN_SPOOL_FSYNC_INTERVAL" default:"1s"`

	MaxRequestBodyBytes int64         `envconfig:"MAX_REQUEST_BODY_BYTES" default:"33554432"`
	UpstreamTimeout     time.Duration `envconfig:"UPSTREAM_TIMEOUT" default:"600s"`
	StreamIdleTimeout   time.Duration `envconfig:"STREAM_IDLE_TIMEOUT" default:"300s"`
	ShutdownTimeout     time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"30s"`
	// Slow and hostile clients: the time to send the headers, the time to
	// send the body, the requests served at once (503 beyond).
	ReadHeaderTimeout time.Duration `envconfig:"READ_HEADER_TIMEOUT" default:"10s"`
	BodyReadTimeout   time.Duration `envconfig:"BODY_READ_TIMEOUT" default:"60s"`
	MaxInFlight       int           `envconfig:"MAX_IN_FLIGHT_REQUESTS" default:"4096"`
	LogLevel          slog.Level    `envconfig:"LOG_LEVEL" default:"INFO"`
	LogFormat         string        `envconfig:"LOG_FORMAT" default:"text"`

	Redaction RedactionConfig

	// SessionInference infers the session of calls that name none, from
	// the conversation they continue (on or off); SessionCacheSize and
	// SessionCacheTTL bound what it remembers.
	SessionInference string        `envconfig:"SESSION_INFERENCE" default:"on"`
	SessionCacheSize int           `envconfig:"SESSION_CACHE_SIZE" default:"100000"`
	SessionCacheTTL  time.Duration `envconfig:"SESSION_CACHE_TTL" default:"24h"`
	// SessionRedisURL shares what session inference remembers between the
	// proxy's replicas, in Redis: redis://[user:password@]host:port[/db]
	// (rediss:// for TLS). Unset, REDIS_URL, else REDIS_HOST and its
	// companions, as LiteLLM reads them (litellm/_redis.py). None of them:
	// each replica remembers on its own.
	SessionRedisURL string `envconfig:"SESSION_REDIS_URL"`
	RedisURL        string `envconfig:"REDIS_URL"`
	RedisHost       string `envconfig:"REDIS_HOST"`
	RedisPort       string `envconfig:"REDIS_PORT" default:"6379"`
	RedisUsername   string `envconfig:"REDIS_USERNAME"`
	RedisPassword   string `envconfig:"REDIS_PASSWORD"`
	RedisSSL        string `envconfig:"REDIS_SSL"` // "true" (any case): TLS, as LiteLLM reads it
}

// sessionRedis is the Redis URL session inference shares its memory
// through, "" for none, and the variable that names it.
func (c *Config) sessionRedis() (u, from string) {
	switch {
	case c.SessionRedisURL != "":
		return c.SessionRedisURL, "SESSION_REDIS_URL"
	case c.RedisURL != "":
		return c.RedisURL, "REDIS_URL"
	case c.RedisHost != "":
		r := url.URL{Scheme: "redis", Host: net.JoinHostPort(c.RedisHost, c.RedisPort)}
		if strings.EqualFold(c.RedisSSL, "true") {
			r.Scheme = "rediss"
		}
		if c.RedisUsername != "" || c.RedisPassword != "" {
			r.User = url.UserPassword(c.RedisUsername, c.RedisPassword)
		}
		return r.String(), "REDIS_HOST"
	}
	return "", ""
}

// sessions is the session inference the configuration asks for: none
// when it is off, or when nothing is traced; with its memory shared
// through Redis when a Redis is named (shared; nil otherwise).
// closeSessions sends the writes still queued for Redis.
func (c *Config) sessions(ctx context.Context, log *slog.Logger) (_ *sessions.Resolver, shared *redisstore.Store, closeSessions func(context.Context) error, _ error) {
	closeSessions = func(context.Context) error { return nil }
	if c.SessionInference == "off" || c.TracingDisabled {
		return nil, nil, closeSessions, nil
	}
	o := sessions.Options{Size: c.SessionCacheSize, TTL: c.SessionCacheTTL}
	if u, from := c.sessionRedis(); u != "" {
		redisstore.RouteClientLog(log)
		// A Redis that does not answer within this is not waited for: the
		// store starts marked down and is used once it answers.
		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		store, err := redisstore.New(pingCtx, redisstore.Options{URL: u, TTL: c.SessionCacheTTL, Logger: log})
		if err != nil {
			return nil, nil, closeSessions, fmt.Errorf("%s: %w", from, err)
		}
		o.Shared, shared, closeSessions = store, store, store.Close
	}
	return sessions.New(o), shared, closeSessions, nil
}

// RedactionConfig is OpenInference's trace configuration, in its own
// variables (spec/configuration.md), and masking by pattern.
type RedactionConfig struct {
	HideInputs                  bool `envconfig:"OPENINFERENCE_HIDE_INPUTS"`
	HideOutputs                 bool `envconfig:"OPENINFERENCE_HIDE_OUTPUTS"`
	HideInputMessages           bool `envconfig:"OPENINFERENCE_HIDE_INPUT_MESSAGES"`
	HideOutputMessages          bool `envconfig:"OPENINFERENCE_HIDE_OUTPUT_MESSAGES"`
	HideInputImages             bool `envconfig:"OPENINFERENCE_HIDE_INPUT_IMAGES"`
	HideInputText               bool `envconfig:"OPENINFERENCE_HIDE_INPUT_TEXT"`
	HideOutputText              bool `envconfig:"OPENINFERENCE_HIDE_OUTPUT_TEXT"`
	HideEmbeddingsVectors       bool `envconfig:"OPENINFERENCE_HIDE_EMBEDDINGS_VECTORS"`
	HideEmbeddingVectors        bool `envconfig:"OPENINFERENCE_HIDE_EMBEDDING_VECTORS"` // the older name
	HideEmbeddingsText          bool `envconfig:"OPENINFERENCE_HIDE_EMBEDDINGS_TEXT"`
	HideLLMInvocationParameters bool `envconfig:"OPENINFERENCE_HIDE_LLM_INVOCATION_PARAMETERS"`
	HideLLMTools                bool `envconfig:"OPENINFERENCE_HIDE_LLM_TOOLS"`
	HidePrompts                 bool `envconfig:"OPENINFERENCE_HIDE_PROMPTS"`
	HideChoices                 bool `envconfig:"OPENINFERENCE_HIDE_CHOICES"`
	Base64ImageMaxLength        int  `envconfig:"OPENINFERENCE_BASE64_IMAGE_MAX_LENGTH" default:"32000"`
	// Patterns is a JSON list of regular expressions (Go's RE2 syntax)
	// whose matches in any recorded string become __REDACTED__.
	Patterns string `envconfig:"REDACT_PATTERNS"`
}

// redaction is the spans' Redaction; a pattern that does not compile is
// an error naming it.
func (c RedactionConfig) redaction() (*spans.Redaction, error) {
	r := &spans.Redaction{
		HideInputs: c.HideInputs, HideOutputs: c.HideOutputs,
		HideInputMessages: c.HideInputMessages, HideOutputMessages: c.HideOutputMessages,
		HideInputImages: c.HideInputImages, HideInputText: c.HideInputText, HideOutputText: c.HideOutputText,
		HideEmbeddingsVectors: c.HideEmbeddingsVectors || c.HideEmbeddingVectors, HideEmbeddingsText: c.HideEmbeddingsText,
		HideLLMInvocationParameters: c.HideLLMInvocationParameters, HideLLMTools: c.HideLLMTools,
		HidePrompts: c.HidePrompts, HideChoices: c.HideChoices,
		Base64ImageMaxLength: c.Base64ImageMaxLength,
	}
	if strings.TrimSpace(c.Patterns) == "" {
		return r, nil
	}
	var patterns []string
	if err := json.Unmarshal([]byte(c.Patterns), &patterns); err != nil {
		return nil, fmt.Errorf("REDACT_PATTERNS: want a JSON list of regular expressions: %w", err)
	}
	// Each pattern on its own: one alternation of them measured slower
	// (go test -bench Recorder ./spans), as RE2 then runs its general engine.
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("REDACT_PATTERNS: %q: %w", p, err)
		}
		r.Patterns = append(r.Patterns, re)
	}
	return r, nil
}

// LoadConfig reads and checks the configuration. Every error names the
// variable at fault.
func LoadConfig() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return c, err
	}
	positive := []struct {
		name string
		v    int64
	}{
		{"OTEL_BSP_SCHEDULE_DELAY", int64(c.BSPScheduleDelayMS)},
		{"OTEL_BSP_EXPORT_TIMEOUT", int64(c.BSPExportTimeoutMS)},
		{"OTEL_BSP_MAX_QUEUE_SIZE", int64(c.BSPMaxQueueSize)},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", int64(c.BSPMaxExportBatch)},
		{"MAX_REQUEST_BODY_BYTES", c.MaxRequestBodyBytes},
		{"SPAN_BUFFER_BYTES", int64(c.SpanBufferBytes)},
		{"OTLP_EXPORT_ATTEMPT_TIMEOUT", int64(c.ExportAttemptTimeout)},
		{"SESSION_CACHE_SIZE", int64(c.SessionCacheSize)},
		{"SESSION_CACHE_TTL", int64(c.SessionCacheTTL)},
		{"SPAN_SPOOL_BYTES", c.SpoolBytes},
		{"SPAN_SPOOL_FSYNC_INTERVAL", int64(c.SpoolFsyncInterval)},
	}
	if c.MaxExportBytes < 64<<10 {
		return c, fmt.Errorf("OTLP_MAX_EXPORT_BYTES=%d: must be at least 65536", c.MaxExportBytes)
	}
	for _, p := range positive {
		if p.v <= 0 {
			return c, fmt.Errorf("%s=%d: must be greater than 0", p.name, p.v)
		}
	}
	if c.BSPMaxExportBatch > c.BSPMaxQueueSize {
		return c, fmt.Errorf("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=%d: must not exceed OTEL_BSP_MAX_QUEUE_SIZE=%d",
			c.BSPMaxExportBatch, c.BSPMaxQueueSize)
	}
	if _, err := c.Redaction.redaction(); err != nil {
		return c, err
	}
	if c.Redaction.Base64ImageMaxLength <= 0 {
		return c, fmt.Errorf("OPENINFERENCE_BASE64_IMAGE_MAX_LENGTH=%d: must be greater than 0", c.Redaction.Base64ImageMaxLength)
	}
	if _, err := c.projectPattern(); err != nil {
		return c, err
	}
	if c.MaxProjects <= 0 {
		return c, fmt.Errorf("PHOENIX_MAX_PROJECTS=%d: must be greater than 0", c.MaxProjects)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return c, fmt.Errorf("LOG_FORMAT=%q: must be text or json", c.LogFormat)
	}
	if c.SessionInference != "on" && c.SessionInference != "off" {
		return c, fmt.Errorf("SESSION_INFERENCE=%q: must be on or off", c.SessionInference)
	}
	if u, from := c.sessionRedis(); u != "" {
		if err := redisstore.CheckURL(u); err != nil {
			return c, fmt.Errorf("%s: %w", from, err)
		}
	}
	if c.MaxInFlight < 0 {
		return c, fmt.Errorf("MAX_IN_FLIGHT_REQUESTS=%d: must not be negative (0: no cap)", c.MaxInFlight)
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("PORT=%d: must be between 1 and 65535", c.Port)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"UPSTREAM_TIMEOUT", c.UpstreamTimeout}, {"STREAM_IDLE_TIMEOUT", c.StreamIdleTimeout}, {"SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"BODY_READ_TIMEOUT", c.BodyReadTimeout}} {
		if d.v < 0 {
			return c, fmt.Errorf("%s=%s: must not be negative", d.name, d.v)
		}
	}
	return c, nil
}

// projectPattern is PHOENIX_PROJECT_PATTERN anchored to match whole names;
// nil when unset.
func (c Config) projectPattern() (*regexp.Regexp, error) {
	if c.ProjectPattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile("^(?:" + c.ProjectPattern + ")$")
	if err != nil {
		return nil, fmt.Errorf("PHOENIX_PROJECT_PATTERN=%q: %w", c.ProjectPattern, err)
	}
	return re, nil
}

// exporterConfig is the span exporter's part of the configuration.
func (c Config) exporterConfig() (export.Config, error) {
	headers, err := export.ParseHeaders(c.ClientHeaders)
	if err != nil {
		return export.Config{}, fmt.Errorf("PHOENIX_CLIENT_HEADERS: %w", err)
	}
	if c.PhoenixAPIKey != "" {
		headers["authorization"] = "Bearer " + c.PhoenixAPIKey
	}
	return export.Config{
		Endpoint:           c.CollectorEndpoint,
		Protocol:           c.OTLPProtocol,
		ProjectName:        c.ProjectName,
		ServiceName:        c.ServiceName,
		Headers:            headers,
		BatchTimeout:       time.Duration(c.BSPScheduleDelayMS) * time.Millisecond,
		ExportTimeout:      time.Duration(c.BSPExportTimeoutMS) * time.Millisecond,
		MaxQueueSize:       c.BSPMaxQueueSize,
		MaxExportBatchSize: c.BSPMaxExportBatch,
		MaxExportBytes:     c.MaxExportBytes,
		BufferBytes:        c.SpanBufferBytes,
		AttemptTimeout:     c.ExportAttemptTimeout,
		SpoolDir:           c.SpoolDir,
		SpoolBytes:         c.SpoolBytes,
		SpoolFsyncInterval: c.SpoolFsyncInterval,
		MaxProjects:        c.MaxProjects,
		Disabled:           c.TracingDisabled,
	}, nil
}

// healthcheck asks the proxy on this machine (PORT) whether it is ready.
func healthcheck() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "4000"
	}
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/health/readiness")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readiness answered %s", resp.Status)
	}
	return nil
}

// isLoopback reports whether a listening host is reachable from this
// machine only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// rateLimitedErrors logs the OpenTelemetry SDK's errors, at most one line
// per interval, saying how many it held back.
type rateLimitedErrors struct {
	log      *slog.Logger
	interval time.Duration
	mu       sync.Mutex
	last     time.Time
	held     int
}

func newRateLimitedErrors(log *slog.Logger, interval time.Duration) *rateLimitedErrors {
	return &rateLimitedErrors{log: log, interval: interval}
}

// Handle logs err, or counts it if a line went out less than an interval
// ago.
func (r *rateLimitedErrors) Handle(err error) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.last) < r.interval {
		r.held++
		r.mu.Unlock()
		return
	}
	held := r.held
	r.last, r.held = now, 0
	r.mu.Unlock()
	r.log.Warn("tracing", "err", err, "similar_errors_not_logged", held)
}

// waitFor waits for wg, at most d.
func waitFor(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// version is the build's version, set with -ldflags "-X main.version=…"
// (make build, the Dockerfile).
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "--version", "version":
			fmt.Println("llmproxy", version)
			return
		case "healthcheck":
			// For a container's HEALTHCHECK: distroless has no shell or curl.
			if err := healthcheck(); err != nil {
				fmt.Fprintln(os.Stderr, "llmproxy healthcheck:", err)
				os.Exit(1)
			}
			return
		}
	}
	handlers.Version = version
	flags := flag.NewFlagSet("llmproxy", flag.ContinueOnError)
	configPath := flags.String("config", "", "LiteLLM `config.yaml` to read (or CONFIG_FILE_PATH)")
	if err := flags.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if flags.NArg() > 0 {
		// "llmproxy config.yaml" must not run without the file it names.
		fmt.Fprintf(os.Stderr, "llmproxy: unexpected argument %q: a config file is given as --config PATH; the rest is set by environment variables (README)\n", flags.Arg(0))
		os.Exit(2)
	}
	if *configPath == "" {
		*configPath = os.Getenv("CONFIG_FILE_PATH")
	}
	stopProfile := startCPUProfile()
	err := run(*configPath)
	stopProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, "llmproxy:", err)
		os.Exit(1)
	}
}

func run(configPath string) error {
	// The config file first: its environment_variables are set before the
	// environment is read, as LiteLLM sets them.
	var file *litellmconfig.File
	if configPath != "" {
		var err error
		if file, err = litellmconfig.Load(configPath, os.LookupEnv); err != nil {
			return err
		}
		for k, v := range file.Environment {
			if err := os.Setenv(k, v); err != nil {
				return fmt.Errorf("config file %s: environment_variables.%s: %w", configPath, k, err)
			}
		}
	}
	cfg, err := LoadConfig()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if file != nil && file.MasterKey != "" {
		cfg.MasterKey = file.MasterKey // general_settings.master_key, as LiteLLM takes it first
	}
	var logHandler slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	if cfg.LogFormat == "json" {
		logHandler = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})
	}
	log := slog.New(logHandler)
	// The OpenTelemetry SDK's and exporter's errors go through the same
	// logger, at most one line a second (an outage repeats them per batch).
	otel.SetErrorHandler(newRateLimitedErrors(log, time.Second))
	otel.SetLogger(logr.FromSlogHandler(log.Handler()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	providers, err := upstream.NewProviders(cfg.Env)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	rt := router.FromEnvironment(providers)
	if file != nil {
		if rt, err = router.New(file, providers); err != nil {
			return err
		}
		if ignored := append(file.Ignored, rt.Unserved...); len(ignored) > 0 {
			log.Warn("config file: settings LiteLLM has that this proxy does not act on", "file", file.Path, "settings", strings.Join(ignored, "; "))
		}
	}
	expCfg, err := cfg.exporterConfig()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	redaction, err := cfg.Redaction.redaction()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	tp, err := export.NewProvider(ctx, expCfg)
	if err != nil {
		return fmt.Errorf("configuration: PHOENIX_COLLECTOR_ENDPOINT: %w", err)
	}

	resolver, sharedSessions, closeSessions, err := cfg.sessions(ctx, log)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	projectPattern, _ := cfg.projectPattern() // checked by LoadConfig
	recorder := spans.NewRedactingRecorder(tp, redaction)
	m := metrics.New(func() metrics.SpanCounts {
		s := tp.BufferStats()
		return metrics.SpanCounts{
			Sent: s.Sent, Dropped: s.Dropped, Held: s.Held, HeldBytes: s.HeldBytes,
			Spooled: s.SpoolSpans, SpooledBytes: s.SpoolBytes, SpoolDamaged: s.SpoolDamaged, SpoolErrors: s.SpoolErrors,
		}
	})
	if sharedSessions != nil {
		m.WatchSessionStore(func() metrics.SessionStoreCounts {
			st := sharedSessions.Stats()
			return metrics.SessionStoreCounts{Up: st.Up, Lookups: st.Lookups, Hits: st.Hits, Failures: st.Failures,
				Outages: st.Outages, Written: st.Written, Dropped: st.Dropped}
		})
	}
	handler := handlers.New(handlers.Options{
		Metrics:           m,
		Providers:         providers,
		Router:            rt,
		Recorder:          recorder,
		ProjectPattern:    projectPattern,
		MaxBodyBytes:      cfg.MaxRequestBodyBytes,
		UpstreamTimeout:   cfg.UpstreamTimeout,
		StreamIdleTimeout: cfg.StreamIdleTimeout,
		Logger:            log,
		BodyReadTimeout:   cfg.BodyReadTimeout,
		MaxInFlight:       cfg.MaxInFlight,
		MasterKey:         cfg.MasterKey,
		Sessions:          resolver,
	})
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	var inflight sync.WaitGroup
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       120 * time.Second, // keep-alive connections left unused
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.MasterKey == "" && rt.HoldKeys() && !isLoopback(cfg.Host) {
		log.Warn("no LITELLM_MASTER_KEY: anyone who reaches this address can spend the provider keys the proxy holds",
			"addr", ln.Addr().String())
	}
	log.Info("llmproxy listening", "addr", ln.Addr().String(), "upstream", providers.Default().BaseURL, "config", configPath, "model_names", len(rt.Names()),
		"collector", cfg.CollectorEndpoint, "project", cfg.ProjectName, "tracing", !cfg.TracingDisabled)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}

	log.Info("shutting down: draining requests, then flushing spans")
	drainCtx, cancelDrain := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelDrain()
	if err := srv.Shutdown(drainCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		// Streams still open past the timeout are cut: their spans end
		// (with the error) as their handlers return.
		log.Warn("draining requests", "err", err)
		_ = srv.Close()
		waitFor(&inflight, 5*time.Second)
	}
	// The flush has its own time: a drain that used up the shutdown timeout
	// must not cost the spans of every call it waited for.
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancelFlush()
	if err := closeSessions(flushCtx); err != nil {
		log.Warn("sessions: Redis", "err", err)
	}
	if err := tp.Shutdown(flushCtx); err != nil {
		return fmt.Errorf("flushing spans: %w", err)
	}
	return nil
}
