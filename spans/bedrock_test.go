package spans

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// bedrockFamily is the mapping a golden span's call goes through.
type bedrockFamily string

const (
	familyConverse     bedrockFamily = "converse"      // Converse, ConverseStream
	familyNova         bedrockFamily = "nova"          // InvokeModel, Nova's body
	familyClaude       bedrockFamily = "claude"        // InvokeModel, Claude's body
	familyClaudeStream bedrockFamily = "claude-stream" // InvokeModelWithResponseStream, Claude's body
)

// diffHow is how a deliberate difference is checked.
type diffHow int

const (
	// diffAdded: the proxy records the key, the golden span lacks it.
	diffAdded diffHow = iota
	// diffProjected: the golden's value is the proxy's JSON at path, with
	// the Python bytes literals the instrumentor writes read as base64.
	diffProjected
	// diffMapped: the key family is mapped otherwise on both sides; the
	// proxy's keys are checked by TestBedrockClaudeMapping.
	diffMapped
)

// bedrockDiff is a deliberate difference between the proxy's Bedrock spans
// and openinference-instrumentation-bedrock's, for the families it names.
// key is an attribute key, or a key family when it ends in ".".
type bedrockDiff struct {
	families []bedrockFamily
	key      string
	how      diffHow
	path     string // diffProjected's path in the proxy's value
	why      string
}

// bedrockDiffs are all the deliberate differences: every other key, value,
// event and status of a golden span must be the proxy's.
var bedrockDiffs = []bedrockDiff{
	{[]bedrockFamily{familyConverse, familyNova}, KeyInputValue, diffProjected, "messages",
		"the body as sent, as on every API: what else it holds (toolChoice, guardrailConfig, promptVariables) has no attribute of its own; " +
			"the instrumentor records the JSON of its messages alone, binary content as a Python bytes literal"},
	{[]bedrockFamily{familyConverse, familyNova}, KeyOutputValue, diffProjected, "output.message",
		"the whole answer (stopReason, usage, metrics, a guardrail's trace); the instrumentor records its output.message alone"},
	{[]bedrockFamily{familyClaude, familyClaudeStream}, KeyLLMOutputMessages + ".", diffMapped, "",
		"Anthropic's Messages mapping, as on /v1/messages spans: every content block a part with its type, a tool call also a tool_use part; " +
			"the instrumentor's Bedrock Claude mapping records a lone text as message.content (invoke_model), every text as part 0 with no type (stream)"},
	{[]bedrockFamily{familyClaudeStream}, KeyLLMInputMessages + ".", diffMapped, "",
		"Anthropic's Messages mapping: parts with their type, a string content (the system's too) as message.content, each tool_result a message " +
			"of its own with its tool_call_id; the instrumentor's stream mapping writes parts with no type and one tool message, without ids, for a message's results"},
	{[]bedrockFamily{familyClaudeStream}, KeyOutputValue, diffMapped, "",
		"the Messages answer the stream's chunks make up (the stream accumulator's); the instrumentor's accumulator keeps each tool_use input " +
			"as the JSON text it streamed and adds null members"},
	{[]bedrockFamily{familyClaude, familyClaudeStream}, KeyTokenTotal, diffAdded, "",
		"prompt plus completion, as the Messages mapping records on /v1/messages spans; the instrumentor's Claude mapping records no total"},
	{[]bedrockFamily{familyClaude, familyClaudeStream}, KeyLLMResponseModelName, diffAdded, "",
		"the answer's model, as the Messages mapping records it"},
	{[]bedrockFamily{familyClaude, familyClaudeStream}, KeyLLMRequestModelName, diffAdded, "",
		"the model the path names, as the Messages mapping records the request's (on Vertex AI too, where the Anthropic instrumentor records it)"},
}

// bedrockDroppedEventKeys are exception event keys only a Python process has.
var bedrockDroppedEventKeys = map[string]string{
	"exception.stacktrace": "a Python traceback of boto3; the proxy has no client stack",
}

