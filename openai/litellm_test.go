package openai

import (
	"encoding/json"
	"testing"
)

func TestWithoutLiteLLMFields(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"model":"m","messages":[]}`, `{"model":"m","messages":[]}`},
		{`{"model":"m","api_key":"sk-1","messages":[]}`, `{"model":"m","messages":[]}`},
		{`{"api_key":"sk-1","model":"m"}`, `{"model":"m"}`},
		{`{"model":"m", "api_base" : "http://x" }`, `{"model":"m" }`},
		{`{"api_key":"k"}`, `{}`},
		{`{"model":"m","aws_secret_access_key":"s","aws_access_key_id":"a","metadata":{"api_key":"nested stays"}}`,
			`{"model":"m","metadata":{"api_key":"nested stays"}}`},
		{"{\n  \"model\": \"m\",\n  \"api_key\": \"k\",\n  \"n\": 1\n}", "{\n  \"model\": \"m\",\n  \n  \"n\": 1\n}"}, // white space around it stays
	}
	for _, tt := range tests {
		got := WithoutLiteLLMFields([]byte(tt.in))
		if string(got) != tt.want {
			t.Errorf("WithoutLiteLLMFields(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("not valid JSON: %q", got)
		}
	}
}

// TestWithoutLiteLLMFieldsAlso: the members an API names go too (LiteLLM's
// metadata on chat), at the top level only.
func TestWithoutLiteLLMFieldsAlso(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"model":"m","metadata":{"tags":["a"]},"api_key":"k"}`, `{"model":"m"}`},
		{`{"metadata":null,"model":"m"}`, `{"model":"m"}`},
		{`{"model":"m","tools":[{"metadata":1}]}`, `{"model":"m","tools":[{"metadata":1}]}`},
	}
	for _, tt := range tests {
		if got := WithoutLiteLLMFields([]byte(tt.in), "metadata"); string(got) != tt.want {
			t.Errorf("WithoutLiteLLMFields(%q, metadata) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzWithoutLiteLLMFields(f *testing.F) {
	f.Add([]byte(`{"model":"m","api_key":"sk","x":[1,{"api_base":2}], "vertex_credentials" :{"a":1}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var before map[string]any
		if json.Unmarshal(in, &before) != nil {
			return
		}
		got := WithoutLiteLLMFields(in)
		var after map[string]any
		if err := json.Unmarshal(got, &after); err != nil {
			t.Fatalf("WithoutLiteLLMFields(%q) = %q: %v", in, got, err)
		}
		for k := range after {
			if litellmFields[k] {
				t.Fatalf("%q kept in %q", k, got)
			}
		}
	})
}
