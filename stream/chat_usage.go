package stream

import (
	"bytes"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// UsageStripper is the chat dialect's rewrite hook: it removes from the
// client's stream what the proxy added by asking for
// stream_options.include_usage on its behalf, the usage-only chunk and the
// "usage":null member of every other chunk. The client then receives the
// bytes it would have received without the proxy, framed by whole events
// rather than by reads; the accumulator still reads every chunk as it
// came. Create one per stream.
type UsageStripper struct {
	// dropLF is set when a dropped event ended in a CR at the end of a read:
	// an LF starting the next event is the rest of its CRLF, dropped too.
	dropLF bool
}

var _ Rewriter = (*UsageStripper)(nil)

// Rewrite keeps or rewrites one event for the client.
func (s *UsageStripper) Rewrite(out []byte, ev Event, add func(data []byte)) []byte {
	raw := s.trimLF(ev.Raw)
	switch {
	case ev.HasData && UsageOnly(ev.Data):
		// The client did not ask for it. A CRLF split across reads
		// straddles events (see Event.Raw): the LF that starts this one
		// ends the event before it and stays; the one after it is this
		// event's.
		if len(raw) > 0 && raw[0] == '\n' {
			out = append(out, '\n')
		}
		s.dropLF = len(raw) > 0 && raw[len(raw)-1] == '\r'
	case ev.HasData:
		out = appendStripped(out, raw)
	default:
		out = append(out, raw...)
	}
	if ev.HasData {
		add(ev.Data)
	}
	return out
}

// Rest passes on what is held of an unfinished event as it came.
func (s *UsageStripper) Rest(pending []byte) []byte { return s.trimLF(pending) }

// Bounded is true: an event too large to hold goes out as it comes, and so
// does the rest of the stream.
func (s *UsageStripper) Bounded() bool { return true }

// trimLF removes the LF that ends a dropped event's CRLF from the start of
// the next event's bytes.
func (s *UsageStripper) trimLF(raw []byte) []byte {
	if s.dropLF {
		s.dropLF = false
		return bytes.TrimPrefix(raw, []byte("\n"))
	}
	return raw
}

// UsageOnly reports whether a chunk is the one include_usage adds at the end
// of a stream: an empty choices list and a usage object.
func UsageOnly(data []byte) bool {
	emptyChoices, usage := false, false
	jsonbound.ParseInPlace(data).ForEach(func(k, v gjson.Result) bool { // one pass
		switch k.Str {
		case "choices":
			emptyChoices = v.IsArray() && len(v.Raw) >= 2 && strings.TrimSpace(v.Raw[1:len(v.Raw)-1]) == ""
		case "usage":
			usage = v.IsObject()
		}
		return true
	})
	return emptyChoices && usage
}

// nullUsage is the member include_usage adds to every chunk but the last
// (OpenAI: "All other chunks will also include a usage field, but with a
// null value"); OpenAI writes it compactly, as the chunk's last member.
var nullUsage = []byte(`"usage":null`)

// appendStripped appends an event's raw bytes to dst without a top-level
// "usage":null member and its separating comma; anything else unchanged.
func appendStripped(dst, raw []byte) []byte {
	if i := nullUsageAt(raw); i >= 0 {
		return appendWithout(dst, raw, i)
	}
	return append(dst, raw...)
}

// nullUsageAt is where a top-level "usage":null member starts in an
// event's raw bytes, or -1.
func nullUsageAt(raw []byte) int {
	i := bytes.LastIndex(raw, nullUsage)
	if i < 0 {
		return -1
	}
	// Only the top-level member may go (not a nested one), and only from
	// valid JSON: the member found must be the one gjson finds at the top.
	// Taking a member and its comma out of a valid object leaves it valid.
	data, off := dataOf(raw)
	if data == nil || !jsonbound.Valid(data) {
		return -1
	}
	if u := jsonbound.Get(jsonbound.ParseInPlace(data), "usage"); u.Type != gjson.Null || off+u.Index != i+len(nullUsage)-len("null") {
		return -1
	}
	return i
}

// appendWithout appends raw to dst without the "usage":null member at i
// and its separating comma.
func appendWithout(dst, raw []byte, i int) []byte {
	start, end := i, i+len(nullUsage)
	// Take the comma before the member, or else the one after it.
	j := start - 1
	for j >= 0 && isSpace(raw[j]) {
		j--
	}
	switch {
	case j >= 0 && raw[j] == ',':
		start = j
	case j >= 0 && raw[j] == '{':
		k := end
		for k < len(raw) && isSpace(raw[k]) {
			k++
		}
		if k < len(raw) && raw[k] == ',' {
			end = k + 1
		}
	default:
		return append(dst, raw...) // unreachable: gjson found a member here
	}
	dst = append(dst, raw[:start]...)
	return append(dst, raw[end:]...)
}

// dataOf returns the JSON of a single-line data event and its offset in
// raw.
func dataOf(raw []byte) (data []byte, offset int) {
	// An LF may lead: the end of the previous event's CRLF, split across
	// reads.
	if len(raw) > 0 && raw[0] == '\n' {
		offset = 1
	}
	line, _, _ := bytes.Cut(raw[offset:], []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	rest, ok := bytes.CutPrefix(line, []byte("data:"))
	if !ok {
		return nil, 0
	}
	offset += len("data:")
	trimmed := bytes.TrimLeft(rest, " \t")
	offset += len(rest) - len(trimmed)
	return bytes.TrimRight(trimmed, " \t"), offset
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
