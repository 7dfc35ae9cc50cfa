package main

import (
	"math"
	"slices"
	"time"
)

// pcts are percentiles in microseconds.
type pcts struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
}

// percentiles sorts ns (nanoseconds) in place and reads p50, p99, p99.9 by
// nearest rank.
func percentiles(ns []int64) pcts {
	if len(ns) == 0 {
		return pcts{}
	}
	slices.Sort(ns)
	return pcts{P50: rank(ns, 0.50), P99: rank(ns, 0.99), P999: rank(ns, 0.999)}
}

func rank(sorted []int64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / 1e3
}

// result is one target measured under one load.
type result struct {
	Target   string `json:"target"`
	Requests int    `json:"requests"`
	Errors   int    `json:"errors"`
	// ErrorSamples are up to five distinct reasons requests failed.
	ErrorSamples []string `json:"error_samples,omitempty"`
	Seconds      float64  `json:"seconds"` // wall time of the measured runs
	OfferedRPS   float64  `json:"offered_rps,omitempty"`
	Throughput   float64  `json:"throughput_rps"`
	Latency      pcts     `json:"latency_us"`           // from the scheduled start
	Service      pcts     `json:"service_us"`           // from the actual send
	Lateness     pcts     `json:"dispatch_lateness_us"` // scheduled start → send
	// Streams only.
	TTFB       *pcts `json:"ttfb_us,omitempty"`              // scheduled start → first event
	FirstEvent *pcts `json:"first_event_delay_us,omitempty"` // upstream write → client read
	Events     *pcts `json:"event_delay_us,omitempty"`       // every event, upstream write → client read
	EventCount int   `json:"events,omitempty"`
	// CPU time of the target's own process (floor or proxy) and of the
	// upstream, per request, in µs.
	CPUPerRequest         float64 `json:"cpu_us_per_request,omitempty"`
	UpstreamCPUPerRequest float64 `json:"upstream_cpu_us_per_request"`
}

// summarize turns samples into a result.
func summarize(target string, ss []sample, elapsed time.Duration) *result {
	r := &result{Target: target, Requests: len(ss), Seconds: elapsed.Seconds()}
	var lat, svc, late, ttfb, first, events []int64
	for _, s := range ss {
		if !s.ok {
			r.Errors++
			if len(r.ErrorSamples) < 5 && !slices.Contains(r.ErrorSamples, s.err) {
				r.ErrorSamples = append(r.ErrorSamples, s.err)
			}
			continue
		}
		lat = append(lat, int64(s.lat))
		svc = append(svc, int64(s.svc))
		late = append(late, int64(s.late))
		if len(s.events) > 0 {
			ttfb = append(ttfb, int64(s.ttfb))
			first = append(first, s.first)
			events = append(events, s.events...)
		}
	}
	r.Latency, r.Service, r.Lateness = percentiles(lat), percentiles(svc), percentiles(late)
	if len(ttfb) > 0 {
		t, f, e := percentiles(ttfb), percentiles(first), percentiles(events)
		r.TTFB, r.FirstEvent, r.Events, r.EventCount = &t, &f, &e, len(events)
	}
	if elapsed > 0 {
		r.Throughput = float64(len(ss)-r.Errors) / elapsed.Seconds()
	}
	return r
}
