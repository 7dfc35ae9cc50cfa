package main

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// envVars are the variables Config reads, from its envconfig tags.
func envVars(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag := f.Tag.Get("envconfig"); tag != "" {
			out = append(out, tag)
		} else if f.Type.Kind() == reflect.Struct {
			out = append(out, envVars(f.Type)...)
		}
	}
	return out
}

// TestEnvExampleListsEveryVariable: .env.example, which compose reads
// through .env, names every variable the proxy reads.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	vars := envVars(reflect.TypeOf(Config{}))
	if len(vars) < 50 {
		t.Fatalf("only %d variables found in Config", len(vars))
	}
	for _, v := range vars {
		if !regexp.MustCompile(`(?m)^#? ?` + v + `=`).Match(b) {
			t.Errorf(".env.example does not list %s", v)
		}
	}
}

// TestComposeFile checks docker-compose.yml as `docker compose` would read
// it (no Docker engine here): Phoenix pinned and healthy before the proxy
// starts, both published on loopback only, health checks, a stop grace
// period longer than the drain plus the flush, the proxy's variables from
// .env.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string `yaml:"image"`
			Ports       []string
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			DependsOn map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			StopGracePeriod string           `yaml:"stop_grace_period"`
			EnvFile         []map[string]any `yaml:"env_file"`
			Environment     map[string]string
			Volumes         []string
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	phoenix, proxy := c.Services["phoenix"], c.Services["llmproxy"]
	e2ePins, _ := os.ReadFile("integration/e2e/requirements.txt")
	pin := regexp.MustCompile(`arize-phoenix==(\S+)`).FindSubmatch(e2ePins)
	if pin == nil || phoenix.Image != "arizephoenix/phoenix:version-"+string(pin[1]) {
		t.Errorf("phoenix image %q; want the e2e suite's pinned version", phoenix.Image)
	}
	for name, s := range map[string][]string{"phoenix": phoenix.Ports, "llmproxy": proxy.Ports} {
		if len(s) == 0 {
			t.Errorf("%s publishes no port", name)
		}
		for _, p := range s {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond loopback", name, p)
			}
		}
	}
	if !strings.Contains(strings.Join(phoenix.Healthcheck.Test, " "), "/healthz") {
		t.Errorf("phoenix health check %v; want its /healthz route", phoenix.Healthcheck.Test)
	}
	if strings.Join(proxy.Healthcheck.Test, " ") != "CMD /usr/local/bin/llmproxy healthcheck" {
		t.Errorf("proxy health check %v; want the binary's healthcheck", proxy.Healthcheck.Test)
	}
	if proxy.DependsOn["phoenix"].Condition != "service_healthy" {
		t.Errorf("the proxy starts before Phoenix is healthy")
	}
	// Drain (SHUTDOWN_TIMEOUT, 30 s) then flush (as long again), with room.
	if proxy.StopGracePeriod != "75s" {
		t.Errorf("stop_grace_period %q; want 75s (30 s drain + 30 s flush + margin)", proxy.StopGracePeriod)
	}
	if len(proxy.EnvFile) == 0 || proxy.EnvFile[0]["path"] != ".env" {
		t.Errorf("the proxy's variables do not come from .env: %v", proxy.EnvFile)
	}
	if proxy.Environment["PHOENIX_COLLECTOR_ENDPOINT"] != "${PHOENIX_COLLECTOR_ENDPOINT:-http://phoenix:4317}" {
		t.Errorf("the proxy does not export to the Phoenix service: %v", proxy.Environment)
	}
	// The optional LiteLLM config: a folder of the repository, mounted
	// read-only where deploy/config/README.md says.
	if want := "${LLMPROXY_CONFIG_DIR:-./deploy/config}:/etc/llmproxy:ro"; !slices.Contains(proxy.Volumes, want) {
		t.Errorf("proxy volumes %q; want %q", proxy.Volumes, want)
	}
	if readme, err := os.ReadFile("deploy/config/README.md"); err != nil || !strings.Contains(string(readme), "CONFIG_FILE_PATH=/etc/llmproxy/config.yaml") {
		t.Errorf("deploy/config/README.md does not say how to use the mount: %v", err)
	}
}

// TestDockerfile checks the image's build as a reviewer would: the Go of
// go.mod, a static binary, the version stamped, a numeric non-root user,
// listening on every interface, a health check by the binary itself.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	mod, _ := os.ReadFile("go.mod")
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(mod)
	for _, want := range []string{
		"FROM golang:" + string(goVersion[1]) + "-",
		"CGO_ENABLED=0",
		"-X main.version=${VERSION}",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532",
		"ENV HOST=0.0.0.0",
		`HEALTHCHECK`,
		`CMD ["/usr/local/bin/llmproxy", "healthcheck"]`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
