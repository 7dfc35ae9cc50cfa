// Package fakeprovider is an OpenAI-compatible upstream for tests: it
// replays real recorded traffic (go-vcr and vcrpy cassettes) byte for byte,
// streams event by event at a set pace, and can answer the way OpenAI does
// when a proxy asks for stream usage on its client's behalf.
package fakeprovider

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
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

// ContentType is the recorded request's Content-Type, or "".
func (r Request) ContentType() string { return header(r.Headers, "Content-Type") }

// Response is a recorded response; Body is the exact bytes (for a stream,
// the whole SSE text).
type Response struct {
	Code    int                 `yaml:"code"`
	Body    string              `yaml:"body"`
	Headers map[string][]string `yaml:"headers"`
}

// ContentType is the recorded response's Content-Type.
func (r Response) ContentType() string { return header(r.Headers, "Content-Type") }

// header is the first value of a recorded header, by any case of its name.
func header(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// IsStream reports whether the recorded response is an event stream:
// server-sent events, or AWS's binary event stream.
func (r Response) IsStream() bool {
	ct := r.ContentType()
	return strings.HasPrefix(ct, "text/event-stream") || strings.HasPrefix(ct, eventStreamType)
}

// eventStreamType is AWS's binary event stream (Bedrock's streams).
const eventStreamType = "application/vnd.amazon.eventstream"

// isEventStream reports whether a body starts with an AWS event-stream
// message: a 12-byte prelude whose CRC32 checks.
func isEventStream(body string) bool {
	if len(body) < 16 {
		return false
	}
	b := []byte(body[:12])
	return crc32.ChecksumIEEE(b[:8]) == binary.BigEndian.Uint32(b[8:12])
}

// LoadDir reads every interaction of every *.yaml cassette in dir, files
// sorted by name (see LoadAll for the names).
func LoadDir(dir string) ([]Cassette, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []Cassette
	for _, p := range paths {
		cs, err := LoadAll(p)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

// LoadFile reads a cassette of exactly one interaction.
func LoadFile(path string) (Cassette, error) {
	cs, err := LoadAll(path)
	if err != nil {
		return Cassette{}, err
	}
	if len(cs) != 1 {
		return Cassette{}, fmt.Errorf("cassette %s: %d interactions, want 1", path, len(cs))
	}
	return cs[0], nil
}

// LoadAll reads every interaction of a cassette, in order. The first is
// named after the file (NAME), interaction K after it NAME@K, as the golden
// spans are. Two formats are read:
//   - go-vcr: request {method, url, body}, response {code, body, headers};
//   - vcrpy: request {method, uri, body or parsed_body}, response {status:
//     {code}, body: {string} or parsed_body, headers}. A parsed body is sent
//     as its JSON; a response without a Content-Type gets the one its body
//     shows (event stream or JSON).
func LoadAll(path string) ([]Cassette, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Interactions []interaction `yaml:"interactions"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing cassette %s: %w", path, err)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".yaml")
	out := make([]Cassette, 0, len(doc.Interactions))
	for k, it := range doc.Interactions {
		c, err := it.cassette()
		if err != nil {
			return nil, fmt.Errorf("cassette %s, interaction %d: %w", path, k, err)
		}
		c.Name = name
		if k > 0 {
			c.Name = fmt.Sprintf("%s@%d", name, k)
		}
		out = append(out, c)
	}
	return out, nil
}

// interaction is one recorded exchange in either format.
type interaction struct {
	Request struct {
		Method     string              `yaml:"method"`
		URL        string              `yaml:"url"`
		URI        string              `yaml:"uri"`
		Body       string              `yaml:"body"`
		ParsedBody any                 `yaml:"parsed_body"`
		Headers    map[string][]string `yaml:"headers"`
	} `yaml:"request"`
	Response struct {
		Code int `yaml:"code"`
		// Status is "200 OK" (go-vcr) or {code: 200, …} (vcrpy).
		Status any `yaml:"status"`
		// Body is a string (go-vcr) or {string: …} (vcrpy).
		Body       any                 `yaml:"body"`
		ParsedBody any                 `yaml:"parsed_body"`
		Headers    map[string][]string `yaml:"headers"`
	} `yaml:"response"`
}

func (it interaction) cassette() (Cassette, error) {
	req, resp := it.Request, it.Response
	c := Cassette{
		Request:  Request{Method: req.Method, URL: req.URL, Body: req.Body, Headers: req.Headers},
		Response: Response{Code: resp.Code, Headers: resp.Headers},
	}
	if c.Request.URL == "" {
		c.Request.URL = req.URI
	}
	if req.ParsedBody != nil {
		b, err := json.Marshal(req.ParsedBody)
		if err != nil {
			return c, fmt.Errorf("request parsed_body: %w", err)
		}
		c.Request.Body = string(b)
	}
	if status, ok := resp.Status.(map[string]any); ok && c.Response.Code == 0 {
		code, ok := status["code"].(uint64)
		if !ok {
			return c, fmt.Errorf("response status code %v is not a number", status["code"])
		}
		c.Response.Code = int(code)
	}
	switch b := resp.Body.(type) {
	case string:
		c.Response.Body = b
	case []byte: // !!binary: an AWS event stream
		c.Response.Body = string(b)
	case map[string]any:
		switch s := b["string"].(type) {
		case string:
			c.Response.Body = s
		case []byte:
			c.Response.Body = string(s)
		}
	}
	if resp.ParsedBody != nil {
		b, err := json.Marshal(resp.ParsedBody)
		if err != nil {
			return c, fmt.Errorf("response parsed_body: %w", err)
		}
		c.Response.Body = string(b)
	}
	if c.Response.ContentType() == "" {
		if c.Response.Headers == nil {
			c.Response.Headers = map[string][]string{}
		}
		ct := "application/json"
		switch {
		case strings.HasPrefix(c.Response.Body, "event:") || strings.HasPrefix(c.Response.Body, "data:"):
			ct = "text/event-stream"
		case isEventStream(c.Response.Body):
			ct = eventStreamType
		}
		c.Response.Headers["Content-Type"] = []string{ct}
	}
	return c, nil
}

// Events splits a recorded SSE body into events, each with its blank line,
// so that joining them gives the body back. Events end at a blank line of
// either line ending ("\n\n", or "\r\n\r\n" as Google writes them).
func Events(body string) []string {
	var events []string
	for len(body) > 0 {
		i, n := strings.Index(body, "\n\n"), 2
		if j := strings.Index(body, "\r\n\r\n"); j >= 0 && (i < 0 || j < i) {
			i, n = j, 4
		}
		if i < 0 {
			events = append(events, body)
			break
		}
		events = append(events, body[:i+n])
		body = body[i+n:]
	}
	return events
}

// Messages splits a recorded AWS event stream into its messages, by the
// total length each prelude gives, so that joining them gives the body
// back (a tail too short to be a message is one more piece).
func Messages(body string) []string {
	var out []string
	for len(body) > 0 {
		n := len(body)
		if len(body) >= 4 {
			if total := int(binary.BigEndian.Uint32([]byte(body[:4]))); total >= 16 && total <= len(body) {
				n = total
			}
		}
		out = append(out, body[:n])
		body = body[n:]
	}
	return out
}
