package stream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// arrayEv is an Event of a JSONArrayParser with its slices copied out.
type arrayEv struct {
	Data, Raw string
	HasData   bool
	Cut       bool
	Size      int
}

func (e arrayEv) String() string {
	if e.Cut {
		return fmt.Sprintf("{Cut Size:%d}", e.Size)
	}
	return fmt.Sprintf("{Data:%q HasData:%v Raw:%q}", e.Data, e.HasData, e.Raw)
}

// parseArray feeds reads to a new JSONArrayParser, one Feed call each, and
// returns the events it emitted, the bytes it still holds and whether it
// is in an event.
func parseArray(maxEvent int, reads ...[]byte) (events []arrayEv, pending string, inEvent bool) {
	p := JSONArrayParser{MaxEvent: maxEvent}
	for _, r := range reads {
		p.Feed(r, func(e Event) {
			if e.Size != len(e.Raw) && !e.Cut {
				panic(fmt.Sprintf("event Size %d; want len(Raw) %d", e.Size, len(e.Raw)))
			}
			events = append(events, arrayEv{Data: string(e.Data), Raw: string(e.Raw), HasData: e.HasData, Cut: e.Cut, Size: e.Size})
		})
	}
	return events, string(p.Pending()), p.InEvent()
}

func joinArrayRaw(events []arrayEv, pending string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.Raw)
	}
	return b.String() + pending
}

// el is an element's event; sep the closing ']' event, or other bytes that
// are no element.
func el(raw, data string) arrayEv {
	return arrayEv{Data: data, Raw: raw, HasData: true, Size: len(raw)}
}
func sep(raw string) arrayEv { return arrayEv{Raw: raw, Size: len(raw)} }

