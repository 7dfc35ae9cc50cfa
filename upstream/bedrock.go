package upstream

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/phoenixproxy/llmproxy/openai"
)

// BedrockEnv configures Amazon Bedrock Runtime, in LiteLLM's and the AWS
// SDKs' variable names. Calls go to https://bedrock-runtime.{region}.
// amazonaws.com, the region being AWS_REGION_NAME (LiteLLM's), else
// AWS_REGION, else AWS_DEFAULT_REGION, else the shared config profile's,
// else DefaultBedrockRegion: LiteLLM's order (base_aws_llm.py,
// _get_aws_region_name). AWS_BEDROCK_RUNTIME_ENDPOINT (LiteLLM's) or
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME (the SDKs') moves every call to another
// URL: a VPC endpoint, a test server. AWS_BEARER_TOKEN_BEDROCK is a
// Bedrock API key, sent as a bearer token in place of a signature. Without
// one, the proxy signs each call with AWS Signature Version 4, with the
// credentials the AWS SDKs find (environment, shared config and
// AWS_PROFILE, web identity, container and instance roles), looked for at
// the first call (bedrock_credentials.go).
type BedrockEnv struct {
	AWSRegionName                string `envconfig:"AWS_REGION_NAME"`
	AWSRegion                    string `envconfig:"AWS_REGION"`
	AWSDefaultRegion             string `envconfig:"AWS_DEFAULT_REGION"`
	AWSBedrockRuntimeEndpoint    string `envconfig:"AWS_BEDROCK_RUNTIME_ENDPOINT"`
	AWSEndpointURLBedrockRuntime string `envconfig:"AWS_ENDPOINT_URL_BEDROCK_RUNTIME"`
	AWSBearerTokenBedrock        string `envconfig:"AWS_BEARER_TOKEN_BEDROCK"`
}

// BedrockProvider is the Bedrock provider's name, as RouteNamed and
// Provider.Name know it, and LiteLLM's prefix for its models
// ("bedrock/us.amazon.nova-micro-v1:0").
const BedrockProvider = "bedrock"

// DefaultBedrockRegion is the region when none is set, as LiteLLM's.
const DefaultBedrockRegion = "us-west-2"

// bedrockService is Bedrock Runtime's name in its signatures' scope.
const bedrockService = "bedrock"

// ErrNoAWSCredentials is why a Bedrock call was not sent: the proxy holds
// no AWS credentials (none given, none found) and the client sent no
// Bedrock API key. Authorize's error wraps it.
var ErrNoAWSCredentials = errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY " +
	"(or AWS_PROFILE, a web identity, a container or instance role) or AWS_BEARER_TOKEN_BEDROCK, " +
	"or send a Bedrock API key (Authorization: Bearer)")

func (e BedrockEnv) entries() []entry {
	region, variable := e.AWSRegionName, "AWS_REGION_NAME"
	switch {
	case region != "":
	case e.AWSRegion != "":
		region, variable = e.AWSRegion, "AWS_REGION"
	default:
		region, variable = e.AWSDefaultRegion, "AWS_DEFAULT_REGION"
	}
	var err error
	if region != "" && !validAWSRegion(region) {
		err = fmt.Errorf("%s=%q: want an AWS region (lower-case letters, digits and '-', as us-east-1)", variable, region)
	}
	endpoint, env := e.AWSBedrockRuntimeEndpoint, "AWS_BEDROCK_RUNTIME_ENDPOINT"
	if endpoint == "" && e.AWSEndpointURLBedrockRuntime != "" {
		endpoint, env = e.AWSEndpointURLBedrockRuntime, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"
	}
	// OpenInference's Bedrock instrumentor records llm.system only for
	// Claude's InvokeModel bodies: the caller sets it, not the provider.
	return []entry{{p: Provider{Name: BedrockProvider, Host: "aws", BaseURL: endpoint, APIKey: e.AWSBearerTokenBedrock,
		AWSRegion: region, family: bedrockAPI{}, aws: newAWSAuth(awsSource{})},
		env: env, home: true, namedOnly: true, baseOptional: true, err: err}}
}

