package stream

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ev is an Event with its slices copied out of the parser's buffers.
type ev struct {
	Type, Data string
	HasData    bool
	Raw        string
}

func (e ev) String() string {
	return fmt.Sprintf("{Type:%q Data:%q HasData:%v Raw:%q}", e.Type, e.Data, e.HasData, e.Raw)
}

// parse feeds reads to a new Parser, one Feed call each, and returns the
// events it emitted and the bytes it still holds.
func parse(reads ...[]byte) (events []ev, pending string) {
	var p Parser
	for _, r := range reads {
		p.Feed(r, func(e Event) {
			events = append(events, ev{Type: e.Type, Data: string(e.Data), HasData: e.HasData, Raw: string(e.Raw)})
		})
	}
	return events, string(p.Pending())
}

// joinRaw is what a relay that writes events by their Raw bytes sends.
func joinRaw(events []ev, pending string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.Raw)
	}
	b.WriteString(pending)
	return b.String()
}

// canonical undoes the one way the split of the reads shows in Raw: when a
// read ends between the CR and the LF of a line ending, the LF starts the
// next event's Raw (or the pending bytes) instead of ending the previous
// one's. It moves such an LF back.
func canonical(events []ev, pending string) ([]ev, string) {
	out := append([]ev(nil), events...)
	for i := 1; i < len(out); i++ {
		if strings.HasSuffix(out[i-1].Raw, "\r") && strings.HasPrefix(out[i].Raw, "\n") {
			out[i-1].Raw += "\n"
			out[i].Raw = out[i].Raw[1:]
		}
	}
	if n := len(out); n > 0 && strings.HasSuffix(out[n-1].Raw, "\r") && strings.HasPrefix(pending, "\n") {
		out[n-1].Raw += "\n"
		pending = pending[1:]
	}
	return out, pending
}

// cut splits b into reads whose sizes come from sizes, in turn (a 0 makes an
// empty read, then a 1-byte one). No sizes means 1-byte reads.
func cut(b, sizes []byte) [][]byte {
	var reads [][]byte
	for i := 0; len(b) > 0; i++ {
		n := 1
		if len(sizes) > 0 {
			n = int(sizes[i%len(sizes)])
		}
		if n == 0 {
			reads = append(reads, b[:0])
			n = 1
		}
		n = min(n, len(b))
		reads = append(reads, b[:n])
		b = b[n:]
	}
	return reads
}

// refParse is the spec's algorithm (HTML Living Standard 9.2.6) written out
// as plainly as possible, over a whole stream: the events it dispatches, with
// their type ("" for message) and data.
func refParse(in []byte) []ev {
	in = bytes.TrimPrefix(in, []byte("\xEF\xBB\xBF"))
	var (
		events []ev
		data   []byte
		typ    string
	)
	for {
		i := bytes.IndexAny(in, "\r\n")
		if i < 0 {
			return events // an incomplete line, then the end: discarded
		}
		line := in[:i]
		if in[i] == '\r' && i+1 < len(in) && in[i+1] == '\n' {
			i++
		}
		in = in[i+1:]
		switch {
		case len(line) == 0:
			if len(data) > 0 {
				events = append(events, ev{Type: typ, Data: string(data[:len(data)-1]), HasData: true})
			}
			data, typ = nil, ""
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "data":
				data = append(append(data, value...), '\n')
			case "event":
				typ = string(value)
			}
		}
	}
}

// dataEvents keeps the events that carry data, with only their type and data.
func dataEvents(events []ev) []ev {
	var out []ev
	for _, e := range events {
		if e.HasData {
			out = append(out, ev{Type: e.Type, Data: e.Data, HasData: true})
		}
	}
	return out
}

