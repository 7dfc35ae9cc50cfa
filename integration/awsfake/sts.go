package awsfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The credentials the fake STS issues for a role, valid an hour.
const (
	RoleAccessKeyID     = "ASIAROLEEXAMPLE00001"
	RoleSecretAccessKey = "role/secret/K7MDENG/bPxRfiCYEXAMPLEKEY"
	RoleSessionToken    = "role-session-token-EXAMPLE"
)

// RoleVerifier is a Verifier of the role's credentials for Bedrock
// Runtime in Region.
func RoleVerifier() *Verifier {
	return &Verifier{AccessKeyID: RoleAccessKeyID, SecretAccessKey: RoleSecretAccessKey, SessionToken: RoleSessionToken,
		Region: Region, Service: Service}
}

// STSCall is one request the fake STS answered.
type STSCall struct {
	Action, RoleArn, RoleSessionName string
}

// STS is a fake AWS Security Token Service on loopback (point the SDKs at
// it with AWS_ENDPOINT_URL_STS): AssumeRole, its request signed with the
// base credentials, and AssumeRoleWithWebIdentity, unsigned, with the
// token WebIdentityToken. Both issue the role's credentials.
type STS struct {
	*httptest.Server
	// Base checks AssumeRole's signature (service "sts").
	Base *Verifier
	// WebIdentityToken is the OIDC token AssumeRoleWithWebIdentity takes.
	WebIdentityToken string
	// Issued counts the credentials issued.
	Issued atomic.Int32

	mu    sync.Mutex
	calls []STSCall
}

// NewSTS starts a fake STS whose AssumeRole takes requests signed with
// base's credentials in base's region; it is closed when the test ends.
func NewSTS(t testing.TB, base Verifier) *STS {
	t.Helper()
	base.Service = "sts"
	s := &STS{Base: &base, WebIdentityToken: "eyJ.web-identity.token"}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Calls are the requests answered, in order.
func (s *STS) Calls() []STSCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]STSCall(nil), s.calls...)
}

func (s *STS) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		stsError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || r.Method != http.MethodPost {
		stsError(w, http.StatusBadRequest, "InvalidRequest", "want a POST of a form")
		return
	}
	call := STSCall{Action: form.Get("Action"), RoleArn: form.Get("RoleArn"), RoleSessionName: form.Get("RoleSessionName")}
	switch call.Action {
	case "AssumeRole":
		if err := s.Base.Verify(r, body); err != nil {
			stsError(w, http.StatusForbidden, "SignatureDoesNotMatch", err.Error())
			return
		}
	case "AssumeRoleWithWebIdentity":
		if form.Get("WebIdentityToken") != s.WebIdentityToken {
			stsError(w, http.StatusBadRequest, "InvalidIdentityToken", "the web identity token is not the fake's")
			return
		}
	default:
		stsError(w, http.StatusBadRequest, "InvalidAction", fmt.Sprintf("action %q is not this fake's", call.Action))
		return
	}
	if call.RoleArn == "" || call.RoleSessionName == "" {
		stsError(w, http.StatusBadRequest, "ValidationError", "RoleArn and RoleSessionName are required")
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	n := s.Issued.Add(1)

	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><%[1]sResult>`+
		`<Credentials><AccessKeyId>%[2]s</AccessKeyId><SecretAccessKey>%[3]s</SecretAccessKey>`+
		`<SessionToken>%[4]s</SessionToken><Expiration>%[5]s</Expiration></Credentials>`+
		`<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/fake/%[6]s</Arn><AssumedRoleId>AROAFAKE:%[6]s</AssumedRoleId></AssumedRoleUser>`+
		`</%[1]sResult><ResponseMetadata><RequestId>fake-%[7]d</RequestId></ResponseMetadata></%[1]sResponse>`,
		call.Action, RoleAccessKeyID, RoleSecretAccessKey, RoleSessionToken, exp, xmlText(call.RoleSessionName), n)
}

// stsError answers as STS does: an ErrorResponse document.
func stsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
		`<Code>%s</Code><Message>%s</Message></Error><RequestId>fake-error</RequestId></ErrorResponse>`, code, xmlText(message))
}

// xmlText is s escaped for an XML element's text.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
