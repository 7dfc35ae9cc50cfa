package upstream

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// loadAWSConfig is the AWS SDKs' configuration: the environment, the
// shared config and credentials files, and the credential chain they
// name. It reads files and makes no call: the chain's sources call out
// when credentials are retrieved. Tests count or replace it.
var loadAWSConfig = config.LoadDefaultConfig

// bedrockSigner signs Bedrock's calls. It caches its signing keys (per
// day, region and service) and is safe for concurrent use.
var bedrockSigner = v4.NewSigner()

// awsSource is where a Bedrock provider's credentials come from, as a
// config file's deployment gives them (LiteLLM's aws_* litellm_params);
// the zero value is the AWS SDKs' default chain.
type awsSource struct {
	accessKeyID, secretAccessKey, sessionToken string
	profile                                    string
	// role is assumed with the credentials above (keys, else the
	// profile's, else the default chain's), as sessionName, through STS
	// in region; with webIdentity, it is assumed with that OIDC token
	// instead (AssumeRoleWithWebIdentity, which takes no credentials).
	role, sessionName, region string
	webIdentity               webIdentityToken
}

// explicit reports whether the source names credentials of its own.
func (s awsSource) explicit() bool {
	return s.accessKeyID != "" || s.profile != "" || s.role != ""
}

// awsSourceOf is a deployment's credentials. Keys go in pairs; a session
// token goes with keys; a web identity token goes with a role;
// aws_session_name without aws_role_name is ignored, as LiteLLM does.
// Errors do not quote the secrets.
func awsSourceOf(params Params, region string) (awsSource, error) {
	s := awsSource{accessKeyID: params.AWSAccessKeyID, secretAccessKey: params.AWSSecretAccessKey,
		sessionToken: params.AWSSessionToken, profile: params.AWSProfileName, role: params.AWSRoleName}
	switch {
	case (s.accessKeyID == "") != (s.secretAccessKey == ""):
		return awsSource{}, errors.New("aws_access_key_id and aws_secret_access_key go together")
	case s.sessionToken != "" && s.accessKeyID == "":
		return awsSource{}, errors.New("aws_session_token goes with aws_access_key_id and aws_secret_access_key")
	case params.AWSWebIdentityToken != "" && s.role == "":
		return awsSource{}, errors.New("aws_web_identity_token goes with aws_role_name, the role it is exchanged for")
	}
	if params.AWSWebIdentityToken != "" {
		tok, err := parseWebIdentityToken(params.AWSWebIdentityToken)
		if err != nil {
			return awsSource{}, fmt.Errorf("aws_web_identity_token: %w", err)
		}
		s.webIdentity = tok
	}
	if s.role != "" {
		s.sessionName, s.region = params.AWSSessionName, region
	}
	return s, nil
}

// webIdentityToken is where a deployment's OIDC token is read, as
// LiteLLM's get_secret reads aws_web_identity_token: the token itself
// (os.environ/ already resolved), or "oidc/file/{path}", "oidc/env/{NAME}"
// or "oidc/env_path/{NAME}" (a variable holding the token's path). A file
// is read at every exchange: a projected token (Kubernetes', IRSA's)
// rotates.
type webIdentityToken struct {
	token, file, env, envPath string
}

// parseWebIdentityToken reads aws_web_identity_token. LiteLLM's other OIDC
// providers (oidc/google/, oidc/github/, oidc/azure/, oidc/circleci…)
// fetch a token from the platform; they are an error saying what is
// served. The error never quotes a token.
func parseWebIdentityToken(v string) (webIdentityToken, error) {
	rest, oidc := strings.CutPrefix(v, "oidc/")
	if !oidc {
		return webIdentityToken{token: v}, nil
	}
	provider, arg, _ := strings.Cut(rest, "/")
	switch {
	case arg == "":
	case provider == "file":
		return webIdentityToken{file: arg}, nil
	case provider == "env":
		return webIdentityToken{env: arg}, nil
	case provider == "env_path":
		return webIdentityToken{envPath: arg}, nil
	}
	return webIdentityToken{}, fmt.Errorf("LiteLLM's OIDC provider %q is not served: give the token itself "+
		"(os.environ/NAME), oidc/file/{path}, oidc/env/{NAME} or oidc/env_path/{NAME}", provider)
}

// GetIdentityToken reads the token (stscreds.IdentityTokenRetriever).
func (t webIdentityToken) GetIdentityToken() ([]byte, error) {
	switch {
	case t.file != "":
		return stscreds.IdentityTokenFile(t.file).GetIdentityToken()
	case t.env != "":
		v, ok := os.LookupEnv(t.env)
		if !ok || v == "" {
			return nil, fmt.Errorf("web identity token: %s is not set", t.env)
		}
		return []byte(v), nil
	case t.envPath != "":
		path, ok := os.LookupEnv(t.envPath)
		if !ok || path == "" {
			return nil, fmt.Errorf("web identity token: %s is not set", t.envPath)
		}
		return stscreds.IdentityTokenFile(path).GetIdentityToken()
	}
	return []byte(t.token), nil
}

