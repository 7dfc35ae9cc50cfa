package upstream

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	// in region.
	role, sessionName, region string
}

// explicit reports whether the source names credentials of its own.
func (s awsSource) explicit() bool {
	return s.accessKeyID != "" || s.profile != "" || s.role != ""
}

// awsSourceOf is a deployment's credentials. Keys go in pairs; a session
// token goes with keys; aws_session_name without aws_role_name is
// ignored, as LiteLLM does. Errors do not quote the values.
func awsSourceOf(params Params, region string) (awsSource, error) {
	s := awsSource{accessKeyID: params.AWSAccessKeyID, secretAccessKey: params.AWSSecretAccessKey,
		sessionToken: params.AWSSessionToken, profile: params.AWSProfileName, role: params.AWSRoleName}
	switch {
	case (s.accessKeyID == "") != (s.secretAccessKey == ""):
		return awsSource{}, errors.New("aws_access_key_id and aws_secret_access_key go together")
	case s.sessionToken != "" && s.accessKeyID == "":
		return awsSource{}, errors.New("aws_session_token goes with aws_access_key_id and aws_secret_access_key")
	}
	if s.role != "" {
		s.sessionName, s.region = params.AWSSessionName, region
	}
	return s, nil
}

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
// get_credentials): a role, assumed with the keys, the profile or the
// default chain; else the profile; else the keys; else the default chain.
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
// when it sets none), the Bedrock model id (SplitBedrockModel's), and an
// error wrapping ErrNotServed, for such a deployment serves Bedrock's own
// routes, not yet OpenAI's API. Settings that are wrong are another error,
// with no provider.
func (ps *Providers) bedrockDeployment(model, prefix, rest string, params Params) (*Provider, string, error) {
	_, id := SplitBedrockModel(rest)
	tmpl, ok := ps.templates[BedrockProvider]
	switch {
	case id == "":
		return nil, "", fmt.Errorf("model %q: no Bedrock model id", model)
	case !ok:
		return nil, "", fmt.Errorf("model %q: no Bedrock provider", model)
	}
	notServed := fmt.Errorf("model %q: LiteLLM's provider %q is served on Bedrock Runtime's own routes only "+
		"(/model/{modelId}/converse, …); its translation from OpenAI's API is %w", model, prefix, ErrNotServed)
	if params.empty() {
		if p := ps.named[BedrockProvider]; p != nil {
			return p, id, notServed
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
	return &p, id, notServed
}
