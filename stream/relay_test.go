package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tidwall/gjson"
)

// readsReader returns its bytes in reads whose sizes come from next, and
// keeps each read it returned.
type readsReader struct {
	b     []byte
	next  func() int
	reads [][]byte
}

func (r *readsReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := min(r.next(), len(p), len(r.b))
	copy(p, r.b[:n])
	if n > 0 {
		r.reads = append(r.reads, bytes.Clone(r.b[:n]))
	}
	r.b = r.b[n:]
	return n, nil
}

// randomReads reads b in random sizes from 0 to max bytes.
func randomReads(b []byte, seed uint64, max int) *readsReader {
	rnd := rand.New(rand.NewPCG(seed, seed))
	return &readsReader{b: b, next: func() int { return rnd.IntN(max + 1) }}
}

// sizedReads reads b in sizes taken in turn from sizes (1 byte each when
// there are none). A 0 makes an empty read, and the read after it at least
// 1 byte, so that the stream ends.
func sizedReads(b, sizes []byte) *readsReader {
	i, empty := 0, false
	return &readsReader{b: b, next: func() int {
		if len(sizes) == 0 {
			return 1
		}
		n := int(sizes[i%len(sizes)])
		i++
		if n == 0 && empty {
			n = 1
		}
		empty = n == 0
		return n
	}}
}

// client records what a relay writes, and when it flushes.
type client struct {
	bytes.Buffer
	writes [][]byte
	ops    strings.Builder // "w" per write, "f" per flush
	err    error           // returned by Write once failAfter writes are done
	// failAfter is the number of writes that succeed when err is set.
	failAfter int
}

func (c *client) Write(p []byte) (int, error) {
	if c.err != nil && len(c.writes) >= c.failAfter {
		return 0, c.err
	}
	c.ops.WriteString("w")
	c.writes = append(c.writes, bytes.Clone(p))
	return c.Buffer.Write(p)
}

func (c *client) flush() { c.ops.WriteString("f") }

// checkFlushed fails unless every write was followed by a flush.
func (c *client) checkFlushed(t *testing.T) {
	t.Helper()
	if got, want := c.ops.String(), strings.Repeat("wf", len(c.writes)); got != want {
		t.Errorf("writes and flushes = %q; want %q (a flush after each write)", got, want)
	}
}

// recordedStreams are the recorded streams, with LF, CRLF and CR line
// endings.
func recordedStreams(t testing.TB, names ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, name := range names {
		b := readTestdata(t, name)
		out[name] = b
		out[name+" CRLF"] = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
		out[name+" CR"] = bytes.ReplaceAll(b, []byte("\n"), []byte("\r"))
	}
	return out
}

func TestRelayUnchanged(t *testing.T) {
	streams := recordedStreams(t, "chat-streaming.sse", "completion-streaming.sse",
		"chat-streaming-web-search.sse", "chat-streaming-include-usage.sse")
	streams["truncated"] = []byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choi")
	streams["comments and odd fields"] = []byte(": hi\n\nevent: x\nid: 1\ndata: [1]\n\nretry: 5\n\n\n")
	for name, in := range streams {
		for _, max := range []int{1, 3, 100, 4096, 64 << 10} {
			seeds := uint64(4)
			if max == 1 {
				seeds = 1 // reads of 0 or 1 byte: slow, and one run is enough
			}
			for seed := range seeds {
				t.Run(fmt.Sprintf("%s/max %d/seed %d", name, max, seed), func(t *testing.T) {
					src := randomReads(in, seed, max)
					var c client
					r := Relay{}
					if err := r.Copy(&c, c.flush, src); err != nil {
						t.Fatalf("Copy error = %v; want nil", err)
					}
					if c.String() != string(in) {
						t.Fatalf("client got %q; want the stream unchanged, %q", c.String(), in)
					}
					if len(c.writes) != len(src.reads) {
						t.Fatalf("%d writes for %d reads; want one write per read", len(c.writes), len(src.reads))
					}
					for i := range c.writes {
						if !bytes.Equal(c.writes[i], src.reads[i]) {
							t.Fatalf("write %d = %q; want read %d as it came, %q", i, c.writes[i], i, src.reads[i])
						}
					}
					c.checkFlushed(t)
				})
			}
		}
	}
}

