package integration

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
)

// bedrockCall: a Bedrock Runtime operation's path.
func bedrockCall(path string) bool { return strings.HasPrefix(path, "/model/") }

// withAWSCredentials gives the proxy awsfake's test credentials the way
// the AWS SDKs find them (the environment), and no other source to probe.
func withAWSCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", awsfake.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awsfake.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", awsfake.SessionToken)
	t.Setenv("AWS_REGION", awsfake.Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// TestBedrockRecordedCalls: every recorded Bedrock Runtime call (Converse,
// ConverseStream, InvokeModel, InvokeModelWithResponseStream; Nova, Claude,
// DeepSeek, Mistral; errors) sent by a client that signs nothing (Claude
// Code's CLAUDE_CODE_SKIP_BEDROCK_AUTH), or one that signs for the proxy's
// host with keys of its own (boto3 with endpoint_url), reaches a fake Bedrock that takes
// only requests signed with the proxy's credentials; the client gets the
// recorded answer byte for byte, at the root and under /bedrock, and the
// span is the operation's with the golden span's model, tokens and finish
// reason. (The golden spans are compared key by key in spans/bedrock_test.go,
// through the same mapping.)
func TestBedrockRecordedCalls(t *testing.T) {
	withAWSCredentials(t)
	dir := fixturesDir(t, "bedrock")
	cassettes, err := fakeprovider.LoadDir(filepath.Join(dir, "cassettes"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{upstream: awsfake.New().Handler(fakeprovider.New(cassettes))})
	compared := 0
	for i, c := range cassettes {
		if !strings.Contains(c.Request.URL, "bedrock-runtime") {
			continue // a download the recording made first
		}
		t.Run(c.Name, func(t *testing.T) {
			prefix := ""
			if i%2 == 1 {
				prefix = "/bedrock"
			}
			path := c.Request.URL[strings.Index(c.Request.URL, "/model/"):]
			req, err := http.NewRequest(http.MethodPost, h.proxy.URL+prefix+path, strings.NewReader(c.Request.Body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(fakeprovider.CassetteHeader, c.Name)
			if i%3 == 0 {
				// boto3 pointed at the proxy signs for the proxy's host
				// with its own keys: that signature must not go on.
				req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIACLIENTKEY/20261203/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123")
				req.Header.Set("X-Amz-Date", "20261203T000000Z")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.Response.Code || string(got) != c.Response.Body {
				t.Fatalf("got %d %.300q; want %d, the recorded body", resp.StatusCode, got, c.Response.Code)
			}
			span := h.span(t)
			goldenPath := goldenAPI{calls: bedrockCall}.goldenFile(dir, cassettes, c)
			if c.Name == "pa-test_bedrock_streaming_error" {
				return // the instrumentor exports no span of it
			}
			golden := loadGolden(t, goldenPath)
			compared++
			if span.Name != golden.Name {
				t.Errorf("span %q; want %q", span.Name, golden.Name)
			}
			want := kvMap(golden.Attributes)
			for _, k := range []string{"llm.model_name", "llm.provider", "llm.system", "llm.token_count.prompt", "llm.token_count.completion",
				"llm.finish_reason", "llm.input_messages.0.message.role", "llm.output_messages.0.message.role"} {
				w, ok := want[k]
				if !ok {
					continue
				}
				if fmt.Sprint(span.Attributes[k]) != fmt.Sprint(w) {
					t.Errorf("%s = %v; want %v", k, span.Attributes[k], w)
				}
			}
			if (golden.Status.Code == "STATUS_CODE_ERROR") != (span.StatusMessage != "") {
				t.Errorf("status %q; want %s %q", span.StatusMessage, golden.Status.Code, golden.Status.Message)
			}
		})
	}
	if compared < 20 {
		t.Errorf("%d spans compared; want every recorded call's", compared)
	}
}

// TestBedrockInvokeTokensFromHeaders: InvokeModel of a family whose body
// has no usage (Llama's) has its token counts from Bedrock's
// X-Amzn-Bedrock-*-Token-Count headers, as the instrumentor reads them.
func TestBedrockInvokeTokensFromHeaders(t *testing.T) {
	withAWSCredentials(t)
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", "12")
		w.Header().Set("X-Amzn-Bedrock-Output-Token-Count", "3")
		_, _ = io.WriteString(w, `{"generation":"Hi there","stop_reason":"stop"}`)
	}}
	h := newHarness(t, harnessOptions{upstream: awsfake.New().Handler(up)})
	resp, got := post(t, h.proxy.URL+"/bedrock/model/meta.llama3-8b-instruct-v1%3A0/invoke", "application/json",
		`{"prompt":"<|begin_of_text|>Hello","max_gen_len":64}`, nil)
	if resp.StatusCode != 200 || got != `{"generation":"Hi there","stop_reason":"stop"}` {
		t.Fatalf("%d %s", resp.StatusCode, got)
	}
	if p := up.last.Load().URL.EscapedPath(); p != "/model/meta.llama3-8b-instruct-v1%3A0/invoke" {
		t.Errorf("upstream path %s; want the model id as sent", p)
	}
	span := h.span(t)
	for k, want := range map[string]any{"llm.token_count.prompt": int64(12), "llm.token_count.completion": int64(3),
		"llm.token_count.total": int64(15), "llm.model_name": "meta.llama3-8b-instruct-v1:0", "llm.provider": "aws"} {
		if span.Attributes[k] != want {
			t.Errorf("%s = %v; want %v", k, span.Attributes[k], want)
		}
	}
}

// TestBedrockCorruptStreamMessage: an event-stream message whose checksum
// fails reaches the client as it came (the client's SDK judges it), and the
// span says the stream was corrupt rather than passing for a clean one.
func TestBedrockCorruptStreamMessage(t *testing.T) {
	withAWSCredentials(t)
	c := loadAPICassette(t, "bedrock", "pa-test_bedrock_model_stream")
	msgs := fakeprovider.Messages(c.Response.Body)
	bad := []byte(msgs[1])
	bad[len(bad)-5] ^= 0x20 // a payload byte: the message CRC fails
	msgs[1] = string(bad)
	body := strings.Join(msgs, "")
	up := &scripted{serve: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
		_, _ = io.WriteString(w, body)
	}}
	h := newHarness(t, harnessOptions{upstream: awsfake.New().Handler(up)})
	resp, got := post(t, h.proxy.URL+"/model/us.amazon.nova-micro-v1%3A0/converse-stream", "application/json", c.Request.Body, nil)
	if resp.StatusCode != 200 || got != body {
		t.Fatalf("%d: the client did not get the stream as it came", resp.StatusCode)
	}
	if span := h.span(t); !strings.Contains(span.StatusMessage, "corrupt") {
		t.Errorf("span status %q; want the corrupt message named", span.StatusMessage)
	}
}

// noAWSCredentials leaves the AWS SDKs' default chain nothing to find, on
// any machine: no keys, no profile, no web identity, no container or
// instance role.
func noAWSCredentials(t *testing.T) {
	t.Helper()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_BEARER_TOKEN_BEDROCK"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

// TestBedrockWithoutCredentials: a proxy that finds no AWS credentials and
// a client that sends no Bedrock API key get a 401 in Bedrock's format
// that says what to set; nothing is sent to AWS.
func TestBedrockWithoutCredentials(t *testing.T) {
	noAWSCredentials(t)
	t.Setenv("AWS_REGION", awsfake.Region)
	up := answer(200, "{}")
	h := newHarness(t, harnessOptions{upstream: up})
	resp, got := post(t, h.proxy.URL+"/bedrock/model/us.amazon.nova-micro-v1%3A0/converse", "application/json",
		`{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`, nil)
	if resp.StatusCode != 401 || resp.Header.Get("X-Amzn-Errortype") != "AccessDeniedException" || !strings.Contains(got, "AWS_ACCESS_KEY_ID") {
		t.Errorf("%d %q %s; want a 401 AccessDeniedException naming what to set", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), got)
	}
	if up.calls.Load() != 0 {
		t.Errorf("the upstream was called")
	}
}
