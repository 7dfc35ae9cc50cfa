package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/openai"
)

// isolateAWS gives a test an AWS environment with nothing in it: no
// credentials, region or profile in the environment, no shared config
// files, no instance metadata service (AWS_EC2_METADATA_DISABLED); it
// counts the configurations loaded.
func isolateAWS(t *testing.T) *atomic.Int32 {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
		"AWS_BEARER_TOKEN_BEDROCK"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var loads atomic.Int32
	saved := loadAWSConfig
	loadAWSConfig = func(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
		loads.Add(1)
		return saved(ctx, opts...)
	}
	t.Cleanup(func() { loadAWSConfig = saved })
	return &loads
}

// envCredentials puts awsfake's credentials in the environment, where the
// SDKs' chain finds them first.
func envCredentials(t *testing.T) {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", awsfake.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsfake.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", awsfake.SessionToken)
}

// profileFiles points the SDKs at testdata's shared config and
// credentials files.
func profileFiles(t *testing.T) {
	t.Helper()
	for v, file := range map[string]string{"AWS_CONFIG_FILE": "testdata/aws_config", "AWS_SHARED_CREDENTIALS_FILE": "testdata/aws_credentials"} {
		abs, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv(v, abs)
	}
}

func bedrockProviders(t *testing.T, env BedrockEnv) *Providers {
	t.Helper()
	ps, err := NewProviders(Env{BedrockEnv: env})
	if err != nil {
		t.Fatalf("NewProviders error = %v", err)
	}
	return ps
}

func bedrock(t *testing.T, ps *Providers) *Provider {
	t.Helper()
	return routeNamed(t, ps, BedrockProvider)
}

const (
	novaPath     = "/model/us.amazon.nova-micro-v1%3A0/converse"
	arnPath      = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabc123/converse-stream"
	converseBody = `{"messages":[{"role":"user","content":[{"text":"Hello"}]}],"inferenceConfig":{"maxTokens":64}}`
)

// bedrockCall is an outgoing Bedrock call carrying the client's own
// credentials: a SigV4 signature made for the proxy's host, with its date,
// session token and payload hash.
func bedrockCall(ctx context.Context, t *testing.T, p *Provider, path, rawQuery, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL(path, "", rawQuery), rd)
	if err != nil {
		t.Fatal(err)
	}
	r.Host = "localhost:4000" // the client's, copied
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIACLIENT/20200101/us-east-1/bedrock/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=0123456789abcdef")
	r.Header.Set("X-Amz-Date", "20200101T000000Z")
	r.Header.Set("X-Amz-Security-Token", "client-session-token")
	r.Header.Set("X-Amz-Content-Sha256", "client-payload-hash")
	return r
}

// fakeBedrock is Bedrock Runtime on loopback, checking every request's
// signature with v; last is the last request it took.
type fakeBedrock struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
	body string
}

func newFakeBedrock(t *testing.T, v *awsfake.Verifier) *fakeBedrock {
	t.Helper()
	f := &fakeBedrock{}
	f.Server = httptest.NewServer(v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.last, f.body = r, string(b)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn"}`)
	})))
	t.Cleanup(f.Close)
	return f
}

// send sends r and returns the status and the answer.
func send(t *testing.T, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestBedrockRegion: LiteLLM's order, AWS_REGION_NAME, AWS_REGION,
// AWS_DEFAULT_REGION, then the shared config profile's, then us-west-2;
// a region that names no host is an error naming its variable.
func TestBedrockRegion(t *testing.T) {
	tests := []struct {
		name    string
		env     BedrockEnv
		profile string // AWS_PROFILE, with testdata's files; "-" for no files
		want    string
		wantErr string
	}{
		{name: "AWS_REGION_NAME first", env: BedrockEnv{AWSRegionName: "eu-central-1", AWSRegion: "us-east-1", AWSDefaultRegion: "us-east-2"}, want: "eu-central-1"},
		{name: "AWS_REGION", env: BedrockEnv{AWSRegion: "us-east-1", AWSDefaultRegion: "us-east-2"}, want: "us-east-1"},
		{name: "AWS_DEFAULT_REGION", env: BedrockEnv{AWSDefaultRegion: "us-east-2"}, profile: "team", want: "us-east-2"},
		{name: "the profile's", profile: "team", want: "ap-northeast-1"},
		{name: "the default profile's", want: "eu-west-1"},
		{name: "a profile without one", profile: "no-region", want: DefaultBedrockRegion},
		{name: "none", profile: "-", want: DefaultBedrockRegion},
		{name: "a hostile AWS_REGION_NAME", env: BedrockEnv{AWSRegionName: "evil.com#"}, wantErr: "AWS_REGION_NAME"},
		{name: "a hostile AWS_REGION", env: BedrockEnv{AWSRegion: "us-east-1.evil.com"}, wantErr: "AWS_REGION"},
		{name: "an upper-case AWS_DEFAULT_REGION", env: BedrockEnv{AWSDefaultRegion: "US-EAST-1"}, wantErr: "AWS_DEFAULT_REGION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			if tt.profile != "-" {
				profileFiles(t)
				t.Setenv("AWS_PROFILE", tt.profile)
			}
			ps, err := NewProviders(Env{BedrockEnv: tt.env})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewProviders error = %v; want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := bedrock(t, ps)
			if got := p.bedrockRegion(); got != tt.want {
				t.Errorf("region = %q; want %q", got, tt.want)
			}
			if got, want := p.URL(novaPath, "", ""), "https://bedrock-runtime."+tt.want+".amazonaws.com"+novaPath; got != want {
				t.Errorf("URL = %q; want %q", got, want)
			}
		})
	}
}

