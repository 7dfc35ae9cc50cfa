package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/integration/fakeprovider"
)

// bedrockClaudeConfig serves two model_names with Claude on Bedrock, each
// with credentials of its own (the environment has none): claude-haiku
// with awsfake's keys in us-east-1 (the environment's region is another),
// claude-denied with keys Bedrock does not know.
const bedrockClaudeConfig = `
model_list:
  - model_name: claude-haiku
    litellm_params:
      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
      aws_access_key_id: os.environ/TEAM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/TEAM_AWS_SECRET_ACCESS_KEY
      aws_session_token: os.environ/TEAM_AWS_SESSION_TOKEN
      aws_region_name: us-east-1
  - model_name: claude-sonnet
    litellm_params:
      model: bedrock/invoke/anthropic.claude-3-5-sonnet-20240620-v1:0
      aws_access_key_id: os.environ/TEAM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/TEAM_AWS_SECRET_ACCESS_KEY
      aws_session_token: os.environ/TEAM_AWS_SESSION_TOKEN
      aws_region_name: us-east-1
  - model_name: claude-denied
    litellm_params:
      model: bedrock/us.anthropic.claude-3-haiku-20240307-v1:0
      aws_access_key_id: AKIAUNKNOWNEXAMPLE01
      aws_secret_access_key: unknown-secret
      aws_region_name: us-east-1
`

// withoutAWSCredentials leaves the proxy's environment no AWS credentials
// and a region other than the deployments'.
func withoutAWSCredentials(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
}

func bedrockClaudeHarness(t *testing.T, fake *fakeprovider.Server) *harness {
	return newHarness(t, harnessOptions{upstream: awsfake.New().Handler(fake), config: bedrockClaudeConfig,
		lookup: map[string]string{"TEAM_AWS_ACCESS_KEY_ID": awsfake.AccessKeyID, "TEAM_AWS_SECRET_ACCESS_KEY": awsfake.SecretAccessKey,
			"TEAM_AWS_SESSION_TOKEN": awsfake.SessionToken}})
}

// withModel is a recorded InvokeModel body as a Messages API client sends
// it: with the model_name, and stream when it streams.
func withModel(body, model string, streams bool) string {
	member := `{"model": "` + model + `", `
	if streams {
		member += `"stream": true, `
	}
	return strings.Replace(body, "{", member, 1)
}

// TestBedrockMessagesInvokeModel: a /v1/messages call to a config
// model_name served by Claude on Bedrock goes to its InvokeModel, signed
// with the deployment's keys for its region (awsfake takes no other), the
// body Bedrock's (the recorded one: no model, anthropic_version); the
// client gets Claude's answer as Bedrock gave it, and the span is the
// Messages API's with provider aws and the deployment's model group.
func TestBedrockMessagesInvokeModel(t *testing.T) {
	withoutAWSCredentials(t)
	c := loadAPICassette(t, "bedrock", "oi-TestClaudeInvokeModelMessageApi.test_invoke_model")
	fake := fakeprovider.New([]fakeprovider.Cassette{c})
	h := bedrockClaudeHarness(t, fake)
	body := withModel(c.Request.Body, "claude-haiku", false)
	if gjson.Get(c.Request.Body, "model").Exists() || !gjson.Valid(body) {
		t.Fatalf("the recorded body: %s", body)
	}
	resp, got := post(t, h.proxy.URL+"/v1/messages", "application/json", body,
		map[string]string{"X-Api-Key": "sk-ant-client-key", "Anthropic-Version": "2023-06-01"})
	if resp.StatusCode != 200 || got != c.Response.Body {
		t.Fatalf("%d %.300s; want the recorded answer", resp.StatusCode, got)
	}
	seen := fake.Requests()
	if len(seen) != 1 || seen[0].Path != "/model/anthropic.claude-3-haiku-20240307-v1:0/invoke" {
		t.Fatalf("upstream requests %+v; want one InvokeModel of the deployment's model", seen)
	}
	if seen[0].Header.Get("X-Api-Key") != "" || seen[0].Header.Get("Anthropic-Version") != "" {
		t.Errorf("the client's Anthropic headers reached AWS: %v", seen[0].Header)
	}
	span := h.span(t)
	for k, want := range map[string]any{"llm.system": "anthropic", "llm.provider": "aws", "llm.model_name": "claude-3-haiku-20240307",
		"llm.token_count.prompt": int64(38), "llm.token_count.completion": int64(246), "litellm.model_group": "claude-haiku",
		"llm.input_messages.2.message.content": "Can you explain LLMs in plain English?", "llm.output_messages.0.message.role": "assistant"} {
		if span.Attributes[k] != want {
			t.Errorf("span %s = %v; want %v", k, span.Attributes[k], want)
		}
	}
	const outText = "llm.output_messages.0.message.contents.0.message_content.text"
	if out, _ := span.Attributes[outText].(string); span.Name != "messages.create" || out != gjson.Get(c.Response.Body, "content.0.text").String() {
		t.Errorf("span %q, output %q; want Claude's text", span.Name, out)
	}
	for k, v := range span.Attributes {
		if s, ok := v.(string); ok && (strings.Contains(s, awsfake.SecretAccessKey) || strings.Contains(s, awsfake.SessionToken) || strings.Contains(s, "sk-ant-client-key")) {
			t.Errorf("span %s holds a credential", k)
		}
	}
}

