package stream_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
	"github.com/phoenixproxy/llmproxy/stream"
)

// benchStream is one recorded stream, split the way it reaches the proxy:
// one event per read, as the upstream flushes each.
type benchStream struct {
	name   string
	events [][]byte
	// usage says the stream carries include_usage's chunks, so a relay
	// with the usage stripper has something to take out.
	usage bool
}

func (s benchStream) bytes() int {
	n := 0
	for _, ev := range s.events {
		n += len(ev)
	}
	return n
}

// benchStreams loads real traffic: chat-streaming, recorded from OpenAI (a
// role chunk, 48 content chunks, a finish chunk), from the repository's
// fixtures (integration/testdata, or $FIXTURES_DIR), and the
// tool-call stream (derived from recorded chat-tools, with include_usage).
// A stream without usage also comes with OpenAI's include_usage chunks
// added, for the relay's usage-stripping path.
func benchStreams(b *testing.B) []benchStream {
	b.Helper()
	var out []benchStream
	add := func(name, path string) {
		c, err := fakeprovider.LoadFile(path)
		if err != nil {
			b.Fatalf("loading %s: %v", name, err)
		}
		events := fakeprovider.Events(c.Response.Body)
		usage := strings.Contains(c.Response.Body, `"usage":{`)
		out = append(out, benchStream{name: name, events: toBytes(events), usage: usage})
		if !usage {
			out = append(out, benchStream{name: name + "+usage", events: toBytes(fakeprovider.WithUsage(events)), usage: true})
		}
	}
	fixtures := os.Getenv("FIXTURES_DIR")
	if fixtures == "" {
		fixtures = filepath.Join("..", "integration", "testdata")
	}
	add("chat-streaming", filepath.Join(fixtures, "openai", "cassettes", "chat-streaming.yaml"))
	add("chat-streaming-tools", filepath.Join("..", "integration", "e2e", "cassettes", "synthetic-chat-streaming-tools.yaml"))
	return out
}

func toBytes(events []string) [][]byte {
	out := make([][]byte, len(events))
	for i, ev := range events {
		out[i] = []byte(ev)
	}
	return out
}

// BenchmarkParserFeed parses a whole stream, one read per event; an op is
// one stream.
func BenchmarkParserFeed(b *testing.B) {
	for _, s := range benchStreams(b) {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(s.bytes()))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				var p stream.Parser
				for _, ev := range s.events {
					p.Feed(ev, func(stream.Event) { n++ })
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
		})
	}
}

// BenchmarkAccumulatorAdd merges every chunk of a stream and builds the
// response; an op is one stream.
func BenchmarkAccumulatorAdd(b *testing.B) {
	for _, s := range benchStreams(b) {
		var chunks [][]byte
		for _, ev := range s.events {
			data, ok := bytes.CutPrefix(ev, []byte("data: "))
			data = bytes.TrimSpace(data)
			if ok && !bytes.Equal(data, []byte("[DONE]")) {
				chunks = append(chunks, data)
			}
		}
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(s.bytes()))
			b.ReportAllocs()
			for b.Loop() {
				var acc stream.ChatAccumulator
				for _, c := range chunks {
					if _, err := acc.Add(c); err != nil {
						b.Fatal(err)
					}
				}
				if len(acc.Result()) == 0 {
					b.Fatal("empty result")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(chunks)), "ns/chunk")
		})
	}
}

// eventReader returns one event per Read, as a socket does when the
// upstream flushes after each.
type eventReader struct {
	events [][]byte
	i      int
}

func (r *eventReader) Read(p []byte) (int, error) {
	if r.i == len(r.events) {
		return 0, io.EOF
	}
	n := copy(p, r.events[r.i])
	r.i++
	return n, nil
}

// BenchmarkRelayCopy relays a whole stream to a discarding client:
// "passthrough" writes each read as it came and parses a copy;
// "strip-usage" (the proxy asked for include_usage, the client did not)
// re-frames events and takes out the usage chunk and "usage":null. An op is
// one stream.
func BenchmarkRelayCopy(b *testing.B) {
	for _, s := range benchStreams(b) {
		modes := []bool{false}
		if s.usage {
			modes = append(modes, true)
		}
		for _, strip := range modes {
			name := s.name + "/passthrough"
			if strip {
				name = s.name + "/strip-usage"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(s.bytes()))
				b.ReportAllocs()
				firsts := 0
				for b.Loop() {
					r := stream.Relay{OnFirstToken: func() { firsts++ }}
					if strip {
						r.Rewrite = &stream.UsageStripper{}
					}
					if err := r.Copy(io.Discard, func() {}, &eventReader{events: s.events}); err != nil {
						b.Fatal(err)
					}
					if !r.Done() {
						b.Fatal("stream did not end with [DONE]")
					}
				}
				if firsts != b.N {
					b.Fatalf("first token reported %d times in %d streams", firsts, b.N)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(s.events)), "ns/event")
			})
		}
	}
}