func equalEvents(a, b []ev) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var parserTests = []struct {
	name    string
	in      string
	want    []ev
	pending string
}{
	{name: "empty input"},
	{
		name: "LF",
		in:   "data: a\n\n",
		want: []ev{{Data: "a", HasData: true, Raw: "data: a\n\n"}},
	},
	{
		name: "CRLF",
		in:   "data: a\r\n\r\n",
		want: []ev{{Data: "a", HasData: true, Raw: "data: a\r\n\r\n"}},
	},
	{
		name: "CR",
		in:   "data: a\r\r",
		want: []ev{{Data: "a", HasData: true, Raw: "data: a\r\r"}},
	},
	{
		name: "mixed line endings",
		in:   "data: a\r\ndata: b\rdata: c\n\r\n",
		want: []ev{{Data: "a\nb\nc", HasData: true, Raw: "data: a\r\ndata: b\rdata: c\n\r\n"}},
	},
	{
		name: "CR CR LF is a line, then a blank line",
		in:   "data: a\r\r\n",
		want: []ev{{Data: "a", HasData: true, Raw: "data: a\r\r\n"}},
	},
	{
		name: "LF CR is a line, then a blank line",
		in:   "data: a\n\r",
		want: []ev{{Data: "a", HasData: true, Raw: "data: a\n\r"}},
	},
	{
		name: "no space after the colon",
		in:   "data:a\n\n",
		want: []ev{{Data: "a", HasData: true, Raw: "data:a\n\n"}},
	},
	{
		name: "only the first space goes",
		in:   "data:  a \n\n",
		want: []ev{{Data: " a ", HasData: true, Raw: "data:  a \n\n"}},
	},
	{
		name: "a tab is not a space",
		in:   "data:\ta\n\n",
		want: []ev{{Data: "\ta", HasData: true, Raw: "data:\ta\n\n"}},
	},
	{
		name: "later colons belong to the value",
		in:   "data: {\"a\": 1}\n\n",
		want: []ev{{Data: `{"a": 1}`, HasData: true, Raw: "data: {\"a\": 1}\n\n"}},
	},
	{
		name: "multi-line data joined by LF",
		in:   "data: a\ndata:\ndata: b\n\n",
		want: []ev{{Data: "a\n\nb", HasData: true, Raw: "data: a\ndata:\ndata: b\n\n"}},
	},
	{
		name: "empty data line",
		in:   "data:\n\n",
		want: []ev{{Data: "", HasData: true, Raw: "data:\n\n"}},
	},
	{
		name: "field without a colon has an empty value",
		in:   "data\n\n",
		want: []ev{{Data: "", HasData: true, Raw: "data\n\n"}},
	},
	{
		name: "two empty data lines",
		in:   "data\ndata\n\n",
		want: []ev{{Data: "\n", HasData: true, Raw: "data\ndata\n\n"}},
	},
	{
		name: "comment alone is no event",
		in:   ": ping\n\n",
		want: []ev{{Raw: ": ping\n\n"}},
	},
	{
		name: "comment inside an event",
		in:   "data: a\n: keep-alive\ndata: b\n\n",
		want: []ev{{Data: "a\nb", HasData: true, Raw: "data: a\n: keep-alive\ndata: b\n\n"}},
	},
	{
		name: "event field",
		in:   "event: error\ndata: {}\n\n",
		want: []ev{{Type: "error", Data: "{}", HasData: true, Raw: "event: error\ndata: {}\n\n"}},
	},
	{
		name: "last event field wins",
		in:   "event: a\nevent: b\ndata: x\n\n",
		want: []ev{{Type: "b", Data: "x", HasData: true, Raw: "event: a\nevent: b\ndata: x\n\n"}},
	},
	{
		name: "event type resets after each event",
		in:   "event: e\ndata: 1\n\ndata: 2\n\n",
		want: []ev{
			{Type: "e", Data: "1", HasData: true, Raw: "event: e\ndata: 1\n\n"},
			{Data: "2", HasData: true, Raw: "data: 2\n\n"},
		},
	},
	{
		name: "event type without data dispatches nothing",
		in:   "event: e\n\ndata: 2\n\n",
		want: []ev{
			{Type: "e", Raw: "event: e\n\n"},
			{Data: "2", HasData: true, Raw: "data: 2\n\n"},
		},
	},
	{
		name: "unknown fields ignored",
		in:   "id: 7\nretry: 100\nfoo: bar\ndata: x\n\n",
		want: []ev{{Data: "x", HasData: true, Raw: "id: 7\nretry: 100\nfoo: bar\ndata: x\n\n"}},
	},
	{
		name: "field names are case-sensitive",
		in:   "Data: x\n\n",
		want: []ev{{Raw: "Data: x\n\n"}},
	},
	{
		name: "a space before the colon makes another field",
		in:   "data : x\n\n",
		want: []ev{{Raw: "data : x\n\n"}},
	},
	{
		name: "DONE",
		in:   "data: {\"a\":1}\n\ndata: [DONE]\n\n",
		want: []ev{
			{Data: `{"a":1}`, HasData: true, Raw: "data: {\"a\":1}\n\n"},
			{Data: "[DONE]", HasData: true, Raw: "data: [DONE]\n\n"},
		},
	},
	{
		name: "blank lines alone",
		in:   "\n\r\n\r",
		want: []ev{{Raw: "\n"}, {Raw: "\r\n"}, {Raw: "\r"}},
	},
	{
		name: "blank line before an event",
		in:   "\ndata: a\n\n",
		want: []ev{{Raw: "\n"}, {Data: "a", HasData: true, Raw: "data: a\n\n"}},
	},
	{
		name:    "unterminated line",
		in:      "data: a",
		pending: "data: a",
	},
	{
		name:    "no blank line at the end",
		in:      "data: a\n",
		pending: "data: a\n",
	},
	{
		name:    "event then a truncated one",
		in:      "data: a\n\ndata: {\"b\"",
		want:    []ev{{Data: "a", HasData: true, Raw: "data: a\n\n"}},
		pending: "data: {\"b\"",
	},
	{
		name: "byte order mark at the start is ignored",
		in:   "\xEF\xBB\xBFdata: a\n\n",
		want: []ev{{Data: "a", HasData: true, Raw: "\xEF\xBB\xBFdata: a\n\n"}},
	},
	{
		name: "byte order mark later is part of the field name",
		in:   "data: a\n\n\xEF\xBB\xBFdata: b\n\n",
		want: []ev{
			{Data: "a", HasData: true, Raw: "data: a\n\n"},
			{Raw: "\xEF\xBB\xBFdata: b\n\n"},
		},
	},
	{
		name: "bytes kept as they are",
		in:   "data: \x00é\xff\n\n",
		want: []ev{{Data: "\x00é\xff", HasData: true, Raw: "data: \x00é\xff\n\n"}},
	},
}

