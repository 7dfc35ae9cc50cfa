package stream

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// esEv is an Event of an EventStreamParser with its slices copied out.
type esEv struct {
	Type, Data, Raw string
	HasData, Cut    bool
	Size            int
}

func (e esEv) String() string {
	if e.Cut {
		return fmt.Sprintf("{Cut Size:%d}", e.Size)
	}
	return fmt.Sprintf("{Type:%q Data:%.200q HasData:%v Raw:%d bytes}", e.Type, e.Data, e.HasData, len(e.Raw))
}

// parseES feeds reads to a new EventStreamParser, one Feed call each, and
// returns the events it emitted, the bytes it still holds, whether it is in
// an event, and its Err.
func parseES(maxEvent int, reads ...[]byte) (events []esEv, pending string, inEvent bool, err error) {
	p := EventStreamParser{MaxEvent: maxEvent}
	for _, r := range reads {
		p.Feed(r, func(e Event) {
			if e.Size != len(e.Raw) && !e.Cut {
				panic(fmt.Sprintf("event Size %d; want len(Raw) %d", e.Size, len(e.Raw)))
			}
			events = append(events, esEv{Type: e.Type, Data: string(e.Data), Raw: string(e.Raw), HasData: e.HasData, Cut: e.Cut, Size: e.Size})
		})
	}
	return events, string(p.Pending()), p.InEvent(), p.Err()
}

func joinESRaw(events []esEv, pending string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.Raw)
	}
	return b.String() + pending
}

// esMessage encodes a message with the SDK's encoder: string headers in
// pairs (name, value), then the payload.
func esMessage(payload string, headers ...string) string {
	var m eventstream.Message
	for i := 0; i+1 < len(headers); i += 2 {
		m.Headers.Set(headers[i], eventstream.StringValue(headers[i+1]))
	}
	m.Payload = []byte(payload)
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, m); err != nil {
		panic(err)
	}
	return b.String()
}

// esEvent is an event message as Bedrock sends one.
func esEvent(typ, payload string) string {
	return esMessage(payload, ":event-type", typ, ":content-type", "application/json", ":message-type", "event")
}

// rawPrelude is a prelude with these lengths and a correct CRC.
func rawPrelude(total, headers uint32) string {
	b := binary.BigEndian.AppendUint32(nil, total)
	b = binary.BigEndian.AppendUint32(b, headers)
	return string(binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b)))
}

// rawMessage is a message of these header bytes and payload, its CRCs
// sound.
func rawMessage(headers, payload string) string {
	b := []byte(rawPrelude(uint32(minMessageLen+len(headers)+len(payload)), uint32(len(headers))))
	b = append(append(b, headers...), payload...)
	return string(binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b)))
}

// flip changes one byte of s.
func flip(s string, at int) string {
	b := []byte(s)
	b[at] ^= 0x20
	return string(b)
}

// message is a message's event; junk bytes that make no message.
func message(raw, typ, data string) esEv {
	return esEv{Type: typ, Data: data, Raw: raw, HasData: true, Size: len(raw)}
}
func junk(raw string) esEv { return esEv{Raw: raw, Size: len(raw)} }

