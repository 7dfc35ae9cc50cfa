// Package spans turns OpenAI-compatible requests and responses into
// OpenInference spans and exports them to Phoenix.
//
// It knows the OpenInference semantic conventions (keys.go), how the official
// Python instrumentor for OpenAI maps each API onto them (chat.go,
// completion.go, embedding.go), and how spans leave the process: an
// OpenTelemetry SDK TracerProvider with a BatchSpanProcessor over OTLP gRPC
// (exporter.go), so exporting never blocks a request.
package spans