// bedrockGoldenCases are the calls of testdata/bedrock: NAME.request.json
// sent for model (the path's modelId, unescaped), NAME.response.json the
// answer (NAME.answer.json, a stream's accumulated answer), NAME.json in
// spans/ the instrumentor's span.
var bedrockGoldenCases = []struct {
	name   string
	op     *Operation
	family bedrockFamily
	model  string
	status int // 0: 200
}{
	{"oi-TestClaudeInvokeModelMessageApi.test_invoke_model", &BedrockInvokeModel, familyClaude, "anthropic.claude-3-haiku-20240307-v1:0", 0},
	{"oi-TestConverseStream.test_invoke_tool_message", &BedrockConverseStream, familyConverse, "anthropic.claude-3-haiku-20240307-v1:0", 0},
	{"oi-TestConverseStream.test_invoke_tool_response_message", &BedrockConverseStream, familyConverse, "anthropic.claude-3-haiku-20240307-v1:0", 0},
	{"oi-TestInvokeModelWithStreamResponse.test_invoke", &BedrockInvokeModelStream, familyClaudeStream, "anthropic.claude-3-5-sonnet-20240620-v1:0", 0},
	{"oi-TestNovaInvokeModel.test_nova_lite_with_system", &BedrockInvokeModel, familyNova, "amazon.nova-lite-v1:0", 0},
	{"oi-test_converse_tool_use_message", &BedrockConverse, familyConverse, "mistral.devstral-2-123b", 0},
	{"pa-test_bedrock_cache_write_and_read", &BedrockConverse, familyConverse, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 0},
	{"pa-test_bedrock_cache_write_and_read@1", &BedrockConverse, familyConverse, "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 0},
	{"pa-test_bedrock_error", &BedrockConverse, familyConverse, "us.does-not-exist-model-v1:0", 400},
	{"pa-test_bedrock_inference_profile_converse", &BedrockConverse, familyConverse,
		"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/mi1dadi0g15f", 0},
	{"pa-test_bedrock_model", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_guardrail_config", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_iter_stream", &BedrockConverseStream, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_iter_stream@1", &BedrockConverseStream, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_retry", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_retry@1", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_stream", &BedrockConverseStream, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_structured_output", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_structured_output@1", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_structured_output@2", &BedrockConverse, familyConverse, "us.amazon.nova-micro-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_anthropic", &BedrockConverse, familyConverse, "us.anthropic.claude-sonnet-4-20250514-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_anthropic@1", &BedrockConverse, familyConverse, "us.anthropic.claude-sonnet-4-20250514-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_deepseek", &BedrockConverse, familyConverse, "us.deepseek.r1-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_deepseek@1", &BedrockConverse, familyConverse, "us.deepseek.r1-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_redacted", &BedrockConverse, familyConverse, "us.anthropic.claude-3-7-sonnet-20250219-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_redacted@1", &BedrockConverse, familyConverse, "us.anthropic.claude-3-7-sonnet-20250219-v1:0", 0},
	{"pa-test_bedrock_model_thinking_part_stream", &BedrockConverseStream, familyConverse, "us.anthropic.claude-sonnet-4-20250514-v1:0", 0},
	{"pa-test_document_url_input", &BedrockConverse, familyConverse, "anthropic.claude-v2", 0},
	{"pa-test_image_url_input", &BedrockConverse, familyConverse, "us.amazon.nova-pro-v1:0", 0},
}

// TestBedrockGolden builds the span of every recorded call through a real
// Recorder, as the handler does (the path's model, provider aws, the body
// as sent, then the answer or the error), and compares it with the
// instrumentor's span key by key, bedrockDiffs aside.
func TestBedrockGolden(t *testing.T) {
	used := make([]bool, len(bedrockDiffs))
	seen := map[string]bool{}
	for _, tc := range bedrockGoldenCases {
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			golden := loadBedrockGolden(t, tc.name)
			answerFile := tc.name + ".response.json"
			if tc.op == &BedrockConverseStream || tc.op == &BedrockInvokeModelStream {
				answerFile = tc.name + ".answer.json"
			}
			span := bedrockSpan(t, tc.op, tc.model, readTestdata(t, "bedrock/"+tc.name+".request.json"),
				tc.status, readTestdata(t, "bedrock/"+answerFile))

			if span.Name() != golden.Name || span.SpanKind() != trace.SpanKindInternal || golden.Kind != "SPAN_KIND_INTERNAL" {
				t.Errorf("span %q kind %v; want %q %s", span.Name(), span.SpanKind(), golden.Name, golden.Kind)
			}
			compareBedrockAttrs(t, tc.family, spanAttrs(span), golden.attrs(), used)
			compareBedrockStatus(t, span, golden)
		})
	}
	// Every golden span has its case, and every difference is needed.
	files, err := filepath.Glob(filepath.Join("testdata", "bedrock", "spans", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden spans: %v", err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !seen[name] {
			t.Errorf("%s has no case in bedrockGoldenCases", name)
		}
	}
	for i, d := range bedrockDiffs {
		if !used[i] {
			t.Errorf("bedrockDiffs[%d] (%s %q) matches no golden span: drop it", i, d.families, d.key)
		}
	}
}

