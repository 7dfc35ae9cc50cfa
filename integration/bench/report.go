package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// row is one line of the table: a section heading, or a metric with a cell
// per target (direct, floor, tracing on, tracing off) and the goal it is
// measured against.
type row struct {
	Section string   `json:"section,omitempty"`
	Metric  string   `json:"metric,omitempty"`
	Cells   []string `json:"cells,omitempty"`
	Goal    string   `json:"goal,omitempty"`
}

// goal is one of the targets, with the figure measured for it.
type goal struct {
	Name     string  `json:"name"`
	Measured float64 `json:"measured"`
	Limit    float64 `json:"limit"`
	Unit     string  `json:"unit"`
	Met      bool    `json:"met"`
}

// check records a goal (met when measured ≤ limit, or ≥ when atLeast) and
// returns its text for the table's goal column.
func (b *bench) check(name string, measured, limit float64, unit string, atLeast bool) string {
	met := measured <= limit
	op := "≤"
	if atLeast {
		met, op = measured >= limit, "≥"
	}
	b.res.Goals = append(b.res.Goals, goal{Name: name, Measured: round(measured), Limit: limit, Unit: unit, Met: met})
	return fmt.Sprintf("%s %s %s: %s", num(measured), op, num(limit), mark(met))
}

func mark(met bool) string {
	if met {
		return "met"
	}
	return "NOT MET"
}

func round(v float64) float64 { return math.Round(v*100) / 100 }