var (
	esStart = esEvent("messageStart", `{"p":"abc","role":"assistant"}`)
	esDelta = esEvent("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"ab"}`)
	esStop  = esEvent("messageStop", `{"stopReason":"end_turn"}`)
)

var eventStreamTests = []struct {
	name    string
	in      string
	want    []esEv
	pending string
	inEvent bool
	corrupt bool // Err reports corruption
}{
	{
		name: "events, their type around their payload",
		in:   esStart + esDelta + esStop,
		want: []esEv{
			message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`),
			message(esDelta, "contentBlockDelta", `{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"ab"}}`),
			message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`),
		},
	},
	{name: "nothing", in: ""},
	{
		name: "an exception",
		in: esStart + esMessage(`{"message":"Too many tokens, please wait."}`,
			":exception-type", "throttlingException", ":content-type", "application/json", ":message-type", "exception"),
		want: []esEv{
			message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`),
			message(esMessage(`{"message":"Too many tokens, please wait."}`,
				":exception-type", "throttlingException", ":content-type", "application/json", ":message-type", "exception"),
				"exception:throttlingException", `{"throttlingException":{"message":"Too many tokens, please wait."}}`),
		},
	},
	{
		name: "an error message",
		in:   esMessage("", ":message-type", "error", ":error-code", "InternalFailure", ":error-message", `He said "no"`),
		want: []esEv{message(esMessage("", ":message-type", "error", ":error-code", "InternalFailure", ":error-message", `He said "no"`),
			"error:InternalFailure", `{"error":{"code":"InternalFailure","message":"He said \"no\""}}`)},
	},
	{
		name: "empty payload, no message type",
		in:   esMessage("", ":event-type", "contentBlockStop"),
		want: []esEv{message(esMessage("", ":event-type", "contentBlockStop"), "contentBlockStop", `{"contentBlockStop":{}}`)},
	},
	{
		name: "no event type, an unknown message type",
		in:   esMessage(`{}`, ":message-type", "event") + esMessage(`{}`, ":message-type", "ping", ":event-type", "x") + esStop,
		want: []esEv{
			junk(esMessage(`{}`, ":message-type", "event")),
			junk(esMessage(`{}`, ":message-type", "ping", ":event-type", "x")),
			message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`),
		},
	},
	{
		name: "a non-string header is skipped",
		in: func() string {
			var m eventstream.Message
			m.Headers.Set(":event-type", eventstream.Int32Value(7))
			m.Payload = []byte(`{}`)
			var b bytes.Buffer
			_ = eventstream.NewEncoder().Encode(&b, m)
			return b.String()
		}(),
		want: []esEv{junk(func() string {
			var m eventstream.Message
			m.Headers.Set(":event-type", eventstream.Int32Value(7))
			m.Payload = []byte(`{}`)
			var b bytes.Buffer
			_ = eventstream.NewEncoder().Encode(&b, m)
			return b.String()
		}())},
	},
	{
		// The prelude is sound, so the message's length is trusted.
		name:    "a wrong message CRC",
		in:      esStart + flip(esDelta, len(esDelta)-30) + esStop,
		want:    []esEv{message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`), junk(flip(esDelta, len(esDelta)-30)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		name:    "a wrong message CRC in its last byte",
		in:      flip(esDelta, len(esDelta)-1) + esStop,
		want:    []esEv{junk(flip(esDelta, len(esDelta)-1)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		// The length cannot be trusted: garbage to the next valid prelude.
		name:    "a wrong prelude CRC",
		in:      esStart + flip(esDelta, 9) + esStop,
		want:    []esEv{message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`), junk(flip(esDelta, 9)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		name:    "a corrupted length",
		in:      flip(esDelta, 2) + esStop,
		want:    []esEv{junk(flip(esDelta, 2)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		name:    "a message shorter than its prelude says",
		in:      esDelta[:40] + esDelta[50:] + esStop + esStart,
		want:    []esEv{junk(esDelta[:40] + esDelta[50:] + esStop[:10]), junk(esStop[10:]), message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`)},
		corrupt: true,
	},
	{
		name:    "total below 16, with a sound CRC",
		in:      rawPrelude(12, 0) + "xyz" + esStop,
		want:    []esEv{junk(rawPrelude(12, 0) + "xyz"), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		name:    "headers longer than the message, with a sound CRC",
		in:      rawPrelude(40, 30) + strings.Repeat("h", 28) + esStop,
		want:    []esEv{junk(rawPrelude(40, 30) + strings.Repeat("h", 28)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		// Neither waited for nor allocated.
		name:    "total of 4 GiB, with a sound CRC",
		in:      rawPrelude(0xFFFFFFF0, 0) + "abc" + esStop,
		want:    []esEv{junk(rawPrelude(0xFFFFFFF0, 0) + "abc"), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		// Its CRCs sound: one message.
		name:    "headers that do not decode",
		in:      rawMessage("\x03abc\x63", `{}`) + esStop,
		want:    []esEv{junk(rawMessage("\x03abc\x63", `{}`)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		name:    "a header cut short by the headers length",
		in:      rawMessage("\x0b:event-type\x07\x00\x05mess", `{}`) + esStop,
		want:    []esEv{junk(rawMessage("\x0b:event-type\x07\x00\x05mess", `{}`)), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		// A valid prelude beginning inside the 12 bytes first taken for
		// one.
		name:    "garbage shorter than a prelude",
		in:      "abc" + esStart,
		want:    []esEv{junk("abc"), message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`)},
		corrupt: true,
	},
	{
		name:    "garbage with zero bytes, then events",
		in:      "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + esStart + esStop,
		want:    []esEv{junk("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`), message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		corrupt: true,
	},
	{
		name:    "a JSON error body, not an event stream",
		in:      `{"message":"The provided model identifier is invalid."}`,
		pending: `{"message":"The provided model identifier is invalid."}`,
		inEvent: true,
		corrupt: true,
	},
	{
		name:    "garbage after the last event",
		in:      esStop + "\r\n",
		want:    []esEv{message(esStop, "messageStop", `{"messageStop":{"stopReason":"end_turn"}}`)},
		pending: "\r\n",
		inEvent: true,
	},
	{name: "truncated in the prelude", in: esStart + esStop[:7], want: []esEv{message(esStart, "messageStart", `{"messageStart":{"p":"abc","role":"assistant"}}`)}, pending: esStop[:7], inEvent: true},
	{name: "truncated in the payload", in: esStop[:len(esStop)-5], pending: esStop[:len(esStop)-5], inEvent: true},
}

// checkESParse checks that reads, however they cut the input, give the
// events, pending bytes and state of one read.
func checkESParse(t *testing.T, in []byte, how string, reads [][]byte, want []esEv, wantPending string, wantIn, wantCorrupt bool) {
	t.Helper()
	got, pending, inEvent, err := parseES(0, reads...)
	if raw := joinESRaw(got, pending); raw != string(in) {
		t.Fatalf("%s: Raw of the events + Pending() = %q; want the input %q", how, raw, in)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: events = %v; want %v", how, got, want)
	}
	if pending != wantPending || inEvent != wantIn {
		t.Fatalf("%s: Pending() = %q, InEvent() = %v; want %q, %v", how, pending, inEvent, wantPending, wantIn)
	}
	if (err != nil) != wantCorrupt || err != nil && !errors.Is(err, ErrCorruptMessage) {
		t.Fatalf("%s: Err() = %v; want corruption reported: %v", how, err, wantCorrupt)
	}
}

func TestEventStreamParser(t *testing.T) {
	for _, tt := range eventStreamTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			checkESParse(t, in, "one read", [][]byte{in}, tt.want, tt.pending, tt.inEvent, tt.corrupt)
			for i := 0; i <= len(in); i++ {
				checkESParse(t, in, "split at "+strconv.Itoa(i), [][]byte{in[:i], in[i:]}, tt.want, tt.pending, tt.inEvent, tt.corrupt)
			}
			checkESParse(t, in, "1-byte reads", cut(in, nil), tt.want, tt.pending, tt.inEvent, tt.corrupt)
			checkESParse(t, in, "3-byte reads with empty reads", cut(in, []byte{3, 0, 1}), tt.want, tt.pending, tt.inEvent, tt.corrupt)
		})
	}
}

