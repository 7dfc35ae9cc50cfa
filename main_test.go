package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfigDefaults(t *testing.T) {
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4000 || c.Host != "127.0.0.1" || c.CollectorEndpoint != "http://localhost:4317" ||
		c.ProjectName != "default" || c.BSPMaxQueueSize != 2048 || c.BSPMaxExportBatch != 512 ||
		c.MaxRequestBodyBytes != 32<<20 || c.TracingDisabled {
		t.Errorf("defaults: %+v", c)
	}
	exp, err := c.exporterConfig()
	if err != nil {
		t.Fatal(err)
	}
	if exp.BatchTimeout != 5*time.Second || exp.ExportTimeout != 30*time.Second {
		t.Errorf("exporter defaults: %+v", exp)
	}
}

func TestLoadConfigFromEnvironment(t *testing.T) {
	t.Setenv("PORT", "8080")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
	t.Setenv("PHOENIX_API_KEY", "px-key")
	t.Setenv("PHOENIX_CLIENT_HEADERS", "x-team=search,x-note=a%20b")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
	t.Setenv("OTEL_SDK_DISABLED", "true")
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	exp, err := c.exporterConfig()
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.OpenAIBaseURL != "http://127.0.0.1:9/v1" || !exp.Disabled || exp.BatchTimeout != 250*time.Millisecond {
		t.Errorf("config: %+v %+v", c, exp)
	}
	want := map[string]string{"authorization": "Bearer px-key", "x-team": "search", "x-note": "a b"}
	for k, v := range want {
		if exp.Headers[k] != v {
			t.Errorf("header %s: got %q; want %q", k, exp.Headers[k], v)
		}
	}
}

func TestInvalidConfigNamesTheVariable(t *testing.T) {
	tests := []struct{ name, value string }{
		{"PORT", "eighty"},
		{"PORT", "70000"},
		{"OTEL_BSP_MAX_QUEUE_SIZE", "-1"},
		{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"}, // more than the queue
		{"OTEL_BSP_SCHEDULE_DELAY", "soon"},
		{"OTEL_SDK_DISABLED", "maybe"},
		{"UPSTREAM_TIMEOUT", "10 parsecs"},
		{"MAX_REQUEST_BODY_BYTES", "0"},
		{"LOG_LEVEL", "LOUD"},
		{"OTLP_MAX_EXPORT_BYTES", "1000"},
		{"MAX_IN_FLIGHT_REQUESTS", "-5"},
		{"LOG_FORMAT", "xml"},
		{"BODY_READ_TIMEOUT", "-1s"},
		{"READ_HEADER_TIMEOUT", "-1s"},
		{"REDACT_PATTERNS", `["sk-[a-z"]`},
		{"PHOENIX_PROJECT_PATTERN", `team-(`},
		{"PHOENIX_MAX_PROJECTS", "0"},
		{"REDACT_PATTERNS", `sk-.*`},
		{"OPENINFERENCE_HIDE_INPUTS", "perhaps"},
		{"OPENINFERENCE_BASE64_IMAGE_MAX_LENGTH", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.name, tt.value)
			_, err := LoadConfig()
			if err == nil || !strings.Contains(err.Error(), tt.name) {
				t.Errorf("got %v; want an error naming %s", err, tt.name)
			}
		})
	}
}

func TestInvalidURLsNameTheVariable(t *testing.T) {
	t.Setenv("OPENAI_API_BASE", "api.openai.com/v1")
	if err := run(""); err == nil || !strings.Contains(err.Error(), "OPENAI_API_BASE") {
		t.Errorf("got %v; want an error naming OPENAI_API_BASE", err)
	}
	t.Setenv("OPENAI_API_BASE", "")
	t.Setenv("PHOENIX_CLIENT_HEADERS", "novalue")
	if err := run(""); err == nil || !strings.Contains(err.Error(), "PHOENIX_CLIENT_HEADERS") {
		t.Errorf("got %v; want an error naming PHOENIX_CLIENT_HEADERS", err)
	}
	t.Setenv("PHOENIX_CLIENT_HEADERS", "")
	t.Setenv("PHOENIX_COLLECTOR_ENDPOINT", "ftp://collector:4317")
	if err := run(""); err == nil || !strings.Contains(err.Error(), "PHOENIX_COLLECTOR_ENDPOINT") {
		t.Errorf("got %v; want an error naming PHOENIX_COLLECTOR_ENDPOINT", err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.0.0.2": true,
		"0.0.0.0": false, "": false, "10.0.0.5": false, "::": false, "example.com": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v; want %v", host, got, want)
		}
	}
}

// A config file that cannot be served as written stops start-up with a
// message naming the file, the entry and the field.
func TestConfigFileErrorsStopStartup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct{ yaml, want string }{
		{"model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o, api_key: os.environ/LLMPROXY_TEST_UNSET}\n",
			`model_list[0] (model_name "a").litellm_params.api_key: references environment variable LLMPROXY_TEST_UNSET, which is not set`},
		{"model_list:\n- model_name: a\n  litellm_params: {model: azure/x}\n", `model_list[0] (model_name "a"): litellm_params: model "azure/x"`},
		{"model_list:\n- model_name: a\n  litellm_params: {model: gpt-4o, api_base: not-a-url}\n", `api_base "not-a-url"`},
	}
	for _, tt := range tests {
		write(tt.yaml)
		err := run(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run: %v\nwant the file and %q", err, tt.want)
		}
	}
}
