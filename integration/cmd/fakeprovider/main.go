// Command fakeprovider serves recorded OpenAI traffic on loopback for the
// end-to-end suite: `fakeprovider -addr 127.0.0.1:0 -cassettes DIR[,DIR…]
// -pace 2ms`. It prints "listening on http://HOST:PORT" once it accepts
// connections.
//
// Each `-any-body PATH=CASSETTE` (repeatable) makes requests to PATH
// answered with that recorded cassette whatever their body, and logged
// (for clients whose requests no recording holds byte for byte, such as
// Gemini CLI's); every other path replays byte for byte.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback)")
	dirs := flag.String("cassettes", "", "comma-separated cassette directories")
	pace := flag.Duration("pace", 2*time.Millisecond, "pause between stream events")
	usage := flag.Bool("emulate-include-usage", true, "answer include_usage as OpenAI does when the recording did not ask for it")
	anyBody := anyBodyRoutes{}
	flag.Var(anyBody, "any-body", "PATH=CASSETTE: answer every request to PATH with that cassette, whatever its body (repeatable)")
	flag.Parse()

	var all []fakeprovider.Cassette
	for _, d := range strings.Split(*dirs, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		cs, err := fakeprovider.LoadDir(d)
		if err != nil {
			log.Fatalf("fakeprovider: %v", err)
		}
		all = append(all, cs...)
	}
	if len(all) == 0 {
		log.Fatalf("fakeprovider: no cassettes in %q", *dirs)
	}
	if err := anyBody.check(all); err != nil {
		log.Fatalf("fakeprovider: %v", err)
	}
	srv := fakeprovider.New(all)
	srv.Pace = *pace
	srv.EmulateIncludeUsage = *usage
	if len(anyBody) > 0 {
		srv.AnyBody, srv.Log = anyBody, log.Printf
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("fakeprovider: %v", err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, srv))
}

// anyBodyRoutes are the -any-body flags: cassette names by request path.
type anyBodyRoutes map[string]string

func (r anyBodyRoutes) String() string { return fmt.Sprint(map[string]string(r)) }

func (r anyBodyRoutes) Set(v string) error {
	path, name, ok := strings.Cut(v, "=")
	if !ok || !strings.HasPrefix(path, "/") || name == "" {
		return fmt.Errorf("%q: want PATH=CASSETTE, the path starting with /", v)
	}
	if _, dup := r[path]; dup {
		return fmt.Errorf("%q: %s is given twice", v, path)
	}
	r[path] = name
	return nil
}

// check fails for a route whose cassette is not loaded.
func (r anyBodyRoutes) check(cassettes []fakeprovider.Cassette) error {
	names := map[string]bool{}
	for _, c := range cassettes {
		names[c.Name] = true
	}
	for path, name := range r {
		if !names[name] {
			return fmt.Errorf("-any-body %s=%s: no cassette named %s", path, name, name)
		}
	}
	return nil
}
