package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
)

// TestHandler: a Bedrock call signed with either of the credentials given
// gets the recorded answer; one signed with other keys, or not at all, is
// refused as Bedrock refuses it and never reaches the cassettes; another
// provider's route is not checked; the journal lists every request with
// its signer and why it was refused.
func TestHandler(t *testing.T) {
	cassettes, err := fakeprovider.LoadDir(filepath.Join("..", "..", "testdata", "bedrock", "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	var c fakeprovider.Cassette
	for _, k := range cassettes {
		if k.Name == "pa-test_bedrock_model" {
			c = k
		}
	}
	verifiers, err := parseCredentials(awsfake.AccessKeyID+":"+awsfake.SecretAccessKey+":"+awsfake.SessionToken+", AKIAORACLEEXAMPLE:oracle/secret", awsfake.Region)
	if err != nil || len(verifiers) != 2 || verifiers[0].SessionToken != awsfake.SessionToken || verifiers[1].SessionToken != "" {
		t.Fatalf("parseCredentials = %+v, %v", verifiers, err)
	}
	srv := httptest.NewServer(newHandler(fakeprovider.New(cassettes), verifiers))
	defer srv.Close()

	const path = "/model/us.amazon.nova-micro-v1%3A0/converse"
	tests := []struct {
		name       string
		path       string
		creds      *aws.Credentials // nil: unsigned
		wantStatus int
		wantBody   string // "": not checked
	}{
		{"the proxy's credentials", path, &aws.Credentials{AccessKeyID: awsfake.AccessKeyID, SecretAccessKey: awsfake.SecretAccessKey,
			SessionToken: awsfake.SessionToken}, 200, c.Response.Body},
		{"the oracle's", path, &aws.Credentials{AccessKeyID: "AKIAORACLEEXAMPLE", SecretAccessKey: "oracle/secret"}, 200, c.Response.Body},
		{"a client's own keys", path, &aws.Credentials{AccessKeyID: "AKIACLIENTKEY", SecretAccessKey: "x"}, 403, ""},
		{"unsigned", path, nil, 403, ""},
		{"not Bedrock's route", "/v1/chat/completions", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, strings.NewReader(c.Request.Body))
			r.Header.Set("Content-Type", "application/json")
			if tt.creds != nil {
				sum := sha256.Sum256([]byte(c.Request.Body))
				if err := v4.NewSigner().SignHTTP(context.Background(), *tt.creds, r, hex.EncodeToString(sum[:]), awsfake.Service, awsfake.Region, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || tt.wantBody != "" && string(b) != tt.wantBody {
				t.Fatalf("got %d %.200s; want %d", resp.StatusCode, b, tt.wantStatus)
			}
			if tt.wantStatus == 403 && !strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), "UnrecognizedClientException") &&
				!strings.HasPrefix(resp.Header.Get("X-Amzn-Errortype"), "MissingAuthenticationTokenException") {
				t.Errorf("X-Amzn-Errortype %q; want Bedrock's for an unknown or missing signature", resp.Header.Get("X-Amzn-Errortype"))
			}
		})
	}

	resp, err := http.Get(srv.URL + journalPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []received
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := []received{
		{Method: "POST", Path: path, AccessKeyID: awsfake.AccessKeyID},
		{Method: "POST", Path: path, AccessKeyID: "AKIAORACLEEXAMPLE"},
		{Method: "POST", Path: path, AccessKeyID: "AKIACLIENTKEY", Refused: "refused"},
		{Method: "POST", Path: path, Refused: "refused"},
		{Method: "POST", Path: "/v1/chat/completions"},
	}
	if len(got) != len(want) {
		t.Fatalf("journal %+v; want %d requests", got, len(want))
	}
	for i := range want {
		if (got[i].Refused != "") != (want[i].Refused != "") {
			t.Errorf("journal[%d] refused %q; want refused: %v", i, got[i].Refused, want[i].Refused != "")
		}
		got[i].Refused = want[i].Refused
		if got[i] != want[i] {
			t.Errorf("journal[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestParseCredentials(t *testing.T) {
	for _, bad := range []string{"AKID", "AKID:", ":secret", "a:b:c:d", "k:s, just-a-secret"} {
		if _, err := parseCredentials(bad, "us-east-1"); err == nil {
			t.Errorf("parseCredentials(%q) = nil error", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("the error %q shows the secret", err)
		}
	}
	if vs, err := parseCredentials("", "us-east-1"); err != nil || len(vs) != 0 {
		t.Errorf("parseCredentials(\"\") = %v, %v; want none", vs, err)
	}
}

// FuzzParseCredentials: any flag value parses or is refused without a
// panic; a refusal never shows a secret, and what parses has a key and a
// secret for every entry.
func FuzzParseCredentials(f *testing.F) {
	for _, s := range []string{"AKID:SECRET", "AKID:SECRET:TOKEN, AKID2:S2", "", ",,", "a:b:c:d", ":s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := parseCredentials(s, "us-east-1")
		if err != nil {
			const template = "entry is not AKID:SECRET[:SESSION_TOKEN]0123456789"
			for c := range strings.SplitSeq(s, ",") {
				for _, part := range strings.Split(c, ":") {
					if part = strings.TrimSpace(part); len(part) > 3 && !strings.Contains(template, part) && strings.Contains(err.Error(), part) {
						t.Fatalf("the error %q shows %q of the flag", err, part)
					}
				}
			}
			return
		}
		for _, v := range vs {
			if v.AccessKeyID == "" || v.SecretAccessKey == "" || v.Region != "us-east-1" {
				t.Fatalf("parsed %+v from %q", v, s)
			}
		}
	})
}

// FuzzSigner: any Authorization header gives a signer without a panic,
// never longer than the header.
func FuzzSigner(f *testing.F) {
	for _, s := range []string{"", "Bearer k", "AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00",
		"Credential=", "Credential=/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, auth string) {
		if got := signer(auth); len(got) > len(auth) {
			t.Fatalf("signer(%q) = %q", auth, got)
		}
	})
}
