package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"text/tabwriter"
	"time"

	"github.com/phoenixproxy/llmproxy/export"
	"github.com/phoenixproxy/llmproxy/handlers"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/upstream"
)

// runProfile is the bench's profiling mode (-profile DIR). It runs the
// proxy's handler in this process, built as main.go builds it, between the
// same fake upstream and collector (child processes), and:
//
//   - counts heap allocations per request through each target (the
//     runtime's malloc counter, minus what the client allocates calling the
//     upstream directly), chat and stream;
//   - writes CPU profiles of the tracing-on handler at saturation, chat
//     (cpu-chat.pprof) and streams (cpu-stream.pprof), and allocation
//     profiles before and after its chat run (allocs-before.pprof,
//     allocs.pprof: compare with -diff_base).
//
// The load generator shares the process, so a profile holds the client's
// work too: read it with -focus, e.g.
//
//	go tool pprof -top -focus 'llmproxy/(handlers|spans|stream|openai)' DIR/cpu-chat.pprof
func runProfile(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	up, err := startChild("upstream", exec.Command(self, "-role", "upstream"), nil, 1)
	if err != nil {
		return err
	}
	defer up.kill()
	sink, err := startChild("collector", exec.Command(self, "-role", "sink"), nil, 2)
	if err != nil {
		return err
	}
	defer sink.kill()
	upstreamURL := "http://" + up.addrs[0]

	providers, err := upstream.NewProviders(upstream.Env{OpenAIEnv: upstream.OpenAIEnv{OpenAIAPIBase: upstreamURL + "/v1"}})
	if err != nil {
		return err
	}
	tp, err := export.NewProvider(ctx, export.Config{
		Endpoint: "http://" + sink.addrs[0], ProjectName: "default", ServiceName: "bench-profile",
		BatchTimeout: 5 * time.Second, ExportTimeout: 30 * time.Second, MaxQueueSize: 2048, MaxExportBatchSize: 512,
	})
	if err != nil {
		return err
	}
	defer func() { _ = tp.Shutdown(context.Background()) }()
	off, err := export.NewProvider(ctx, export.Config{Disabled: true})
	if err != nil {
		return err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	upURL, _ := url.Parse(upstreamURL)

	targets := []*target{{key: "direct", base: upstreamURL}}
	for _, s := range []struct {
		key string
		h   http.Handler
	}{
		{"floor", newFloor(upURL)},
		{"off", handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(off), Logger: quiet})},
		{"on", handlers.New(handlers.Options{Providers: providers, Recorder: spans.NewRecorder(tp), Logger: quiet})},
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 30 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		targets = append(targets, &target{key: s.key, base: "http://" + ln.Addr().String()})
	}

	client := newClient()
	shape := streamShape{chunks: 20, pace: time.Millisecond}
	kinds := []struct {
		name string
		n    int64
		mk   func(*target) call
	}{
		{"chat", 20000, func(t *target) call { return chatCall(client, t.url()) }},
		{"stream (proxy strips usage)", 2000, func(t *target) call { return streamCall(client, t.url(), shape) }},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "heap allocations per request\tallocs\tbytes\tallocs beyond direct\tbytes beyond direct\t")
	for _, k := range kinds {
		var base [2]float64
		for _, t := range targets {
			do := k.mk(t)
			closedLoop(8, k.n/10, time.Minute, do) // warm-up
			if t.key == "on" {
				_ = tp.ForceFlush(ctx)
			}
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			closedLoop(8, k.n, time.Minute, do)
			if t.key == "on" {
				_ = tp.ForceFlush(ctx) // the export of these spans counts too
			}
			runtime.ReadMemStats(&m1)
			allocs := float64(m1.Mallocs-m0.Mallocs) / float64(k.n)
			bytes := float64(m1.TotalAlloc-m0.TotalAlloc) / float64(k.n)
			if t.key == "direct" {
				base = [2]float64{allocs, bytes}
			}
			fmt.Fprintf(tw, "%s, %s\t%.0f\t%.0f\t%.0f\t%.0f\t\n", k.name, t.key, allocs, bytes, allocs-base[0], bytes-base[1])
		}
	}
	tw.Flush()

	on := targets[len(targets)-1]
	if err := writeProfile(filepath.Join(dir, "allocs-before.pprof"), "allocs"); err != nil {
		return err
	}
	for _, p := range []struct {
		file string
		do   call
		d    time.Duration
	}{
		{"cpu-chat.pprof", chatCall(client, on.url()), 8 * time.Second},
		{"cpu-stream.pprof", streamCall(client, on.url(), shape), 5 * time.Second},
	} {
		f, err := os.Create(filepath.Join(dir, p.file))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		ss, elapsed := closedLoop(32, 1<<62, p.d, p.do)
		pprof.StopCPUProfile()
		f.Close()
		fmt.Printf("%s: %d requests in %.1fs (%.0f/s)\n", p.file, len(ss), elapsed.Seconds(), float64(len(ss))/elapsed.Seconds())
		if p.file == "cpu-chat.pprof" {
			_ = tp.ForceFlush(ctx)
			if err := writeProfile(filepath.Join(dir, "allocs.pprof"), "allocs"); err != nil {
				return err
			}
		}
	}
	fmt.Printf("profiles in %s; e.g. go tool pprof -top -focus 'llmproxy/(handlers|spans|stream|openai)' %s\n",
		dir, filepath.Join(dir, "cpu-chat.pprof"))
	return nil
}

func writeProfile(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup(name).WriteTo(f, 0)
}