var jsonArrayTests = []struct {
	name    string
	in      string
	want    []arrayEv
	pending string
	inEvent bool
}{
	{
		name: "as Google writes it",
		in:   "[{\"a\":1}\n,\r\n{\"b\":\"x\"}\n]",
		want: []arrayEv{el(`[{"a":1}`, `{"a":1}`), el("\n,\r\n{\"b\":\"x\"}", `{"b":"x"}`), sep("\n]")},
	},
	{
		name: "pretty-printed elements",
		in:   "[{\n  \"candidates\": [\n    {}\n  ]\n}\n,\r\n{\n  \"usageMetadata\": {}\n}\n]\n",
		want: []arrayEv{
			el("[{\n  \"candidates\": [\n    {}\n  ]\n}", "{\n  \"candidates\": [\n    {}\n  ]\n}"),
			el("\n,\r\n{\n  \"usageMetadata\": {}\n}", "{\n  \"usageMetadata\": {}\n}"),
			sep("\n]"),
		},
		pending: "\n",
	},
	{
		name: "brackets and quotes in strings",
		in:   `[{"s":"}]{[,"},{"t":"a\"}\\","u":"\\\\"},{"v":"\u00e9 é \/"}]`,
		want: []arrayEv{
			el(`[{"s":"}]{[,"}`, `{"s":"}]{[,"}`),
			el(`,{"t":"a\"}\\","u":"\\\\"}`, `{"t":"a\"}\\","u":"\\\\"}`),
			el(`,{"v":"\u00e9 é \/"}`, `{"v":"\u00e9 é \/"}`),
			sep("]"),
		},
	},
	{
		name: "nested arrays and scalars",
		in:   `[ 1 ,"two]", true,null ,[3,[4,"]"]],-2.5e3,{}]`,
		want: []arrayEv{
			el("[ 1", "1"), el(` ,"two]"`, `"two]"`), el(", true", "true"), el(",null", "null"),
			el(` ,[3,[4,"]"]]`, `[3,[4,"]"]]`), el(",-2.5e3", "-2.5e3"), el(",{}", "{}"), sep("]"),
		},
	},
	{name: "empty array", in: "[]", want: []arrayEv{sep("[]")}},
	{name: "empty array with white space", in: " \t[ \r\n ]\r\n", want: []arrayEv{sep(" \t[ \r\n ]")}, pending: "\r\n"},
	{name: "nothing", in: ""},
	{name: "white space only", in: "\r\n ", pending: "\r\n "},
	{
		// An error sent bare, not in an array, is still an element.
		name: "object outside an array",
		in:   `{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}` + "\n",
		want: []arrayEv{el(`{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}`,
			`{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED"}}`)},
		pending: "\n",
	},
	{
		name: "values after the array",
		in:   `[{"a":1}] [{"b":2}]{"c":3}`,
		want: []arrayEv{el(`[{"a":1}`, `{"a":1}`), sep("]"), el(` [{"b":2}`, `{"b":2}`), sep("]"), el(`{"c":3}`, `{"c":3}`)},
	},
	{
		name: "junk between elements",
		in:   `[{"a":1} junk {"b":2}]`,
		want: []arrayEv{el(`[{"a":1}`, `{"a":1}`), sep(" junk"), el(` {"b":2}`, `{"b":2}`), sep("]")},
	},
	{
		name: "structural junk between elements",
		in:   `[{"a":1},,}:{"b":2}]]`,
		want: []arrayEv{el(`[{"a":1}`, `{"a":1}`), el(`,,}:{"b":2}`, `{"b":2}`), sep("]")},
		// A ']' outside the array starts no event: it waits for one.
		pending: "]",
		inEvent: true,
	},
	{
		// Brackets are counted, not matched.
		name: "unbalanced element",
		in:   `[{"a":[1}],{"b":2}]`,
		want: []arrayEv{el(`[{"a":[1}]`, `{"a":[1}]`), el(`,{"b":2}`, `{"b":2}`), sep("]")},
	},
	{name: "truncated in a string", in: `[{"a":"b\`, pending: `[{"a":"b\`, inEvent: true},
	{name: "truncated after a comma", in: `[{"a":1},`, want: []arrayEv{el(`[{"a":1}`, `{"a":1}`)}, pending: ",", inEvent: true},
	{name: "truncated after an element", in: "[{\"a\":1}\n", want: []arrayEv{el(`[{"a":1}`, `{"a":1}`)}, pending: "\n"},
	{name: "truncated in a scalar", in: "[12", pending: "[12", inEvent: true},
	{name: "just the bracket", in: "[", pending: "[", inEvent: true},
}

// checkArrayParse checks that reads, however they cut the input, give the
// events, pending bytes and state of one read.
func checkArrayParse(t *testing.T, in []byte, how string, reads [][]byte, want []arrayEv, wantPending string, wantIn bool) {
	t.Helper()
	got, pending, inEvent := parseArray(0, reads...)
	if raw := joinArrayRaw(got, pending); raw != string(in) {
		t.Fatalf("%s: Raw of the events + Pending() = %q; want the input %q", how, raw, in)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: events = %v; want %v", how, got, want)
	}
	if pending != wantPending || inEvent != wantIn {
		t.Fatalf("%s: Pending() = %q, InEvent() = %v; want %q, %v", how, pending, inEvent, wantPending, wantIn)
	}
}

func TestJSONArrayParser(t *testing.T) {
	for _, tt := range jsonArrayTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			checkArrayParse(t, in, "one read", [][]byte{in}, tt.want, tt.pending, tt.inEvent)
			for i := 0; i <= len(in); i++ {
				checkArrayParse(t, in, "split at "+strconv.Itoa(i), [][]byte{in[:i], in[i:]}, tt.want, tt.pending, tt.inEvent)
			}
			checkArrayParse(t, in, "1-byte reads", cut(in, nil), tt.want, tt.pending, tt.inEvent)
			checkArrayParse(t, in, "3-byte reads with empty reads", cut(in, []byte{3, 0, 1}), tt.want, tt.pending, tt.inEvent)
		})
	}
}

func TestJSONArrayParserDoesNotModifyInput(t *testing.T) {
	in := []byte("[{\"a\":\"\\\"}\"}\n,\r\n[1, 2] junk ,3\n]\n")
	orig := bytes.Clone(in)
	var p JSONArrayParser
	for _, r := range cut(in, []byte{5, 2}) {
		p.Feed(r, func(Event) {})
	}
	if !bytes.Equal(in, orig) {
		t.Errorf("input became %q; want it unchanged, %q", in, orig)
	}
}

func TestJSONArrayFraming(t *testing.T) {
	for ct, want := range map[string]bool{"application/json": true, "application/json; charset=UTF-8": true, "text/event-stream": false, "": false} {
		if got := JSONArray.Streams(ct); got != want {
			t.Errorf("JSONArray.Streams(%q) = %v; want %v", ct, got, want)
		}
	}
	if p, ok := JSONArray.New(7).(*JSONArrayParser); !ok || p.MaxEvent != 7 {
		t.Errorf("JSONArray.New(7) = %#v; want a *JSONArrayParser with MaxEvent 7", JSONArray.New(7))
	}
}

