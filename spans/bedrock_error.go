package spans

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// botocoreError is the UpstreamError of the Bedrock Runtime operation
// named operation (Converse, InvokeModel…), as boto3 raises it.
//
// botocore takes the error code from the x-amzn-ErrorType header before
// the body; UpstreamError sees the body alone, so a code Bedrock sends
// only in that header (as it does) is read as the HTTP status, which is
// what the recorded cassettes show: they kept no such header.
// bedrockClientError takes the header for a caller that has it.
func botocoreError(operation string) func(status int, body []byte) (typ, msg, description string) {
	return func(status int, body []byte) (string, string, string) {
		return bedrockClientError(operation, status, "", body)
	}
}

// bedrockClientError words an error answer as botocore raises it
// (botocore/parsers.py RestJSONParser, botocore/exceptions.py
// ClientError): "An error occurred (ValidationException) when calling the
// Converse operation: <message>", as exception
// botocore.errorfactory.<code> when the code is one Bedrock Runtime models
// (the class boto3 makes for it), else botocore.exceptions.ClientError.
// The span's status is the message alone, as the instrumentor sets it
// (str(e)). errorType is the x-amzn-ErrorType header, "" when absent.
//
// boto3 retries throttling and 5xx answers itself and then adds
// " (reached max retries: N)"; the proxy records the one answer it got.
func bedrockClientError(operation string, status int, errorType string, body []byte) (typ, msg, description string) {
	code, message := botocoreErrorFields(status, errorType, body)
	msg = "An error occurred (" + code + ") when calling the " + operation + " operation: " + message
	typ = "botocore.exceptions.ClientError"
	if bedrockModeledErrors[code] {
		typ = "botocore.errorfactory." + code
	}
	return typ, msg, msg
}

// bedrockModeledErrors are Bedrock Runtime's modeled errors
// (botocore/data/bedrock-runtime/2023-09-30/service-2.json): boto3 raises
// each as a ClientError subclass of its name.
var bedrockModeledErrors = map[string]bool{
	"AccessDeniedException": true, "ConflictException": true, "InternalServerException": true,
	"ModelErrorException": true, "ModelNotReadyException": true, "ModelStreamErrorException": true,
	"ModelTimeoutException": true, "ResourceNotFoundException": true, "ServiceQuotaExceededException": true,
	"ServiceUnavailableException": true, "ThrottlingException": true, "ValidationException": true,
}

// botocoreErrorFields are the Code and Message botocore parses from a
// rest-json error answer: a 5xx with no body or an HTML one is the status
// and its reason; else the message is the body's message (or Message, or
// the body itself when it is not JSON), the code the header's, else the
// body's code (or Code), else its __type, else the status, each cut to the
// name ("ns#Name:url" → "Name").
func botocoreErrorFields(status int, errorType string, body []byte) (code, message string) {
	if status >= 500 {
		if b := bytes.TrimSpace(body); len(b) == 0 || bytes.HasPrefix(b, []byte("<html>")) {
			return strconv.Itoa(status), http.StatusText(status)
		}
	}
	code = strconv.Itoa(status)
	var obj gjson.Result
	switch {
	case len(body) == 0:
	case jsonbound.Valid(body) && gjson.ParseBytes(body).IsObject():
		obj = gjson.ParseBytes(body)
	default:
		// botocore's _parse_body_as_json: {'message': <the text>}.
		message = strings.ToValidUTF8(string(body), "\uFFFD")
	}
	if obj.Exists() {
		if m := jsonbound.Get(obj, "message"); m.Exists() {
			message = pyStr(m)
		} else if m := jsonbound.Get(obj, "Message"); m.Exists() {
			message = pyStr(m)
		}
		if t := jsonbound.Get(obj, "__type"); t.Exists() {
			code = botocoreCode(pyStr(t))
		}
	}
	switch {
	case errorType != "":
		code = botocoreCode(errorType)
	case jsonbound.Get(obj, "code").Exists():
		code = botocoreCode(pyStr(jsonbound.Get(obj, "code")))
	case jsonbound.Get(obj, "Code").Exists():
		code = botocoreCode(pyStr(jsonbound.Get(obj, "Code")))
	}
	return code, message
}

// botocoreCode cuts an error code to its name as botocore does: before the
// first ':', then after the last '#'.
func botocoreCode(code string) string {
	code, _, _ = strings.Cut(code, ":")
	return code[strings.LastIndexByte(code, '#')+1:]
}

// pyStr is str() of the Python value json.loads makes of v: a string as it
// is, anything else as its repr.
func pyStr(v gjson.Result) string {
	if v.Type == gjson.String {
		return v.Str
	}
	return pythonRepr([]byte(v.Raw))
}

// bedrockTokenHeaders records the token counts Bedrock sends an InvokeModel
// answer in headers, as the instrumentor reads them for the families whose
// body has none (_set_token_count_attributes): the prompt from
// X-Amzn-Bedrock-Input-Token-Count, the completion from
// X-Amzn-Bedrock-Output-Token-Count, the total their sum when both are
// non-zero. Recorded before the answer's attributes, the body's counts
// (Claude's usage, Nova's) win where it has them, as in the instrumentor.
func bedrockTokenHeaders(a *Attrs, h http.Header) {
	count := func(name string) (int64, bool) {
		v := h.Get(name)
		if v == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	input, okIn := count("X-Amzn-Bedrock-Input-Token-Count")
	output, okOut := count("X-Amzn-Bedrock-Output-Token-Count")
	if okIn {
		a.Int(KeyTokenPrompt, input)
	}
	if okOut {
		a.Int(KeyTokenCompletion, output)
	}
	if input != 0 && output != 0 {
		a.Int(KeyTokenTotal, input+output)
	}
}
