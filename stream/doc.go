// Package stream relays server-sent event streams from an upstream to the
// client as they arrive, and reads a copy of the same bytes to trace them.
//
// The bytes the client receives are the upstream's, written and flushed read
// by read (relay.go). A copy goes through a lenient SSE parser (sse.go) and
// an accumulator (accumulator.go) that merges chunk deltas into one response
// as they pass, so memory is bounded by the answer, not by the stream.
package stream
