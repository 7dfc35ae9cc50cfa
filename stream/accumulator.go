package stream

import (
	"errors"
)

// Accumulator merges the events of one stream dialect into the response
// they make up, as they pass: chat and legacy completions (ChatAccumulator),
// the Responses API (ResponsesAccumulator). Implementations are pure (event
// data in, JSON out) and not safe for concurrent use.
//
// They read each event's data where it lies (jsonbound.ParseInPlace): the
// framer reuses it once the event has passed, so whatever an accumulator
// or a rewriter keeps past the event it clones first (strings.Clone). The
// recorded-stream tests and the fuzzers overwrite each event's data once
// it has been read, and compare.
type Accumulator interface {
	// Add merges one event's data. It reports whether the event carried the
	// stream's first token, and ErrBadChunk for data it could not read (the
	// event is skipped; the stream goes on).
	Add(data []byte) (firstToken bool, err error)
	// Result is the response assembled so far: always a JSON object.
	Result() []byte
	// Err is the raw JSON of the error the stream reported, or "".
	Err() string
	// Done reports whether the stream's last event has passed: the client
	// has the whole answer.
	Done() bool
}

// ErrBadChunk is returned by Add for data that is not a JSON object; the
// event is skipped and the stream goes on.
var ErrBadChunk = errors.New("stream chunk is not a JSON object")

var (
	_ Accumulator = (*ChatAccumulator)(nil)
	_ Accumulator = (*ResponsesAccumulator)(nil)
	_ Accumulator = (*AnthropicAccumulator)(nil)
)
