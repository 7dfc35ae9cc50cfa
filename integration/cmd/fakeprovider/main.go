// Command fakeprovider serves recorded OpenAI traffic on loopback for the
// end-to-end suite: `fakeprovider -addr 127.0.0.1:0 -cassettes DIR[,DIR…]
// -pace 2ms`, or answers every call anew, for agent loops whose requests
// grow with each answer: `fakeprovider -addr 127.0.0.1:0 -conversation`
// (fakeprovider.Conversation). It prints "listening on http://HOST:PORT"
// once it accepts connections.
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
	conversation := flag.Bool("conversation", false, "answer every call anew instead of replaying cassettes (agent loops)")
	flag.Parse()

	if *conversation {
		serve(*addr, &fakeprovider.Conversation{})
		return
	}

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
	srv := fakeprovider.New(all)
	srv.Pace = *pace
	srv.EmulateIncludeUsage = *usage
	serve(*addr, srv)
}

func serve(addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("fakeprovider: %v", err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, h))
}
