package main

import (
	"context"
	"fmt"
	"time"
)

// results is everything a run measured; it is written as JSON.
type results struct {
	Started  time.Time       `json:"started"`
	Seconds  float64         `json:"seconds"`
	Machine  machine         `json:"machine"`
	Plan     plan            `json:"plan"`
	ProxyEnv []string        `json:"proxy_env"` // PORT aside
	Steps    []stepInfo      `json:"steps"`
	Phases   []*phase        `json:"phases"`
	Streams  []*memResult    `json:"concurrent_streams"`
	Growth   *growth         `json:"growth"`
	Export   *exportResult   `json:"export"`
	Sessions *sessionsResult `json:"sessions"`
	Table    []row           `json:"table"`
	Goals    []goal          `json:"goals"`

	// Agent is the agent step's (agent.go).
	Agent []*agentResult `json:"agent_calls"`
}

// stepInfo is how long a step took and how busy the rest of the machine
// was meanwhile: CPU (in cores) that neither the bench nor its processes
// used, and what the hypervisor stole. Figures from a step with other load
// are disturbed.
type stepInfo struct {
	Name       string  `json:"name"`
	Seconds    float64 `json:"seconds"`
	OtherCores float64 `json:"other_cores"`
	StealCores float64 `json:"steal_cores"`
}

// phase is one load offered to every target in turn.
type phase struct {
	Key     string    `json:"key"`
	Title   string    `json:"title"`
	Results []*result `json:"results"` // direct, floor, on, off
	// Reruns counts blocks measured again because the load generator fell
	// behind (fixedRate).
	Reruns int `json:"reruns"`
}

func (p *phase) get(key string) *result { return resultFor(p.Results, key) }

// resultFor is the result of the target named key (direct, floor, on,
// off), or nil.
func resultFor(results []*result, key string) *result {
	for _, r := range results {
		if r.Target == key {
			return r
		}
	}
	return nil
}

func (b *bench) phase(key string) *phase {
	for _, p := range b.res.Phases {
		if p.Key == key {
			return p
		}
	}
	return nil
}

func us(d time.Duration) float64 { return float64(d) / 1e3 }

// open offers t an open-loop load and counts what it sent.
func (t *target) open(rate float64, d time.Duration, do call) []sample {
	ss := openLoop(rate, d, do)
	t.sent += int64(len(ss))
	return ss
}

// closed offers t a closed-loop load and counts what it sent.
func (t *target) closed(workers int, n int64, limit time.Duration, do call) ([]sample, time.Duration) {
	ss, elapsed := closedLoop(workers, n, limit, do)
	t.sent += int64(len(ss))
	return ss, elapsed
}

// fixedRate offers every target the same open-loop rate until each has
// about `samples` requests. The targets take turns in short blocks, in a
// rotating order, so that whatever drifts on the machine (other work, CPU
// frequency, the load generator's heap) lands on all of them alike. CPU is
// read per process over the whole phase, so a proxy's background work (span
// export) counts even when it happens in another target's turn.
//
// A block in which the load generator itself sent its requests late by more
// than maxLateness at p99 is measured again (at most maxReruns times a
// phase): the machine stalled, as this kind of VM does now and then, and
// one target would carry it alone.
func (b *bench) fixedRate(ctx context.Context, key, title string, rate float64, samples int, mk func(*target) call) error {
	const maxLateness, maxReruns = 5 * time.Millisecond, 4
	rounds := b.plan.Rounds
	block := time.Duration(float64(samples) / float64(rounds) / rate * float64(time.Second))
	for _, t := range b.targets {
		t.open(rate, min(block/2, 500*time.Millisecond), mk(t)) // warm-up: connections, heap
	}
	all := map[string][]sample{}
	elapsed := map[string]time.Duration{}
	upCPU := map[string]time.Duration{}
	cpu0 := map[string]time.Duration{}
	sent := map[string]int{} // measured or not, for CPU per request
	for _, t := range b.targets {
		cpu0[t.key] = t.cpu()
	}
	ph := &phase{Key: key, Title: title}
	for r := range rounds {
		for i := range b.targets {
			t := b.targets[(i+r)%len(b.targets)]
			for {
				if err := ctx.Err(); err != nil {
					return err
				}
				u0, t0 := b.upstream.cpu(), time.Now()
				ss := t.open(rate, block, mk(t))
				upCPU[t.key] += b.upstream.cpu() - u0
				sent[t.key] += len(ss)
				if late := summarize(t.key, ss, 0).Lateness.P99; late > us(maxLateness) && ph.Reruns < maxReruns {
					ph.Reruns++
					continue
				}
				elapsed[t.key] += time.Since(t0)
				all[t.key] = append(all[t.key], ss...)
				break
			}
		}
	}
	for _, t := range b.targets {
		r := summarize(t.key, all[t.key], elapsed[t.key])
		r.OfferedRPS = rate
		n := float64(sent[t.key])
		if t.proc != nil {
			r.CPUPerRequest = us(t.cpu()-cpu0[t.key]) / n
		}
		r.UpstreamCPUPerRequest = us(upCPU[t.key]) / n
		ph.Results = append(ph.Results, r)
	}
	b.res.Phases = append(b.res.Phases, ph)
	return b.alive()
}