func TestEventStreamParserErr(t *testing.T) {
	in := esStart + flip(esDelta, len(esDelta)-30) + flip(esStop, 1)
	_, _, _, err := parseES(0, []byte(in))
	want := fmt.Sprintf("corrupt event-stream message at byte %d: message checksum mismatch", len(esStart))
	if err == nil || err.Error() != want {
		t.Errorf("Err() = %v; want %q (the first)", err, want)
	}
	_, _, _, err = parseES(0, []byte(esStart+"\x7f"+esStop[1:]))
	want = fmt.Sprintf("corrupt event-stream message at byte %d: message prelude: total length out of range", len(esStart))
	if err == nil || err.Error() != want {
		t.Errorf("Err() = %v; want %q", err, want)
	}
}

func TestEventStreamParserDoesNotModifyInput(t *testing.T) {
	in := []byte(esStart + flip(esDelta, 9) + esStop + "junk" + esDelta)
	orig := bytes.Clone(in)
	var p EventStreamParser
	for _, r := range cut(in, []byte{5, 200, 2}) {
		p.Feed(r, func(Event) {})
	}
	if !bytes.Equal(in, orig) {
		t.Errorf("input changed; want it unchanged")
	}
}

func TestEventStreamFraming(t *testing.T) {
	for ct, want := range map[string]bool{"application/vnd.amazon.eventstream": true, "application/vnd.amazon.eventstream; charset=binary": true, "application/json": false, "": false} {
		if got := EventStream.Streams(ct); got != want {
			t.Errorf("EventStream.Streams(%q) = %v; want %v", ct, got, want)
		}
	}
	if p, ok := EventStream.New(7).(*EventStreamParser); !ok || p.MaxEvent != 7 {
		t.Errorf("EventStream.New(7) = %#v; want an *EventStreamParser with MaxEvent 7", EventStream.New(7))
	}
}