// bedrockSpan records one call as the handler does and returns its span.
func bedrockSpan(t *testing.T, op *Operation, model string, body []byte, status int, answer []byte) sdktrace.ReadOnlySpan {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	_, call := NewRecorder(tp).Start(context.Background(), Request{Op: op, Provider: "aws", Model: model, Body: body})
	if status == 0 || status == 200 {
		if err := call.Response(answer); err != nil {
			t.Fatal(err)
		}
		call.End(true)
	} else {
		call.UpstreamError(status, answer)
		call.End(false)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans; want 1", len(spans))
	}
	return spans.Snapshots()[0]
}

func spanAttrs(span sdktrace.ReadOnlySpan) map[string]any {
	m := map[string]any{}
	for _, kv := range span.Attributes() {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

// findBedrockDiff is the difference that applies to key on family's spans,
// or -1.
func findBedrockDiff(family bedrockFamily, key string) int {
	for i, d := range bedrockDiffs {
		if !slices.Contains(d.families, family) {
			continue
		}
		if key == d.key || strings.HasSuffix(d.key, ".") && strings.HasPrefix(key, d.key) {
			return i
		}
	}
	return -1
}

func compareBedrockAttrs(t *testing.T, family bedrockFamily, got, want map[string]any, used []bool) {
	t.Helper()
	for key, w := range want {
		i := findBedrockDiff(family, key)
		if i < 0 {
			g, ok := got[key]
			switch {
			case !ok:
				t.Errorf("%s missing; want %s", key, short(w))
			case !sameAttrValue(g, w):
				t.Errorf("%s = %s\n want %s", key, short(g), short(w))
			}
			continue
		}
		used[i] = true
		switch d := bedrockDiffs[i]; d.how {
		case diffAdded:
			t.Errorf("%s: the golden has it, where bedrockDiffs says only the proxy does", key)
		case diffProjected:
			g, _ := got[key].(string)
			proj := gjson.Get(g, d.path)
			var gv, wv any
			if err := json.Unmarshal([]byte(proj.Raw), &gv); err != nil {
				t.Errorf("%s: the proxy's value has no %s: %s", key, d.path, short(g))
				continue
			}
			if err := json.Unmarshal([]byte(w.(string)), &wv); err != nil {
				t.Fatalf("%s: golden value not JSON: %v", key, err)
			}
			if wv = pyBytesAsBase64(wv); !reflect.DeepEqual(gv, wv) {
				t.Errorf("%s's %s = %s\n want %s", key, d.path, short(proj.Raw), short(w))
			}
		}
	}
	for key, g := range got {
		if _, ok := want[key]; ok {
			continue
		}
		i := findBedrockDiff(family, key)
		if i < 0 || bedrockDiffs[i].how == diffProjected {
			t.Errorf("%s = %s: the golden span lacks it", key, short(g))
			continue
		}
		used[i] = true
	}
}

func compareBedrockStatus(t *testing.T, span sdktrace.ReadOnlySpan, golden bedrockGoldenSpan) {
	t.Helper()
	wantCode := map[string]codes.Code{"STATUS_CODE_OK": codes.Ok, "STATUS_CODE_ERROR": codes.Error, "": codes.Unset}[golden.Status.Code]
	if st := span.Status(); st.Code != wantCode || st.Description != golden.Status.Message {
		t.Errorf("status %v %q; want %v %q", st.Code, st.Description, wantCode, golden.Status.Message)
	}
	var got []string
	for _, e := range span.Events() {
		attrs := map[string]string{}
		for _, kv := range e.Attributes {
			attrs[string(kv.Key)] = kv.Value.String()
		}
		got = append(got, fmt.Sprint(e.Name, attrs))
	}
	var want []string
	for _, e := range golden.Events {
		attrs := map[string]string{}
		for _, kv := range e.Attributes {
			if _, dropped := bedrockDroppedEventKeys[kv.Key]; !dropped {
				attrs[kv.Key] = fmt.Sprint(otlpAttrValue(kv.Value))
			}
		}
		want = append(want, fmt.Sprint(e.Name, attrs))
	}
	if !slices.Equal(got, want) {
		t.Errorf("events %q\n want %q", got, want)
	}
}

// sameAttrValue compares attribute values; strings holding JSON objects or
// arrays compare as JSON (Python and Go write it with other spacing).
func sameAttrValue(got, want any) bool {
	gs, ok1 := got.(string)
	ws, ok2 := want.(string)
	if ok1 && ok2 && gs != ws {
		var gv, wv any
		container := func(s string) bool { return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") }
		return container(gs) && container(ws) &&
			json.Unmarshal([]byte(gs), &gv) == nil && json.Unmarshal([]byte(ws), &wv) == nil && reflect.DeepEqual(gv, wv)
	}
	return reflect.DeepEqual(got, want)
}

// pyBytesAsBase64 is v with every string that is a Python bytes literal
// (b'\xff\xd8…', how the instrumentor's JSON writes bytes) replaced by the
// base64 of its bytes, as the bytes cross the wire.
func pyBytesAsBase64(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = pyBytesAsBase64(e)
		}
	case []any:
		for i, e := range x {
			x[i] = pyBytesAsBase64(e)
		}
	case string:
		if b, ok := pyBytesLiteral(x); ok {
			return base64.StdEncoding.EncodeToString(b)
		}
	}
	return v
}

// pyBytesLiteral parses repr(bytes).
func pyBytesLiteral(s string) ([]byte, bool) {
	if len(s) < 3 || s[0] != 'b' || s[1] != '\'' && s[1] != '"' || s[len(s)-1] != s[1] {
		return nil, false
	}
	body := s[2 : len(s)-1]
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		if i++; i == len(body) {
			return nil, false
		}
		switch body[i] {
		case '\\', '\'', '"':
			out = append(out, body[i])
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'x':
			if i+2 >= len(body) {
				return nil, false
			}
			n, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
			if err != nil {
				return nil, false
			}
			out = append(out, byte(n))
			i += 2
		default:
			return nil, false
		}
	}
	return out, true
}