func TestRelayStripUsage(t *testing.T) {
	with := recordedStreams(t, "chat-streaming-include-usage.sse")
	without := recordedStreams(t, "chat-streaming.sse")
	const usage = `{"prompt_tokens":8,"completion_tokens":307,"total_tokens":315,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":256,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`
	// What the instrumentor recorded, with the usage chunk's usage and its
	// obfuscation (the last non-null value).
	wantResult := bytes.TrimSuffix(bytes.TrimSpace(readTestdata(t, "chat-streaming.output.json")), []byte("}"))
	wantResult = bytes.Replace(wantResult, []byte(`"XQdNwPP14L3TH0"`), []byte(`"Qx7"`), 1)
	wantResult = append(wantResult, `, "usage": `+usage+`}`...)
	for _, ending := range []string{"", " CRLF", " CR"} {
		in := with["chat-streaming-include-usage.sse"+ending]
		want := without["chat-streaming.sse"+ending]
		readers := map[string]func() io.Reader{
			"one read":     func() io.Reader { return bytes.NewReader(in) },
			"1-byte reads": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) },
			"data with EOF": func() io.Reader {
				return iotest.DataErrReader(iotest.HalfReader(bytes.NewReader(in)))
			},
		}
		for seed := range uint64(20) {
			readers[fmt.Sprintf("random reads %d", seed)] = func() io.Reader { return randomReads(in, seed, 1+int(seed)*37) }
		}
		for how, src := range readers {
			t.Run("LF"+ending+"/"+how, func(t *testing.T) {
				var c client
				firsts := 0
				acc := &countingAcc{Accumulator: &ChatAccumulator{}}
				r := Relay{Rewrite: &UsageStripper{}, Acc: acc, OnFirstToken: func() { firsts++ }}
				if err := r.Copy(&c, c.flush, src()); err != nil {
					t.Fatalf("Copy error = %v; want nil", err)
				}
				if c.String() != string(want) {
					t.Fatalf("client got %q;\nwant the stream without usage, %q", c.String(), want)
				}
				c.checkFlushed(t)
				if got := resultUsage(r.Acc); got != usage {
					t.Errorf("Acc's usage = %q; want %q", got, usage)
				}
				if got := r.Acc.Result(); !jsonEqual(t, got, wantResult) {
					t.Errorf("Acc.Result() = %s; want %s", got, wantResult)
				}
				if !r.Done() || acc.bad != 0 || r.Truncated() || firsts != 1 {
					t.Errorf("Done %v, bad chunks %d, Truncated() %v, first tokens %d; want true, 0, false, 1",
						r.Done(), acc.bad, r.Truncated(), firsts)
				}
			})
		}
	}
}

func TestRelayStripUsageWritesWholeEvents(t *testing.T) {
	in := readTestdata(t, "chat-streaming-include-usage.sse")
	var c client
	r := Relay{Rewrite: &UsageStripper{}}
	if err := r.Copy(&c, c.flush, randomReads(in, 7, 50)); err != nil {
		t.Fatal(err)
	}
	for i, w := range c.writes {
		if !bytes.HasPrefix(w, []byte("data: ")) || !bytes.HasSuffix(w, []byte("\n\n")) {
			t.Errorf("write %d = %q; want whole events", i, w)
		}
		if bytes.Contains(w, []byte("usage")) {
			t.Errorf("write %d = %q; want no usage", i, w)
		}
	}
}

func TestRelayClientAskedForUsage(t *testing.T) {
	// The client's own include_usage: no usage stripper, it gets it all.
	in := readTestdata(t, "chat-streaming-include-usage.sse")
	var c client
	r := Relay{}
	if err := r.Copy(&c, c.flush, randomReads(in, 1, 500)); err != nil {
		t.Fatal(err)
	}
	if c.String() != string(in) {
		t.Errorf("client got %q; want the stream unchanged, %q", c.String(), in)
	}
	if !strings.Contains(resultUsage(r.Acc), `"total_tokens":315`) {
		t.Errorf("Acc's usage = %q; want the usage chunk's", resultUsage(r.Acc))
	}
}

var errBoom = errors.New("boom")

