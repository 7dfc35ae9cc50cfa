package main

// The sessions step: what session inference (package sessions: the
// history of every call hashed, prefix by prefix, to find the conversation
// it continues) costs per call, with agent conversations that grow as real
// ones do, so that inference finds what it looks for.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
	tracev1 "go.opentelemetry.io/proto/otlp/trace/v1"
)

// sessionTurns is how many calls one conversation of the sessions step
// makes before its agent starts another.
const sessionTurns = 20

// headerAnswer asks the fake upstream for a tool call ("tool") rather than
// its fixed text answer.
const headerAnswer = "X-Bench-Answer"

// toolCallResponse is the upstream's answer when the client asks for a
// tool call: an assistant message that calls read_file.
var toolCallResponse = []byte(`{"id":"chatcmpl-BENCH0000000000000000000002","object":"chat.completion","created":1755137933,"model":"gpt-4o-mini-2024-07-18",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_BENCH00000000000000000001","type":"function",` +
	`"function":{"name":"read_file","arguments":"{\"path\":\"internal/store/store.go\",\"start_line\":1,\"end_line\":120}"}}],"refusal":null,"annotations":[]},` +
	`"logprobs":null,"finish_reason":"tool_calls"}],"usage":` + usageJSON + `,"service_tier":"default","system_fingerprint":"fp_560af6e559"}`)

// upstreamAnswer is the fake upstream's non-streamed chat answer: a tool
// call when the request asks for one (headerAnswer), else chatResponse.
func upstreamAnswer(h http.Header) []byte {
	if h.Get(headerAnswer) == "tool" {
		return toolCallResponse
	}
	return chatResponse
}

// An agent's conversation: a system prompt of about 2 KB and a task, then
// at each turn the model's answer, as the proxy relayed it, and either the
// result of the tool it called (about 1 KB of code) or, after a text
// answer, the user's next message.
var (
	sessionSystem = jsonString("You are a coding agent working in a Go repository. You read files, run tests and edit code " +
		"with the tools you are given; you explain what you change and why. " + strings.Repeat("Follow the repository's style guide: small packages, errors wrapped with context, table-driven tests. ", 20))
	sessionTools = `"tools":[{"type":"function","function":{"name":"read_file","description":"Read a file of the repository",` +
		`"parameters":{"type":"object","properties":{"path":{"type":"string"},"start_line":{"type":"integer"},"end_line":{"type":"integer"}},"required":["path"]}}}]`
	sessionToolResult = strings.Repeat("func (s *Store) Get(ctx context.Context, key string) (string, error) {\n\tv, ok := s.m[key]\n\tif !ok {\n\t\treturn \"\", ErrNotFound\n\t}\n\treturn v, nil\n}\n\n", 8)
)

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// conversation is one agent's conversation: its messages so far, as JSON
// members of the messages array.
type conversation struct {
	id   int64
	turn int // calls made so far
	msgs []byte
}

// agentPool hands out conversations to the load generator's connections;
// each call takes one, makes its next turn and puts it back (behind the
// others: an agent takes its time between calls), so that no conversation
// has two calls at once and each call follows its previous one's answer.
type agentPool struct {
	key           string // the target's, in each conversation's first message
	next          atomic.Int64
	conversations atomic.Int64 // with a call answered
	calls         atomic.Int64 // answered, each its conversation's next turn
	bodyBytes     atomic.Int64 // of those calls' requests
	maxBody       atomic.Int64
	free          chan *conversation
}

func newAgentPool(key string, n int) *agentPool {
	p := &agentPool{key: key, free: make(chan *conversation, n)}
	for range n {
		p.free <- p.start()
	}
	return p
}

// start begins a new conversation: the system prompt and the task.
func (p *agentPool) start() *conversation {
	c := &conversation{id: p.next.Add(1)}
	c.msgs = fmt.Appendf(c.msgs, `{"role":"system","content":%s},{"role":"user","content":"Task %s-%d: the test TestStoreGet fails with ErrNotFound; find out why and fix it."}`,
		sessionSystem, p.key, c.id)
	return c
}