// geminiArrayBodies are the recorded Gemini streams as the JSON array
// :streamGenerateContent sends without ?alt=sse: the chunks joined with
// ",\r\n", and as Google lays it out, "\n,\r\n" between them and "\n]".
func geminiArrayBodies(t testing.TB, name string) (chunks [][]byte, bodies map[string][]byte) {
	t.Helper()
	chunks = streamChunks(t, readTestdata(t, "gemini/"+name+".sse"))
	join := func(open, sep, end string) []byte {
		return append(append([]byte(open), bytes.Join(chunks, []byte(sep))...), end...)
	}
	return chunks, map[string][]byte{
		"compact": join("[", ",\r\n", "]"),
		"google":  join("[", "\n,\r\n", "\n]"),
	}
}

// geminiStreams are the recorded streams in testdata/gemini.
var geminiStreams = []string{
	"oi-streaming_reasoning",
	"oi-validate_token_counts_stream",
	"oi-response_with_multiple_tool_calls-True",
	"pa-test_google_model_stream",
	"pa-test_google_vertex_service_tier_flex_stream",
}

func TestJSONArrayParserRecordedStreams(t *testing.T) {
	for _, name := range geminiStreams {
		chunks, bodies := geminiArrayBodies(t, name)
		for layout, body := range bodies {
			t.Run(name+" "+layout, func(t *testing.T) {
				whole, pending, inEvent := parseArray(0, body)
				if len(whole) != len(chunks)+1 || pending != "" || inEvent {
					t.Fatalf("%d events, Pending() %q, InEvent() %v; want %d, none, false", len(whole), pending, inEvent, len(chunks)+1)
				}
				for i, c := range chunks {
					if !whole[i].HasData || whole[i].Data != string(c) {
						t.Errorf("event %d = %v; want the chunk %.80q…", i, whole[i], c)
					}
				}
				if last := whole[len(whole)-1]; last.HasData || !strings.HasSuffix(last.Raw, "]") {
					t.Errorf("last event = %v; want the closing bracket", last)
				}
				if raw := joinArrayRaw(whole, pending); raw != string(body) {
					t.Errorf("Raw of the events differs from the body")
				}
				for _, sizes := range [][]byte{nil, {7, 0, 150}, {255, 3}} {
					split, pending, _ := parseArray(0, cut(body, sizes)...)
					if !reflect.DeepEqual(split, whole) || pending != "" {
						t.Errorf("reads of %v bytes: events differ from one read's", sizes)
					}
				}
			})
		}
	}
}

// TestJSONArrayParserCutsLargeEvents: an element over MaxEvent comes out
// cut, with its size (its separators with it) and no bytes held; the
// events around it come out whole, however the reads split them.
func TestJSONArrayParserCutsLargeEvents(t *testing.T) {
	big := "\n,\r\n" + `{"text":"` + strings.Repeat(`x\"]}`, 250) + `"}`
	in := `[{"a":1}` + big + "\n,\r\n" + `{"b":2}` + "\n]"
	for _, step := range []int{1, 7, 64, len(in)} {
		p := JSONArrayParser{MaxEvent: 100}
		var got []string
		for i := 0; i < len(in); i += step {
			p.Feed([]byte(in[i:min(i+step, len(in))]), func(ev Event) {
				switch {
				case ev.Cut:
					got = append(got, "cut")
					if len(ev.Data) != 0 || len(ev.Raw) != 0 || ev.HasData {
						t.Errorf("reads of %d: a cut event holds bytes", step)
					}
					if ev.Size != len(big) {
						t.Errorf("reads of %d: cut event of %d bytes; want %d", step, ev.Size, len(big))
					}
				case ev.HasData:
					got = append(got, string(ev.Data))
				default:
					got = append(got, string(ev.Raw))
				}
			})
			if n := len(p.Pending()); n > 100 {
				t.Fatalf("reads of %d: %d bytes held; want at most MaxEvent", step, n)
			}
		}
		if want := []string{`{"a":1}`, "cut", `{"b":2}`, "\n]"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reads of %d: got %q; want %q", step, got, want)
		}
		if p.InEvent() {
			t.Errorf("reads of %d: still in an event", step)
		}
	}

	// Cut from outside (a relay's bounded rewriter): the element ends cut.
	var p JSONArrayParser
	var got []Event
	p.Feed([]byte(`[{"a":"x`), func(ev Event) { got = append(got, ev) })
	if !p.InEvent() || string(p.Pending()) != `[{"a":"x` {
		t.Fatalf("Pending() = %q; want the element so far", p.Pending())
	}
	p.Cut()
	if p.Pending() != nil || !p.InEvent() {
		t.Errorf("after Cut, Pending() = %q, InEvent() = %v; want nothing held, in the event", p.Pending(), p.InEvent())
	}
	p.Feed([]byte(`}"},{"b":2}]`), func(ev Event) { got = append(got, ev) })
	if len(got) != 3 || !got[0].Cut || got[0].Size != len(`[{"a":"x}"}`) || string(got[1].Data) != `{"b":2}` || string(got[2].Raw) != "]" {
		t.Errorf("events after Cut = %+v; want a cut event of %d bytes, {\"b\":2}, ]", got, len(`[{"a":"x}"}`))
	}
}

