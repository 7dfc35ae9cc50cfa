package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// newClient is the load generator's HTTP client: keep-alive pools large
// enough that no request waits for a connection, no compression.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        8192,
		MaxIdleConnsPerHost: 4096,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// sample is what one request measured.
type sample struct {
	sched time.Time // when it was due
	ok    bool
	err   string        // why not ok
	lat   time.Duration // scheduled start → answer complete
	svc   time.Duration // sent → answer complete
	late  time.Duration // scheduled start → sent (the load generator's own delay)
	// Streams only.
	ttfb   time.Duration // scheduled start → first event
	first  int64         // the first event's delay from upstream write to client read, ns
	events []int64       // every event's delay from upstream write to client read, ns
}

// call makes one request scheduled for sched.
type call func(sched time.Time) sample

func newRequest(url string, body []byte) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer sk-bench")
	return req
}

// chatCall posts the chat request and reads the whole answer.
func chatCall(client *http.Client, url string) call {
	return func(sched time.Time) sample {
		s, _ := wholeCall(client, newRequest(url, chatRequest), sched, time.Now(), false)
		return s
	}
}

// wholeCall sends req (sent is when it was built) and reads the whole
// answer, kept and returned with keep, else discarded: a sample of a call
// due at sched, ok for a 200 read to its end.
func wholeCall(client *http.Client, req *http.Request, sched, sent time.Time, keep bool) (sample, []byte) {
	s := sample{late: sent.Sub(sched)}
	var answer []byte
	resp, err := client.Do(req)
	if err == nil {
		if keep {
			answer, err = io.ReadAll(resp.Body)
		} else {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		s.ok = err == nil && resp.StatusCode == http.StatusOK
		if err == nil && !s.ok {
			s.err = resp.Status
		}
	}
	if err != nil {
		s.err = err.Error()
	}
	done := time.Now()
	s.lat, s.svc = done.Sub(sched), done.Sub(sent)
	return s, answer
}

// streamShape is what the upstream streams: chunks content chunks (plus a
// role chunk, a finish chunk and [DONE]) pace apart. usage makes the client
// ask for include_usage itself. responses makes it a Responses API stream
// (chunks text deltas between the typed events around them); anthropic a
// chat call for an anthropic/ model, which the proxy translates from an
// Anthropic stream (the write times are then in the content).
type streamShape struct {
	chunks    int
	pace      time.Duration
	usage     bool
	responses bool
	anthropic bool
	gemini    bool // a native Gemini API stream (SSE, \r\n-separated chunks)
	vertex    bool // a chat call for a vertex_ai/ Gemini model, translated from a Gemini stream
	bedrock   bool // a chat call for a bedrock/ model, translated from a ConverseStream
	converse  bool // a native Bedrock ConverseStream (AWS event stream)
}

var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// streamCall posts a streaming request and times every event.
func streamCall(client *http.Client, url string, shape streamShape) call {
	body, url, last, key := streamRequest, url, []byte("data: [DONE]"), stampKey
	switch {
	case shape.anthropic:
		body, key = anthropicStreamRequest, contentKey
	case shape.vertex:
		body, key = vertexStreamRequest, contentKey
	case shape.bedrock:
		body, key = bedrockStreamRequest, contentKey
	case shape.converse:
		body, url = converseStreamRequest, strings.TrimSuffix(url, "/v1/chat/completions")+converseStreamPath
	case shape.responses:
		body, last = responsesStreamRequest, []byte(`data: {"type":"response.completed"`)
		url = strings.TrimSuffix(url, "/chat/completions") + "/responses"
	case shape.gemini:
		body, last, key = geminiStreamRequest, []byte(`data: {"candidates":[{"content":{"parts":[{"text":""}],"role":"model"},"finishReason"`), textKey
		url = strings.TrimSuffix(url, "/v1/chat/completions") + geminiStreamPath
	case shape.usage:
		body = streamUsageRequest
	}
	chunks, pace := strconv.Itoa(shape.chunks), shape.pace.String()
	return func(sched time.Time) sample {
		sent := time.Now()
		s := sample{late: sent.Sub(sched), events: make([]int64, 0, shape.chunks+3)}
		req := newRequest(url, body)
		req.Header.Set(headerChunks, chunks)
		req.Header.Set(headerPace, pace)
		resp, err := client.Do(req)
		if err != nil {
			s.lat, s.err = time.Since(sched), err.Error()
			return s
		}
		br := readers.Get().(*bufio.Reader)
		br.Reset(resp.Body)
		done := false
		for shape.converse {
			msg, err := readMessage(br)
			if stamp, ok := digitsAfter(msg, textKey); ok {
				s.event(sched, stamp)
			}
			done = done || bytes.Contains(msg, metadataEvent)
			if err != nil {
				s.end(resp, err, done, "metadata event")
				break
			}
		}
		for !shape.converse {
			line, err := br.ReadSlice('\n')
			if stamp, ok := stampOf(line, key); ok {
				s.event(sched, stamp)
			}
			if bytes.HasPrefix(line, last) {
				done = true
			}
			if err != nil {
				s.end(resp, err, done, string(last))
				break
			}
		}
		br.Reset(nil)
		readers.Put(br)
		resp.Body.Close()
		end := time.Now()
		s.lat, s.svc = end.Sub(sched), end.Sub(sent)
		return s
	}
}

// event records an event the client read now, which the upstream wrote
// at stamp (Unix ns), for a call scheduled at sched.
func (s *sample) event(sched time.Time, stamp int64) {
	now := time.Now()
	d := now.UnixNano() - stamp
	if len(s.events) == 0 {
		s.ttfb, s.first = now.Sub(sched), d
	}
	s.events = append(s.events, d)
}

// end records how a stream ended: err is the read's (io.EOF at the end),
// done whether its last event, named last, came.
func (s *sample) end(resp *http.Response, err error, done bool, last string) {
	s.ok = err == io.EOF && done && resp.StatusCode == http.StatusOK
	switch {
	case resp.StatusCode != http.StatusOK:
		s.err = resp.Status
	case err != io.EOF:
		s.err = fmt.Sprintf("after %d events: %v", len(s.events), err)
	case !done:
		s.err = fmt.Sprintf("no %s after %d events", last, len(s.events))
	}
}

var (
	stampKey   = []byte(`"obfuscation":"`)
	contentKey = []byte(`"content":"`)
	textKey    = []byte(`"text":"`)
)

// metadataEvent is the :event-type header of a ConverseStream's last
// event, as the event-stream encoding writes it (type 7, a string, and its
// length).
var metadataEvent = []byte("\x07\x00\x08metadata")

// readMessage reads one AWS event-stream message whole, by the length its
// prelude gives; io.EOF when the stream ended between messages.
func readMessage(br *bufio.Reader) ([]byte, error) {
	var prelude [4]byte
	if _, err := io.ReadFull(br, prelude[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			err = fmt.Errorf("a message cut in its prelude")
		}
		return nil, err
	}
	n := int(prelude[0])<<24 | int(prelude[1])<<16 | int(prelude[2])<<8 | int(prelude[3])
	if n < 16 || n > 1<<20 {
		return nil, fmt.Errorf("a message of %d bytes", n)
	}
	msg := make([]byte, n)
	copy(msg, prelude[:])
	if _, err := io.ReadFull(br, msg[4:]); err != nil {
		return nil, fmt.Errorf("a message cut: %w", err)
	}
	return msg, nil
}

// stampOf reads the upstream's write time from a chunk's data line, the
// digits after key.
func stampOf(line, key []byte) (int64, bool) {
	if !bytes.HasPrefix(line, []byte("data: {")) {
		return 0, false
	}
	return digitsAfter(line, key)
}

// digitsAfter reads the number after the last key in b.
func digitsAfter(b, key []byte) (int64, bool) {
	i := bytes.LastIndex(b, key)
	if i < 0 {
		return 0, false
	}
	var n int64
	digits := 0
	for _, c := range b[i+len(key):] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	return n, digits > 0
}

// openLoop starts rate×d requests at fixed times, whatever the answers,
// and each measures from its scheduled time: a slow answer cannot hold
// back the requests after it and hide its cost (coordinated omission).
func openLoop(rate float64, d time.Duration, do call) []sample {
	n := int(math.Round(rate * d.Seconds()))
	out := make([]sample, n)
	interval := float64(time.Second) / rate
	var wg sync.WaitGroup
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		// The Go runtime's timers sleep in whole milliseconds when the
		// process is idle; this thread sleeps with nanosleep and no timer
		// slack instead, so requests leave within microseconds of their
		// time.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		preciseTimers()
		start := time.Now().Add(2 * time.Millisecond)
		for i := 0; i < n; i++ {
			t := start.Add(time.Duration(float64(i) * interval))
			sleepUntil(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := do(t)
				s.sched = t
				out[i] = s
			}()
		}
	}()
	<-dispatched
	wg.Wait()
	return out
}

// preciseTimers sets the calling thread's timer slack to 1 ns
// (PR_SET_TIMERSLACK); the default of 50 µs would blur the schedule.
func preciseTimers() {
	const prSetTimerslack = 29
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1, 0)
}

func sleepUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(int64(d))
		_ = syscall.Nanosleep(&ts, nil) // EINTR (Go's preemption signal): sleep again
	}
}

// closedLoop runs workers that each send the next request as soon as the
// previous answer is in, until n requests have been sent or limit has
// passed: throughput at saturation.
func closedLoop(workers int, n int64, limit time.Duration, do call) (samples []sample, elapsed time.Duration) {
	var next atomic.Int64
	results := make([][]sample, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n && time.Since(start) < limit {
				t := time.Now()
				s := do(t)
				s.sched = t
				results[w] = append(results[w], s)
			}
		}()
	}
	wg.Wait()
	elapsed = time.Since(start)
	for _, r := range results {
		samples = append(samples, r...)
	}
	return samples, elapsed
}