// body is the conversation's next request; tool asks the upstream for a
// tool call.
func (c *conversation) body() (body []byte, tool bool) {
	body = append(make([]byte, 0, len(c.msgs)+512), `{"model":"gpt-4o-mini","messages":[`...)
	body = append(body, c.msgs...)
	body = append(body, "],"...)
	body = append(body, sessionTools...)
	body = append(body, `,"temperature":0.2}`...)
	return body, c.turn%4 != 3 // three tool calls, then a text answer
}

// answered adds the call's answer (the assistant message as the client
// received it, as agent frameworks send it back) and the next turn: the
// tool's result, or the user's next message.
func (c *conversation) answered(answer []byte) bool {
	msg := gjson.GetBytes(answer, "choices.0.message")
	if !msg.IsObject() {
		return false
	}
	c.msgs = append(append(c.msgs, ','), msg.Raw...)
	if call := msg.Get("tool_calls.0"); call.Exists() {
		c.msgs = fmt.Appendf(c.msgs, `,{"role":"tool","tool_call_id":%s,"content":%s}`,
			jsonString(call.Get("id").Str), jsonString(fmt.Sprintf("// turn %d\n", c.turn)+sessionToolResult))
	} else {
		c.msgs = fmt.Appendf(c.msgs, `,{"role":"user","content":"Thanks. Now run the tests again and tell me what turn %d changed."}`, c.turn)
	}
	c.turn++
	return true
}

// call is one turn of whichever conversation is next, posted to url.
func (p *agentPool) call(client *http.Client, url string) call {
	return func(sched time.Time) sample {
		c := <-p.free
		defer func() { p.free <- c }()
		body, tool := c.body()
		sent := time.Now()
		req := newRequest(url, body)
		if tool {
			req.Header.Set(headerAnswer, "tool")
		}
		s, answer := wholeCall(client, req, sched, sent, true)
		if first := c.turn == 0; s.ok && c.answered(answer) {
			if first {
				p.conversations.Add(1)
			}
			p.calls.Add(1)
			p.bodyBytes.Add(int64(len(body)))
			for m := p.maxBody.Load(); int64(len(body)) > m && !p.maxBody.CompareAndSwap(m, int64(len(body))); m = p.maxBody.Load() {
			}
		} else {
			s.ok = false
			if s.err == "" {
				s.err = "an answer without a message"
			}
		}
		if !s.ok || c.turn >= sessionTurns {
			c = p.start() // an error ends the conversation too
		}
		return s
	}
}

// sessionsResult is what the sessions step measured: two tracing-on
// proxies, one with session inference on (the default) and one with it
// off, under the same conversations at saturation.
type sessionsResult struct {
	Connections int          `json:"connections"`
	Turns       int          `json:"turns_per_conversation"`
	BodyKBMean  float64      `json:"body_kb_mean"`
	BodyKBMax   float64      `json:"body_kb_max"`
	On          *sessionsRun `json:"inference_on"`
	Off         *sessionsRun `json:"inference_off"`
	// CPUPerCall is the inference's cost: on − off, µs of the proxy's CPU
	// per call.
	CPUPerCall float64 `json:"inference_cpu_us_per_call"`
}

// sessionsRun is one proxy's figures.
type sessionsRun struct {
	*result
	Conversations int64 `json:"conversations"` // with a call answered, warm-up included
	Calls         int64 `json:"calls"`         // answered, warm-up included
	// What the collector received from the proxy over its life: spans,
	// those with a session.id, and the distinct session.ids.
	Spans       int64 `json:"spans"`
	WithSession int64 `json:"spans_with_session"`
	Sessions    int64 `json:"sessions"`
	// Joined is the fraction of spans that joined the session of an
	// earlier one, (with a session − sessions) ÷ spans; Expected is what a
	// perfect inference gives, (calls − conversations) ÷ calls.
	Joined   float64 `json:"joined_fraction"`
	Expected float64 `json:"expected_joined_fraction"`
}