func (t webIdentityToken) set() bool { return t != webIdentityToken{} }

// awsAuth is one source of AWS credentials, shared by every copy of the
// providers that use it: read at the first call that needs them, then
// retrieved, cached and refreshed by the SDK (aws.CredentialsCache, which
// makes one retrieval for all the callers that need one). Its methods are
// safe for concurrent use.
type awsAuth struct {
	src awsSource

	once    sync.Once
	cfg     aws.Config
	loadErr error

	// answered is set once credentials were retrieved: a failure after
	// that is an error, not a sign that the proxy holds none.
	answered atomic.Bool
	// none, once set, is why the default chain has no credentials.
	none atomic.Pointer[error]
}

func newAWSAuth(src awsSource) *awsAuth { return &awsAuth{src: src} }

// explicit reports whether the credentials were given, not looked for.
func (a *awsAuth) explicit() bool { return a != nil && a.src.explicit() }

// config is the source's SDK configuration, made at the first call.
func (a *awsAuth) config() (aws.Config, error) {
	a.once.Do(func() { a.cfg, a.loadErr = a.load() })
	return a.cfg, a.loadErr
}

// load makes the configuration, in LiteLLM's order (base_aws_llm.py,
// get_credentials): a role, assumed with a web identity token, else with
// the keys, the profile or the default chain; else the profile; else the
// keys; else the default chain.
func (a *awsAuth) load() (aws.Config, error) {
	s := a.src
	keys := credentials.NewStaticCredentialsProvider(s.accessKeyID, s.secretAccessKey, s.sessionToken)
	if s.accessKeyID != "" && s.profile == "" && s.role == "" {
		// Keys alone: nothing to read (and no AWS_PROFILE of the
		// environment's to stumble on).
		return aws.Config{Credentials: aws.NewCredentialsCache(keys)}, nil
	}
	var opts []func(*config.LoadOptions) error
	if s.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(s.profile))
	}
	if s.accessKeyID != "" && s.role != "" {
		opts = append(opts, config.WithCredentialsProvider(keys)) // the role's base; a profile wins otherwise
	}
	if s.region != "" {
		opts = append(opts, config.WithRegion(s.region))
	}
	// No source calls out at load: the context only bounds what would.
	cfg, err := loadAWSConfig(context.Background(), opts...)
	if err != nil || s.role == "" {
		return cfg, err
	}
	stsCfg := cfg.Copy()
	stsCfg.Region = cmp.Or(stsCfg.Region, DefaultBedrockRegion)
	session := cmp.Or(s.sessionName, fmt.Sprintf("litellm-session-%d", time.Now().Unix())) // LiteLLM's default
	if s.webIdentity.set() {
		// LiteLLM's first flow: the token for the role, no other
		// credentials asked for.
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(sts.NewFromConfig(stsCfg), s.role, s.webIdentity,
			func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = session }))
		return cfg, nil
	}
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), s.role,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = session }))
	return cfg, nil
}

// credentials are a call's AWS credentials; held is false when the proxy
// has none: none were given, and the default chain found none (missing
// says why). It blocks while they are first retrieved or refreshed, until
// ctx is done. Credentials given or found that fail are an error.
func (a *awsAuth) credentials(ctx context.Context) (creds aws.Credentials, held bool, err error) {
	if a == nil || a.none.Load() != nil {
		return aws.Credentials{}, false, nil
	}
	cfg, err := a.config()
	switch {
	case err != nil && a.explicit():
		return aws.Credentials{}, true, err
	case err != nil:
		a.setNone(err) // AWS_PROFILE names no profile, a file does not parse
		return aws.Credentials{}, false, nil
	case cfg.Credentials == nil:
		a.setNone(errors.New("no credential source"))
		return aws.Credentials{}, false, nil
	}
	creds, err = cfg.Credentials.Retrieve(ctx)
	switch {
	case err == nil:
		a.answered.Store(true)
		return creds, true, nil
	case ctx.Err() == nil && !a.explicit() && !a.answered.Load() &&
		aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)):
		// The chain ended at the instance role, and no instance metadata
		// service answers (off EC2, or AWS_EC2_METADATA_DISABLED): the
		// proxy holds no credentials. Looked for once, as Vertex AI's
		// Application Default Credentials.
		a.setNone(err)
		return aws.Credentials{}, false, nil
	}
	return aws.Credentials{}, true, err
}

func (a *awsAuth) setNone(err error) { a.none.CompareAndSwap(nil, &err) }

