package upstream

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// cloudPlatformScope is the OAuth2 scope of Vertex AI's calls.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// tokenTimeout bounds one token request: the token source fetches under a
// lock that every caller waits on, so a token endpoint that hangs must not
// hold it forever.
const tokenTimeout = 30 * time.Second

// credentialsContext is the context Google's token sources keep and make
// every token request with (the oauth2 library has no per-call one): a
// client with a timeout. Each caller waits only as long as its own
// context allows (googleAuth.token).
var credentialsContext = context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: tokenTimeout})

// findDefaultCredentials looks for Application Default Credentials:
// GOOGLE_APPLICATION_CREDENTIALS, gcloud's file, then the GCE metadata
// server (a probe that can take seconds off Google Cloud). Tests replace
// it to find none without probing.
var findDefaultCredentials = func() (*google.Credentials, error) {
	return google.FindDefaultCredentials(credentialsContext, cloudPlatformScope)
}

// googleAuth is one set of Google credentials and its token, shared by
// every copy of the providers that use it: explicit credentials, read at
// start, or Application Default Credentials, looked for once, at the
// first call that needs them. Its methods are safe for concurrent use.
type googleAuth struct {
	explicit bool
	project  string // the explicit credentials' project_id

	once sync.Once
	// found is closed once ts (nil when none were found) and findErr are
	// set.
	found   chan struct{}
	ts      oauth2.TokenSource
	findErr error

	// last is the last token got, for calls that need no lock while it
	// lasts (ts caches and refreshes it too, oauth2.ReuseTokenSource).
	last atomic.Pointer[oauth2.Token]
}

// newGoogleAuth is the credentials of a LiteLLM vertex_credentials value:
// a credentials file's JSON, or its path; "" means Application Default
// Credentials. Credentials that do not parse are an error, which does not
// quote them.
func newGoogleAuth(credentials string) (*googleAuth, error) {
	if credentials == "" {
		return &googleAuth{found: make(chan struct{})}, nil
	}
	creds, err := parseGoogleCredentials(credentials)
	if err != nil {
		return nil, err
	}
	a := &googleAuth{explicit: true, project: creds.ProjectID, found: make(chan struct{}), ts: creds.TokenSource}
	close(a.found)
	return a, nil
}

// googleCredentialTypes are the credentials files taken: a service
// account's key, workload identity federation's configuration, gcloud's
// user credentials and an impersonated service account.
var googleCredentialTypes = []google.CredentialsType{
	google.ServiceAccount, google.ExternalAccount, google.AuthorizedUser, google.ImpersonatedServiceAccount,
}

func parseGoogleCredentials(credentials string) (*google.Credentials, error) {
	data := []byte(credentials)
	if !strings.HasPrefix(strings.TrimSpace(credentials), "{") {
		var err error
		if data, err = os.ReadFile(credentials); err != nil {
			return nil, err
		}
	}
	var f struct {
		Type       string `json:"type"`
		PrivateKey string `json:"private_key"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a Google credentials file: %w", err)
	}
	t := google.CredentialsType(f.Type)
	known := false
	for _, k := range googleCredentialTypes {
		known = known || t == k
	}
	if !known {
		return nil, fmt.Errorf("credentials of type %q: want one of %q", f.Type, googleCredentialTypes)
	}
	if t == google.ServiceAccount {
		// The library reads the key only when it first signs: a bad one
		// is found now, not at the first call.
		if err := checkPrivateKey(f.PrivateKey); err != nil {
			return nil, err
		}
	}
	return google.CredentialsFromJSONWithTypeAndParams(credentialsContext, data, t, google.CredentialsParams{Scopes: []string{cloudPlatformScope}})
}

// checkPrivateKey reports whether a service account's private_key is a
// PEM RSA key, as the library will parse it.
func checkPrivateKey(key string) error {
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return errors.New("private_key: not a PEM key")
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return errors.New("private_key: not an RSA private key in PKCS #8 or PKCS #1")
	}
	return nil
}

func (a *googleAuth) projectID() string {
	if a == nil {
		return ""
	}
	return a.project
}

// source is the token source, nil when no credentials were found. The
// first call starts the search for Application Default Credentials; every
// caller waits for it only as long as its context allows.
func (a *googleAuth) source(ctx context.Context) (oauth2.TokenSource, error) {
	a.once.Do(func() {
		if a.explicit {
			return
		}
		go func() {
			defer close(a.found)
			creds, err := findDefaultCredentials()
			if err != nil {
				a.findErr = err
				return
			}
			a.ts = creds.TokenSource
		}()
	})
	select {
	case <-a.found:
		return a.ts, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// token is a valid access token, nil when there are no credentials. It
// blocks while the token is first fetched or refreshed (once for all
// callers), until ctx is done.
func (a *googleAuth) token(ctx context.Context) (*oauth2.Token, error) {
	if t := a.last.Load(); t.Valid() {
		return t, nil
	}
	ts, err := a.source(ctx)
	if ts == nil || err != nil {
		return nil, err
	}
	type result struct {
		t   *oauth2.Token
		err error
	}
	// The fetch goes on if ctx ends first: its token serves the next call.
	done := make(chan result, 1)
	go func() {
		t, err := ts.Token()
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, r.err
		}
		a.last.Store(r.t)
		return r.t, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// missing is why no credentials were found, once they were looked for.
func (a *googleAuth) missing() error {
	select {
	case <-a.found:
		return a.findErr
	default:
		return nil
	}
}
