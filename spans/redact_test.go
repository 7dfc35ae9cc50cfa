package spans

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

// TestRedaction checks each setting against TraceConfig.mask's semantics
// (openinference-instrumentation, config.py): "drop" removes the
// attribute, "R" replaces it with __REDACTED__, "keep" leaves it.
func TestRedaction(t *testing.T) {
	longImage := "data:image/png;base64," + strings.Repeat("A", DefaultBase64ImageMaxLength)
	span := []attribute.KeyValue{
		attribute.String("input.value", `{"model":"m"}`),
		attribute.String("input.mime_type", "application/json"),
		attribute.String("llm.invocation_parameters", `{"temperature":0}`),
		attribute.String("llm.tools.0.tool.json_schema", `{"type":"function"}`),
		attribute.String("llm.input_messages.0.message.content", "hi"),
		attribute.String("llm.input_messages.1.message.contents.0.message_content.text", "look"),
		attribute.String("llm.input_messages.1.message.contents.1.message_content.image.image.url", "data:image/png;base64,AAAA"),
		attribute.String("llm.input_messages.1.message.contents.2.message_content.image.image.url", longImage),
		attribute.String("llm.output_messages.0.message.content", "hello"),
		attribute.String("llm.output_messages.0.message.contents.0.message_content.text", "part"),
		attribute.String("output.value", `{"id":"x"}`),
		attribute.String("output.mime_type", "application/json"),
		attribute.String("llm.prompts.0.prompt.text", "complete me"),
		attribute.String("llm.choices.0.completion.text", "done"),
		attribute.String("embedding.embeddings.0.embedding.text", "embed me"),
		attribute.Float64Slice("embedding.embeddings.0.embedding.vector", []float64{0.1}),
		attribute.String("output.images.0.image.url", "data:image/png;base64,BBBB"),
		attribute.Int("llm.token_count.total", 7),
	}
	names := []string{"input.value", "input.mime_type", "llm.invocation_parameters", "llm.tools", "in.content", "in.text",
		"in.image", "in.long_image", "out.content", "out.text", "output.value", "output.mime_type", "prompt", "choice",
		"emb.text", "emb.vector", "out.image", "tokens"}
	// Each row: what happens to the attributes above, in order.
	const k, d, R = "keep", "drop", "R"
	tests := []struct {
		name string
		red  Redaction
		want []string
	}{
		{"defaults: long base64 images only", Redaction{}, []string{k, k, k, k, k, k, k, R, k, k, k, k, k, k, k, k, k, k}},
		{"HIDE_INPUTS", Redaction{HideInputs: true}, []string{R, d, k, d, d, d, d, d, k, k, k, k, R, k, k, k, k, k}},
		{"HIDE_OUTPUTS", Redaction{HideOutputs: true}, []string{k, k, k, k, k, k, k, R, d, d, R, d, k, R, k, k, d, k}},
		{"HIDE_INPUT_MESSAGES", Redaction{HideInputMessages: true}, []string{k, k, k, k, d, d, d, d, k, k, k, k, k, k, k, k, k, k}},
		{"HIDE_OUTPUT_MESSAGES", Redaction{HideOutputMessages: true}, []string{k, k, k, k, k, k, k, R, d, d, k, k, k, k, k, k, k, k}},
		{"HIDE_INPUT_IMAGES", Redaction{HideInputImages: true}, []string{k, k, k, k, k, k, d, d, k, k, k, k, k, k, k, k, k, k}},
		{"HIDE_INPUT_TEXT", Redaction{HideInputText: true}, []string{k, k, k, k, R, R, k, R, k, k, k, k, k, k, k, k, k, k}},
		{"HIDE_OUTPUT_TEXT", Redaction{HideOutputText: true}, []string{k, k, k, k, k, k, k, R, R, R, k, k, k, k, k, k, k, k}},
		{"HIDE_EMBEDDINGS_VECTORS", Redaction{HideEmbeddingsVectors: true}, []string{k, k, k, k, k, k, k, R, k, k, k, k, k, k, k, R, k, k}},
		{"HIDE_EMBEDDINGS_TEXT", Redaction{HideEmbeddingsText: true}, []string{k, k, k, k, k, k, k, R, k, k, k, k, k, k, R, k, k, k}},
		{"HIDE_LLM_INVOCATION_PARAMETERS", Redaction{HideLLMInvocationParameters: true}, []string{k, k, d, k, k, k, k, R, k, k, k, k, k, k, k, k, k, k}},
		{"HIDE_LLM_TOOLS", Redaction{HideLLMTools: true}, []string{k, k, k, d, k, k, k, R, k, k, k, k, k, k, k, k, k, k}},
		{"HIDE_PROMPTS", Redaction{HidePrompts: true}, []string{k, k, k, k, k, k, k, R, k, k, k, k, R, k, k, k, k, k}},
		{"HIDE_CHOICES", Redaction{HideChoices: true}, []string{k, k, k, k, k, k, k, R, k, k, k, k, k, R, k, k, k, k}},
		{"BASE64_IMAGE_MAX_LENGTH=3", Redaction{Base64ImageMaxLength: 3}, []string{k, k, k, k, k, k, R, R, k, k, k, k, k, k, k, k, R, k}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]attribute.KeyValue(nil), span...)
			got := map[attribute.Key]attribute.Value{}
			for _, kv := range tt.red.apply(in) {
				got[kv.Key] = kv.Value
			}
			for i, kv := range span {
				v, present := got[kv.Key]
				var have string
				switch {
				case !present:
					have = d
				case v.Type() == attribute.STRING && v.AsString() == Redacted && kv.Value.AsString() != Redacted:
					have = R
				case reflect.DeepEqual(v, kv.Value):
					have = k
				default:
					have = "changed to " + v.String()
				}
				if have != tt.want[i] {
					t.Errorf("%s (%s): %s; want %s", names[i], kv.Key, have, tt.want[i])
				}
			}
		})
	}
}

func TestRedactionPatterns(t *testing.T) {
	red := Redaction{Patterns: []*regexp.Regexp{regexp.MustCompile(`sk-[A-Za-z0-9]{8,}`), regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)}}
	got := red.apply([]attribute.KeyValue{
		attribute.String("llm.input_messages.0.message.content", "my key sk-abcdefgh1234 and SSN 123-45-6789."),
		attribute.StringSlice("tag.tags", []string{"ok", "123-45-6789"}),
		attribute.Int("llm.token_count.total", 3),
	})
	if s := got[0].Value.AsString(); s != "my key __REDACTED__ and SSN __REDACTED__." {
		t.Errorf("content: %q", s)
	}
	if s := got[1].Value.AsStringSlice(); s[0] != "ok" || s[1] != Redacted {
		t.Errorf("tags: %q", s)
	}
	if got[2].Value.AsInt64() != 3 {
		t.Errorf("a number changed")
	}
}