// missing is why the default chain has no credentials, once looked for.
func (a *awsAuth) missing() error {
	if a == nil {
		return nil
	}
	if err := a.none.Load(); err != nil {
		return *err
	}
	return nil
}

// sharedRegion is the region of the source's configuration (the shared
// config profile's, for a region the environment does not set), or ""
// when it has none or one that names no host. The first call reads the
// configuration.
func (a *awsAuth) sharedRegion() string {
	if a == nil {
		return ""
	}
	cfg, err := a.config()
	if err != nil || !validAWSRegion(cfg.Region) {
		return ""
	}
	return cfg.Region
}

// signRequest signs r with SigV4 for Bedrock in region: the hex SHA-256
// of the body in X-Amz-Content-Sha256 and in the signature, the URL's
// host, every header r has then. A nil body with r's body set is read
// (and r's body replaced by the bytes).
func signRequest(r *http.Request, body []byte, creds aws.Credentials, region string) error {
	if body == nil && r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return fmt.Errorf("reading the body: %w", err)
		}
		body = b
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	hash := sha256Hex(body)
	r.Header.Set("X-Amz-Content-Sha256", hash)
	r.Host = "" // the request goes to, and its signature names, the URL's host
	return bedrockSigner.SignHTTP(r.Context(), creds, r, hash, bedrockService, region, time.Now())
}

// MissingAWSCredentials is why a Bedrock provider holds no AWS
// credentials of its own, once it has looked for them (at its first call
// that needs them) and found none: a client's own Bedrock API key then
// passes, and a call without one is refused (ErrNoAWSCredentials). It is
// nil before that, when credentials were given or found, and for other
// families. The caller may log it once.
func (p *Provider) MissingAWSCredentials() error { return p.aws.missing() }

// bedrockDeployment is Deployment for a model with a Bedrock prefix: the
// Bedrock provider with the deployment's settings (the environment's own
// when it sets none) and the Bedrock model id (SplitBedrockModel's). The
// router serves it as any deployment; each API reaches it as far as it has
// a translation to Bedrock (prepare, in package handlers, says which do
// not). An imported model behind one of LiteLLM's specs
// ("bedrock/llama/arn:…", "bedrock/deepseek_r1/…") is an error wrapping
// ErrNotServed: its InvokeModel body is the imported family's own, which
// nothing here translates to, and its id is not the path's. Settings that
// are wrong are another error, with no provider.
func (ps *Providers) bedrockDeployment(model, prefix, rest string, params Params) (*Provider, string, error) {
	_, id := SplitBedrockModel(rest)
	tmpl, ok := ps.templates[BedrockProvider]
	switch {
	case id == "":
		return nil, "", fmt.Errorf("model %q: no Bedrock model id", model)
	case !ok:
		return nil, "", fmt.Errorf("model %q: no Bedrock provider", model)
	}
	if spec, _, isSpec := strings.Cut(id, "/"); isSpec && !strings.HasPrefix(id, "arn:") {
		return nil, "", fmt.Errorf("model %q: LiteLLM's imported-model spec %q (InvokeModel in that family's own body) is %w; "+
			"name the model by its ARN (%s/arn:…) on Bedrock Runtime's own routes", model, spec, ErrNotServed, prefix)
	}
	if params.empty() {
		if p := ps.named[BedrockProvider]; p != nil {
			return p, id, nil
		}
	}
	p := tmpl
	base, variable := params.APIBase, "api_base"
	if base == "" {
		base, variable = params.AWSBedrockRuntimeEndpoint, "aws_bedrock_runtime_endpoint"
	}
	if base != "" {
		if !absoluteHTTP(base) {
			return nil, "", fmt.Errorf("model %q: %s %q: want an absolute http(s) URL", model, variable, base)
		}
		p.BaseURL = p.family.base(base)
	}
	if params.APIKey != "" {
		p.APIKey = params.APIKey // a Bedrock API key, as LiteLLM's api_key for Bedrock
	}
	if r := params.AWSRegionName; r != "" {
		if !validAWSRegion(r) {
			return nil, "", fmt.Errorf("model %q: aws_region_name %q: want an AWS region (lower-case letters, digits and '-', as us-east-1)", model, r)
		}
		p.AWSRegion = r
	}
	src, err := awsSourceOf(params, p.AWSRegion)
	if err != nil {
		return nil, "", fmt.Errorf("model %q: %w", model, err)
	}
	if src.explicit() {
		ps.awsMu.Lock()
		if ps.awsAuth == nil {
			ps.awsAuth = map[awsSource]*awsAuth{}
		}
		auth := ps.awsAuth[src]
		if auth == nil {
			auth = newAWSAuth(src)
			ps.awsAuth[src] = auth
		}
		ps.awsMu.Unlock()
		p.aws = auth
	}
	return &p, id, nil
}