func TestPyBytesLiteral(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`b'\xff\xd8ab\n\\\''`, "\xff\xd8ab\n\\'", true},
		{`b"it's"`, "it's", true},
		{`b'\x4'`, "", false},
		{`b'abc`, "", false},
		{`hello`, "", false},
	} {
		got, ok := pyBytesLiteral(tt.in)
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("pyBytesLiteral(%q) = %q %v; want %q %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("…(%d)", len(s))
	}
	return s
}

// bedrockGoldenSpan is a golden span in OTLP JSON.
type bedrockGoldenSpan struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	Attributes []bedrockOTLPKV `json:"attributes"`
	Events     []struct {
		Name       string          `json:"name"`
		Attributes []bedrockOTLPKV `json:"attributes"`
	} `json:"events"`
	Status struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
}

type bedrockOTLPKV struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"`
}

func (g bedrockGoldenSpan) attrs() map[string]any {
	m := make(map[string]any, len(g.Attributes))
	for _, kv := range g.Attributes {
		m[kv.Key] = otlpAttrValue(kv.Value)
	}
	return m
}

// otlpAttrValue is an OTLP JSON value as the SDK holds it (intValue is a
// string in OTLP JSON).
func otlpAttrValue(v map[string]any) any {
	for k, x := range v {
		switch k {
		case "intValue":
			n, _ := strconv.ParseInt(fmt.Sprint(x), 10, 64)
			return n
		default:
			return x
		}
	}
	return nil
}

func loadBedrockGolden(t *testing.T, name string) bedrockGoldenSpan {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bedrock", "spans", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var g bedrockGoldenSpan
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return g
}

