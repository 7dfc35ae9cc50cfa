package fakeprovider

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// multipartPlaceholder is what the recorder wrote instead of a form body:
// such a cassette matches by method and path alone.
const multipartPlaceholder = "[multipart form data omitted]"

// CassetteHeader, on a request, restricts the match to the cassette of that
// name (a proxy passes it on like any other header). AnyBodyHeader names a
// cassette to answer with whatever the body: for a request the proxy
// rewrote (a translated one), which tests check apart.
const (
	CassetteHeader = "X-Fake-Cassette"
	AnyBodyHeader  = "X-Fake-Cassette-Any-Body"
)

// Server replays cassettes. A request gets the response of the cassette
// whose recorded request has the same method and path and an equal body:
// JSON compared as JSON (key order and white space aside, stream_options
// ignored), anything else byte for byte. Where several recordings share a
// request, a CassetteHeader names the one to answer with.
type Server struct {
	cassettes []Cassette
	// Pace is the pause before each stream event after the first.
	Pace time.Duration
	// EmulateIncludeUsage makes the server answer a request that asks for
	// stream_options.include_usage, when the recorded one did not, as
	// OpenAI does: "usage":null in every chunk and a usage-only chunk
	// before [DONE].
	EmulateIncludeUsage bool
	// BeforeEvent, when set, is called before each stream event is written
	// (with its index) and may block: tests use it to move in lockstep.
	BeforeEvent func(i int)
	// AnyBody names, by request path, a cassette that answers every
	// request to that path whatever its method, query and body: for a
	// client whose requests no recording can hold byte for byte (an agent
	// CLI's prompt carries the date and its working directory). Requests
	// to other paths are matched as ever.
	AnyBody map[string]string
	// Log, when set, is told of each request an AnyBody route answered.
	Log func(format string, args ...any)

	mu   sync.Mutex
	seen []Seen
}

// Seen is a request the server received.
type Seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// New returns a server for the given cassettes.
func New(cassettes []Cassette) *Server {
	return &Server{cassettes: cassettes}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Seen(nil), s.seen...)
}

// ServeHTTP answers one request from the matching cassette.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.seen = append(s.seen, Seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	s.mu.Unlock()

	c, ok := s.match(r.Method, r.URL.Path, r.Header.Get(CassetteHeader), body)
	if name := r.Header.Get(AnyBodyHeader); name != "" {
		c, ok = s.named(name)
	}
	if name, route := s.AnyBody[r.URL.Path]; route {
		c, ok = s.named(name)
		if s.Log != nil {
			s.Log("any-body route: %s %s (%d bytes) answered with %s", r.Method, r.URL.Path, len(body), name)
		}
	}
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"fake_provider_no_cassette"}}`,
			"no cassette for "+r.Method+" "+r.URL.Path+": "+truncate(string(body), 300))
		return
	}
	usage := s.EmulateIncludeUsage && c.Response.IsStream() &&
		includeUsage(body) && !includeUsage([]byte(c.Request.Body))
	for k, vv := range c.Response.Headers {
		if strings.EqualFold(k, "Content-Length") {
			continue // the body's own length counts (a |- block lost a newline)
		}
		w.Header()[http.CanonicalHeaderKey(k)] = vv
	}
	w.WriteHeader(c.Response.Code)
	if !c.Response.IsStream() {
		_, _ = io.WriteString(w, c.Response.Body)
		return
	}
	flusher, _ := w.(http.Flusher)
	events := Events(c.Response.Body)
	if strings.HasPrefix(c.Response.ContentType(), eventStreamType) {
		events = Messages(c.Response.Body)
	}
	if usage {
		events = WithUsage(events)
	}
	for i, ev := range events {
		if s.BeforeEvent != nil {
			s.BeforeEvent(i)
		}
		if i > 0 && s.Pace > 0 {
			time.Sleep(s.Pace)
		}
		if _, err := io.WriteString(w, ev); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// named finds a cassette by name.
func (s *Server) named(name string) (Cassette, bool) {
	for _, c := range s.cassettes {
		if c.Name == name {
			return c, true
		}
	}
	return Cassette{}, false
}

// match finds the cassette for a request.
func (s *Server) match(method, path, name string, body []byte) (Cassette, bool) {
	var got any
	gotJSON := json.Unmarshal(body, &got) == nil
	if m, ok := got.(map[string]any); ok {
		delete(m, "stream_options")
	}
	for _, c := range s.cassettes {
		if c.Request.Method != method || c.Request.Path() != path || (name != "" && c.Name != name) {
			continue
		}
		if c.Request.Body == multipartPlaceholder || c.Request.Body == string(body) {
			return c, true
		}
		var want any
		if json.Unmarshal([]byte(c.Request.Body), &want) != nil || !gotJSON {
			continue
		}
		if m, ok := want.(map[string]any); ok {
			delete(m, "stream_options")
		}
		if reflect.DeepEqual(got, want) {
			return c, true
		}
	}
	return Cassette{}, false
}

func includeUsage(body []byte) bool {
	var req struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	return json.Unmarshal(body, &req) == nil && req.StreamOptions.IncludeUsage
}

// WithUsage turns recorded stream events into what OpenAI sends with
// include_usage: every chunk gets "usage":null as its last member, and a
// chunk with empty choices and the usage comes before [DONE]. The counts
// are made up: 1 prompt token, one completion token per chunk.
func WithUsage(events []string) []string {
	out := make([]string, 0, len(events)+1)
	var last map[string]any
	chunks := 0
	for _, ev := range events {
		data, isData := strings.CutPrefix(ev, "data: ")
		data = strings.TrimRight(data, "\n")
		if !isData || data == "[DONE]" || !strings.HasSuffix(data, "}") {
			if data == "[DONE]" && last != nil {
				out = append(out, usageChunk(last, chunks))
			}
			out = append(out, ev)
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(data), &m) == nil {
			last = m
			chunks++
		}
		out = append(out, "data: "+data[:len(data)-1]+`,"usage":null}`+"\n\n")
	}
	return out
}

func usageChunk(last map[string]any, chunks int) string {
	u := map[string]any{}
	for _, k := range []string{"id", "object", "created", "model", "system_fingerprint", "service_tier"} {
		if v, ok := last[k]; ok {
			u[k] = v
		}
	}
	u["choices"] = []any{}
	u["usage"] = map[string]any{
		"prompt_tokens":     1,
		"completion_tokens": chunks,
		"total_tokens":      1 + chunks,
	}
	b, _ := json.Marshal(u)
	return "data: " + string(b) + "\n\n"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}
