// Package handlers wires HTTP to the proxy's parts. The routes come from
// the API descriptions of package endpoint (router.go), with the master
// key, the in-flight cap and LiteLLM's health routes. A model call reads
// top to bottom: serveModel reads the request, routes it through the
// router's plan, starts its span, makes its attempts (attempt.go: one
// function per attempt, a translation to the provider's dialect where it
// speaks another) and writes the answer (answer.go); streams are relayed
// and traced by one stream tracer (streamtrace.go) that the forwarder
// shares. The reverse proxy for forwarded routes (forward.go), the config
// file's /models and /model/info (models.go), the Phoenix project a call may
// name (project.go), LiteLLM's mock answers (mock.go) and headers
// (headers.go), and the one place where failures become statuses
// (errors.go) complete it.
package handlers