// num prints a figure with the precision it deserves.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 10000:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// added prints a difference with its sign.
func added(v float64) string {
	if v >= 0 {
		return "+" + num(v)
	}
	return num(v)
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func count(n int64) string { return groupThousands(fmt.Sprint(n)) }

const na = "—"

// reruns notes the blocks a phase measured again.
func reruns(ph *phase) string {
	switch ph.Reruns {
	case 0:
		return ""
	case 1:
		return " (1 block measured again: the load generator stalled)"
	}
	return fmt.Sprintf(" (%d blocks measured again: the load generator stalled)", ph.Reruns)
}

// errorsRow adds a row of the targets' errors, when any had one.
func errorsRow(add func(metric, goal string, cells ...string), results []*result) {
	total := 0
	var cells []string
	for _, r := range results {
		total += r.Errors
		cells = append(cells, fmt.Sprintf("%d of %s", r.Errors, count(int64(r.Requests))))
	}
	if total > 0 {
		add("errors", "", cells...)
	}
}

// buildTable turns the results into rows and goals.
func (b *bench) buildTable() {
	var rows []row
	section := func(s string) { rows = append(rows, row{Section: s}) }
	add := func(metric, goal string, cells ...string) {
		rows = append(rows, row{Metric: metric, Cells: cells, Goal: goal})
	}
	// pct picks one percentile.
	type pick func(pcts) float64
	p50 := func(p pcts) float64 { return p.P50 }
	p99 := func(p pcts) float64 { return p.P99 }
	p999 := func(p pcts) float64 { return p.P999 }
	picks := []struct {
		name string
		f    pick
	}{{"p50", p50}, {"p99", p99}, {"p99.9", p999}}
	// latencyRows: direct absolute, the others added over direct.
	latencyRows := func(ph *phase, what string, get func(*result) *pcts, goals func(name string, on, floor float64) string) {
		d := get(ph.get("direct"))
		for _, pk := range picks {
			cells := []string{num(pk.f(*d))}
			var on, fl float64
			for _, k := range []string{"floor", "on", "off"} {
				v := pk.f(*get(ph.get(k))) - pk.f(*d)
				cells = append(cells, added(v))
				switch k {
				case "on":
					on = v
				case "floor":
					fl = v
				}
			}
			g := ""
			if goals != nil {
				g = goals(pk.name, on, fl)
			}
			add(what+" "+pk.name+", µs", g, cells...)
		}
	}
	cpuRow := func(ph *phase, what string) {
		cells := []string{fmt.Sprintf("(upstream %s)", num(ph.get("direct").UpstreamCPUPerRequest))}
		for _, k := range []string{"floor", "on", "off"} {
			cells = append(cells, num(ph.get(k).CPUPerRequest))
		}
		add(what, "", cells...)
	}
	// latenessRow shows how late the load generator sent requests: noise
	// in every target's latency alike.
	latenessRow := func(ph *phase) {
		var cells []string
		for _, r := range ph.Results {
			cells = append(cells, num(r.Lateness.P99)+" / "+num(r.Lateness.P999))
		}
		add("sent late by (load generator) p99 / p99.9, µs", "", cells...)
	}

	lat := func(r *result) *pcts { return &r.Latency }
	for _, rate := range b.plan.ChatRates {
		ph := b.phase(fmt.Sprintf("chat@%g", rate))
		if ph == nil {
			continue
		}
		section(fmt.Sprintf("%s, %s requests per target%s", ph.Title, count(int64(ph.get("direct").Requests)), reruns(ph)))
		var goals func(string, float64, float64) string
		if rate == 500 {
			goals = func(name string, on, floor float64) string {
				switch name {
				case "p50":
					return "beyond floor " + b.check("latency beyond the floor, 500 req/s, chat, tracing on, p50", on-floor, 50, "µs", false)
				case "p99":
					return "beyond floor " + b.check("latency beyond the floor, 500 req/s, chat, tracing on, p99", on-floor, 250, "µs", false)
				}
				return ""
			}
		}
		latencyRows(ph, "latency", lat, goals)
		cpuRow(ph, "CPU per request, µs")
		if rate == 2000 {
			rows[len(rows)-1].Goal = "on/floor " + b.check("CPU per request, tracing on, ÷ floor's (2,000 req/s)",
				ph.get("on").CPUPerRequest/ph.get("floor").CPUPerRequest, 1.25, "×", false)
		}
		latenessRow(ph)
		errorsRow(add, ph.Results)
	}

	for _, key := range []string{"stream", "stream+usage", "stream-responses", "stream-anthropic", "stream-gemini", "stream-vertex", "stream-converse", "stream-bedrock"} {
		ph := b.phase(key)
		if ph == nil {
			continue
		}
		section(fmt.Sprintf("%s; %s streams per target%s", ph.Title, count(int64(ph.get("direct").Requests)), reruns(ph)))
		latencyRows(ph, "time to first event", func(r *result) *pcts { return r.TTFB }, nil)
		latencyRows(ph, "event delay", func(r *result) *pcts { return r.Events }, func(name string, on, _ float64) string {
			if name != "p99" {
				return ""
			}
			return "added " + b.check("per-event added delay p99, tracing on ("+key+")", on/1000, 1, "ms", false)
		})
		cells := []string{}
		for _, r := range ph.Results {
			cells = append(cells, num(r.FirstEvent.P99))
		}
		add("first event, upstream → client, p99, µs", "on "+b.check("first event reaches the client ≤ 5 ms after the upstream sends it, p99 ("+key+")",
			ph.get("on").FirstEvent.P99/1000, 5, "ms", false), cells...)
		cpuRow(ph, "CPU per stream, µs")
		latenessRow(ph)
		errorsRow(add, ph.Results)
	}

	if ph := b.phase("saturation"); ph != nil {
		section(ph.Title)
		d, f := ph.get("direct"), ph.get("floor")
		cells := func(fn func(*result) string) []string {
			var c []string
			for _, r := range ph.Results {
				c = append(c, fn(r))
			}
			return c
		}
		add("throughput, req/s", "", cells(func(r *result) string { return num(r.Throughput) })...)
		add("throughput ÷ direct", "", cells(func(r *result) string { return fmt.Sprintf("%.2f", r.Throughput/d.Throughput) })...)
		add("throughput ÷ floor", "on "+b.check("saturated throughput, tracing on, ÷ floor's", ph.get("on").Throughput/f.Throughput, 0.85, "×", true),
			cells(func(r *result) string { return fmt.Sprintf("%.2f", r.Throughput/f.Throughput) })...)
		cpuRow(ph, "CPU per request, µs")
		rows[len(rows)-1].Goal = "on/floor " + b.check("CPU per request, tracing on, ÷ floor's (saturation)",
			ph.get("on").CPUPerRequest/f.CPUPerRequest, 1.25, "×", false)
		add("latency p50 / p99, µs", "", cells(func(r *result) string { return num(r.Latency.P50) + " / " + num(r.Latency.P99) })...)
		add("requests", "", cells(func(r *result) string { return count(int64(r.Requests)) })...)
		errorsRow(add, ph.Results)
	}

	if len(b.res.Streams) > 0 {
		m0 := b.res.Streams[0]
		section(fmt.Sprintf("%s concurrent slow streams (opened at %g/s, %d chunks %s apart), memory read while all are open",
			count(int64(m0.Streams)), b.plan.ConcurrentOpenRate, b.plan.SlowChunks, b.plan.SlowPace))
		cells := func(fn func(*memResult) string) []string {
			c := []string{na}
			for _, m := range b.res.Streams {
				c = append(c, fn(m))
			}
			return c
		}
		var on *memResult
		for _, m := range b.res.Streams {
			if m.Target == "on" {
				on = m
			}
		}
		g := ""
		if on != nil {
			g = "on " + b.check("RSS with 1,000 concurrent streams, tracing on", on.RSSMB, 120, "MB", false)
		}
		add("RSS, MB", g, cells(func(m *memResult) string { return num(m.RSSMB) })...)
		add("heap live / goal, MB (gctrace)", "", cells(func(m *memResult) string { return fmt.Sprintf("%.0f / %.0f", m.HeapLiveMB, m.HeapGoalMB) })...)
		add("streams open when read", "", cells(func(m *memResult) string { return fmt.Sprint(m.OpenAtSample) })...)
		add("first event, upstream → client, p99, µs", "", cells(func(m *memResult) string { return num(m.FirstEvent.P99) })...)
		add("event delay p50 / p99, µs", "", cells(func(m *memResult) string { return num(m.Events.P50) + " / " + num(m.Events.P99) })...)
		add("CPU per stream, µs", "", cells(func(m *memResult) string { return num(m.CPUPerStream) })...)
		add("errors", "", cells(func(m *memResult) string { return fmt.Sprint(m.Errors) })...)
	}

	if g := b.res.Growth; g != nil {
		section(fmt.Sprintf("%s more requests at saturation, tracing on alone: growth from the first tenth to the last", count(g.Requests)))
		add("throughput, req/s; CPU per request, µs", "", na, na, num(g.Throughput)+"; "+num(g.CPUPerRequest), na)
		heapGrowth := g.HeapEndMB - g.HeapStartMB
		rssGrowth := (g.RSSEndMB - g.RSSStartMB) / g.RSSStartMB * 100
		add(fmt.Sprintf("heap live, MB (mean of the %d and %d GCs in each tenth)", g.GCsStart, g.GCsEnd),
			"growth "+b.check("heap growth over "+count(g.Requests)+" requests", heapGrowth, 1, "MB", false),
			na, na, fmt.Sprintf("%.1f → %.1f", g.HeapStartMB, g.HeapEndMB), na)
		add("RSS, MB (mean of each tenth)", "growth "+b.check("RSS growth over "+count(g.Requests)+" requests", rssGrowth, 10, "%", false),
			na, na, fmt.Sprintf("%.1f → %.1f", g.RSSStartMB, g.RSSEndMB), na)
	}

	b.agentTable(section, add)

	if e := b.res.Export; e != nil {
		section(fmt.Sprintf("Export (tracing on, OTLP gRPC to a counting collector; slow: %.0f ms per export, at most %s spans/s)", e.CollectorDelayMS, num(e.CollectorCapacity)))
		add("whole run (agent calls aside), fast collector: spans / requests", "", na, na, count(e.Received)+" / "+count(e.Sent), fmt.Sprint(e.TracingOffSpans)+" spans")
		add("dropped", "", na, na, count(e.Dropped), na)
		add("spans/s exported at saturation", "", na, na, num(e.SaturationSpansPerSec), na)
		for _, s := range e.Steps {
			prefix := fmt.Sprintf("%g req/s, collector slow (fast): ", s.OfferedRPS)
			add(prefix+"dropped", "", na, na,
				fmt.Sprintf("%s of %s (%s)", count(s.Slow.Dropped), count(s.Slow.Requests), count(s.Fast.Dropped)), na)
			add(prefix+"client p50 / p99, µs", "", na, na,
				fmt.Sprintf("%s / %s (%s / %s)", num(s.Slow.Latency.P50), num(s.Slow.Latency.P99), num(s.Fast.Latency.P50), num(s.Fast.Latency.P99)), na)
			add(prefix+"client errors", "", na, na, fmt.Sprintf("%d (%d)", s.Slow.Errors, s.Fast.Errors), na)
		}
	}
	rows = append(rows, b.sessionRows()...)
	b.res.Table = rows
}

// writeTable aligns the rows: metric names left, cells right, goals left;
// section headings on their own lines.
func writeTable(w io.Writer, rows []row) {
	header := row{Cells: []string{"direct", "floor", "tracing on", "tracing off"}, Goal: "goal"}
	width := func(s string) int { return utf8.RuneCountInString(s) }
	var metricW int
	cellW := make([]int, len(header.Cells))
	for _, r := range append([]row{header}, rows...) {
		if r.Section != "" {
			continue
		}
		metricW = max(metricW, width(r.Metric))
		for i, c := range r.Cells {
			cellW[i] = max(cellW[i], width(c))
		}
	}
	for _, r := range append([]row{header}, rows...) {
		if r.Section != "" {
			fmt.Fprintf(w, "%s\n", r.Section)
			continue
		}
		line := "  " + r.Metric + strings.Repeat(" ", metricW-width(r.Metric))
		for i, c := range r.Cells {
			line += "  " + strings.Repeat(" ", cellW[i]-width(c)) + c
		}
		if r.Goal != "" {
			line += "   " + r.Goal
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

// report prints the table and the goals.
func (b *bench) report(w io.Writer) {
	b.buildTable()
	m := b.res.Machine
	fmt.Fprintf(w, "\nllmproxy bench, %s, commit %s, %.0f s\n", b.res.Started.Format("2006-01-02 15:04 UTC"), m.Commit, b.res.Seconds)
	fmt.Fprintf(w, "machine: %s, %d cores, %d GB, %s, %s\n", m.CPU, m.Cores, m.MemoryGB, m.Kernel, m.Go)
	var other, worst float64
	worstStep := "no"
	for _, st := range b.res.Steps {
		other += st.OtherCores * st.Seconds
		if st.OtherCores > worst {
			worst, worstStep = st.OtherCores, st.Name
		}
	}
	if b.res.Seconds > 0 {
		other /= b.res.Seconds
	}
	fmt.Fprintf(w, "other processes on the machine: %.2f cores on average, %.2f at most (%s step)\n", max(other, 0), worst, worstStep)
	if worst > 0.3 { // the accounting is good to about ±0.2 cores
		fmt.Fprintln(w, "WARNING: the machine was not quiet; the figures of that step are disturbed. Run again on an idle machine.")
	}
	fmt.Fprintln(w, "direct: the fake upstream called directly; floor: a bare httputil.ReverseProxy; tracing on/off: the proxy.")
	fmt.Fprintln(w, "Latency from each request's scheduled start (open loop); direct is absolute, the others are what they add")
	fmt.Fprintln(w, "over direct (proxied − direct, percentile by percentile). CPU is each proxy's own process, user+system.")
	fmt.Fprintln(w)
	writeTable(w, b.res.Table)
	fmt.Fprintln(w)
	met := 0
	for _, g := range b.res.Goals {
		if g.Met {
			met++
		}
	}
	fmt.Fprintf(w, "Goals met: %d of %d\n", met, len(b.res.Goals))
	for _, g := range b.res.Goals {
		fmt.Fprintf(w, "  %-7s %s: %s %s\n", mark(g.Met), g.Name, num(g.Measured), g.Unit)
	}
}