func TestRelayWriteError(t *testing.T) {
	in := readTestdata(t, "chat-streaming-include-usage.sse")
	for _, strip := range []bool{false, true} {
		for _, failAfter := range []int{0, 1, 5} {
			t.Run(fmt.Sprintf("strip %v/after %d writes", strip, failAfter), func(t *testing.T) {
				c := client{err: errBoom, failAfter: failAfter}
				r := Relay{Rewrite: stripper(strip)}
				err := r.Copy(&c, c.flush, randomReads(in, 3, 300))
				if !errors.Is(err, ErrWrite) || !errors.Is(err, errBoom) || errors.Is(err, ErrRead) {
					t.Errorf("Copy error = %v; want one wrapping ErrWrite and the writer's error", err)
				}
				if len(c.writes) != failAfter {
					t.Errorf("%d writes; want %d, then the failure", len(c.writes), failAfter)
				}
				c.checkFlushed(t)
			})
		}
	}
}

func TestRelayReadError(t *testing.T) {
	const event = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],\"usage\":null}\n\n"
	for _, strip := range []bool{false, true} {
		for _, tt := range []struct {
			name string
			src  io.Reader
			want string // what the client got before the error
		}{
			{"at once", iotest.ErrReader(errBoom), ""},
			{"after an event", io.MultiReader(strings.NewReader(event), iotest.ErrReader(errBoom)), event},
			{"timeout", iotest.TimeoutReader(strings.NewReader(event)), event},
		} {
			t.Run(fmt.Sprintf("strip %v/%s", strip, tt.name), func(t *testing.T) {
				var c client
				r := Relay{Rewrite: stripper(strip)}
				err := r.Copy(&c, c.flush, tt.src)
				if !errors.Is(err, ErrRead) || errors.Is(err, ErrWrite) {
					t.Errorf("Copy error = %v; want one wrapping ErrRead", err)
				}
				if tt.name == "timeout" && !errors.Is(err, iotest.ErrTimeout) {
					t.Errorf("Copy error = %v; want it to wrap iotest.ErrTimeout", err)
				} else if tt.name != "timeout" && !errors.Is(err, errBoom) {
					t.Errorf("Copy error = %v; want it to wrap the reader's error", err)
				}
				want := tt.want
				if strip {
					want = strings.Replace(want, `,"usage":null`, "", 1)
				}
				if c.String() != want {
					t.Errorf("client got %q; want %q", c.String(), want)
				}
			})
		}
	}
}

func TestRelayTruncated(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		truncated bool
	}{
		{"empty stream", "", false},
		{"complete", "data: {\"id\":\"a\"}\n\ndata: [DONE]\n\n", false},
		{"cut inside an event", "data: {\"id\":\"a\"}\n\ndata: {\"id\"", true},
		{"cut before the blank line", "data: {\"id\":\"a\"}\n", true},
		{"trailing blank lines", "data: {\"id\":\"a\"}\n\n\n\r\n", false},
		{"CR-terminated", "data: {\"id\":\"a\"}\r\r", false},
		{"unterminated comment", "data: {\"id\":\"a\"}\n\n: ping", true},
	}
	for _, tt := range tests {
		for _, strip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/strip %v", tt.name, strip), func(t *testing.T) {
				var c client
				r := Relay{Rewrite: stripper(strip)}
				if err := r.Copy(&c, c.flush, strings.NewReader(tt.in)); err != nil {
					t.Fatal(err)
				}
				if c.String() != tt.in {
					t.Errorf("client got %q; want %q, the truncated event passed on", c.String(), tt.in)
				}
				if got := r.Truncated(); got != tt.truncated {
					t.Errorf("Truncated() = %v; want %v", got, tt.truncated)
				}
				c.checkFlushed(t)
			})
		}
	}
}

func TestRelayCRLFSplitAtTheEnd(t *testing.T) {
	// The stream's last read is the LF of its last CRLF: not a truncated
	// event, and written in both modes.
	const in = "data: {\"id\":\"a\"}\r\n\r\ndata: [DONE]\r\n\r\n"
	for _, strip := range []bool{false, true} {
		var c client
		r := Relay{Rewrite: stripper(strip)}
		src := &readsReader{b: []byte(in), next: func() int { return len(in) - 1 }}
		if err := r.Copy(&c, c.flush, src); err != nil {
			t.Fatal(err)
		}
		if c.String() != in {
			t.Errorf("strip %v: client got %q; want %q", strip, c.String(), in)
		}
		if r.Truncated() || !r.Done() {
			t.Errorf("strip %v: Truncated() = %v, Done = %v; want false, true", strip, r.Truncated(), r.Done())
		}
	}
}

