// Package fakeprovider is an OpenAI-compatible upstream for tests: it
// replays real recorded traffic (go-vcr cassettes) byte for byte, streams
// event by event at a set pace, and can answer the way OpenAI does when a
// proxy asks for stream usage on its client's behalf.
package fakeprovider

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// Cassette is one recorded call: the request as sent and the response as
// received.
type Cassette struct {
	Name     string // file name without .yaml
	Request  Request
	Response Response
}

// Request is a recorded request.
type Request struct {
	Method  string              `yaml:"method"`
	URL     string              `yaml:"url"`
	Body    string              `yaml:"body"`
	Headers map[string][]string `yaml:"headers"`
}

// Path is the request URL's path, e.g. /v1/chat/completions.
func (r Request) Path() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return r.URL
	}
	return u.Path
}

// Response is a recorded response; Body is the exact bytes (for a stream,
// the whole SSE text).
type Response struct {
	Code    int                 `yaml:"code"`
	Body    string              `yaml:"body"`
	Headers map[string][]string `yaml:"headers"`
}

// ContentType is the recorded response's Content-Type.
func (r Response) ContentType() string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Content-Type") && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// IsStream reports whether the recorded response is an event stream.
func (r Response) IsStream() bool {
	return strings.HasPrefix(r.ContentType(), "text/event-stream")
}

// LoadDir reads every *.yaml cassette in dir, sorted by name. Each must
// hold exactly one interaction.
func LoadDir(dir string) ([]Cassette, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := make([]Cassette, 0, len(paths))
	for _, p := range paths {
		c, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// LoadFile reads one cassette.
func LoadFile(path string) (Cassette, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Cassette{}, err
	}
	var doc struct {
		Interactions []struct {
			Request  Request  `yaml:"request"`
			Response Response `yaml:"response"`
		} `yaml:"interactions"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Cassette{}, fmt.Errorf("parsing cassette %s: %w", path, err)
	}
	if len(doc.Interactions) != 1 {
		return Cassette{}, fmt.Errorf("cassette %s: %d interactions, want 1", path, len(doc.Interactions))
	}
	it := doc.Interactions[0]
	return Cassette{
		Name:     strings.TrimSuffix(filepath.Base(path), ".yaml"),
		Request:  it.Request,
		Response: it.Response,
	}, nil
}

// Events splits a recorded SSE body into events, each with its blank line,
// so that joining them gives the body back.
func Events(body string) []string {
	var events []string
	for len(body) > 0 {
		i := strings.Index(body, "\n\n")
		if i < 0 {
			events = append(events, body)
			break
		}
		events = append(events, body[:i+2])
		body = body[i+2:]
	}
	return events
}