// TestBedrockURL: the region's host (other partitions' DNS suffixes too)
// or the endpoint set, and the path as the client escaped it, byte for
// byte, through the URL's parsing as well.
func TestBedrockURL(t *testing.T) {
	isolateAWS(t)
	tests := []struct {
		name           string
		env            BedrockEnv
		path, rawQuery string
		want           string
	}{
		{"us-east-1", BedrockEnv{AWSRegion: "us-east-1"}, novaPath, "",
			"https://bedrock-runtime.us-east-1.amazonaws.com" + novaPath},
		{"an ARN kept escaped", BedrockEnv{AWSRegion: "us-east-1"}, arnPath, "",
			"https://bedrock-runtime.us-east-1.amazonaws.com" + arnPath},
		{"invoke, a query kept", BedrockEnv{AWSRegion: "eu-west-3"}, "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke", "trace=ENABLED",
			"https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke?trace=ENABLED"},
		{"China", BedrockEnv{AWSRegion: "cn-north-1"}, novaPath, "", "https://bedrock-runtime.cn-north-1.amazonaws.com.cn" + novaPath},
		{"GovCloud", BedrockEnv{AWSRegion: "us-gov-west-1"}, novaPath, "", "https://bedrock-runtime.us-gov-west-1.amazonaws.com" + novaPath},
		{"ISO", BedrockEnv{AWSRegion: "us-iso-east-1"}, novaPath, "", "https://bedrock-runtime.us-iso-east-1.c2s.ic.gov" + novaPath},
		{"AWS_BEDROCK_RUNTIME_ENDPOINT", BedrockEnv{AWSRegion: "us-east-1", AWSBedrockRuntimeEndpoint: "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com/"},
			arnPath, "", "https://vpce-1.bedrock-runtime.us-east-1.vpce.amazonaws.com" + arnPath},
		{"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", BedrockEnv{AWSEndpointURLBedrockRuntime: "http://127.0.0.1:9999/bedrock"},
			novaPath, "", "http://127.0.0.1:9999/bedrock" + novaPath},
		{"LiteLLM's endpoint wins", BedrockEnv{AWSBedrockRuntimeEndpoint: "http://a.test", AWSEndpointURLBedrockRuntime: "http://b.test"},
			novaPath, "", "http://a.test" + novaPath},
		{"a path without its slash", BedrockEnv{AWSRegion: "us-east-1"}, "@evil.com/model/m/converse", "",
			"https://bedrock-runtime.us-east-1.amazonaws.com/@evil.com/model/m/converse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bedrock(t, bedrockProviders(t, tt.env))
			got := p.URL(tt.path, "", tt.rawQuery)
			if got != tt.want {
				t.Fatalf("URL(%q, %q) = %q; want %q", tt.path, tt.rawQuery, got, tt.want)
			}
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if wantPath, _, _ := strings.Cut(strings.TrimPrefix(tt.want, u.Scheme+"://"+u.Host), "?"); u.EscapedPath() != wantPath || u.User != nil {
				t.Errorf("parsed: path %q, user %v; want %q as sent", u.EscapedPath(), u.User, wantPath)
			}
		})
	}
	for _, env := range []BedrockEnv{{AWSBedrockRuntimeEndpoint: "bedrock-runtime.us-east-1.amazonaws.com"}, {AWSEndpointURLBedrockRuntime: "ftp://x"}} {
		if _, err := NewProviders(Env{BedrockEnv: env}); err == nil || !strings.Contains(err.Error(), "ENDPOINT") {
			t.Errorf("NewProviders(%+v) error = %v; want one naming the variable", env, err)
		}
	}
}