func TestRelayStripUsageTruncatedEventPassedAsItCame(t *testing.T) {
	const in = "data: {\"id\":\"a\",\"usage\":null}\n\ndata: {\"id\":\"b\",\"usage\":null}"
	const want = "data: {\"id\":\"a\"}\n\ndata: {\"id\":\"b\",\"usage\":null}"
	var c client
	r := Relay{Rewrite: &UsageStripper{}}
	if err := r.Copy(&c, c.flush, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if c.String() != want {
		t.Errorf("client got %q; want %q", c.String(), want)
	}
	if !r.Truncated() {
		t.Errorf("Truncated() = false; want true")
	}
}

func TestRelayFirstToken(t *testing.T) {
	in := readTestdata(t, "chat-streaming-include-usage.sse")
	for _, strip := range []bool{false, true} {
		for _, max := range []int{1, 40, 32 << 10} {
			t.Run(fmt.Sprintf("strip %v/max %d", strip, max), func(t *testing.T) {
				var c client
				calls := 0
				r := Relay{Rewrite: stripper(strip)}
				r.OnFirstToken = func() {
					calls++
					// The first token's bytes reached the client first.
					if !strings.Contains(c.String(), `"content":"Hi"}`) {
						t.Errorf("OnFirstToken called when the client had %q; want the first token written", c.String())
					}
					if c.ops.Len() == 0 || !strings.HasSuffix(c.ops.String(), "f") {
						t.Errorf("OnFirstToken called before a flush")
					}
				}
				if err := r.Copy(&c, c.flush, randomReads(in, 11, max)); err != nil {
					t.Fatal(err)
				}
				if calls != 1 {
					t.Errorf("OnFirstToken called %d times; want once", calls)
				}
			})
		}
	}
	t.Run("no token", func(t *testing.T) {
		const in = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
			"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
		calls := 0
		var c client
		r := Relay{OnFirstToken: func() { calls++ }}
		if err := r.Copy(&c, c.flush, strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		if calls != 0 {
			t.Errorf("OnFirstToken called %d times; want never", calls)
		}
	})
}

func TestRelayBadChunksAndDone(t *testing.T) {
	const in = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n" +
		"data: not json\n\n" +
		"event: ping\ndata: {\"id\":tru}\n\n" +
		": comment\n\n" +
		"data:  [DONE] \n\n"
	for _, strip := range []bool{false, true} {
		var c client
		acc := &countingAcc{Accumulator: &ChatAccumulator{}}
		r := Relay{Rewrite: stripper(strip), Acc: acc}
		if err := r.Copy(&c, c.flush, strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		if c.String() != in {
			t.Errorf("strip %v: client got %q; want %q", strip, c.String(), in)
		}
		if acc.bad != 2 {
			t.Errorf("strip %v: bad chunks = %d; want 2", strip, acc.bad)
		}
		if !r.Done() {
			t.Errorf("strip %v: Done = false; want true", strip)
		}
	}
}

func TestUsageOnly(t *testing.T) {
	tests := []struct {
		data string
		want bool
	}{
		{`{"id":"x","choices":[],"usage":{"total_tokens":3}}`, true},
		{`{"choices": [ ], "usage": {}}`, true},
		{`{"choices":[{"index":0,"delta":{}}],"usage":{"total_tokens":3}}`, false},
		{`{"choices":[],"usage":null}`, false},
		{`{"usage":{"total_tokens":3}}`, false},
		{`{"choices":{},"usage":{}}`, false},
		{`{"choices":[]}`, false},
		{`[DONE]`, false},
		{``, false},
	}
	for _, tt := range tests {
		if got := UsageOnly([]byte(tt.data)); got != tt.want {
			t.Errorf("UsageOnly(%q) = %v; want %v", tt.data, got, tt.want)
		}
	}
}

// stripper is the usage stripper of a relay that strips, nil for one that
// does not.
func stripper(strip bool) Rewriter {
	if strip {
		return &UsageStripper{}
	}
	return nil
}

// countingAcc counts the chunks its accumulator could not read.
type countingAcc struct {
	Accumulator
	bad int
}

func (c *countingAcc) Add(data []byte) (bool, error) {
	first, err := c.Accumulator.Add(data)
	if errors.Is(err, ErrBadChunk) {
		c.bad++
	}
	return first, err
}

// resultUsage is the raw JSON of the usage in an accumulator's result, or "".
func resultUsage(a Accumulator) string { return gjson.GetBytes(a.Result(), "usage").Raw }

func TestStripNullUsage(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{
			name: "last member",
			raw:  "data: {\"id\":\"a\",\"choices\":[],\"usage\":null}\n\n",
			want: "data: {\"id\":\"a\",\"choices\":[]}\n\n",
		},
		{
			name: "before obfuscation",
			raw:  "data: {\"id\":\"a\",\"choices\":[],\"usage\":null,\"obfuscation\":\"x\"}\n\n",
			want: "data: {\"id\":\"a\",\"choices\":[],\"obfuscation\":\"x\"}\n\n",
		},
		{
			name: "first member",
			raw:  "data: {\"usage\":null,\"id\":\"a\"}\n\n",
			want: "data: {\"id\":\"a\"}\n\n",
		},
		{
			name: "only member",
			raw:  "data: {\"usage\":null}\n\n",
			want: "data: {}\n\n",
		},
		{
			name: "spaces around the comma",
			raw:  "data: {\"id\":\"a\" , \"usage\":null }\n\n",
			want: "data: {\"id\":\"a\"  }\n\n",
		},
		{
			name: "CRLF",
			raw:  "data: {\"id\":\"a\",\"usage\":null}\r\n\r\n",
			want: "data: {\"id\":\"a\"}\r\n\r\n",
		},
		{
			name: "LF left from the previous event's CRLF",
			raw:  "\ndata: {\"id\":\"a\",\"usage\":null}\r\n\r\n",
			want: "\ndata: {\"id\":\"a\"}\r\n\r\n",
		},
		{
			name: "no space after data:",
			raw:  "data:{\"id\":\"a\",\"usage\":null}\n\n",
			want: "data:{\"id\":\"a\"}\n\n",
		},
		{
			name: "usage with a value stays",
			raw:  "data: {\"choices\":[],\"usage\":{\"total_tokens\":1}}\n\n",
			want: "data: {\"choices\":[],\"usage\":{\"total_tokens\":1}}\n\n",
		},
		{
			name: "not compact: left alone",
			raw:  "data: {\"id\":\"a\",\"usage\": null}\n\n",
			want: "data: {\"id\":\"a\",\"usage\": null}\n\n",
		},
		{
			name: "nested, none at the top: left alone",
			raw:  "data: {\"choices\":[{\"delta\":{\"usage\":null}}]}\n\n",
			want: "data: {\"choices\":[{\"delta\":{\"usage\":null}}]}\n\n",
		},
		{
			name: "nested after the top-level one: left alone",
			raw:  "data: {\"usage\":null,\"choices\":[{\"delta\":{\"usage\":null}}]}\n\n",
			want: "data: {\"usage\":null,\"choices\":[{\"delta\":{\"usage\":null}}]}\n\n",
		},
		{
			name: "inside a string",
			raw:  "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}\n\n",
			want: "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}\n\n",
		},
		{
			name: "in an array: left alone",
			raw:  "data: [\"usage\":null]\n\n",
			want: "data: [\"usage\":null]\n\n",
		},
		{
			name: "multi-line data: left alone",
			raw:  "data: {\"id\":\"a\",\ndata: \"usage\":null}\n\n",
			want: "data: {\"id\":\"a\",\ndata: \"usage\":null}\n\n",
		},
		{
			name: "not a data line",
			raw:  ": {\"id\":\"a\",\"usage\":null}\n\n",
			want: ": {\"id\":\"a\",\"usage\":null}\n\n",
		},
		{
			name: "invalid JSON",
			raw:  "data: {\"id\":,\"usage\":null}\n\n",
			want: "data: {\"id\":,\"usage\":null}\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(appendStripped(nil, []byte(tt.raw))); got != tt.want {
				t.Errorf("appendStripped(%q) = %q; want %q", tt.raw, got, tt.want)
			}
		})
	}
}