// sessionsPrefix begins the service names of the sessions step's proxies:
// the collector tallies the session.ids of their spans.
const sessionsPrefix = "bench-sessions-"

// sessionsStep runs two fresh tracing-on proxies, SESSION_INFERENCE=on and
// =off, at saturation (SaturationWorkers connections, in turns like the
// saturation step, each for SaturationTime), every call the next turn of
// an agent conversation; then stops them (they flush their spans) and asks
// the collector which sessions it got.
func (b *bench) sessionsStep(ctx context.Context) error {
	w, rounds := b.plan.SaturationWorkers, b.plan.Rounds
	type side struct {
		key   string
		t     *target
		pool  *agentPool
		ss    []sample
		el    time.Duration
		cpu0  time.Duration
		upCPU time.Duration
	}
	var sides []*side
	for _, key := range []string{"on", "off"} {
		service := sessionsPrefix + key
		c, base, err := b.startProxyWith(ctx, service, "SESSION_INFERENCE="+key)
		if err != nil {
			return err
		}
		sides = append(sides, &side{key: key, t: &target{key: service, base: base, proc: c}, pool: newAgentPool(key, 2*w)})
	}
	for _, s := range sides {
		s.t.closed(w, 1<<62, 500*time.Millisecond, s.pool.call(b.client, s.t.url())) // warm-up
		s.cpu0 = s.t.cpu()
	}
	block := b.plan.SaturationTime / time.Duration(rounds)
	for r := range rounds {
		for i := range sides {
			if err := ctx.Err(); err != nil {
				return err
			}
			s := sides[(i+r)%len(sides)]
			u0 := b.upstream.cpu()
			ss, el := s.t.closed(w, 1<<62, block, s.pool.call(b.client, s.t.url()))
			s.upCPU += b.upstream.cpu() - u0
			s.ss, s.el = append(s.ss, ss...), s.el+el
		}
	}
	res := &sessionsResult{Connections: w, Turns: sessionTurns}
	var bodies, calls int64
	for _, s := range sides {
		r := summarize(s.key, s.ss, s.el)
		r.CPUPerRequest = us(s.t.cpu()-s.cpu0) / float64(r.Requests)
		r.UpstreamCPUPerRequest = us(s.upCPU) / float64(r.Requests)
		run := &sessionsRun{result: r, Conversations: s.pool.conversations.Load(), Calls: s.pool.calls.Load()}
		if run.Calls > 0 {
			run.Expected = float64(run.Calls-run.Conversations) / float64(run.Calls)
		}
		bodies, calls = bodies+s.pool.bodyBytes.Load(), calls+s.pool.calls.Load()
		res.BodyKBMax = max(res.BodyKBMax, float64(s.pool.maxBody.Load())/1024)
		if s.key == "on" {
			res.On = run
		} else {
			res.Off = run
		}
	}
	if calls > 0 {
		res.BodyKBMean = float64(bodies) / float64(calls) / 1024
	}
	res.CPUPerCall = res.On.CPUPerRequest - res.Off.CPUPerRequest
	for _, s := range sides {
		if err := s.t.proc.stop(60 * time.Second); err != nil {
			return err
		}
	}
	tally, err := b.sessionTally(ctx)
	if err != nil {
		return err
	}
	for _, s := range sides {
		run, t := res.On, tally[s.t.key]
		if s.key == "off" {
			run = res.Off
		}
		run.Spans, run.WithSession, run.Sessions = t.Spans, t.WithSession, t.Sessions
		if t.Spans > 0 {
			run.Joined = float64(t.WithSession-t.Sessions) / float64(t.Spans)
		}
	}
	b.res.Sessions = res
	return b.alive()
}

// startProxyWith is startProxy, tracing on, with env added to the
// proxy's environment (after -proxy-env's, so that it wins).
func (b *bench) startProxyWith(ctx context.Context, service string, env ...string) (*child, string, error) {
	saved := b.extraEnv
	b.extraEnv = append(slices.Clip(saved), env...)
	defer func() { b.extraEnv = saved }()
	return b.startProxy(ctx, service, true)
}