// bedrockStreams are the recorded streams in testdata/bedrock.
var bedrockStreams = []string{
	"oi-TestConverseStream.test_invoke_tool_message",
	"oi-TestConverseStream.test_invoke_tool_response_message",
	"oi-TestInvokeModelWithStreamResponse.test_invoke",
	"pa-test_bedrock_model_iter_stream",
	"pa-test_bedrock_model_iter_stream@1",
	"pa-test_bedrock_model_stream",
	"pa-test_bedrock_model_thinking_part_stream",
}

// bedrockEvents are a recorded stream's events' Data.
func bedrockEvents(t testing.TB, name string) [][]byte {
	t.Helper()
	var data [][]byte
	var p EventStreamParser
	p.Feed(readTestdata(t, "bedrock/"+name+".eventstream"), func(e Event) {
		if !e.HasData {
			t.Fatalf("%s: an event without data", name)
		}
		data = append(data, bytes.Clone(e.Data))
	})
	if p.InEvent() || p.Err() != nil {
		t.Fatalf("%s: InEvent() %v, Err() %v at the end", name, p.InEvent(), p.Err())
	}
	return data
}

// TestEventStreamParserRecordedStreams: real Bedrock streams, every read
// split, give the messages as the SDK's own decoder reads them.
func TestEventStreamParserRecordedStreams(t *testing.T) {
	for _, name := range bedrockStreams {
		t.Run(name, func(t *testing.T) {
			in := readTestdata(t, "bedrock/"+name+".eventstream")
			var want []esEv
			for r := bytes.NewReader(in); r.Len() > 0; {
				start := len(in) - r.Len()
				m, err := eventstream.NewDecoder().Decode(r, nil)
				if err != nil {
					t.Fatalf("the SDK's decoder: %v", err)
				}
				raw := string(in[start : len(in)-r.Len()])
				typ := m.Headers.Get(":event-type").String()
				want = append(want, message(raw, typ, `{"`+typ+`":`+string(m.Payload)+`}`))
			}
			whole, pending, inEvent, err := parseES(0, in)
			if !reflect.DeepEqual(whole, want) || pending != "" || inEvent || err != nil {
				t.Fatalf("events %v, Pending() %q, InEvent() %v, Err() %v; want %v", whole, pending, inEvent, err, want)
			}
			for _, e := range whole {
				if !json.Valid([]byte(e.Data)) {
					t.Errorf("event data %.80q… is not JSON", e.Data)
				}
			}
			for i := 0; i <= len(in); i++ {
				split, pending, _, _ := parseES(0, in[:i], in[i:])
				if !reflect.DeepEqual(split, whole) || pending != "" {
					t.Fatalf("split at %d: events differ from one read's", i)
				}
			}
			for _, sizes := range [][]byte{nil, {7, 0, 150}, {255, 3}} {
				split, pending, _, _ := parseES(0, cut(in, sizes)...)
				if !reflect.DeepEqual(split, whole) || pending != "" {
					t.Errorf("reads of %v bytes: events differ from one read's", sizes)
				}
			}
		})
	}
}