func (b *bench) chatLatency(ctx context.Context) error {
	for _, rate := range b.plan.ChatRates {
		err := b.fixedRate(ctx, fmt.Sprintf("chat@%g", rate), fmt.Sprintf("Chat completion, %g req/s open loop", rate),
			rate, b.plan.ChatSamples, func(t *target) call { return chatCall(b.client, t.url()) })
		if err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) streamLatency(ctx context.Context) error {
	for _, s := range []struct {
		shape    streamShape
		key, who string
	}{
		{streamShape{}, "stream", "client without include_usage: the proxy asks for it and strips it"},
		{streamShape{usage: true}, "stream+usage", "client asks include_usage: nothing to strip"},
		{streamShape{responses: true}, "stream-responses", "Responses API, typed events"},
		{streamShape{anthropic: true}, "stream-anthropic", "anthropic/ model: the proxy translates Anthropic's stream (direct and floor get the same chat stream)"},
		{streamShape{gemini: true}, "stream-gemini", "native Gemini API (:streamGenerateContent?alt=sse)"},
		{streamShape{vertex: true}, "stream-vertex", "vertex_ai/ model: the proxy translates Vertex AI's Gemini stream (direct and floor get the same chat stream)"},
		{streamShape{converse: true}, "stream-converse", "native Bedrock ConverseStream (AWS event stream), signed by the proxy with SigV4"},
		{streamShape{bedrock: true}, "stream-bedrock", "bedrock/ model: the proxy translates Bedrock's ConverseStream (direct and floor get the same chat stream)"},
	} {
		shape, key, who := s.shape, s.key, s.who
		shape.chunks, shape.pace = b.plan.StreamChunks, b.plan.StreamPace
		title := fmt.Sprintf("Stream, %g streams/s, %d chunks %s apart; %s", b.plan.StreamRate, shape.chunks, shape.pace, who)
		err := b.fixedRate(ctx, key, title, b.plan.StreamRate, b.plan.StreamSamples,
			func(t *target) call { return streamCall(b.client, t.url(), shape) })
		if err != nil {
			return err
		}
	}
	return nil
}

// growth is the tracing-on proxy's memory over its saturation run.
type growth struct {
	Requests    int64   `json:"requests"`
	RSSStartMB  float64 `json:"rss_start_mb"`       // mean over the first tenth
	RSSEndMB    float64 `json:"rss_end_mb"`         // mean over the last tenth
	HeapStartMB float64 `json:"heap_live_start_mb"` // mean over the first tenth's collections
	HeapEndMB   float64 `json:"heap_live_end_mb"`   // median over the last tenth's
	GCsStart    int     `json:"gcs_start"`
	GCsEnd      int     `json:"gcs_end"`
	Errors      int     `json:"errors"`
	Throughput  float64 `json:"throughput_rps"`
	// CPUPerRequest is the proxy's, in µs.
	CPUPerRequest float64 `json:"cpu_us_per_request"`
}

// saturation drives each target as hard as SaturationWorkers connections
// can, taking turns in blocks like fixedRate; then the tracing-on proxy
// alone serves GrowthRequests more at saturation, to see its memory.
func (b *bench) saturation(ctx context.Context) error {
	ph := &phase{Key: "saturation", Title: fmt.Sprintf("Saturation, %d connections closed loop", b.plan.SaturationWorkers)}
	w, rounds := b.plan.SaturationWorkers, b.plan.Rounds
	block := b.plan.SaturationTime / time.Duration(rounds)
	for _, t := range b.targets {
		t.closed(w, 1<<62, 300*time.Millisecond, chatCall(b.client, t.url())) // warm-up
	}
	all := map[string][]sample{}
	elapsed := map[string]time.Duration{}
	upCPU := map[string]time.Duration{}
	cpu0 := map[string]time.Duration{}
	for _, t := range b.targets {
		cpu0[t.key] = t.cpu()
	}
	for r := range rounds {
		for i := range b.targets {
			if err := ctx.Err(); err != nil {
				return err
			}
			t := b.targets[(i+r)%len(b.targets)]
			u0 := b.upstream.cpu()
			ss, el := t.closed(w, 1<<62, block, chatCall(b.client, t.url()))
			elapsed[t.key] += el
			upCPU[t.key] += b.upstream.cpu() - u0
			all[t.key] = append(all[t.key], ss...)
		}
	}
	for _, t := range b.targets {
		r := summarize(t.key, all[t.key], elapsed[t.key])
		n := float64(r.Requests)
		if t.proc != nil {
			r.CPUPerRequest = us(t.cpu()-cpu0[t.key]) / n
		}
		r.UpstreamCPUPerRequest = us(upCPU[t.key]) / n
		ph.Results = append(ph.Results, r)
	}
	b.res.Phases = append(b.res.Phases, ph)
	if err := ctx.Err(); err != nil {
		return err
	}
	b.growth(b.target("on"))
	return b.alive()
}

// growth runs GrowthRequests through t at saturation in three legs (a
// tenth, eight tenths, a tenth) and compares its memory after the first and
// the last.
func (b *bench) growth(t *target) {
	n := b.plan.GrowthRequests
	g := &growth{Requests: n}
	do := chatCall(b.client, t.url())
	c0 := t.cpu()
	var all []sample
	var elapsed time.Duration
	for i, leg := range []int64{n / 10, n - 2*(n/10), n / 10} {
		t0 := time.Now()
		stop := make(chan struct{})
		rss := make(chan float64)
		go func() { rss <- t.proc.meanRSS(stop) }()
		ss, el := t.closed(b.plan.SaturationWorkers, leg, time.Hour, do)
		close(stop)
		all, elapsed = append(all, ss...), elapsed+el
		switch i {
		case 0:
			g.RSSStartMB = <-rss
			g.HeapStartMB, g.GCsStart = t.proc.heapSince(t0)
		case 2:
			g.RSSEndMB = <-rss
			g.HeapEndMB, g.GCsEnd = t.proc.heapSince(t0)
		default:
			<-rss
		}
	}
	r := summarize(t.key, all, elapsed)
	g.Errors, g.Throughput = r.Errors, r.Throughput
	g.CPUPerRequest = us(t.cpu()-c0) / float64(len(all))
	b.res.Growth = g
}

// memResult is a proxy's memory with many slow streams open at once.
type memResult struct {
	Target       string  `json:"target"`
	Streams      int     `json:"streams"`
	OpenAtSample int     `json:"open_at_sample"` // streams between first event and end when memory was read
	Errors       int     `json:"errors"`
	RSSMB        float64 `json:"rss_mb"`
	PeakRSSMB    float64 `json:"peak_rss_mb"` // of the process's life so far
	HeapLiveMB   float64 `json:"heap_live_mb"`
	HeapGoalMB   float64 `json:"heap_goal_mb"`
	StacksMB     float64 `json:"stacks_mb"`
	FirstEvent   pcts    `json:"first_event_delay_us"`
	Events       pcts    `json:"event_delay_us"`
	CPUPerStream float64 `json:"cpu_us_per_stream"`
}

// concurrent opens ConcurrentStreams slow streams through each proxy (at
// ConcurrentOpenRate a second) and reads its memory while they are all
// open.
func (b *bench) concurrent(ctx context.Context) error {
	shape := streamShape{chunks: b.plan.SlowChunks, pace: b.plan.SlowPace}
	openRate := b.plan.ConcurrentOpenRate
	opening := time.Duration(float64(b.plan.ConcurrentStreams) / openRate * float64(time.Second))
	lasting := time.Duration(shape.chunks+2) * shape.pace
	for _, t := range b.proxies() {
		if err := ctx.Err(); err != nil {
			return err
		}
		c0 := t.cpu()
		done := make(chan []sample)
		start := time.Now()
		go func() { done <- t.open(openRate, opening, streamCall(b.client, t.url(), shape)) }()
		// Every stream is open between the end of the opening and the end
		// of the first stream; read memory halfway.
		sampleAt := start.Add(opening + (lasting-opening)/2)
		time.Sleep(time.Until(sampleAt))
		m := &memResult{Target: t.key, Streams: b.plan.ConcurrentStreams}
		m.RSSMB, m.PeakRSSMB = t.proc.memory()
		if gc, ok := t.proc.lastGC(); ok {
			m.HeapLiveMB, m.HeapGoalMB, m.StacksMB = float64(gc.liveMB), float64(gc.goalMB), float64(gc.stacksMB)
		}
		ss := <-done
		r := summarize(t.key, ss, time.Since(start))
		m.Errors = r.Errors
		if r.FirstEvent != nil {
			m.FirstEvent, m.Events = *r.FirstEvent, *r.Events
		}
		for _, s := range ss {
			if s.ok && !s.sched.Add(s.ttfb).After(sampleAt) && s.sched.Add(s.lat).After(sampleAt) {
				m.OpenAtSample++
			}
		}
		m.CPUPerStream = us(t.cpu()-c0) / float64(len(ss))
		b.res.Streams = append(b.res.Streams, m)
	}
	return b.alive()
}

// exportResult is what became of the spans.
type exportResult struct {
	// Through the tracing-on proxy over the whole run, fast collector,
	// the agent step's calls aside (it counts their spans itself).
	Sent     int64 `json:"requests"`
	Received int64 `json:"spans"`
	Dropped  int64 `json:"dropped"`
	// Spans per second at saturation: the tracing-on proxy's throughput
	// over its growth run, every request one span.
	SaturationSpansPerSec float64 `json:"saturation_spans_per_s"`
	// Spans the tracing-off proxy exported: must be 0.
	TracingOffSpans int64 `json:"tracing_off_spans"`
	// A collector that takes CollectorDelayMS per export.
	CollectorDelayMS  float64      `json:"slow_collector_delay_ms"`
	CollectorCapacity float64      `json:"slow_collector_capacity_spans_per_s"` // batch size / delay
	Steps             []exportStep `json:"slow_collector"`
}

// exportStep is one open-loop rate through fresh tracing-on proxies, one
// whose collector is fast and one whose collector is slow.
type exportStep struct {
	OfferedRPS float64   `json:"offered_rps"`
	Fast       exportRun `json:"fast_collector"`
	Slow       exportRun `json:"slow_collector"`
}

// exportRun is what one proxy's clients saw and what its collector got.
type exportRun struct {
	Requests int64 `json:"requests"`
	Errors   int   `json:"errors"`
	Spans    int64 `json:"spans"`
	Dropped  int64 `json:"dropped"`
	Latency  pcts  `json:"latency_us"`
}

// export stops the tracing-on proxy (it flushes its queue) and counts its
// spans. Then, for each export rate, it runs a fresh proxy against the
// collector as it is and another against the collector slowed down to
// take CollectorDelay per export: below its capacity nothing may drop;
// past it spans drop, are counted, and the clients must not notice.
func (b *bench) export(ctx context.Context) error {
	on := b.target("on")
	if err := on.proc.stop(60 * time.Second); err != nil {
		return err
	}
	counts, err := b.spans(ctx)
	if err != nil {
		return err
	}
	e := &exportResult{Sent: on.sent, Received: counts.Spans["bench-on"], TracingOffSpans: counts.Spans["bench-off"]}
	e.Sent, e.Received = e.Sent-b.agentRequests(), e.Received-b.agentSpansReceived() // the agent step counts its own
	e.Dropped = e.Sent - e.Received
	if b.res.Growth != nil {
		e.SaturationSpansPerSec = b.res.Growth.Throughput
	}
	b.res.Export = e

	d := b.plan.CollectorDelay
	e.CollectorDelayMS = float64(d) / 1e6
	e.CollectorCapacity = float64(b.plan.ExportBatchSize) / d.Seconds()
	defer func() { _ = b.collectorDelay(context.Background(), 0) }()
	for _, rate := range b.plan.ExportRates {
		step := exportStep{OfferedRPS: rate}
		for _, slow := range []bool{false, true} {
			delay, run, name := time.Duration(0), &step.Fast, "fast"
			if slow {
				delay, run, name = d, &step.Slow, "slow"
			}
			if err := b.collectorDelay(ctx, delay); err != nil {
				return err
			}
			r, err := b.exportRun(ctx, fmt.Sprintf("bench-export-%g-%s", rate, name), rate)
			if err != nil {
				return err
			}
			*run = r
		}
		e.Steps = append(e.Steps, step)
	}
	return nil
}

// exportRun offers a fresh tracing-on proxy rate chat requests a second,
// stops it (it flushes what it queued) and counts the spans that arrived.
func (b *bench) exportRun(ctx context.Context, service string, rate float64) (exportRun, error) {
	c, base, err := b.startProxy(ctx, service, true)
	if err != nil {
		return exportRun{}, err
	}
	t := &target{key: service, base: base, proc: c}
	do := chatCall(b.client, t.url())
	t.open(rate, 300*time.Millisecond, do)
	r := summarize(service, t.open(rate, b.plan.ExportTime, do), b.plan.ExportTime)
	if err := c.stop(90 * time.Second); err != nil {
		return exportRun{}, err
	}
	counts, err := b.spans(ctx)
	if err != nil {
		return exportRun{}, err
	}
	run := exportRun{Requests: t.sent, Errors: r.Errors, Spans: counts.Spans[service], Latency: r.Latency}
	run.Dropped = run.Requests - run.Spans
	return run, nil
}