// relayString runs a relay over src.
func relayString(t *testing.T, strip bool, src *readsReader) (string, *Relay, *client) {
	t.Helper()
	c := &client{}
	r := &Relay{Rewrite: stripper(strip)}
	if err := r.Copy(c, c.flush, src); err != nil {
		t.Fatalf("Copy error = %v", err)
	}
	return c.String(), r, c
}

// isSubsequence reports whether a's bytes appear in b in the same order.
func isSubsequence(a, b []byte) bool {
	for _, c := range a {
		i := bytes.IndexByte(b, c)
		if i < 0 {
			return false
		}
		b = b[i+1:]
	}
	return true
}

func FuzzRelay(f *testing.F) {
	for _, name := range []string{"chat-streaming.sse", "chat-streaming-include-usage.sse", "completion-streaming.sse"} {
		b := seedEvents(readTestdata(f, name))
		f.Add(b, []byte{9, 0, 200})
		f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), []byte{1, 2, 3, 255})
		f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r")), []byte{64})
	}
	f.Add([]byte("data: {\"usage\":null,\"choices\":[{\"delta\":{\"usage\":null}}]}\r\n\r"), []byte{1})
	f.Add([]byte("data: {\"choices\":[],\"usage\":{}}\r\n\r\ndata: {\"a\":1,\"usage\":null}\r\n\r\n"), []byte{30, 1})
	f.Add([]byte("\xEF\xBB\xBFdata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\n: c\n\ndata: [DONE]\n\ndata: {\"x"), []byte{})
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		src := sizedReads(in, sizes)
		got, _, c := relayString(t, false, src)
		if got != string(in) {
			t.Fatalf("unchanged relay: client got %q; want the input %q", got, in)
		}
		if len(c.writes) != len(src.reads) {
			t.Fatalf("unchanged relay: %d writes for %d reads", len(c.writes), len(src.reads))
		}
		c.checkFlushed(t)

		oneRead := &readsReader{b: in, next: func() int { return len(in) }}
		whole, r, c := relayString(t, true, oneRead)
		c.checkFlushed(t)
		split, _, _ := relayString(t, true, sizedReads(in, sizes))
		if !isSubsequence([]byte(whole), in) {
			t.Fatalf("StripUsage relay wrote %q: not the input %q with parts left out", whole, in)
		}
		if split != whole {
			t.Fatalf("StripUsage relay: split reads give %q; larger reads give %q", split, whole)
		}
		if !bytes.Contains(in, []byte("usage")) && whole != string(in) {
			t.Fatalf("StripUsage relay of a stream without usage wrote %q; want it unchanged, %q", whole, in)
		}
		if !json.Valid(r.Acc.Result()) {
			t.Fatalf("Acc.Result() = %q is not valid JSON", r.Acc.Result())
		}
	})
}