// TestEventStreamParserCutsLargeEvents: a message over MaxEvent comes out
// cut, with its size and no bytes held; the messages around it come out
// whole, however the reads split them. A run of garbage over it too.
func TestEventStreamParserCutsLargeEvents(t *testing.T) {
	big := esEvent("contentBlockDelta", `{"delta":{"text":"`+strings.Repeat("x", 1000)+`"}}`)
	garbage := strings.Repeat("\x00garbage!", 30)
	in := esStart + big + esStop + garbage + esStart
	for _, step := range []int{1, 7, 64, len(in)} {
		p := EventStreamParser{MaxEvent: 200}
		var got []string
		for i := 0; i < len(in); i += step {
			p.Feed([]byte(in[i:min(i+step, len(in))]), func(ev Event) {
				switch {
				case ev.Cut:
					got = append(got, "cut "+strconv.Itoa(ev.Size))
					if len(ev.Data) != 0 || len(ev.Raw) != 0 || ev.HasData {
						t.Errorf("reads of %d: a cut event holds bytes", step)
					}
				default:
					got = append(got, ev.Type)
				}
			})
			if n := len(p.Pending()); n > 200+preludeLen {
				t.Fatalf("reads of %d: %d bytes held; want at most MaxEvent and a prelude", step, n)
			}
		}
		want := []string{"messageStart", "cut " + strconv.Itoa(len(big)), "messageStop", "cut " + strconv.Itoa(len(garbage)), "messageStart"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reads of %d: got %q; want %q", step, got, want)
		}
		if p.InEvent() {
			t.Errorf("reads of %d: still in an event", step)
		}
	}

	// Cut from outside (a relay's bounded rewriter): the message ends cut.
	var p EventStreamParser
	var got []Event
	p.Feed([]byte(esStart+esDelta[:20]), func(ev Event) { got = append(got, ev) })
	if !p.InEvent() || string(p.Pending()) != esDelta[:20] {
		t.Fatalf("Pending() = %q; want the message so far", p.Pending())
	}
	p.Cut()
	if p.Pending() != nil || !p.InEvent() {
		t.Errorf("after Cut, Pending() = %q, InEvent() = %v; want nothing held, in the event", p.Pending(), p.InEvent())
	}
	p.Feed([]byte(esDelta[20:]+esStop), func(ev Event) { got = append(got, ev) })
	if len(got) != 3 || !got[1].Cut || got[1].Size != len(esDelta) || got[2].Type != "messageStop" {
		t.Errorf("events after Cut = %+v; want a cut event of %d bytes, then messageStop", got, len(esDelta))
	}
	// Cut inside the prelude: the prelude still tells where it ends.
	p = EventStreamParser{}
	got = nil
	p.Feed([]byte(esDelta[:5]), func(ev Event) { got = append(got, ev) })
	p.Cut()
	p.Feed([]byte(esDelta[5:]+esStop), func(ev Event) { got = append(got, ev) })
	if len(got) != 2 || !got[0].Cut || got[0].Size != len(esDelta) || got[1].Type != "messageStop" {
		t.Errorf("events after Cut in the prelude = %+v; want a cut event of %d bytes, then messageStop", got, len(esDelta))
	}
}

