// Package handlers wires HTTP to the proxy's parts: the routes of the
// OpenAI / LiteLLM proxy API (router.go), the traced path for model calls
// (model.go) with streams relayed by package stream, a plain reverse proxy
// with a generic span for every other /v1 path (forward.go), and the one
// place where failures become statuses (errors.go).
package handlers