// TestBedrockMessagesStreamInLockstep: a streaming /v1/messages call goes to
// InvokeModelWithResponseStream; Bedrock's event stream reaches the client
// as Anthropic's SSE, one event per chunk (its type named, its JSON the
// chunk's bytes), each sent by the fake only once the client has read the
// one before through the proxy; the span has the stream's answer.
func TestBedrockMessagesStreamInLockstep(t *testing.T) {
	withoutAWSCredentials(t)
	c := loadAPICassette(t, "bedrock", "oi-TestInvokeModelWithStreamResponse.test_invoke")
	fake := fakeprovider.New([]fakeprovider.Cassette{c})
	h := bedrockClaudeHarness(t, fake)

	// What the client is meant to get, decoded here with the SDK's own
	// event-stream decoder.
	var want strings.Builder
	var text strings.Builder
	msgs := fakeprovider.Messages(c.Response.Body)
	for _, m := range msgs {
		msg, err := eventstream.NewDecoder().Decode(bytes.NewReader([]byte(m)), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(gjson.GetBytes(msg.Payload, "bytes").String())
		if err != nil {
			t.Fatal(err)
		}
		ev := gjson.ParseBytes(raw)
		want.WriteString("event: " + ev.Get("type").String() + "\ndata: " + string(raw) + "\n\n")
		text.WriteString(ev.Get("delta.text").String())
	}

	pace := newPacer(eachEvent)
	fake.BeforeEvent = pace.wait
	resp := open(t, context.Background(), h.proxy.URL+"/v1/messages", withModel(c.Request.Body, "claude-sonnet", true))
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("%d %s; want an SSE stream", resp.StatusCode, ct)
	}
	got := readStream(t, resp.Body, pace.count)
	if i := pace.stalled.Load(); i >= 0 {
		t.Errorf("message %d: the events before it had not all reached the client when Bedrock was ready to send it", i)
	}
	if got != want.String() {
		t.Errorf("client stream:\n got  %.400q\n want %.400q", got, want.String())
	}
	if seen := fake.Requests(); len(seen) != 1 || seen[0].Path != "/model/anthropic.claude-3-5-sonnet-20240620-v1:0/invoke-with-response-stream" {
		t.Errorf("upstream requests %+v; want one InvokeModelWithResponseStream", seen)
	}
	span := h.span(t)
	if span.Name != "messages.create" || span.StatusMessage != "" || span.Attributes["llm.provider"] != "aws" || span.Attributes["llm.system"] != "anthropic" ||
		span.Attributes["llm.output_messages.0.message.contents.0.message_content.text"] != text.String() || span.Attributes["llm.token_count.completion"] == nil {
		t.Errorf("span %q %q %v", span.Name, span.StatusMessage, span.Attributes)
	}
}

// TestBedrockMessagesErrors: Bedrock's error answer reaches a Messages API
// client in Anthropic's envelope with Bedrock's status and message; a
// model_name whose deployment is not Claude is refused before anything is
// sent; a bedrock/ model with no config entry goes to Bedrock with the
// environment's credentials, as LiteLLM's router takes it.
func TestBedrockMessagesErrors(t *testing.T) {
	withoutAWSCredentials(t)
	c := loadAPICassette(t, "bedrock", "oi-TestClaudeInvokeModelMessageApi.test_invoke_model")
	fake := fakeprovider.New([]fakeprovider.Cassette{c})
	h := bedrockClaudeHarness(t, fake)
	resp, got := post(t, h.proxy.URL+"/v1/messages", "application/json", withModel(c.Request.Body, "claude-denied", false), nil)
	if resp.StatusCode != 403 || gjson.Get(got, "type").String() != "error" || gjson.Get(got, "error.type").String() != "permission_error" ||
		!strings.Contains(gjson.Get(got, "error.message").String(), "AKIAUNKNOWNEXAMPLE01") {
		t.Errorf("unknown keys: %d %s; want Bedrock's 403 as Anthropic's permission_error", resp.StatusCode, got)
	}
	if span := h.span(t); span.Attributes["llm.provider"] != "aws" || span.StatusMessage == "" {
		t.Errorf("span of the refused call: %q %v", span.StatusMessage, span.Attributes)
	}
	if len(fake.Requests()) != 0 {
		t.Errorf("a call the fake AWS refused reached Bedrock")
	}

	// A bedrock/ model with no config entry: the environment's Bedrock.
	withAWSCredentials(t)
	h = newHarness(t, harnessOptions{upstream: awsfake.New().Handler(fake)})
	resp, got = post(t, h.proxy.URL+"/v1/messages", "application/json",
		withModel(c.Request.Body, "bedrock/anthropic.claude-3-haiku-20240307-v1:0", false), nil)
	if resp.StatusCode != 200 || got != c.Response.Body {
		t.Errorf("bedrock/ without a config entry: %d %.300s", resp.StatusCode, got)
	}
	if span := h.span(t); span.Attributes["llm.provider"] != "aws" {
		t.Errorf("span provider %v", span.Attributes["llm.provider"])
	}
	resp, got = post(t, h.proxy.URL+"/v1/messages", "application/json",
		`{"model":"bedrock/amazon.nova-pro-v1:0","max_tokens":5,"messages":[{"role":"user","content":"Hi"}]}`, nil)
	if resp.StatusCode != 400 || gjson.Get(got, "error.type").String() != "invalid_request_error" || !strings.Contains(got, "not Claude") {
		t.Errorf("a Nova model on /v1/messages: %d %s; want a 400 saying only Claude is reached", resp.StatusCode, got)
	}
}
