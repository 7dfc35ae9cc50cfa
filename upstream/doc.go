// Package upstream knows the providers the proxy forwards to: what each
// family of them does its own way (one file each: openai.go for OpenAI and
// the servers that speak its API, azure.go, gemini.go for the Gemini API
// and its OpenAI-compatible endpoint, vertex.go for Vertex AI, whose
// Google credentials are google_credentials.go, anthropic.go), where a
// call goes (its URL), how it is authorized (a hook that sees the whole
// outgoing request, so a signature over it fits beside a header key or an
// OAuth2 token), and which provider a LiteLLM "provider/model" name or a
// config file's deployment routes to (providers.go), from the
// environment's variables in LiteLLM's names (env.go).
//
// Adding a family is a file here (its variables, its providers, its URL and
// authorization) and a line in Env and in Env.entries.
package upstream