func TestParser(t *testing.T) {
	for _, tt := range parserTests {
		t.Run(tt.name, func(t *testing.T) {
			got, pending := parse([]byte(tt.in))
			if !equalEvents(got, tt.want) {
				t.Errorf("events = %v; want %v", got, tt.want)
			}
			if pending != tt.pending {
				t.Errorf("Pending() = %q; want %q", pending, tt.pending)
			}
			if raw := joinRaw(got, pending); raw != tt.in {
				t.Errorf("Raw of the events + Pending() = %q; want the input %q", raw, tt.in)
			}
			if got, want := dataEvents(got), refParse([]byte(tt.in)); !equalEvents(got, want) {
				t.Errorf("data events = %v; the spec's algorithm gives %v", got, want)
			}
		})
	}
}

// splitInputs are the table's inputs and the recorded streams (their first
// and last events), also with CRLF and CR line endings.
func splitInputs(t *testing.T) map[string][]byte {
	t.Helper()
	in := map[string][]byte{}
	for _, tt := range parserTests {
		in[tt.name] = []byte(tt.in)
	}
	for _, name := range []string{"chat-streaming.sse", "completion-streaming.sse", "chat-streaming-web-search.sse"} {
		b := seedEvents(readTestdata(t, name))
		in[name] = b
		in[name+" CRLF"] = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
		in[name+" CR"] = bytes.ReplaceAll(b, []byte("\n"), []byte("\r"))
	}
	return in
}

