// Package stream relays event streams from an upstream to the client as
// they arrive, and reads a copy of the same bytes to trace them.
//
// One relay loop serves every dialect (relay.go): the bytes the client
// receives are the upstream's, written and flushed read by read, unless a
// Rewriter changes them (chat's usage stripping, chat_usage.go; a
// translation, package translate). A copy goes through the dialect's
// Framer (framing.go; the lenient SSE parser, sse.go) and its accumulator
// (accumulator.go: chat.go, responses.go, anthropic.go), which merges the
// events into one response as they pass, so memory is bounded by the
// answer, not by the stream.
package stream
