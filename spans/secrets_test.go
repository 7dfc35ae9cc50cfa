package spans

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

func TestWithoutSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"model":"m","messages":[{"role":"user","content":"my api_key: is here"}]}`, ""}, // unchanged
		{`{"model":"m","api_key":"sk-live-1"}`, `{"model":"m","api_key":"__REDACTED__"}`},
		{`{"model":"m","apiKey":"k","Authorization":"Bearer x","x-api-key":"y"}`,
			`{"model":"m","apiKey":"__REDACTED__","Authorization":"__REDACTED__","x-api-key":"__REDACTED__"}`},
		{`{"extra_headers":{"Api-Key":"k","X-Trace":"t"},"aws_secret_access_key":"s","api_base":"https://internal"}`,
			`{"extra_headers":{"Api-Key":"__REDACTED__","X-Trace":"t"},"aws_secret_access_key":"__REDACTED__","api_base":"__REDACTED__"}`},
		// A JSON schema with a property named api_key is no credential.
		{`{"tools":[{"parameters":{"properties":{"api_key":{"type":"string"}}}}]}`,
			`{"tools":[{"parameters":{"properties":{"api_key":{"type":"string"}}}}]}`},
		{`{"api\u005fkey":"sk-escaped"}`, `{"api\u005fkey":"__REDACTED__"}`},
		{`{"metadata" : {"password" : "hunter2"}}`, `{"metadata":{"password":"__REDACTED__"}}`},
	}
	for _, tt := range tests {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		got := withoutSecrets(tt.in)
		if got != want {
			t.Errorf("withoutSecrets(%s)\n got  %s\n want %s", tt.in, got, want)
		}
		if lent := lentBodyText(t, tt.in); lent != want {
			t.Errorf("with the handler's index, %s\n got  %s\n want %s", tt.in, lent, want)
		}
		for _, secret := range []string{"sk-live-1", "Bearer x", "hunter2", "sk-escaped", "https://internal"} {
			if strings.Contains(got, secret) {
				t.Errorf("%q still in %s", secret, got)
			}
		}
	}
}

func FuzzWithoutSecrets(f *testing.F) {
	f.Add(`{"a":{"API_KEY":"s"},"b":[{"token":"t"}],"c":"d"}`)
	f.Fuzz(func(t *testing.T, in string) {
		if !json.Valid([]byte(in)) {
			return
		}
		got := withoutSecrets(in)
		if !json.Valid([]byte(got)) {
			t.Fatalf("withoutSecrets(%q) = %q: not JSON", in, got)
		}
		if jsonbound.Valid([]byte(in)) {
			if lent := lentBodyText(t, in); lent != got {
				t.Fatalf("with the handler's index, %q = %q; withoutSecrets gives %q", in, lent, got)
			}
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if s, ok := e.(string); ok && isCredentialKey(k) && s != Redacted {
						t.Fatalf("withoutSecrets(%q) = %q keeps %s", in, got, k)
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		var v any
		_ = json.Unmarshal([]byte(got), &v)
		walk(v)
	})
}

// TestCredentialKeys: every credential's name, as clients spell it, and
// names that only look like one.
func TestCredentialKeys(t *testing.T) {
	for _, k := range []string{"api_key", "api-key", "apiKey", "API_KEY", "x-api-key", "X-Api-Key", "api_token",
		"api_base", "Authorization", "proxy-authorization", "bearer_token", "aws_access_key_id",
		"aws_secret_access_key", "AWS_SESSION_TOKEN", "vertex_credentials", "azure_ad_token", "access_token",
		"refresh_token", "id_token", "client_secret", "secret", "Secret", "secret_key", "private_key", "password",
		"__pass_word__"} {
		if !isCredentialKey(k) {
			t.Errorf("%q: not a credential's name", k)
		}
	}
	for _, k := range []string{"", "key", "api", "model", "messages", "tokens", "secrets", "apikeys", "passwd",
		"token", "id", "max_tokens", "authorization_url", strings.Repeat("a", 40), "api_key" + strings.Repeat("_", 30)} {
		if isCredentialKey(k) {
			t.Errorf("%q: taken for a credential's name", k)
		}
	}
}

// lentBodyText is what the span records of body when the handler lends it
// its index, made watching for credentials as it checked the body (the
// span's copy of it, as for a small body); the index must change nothing
// of what withoutSecrets records.
func lentBodyText(t *testing.T, body string) string {
	t.Helper()
	b := []byte(body)
	var e jsonbound.Ends
	WatchSecrets(&e)
	if err := jsonbound.CheckIndex(b, &e); err != nil {
		t.Fatalf("CheckIndex(%q): %v", body, err)
	}
	return bodyText(string(b), b, &e)
}
