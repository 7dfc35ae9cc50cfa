package translate

import (
	"bytes"
	"strings"
	"testing"
)

// eventStream is what the translations of a stream to chat chunks share.
type eventStream interface {
	Event(data []byte) [][]byte
	UsageChunk() []byte
}

// eventsTwice feeds events to a and b, two fresh streams of one kind: a
// gets copies that stay, b each event in one buffer overwritten once
// Event returns, as the relay reuses its own. They must give the same
// chunks and keep the same usage for the end: a stream keeps nothing of an
// event's bytes that it did not copy.
func eventsTwice(t *testing.T, a, b eventStream, events []string) {
	t.Helper()
	var buf []byte
	for i, ev := range events {
		want := bytes.Join(a.Event([]byte(ev)), []byte("\n"))
		buf = append(buf[:0], ev...)
		chunks := b.Event(buf)
		got := bytes.Join(chunks, []byte("\n")) // before the buffer is overwritten: the chunks may alias it
		got = bytes.Clone(got)
		for j := range buf {
			buf[j] = 'X'
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d (%s), its buffer reused:\n got %s\nwant %s", i, ev, got, want)
		}
	}
	if got, want := b.UsageChunk(), a.UsageChunk(); !bytes.Equal(got, want) {
		t.Fatalf("end usage, the buffers reused:\n got %s\nwant %s", got, want)
	}
}

// anthropicStreamSeed, geminiStreamSeed and bedrockStreamSeed are streams
// with every kind of event each translation keeps something of.
const (
	anthropicStreamSeed = `{"type":"message_start","message":{"id":"msg_1","model":"claude-x","usage":{"input_tokens":10,"cache_read_input_tokens":5}}}` + "\n" +
		`{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n" +
		`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking"}}` + "\n" +
		`{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}` + "\n" +
		`{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":\"Paris\"}"}}` + "\n" +
		`{"type":"content_block_stop","index":1}` + "\n" +
		`{"type":"message_delta","delta":{"stop_reason":"some_new_reason"},"usage":{"output_tokens":30}}` + "\n" +
		`{"type":"message_stop"}`
	geminiStreamSeed = `{"candidates":[{"content":{"parts":[{"text":"a","thought":true,"thoughtSignature":"c2ln"},{"text":"b"}]},"index":0}],"usageMetadata":{"promptTokenCount":1},"modelVersion":"gemini-2.5-flash@001","responseId":"resp-1"}` + "\n" +
		`{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"x":1},"id":"fc1"},"thoughtSignature":"s"}]}}],"responseId":"resp-2"}` + "\n" +
		`{"candidates":[{"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"thoughtsTokenCount":3,"totalTokenCount":6}}`
	bedrockStreamSeed = `{"messageStart":{"role":"assistant"}}` + "\n" +
		`{"contentBlockStart":{"contentBlockIndex":0,"start":{"toolUse":{"name":"f","toolUseId":"t"}}}}` + "\n" +
		`{"contentBlockDelta":{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{\"a\":1}"}}}}` + "\n" +
		`{"contentBlockDelta":{"contentBlockIndex":1,"delta":{"reasoningContent":{"text":"r"}}}}` + "\n" +
		`{"contentBlockDelta":{"contentBlockIndex":2,"delta":{"text":"t"}}}` + "\n" +
		`{"messageStop":{"stopReason":"tool_use"}}` + "\n" +
		`{"metadata":{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}}`
)

func TestStreamsKeepNothingOfAnEvent(t *testing.T) {
	for _, includeUsage := range []bool{false, true} {
		eventsTwice(t, &AnthropicChatStream{IncludeUsage: includeUsage, Created: 9}, &AnthropicChatStream{IncludeUsage: includeUsage, Created: 9},
			strings.Split(anthropicStreamSeed, "\n"))
		eventsTwice(t, &GeminiChatStream{IncludeUsage: includeUsage, Created: 9, NewID: counter()}, &GeminiChatStream{IncludeUsage: includeUsage, Created: 9, NewID: counter()},
			strings.Split(geminiStreamSeed, "\n"))
		eventsTwice(t, &BedrockChatStream{IncludeUsage: includeUsage, Created: 9, ID: "c", Model: "m"}, &BedrockChatStream{IncludeUsage: includeUsage, Created: 9, ID: "c", Model: "m"},
			strings.Split(bedrockStreamSeed, "\n"))
	}
}

// FuzzStreamsKeepNothingOfAnEvent: whatever the events, a translation
// gives the same chunks with each event's buffer reused.
func FuzzStreamsKeepNothingOfAnEvent(f *testing.F) {
	f.Add(uint8(0), anthropicStreamSeed)
	f.Add(uint8(1), geminiStreamSeed)
	f.Add(uint8(2), bedrockStreamSeed)
	f.Fuzz(func(t *testing.T, which uint8, in string) {
		events := strings.Split(in, "\n")
		switch which % 3 {
		case 0:
			eventsTwice(t, &AnthropicChatStream{IncludeUsage: true}, &AnthropicChatStream{IncludeUsage: true}, events)
		case 1:
			eventsTwice(t, &GeminiChatStream{IncludeUsage: true, NewID: counter()}, &GeminiChatStream{IncludeUsage: true, NewID: counter()}, events)
		case 2:
			eventsTwice(t, &BedrockChatStream{IncludeUsage: true, ID: "c", Model: "m"}, &BedrockChatStream{IncludeUsage: true, ID: "c", Model: "m"}, events)
		}
	})
}

// BenchmarkStreamEvent translates the seed streams to chat chunks, each
// event from one reused buffer as the relay hands them: what a translated
// stream costs per event beside the relay's own (package stream's
// benchmarks). An op is one stream.
func BenchmarkStreamEvent(b *testing.B) {
	for _, tc := range []struct {
		name   string
		seed   string
		stream func() eventStream
	}{
		{"anthropic", anthropicStreamSeed, func() eventStream { return &AnthropicChatStream{IncludeUsage: true} }},
		{"gemini", geminiStreamSeed, func() eventStream { return &GeminiChatStream{IncludeUsage: true, NewID: counter()} }},
		{"bedrock", bedrockStreamSeed, func() eventStream { return &BedrockChatStream{IncludeUsage: true, ID: "c", Model: "m"} }},
	} {
		events := strings.Split(tc.seed, "\n")
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				s := tc.stream()
				for _, ev := range events {
					buf = append(buf[:0], ev...)
					s.Event(buf)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
}