func FuzzJSONArray(f *testing.F) {
	for _, tt := range jsonArrayTests {
		f.Add([]byte(tt.in), uint(len(tt.in)/2), []byte{1})
	}
	for _, name := range []string{"pa-test_google_model_stream", "oi-response_with_multiple_tool_calls-True"} {
		_, bodies := geminiArrayBodies(f, name)
		f.Add(bodies["google"], uint(100), []byte{200, 13, 77})
		f.Add(bodies["compact"], uint(7), []byte{1, 2, 3, 255})
	}
	f.Fuzz(func(t *testing.T, in []byte, at uint, sizes []byte) {
		whole, pending, inEvent := parseArray(0, in)
		if raw := joinArrayRaw(whole, pending); raw != string(in) {
			t.Fatalf("one read: Raw of the events + Pending() = %q; want the input %q", raw, in)
		}
		for _, e := range whole {
			if e.Raw == "" {
				t.Fatalf("event %v has no Raw bytes", e)
			}
		}

		// A valid JSON array: its elements, exactly, and the closing ']'.
		var elements []json.RawMessage
		if json.Valid(in) && json.Unmarshal(in, &elements) == nil && bytes.HasPrefix(bytes.TrimLeft(in, " \t\r\n"), []byte("[")) {
			var data []string
			for _, e := range whole {
				if e.HasData {
					if !json.Valid([]byte(e.Data)) {
						t.Fatalf("valid array: element %q is not valid JSON", e.Data)
					}
					data = append(data, e.Data)
				}
			}
			var want []string
			for _, e := range elements {
				want = append(want, string(e))
			}
			if !reflect.DeepEqual(data, want) {
				t.Fatalf("valid array: elements = %q; want %q", data, want)
			}
			if len(whole) != len(elements)+1 || strings.TrimSpace(pending) != "" || inEvent {
				t.Fatalf("valid array: events %v, Pending() %q, InEvent() %v; want the elements, then the ']'", whole, pending, inEvent)
			}
		}

		i := int(at % uint(len(in)+1))
		split, splitPending, splitIn := parseArray(0, in[:i], in[i:])
		if !reflect.DeepEqual(split, whole) || splitPending != pending || splitIn != inEvent {
			t.Fatalf("split at %d: events %v, Pending() %q; one read gives %v, %q", i, split, splitPending, whole, pending)
		}
		reads, readsPending, readsIn := parseArray(0, cut(in, sizes)...)
		if !reflect.DeepEqual(reads, whole) || readsPending != pending || readsIn != inEvent {
			t.Fatalf("reads of %v: events %v, Pending() %q; one read gives %v, %q", sizes, reads, readsPending, whole, pending)
		}

		// With MaxEvent: the same events, those over it cut.
		max := int(at%64) + 1
		var want []arrayEv
		for _, e := range whole {
			if e.Size > max {
				e = arrayEv{Cut: true, Size: e.Size}
			}
			want = append(want, e)
		}
		wantPending := pending
		if len(pending) > max {
			wantPending = ""
		}
		bounded, boundedPending, _ := parseArray(max, cut(in, sizes)...)
		if !reflect.DeepEqual(bounded, want) || boundedPending != wantPending {
			t.Fatalf("MaxEvent %d: events %v, Pending() %q; want %v, %q", max, bounded, boundedPending, want, wantPending)
		}
	})
}

func BenchmarkJSONArrayParserFeed(b *testing.B) {
	_, bodies := geminiArrayBodies(b, "oi-streaming_reasoning")
	body := bodies["google"]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p := JSONArrayParser{MaxEvent: 1 << 20}
		for i := 0; i < len(body); i += 4096 {
			p.Feed(body[i:min(i+4096, len(body))], func(Event) {})
		}
	}
}
