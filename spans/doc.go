// Package spans turns OpenAI-compatible requests and responses into
// OpenInference spans and exports them to Phoenix.
//
// It knows the OpenInference semantic conventions (keys.go), how the official
// Python instrumentors map each API onto them (chat.go, completion.go,
// embedding.go, responses.go, anthropic.go), what a call records besides
// (call.go: LiteLLM's call id and metadata, the deployment that answered
// and the attempts before it), and how spans leave the process: an
// OpenTelemetry SDK TracerProvider with a BatchSpanProcessor over OTLP gRPC
// (exporter.go), a buffer that keeps them through collector outages
// (buffer.go), a resource per Phoenix project a call names (project.go),
// and trace ids a call asks for (traceid.go), so exporting never blocks a
// request.
package spans