// TestBedrockSigning: with the environment's credentials, a Converse call
// is signed as AWS checks it (the fake recomputes the signature), the
// client's own signature, date, token and payload hash replaced; with its
// body given, read here when not, or none; an ARN's escapes signed as
// sent.
func TestBedrockSigning(t *testing.T) {
	isolateAWS(t)
	envCredentials(t)
	fake := newFakeBedrock(t, awsfake.New())
	p := bedrock(t, bedrockProviders(t, BedrockEnv{AWSRegion: awsfake.Region, AWSEndpointURLBedrockRuntime: fake.URL}))
	tests := []struct {
		name, path, rawQuery, body string
		passBody                   bool   // the body given to Authorize; else nil
		wantQuery                  string // as signed: in canonical order
	}{
		{"Converse, the body given", novaPath, "", converseBody, true, ""},
		{"the body read by Authorize", novaPath, "", converseBody, false, ""},
		{"no body", "/model/m/invoke", "", "", false, ""},
		{"an ARN", arnPath, "", converseBody, true, ""},
		{"a query, put in canonical order", novaPath, "b=2&a=1", converseBody, true, "a=1&b=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := bedrockCall(context.Background(), t, p, tt.path, tt.rawQuery, tt.body)
			var body []byte
			if tt.passBody {
				body = []byte(tt.body)
			}
			if err := p.Authorize(r, body); err != nil {
				t.Fatalf("Authorize error = %v", err)
			}
			auth := r.Header.Get("Authorization")
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+awsfake.AccessKeyID+"/") || !strings.Contains(auth, "/"+awsfake.Region+"/bedrock/aws4_request") {
				t.Errorf("Authorization = %q; want the proxy's signature", auth)
			}
			if r.Header.Get("X-Amz-Security-Token") != awsfake.SessionToken || r.Header.Get("X-Amz-Date") == "20200101T000000Z" {
				t.Errorf("X-Amz-Security-Token %q, X-Amz-Date %q; want the proxy's", r.Header.Get("X-Amz-Security-Token"), r.Header.Get("X-Amz-Date"))
			}
			if status, answer := send(t, r); status != http.StatusOK {
				t.Fatalf("the fake answered %d %s", status, answer)
			}
			fake.mu.Lock()
			defer fake.mu.Unlock()
			if fake.body != tt.body || fake.last.URL.EscapedPath() != tt.path || fake.last.URL.RawQuery != tt.wantQuery {
				t.Errorf("the fake got %s?%s %q; want %s?%s %q", fake.last.URL.EscapedPath(), fake.last.URL.RawQuery, fake.body, tt.path, tt.wantQuery, tt.body)
			}
			if h := fake.last.Host; h != strings.TrimPrefix(fake.URL, "http://") {
				t.Errorf("Host %q; want the upstream's", h)
			}
		})
	}
}

// TestBedrockBearer: Bedrock API keys. The proxy's replaces whatever the
// client sent; the client's passes only when the proxy holds no AWS
// credentials; without either a call is refused, saying what to set.
func TestBedrockBearer(t *testing.T) {
	tests := []struct {
		name        string
		env         BedrockEnv
		awsKeys     bool   // the proxy's AWS credentials in the environment
		client      string // the client's Authorization; "" its SigV4
		wantAuth    string // prefix of the Authorization sent
		wantErr     string
		wantNoSigV4 bool
	}{
		{name: "the proxy's key", env: BedrockEnv{AWSBearerTokenBedrock: "proxy-key"}, awsKeys: true,
			wantAuth: "Bearer proxy-key", wantNoSigV4: true},
		{name: "the proxy's key over the client's", env: BedrockEnv{AWSBearerTokenBedrock: "proxy-key"}, client: "Bearer client-key",
			wantAuth: "Bearer proxy-key", wantNoSigV4: true},
		{name: "the client's key, the proxy holding nothing", client: "Bearer client-key", wantAuth: "Bearer client-key", wantNoSigV4: true},
		{name: "the client's key, lower-case scheme", client: "bearer client-key", wantAuth: "Bearer client-key", wantNoSigV4: true},
		{name: "the client's key, the proxy holding AWS credentials", awsKeys: true, client: "Bearer client-key",
			wantAuth: "AWS4-HMAC-SHA256 Credential=" + awsfake.AccessKeyID + "/"},
		{name: "nothing at all", wantErr: "no AWS credentials: set AWS_ACCESS_KEY_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t)
			if tt.awsKeys {
				envCredentials(t)
			}
			tt.env.AWSRegion = awsfake.Region
			p := bedrock(t, bedrockProviders(t, tt.env))
			r := bedrockCall(context.Background(), t, p, novaPath, "", converseBody)
			if tt.client != "" {
				r.Header.Set("Authorization", tt.client)
			}
			err := p.Authorize(r, []byte(converseBody))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrNoAWSCredentials) || !strings.HasPrefix(err.Error(), "bedrock: ") ||
					!strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "AWS_BEARER_TOKEN_BEDROCK") {
					t.Fatalf("Authorize error = %v; want ErrNoAWSCredentials saying %q and AWS_BEARER_TOKEN_BEDROCK", err, tt.wantErr)
				}
				if p.MissingAWSCredentials() == nil {
					t.Error("MissingAWSCredentials() = nil after finding none; want why")
				}
				return
			}
			if err != nil {
				t.Fatalf("Authorize error = %v", err)
			}
			if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, tt.wantAuth) {
				t.Errorf("Authorization = %q; want %q", got, tt.wantAuth)
			}
			if tt.wantNoSigV4 {
				for _, h := range []string{"X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
					if v := r.Header.Values(h); v != nil {
						t.Errorf("%s = %q; want the client's removed", h, v)
					}
				}
			}
			if want := tt.env.AWSBearerTokenBedrock != ""; p.HoldsCredentials() != want {
				t.Errorf("HoldsCredentials() = %v; want %v (a key of the proxy's)", p.HoldsCredentials(), want)
			}
		})
	}
}

