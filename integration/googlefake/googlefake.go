// Package googlefake stands for Google in tests: its OAuth2 token endpoint
// (a service account's JSON key whose token_uri points at a fake on
// loopback that checks what Google checks: the JWT-bearer grant, an RS256
// assertion signed with the account's key, for the cloud-platform scope,
// and issues tokens that expire), and the snake_case naming with which the
// google-genai instrumentor records its SDK's objects.
package googlefake

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Scope is the OAuth2 scope Vertex AI's tokens are asked for.
const Scope = "https://www.googleapis.com/auth/cloud-platform"

// ServiceAccount is the fake service account's e-mail; its project is
// sa-project and its key id test-key-1.
const ServiceAccount = "proxy@sa-project.iam.gserviceaccount.com"

// key is the service account's key, made once per test binary.
var key = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// ServiceAccountJSON is the service account's JSON key file, its token
// endpoint tokenURI.
func ServiceAccountJSON(t testing.TB, tokenURI string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key())
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(map[string]string{
		"type":            "service_account",
		"project_id":      "sa-project",
		"private_key_id":  "test-key-1",
		"private_key":     string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":    ServiceAccount,
		"client_id":       "100000000000000000001",
		"auth_uri":        "https://accounts.google.com/o/oauth2/auth",
		"token_uri":       tokenURI,
		"universe_domain": "googleapis.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TokenServer is the token endpoint: it issues ya29.test-1, ya29.test-2,
// … valid for ExpiresIn seconds, to requests it has checked.
type TokenServer struct {
	*httptest.Server
	ExpiresIn int
	Issued    atomic.Int32
	Reject    atomic.Bool // answer invalid_grant
}

// NewTokenServer starts a token endpoint, closed when the test ends.
func NewTokenServer(t testing.TB, expiresIn int) *TokenServer {
	ts := &TokenServer{ExpiresIn: expiresIn}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ts.check(r); err != nil {
			t.Errorf("token request: %v", err)
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if ts.Reject.Load() {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		n := ts.Issued.Add(1)
		fmt.Fprintf(w, `{"access_token":"ya29.test-%d","token_type":"Bearer","expires_in":%d}`, n, ts.ExpiresIn)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TokenURI is the token endpoint, as the service account names it.
func (ts *TokenServer) TokenURI() string { return ts.URL + "/token" }

// Valid reports whether an Authorization header carries a token this
// server issued.
func (ts *TokenServer) Valid(authorization string) bool {
	tok, ok := strings.CutPrefix(authorization, "Bearer ya29.test-")
	if !ok {
		return false
	}
	var n int32
	_, err := fmt.Sscan(tok, &n)
	return err == nil && n >= 1 && n <= ts.Issued.Load()
}

// check verifies a token request: the JWT-bearer grant, and an assertion
// signed with the service account's key whose claims ask for Vertex AI's
// scope at this endpoint.
func (ts *TokenServer) check(r *http.Request) error {
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		return fmt.Errorf("%s %s; want POST /token", r.Method, r.URL.Path)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return fmt.Errorf("grant_type = %q", g)
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		return fmt.Errorf("assertion has %d parts; want a JWS's 3", len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss, Scope, Aud string
		Exp, Iat        int64
	}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return err
		}
	}
	if header.Alg != "RS256" || header.Kid != "test-key-1" {
		return fmt.Errorf("JWS header %+v; want RS256 with kid test-key-1", header)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key().PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("assertion's signature: %v", err)
	}
	now := time.Now().Unix()
	if claims.Iss != ServiceAccount || claims.Scope != Scope || claims.Aud != ts.TokenURI() ||
		claims.Exp <= now || claims.Iat > now+5 {
		return fmt.Errorf("claims %+v", claims)
	}
	return nil
}

// The google-genai instrumentor's _camel_to_snake (_context.py), with
// which it names every key of the SDK's request and response objects.
var (
	camelRun  = regexp.MustCompile(`([A-Z]+)([A-Z][a-z])`)
	camelWord = regexp.MustCompile(`([a-z0-9])([A-Z])`)
)

// CamelToSnake is the instrumentor's _camel_to_snake, regular expressions
// and all: "mimeType" → "mime_type", "HTTPServer" → "http_server".
func CamelToSnake(k string) string {
	return strings.ToLower(camelWord.ReplaceAllString(camelRun.ReplaceAllString(k, "${1}_${2}"), "${1}_${2}"))
}

// SnakeKeys is decoded JSON with every object key, at any depth, named as
// the SDK's snake_case dump names it (function call arguments too, as the
// instrumentor does).
func SnakeKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[CamelToSnake(k)] = SnakeKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = SnakeKeys(e)
		}
	}
	return v
}
