package awsfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const converse = `{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}`

// sign signs r as the SDK does for Bedrock, with the test credentials, at
// t, its payload hash that of body.
func sign(tb testing.TB, r *http.Request, body string, at time.Time) {
	tb.Helper()
	hash := sha256Hex(body)
	r.Header.Set("X-Amz-Content-Sha256", hash)
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hash, Service, Region, at); err != nil {
		tb.Fatal(err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestVerify: a request signed as the SDK signs passes, through a real
// server (the path's escapes as the wire has them); each thing AWS checks,
// changed after signing, is refused with its reason.
func TestVerify(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(New().Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, string(b))
		w.Write([]byte(`{"ok":true}`))
	})))
	defer srv.Close()

	const path = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.amazon.nova-micro-v1%3A0/converse"
	tests := []struct {
		name       string
		tamper     func(r *http.Request) // after signing
		body       string                // sent; "" is the signed body
		at         time.Time             // signing time; zero is now
		wantStatus int
		wantType   string
		wantReason string
	}{
		{name: "signed as the SDK signs", wantStatus: http.StatusOK},
		{name: "another body", body: `{"messages":[]}`, wantStatus: 403, wantType: InvalidSignature, wantReason: "is not the body's SHA-256"},
		{name: "a signed header changed", tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
			wantStatus: 403, wantType: InvalidSignature, wantReason: "does not match"},
		{name: "an unsigned x-amz header", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "x") },
			wantStatus: 403, wantType: InvalidSignature, wantReason: "X-Amz-Target is not signed"},
		{name: "UNSIGNED-PAYLOAD", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", unsignedPayload) },
			wantStatus: 403, wantType: InvalidSignature, wantReason: "UNSIGNED-PAYLOAD"},
		{name: "signed ten minutes ago", at: time.Now().Add(-10 * time.Minute), wantStatus: 403, wantType: InvalidSignature, wantReason: "signature expired"},
		{name: "another session token", tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "other") },
			wantStatus: 403, wantType: UnrecognizedClient, wantReason: "security token"},
		{name: "another key", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), AccessKeyID, "AKIAOTHER", 1))
		}, wantStatus: 403, wantType: UnrecognizedClient, wantReason: "access key id"},
		{name: "another region", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-west-2/", 1))
		}, wantStatus: 403, wantType: InvalidSignature, wantReason: "credential scope"},
		{name: "no Authorization", tamper: func(r *http.Request) { r.Header.Del("Authorization") },
			wantStatus: 403, wantType: MissingAuthenticationToken},
		{name: "a bearer token", tamper: func(r *http.Request) { r.Header.Set("Authorization", "Bearer k") },
			wantStatus: 403, wantType: UnrecognizedClient, wantReason: "bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequest(http.MethodPost, srv.URL+path+"?b=2&a=1", strings.NewReader(converse))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "application/json")
			at := tt.at
			if at.IsZero() {
				at = time.Now()
			}
			sign(t, r, converse, at)
			if tt.tamper != nil {
				tt.tamper(r)
			}
			if tt.body != "" {
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(tt.body)), int64(len(tt.body))
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%s); want %d", resp.StatusCode, b, tt.wantStatus)
			}
			if typ := resp.Header.Get("X-Amzn-Errortype"); !strings.HasPrefix(typ, tt.wantType) || tt.wantType == "" && typ != "" {
				t.Errorf("X-Amzn-Errortype %q; want %q", typ, tt.wantType)
			}
			if !strings.Contains(string(b), tt.wantReason) {
				t.Errorf("answer %s; want the reason %q", b, tt.wantReason)
			}
		})
	}
	if len(seen) != 1 || seen[0] != converse {
		t.Errorf("the handler saw %q; want the one signed request's body", seen)
	}
}

// TestVerifyOutgoing: Verify checks a request about to be sent too, and a
// Bedrock API key when one is set.
func TestVerifyOutgoing(t *testing.T) {
	r, _ := http.NewRequest(http.MethodPost, "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse", strings.NewReader(converse))
	sign(t, r, converse, time.Now())
	if err := New().Verify(r, []byte(converse)); err != nil {
		t.Errorf("Verify = %v; want nil", err)
	}
	var e *Error
	if err := New().Verify(r, []byte("{}")); !errors.As(err, &e) || e.Status != 403 {
		t.Errorf("Verify(another body) = %v; want a 403", err)
	}
	v := New()
	v.BearerToken = "bedrock-api-key-1"
	r.Header.Set("Authorization", "Bearer bedrock-api-key-1")
	if err := v.Verify(r, nil); err != nil {
		t.Errorf("Verify(the API key) = %v; want nil", err)
	}
}

// TestVerifiers: a set of verifiers takes a request signed with any one's
// credentials; one it refuses gets the error of the verifier whose key it
// names (its real reason), or the first's for a key none of them has.
func TestVerifiers(t *testing.T) {
	other := &Verifier{AccessKeyID: "AKIAOTHERCLIENTEXAMPLE", SecretAccessKey: "other/secret", Region: Region, Service: Service}
	vs := Verifiers{New(), other}
	signWith := func(creds aws.Credentials) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/model/us.amazon.nova-micro-v1%3A0/converse", strings.NewReader(converse))
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, sha256Hex(converse), Service, Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name      string
		creds     aws.Credentials
		wantType  string // "" accepted
		wantCause string
	}{
		{"the first's", aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: SessionToken}, "", ""},
		{"the second's", aws.Credentials{AccessKeyID: other.AccessKeyID, SecretAccessKey: other.SecretAccessKey}, "", ""},
		{"the second's key, a wrong secret", aws.Credentials{AccessKeyID: other.AccessKeyID, SecretAccessKey: "wrong"}, InvalidSignature, "does not match"},
		{"a key neither has", aws.Credentials{AccessKeyID: "AKIACLIENTKEY", SecretAccessKey: "x"}, UnrecognizedClient, AccessKeyID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vs.Verify(signWith(tt.creds), []byte(converse))
			var e *Error
			switch {
			case tt.wantType == "" && err != nil:
				t.Fatalf("Verify = %v; want nil", err)
			case tt.wantType == "":
			case !errors.As(err, &e) || e.Type != tt.wantType || !strings.Contains(e.Reason, tt.wantCause):
				t.Fatalf("Verify = %v; want %s naming %q", err, tt.wantType, tt.wantCause)
			}
		})
	}
	if err := (Verifiers{}).Verify(signWith(aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey}), []byte(converse)); err == nil {
		t.Error("an empty set took a request")
	}
}
