package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// child is a process the bench started: the upstream, the collector, the
// floor proxy or the proxy itself. Each is its own process so that its CPU
// time and memory can be read from /proc without the load generator's.
type child struct {
	name  string
	cmd   *exec.Cmd
	addrs []string // host:port it serves on, as it announced them

	mu     sync.Mutex
	gcs    []gcRecord // from GODEBUG=gctrace=1 on stderr
	tail   []string   // its last lines of other output, for errors
	exited chan struct{}
	err    error // how it exited
}

// gcRecord is one garbage collection as gctrace reports it.
type gcRecord struct {
	at       time.Time
	startMB  int // heap when the cycle started
	liveMB   int // heap marked live
	goalMB   int
	stacksMB int
	forced   bool // runtime.GC or the two-minute forced collection
}

// gctraceRE matches "…, 55->62->8 MB, 65 MB goal, 0 MB stacks, …".
var gctraceRE = regexp.MustCompile(`^gc \d+ @.* (\d+)->\d+->(\d+) MB, (\d+) MB goal, (\d+) MB stacks`)

// startChild starts a command with env added to the bench's own
// environment, and waits until it has announced `announces` addresses on
// stdout ("listening on http://ADDR").
func startChild(name string, cmd *exec.Cmd, env []string, announces int) (*child, error) {
	c := &child{name: name, cmd: cmd, exited: make(chan struct{})}
	cmd.Env = append(os.Environ(), env...)
	// The child dies with the bench, even if the bench is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	addrCh := make(chan string, 8)
	go c.read(stdout, addrCh)
	go c.read(stderr, nil)
	go func() {
		err := cmd.Wait()
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(c.exited)
	}()
	timeout := time.After(15 * time.Second)
	for len(c.addrs) < announces {
		select {
		case addr := <-addrCh:
			c.addrs = append(c.addrs, addr)
		case <-c.exited:
			return nil, fmt.Errorf("%s exited before listening: %v\n%s", name, c.err, c.output())
		case <-timeout:
			c.kill()
			return nil, fmt.Errorf("%s did not report its address within 15s\n%s", name, c.output())
		}
	}
	return c, nil
}

// read consumes one output stream: gctrace lines are parsed, the line
// "listening on http://ADDR" gives the address, the rest is kept for errors.
func (c *child) read(r io.Reader, addrCh chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := gctraceRE.FindStringSubmatch(line); m != nil {
			rec := gcRecord{at: time.Now(), forced: strings.HasSuffix(line, "(forced)")}
			rec.startMB, _ = strconv.Atoi(m[1])
			rec.liveMB, _ = strconv.Atoi(m[2])
			rec.goalMB, _ = strconv.Atoi(m[3])
			rec.stacksMB, _ = strconv.Atoi(m[4])
			c.mu.Lock()
			c.gcs = append(c.gcs, rec)
			c.mu.Unlock()
			continue
		}
		if addr, ok := strings.CutPrefix(line, "listening on http://"); ok && addrCh != nil {
			select {
			case addrCh <- addr:
			default:
			}
			continue
		}
		c.mu.Lock()
		c.tail = append(c.tail, line)
		if len(c.tail) > 40 {
			c.tail = c.tail[len(c.tail)-40:]
		}
		c.mu.Unlock()
	}
}

// output is the child's last lines of output.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// alive reports an error if the child has exited.
func (c *child) alive() error {
	select {
	case <-c.exited:
		return fmt.Errorf("%s exited: %v\n%s", c.name, c.err, c.output())
	default:
		return nil
	}
}

// stop sends SIGTERM and waits for the child to exit (the proxy drains and
// flushes its spans then), killing it after timeout.
func (c *child) stop(timeout time.Duration) error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		c.mu.Lock()
		defer c.mu.Unlock()
		var exit *exec.ExitError
		if c.err != nil && !(errors.As(c.err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled()) {
			return fmt.Errorf("%s: %v\n%s", c.name, c.err, strings.Join(c.tail, "\n"))
		}
		return nil
	case <-time.After(timeout):
		c.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM", c.name, timeout)
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
}

// cpu is the CPU time (user and system) the child has used so far: the sum
// of its threads' run time in /proc/PID/task/*/schedstat (nanoseconds; Go
// does not end its threads), or, without schedstat, utime+stime from
// /proc/PID/stat (10 ms ticks).
func (c *child) cpu() time.Duration { return procCPU(c.pid()) }

func procCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total int64
	ok := len(tasks) > 0
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that just ended
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			ok = false
			break
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			ok = false
			break
		}
		total += n
	}
	if ok {
		return time.Duration(total)
	}
	return procTicks(pid)
}

// procTicks is utime+stime from /proc/PID/stat: 10 ms ticks, the same
// accounting as /proc/stat's.
func procTicks(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// memory is the child's resident set now and at its peak, in MB.
func (c *child) memory() (rssMB, peakMB float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.pid()))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rssMB = kb / 1024
		case "VmHWM:":
			peakMB = kb / 1024
		}
	}
	return rssMB, peakMB
}

// meanRSS samples the child's RSS every 20 ms until stop is closed and
// returns the mean, in MB.
func (c *child) meanRSS(stop <-chan struct{}) float64 {
	var sum float64
	n := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		rss, _ := c.memory()
		sum += rss
		n++
		select {
		case <-stop:
			return sum / float64(n)
		case <-tick.C:
		}
	}
}

// heapSince is the mean live heap (MB) of the collections since t, and
// how many there were. gctrace prints whole megabytes; the mean of many
// collections resolves finer.
func (c *child) heapSince(t time.Time) (liveMB float64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sum := 0
	for _, g := range c.gcs {
		if !g.at.Before(t) {
			sum += g.liveMB
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return float64(sum) / float64(n), n
}

// lastGC is the latest collection, if any.
func (c *child) lastGC() (gcRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.gcs) == 0 {
		return gcRecord{}, false
	}
	return c.gcs[len(c.gcs)-1], true
}

// freePort finds a free loopback port for a child that takes its port from
// the environment (the proxy's PORT).
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitHealthy polls url until it answers 200.
func waitHealthy(ctx context.Context, c *child, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		if err := c.alive(); err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s: %v\n%s", c.name, url, err, c.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// machineCPU is the CPU time every process on the machine has used (busy)
// and what the hypervisor took (steal), from /proc/stat.
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	tick := func(i int) time.Duration {
		if i >= len(f) {
			return 0
		}
		n, _ := strconv.ParseInt(f[i], 10, 64)
		return time.Duration(n) * 10 * time.Millisecond
	}
	return tick(1) + tick(2) + tick(3) + tick(6) + tick(7), tick(8)
}

// ownCPU is the CPU time the bench and every process it started have used:
// itself and its children, running (/proc/PID/stat) or ended (rusage), in
// the same ticks as machineCPU.
func ownCPU(children []*child) time.Duration {
	total := procTicks(os.Getpid())
	for _, c := range children {
		select {
		case <-c.exited:
		default:
			total += procTicks(c.pid())
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) == nil {
		total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return total
}