// sessionRows are the sessions step's rows of the table, in the tracing
// on column: both of its proxies trace.
func (b *bench) sessionRows() []row {
	s := b.res.Sessions
	if s == nil {
		return nil
	}
	on, off := s.On, s.Off
	cell := func(v string) []string { return []string{na, na, v, na} }
	rows := []row{
		{Section: fmt.Sprintf("Session inference, %d connections closed loop, agent conversations of %d calls (each call the last one's messages, its answer and a tool result or user turn; bodies %.1f KB on average, up to %.0f KB); tracing on, SESSION_INFERENCE=on vs off",
			s.Connections, s.Turns, s.BodyKBMean, s.BodyKBMax)},
		{Metric: "throughput, req/s: inference on; off", Cells: cell(num(on.Throughput) + "; " + num(off.Throughput))},
		{Metric: "CPU per request, µs: inference on; off", Cells: cell(num(on.CPUPerRequest) + "; " + num(off.CPUPerRequest))},
		{Metric: "session inference per call (CPU on − off), µs", Cells: cell(added(s.CPUPerCall))},
		{Metric: "calls joined to an earlier call's session (all that could be)", Cells: cell(pct(on.Joined) + " (" + pct(on.Expected) + ")")},
		{Metric: "sessions / conversations; inference off: spans with a session", Cells: cell(count(on.Sessions) + " / " + count(on.Conversations) + "; " + count(off.WithSession))},
		{Metric: "latency p50 / p99, µs: inference on; off", Cells: cell(num(on.Latency.P50) + " / " + num(on.Latency.P99) + "; " + num(off.Latency.P50) + " / " + num(off.Latency.P99))},
	}
	if e := on.Errors + off.Errors; e > 0 {
		rows = append(rows, row{Metric: "errors: inference on; off", Cells: cell(fmt.Sprintf("%d; %d", on.Errors, off.Errors))})
	}
	if on.Spans != on.Calls || off.Spans != off.Calls {
		rows = append(rows, row{Metric: "spans / calls (a dropped span blurs the join figure): on; off",
			Cells: cell(count(on.Spans) + " / " + count(on.Calls) + "; " + count(off.Spans) + " / " + count(off.Calls))})
	}
	return rows
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + " %" }

// sessionTally is what the collector tallies of the sessions step's
// proxies' spans, per service.
type sessionTally struct {
	mu       sync.Mutex
	services map[string]*serviceSessions
}

type serviceSessions struct {
	spans, withSession int64
	ids                map[string]struct{}
}

// tallyCounts is the collector's answer to GET /sessions, per service.
type tallyCounts struct {
	Spans       int64 `json:"spans"`
	WithSession int64 `json:"with_session"`
	Sessions    int64 `json:"sessions"`
}

// add tallies a service's spans, if it is one of the sessions step's.
func (t *sessionTally) add(service string, spans []*tracev1.Span) {
	if !strings.HasPrefix(service, sessionsPrefix) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.services == nil {
		t.services = map[string]*serviceSessions{}
	}
	s := t.services[service]
	if s == nil {
		s = &serviceSessions{ids: map[string]struct{}{}}
		t.services[service] = s
	}
	for _, sp := range spans {
		s.spans++
		for _, kv := range sp.GetAttributes() {
			if kv.GetKey() == "session.id" {
				s.withSession++
				s.ids[kv.GetValue().GetStringValue()] = struct{}{}
				break
			}
		}
	}
}

func (t *sessionTally) serveHTTP(w http.ResponseWriter, _ *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]tallyCounts{}
	for k, s := range t.services {
		out[k] = tallyCounts{Spans: s.spans, WithSession: s.withSession, Sessions: int64(len(s.ids))}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// sessionTally asks the collector what it tallied.
func (b *bench) sessionTally(ctx context.Context) (map[string]tallyCounts, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.sinkCtl+"/sessions", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("the collector's session tally: %w", err)
	}
	defer resp.Body.Close()
	var out map[string]tallyCounts
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("the collector's session tally: %w", err)
	}
	return out, nil
}