func FuzzEventStream(f *testing.F) {
	for _, tt := range eventStreamTests {
		f.Add([]byte(tt.in), uint(len(tt.in)/2), []byte{1})
	}
	for _, name := range []string{"oi-TestConverseStream.test_invoke_tool_message", "pa-test_bedrock_model_thinking_part_stream"} {
		in := readTestdata(f, "bedrock/"+name+".eventstream")
		f.Add(in, uint(100), []byte{200, 13, 77})
		f.Add([]byte(flip(string(in), 300)), uint(7), []byte{1, 2, 3, 255})
	}
	f.Fuzz(func(t *testing.T, in []byte, at uint, sizes []byte) {
		whole, pending, inEvent, err := parseES(0, in)
		if raw := joinESRaw(whole, pending); raw != string(in) {
			t.Fatalf("one read: Raw of the events + Pending() = %q; want the input %q", raw, in)
		}
		if inEvent != (pending != "") {
			t.Fatalf("InEvent() = %v with Pending() %q", inEvent, pending)
		}
		corrupt := false
		for _, e := range whole {
			if e.Raw == "" {
				t.Fatalf("event %v has no Raw bytes", e)
			}
			// Each event is a message the SDK decodes, or what it cannot.
			m, derr := eventstream.NewDecoder().Decode(strings.NewReader(e.Raw), nil)
			if !e.HasData {
				corrupt = corrupt || derr != nil
				mt := m.Headers.Get(":message-type")
				if derr == nil && (mt == nil || mt.String() == "event") && m.Headers.Get(":event-type") != nil &&
					m.Headers.Get(":event-type").String() != "" && m.Headers.Get(":event-type").Get() == m.Headers.Get(":event-type").String() {
					t.Fatalf("event %v: the SDK decodes an event of it", e)
				}
				continue
			}
			if derr != nil {
				t.Fatalf("event %v: the SDK's decoder: %v", e, derr)
			}
			if p := strings.TrimSpace(string(m.Payload)); p != "" && !strings.HasPrefix(e.Type, "error:") && !strings.HasSuffix(e.Data, ":"+string(m.Payload)+"}") {
				t.Fatalf("event %v: Data lacks the payload %q", e, m.Payload)
			}
		}
		if corrupt != (err != nil) || err != nil && !errors.Is(err, ErrCorruptMessage) {
			if !(err != nil && pending != "") { // trailing garbage reports too
				t.Fatalf("corrupt events %v, Err() = %v", corrupt, err)
			}
		}

		i := int(at % uint(len(in)+1))
		split, splitPending, splitIn, splitErr := parseES(0, in[:i], in[i:])
		if !reflect.DeepEqual(split, whole) || splitPending != pending || splitIn != inEvent || fmt.Sprint(splitErr) != fmt.Sprint(err) {
			t.Fatalf("split at %d: events %v, Pending() %q, Err() %v; one read gives %v, %q, %v", i, split, splitPending, splitErr, whole, pending, err)
		}
		reads, readsPending, readsIn, _ := parseES(0, cut(in, sizes)...)
		if !reflect.DeepEqual(reads, whole) || readsPending != pending || readsIn != inEvent {
			t.Fatalf("reads of %v: events %v, Pending() %q; one read gives %v, %q", sizes, reads, readsPending, whole, pending)
		}

		// With MaxEvent: the same events, those over it cut; what is held
		// is the same, or nothing once cut.
		max := int(at%300) + 1
		var want []esEv
		for _, e := range whole {
			if e.Size > max {
				e = esEv{Cut: true, Size: e.Size}
			}
			want = append(want, e)
		}
		bounded, boundedPending, boundedIn, _ := parseES(max, cut(in, sizes)...)
		if !reflect.DeepEqual(bounded, want) || boundedPending != "" && boundedPending != pending || boundedIn != inEvent {
			t.Fatalf("MaxEvent %d: events %v, Pending() %q; want %v, %q", max, bounded, boundedPending, want, pending)
		}
		if len(boundedPending) > max+preludeLen {
			t.Fatalf("MaxEvent %d: %d bytes held", max, len(boundedPending))
		}
	})
}

func BenchmarkEventStreamParserFeed(b *testing.B) {
	body := readTestdata(b, "bedrock/pa-test_bedrock_model_stream.eventstream")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		p := EventStreamParser{MaxEvent: 1 << 20}
		for i := 0; i < len(body); i += 4096 {
			p.Feed(body[i:min(i+4096, len(body))], func(Event) { n++ })
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}
