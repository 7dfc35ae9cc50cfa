package stream

import (
	"mime"
	"sync"
)

// Framer splits the bytes of one stream into its events as they arrive,
// however the reads cut them: SSE (Parser), with room for other framings
// (AWS event-stream's binary frames, a streamed JSON array). A Framer never
// modifies the bytes it is fed, and is not safe for concurrent use.
type Framer interface {
	// Feed parses b and calls emit for each event it completes; an
	// event's slices are valid only during the call.
	Feed(b []byte, emit func(Event))
	// Pending is the bytes of an event that has started but not ended.
	Pending() []byte
	// InEvent reports whether an event has started and not ended: at the
	// end of a stream, a truncated one.
	InEvent() bool
	// Cut drops what the current event holds and the rest of it as it
	// comes: it ends as an Event with Cut set.
	Cut()
}

// Framing is how a dialect frames its streams: the media type that marks
// an answer as one, and the framer that splits it.
type Framing struct {
	// MediaType is the Content-Type of its streams, without parameters.
	MediaType string
	// New makes the framer of one stream; maxEvent, when above 0, bounds
	// the bytes one event may hold (an event past it is cut).
	New func(maxEvent int) Framer
}

// SSE is the server-sent events framing (text/event-stream) of OpenAI's,
// Anthropic's and most other streams.
var SSE = Framing{MediaType: "text/event-stream", New: func(maxEvent int) Framer { return &Parser{MaxEvent: maxEvent} }}

// Streams reports whether an answer with this Content-Type is a stream in
// this framing. The media type is parsed, so parameters (charset) do not
// fool it.
func (f Framing) Streams(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == f.MediaType
}

// copyBuffers holds the 32 KiB buffers whole answers are copied
// through: one buffer a call would otherwise be allocated and zeroed each
// time.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// CopyBuffer is a buffer to copy an answer through; give it
// back with PutCopyBuffer.
func CopyBuffer() *[]byte { return copyBuffers.Get().(*[]byte) }

// PutCopyBuffer gives back a buffer of CopyBuffer.
func PutCopyBuffer(b *[]byte) { copyBuffers.Put(b) }

// eventBuffers hold the 8 KiB buffers a stream is read through: it holds
// one as long as it is open, for hours with an agent, and its events are a
// few hundred bytes each (a longer one comes in several reads, which the
// parsers take as they come).
var eventBuffers = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}