// TestBedrockCredentialsOnce: the SDKs' configuration is read at the first
// call, never at NewProviders, and once for 50 concurrent calls through
// copies of the provider; each is signed as AWS checks it. Credentials so
// found are not counted as given.
func TestBedrockCredentialsOnce(t *testing.T) {
	loads := isolateAWS(t)
	envCredentials(t)
	ps := bedrockProviders(t, BedrockEnv{AWSRegion: awsfake.Region})
	if n := loads.Load(); n != 0 {
		t.Fatalf("NewProviders loaded the AWS configuration %d times; want none before a call", n)
	}
	if ps.HoldKeys() {
		t.Error("HoldKeys() = true with the SDKs' chain only; want false (looked for at the first call)")
	}
	p := bedrock(t, ps)
	v := awsfake.New()
	const calls = 50
	var wg sync.WaitGroup
	for range calls {
		wg.Go(func() {
			copied := *p // the router and deployments copy providers
			r := bedrockCall(context.Background(), t, &copied, novaPath, "", converseBody)
			if err := copied.Authorize(r, []byte(converseBody)); err != nil {
				t.Errorf("Authorize error = %v", err)
				return
			}
			if err := v.Verify(r, []byte(converseBody)); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("%d concurrent calls loaded the AWS configuration %d times; want once", calls, n)
	}
	if err := p.MissingAWSCredentials(); err != nil {
		t.Errorf("MissingAWSCredentials() = %v; want nil", err)
	}
}

// TestBedrockNoCredentials: with none given or found, the search runs
// once, at the first call; calls without a key of the client's are refused
// and MissingAWSCredentials says why.
func TestBedrockNoCredentials(t *testing.T) {
	loads := isolateAWS(t)
	p := bedrock(t, bedrockProviders(t, BedrockEnv{}))
	if err := p.MissingAWSCredentials(); err != nil {
		t.Errorf("MissingAWSCredentials() = %v before a call; want nil", err)
	}
	for range 3 {
		err := p.Authorize(bedrockCall(context.Background(), t, p, novaPath, "", converseBody), []byte(converseBody))
		if !errors.Is(err, ErrNoAWSCredentials) {
			t.Fatalf("Authorize error = %v; want ErrNoAWSCredentials", err)
		}
	}
	r := bedrockCall(context.Background(), t, p, novaPath, "", converseBody)
	r.Header.Set("Authorization", "Bearer client-key")
	if err := p.Authorize(r, nil); err != nil || r.Header.Get("Authorization") != "Bearer client-key" {
		t.Errorf("Authorize = %v, %q; want the client's key passed", err, r.Header.Get("Authorization"))
	}
	if n := loads.Load(); n != 1 {
		t.Errorf("the AWS configuration loaded %d times; want once", n)
	}
	if err := p.MissingAWSCredentials(); err == nil {
		t.Error("MissingAWSCredentials() = nil; want why none were found")
	}
}

// TestBedrockProfile: credentials and region of a shared config profile,
// AWS_PROFILE's for the environment's provider, aws_profile_name's for a
// deployment's.
func TestBedrockProfile(t *testing.T) {
	isolateAWS(t)
	profileFiles(t)
	t.Setenv("AWS_PROFILE", "proxy")
	ps := bedrockProviders(t, BedrockEnv{})
	team, _, err := ps.Deployment("bedrock/us.amazon.nova-micro-v1:0", Params{AWSProfileName: "team"})
	if err != nil || team == nil {
		t.Fatalf("Deployment = %v, %v; want the provider", team, err)
	}
	for _, tt := range []struct {
		name string
		p    *Provider
		v    *awsfake.Verifier
	}{
		{"AWS_PROFILE", bedrock(t, ps), awsfake.New()},
		{"aws_profile_name", team, &awsfake.Verifier{AccessKeyID: "AKIATEAMEXAMPLE00002", SecretAccessKey: "team/secret/K7MDENG/EXAMPLEKEY",
			Region: "ap-northeast-1", Service: awsfake.Service}},
	} {
		r := bedrockCall(context.Background(), t, tt.p, novaPath, "", converseBody)
		if err := tt.p.Authorize(r, []byte(converseBody)); err != nil {
			t.Fatalf("%s: Authorize error = %v", tt.name, err)
		}
		if err := tt.v.Verify(r, []byte(converseBody)); err != nil {
			t.Errorf("%s: signature: %v", tt.name, err)
		}
		if want := "bedrock-runtime." + tt.v.Region + ".amazonaws.com"; r.URL.Host != want {
			t.Errorf("%s: host %q; want the profile's region's, %q", tt.name, r.URL.Host, want)
		}
	}
	if !team.HoldsCredentials() || bedrock(t, ps).HoldsCredentials() {
		t.Errorf("HoldsCredentials() = %v for aws_profile_name, %v for AWS_PROFILE; want true, false", team.HoldsCredentials(), bedrock(t, ps).HoldsCredentials())
	}
}

// TestBedrockAssumeRole: aws_role_name is assumed through STS (a fake one,
// AWS_ENDPOINT_URL_STS) with the deployment's keys, as aws_session_name;
// the call is signed with the role's credentials, fetched once.
func TestBedrockAssumeRole(t *testing.T) {
	isolateAWS(t)
	sts := awsfake.NewSTS(t, awsfake.Verifier{AccessKeyID: "AKIABASEEXAMPLE00003", SecretAccessKey: "base/secret", Region: awsfake.Region})
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	ps := bedrockProviders(t, BedrockEnv{})
	const role = "arn:aws:iam::123456789012:role/bedrock-invoker"
	p, id, err := ps.Deployment("bedrock/converse/us.amazon.nova-micro-v1:0", Params{AWSRegionName: awsfake.Region,
		AWSAccessKeyID: "AKIABASEEXAMPLE00003", AWSSecretAccessKey: "base/secret", AWSRoleName: role, AWSSessionName: "team-a"})
	if err != nil || p == nil || id != "us.amazon.nova-micro-v1:0" {
		t.Fatalf("Deployment = %v, %q, %v", p, id, err)
	}
	for range 3 {
		r := bedrockCall(context.Background(), t, p, novaPath, "", converseBody)
		if err := p.Authorize(r, []byte(converseBody)); err != nil {
			t.Fatalf("Authorize error = %v", err)
		}
		if err := awsfake.RoleVerifier().Verify(r, []byte(converseBody)); err != nil {
			t.Errorf("signature: %v", err)
		}
	}
	calls := sts.Calls()
	if len(calls) != 1 || calls[0] != (awsfake.STSCall{Action: "AssumeRole", RoleArn: role, RoleSessionName: "team-a"}) {
		t.Errorf("STS calls %+v; want one AssumeRole of %s as team-a", calls, role)
	}
	if !p.HoldsCredentials() {
		t.Error("HoldsCredentials() = false for a role; want true")
	}
}

// TestBedrockWebIdentity: the SDKs' chain takes a web identity (IRSA's
// AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), exchanged at STS for the
// role's credentials.
func TestBedrockWebIdentity(t *testing.T) {
	isolateAWS(t)
	sts := awsfake.NewSTS(t, awsfake.Verifier{})
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte(sts.WebIdentityToken), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/irsa")
	t.Setenv("AWS_ROLE_SESSION_NAME", "pod-1")
	t.Setenv("AWS_REGION", awsfake.Region)
	p := bedrock(t, bedrockProviders(t, BedrockEnv{AWSRegion: awsfake.Region}))
	r := bedrockCall(context.Background(), t, p, novaPath, "", converseBody)
	if err := p.Authorize(r, []byte(converseBody)); err != nil {
		t.Fatalf("Authorize error = %v", err)
	}
	if err := awsfake.RoleVerifier().Verify(r, []byte(converseBody)); err != nil {
		t.Errorf("signature: %v", err)
	}
	if calls := sts.Calls(); len(calls) != 1 || calls[0].Action != "AssumeRoleWithWebIdentity" || calls[0].RoleSessionName != "pod-1" {
		t.Errorf("STS calls %+v; want one AssumeRoleWithWebIdentity as pod-1", calls)
	}
}

// TestBedrockDeploymentWebIdentity: aws_web_identity_token with
// aws_role_name is exchanged at STS (AssumeRoleWithWebIdentity, as
// aws_session_name) for the role's credentials, which sign the call; the
// token given itself, in a file (read at each exchange) or in a variable,
// as LiteLLM's get_secret reads it. Neither the deployment's keys nor the
// environment's are asked for.
func TestBedrockDeploymentWebIdentity(t *testing.T) {
	isolateAWS(t)
	sts := awsfake.NewSTS(t, awsfake.Verifier{})
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(sts.WebIdentityToken), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LLMPROXY_TEST_OIDC", sts.WebIdentityToken)
	t.Setenv("LLMPROXY_TEST_OIDC_PATH", file)
	const role = "arn:aws:iam::123456789012:role/bedrock-oidc"
	ps := bedrockProviders(t, BedrockEnv{})
	for i, token := range []string{sts.WebIdentityToken, "oidc/file/" + file, "oidc/env/LLMPROXY_TEST_OIDC", "oidc/env_path/LLMPROXY_TEST_OIDC_PATH"} {
		session := fmt.Sprintf("team-%d", i)
		p, _, err := ps.Deployment("bedrock/us.amazon.nova-micro-v1:0", Params{AWSRegionName: awsfake.Region,
			AWSRoleName: role, AWSSessionName: session, AWSWebIdentityToken: token})
		if err != nil {
			t.Fatalf("%s: Deployment error = %v", token, err)
		}
		r := bedrockCall(context.Background(), t, p, novaPath, "", converseBody)
		if err := p.Authorize(r, []byte(converseBody)); err != nil {
			t.Fatalf("%s: Authorize error = %v", token, err)
		}
		if err := awsfake.RoleVerifier().Verify(r, []byte(converseBody)); err != nil {
			t.Errorf("%s: signature: %v", token, err)
		}
		calls := sts.Calls()
		if len(calls) != i+1 || calls[i] != (awsfake.STSCall{Action: "AssumeRoleWithWebIdentity", RoleArn: role, RoleSessionName: session}) {
			t.Errorf("%s: STS calls %+v; want an AssumeRoleWithWebIdentity of %s as %s", token, calls, role, session)
		}
		if !p.HoldsCredentials() {
			t.Errorf("%s: HoldsCredentials() = false; want true", token)
		}
	}
	// A token the STS does not take is the call's error, not a call
	// made without credentials.
	p, _, err := ps.Deployment("bedrock/m", Params{AWSRoleName: role, AWSWebIdentityToken: "eyJ.not-the-token"})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Authorize(bedrockCall(context.Background(), t, p, novaPath, "", converseBody), []byte(converseBody))
	if err == nil || strings.Contains(err.Error(), "eyJ.not-the-token") {
		t.Errorf("Authorize error = %v; want STS's refusal, the token unquoted", err)
	}
}

// blockingCredentials answer once released.
type blockingCredentials struct{ release chan struct{} }

func (b blockingCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	<-b.release
	return aws.Credentials{AccessKeyID: awsfake.AccessKeyID, SecretAccessKey: awsfake.SecretAccessKey,
		SessionToken: awsfake.SessionToken, Source: "test"}, nil
}

// TestBedrockCredentialsHonourContext: a caller waits for slow credentials
// only as long as its context allows, and the retrieval still serves the
// next call.
func TestBedrockCredentialsHonourContext(t *testing.T) {
	isolateAWS(t)
	release := make(chan struct{})
	loadAWSConfig = func(context.Context, ...func(*config.LoadOptions) error) (aws.Config, error) {
		return aws.Config{Credentials: aws.NewCredentialsCache(blockingCredentials{release})}, nil
	}
	p := bedrock(t, bedrockProviders(t, BedrockEnv{AWSRegion: awsfake.Region}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := p.Authorize(bedrockCall(ctx, t, p, novaPath, "", converseBody), []byte(converseBody))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "bedrock: getting AWS credentials: ") {
		t.Errorf("Authorize error = %v; want the caller's deadline, with context", err)
	}
	close(release)
	r := bedrockCall(context.Background(), t, p, novaPath, "", converseBody)
	if err := p.Authorize(r, []byte(converseBody)); err != nil {
		t.Fatal(err)
	}
	if err := awsfake.New().Verify(r, []byte(converseBody)); err != nil {
		t.Errorf("signature: %v", err)
	}
}

// TestBedrockDeployment: a config file's bedrock/ entries, LiteLLM's
// aws_* settings applied to a copy of the provider, the model id with
// LiteLLM's route prefix taken off; all are served. An imported model
// behind one of LiteLLM's specs is ErrNotServed; bad settings are errors
// that quote no secret.
func TestBedrockDeployment(t *testing.T) {
	isolateAWS(t)
	ps := bedrockProviders(t, BedrockEnv{AWSRegionName: "us-east-1"})
	env := bedrock(t, ps)
	keys := Params{AWSAccessKeyID: awsfake.AccessKeyID, AWSSecretAccessKey: awsfake.SecretAccessKey, AWSSessionToken: awsfake.SessionToken}
	withRegion := keys
	withRegion.AWSRegionName = "eu-central-1"
	tests := []struct {
		name         string
		model        string
		params       Params
		wantID       string
		wantRegion   string
		wantBase     string
		wantKey      string
		wantHolds    bool
		wantEnv      bool // the environment's provider itself
		wantErr      string
		wantNoSecret bool
		// wantNotServed: the error wraps ErrNotServed (kept, unserved, by
		// the router), not a wrong setting (start-up fails).
		wantNotServed bool
	}{
		{name: "no settings", model: "bedrock/us.amazon.nova-micro-v1:0", wantID: "us.amazon.nova-micro-v1:0", wantRegion: "us-east-1", wantEnv: true},
		{name: "converse/", model: "bedrock/converse/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
			wantID: "us.anthropic.claude-sonnet-4-5-20250929-v1:0", wantRegion: "us-east-1", wantEnv: true},
		{name: "invoke/", model: "bedrock/invoke/anthropic.claude-3-5-haiku-20241022-v1:0",
			wantID: "anthropic.claude-3-5-haiku-20241022-v1:0", wantRegion: "us-east-1", wantEnv: true},
		{name: "bedrock_converse/", model: "bedrock_converse/amazon.nova-pro-v1:0", wantID: "amazon.nova-pro-v1:0", wantRegion: "us-east-1", wantEnv: true},
		{name: "an ARN", model: "bedrock/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
			wantID: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", wantRegion: "us-east-1", wantEnv: true},
		{name: "static keys", model: "bedrock/amazon.nova-lite-v1:0", params: keys, wantID: "amazon.nova-lite-v1:0",
			wantRegion: "us-east-1", wantHolds: true},
		{name: "keys and a region", model: "bedrock/amazon.nova-lite-v1:0", params: withRegion, wantID: "amazon.nova-lite-v1:0",
			wantRegion: "eu-central-1", wantHolds: true},
		{name: "a profile", model: "bedrock/amazon.nova-lite-v1:0", params: Params{AWSProfileName: "team"}, wantID: "amazon.nova-lite-v1:0",
			wantRegion: "us-east-1", wantHolds: true},
		{name: "aws_bedrock_runtime_endpoint", model: "bedrock/m", params: Params{AWSBedrockRuntimeEndpoint: "https://vpce-1.example/"},
			wantID: "m", wantRegion: "us-east-1", wantBase: "https://vpce-1.example"},
		{name: "api_base wins", model: "bedrock/m", params: Params{APIBase: "http://127.0.0.1:9/", AWSBedrockRuntimeEndpoint: "https://vpce-1.example"},
			wantID: "m", wantRegion: "us-east-1", wantBase: "http://127.0.0.1:9"},
		{name: "api_key, a Bedrock API key", model: "bedrock/m", params: Params{APIKey: "bedrock-api-key"},
			wantID: "m", wantRegion: "us-east-1", wantKey: "bedrock-api-key", wantHolds: true},
		{name: "aws_session_name without a role", model: "bedrock/m", params: Params{AWSSessionName: "s"}, wantID: "m", wantRegion: "us-east-1"},

		{name: "a hostile region", model: "bedrock/m", params: Params{AWSRegionName: "us-east-1.evil.com"}, wantErr: "aws_region_name"},
		{name: "a key without its secret", model: "bedrock/m", params: Params{AWSAccessKeyID: awsfake.AccessKeyID}, wantErr: "go together"},
		{name: "a secret without its key", model: "bedrock/m", params: Params{AWSSecretAccessKey: awsfake.SecretAccessKey}, wantErr: "go together", wantNoSecret: true},
		{name: "a session token alone", model: "bedrock/m", params: Params{AWSSessionToken: awsfake.SessionToken}, wantErr: "aws_session_token", wantNoSecret: true},
		{name: "an endpoint that is not a URL", model: "bedrock/m", params: Params{AWSBedrockRuntimeEndpoint: "vpce-1.example"}, wantErr: "aws_bedrock_runtime_endpoint"},
		{name: "no model id", model: "bedrock/converse/", wantErr: "no Bedrock model id"},
		{name: "a web identity token without a role", model: "bedrock/m", params: Params{AWSWebIdentityToken: "eyJ.secret-oidc"},
			wantErr: "aws_web_identity_token goes with aws_role_name"},
		{name: "an OIDC provider not served", model: "bedrock/m", params: Params{AWSRoleName: "arn:aws:iam::1:role/r", AWSWebIdentityToken: "oidc/google/https://example.com"},
			wantErr: `OIDC provider "google" is not served`},
		{name: "an imported model's spec", model: "bedrock/llama/arn:aws:bedrock:us-east-1:123456789012:imported-model/abc", wantErr: `spec "llama"`, wantNotServed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, id, err := ps.Deployment(tt.model, tt.params)
			if tt.wantErr != "" {
				if err == nil || errors.Is(err, ErrNotServed) != tt.wantNotServed || p != nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Deployment = %v, %v; want no provider and an error naming %s (not served: %v)", p, err, tt.wantErr, tt.wantNotServed)
				}
				if strings.Contains(err.Error(), "eyJ.secret-oidc") {
					t.Errorf("Deployment error = %v; it quotes the web identity token", err)
				}
				if tt.wantNoSecret && (strings.Contains(err.Error(), awsfake.SecretAccessKey) || strings.Contains(err.Error(), awsfake.SessionToken)) {
					t.Errorf("Deployment error = %v; it quotes a secret", err)
				}
				return
			}
			if err != nil {
				t.Errorf("Deployment error = %v; want a served deployment", err)
			}
			if p == nil || p.Name != BedrockProvider || p.Dialect() != Bedrock || p.Host != "aws" || id != tt.wantID {
				t.Fatalf("Deployment = %+v, %q; want Bedrock's provider, %q", p, id, tt.wantID)
			}
			if (p == env) != tt.wantEnv {
				t.Errorf("Deployment shares the environment's provider: %v; want %v", p == env, tt.wantEnv)
			}
			if p.bedrockRegion() != tt.wantRegion || p.BaseURL != tt.wantBase || p.APIKey != tt.wantKey || p.HoldsCredentials() != tt.wantHolds {
				t.Errorf("Deployment region %q, base %q, key %q, holds %v; want %q, %q, %q, %v",
					p.bedrockRegion(), p.BaseURL, p.APIKey, p.HoldsCredentials(), tt.wantRegion, tt.wantBase, tt.wantKey, tt.wantHolds)
			}
			if env.AWSRegion != "us-east-1" || env.BaseURL != "" || env.aws.explicit() {
				t.Errorf("the environment's provider changed: %+v", env)
			}
		})
	}

	// Deployments that give the same keys share them; signed with them.
	a, _, _ := ps.Deployment("bedrock/a", keys)
	b, _, _ := ps.Deployment("bedrock/converse/b", keys)
	if a == nil || b == nil || a.aws != b.aws || a.aws == env.aws {
		t.Fatalf("deployments with the same keys: %v, %v; want their credentials shared, not the environment's", a, b)
	}
	r := bedrockCall(context.Background(), t, a, novaPath, "", converseBody)
	if err := a.Authorize(r, []byte(converseBody)); err != nil {
		t.Fatal(err)
	}
	if err := awsfake.New().Verify(r, []byte(converseBody)); err != nil {
		t.Errorf("signature with the deployment's keys: %v", err)
	}
}

// TestBedrockRoute: Bedrock's prefixes route to the Bedrock provider (the
// one RouteNamed and Home reach: it needs no base URL) with the Bedrock
// model id, an ARN's too; an InvokeModel model is a 400 that names what
// works.
func TestBedrockRoute(t *testing.T) {
	isolateAWS(t)
	ps := bedrockProviders(t, BedrockEnv{})
	for model, want := range map[string]string{
		"bedrock/anthropic.claude-v2":                                                  "anthropic.claude-v2",
		"bedrock/converse/us.amazon.nova-micro-v1:0":                                   "us.amazon.nova-micro-v1:0",
		"bedrock_converse/amazon.nova-pro-v1:0":                                        "amazon.nova-pro-v1:0",
		"bedrock/converse/arn:aws:bedrock:us-east-1:1:application-inference-profile/x": "arn:aws:bedrock:us-east-1:1:application-inference-profile/x",
	} {
		p, id, err := ps.Route(model)
		if err != nil || p != ps.Home(Bedrock) || id != want {
			t.Errorf("Route(%q) = %+v, %q, %v; want the Bedrock provider, %q", model, p, id, err, want)
		}
	}
	_, _, err := ps.Route("bedrock/invoke/anthropic.claude-3-5-haiku-20241022-v1:0")
	var e *openai.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Param != "model" ||
		!strings.Contains(e.Message, "InvokeModel") || !strings.Contains(e.Message, "/bedrock/model/{modelId}/invoke") ||
		!strings.Contains(e.Message, "bedrock/converse/anthropic.claude-3-5-haiku-20241022-v1:0") {
		t.Errorf("Route(bedrock/invoke/…) error = %v; want a 400 naming the native route and bedrock/converse/", err)
	}
	p, model, err := ps.RouteNamed(BedrockProvider, "bedrock/us.amazon.nova-micro-v1:0")
	if err != nil || p.Name != BedrockProvider || model != "us.amazon.nova-micro-v1:0" || p.System != "" || p.Host != "aws" {
		t.Errorf("RouteNamed = %+v, %q, %v", p, model, err)
	}
	if h := ps.Home(Bedrock); h != p {
		t.Errorf("Home(Bedrock) = %+v; want the Bedrock provider", h)
	}
	if strings.Contains(ps.served(), "bedrock") {
		t.Errorf("served() = %q; want only OpenAI's API's prefixes", ps.served())
	}
}

func TestSplitBedrockModel(t *testing.T) {
	for model, want := range map[string][2]string{
		"us.amazon.nova-micro-v1:0":                          {"", "us.amazon.nova-micro-v1:0"},
		"converse/us.amazon.nova-micro-v1:0":                 {BedrockConverse, "us.amazon.nova-micro-v1:0"},
		"invoke/anthropic.claude-v2":                         {BedrockInvoke, "anthropic.claude-v2"},
		"llama/arn:aws:bedrock:us-east-1:1:imported-model/x": {"", "llama/arn:aws:bedrock:us-east-1:1:imported-model/x"},
		"converse":  {"", "converse"},
		"converse/": {BedrockConverse, ""},
	} {
		if route, id := SplitBedrockModel(model); route != want[0] || id != want[1] {
			t.Errorf("SplitBedrockModel(%q) = %q, %q; want %q, %q", model, route, id, want[0], want[1])
		}
	}
}

func TestBedrockModelPath(t *testing.T) {
	for _, tt := range []struct{ model, op, want string }{
		{"us.amazon.nova-micro-v1:0", "converse", novaPath},
		{"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", "converse-stream", arnPath},
		{"a b?#%", "invoke", "/model/a%20b%3F%23%25/invoke"},
	} {
		if got := BedrockModelPath(tt.model, tt.op); got != tt.want {
			t.Errorf("BedrockModelPath(%q, %q) = %q; want %q", tt.model, tt.op, got, tt.want)
		}
	}
}

// BenchmarkBedrockSign measures what signing costs a Bedrock call: SigV4
// over a Converse request with a 4 KiB body (its SHA-256 included), with
// credentials from the environment, already loaded. go test ./upstream
// -run '^$' -bench BedrockSign -benchmem.
func BenchmarkBedrockSign(b *testing.B) {
	for _, v := range []string{"AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		b.Setenv(v, "")
	}
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_ACCESS_KEY_ID", awsfake.AccessKeyID)
	b.Setenv("AWS_SECRET_ACCESS_KEY", awsfake.SecretAccessKey)
	b.Setenv("AWS_SESSION_TOKEN", awsfake.SessionToken)
	ps, err := NewProviders(Env{BedrockEnv: BedrockEnv{AWSRegion: awsfake.Region, AWSEndpointURLBedrockRuntime: "http://bedrock.invalid"}})
	if err != nil {
		b.Fatal(err)
	}
	p := ps.Home(Bedrock)
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"` + strings.Repeat("x", 4096) + `"}]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, p.URL(novaPath, "", ""), bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Authorize(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
