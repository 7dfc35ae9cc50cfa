// Package openai knows the OpenAI / LiteLLM proxy wire format: what a
// request must hold and what the proxy reads of it (request.go, LiteLLM's
// own members in litellm.go), how a body is edited without re-encoding it
// (json.go), and how the proxy writes its own errors (errors.go).
package openai
