//go:build !pprof

package main

// startCPUProfile profiles nothing: see pprof.go (-tags pprof).
func startCPUProfile() (stop func()) { return func() {} }
