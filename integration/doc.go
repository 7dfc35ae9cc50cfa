// Package integration holds the proxy's end-to-end suites: Go tests that run
// the real proxy between a fake provider replaying recorded traffic and an
// in-process OTLP receiver (this folder), the Python and Node suite against
// a real Phoenix (e2e/), and the benchmark (bench/).
package integration