// bedrockAPI is Bedrock Runtime: Converse and InvokeModel, their model in
// the path (/model/{modelId}/converse), the host the region's, each call
// signed with SigV4 or carrying a Bedrock API key.
type bedrockAPI struct{}

func (bedrockAPI) dialect() Dialect { return Bedrock }

// url is the base URL when one is set, else the region's host, and the
// path as given: a model id escaped in it (us.amazon.nova-micro-v1%3A0,
// an ARN's %3A and %2F) stays escaped, byte for byte.
func (bedrockAPI) url(p *Provider, path, _, rawQuery string) string {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // never userinfo or a port after the host
	}
	base := p.BaseURL
	if base == "" {
		base = bedrockHost(p.bedrockRegion())
	}
	return joinURL(base, path, rawQuery)
}

// authorize readies a Bedrock call's credentials. The client's own never
// go as they came: a SigV4 signature names the host it was made for (the
// proxy). The proxy's Bedrock API key, when it has one, goes as a bearer
// token; else the client's Bedrock API key passes when the proxy holds no
// AWS credentials; else the request is signed with the proxy's (SigV4,
// over the request as it is: call it last; the signer puts the query in
// its canonical order). It may block while the credentials are first
// looked for, retrieved or refreshed, until r's context is done.
//
// The signature covers the body's SHA-256: Bedrock Runtime takes no
// UNSIGNED-PAYLOAD (only S3's signatures do; the AWS SDKs hash every
// Bedrock body). When body is nil but r has one, it is read here and r's
// body replaced by the bytes read: the caller should pass it.
func (bedrockAPI) authorize(p *Provider, r *http.Request, body []byte) error {
	client := bearerToken(r.Header.Get("Authorization"))
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		r.Header.Del(h)
	}
	if p.APIKey != "" {
		r.Header.Set("Authorization", "Bearer "+p.APIKey)
		return nil
	}
	creds, held, err := p.aws.credentials(r.Context())
	switch {
	case err != nil:
		return fmt.Errorf("%s: getting AWS credentials: %w", BedrockProvider, err)
	case !held && client != "":
		r.Header.Set("Authorization", "Bearer "+client)
		return nil
	case !held:
		return fmt.Errorf("%s: %w", BedrockProvider, ErrNoAWSCredentials)
	}
	if err := signRequest(r, body, creds, p.bedrockRegion()); err != nil {
		return fmt.Errorf("%s: signing the request: %w", BedrockProvider, err)
	}
	return nil
}

func (bedrockAPI) base(server string) string { return strings.TrimSuffix(server, "/") }

// bearerToken is the token of an Authorization header of the Bearer
// scheme, or "".
func bearerToken(auth string) string {
	const scheme = "bearer "
	if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
		return strings.TrimSpace(auth[len(scheme):])
	}
	return ""
}

// bedrockRegion is the region of p's calls: its own, else the shared
// config profile's (read at the first call that needs it), else
// DefaultBedrockRegion.
func (p *Provider) bedrockRegion() string {
	if p.AWSRegion != "" {
		return p.AWSRegion
	}
	if r := p.aws.sharedRegion(); r != "" {
		return r
	}
	return DefaultBedrockRegion
}

// awsPartitions are the DNS suffixes of AWS's partitions other than the
// commercial one (amazonaws.com), by their regions' prefix, as LiteLLM's
// aws_partition.py.
var awsPartitions = []struct{ prefix, suffix string }{
	{"cn-", "amazonaws.com.cn"},
	{"us-isob-", "sc2s.sgov.gov"},
	{"us-isof-", "csp.hci.ic.gov"},
	{"us-iso-", "c2s.ic.gov"},
	{"eu-isoe-", "cloud.adc-e.uk"},
}

// bedrockHost is Bedrock Runtime's URL in a region:
// https://bedrock-runtime.{region}.{the partition's DNS suffix}.
func bedrockHost(region string) string {
	suffix := "amazonaws.com"
	for _, p := range awsPartitions {
		if strings.HasPrefix(region, p.prefix) {
			suffix = p.suffix
			break
		}
	}
	return "https://bedrock-runtime." + region + "." + suffix
}

