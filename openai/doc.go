// Package openai knows the OpenAI / LiteLLM proxy wire format: which
// endpoints there are, what a request must hold, how a body is edited
// without re-encoding it, which provider a "provider/model" name routes to,
// and how errors are written.
package openai
