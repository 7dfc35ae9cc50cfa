// Package awsfake stands for AWS in tests: a Verifier that checks a
// request's Signature Version 4 as AWS does, for known credentials (the
// signature recomputed with the SDK's signer over the headers the request
// says it signed, its date within minutes, its payload hash the body's),
// a handler wrapper that answers a request it rejects as Bedrock would (a
// 403 naming the reason), and a fake STS that issues a role's
// credentials (sts.go).
package awsfake

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The test credentials: AWS's documented example key, a session token,
// and the region and service of Bedrock Runtime's calls.
const (
	AccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	SessionToken    = "IQoJb3JpZ2luX2VjEXAMPLE//////////session-token"
	Region          = "us-east-1"
	Service         = "bedrock"
)

// DefaultMaxSkew is how far a request's X-Amz-Date may be from now. (AWS
// allows 15 minutes; a proxy that signs as it sends is well within 5.)
const DefaultMaxSkew = 5 * time.Minute

// unsignedPayload is S3's sentinel for a body left out of the signature,
// which Bedrock does not take.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// Verifier checks requests signed with one set of credentials, for one
// region and service, as AWS does. Its zero value accepts nothing.
type Verifier struct {
	AccessKeyID, SecretAccessKey string
	// SessionToken, when set, must come in X-Amz-Security-Token, signed;
	// when empty, none may come.
	SessionToken    string
	Region, Service string
	// BearerToken, when set, is a Bedrock API key accepted in place of a
	// signature (Authorization: Bearer).
	BearerToken string
	// MaxSkew is how far X-Amz-Date may be from Now; 0 is DefaultMaxSkew.
	MaxSkew time.Duration
	// Now is the time; nil is time.Now.
	Now func() time.Time
}

// New is a Verifier of the test credentials (session token included) for
// Bedrock Runtime in Region.
func New() *Verifier {
	return &Verifier{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: SessionToken,
		Region: Region, Service: Service}
}

// Error is why a request was rejected: Bedrock's status and error type
// (X-Amzn-Errortype) for it, and the reason.
type Error struct {
	Status int
	Type   string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Type, e.Reason) }

func reject(typ, format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// The error types Bedrock answers a bad signature with.
const (
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	UnrecognizedClient         = "UnrecognizedClientException"
	InvalidSignature           = "InvalidSignatureException"
)

// Verify checks r's Authorization for body, r's whole body, and returns
// nil or an *Error naming what is wrong. It does not read r.Body. r may be
// a request a server received or one about to be sent.
func (v *Verifier) Verify(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return reject(MissingAuthenticationToken, "no Authorization header")
	}
	if token, ok := strings.CutPrefix(auth, "Bearer "); ok {
		if v.BearerToken == "" || !hmac.Equal([]byte(token), []byte(v.BearerToken)) {
			return reject(UnrecognizedClient, "the bearer token is not the Bedrock API key this fake takes")
		}
		return nil
	}
	sig, err := parseAuthorization(auth)
	if err != nil {
		return err
	}
	if sig.accessKeyID != v.AccessKeyID {
		return reject(UnrecognizedClient, "access key id %q is not %q", sig.accessKeyID, v.AccessKeyID)
	}
	if sig.region != v.Region || sig.service != v.Service || sig.terminator != "aws4_request" {
		return reject(InvalidSignature, "credential scope %s/%s/%s/%s; want region %s, service %s, aws4_request",
			sig.date, sig.region, sig.service, sig.terminator, v.Region, v.Service)
	}

	amzDate := r.Header.Get("X-Amz-Date")
	signed, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return reject(InvalidSignature, "X-Amz-Date %q is not an ISO 8601 basic time (20060102T150405Z)", amzDate)
	}
	if sig.date != amzDate[:8] {
		return reject(InvalidSignature, "credential scope date %s is not X-Amz-Date's %s", sig.date, amzDate[:8])
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew == 0 {
		skew = DefaultMaxSkew
	}
	if d := now().Sub(signed); d > skew || d < -skew {
		return reject(InvalidSignature, "signature expired: X-Amz-Date %s is %v from now (at most %v)", amzDate, d.Round(time.Second), skew)
	}

	for _, h := range []string{"host", "x-amz-date"} {
		if !slices.Contains(sig.signedHeaders, h) {
			return reject(InvalidSignature, "SignedHeaders %q leaves out %s", strings.Join(sig.signedHeaders, ";"), h)
		}
	}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") && !slices.Contains(sig.signedHeaders, l) {
			return reject(InvalidSignature, "header %s is not signed (SignedHeaders %q)", name, strings.Join(sig.signedHeaders, ";"))
		}
	}
	token := r.Header.Get("X-Amz-Security-Token")
	switch {
	case v.SessionToken != "" && token == "":
		return reject(UnrecognizedClient, "no X-Amz-Security-Token: the credentials are temporary")
	case v.SessionToken != "" && !hmac.Equal([]byte(token), []byte(v.SessionToken)):
		return reject(UnrecognizedClient, "the security token included in the request is invalid")
	case v.SessionToken == "" && token != "":
		return reject(UnrecognizedClient, "X-Amz-Security-Token for credentials that have none")
	}

	hash := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(hash[:])
	switch claimed := r.Header.Get("X-Amz-Content-Sha256"); claimed {
	case "", payloadHash:
	case unsignedPayload:
		return reject(InvalidSignature, "X-Amz-Content-Sha256 is UNSIGNED-PAYLOAD: Bedrock signs the body's SHA-256")
	default:
		return reject(InvalidSignature, "X-Amz-Content-Sha256 %s is not the body's SHA-256 %s", claimed, payloadHash)
	}

	want, err := v.recompute(r, sig.signedHeaders, payloadHash, signed)
	if err != nil {
		return err
	}
	if want.signedHeaders != strings.Join(sig.signedHeaders, ";") {
		return reject(InvalidSignature, "SignedHeaders %q; the signer signs %q of them (it never signs some, as user-agent)",
			strings.Join(sig.signedHeaders, ";"), want.signedHeaders)
	}
	if !hmac.Equal([]byte(want.signature), []byte(sig.signature)) {
		return reject(InvalidSignature, "the request signature we calculated does not match the signature you provided "+
			"(method %s, path %s, query %q, SignedHeaders %s)", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, want.signedHeaders)
	}
	return nil
}

