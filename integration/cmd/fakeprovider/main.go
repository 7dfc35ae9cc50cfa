// Command fakeprovider serves recorded provider traffic on loopback for the
// end-to-end suite: `fakeprovider -addr 127.0.0.1:0 -cassettes DIR[,DIR…]
// -pace 2ms [-aws-credentials AKID:SECRET[:TOKEN],…]`. It prints
// "listening on http://HOST:PORT" once it accepts connections.
//
// Bedrock Runtime's routes (/model/…) take only requests signed as AWS
// takes them (SigV4, checked by awsfake) with one of -aws-credentials, in
// -aws-region; any other is refused as Bedrock refuses it (a 403) before a
// cassette is looked for. GET /fake/requests lists every request received
// so far, in order (method, path, the access key that signed it, why it
// was refused), so a test can tell what reached the provider and whose
// signature it bore.
//
// Each `-any-body PATH=CASSETTE` (repeatable) makes requests to PATH
// answered with that recorded cassette whatever their body, and logged
// (for clients whose requests no recording holds byte for byte, such as
// Gemini CLI's); every other path replays byte for byte.
//
// `fakeprovider -addr 127.0.0.1:0 -conversation` answers every call anew
// instead (fakeprovider.Conversation), for agent loops whose requests grow
// with each answer.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (loopback)")
	dirs := flag.String("cassettes", "", "comma-separated cassette directories")
	pace := flag.Duration("pace", 2*time.Millisecond, "pause between stream events")
	usage := flag.Bool("emulate-include-usage", true, "answer include_usage as OpenAI does when the recording did not ask for it")
	anyBody := anyBodyRoutes{}
	flag.Var(anyBody, "any-body", "PATH=CASSETTE: answer every request to PATH with that cassette, whatever its body (repeatable)")
	awsCreds := flag.String("aws-credentials", "", "comma-separated AKID:SECRET[:SESSION_TOKEN] whose SigV4 signatures Bedrock Runtime's routes take")
	awsRegion := flag.String("aws-region", awsfake.Region, "the region Bedrock Runtime's signatures must name")
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
	if err := anyBody.check(all); err != nil {
		log.Fatalf("fakeprovider: %v", err)
	}
	verifiers, err := parseCredentials(*awsCreds, *awsRegion)
	if err != nil {
		log.Fatalf("fakeprovider: -aws-credentials: %v", err)
	}
	srv := fakeprovider.New(all)
	srv.Pace = *pace
	srv.EmulateIncludeUsage = *usage
	if len(anyBody) > 0 {
		srv.AnyBody, srv.Log = anyBody, log.Printf
	}

	serve(*addr, newHandler(srv, verifiers))
}

// serve answers with h on addr, once it says where it listens.
func serve(addr string, h http.Handler) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatalf("fakeprovider: %v", err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, h))
}

// parseCredentials reads -aws-credentials: AKID:SECRET or
// AKID:SECRET:SESSION_TOKEN, comma-separated (no part of AWS credentials
// holds a ':' or a ',').
func parseCredentials(s, region string) (awsfake.Verifiers, error) {
	var out awsfake.Verifiers
	for i, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		parts := strings.Split(c, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			// By position: an entry's text may be all secret.
			return nil, fmt.Errorf("entry %d is not AKID:SECRET[:SESSION_TOKEN]", i+1)
		}
		v := &awsfake.Verifier{AccessKeyID: parts[0], SecretAccessKey: parts[1], Region: region, Service: awsfake.Service}
		if len(parts) == 3 {
			v.SessionToken = parts[2]
		}
		out = append(out, v)
	}
	return out, nil
}

// journalPath is where the requests received are listed.
const journalPath = "/fake/requests"

// received is one request as GET /fake/requests lists it.
type received struct {
	Method string `json:"method"`
	Path   string `json:"path"` // escaped, as it came
	// AccessKeyID is the key of a SigV4 Authorization, "Bearer" for a
	// bearer token, "" for none.
	AccessKeyID string `json:"access_key_id"`
	// Refused is why Bedrock's signature check refused it, or "".
	Refused string `json:"refused,omitempty"`
}

// journal is the requests received, in order.
type journal struct {
	mu   sync.Mutex
	seen []received
}

func (j *journal) add(r received) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seen = append(j.seen, r)
}

func (j *journal) list() []received {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]received{}, j.seen...)
}

// newHandler serves srv, Bedrock Runtime's routes behind bedrock's
// signature check, every request (refused or not) journaled.
func newHandler(srv http.Handler, bedrock awsfake.Verifiers) http.Handler {
	j := &journal{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == journalPath {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(j.list())
			return
		}
		rec := received{Method: r.Method, Path: r.URL.EscapedPath(), AccessKeyID: signer(r.Header.Get("Authorization"))}
		if !strings.HasPrefix(r.URL.Path, "/model/") {
			j.add(rec)
			srv.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := bedrock.Verify(r, body); err != nil {
			rec.Refused = err.Error()
			j.add(rec)
			log.Printf("fakeprovider: refused %s %s: %v", r.Method, rec.Path, err)
			awsfake.WriteError(w, err)
			return
		}
		j.add(rec)
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.ServeHTTP(w, r)
	})
}

// signer is the access key an Authorization header names: a SigV4
// signature's Credential key, "Bearer" for a bearer token, "" for none
// (or one it cannot read).
func signer(auth string) string {
	if strings.HasPrefix(auth, "Bearer ") {
		return "Bearer"
	}
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
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
