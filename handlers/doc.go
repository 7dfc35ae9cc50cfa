// Package handlers wires HTTP to the proxy's parts: the routes of the
// OpenAI / LiteLLM proxy API (router.go), the traced path for model calls
// (model.go) with each call's attempts made through the router's plan
// (attempt.go) and streams relayed by package stream, the config file's
// /models and /model/info (models.go), the Phoenix project a call may name
// (project.go), a plain reverse proxy with a generic span for every other
// /v1 path (forward.go), and the one place where failures become statuses
// (errors.go).
package handlers