// signature is what an Authorization header of SigV4 says.
type signature struct {
	accessKeyID, date, region, service, terminator string
	signedHeaders                                  []string
	signedHeadersText                              string
	signature                                      string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/20240101/
// us-east-1/bedrock/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(auth string) (signature, error) {
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return signature{}, reject(InvalidSignature, "Authorization %q is neither AWS4-HMAC-SHA256 nor Bearer", auth)
	}
	var s signature
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return signature{}, reject(InvalidSignature, "Authorization component %q is not key=value", part)
		}
		fields[k] = val
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return signature{}, reject(InvalidSignature, "Authorization %q wants Credential=key/date/region/service/aws4_request, SignedHeaders and Signature", auth)
	}
	s.accessKeyID, s.date, s.region, s.service, s.terminator = scope[0], scope[1], scope[2], scope[3], scope[4]
	s.signedHeadersText = fields["SignedHeaders"]
	s.signedHeaders = strings.Split(s.signedHeadersText, ";")
	if !slices.IsSorted(s.signedHeaders) {
		return signature{}, reject(InvalidSignature, "SignedHeaders %q are not sorted", s.signedHeadersText)
	}
	s.signature = fields["Signature"]
	return s, nil
}

// recomputed is the signature the SDK's signer makes over the request.
type recomputed struct{ signedHeaders, signature string }

// recompute signs a copy of r that has the headers it says it signed, at
// its own time, with the verifier's credentials.
func (v *Verifier) recompute(r *http.Request, signedHeaders []string, payloadHash string, at time.Time) (recomputed, error) {
	// A request a server received has its host in r.Host; one about to
	// be sent may have it in its URL only.
	u := *r.URL
	u.Host = cmp.Or(r.Host, r.URL.Host)
	if u.Scheme == "" {
		u.Scheme = "http"
		if r.TLS != nil {
			u.Scheme = "https"
		}
	}
	c := &http.Request{Method: r.Method, URL: &u, Host: u.Host, Header: http.Header{}}
	for _, h := range signedHeaders {
		switch h {
		case "host":
		case "content-length":
			c.ContentLength = r.ContentLength
		default:
			if vals := r.Header.Values(h); vals != nil {
				c.Header[http.CanonicalHeaderKey(h)] = vals
			} else {
				return recomputed{}, reject(InvalidSignature, "signed header %s is not in the request", h)
			}
		}
	}
	creds := aws.Credentials{AccessKeyID: v.AccessKeyID, SecretAccessKey: v.SecretAccessKey, SessionToken: v.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, c, payloadHash, v.Service, v.Region, at); err != nil {
		return recomputed{}, reject(InvalidSignature, "recomputing the signature: %v", err)
	}
	s, err := parseAuthorization(c.Header.Get("Authorization"))
	if err != nil {
		return recomputed{}, err
	}
	return recomputed{signedHeaders: s.signedHeadersText, signature: s.signature}, nil
}

// Handler checks every request's signature before next sees it (its body
// read and put back); a request it rejects is answered as Bedrock answers
// one: the status, X-Amzn-Errortype, {"message": reason}.
func (v *Verifier) Handler(next http.Handler) http.Handler { return handler(v, next) }

// Verifiers take a request that any one of them verifies: a fake Bedrock
// that serves several signers, each with its own credentials (a proxy's,
// and a client's that calls it directly).
type Verifiers []*Verifier

// Verify is nil when a verifier takes the request; else the error of the
// verifier of the access key the request names (what AWS would say to
// that key's owner), or the first verifier's when it names none of theirs.
func (vs Verifiers) Verify(r *http.Request, body []byte) error {
	if len(vs) == 0 {
		return reject(UnrecognizedClient, "this fake takes no credentials")
	}
	key := ""
	if sig, err := parseAuthorization(r.Header.Get("Authorization")); err == nil {
		key = sig.accessKeyID
	}
	var first error
	for i, v := range vs {
		err := v.Verify(r, body)
		if err == nil {
			return nil
		}
		if i == 0 || key != "" && key == v.AccessKeyID {
			first = err
		}
	}
	return first
}

// Handler is Verifier.Handler for a request any of vs takes.
func (vs Verifiers) Handler(next http.Handler) http.Handler { return handler(vs, next) }

// verifier is what Handler checks a request with.
type verifier interface {
	Verify(r *http.Request, body []byte) error
}

func handler(v verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := v.Verify(r, body); err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WriteError answers as Bedrock does: the *Error's status and type, or a
// 403 InvalidSignatureException for any other error.
func WriteError(w http.ResponseWriter, err error) {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Status: http.StatusForbidden, Type: InvalidSignature, Reason: err.Error()}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", e.Type+":http://internal.amazon.com/coral/com.amazon.coral.service/")
	w.WriteHeader(e.Status)
	b, _ := json.Marshal(map[string]string{"message": e.Reason})
	w.Write(b)
}