// TestBedrockClaudeMapping checks the key families bedrockDiffs leaves out
// of the golden comparison on Claude's InvokeModel spans: they are the
// Anthropic Messages mapping's.
func TestBedrockClaudeMapping(t *testing.T) {
	stream := bedrockSpan(t, &BedrockInvokeModelStream, "anthropic.claude-3-5-sonnet-20240620-v1:0",
		readTestdata(t, "bedrock/oi-TestInvokeModelWithStreamResponse.test_invoke.request.json"), 0,
		readTestdata(t, "bedrock/oi-TestInvokeModelWithStreamResponse.test_invoke.answer.json"))
	got := spanAttrs(stream)
	in := func(i int, suffix string) string { return indexed(KeyLLMInputMessages, i, suffix) }
	for key, want := range map[string]any{
		in(0, SuffixMessageRole):    "system",
		in(0, SuffixMessageContent): "You're super friendly",
		in(1, SuffixMessageRole):    "user",
		KeyLLMInputMessages + ".1.message.contents.1.message_content.type": "image",
		in(2, SuffixMessageContent):                                        "Thank you!",
		in(4, SuffixMessageRole):                                           "assistant",
		in(5, SuffixMessageRole):                                           "tool",
		in(5, SuffixMessageToolCallID):                                     "toolu_bdrk_01LzqVRttWAxkjdq19wmG2Cn",
		in(5, SuffixMessageContent):                                        "nice",
		in(6, SuffixMessageRole):                                           "tool",
		in(6, SuffixMessageToolCallID):                                     "toolu_bdrk_01EDzXjPQZSVnEzttRY98wyT",
		in(6, SuffixMessageContent):                                        `[{"type": "text", "text": "large"}]`,
		in(7, SuffixMessageRole):                                           "user",
		in(7, SuffixMessageContent):                                        "what's current temperature and population in San Francisco?",
	} {
		if got[key] != want {
			t.Errorf("%s = %v; want %v", key, got[key], want)
		}
	}
	if _, ok := got[in(8, SuffixMessageRole)]; ok {
		t.Errorf("a ninth input message: %v", got[in(8, SuffixMessageRole)])
	}
	out := KeyLLMOutputMessages + ".0.message."
	wantOut := map[string]any{
		out + "role":                            "assistant",
		out + "contents.0.message_content.type": "text",
		out + "contents.0.message_content.text": "Of course! I'd be happy to get you the current temperature and population information for San Francisco. Let me fetch that data for you right away.",
	}
	for k, call := range [][2]string{{"toolu_bdrk_01CquHF9otnnrgxxx54tVxau", "get_current_weather_info"}, {"toolu_bdrk_017gKMzG8LV5r3snEuhgaSvt", "get_current_population_info"}} {
		for _, p := range []string{"tool_calls." + strconv.Itoa(k) + ".", "contents." + strconv.Itoa(k+1) + "."} {
			wantOut[out+p+SuffixToolCallID] = call[0]
			wantOut[out+p+SuffixToolCallName] = call[1]
			wantOut[out+p+SuffixToolCallArguments] = `{"city":"San Francisco"}`
		}
		wantOut[out+"contents."+strconv.Itoa(k+1)+"."+SuffixContentType] = "tool_use"
	}
	checkFamily(t, got, KeyLLMOutputMessages+".", wantOut)

	single := bedrockSpan(t, &BedrockInvokeModel, "anthropic.claude-3-haiku-20240307-v1:0",
		readTestdata(t, "bedrock/oi-TestClaudeInvokeModelMessageApi.test_invoke_model.request.json"), 0,
		readTestdata(t, "bedrock/oi-TestClaudeInvokeModelMessageApi.test_invoke_model.response.json"))
	answer := gjson.ParseBytes(readTestdata(t, "bedrock/oi-TestClaudeInvokeModelMessageApi.test_invoke_model.response.json"))
	checkFamily(t, spanAttrs(single), KeyLLMOutputMessages+".", map[string]any{
		out + "role":                            "assistant",
		out + "contents.0.message_content.type": "text",
		out + "contents.0.message_content.text": answer.Get("content.0.text").Str,
	})
}

