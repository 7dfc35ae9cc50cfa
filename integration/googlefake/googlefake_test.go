package googlefake

import "testing"

func TestCamelToSnake(t *testing.T) {
	for in, want := range map[string]string{
		"usageMetadata":           "usage_metadata",
		"promptTokensDetails":     "prompt_tokens_details",
		"toolUsePromptTokenCount": "tool_use_prompt_token_count",
		"HTTPResponse":            "http_response",
		"thoughtSignature":        "thought_signature",
		"index":                   "index",
	} {
		if got := CamelToSnake(in); got != want {
			t.Errorf("CamelToSnake(%q) = %q; want %q", in, got, want)
		}
	}
}