// wholeEvents is a Rewriter that, like a translation, holds every event
// whole: it writes each event's data back in upper case.
type wholeEvents struct{}

func (wholeEvents) Rewrite(out []byte, ev Event, add func([]byte)) []byte {
	if !ev.HasData {
		return out
	}
	add(ev.Data)
	return append(append(append(out, "data: "...), bytes.ToUpper(ev.Data)...), "\n\n"...)
}
func (wholeEvents) Rest([]byte) []byte { return nil }
func (wholeEvents) Bounded() bool      { return false }

// TestRelayUnboundedRewriterStopsAtTheBound: a rewriter that must hold
// each event whole ends the stream at an event over MaxEvent (issue 21: a
// translated stream with one huge event grew without bound); the events
// before it reached the client, and memory never held more than the bound
// and one read.
func TestRelayUnboundedRewriterStopsAtTheBound(t *testing.T) {
	const maxEvent = 1 << 10
	small := `data: {"a":1}` + "\n\n"
	huge := `data: {"a":"` + strings.Repeat("x", 4*maxEvent) + `"}` + "\n\n"
	var out bytes.Buffer
	r := Relay{Rewrite: wholeEvents{}, MaxEvent: maxEvent, Acc: &ChatAccumulator{}}
	src := randomReads([]byte(small+huge+small), 7, 100)
	err := r.Copy(&out, func() {}, src)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("Copy: %v; want ErrEventTooLarge", err)
	}
	if out.String() != `data: {"A":1}`+"\n\n" {
		t.Errorf("client got %q; want the first event only", out.String())
	}
	if n := len(r.framer.Pending()); n > maxEvent {
		t.Errorf("the framer holds %d bytes; want at most %d", n, maxEvent)
	}
	// Under the bound, the same stream passes whole.
	out.Reset()
	r = Relay{Rewrite: wholeEvents{}, MaxEvent: 8 * maxEvent, Acc: &ChatAccumulator{}}
	if err := r.Copy(&out, func() {}, randomReads([]byte(small+huge+small), 7, 100)); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if strings.Count(out.String(), "data: ") != 3 {
		t.Errorf("client got %d events; want 3", strings.Count(out.String(), "data: "))
	}
}