// checkFamily compares the attributes of one key family with want.
func checkFamily(t *testing.T, got map[string]any, prefix string, want map[string]any) {
	t.Helper()
	family := map[string]any{}
	for k, v := range got {
		if strings.HasPrefix(k, prefix) {
			family[k] = v
		}
	}
	if !reflect.DeepEqual(family, want) {
		for k, v := range family {
			if want[k] != v {
				t.Errorf("%s = %v; want %v", k, short(v), short(want[k]))
			}
		}
		for k, v := range want {
			if _, ok := family[k]; !ok {
				t.Errorf("%s missing; want %v", k, short(v))
			}
		}
	}
}

// bedrockAttrs records a call of op with body and answer (an error answer
// when status is set) and returns its attributes whose key has one of
// prefixes.
func bedrockAttrs(t *testing.T, op *Operation, body, answer string, prefixes ...string) map[string]any {
	t.Helper()
	span := bedrockSpan(t, op, "m", []byte(body), 0, []byte(answer))
	out := map[string]any{}
	for k, v := range spanAttrs(span) {
		for _, p := range prefixes {
			if strings.HasPrefix(k, p) {
				out[k] = v
			}
		}
	}
	return out
}

func TestConverseMessages(t *testing.T) {
	in := func(i int, suffix string) string { return indexed(KeyLLMInputMessages, i, suffix) }
	part := func(i, j int, suffix string) string {
		return KeyLLMInputMessages + "." + strconv.Itoa(i) + "." + SuffixMessageContents + "." + strconv.Itoa(j) + "." + suffix
	}
	call := func(i, k int, suffix string) string {
		return KeyLLMInputMessages + "." + strconv.Itoa(i) + "." + SuffixMessageToolCalls + "." + strconv.Itoa(k) + "." + suffix
	}
	for _, tt := range []struct {
		name string
		body string
		want map[string]any
	}{{
		name: "tool results follow the rest of their message, one message each",
		body: `{"messages":[{"role":"user","content":[{"toolResult":{"toolUseId":"a","content":[{"text":"x"},{"text":"y"}]}},
			{"text":"and"},{"toolResult":{"toolUseId":"b","content":[{"json":{"t":1}}],"status":"error"}},{"toolResult":{"toolUseId":"c","content":[]}}]}]}`,
		want: map[string]any{
			in(0, SuffixMessageRole): "user", part(0, 0, SuffixContentType): "text", part(0, 0, SuffixContentText): "and",
			in(1, SuffixMessageRole): "tool", in(1, SuffixMessageToolCallID): "a", in(1, SuffixMessageContent): "x\n\ny",
			in(2, SuffixMessageRole): "tool", in(2, SuffixMessageToolCallID): "b", in(2, SuffixMessageContent): `{"t":1}`,
			in(3, SuffixMessageRole): "tool", in(3, SuffixMessageToolCallID): "c",
		},
	}, {
		name: "documents, cache points and images from S3 take no place; a message of nothing keeps its role",
		body: `{"messages":[{"role":"user","content":[{"document":{"name":"d","format":"pdf","source":{"bytes":"JVBE"}}},{"cachePoint":{"type":"default"}},
			{"image":{"format":"png","source":{"s3Location":{"uri":"s3://b/k"}}}},{"image":{"format":"png","source":{"bytes":"iVBO"}}}]},
			{"role":"user","content":[{"document":{"name":"d","format":"txt","source":{"bytes":"eA=="}}}]}]}`,
		want: map[string]any{
			in(0, SuffixMessageRole): "user", part(0, 0, SuffixContentType): "image", part(0, 0, SuffixContentImageURL): "data:image/png;base64,iVBO",
			in(1, SuffixMessageRole): "user",
		},
	}, {
		name: "system text blocks only; reasoning, redacted reasoning, tool inputs",
		body: `{"system":[{"text":"a"},{"cachePoint":{"type":"default"}},{"text":"b"}],"messages":[{"role":"assistant","content":[
			{"reasoningContent":{"reasoningText":{"text":"hmm"}}},{"reasoningContent":{"redactedContent":"RXU4"}},
			{"toolUse":{"toolUseId":"t1","name":"f","input":{"x":[1]}}},{"toolUse":{"toolUseId":"t2","name":"g","input":"raw"}},
			{"toolUse":{"toolUseId":"t3","name":"h","input":[1]}}]}]}`,
		want: map[string]any{
			in(0, SuffixMessageRole):      "system",
			part(0, 0, SuffixContentType): "text", part(0, 0, SuffixContentText): "a",
			part(0, 1, SuffixContentType): "text", part(0, 1, SuffixContentText): "b",
			in(1, SuffixMessageRole):      "assistant",
			part(1, 0, SuffixContentType): "reasoning", part(1, 0, SuffixContentText): "hmm",
			part(1, 1, SuffixContentType): "reasoning", part(1, 1, SuffixContentData): "RXU4",
			call(1, 0, SuffixToolCallID): "t1", call(1, 0, SuffixToolCallName): "f", call(1, 0, SuffixToolCallArguments): `{"x":[1]}`,
			call(1, 1, SuffixToolCallID): "t2", call(1, 1, SuffixToolCallName): "g", call(1, 1, SuffixToolCallArguments): "raw",
			call(1, 2, SuffixToolCallID): "t3", call(1, 2, SuffixToolCallName): "h",
		},
	}, {
		name: "an empty system makes no message",
		body: `{"system":[],"messages":[{"role":"user","content":[{"text":""}]}]}`,
		want: map[string]any{in(0, SuffixMessageRole): "user", part(0, 0, SuffixContentType): "text", part(0, 0, SuffixContentText): ""},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got := bedrockAttrs(t, &BedrockConverse, tt.body, "{}", KeyLLMInputMessages)
			checkFamily(t, got, KeyLLMInputMessages, tt.want)
		})
	}
}