// validAWSRegion reports whether a region can name a host: one DNS label
// of lower-case letters, digits and '-' (LiteLLM's check), starting with
// a letter.
func validAWSRegion(r string) bool { return validLocation(r) }

// The route prefixes LiteLLM reads after "bedrock/": the API a
// deployment's calls from OpenAI's API go to.
const (
	BedrockConverse = "converse" // "bedrock/converse/…": Converse
	BedrockInvoke   = "invoke"   // "bedrock/invoke/…": InvokeModel, in the model family's own body
)

// SplitBedrockModel splits a LiteLLM Bedrock model, its "bedrock/" taken
// off, into its route prefix (BedrockConverse, BedrockInvoke, or "" when
// it has none: LiteLLM then picks the API by the model's family) and the
// Bedrock model id: "converse/us.amazon.nova-micro-v1:0" is Converse's
// "us.amazon.nova-micro-v1:0" (a "bedrock_converse/" model is Converse's
// whatever follows). LiteLLM's other specs of imported models
// ("llama/arn:…", "deepseek_r1/…") stay in the id.
func SplitBedrockModel(model string) (route, id string) {
	for _, r := range []string{BedrockConverse, BedrockInvoke} {
		if rest, ok := strings.CutPrefix(model, r+"/"); ok {
			return r, rest
		}
	}
	return "", model
}

// BedrockModelPath is the upstream path of a Bedrock model's operation
// ("converse", "converse-stream", "invoke", "invoke-with-response-stream"):
// /model/{modelId}/{operation}, the model id escaped as the AWS SDKs
// escape it (every byte but letters, digits and "-._~": an ARN's ':' and
// '/' too).
func BedrockModelPath(model, operation string) string {
	return "/model/" + escapeLabel(model) + "/" + operation
}

// escapeLabel percent-encodes every byte of s but the unreserved ones
// (RFC 3986), as the SDKs encode a path label.
func escapeLabel(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	return b.String()
}

// bedrockPrefix reports whether a LiteLLM prefix is Bedrock's:
// "bedrock", or "bedrock_converse", read as "bedrock/converse/".
func bedrockPrefix(prefix string) bool {
	return prefix == BedrockProvider || prefix == "bedrock_converse"
}

// routeBedrock is Route's answer to a model with a Bedrock prefix: the
// Bedrock provider (configured by default: it needs no base URL) and the
// Bedrock model id, the route prefix taken off (SplitBedrockModel; a
// "bedrock_converse/" model's id is whatever follows), or the 400 of
// bedrockRouteError.
func (ps *Providers) routeBedrock(model, prefix, rest string) (*Provider, string, error) {
	route, id := SplitBedrockModel(rest)
	if prefix != BedrockProvider {
		route, id = BedrockConverse, rest
	}
	if err := bedrockRouteError(model, route, id); err != nil {
		return nil, "", err
	}
	p := ps.named[BedrockProvider]
	if p == nil { // never so: Bedrock needs no base URL
		return nil, "", &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q names LiteLLM's provider %q, which this proxy is not configured for.", model, prefix)}
	}
	return p, id, nil
}

// bedrockRouteError is Route's answer to a Bedrock model it cannot route,
// nil for any other: a model with no id, and an InvokeModel one
// ("bedrock/invoke/…": LiteLLM would send it in the model family's own
// body, which this proxy does not translate to); Converse's are served on
// OpenAI's API.
func bedrockRouteError(model, route, id string) error {
	switch {
	case id == "":
		return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q names no Bedrock model id: use bedrock/<model id>, as bedrock/us.amazon.nova-micro-v1:0.", model)}
	case route == BedrockInvoke:
		return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "model",
			Message: fmt.Sprintf("Model %q asks for Bedrock's InvokeModel API, which this proxy does not translate OpenAI's API to: "+
				"use bedrock/converse/%s (or bedrock/%s), which goes to Converse, or call InvokeModel itself on its native route, "+
				"POST /bedrock/model/{modelId}/invoke (and /invoke-with-response-stream).", model, id, id)}
	}
	return nil
}

// sha256Hex is the hex SHA-256 of b, SigV4's payload hash.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
