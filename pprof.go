//go:build pprof

package main

import (
	"log"
	"os"
	"runtime/pprof"
)

// startCPUProfile, built with -tags pprof (the bench's -proxy-cpuprofile),
// profiles the proxy's whole run into LLMPROXY_CPUPROFILE; release builds
// use noprofile.go's.
func startCPUProfile() (stop func()) {
	path := os.Getenv("LLMPROXY_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatalf("cpu profile: %v", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatalf("cpu profile: %v", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