func TestConverseResponse(t *testing.T) {
	for _, tt := range []struct {
		answer string
		want   map[string]any
	}{
		{`{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"max_tokens","usage":{"inputTokens":3,"outputTokens":4,"totalTokens":7}}`,
			map[string]any{KeyLLMFinishReason: "max_tokens", KeyTokenPrompt: int64(3), KeyTokenCompletion: int64(4), KeyTokenTotal: int64(7)}},
		{`{"output":{"message":{"role":"assistant","content":[]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":4,"totalTokens":17,"cacheReadInputTokens":10,"cacheWriteInputTokens":0}}`,
			map[string]any{KeyLLMFinishReason: "end_turn", KeyTokenPrompt: int64(13), KeyTokenCompletion: int64(4), KeyTokenTotal: int64(17),
				KeyTokenPromptCacheRead: int64(10), KeyTokenPromptCacheWrite: int64(0)}},
		{`{"output":{}}`, map[string]any{}},
	} {
		got := bedrockAttrs(t, &BedrockConverseStream, `{"messages":[]}`, tt.answer, "llm.token_count", KeyLLMFinishReason)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %v\n want %v", tt.answer, got, tt.want)
		}
	}
}

func TestConverseParams(t *testing.T) {
	for _, tt := range []struct {
		inference, additional string // "" for absent
		want                  string
		ok                    bool
	}{
		{"", "", "", false},
		{"{}", "", "{}", true},
		{`{"maxTokens":5}`, "null", `{"maxTokens":5}`, true},
		{"", "null", "", false},
		{`{"maxTokens":5,"temperature":0.1}`, `{"temperature":0.5,"top_k":3}`, `{"maxTokens":5,"temperature":0.5,"top_k":3}`, true},
		{"", `{"thinking":{"type":"enabled","budget_tokens":1024}}`, `{"thinking":{"type":"enabled","budget_tokens":1024}}`, true},
		{`{"topP":1}`, `[1]`, `{"topP":1,"additionalModelRequestFields":[1]}`, true},
	} {
		var inference, additional gjson.Result
		if tt.inference != "" {
			inference = gjson.Parse(tt.inference)
		}
		if tt.additional != "" {
			additional = gjson.Parse(tt.additional)
		}
		got, ok := converseParams(inference, additional)
		if got != tt.want || ok != tt.ok {
			t.Errorf("converseParams(%s, %s) = %s %v; want %s %v", tt.inference, tt.additional, got, ok, tt.want, tt.ok)
		}
	}
}
