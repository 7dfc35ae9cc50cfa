// Package spans turns calls into OpenInference spans: it maps each API's
// requests and answers onto the semantic conventions, and nothing else (how
// spans leave the process is package export's).
//
// It knows the OpenInference keys (keys.go), how the official Python
// instrumentors map each API onto them (chat.go, completion.go,
// embedding.go, responses.go, anthropic.go: one file per API, each an
// Operation), what a call records besides (call.go: LiteLLM's call id and
// metadata, the deployment that answered and the attempts before it, the
// Phoenix project it names), and what is kept out of a span (secrets.go,
// redact.go).
package spans
