package spans

import (
	"net/http"
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/codes"
)

func TestBedrockClientError(t *testing.T) {
	const valid = "botocore.errorfactory.ValidationException"
	for _, tt := range []struct {
		operation string
		status    int
		errorType string // the x-amzn-ErrorType header
		body      string
		typ, msg  string
	}{
		// What Bedrock sends: the code in the header.
		{"InvokeModel", 400, "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/", `{"message":"Malformed input request"}`,
			valid, "An error occurred (ValidationException) when calling the InvokeModel operation: Malformed input request"},
		// What the recorded cassettes kept: no header, the status as code.
		{"ConverseStream", 400, "", `{"message":"The provided model identifier is invalid."}`,
			"botocore.exceptions.ClientError", "An error occurred (400) when calling the ConverseStream operation: The provided model identifier is invalid."},
		{"Converse", 429, "", `{"__type":"com.amazon.coral.service#ThrottlingException:http://x","message":"Too many requests"}`,
			"botocore.errorfactory.ThrottlingException", "An error occurred (ThrottlingException) when calling the Converse operation: Too many requests"},
		{"Converse", 403, "", `{"Message":"Denied"}`, "botocore.exceptions.ClientError", "An error occurred (403) when calling the Converse operation: Denied"},
		{"Converse", 400, "", `{"code":"ns#SomethingElse:x","message":"m","__type":"ValidationException"}`,
			"botocore.exceptions.ClientError", "An error occurred (SomethingElse) when calling the Converse operation: m"},
		{"Converse", 400, "AccessDeniedException", `{"__type":"ValidationException","message":"m"}`,
			"botocore.errorfactory.AccessDeniedException", "An error occurred (AccessDeniedException) when calling the Converse operation: m"},
		{"Converse", 400, "", `{"message":null}`, "botocore.exceptions.ClientError", "An error occurred (400) when calling the Converse operation: None"},
		{"Converse", 400, "", `{"message":{"a":[1,true]}}`, "botocore.exceptions.ClientError", "An error occurred (400) when calling the Converse operation: {'a': [1, True]}"},
		{"Converse", 400, "", "", "botocore.exceptions.ClientError", "An error occurred (400) when calling the Converse operation: "},
		{"Converse", 500, "", "oops", "botocore.exceptions.ClientError", "An error occurred (500) when calling the Converse operation: oops"},
		{"Converse", 503, "", " \n", "botocore.exceptions.ClientError", "An error occurred (503) when calling the Converse operation: Service Unavailable"},
		{"InvokeModelWithResponseStream", 502, "", "<html><body>Bad Gateway</body></html>",
			"botocore.exceptions.ClientError", "An error occurred (502) when calling the InvokeModelWithResponseStream operation: Bad Gateway"},
		{"Converse", 502, "ServiceUnavailableException", "",
			"botocore.exceptions.ClientError", "An error occurred (502) when calling the Converse operation: Bad Gateway"},
	} {
		typ, msg, desc := bedrockClientError(tt.operation, tt.status, tt.errorType, []byte(tt.body))
		if typ != tt.typ || msg != tt.msg || desc != tt.msg {
			t.Errorf("bedrockClientError(%s, %d, %q, %q) =\n %q %q %q;\nwant %q %q (the status the message alone)",
				tt.operation, tt.status, tt.errorType, tt.body, typ, msg, desc, tt.typ, tt.msg)
		}
	}
}

// TestBedrockStreamingError replays pa-test_bedrock_streaming_error, the
// ConverseStream 400 the instrumentor exports no span of: the span says
// what boto3 raised.
func TestBedrockStreamingError(t *testing.T) {
	span := bedrockSpan(t, &BedrockConverseStream, "us.does-not-exist-model-v1:0",
		readTestdata(t, "bedrock/pa-test_bedrock_streaming_error.request.json"), 400,
		readTestdata(t, "bedrock/pa-test_bedrock_streaming_error.response.json"))
	const want = "An error occurred (400) when calling the ConverseStream operation: The provided model identifier is invalid."
	if st := span.Status(); st.Code != codes.Error || st.Description != want {
		t.Errorf("status %v %q; want Error %q", st.Code, st.Description, want)
	}
	checkExceptionEvent(t, span, "botocore.exceptions.ClientError", want)
}

func TestBedrockTokenHeaders(t *testing.T) {
	for _, tt := range []struct {
		in, out string
		want    map[string]any
	}{
		{"38", "246", map[string]any{KeyTokenPrompt: int64(38), KeyTokenCompletion: int64(246), KeyTokenTotal: int64(284)}},
		{"0", "5", map[string]any{KeyTokenPrompt: int64(0), KeyTokenCompletion: int64(5)}},
		{"7", "", map[string]any{KeyTokenPrompt: int64(7)}},
		{"x", "", map[string]any{}},
		{"", "", map[string]any{}},
	} {
		h := http.Header{}
		if tt.in != "" {
			h.Set("X-Amzn-Bedrock-Input-Token-Count", tt.in)
		}
		if tt.out != "" {
			h.Set("x-amzn-bedrock-output-token-count", tt.out)
		}
		var a Attrs
		bedrockTokenHeaders(&a, h)
		got := map[string]any{}
		for _, kv := range a.KeyValues() {
			got[string(kv.Key)] = kv.Value.AsInterface()
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("headers %q %q: got %v; want %v", tt.in, tt.out, got, tt.want)
		}
	}
}