func TestParserSplitReads(t *testing.T) {
	for name, in := range splitInputs(t) {
		t.Run(name, func(t *testing.T) {
			want, wantPending := parse(in)
			check := func(how string, reads [][]byte) {
				t.Helper()
				got, pending := parse(reads...)
				if raw := joinRaw(got, pending); raw != string(in) {
					t.Fatalf("%s: Raw of the events + Pending() = %q; want the input %q", how, raw, in)
				}
				got, pending = canonical(got, pending)
				if !equalEvents(got, want) {
					t.Fatalf("%s: events = %v; want %v", how, got, want)
				}
				if pending != wantPending {
					t.Fatalf("%s: Pending() = %q; want %q", how, pending, wantPending)
				}
			}
			for i := 0; i <= len(in); i++ {
				check("split at "+strconv.Itoa(i), [][]byte{in[:i], in[i:]})
			}
			check("1-byte reads", cut(in, nil))
			check("3-byte reads with empty reads", cut(in, []byte{3, 0, 1}))
		})
	}
}

func TestParserCRLFSplitRaw(t *testing.T) {
	// A read that ends between the CR and the LF of the blank line: the
	// event is emitted at once (no waiting for the next read), and the LF
	// comes first in the next event's Raw.
	got, pending := parse([]byte("data: a\r\n\r"), []byte("\ndata: b\r\n\r\n"))
	want := []ev{
		{Data: "a", HasData: true, Raw: "data: a\r\n\r"},
		{Data: "b", HasData: true, Raw: "\ndata: b\r\n\r\n"},
	}
	if !equalEvents(got, want) || pending != "" {
		t.Errorf("events = %v, pending %q; want %v, pending \"\"", got, pending, want)
	}
}

func TestParserLongLine(t *testing.T) {
	payload := bytes.Repeat([]byte("x"), 1<<20)
	in := append(append([]byte("data: "), payload...), "\n\n"...)
	for _, tt := range []struct {
		name  string
		reads [][]byte
	}{
		{"one read", [][]byte{in}},
		{"4 KiB reads", cut(in, []byte{255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255})},
		{"split in the field name", [][]byte{in[:3], in[3:]}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, pending := parse(tt.reads...)
			if len(got) != 1 || pending != "" {
				t.Fatalf("got %d events, pending %d bytes; want 1 event, none pending", len(got), len(pending))
			}
			if got[0].Data != string(payload) {
				t.Errorf("data is %d bytes; want the %d-byte line", len(got[0].Data), len(payload))
			}
			if got[0].Raw != string(in) {
				t.Errorf("Raw is %d bytes; want the %d-byte input", len(got[0].Raw), len(in))
			}
		})
	}
}

func TestParserDoesNotModifyInput(t *testing.T) {
	in := []byte("event: x\r\ndata: a\rdata: b\n\n: c\r\n\r\ndata")
	orig := bytes.Clone(in)
	var p Parser
	for _, r := range cut(in, []byte{5, 2}) {
		p.Feed(r, func(Event) {})
	}
	if !bytes.Equal(in, orig) {
		t.Errorf("input became %q; want it unchanged, %q", in, orig)
	}
}

func TestParserRecordedStreams(t *testing.T) {
	for _, file := range []string{"chat-streaming.sse", "completion-streaming.sse", "chat-streaming-web-search.sse"} {
		t.Run(file, func(t *testing.T) {
			in := readTestdata(t, file)
			got, pending := parse(in)
			if pending != "" {
				t.Errorf("Pending() = %q; want \"\" (the stream ends on an event boundary)", pending)
			}
			want := bytes.Count(in, []byte("\n\ndata: ")) + 1
			if len(got) != want {
				t.Fatalf("got %d events; want %d", len(got), want)
			}
			for i, e := range got {
				if !e.HasData || e.Type != "" || !strings.HasPrefix(e.Raw, "data: ") || !strings.HasSuffix(e.Raw, "\n\n") {
					t.Errorf("event %d = %v; want a data event of one line", i, e)
				}
			}
			if last := got[len(got)-1].Data; last != "[DONE]" {
				t.Errorf("last event data = %q; want [DONE]", last)
			}
			for _, sizes := range [][]byte{nil, {7, 0, 150}} {
				split, pending := parse(cut(in, sizes)...)
				if !equalEvents(split, got) || pending != "" {
					t.Errorf("reads of %v bytes: events differ from one read's", sizes)
				}
			}
		})
	}
}

func FuzzParser(f *testing.F) {
	for _, tt := range parserTests {
		f.Add([]byte(tt.in), []byte{1})
		f.Add([]byte(tt.in), []byte{2, 0, 5})
	}
	for _, name := range []string{"chat-streaming.sse", "completion-streaming.sse", "chat-streaming-web-search.sse"} {
		b := seedEvents(readTestdata(f, name))
		f.Add(b, []byte{200, 13, 77})
		f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), []byte{1, 2, 3, 255})
		f.Add(bytes.ReplaceAll(b, []byte("\n"), []byte("\r")), []byte{64})
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		whole, wholePending := parse(in)
		if raw := joinRaw(whole, wholePending); raw != string(in) {
			t.Fatalf("one read: Raw of the events + Pending() = %q; want the input %q", raw, in)
		}
		for _, e := range whole {
			if e.Raw == "" {
				t.Fatalf("event %v has no Raw bytes", e)
			}
		}
		if got, want := dataEvents(whole), refParse(in); !equalEvents(got, want) {
			t.Fatalf("data events = %v; the spec's algorithm gives %v", got, want)
		}

		split, splitPending := parse(cut(in, sizes)...)
		if raw := joinRaw(split, splitPending); raw != string(in) {
			t.Fatalf("split reads: Raw of the events + Pending() = %q; want the input %q", raw, in)
		}
		split, splitPending = canonical(split, splitPending)
		if !equalEvents(split, whole) {
			t.Fatalf("split reads: events = %v; one read gives %v", split, whole)
		}
		if splitPending != wholePending {
			t.Fatalf("split reads: Pending() = %q; one read gives %q", splitPending, wholePending)
		}
	})
}

// seedEvents shortens a recorded stream to its first three events and its
// last two, for a fuzz seed: small seeds keep the fuzzer's minimization of
// new inputs quick.
func seedEvents(b []byte) []byte {
	events := bytes.SplitAfter(b, []byte("\n\n"))
	if len(events) > 0 && len(events[len(events)-1]) == 0 {
		events = events[:len(events)-1]
	}
	if len(events) <= 5 {
		return b
	}
	return bytes.Join(append(events[:3:3], events[len(events)-2:]...), nil)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParserCutsLargeEvents: an event over MaxEvent comes out cut, with its
// size and no bytes held; the events around it come out whole, however the
// reads split them.
func TestParserCutsLargeEvents(t *testing.T) {
	big := "data: " + strings.Repeat("x", 1000) + "\r\ndata: more\r\n\r\n"
	in := "data: a\n\n" + big + ": comment\ndata: b\n\n"
	for _, step := range []int{1, 7, 64, len(in)} {
		p := Parser{MaxEvent: 100}
		var got []string
		for i := 0; i < len(in); i += step {
			p.Feed([]byte(in[i:min(i+step, len(in))]), func(ev Event) {
				if !ev.Cut {
					got = append(got, string(ev.Data))
					return
				}
				got = append(got, "cut")
				if len(ev.Data) != 0 || len(ev.Raw) != 0 {
					t.Errorf("a cut event holds bytes")
				}
				// The LF of a CRLF split between reads counts with the
				// next event, as it does in Raw.
				if ev.Size != len(big) && ev.Size != len(big)-1 {
					t.Errorf("reads of %d: cut event of %d bytes; want %d", step, ev.Size, len(big))
				}
			})
		}
		if want := []string{"a", "cut", "b"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reads of %d: got %q; want %q", step, got, want)
		}
		if p.InEvent() {
			t.Errorf("reads of %d: still in an event", step)
		}
	}
}
