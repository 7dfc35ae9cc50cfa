package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

func TestInspect(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Request
		wantErr *Error // nil: no error
	}{
		{
			name: "minimal",
			body: `{"model":"gpt-4o","messages":[]}`,
			want: Request{Model: "gpt-4o"},
		},
		{
			name: "provider prefix kept as sent",
			body: `{"model":"groq/llama-3.1-8b-instant"}`,
			want: Request{Model: "groq/llama-3.1-8b-instant"},
		},
		{
			name: "pretty-printed, white space around",
			body: "\n {\n  \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],\n  \"model\": \"gpt-4o\",\n  \"stream\": true\n}\n",
			want: Request{Model: "gpt-4o", Stream: true},
		},
		{
			name: "stream with usage",
			body: `{"model":"m","stream":true,"stream_options":{"include_usage":true}}`,
			want: Request{Model: "m", Stream: true, IncludeUsage: true},
		},
		{
			name: "include_usage false",
			body: `{"model":"m","stream":true,"stream_options":{"include_usage":false}}`,
			want: Request{Model: "m", Stream: true},
		},
		{
			name: "flags must be booleans",
			body: `{"model":"m","stream":"true","stream_options":{"include_usage":1}}`,
			want: Request{Model: "m"},
		},
		{
			name: "stream false",
			body: `{"model":"m","stream":false}`,
			want: Request{Model: "m"},
		},
		{
			name: "only the top-level model counts",
			body: `{"messages":[{"model":"inner"}],"model":"outer"}`,
			want: Request{Model: "outer"},
		},
		{
			name: "escapes in the model",
			body: `{"model":"caf\u00e9 \"x\""}`,
			want: Request{Model: `café "x"`},
		},
		{
			name: "LiteLLM's members",
			body: `{"model":"m","mock_response":"hi","api_key":"k"}`,
			want: Request{Model: "m", Mock: true, MockResponse: "hi", LiteLLMFields: true},
		},
		{
			name: "a mock_response that is no string is not one",
			body: `{"model":"m","mock_response":{"a":1}}`,
			want: Request{Model: "m", LiteLLMFields: true},
		},
		{
			name:    "empty body",
			body:    ``,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body is not valid JSON."},
		},
		{
			name:    "truncated JSON",
			body:    `{"model":"m"`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body is not valid JSON."},
		},
		{
			name:    "trailing garbage",
			body:    `{"model":"m"} x`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body is not valid JSON."},
		},
		{
			name:    "nested too deep",
			body:    `{"model":"m","messages":` + strings.Repeat("[", 513) + strings.Repeat("]", 513) + `}`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body is nested deeper than 512 levels."},
		},
		{
			name:    "form data",
			body:    `model=gpt-4o`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body is not valid JSON."},
		},
		{
			name:    "array",
			body:    `[{"model":"m"}]`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body must be a JSON object."},
		},
		{
			name:    "string",
			body:    `"m"`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body must be a JSON object."},
		},
		{
			name:    "null",
			body:    `null`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Message: "Request body must be a JSON object."},
		},
		{
			name:    "missing model",
			body:    `{"messages":[]}`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Param: "model", Message: "Missing required parameter: 'model'."},
		},
		{
			name: "LiteLLM's client-side fallbacks, project and trace id",
			body: `{"model":"a","fallbacks":["b",{"model":"c","messages":[]},3],"metadata":{"phoenix_project_name":"p","trace_id":"t1"},"litellm_metadata":{"existing_trace_id":"t2"}}`,
			want: Request{Model: "a", Fallbacks: []string{"b", "c"}, Project: "p", TraceID: "t2", LiteLLMFields: true, Metadata: true},
		},
		{
			name:    "empty model",
			body:    `{"model":""}`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Param: "model", Message: "Missing required parameter: 'model'."},
		},
		{
			name:    "null model",
			body:    `{"model":null}`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Param: "model", Message: "Missing required parameter: 'model'."},
		},
		{
			name:    "number model",
			body:    `{"model":4}`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Param: "model", Message: "Missing required parameter: 'model'."},
		},
		{
			name:    "object model",
			body:    `{"model":{"name":"m"}}`,
			wantErr: &Error{Status: 400, Type: TypeInvalidRequest, Param: "model", Message: "Missing required parameter: 'model'."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Inspect([]byte(tt.body))
			// Indexing as it checks changes nothing of what it reads.
			var ends jsonbound.Ends
			body := []byte(tt.body)
			if gotIdx, errIdx := InspectIndexed(body, &ends); !reflect.DeepEqual(gotIdx, got) || fmt.Sprint(errIdx) != fmt.Sprint(err) {
				t.Errorf("InspectIndexed(%q) = %+v, %v; Inspect gives %+v, %v", tt.body, gotIdx, errIdx, got, err)
			} else if err == nil && ends.Containers() > 0 && !ends.Indexes(body) {
				t.Errorf("InspectIndexed(%q): the index is not of the body", tt.body)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Inspect(%q) error = %v; want nil", tt.body, err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Inspect(%q) = %+v; want %+v", tt.body, got, tt.want)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Inspect(%q) error = %v; want an *Error", tt.body, err)
			}
			if *e != *tt.wantErr {
				t.Errorf("Inspect(%q) error = %+v; want %+v", tt.body, *e, *tt.wantErr)
			}
			if !reflect.DeepEqual(got, Request{}) {
				t.Errorf("Inspect(%q) = %+v with an error; want the zero Request", tt.body, got)
			}
		})
	}
}

// members decodes a JSON object's top-level members, compacted.
func members(t testing.TB, body []byte) map[string]string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	out := map[string]string{}
	for k, v := range m {
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			t.Fatal(err)
		}
		out[k] = b.String()
	}
	return out
}

// checkOthersKept fails unless out has the same top-level members as body,
// with the same values, except for key.
func checkOthersKept(t testing.TB, body, out []byte, key string) {
	t.Helper()
	before, after := members(t, body), members(t, out)
	delete(before, key)
	delete(after, key)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("members other than %q = %v; want them unchanged, %v", key, after, before)
	}
}

func TestSetModel(t *testing.T) {
	tests := []struct {
		name, body, model, want string
	}{
		{
			name:  "compact",
			body:  `{"model":"groq/llama3","messages":[]}`,
			model: "llama3",
			want:  `{"model":"llama3","messages":[]}`,
		},
		{
			name:  "pretty-printed, model in the middle",
			body:  "{\n  \"messages\": [\n    {\"content\": \"Hello!\", \"role\": \"user\"}\n  ],\n  \"model\": \"openai/gpt-5-nano\",\n  \"stream\": true\n}",
			model: "gpt-5-nano",
			want:  "{\n  \"messages\": [\n    {\"content\": \"Hello!\", \"role\": \"user\"}\n  ],\n  \"model\": \"gpt-5-nano\",\n  \"stream\": true\n}",
		},
		{
			name:  "only the top-level model",
			body:  `{"messages":[{"model":"groq/x"}], "model" : "groq/x" }`,
			model: "x",
			want:  `{"messages":[{"model":"groq/x"}], "model" : "x" }`,
		},
		{
			name:  "escaped value replaced whole",
			body:  `{"model":"groq\/a\u00e9","n":1}`,
			model: "aé",
			want:  `{"model":"aé","n":1}`,
		},
		{
			name:  "quotes and backslashes",
			body:  `{"model":"m"}`,
			model: `a"b\c`,
			want:  `{"model":"a\"b\\c"}`,
		},
		{
			name:  "unicode kept as UTF-8",
			body:  `{"model":"m"}`,
			model: "モデル/é",
			want:  `{"model":"モデル/é"}`,
		},
		{
			name:  "control characters and DEL",
			body:  `{"model":"m"}`,
			model: "a\x00\x07\x1f\x7f\n",
			want:  `{"model":"a\u0000\u0007\u001f` + "\x7f" + `\n"}`,
		},
		{
			name:  "invalid UTF-8",
			body:  `{"model":"m"}`,
			model: "a\xffb",
			want:  `{"model":"a\ufffdb"}`,
		},
		{
			name:  "no model: unchanged",
			body:  `{"messages":[]}`,
			model: "x",
			want:  `{"messages":[]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			orig := bytes.Clone(body)
			got := SetModel(body, tt.model)
			if string(got) != tt.want {
				t.Errorf("SetModel(%q, %q) = %q; want %q", tt.body, tt.model, got, tt.want)
			}
			if !bytes.Equal(body, orig) {
				t.Errorf("SetModel modified its input: %q", body)
			}
			if !json.Valid(got) {
				t.Fatalf("SetModel(%q, %q) = %q: invalid JSON", tt.body, tt.model, got)
			}
			checkOthersKept(t, body, got, "model")
		})
	}
}

func TestWithIncludeUsage(t *testing.T) {
	const member = `"stream_options":{"include_usage":true}`
	tests := []struct {
		name, body, want string
	}{
		{
			name: "compact",
			body: `{"model":"m","stream":true}`,
			want: `{"model":"m","stream":true,` + member + `}`,
		},
		{
			name: "pretty-printed",
			body: "{\n  \"model\": \"m\",\n  \"stream\": true\n}",
			want: "{\n  \"model\": \"m\",\n  \"stream\": true\n," + member + "}",
		},
		{
			name: "white space before the closing brace",
			body: "{\"model\":\"m\" \t\r\n}",
			want: "{\"model\":\"m\" \t\r\n," + member + "}",
		},
		{
			name: "white space after the closing brace",
			body: "{\"model\":\"m\"}\n\n",
			want: "{\"model\":\"m\"," + member + "}\n\n",
		},
		{
			name: "empty object",
			body: `{}`,
			want: `{` + member + `}`,
		},
		{
			name: "empty object with white space",
			body: "{ \n }",
			want: "{ \n " + member + "}",
		},
		{
			name: "nested object last",
			body: `{"model":"m","metadata":{"a":{}}}`,
			want: `{"model":"m","metadata":{"a":{}},` + member + `}`,
		},
		{
			name: "include_usage false",
			body: `{"model":"m","stream_options":{"include_usage":false},"stream":true}`,
			want: `{"model":"m","stream_options":{"include_usage":true},"stream":true}`,
		},
		{
			name: "already true",
			body: `{"stream_options":{"include_usage":true},"model":"m"}`,
			want: `{"stream_options":{"include_usage":true},"model":"m"}`,
		},
		{
			name: "other options kept",
			body: `{"model":"m","stream_options": {"include_obfuscation": false, "include_usage": false}}`,
			want: `{"model":"m","stream_options": {"include_obfuscation":false,"include_usage":true}}`,
		},
		{
			name: "other options, no include_usage",
			body: `{"stream_options":{"x":[1, 2]},"model":"m"}`,
			want: `{"stream_options":{"x":[1, 2],"include_usage":true},"model":"m"}`,
		},
		{
			name: "empty stream_options",
			body: `{"model":"m","stream_options":{}}`,
			want: `{"model":"m","stream_options":{"include_usage":true}}`,
		},
		{
			name: "null stream_options",
			body: `{"model":"m","stream_options":null}`,
			want: `{"model":"m","stream_options":{"include_usage":true}}`,
		},
		{
			name: "stream_options only nested",
			body: `{"model":"m","metadata":{"stream_options":{}}}`,
			want: `{"model":"m","metadata":{"stream_options":{}},` + member + `}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			orig := bytes.Clone(body)
			got := WithIncludeUsage(body)
			if string(got) != tt.want {
				t.Errorf("WithIncludeUsage(%q) = %q; want %q", tt.body, got, tt.want)
			}
			if !bytes.Equal(body, orig) {
				t.Errorf("WithIncludeUsage modified its input: %q", body)
			}
			if !json.Valid(got) {
				t.Fatalf("WithIncludeUsage(%q) = %q: invalid JSON", tt.body, got)
			}
			checkOthersKept(t, body, got, "stream_options")
			if !includeUsage(got) {
				t.Errorf("WithIncludeUsage(%q) = %q: want stream_options.include_usage true", tt.body, got)
			}
		})
	}
}

// includeUsage reports whether encoding/json reads stream_options.include_usage
// as true.
func includeUsage(body []byte) bool {
	var opts struct {
		StreamOptions map[string]json.RawMessage `json:"stream_options"`
	}
	return json.Unmarshal(body, &opts) == nil && string(opts.StreamOptions["include_usage"]) == "true"
}

// topLevelKeys returns the keys of a JSON object in order, or ok false when
// body is not one.
func topLevelKeys(body []byte) (keys []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
	}
	return keys, true
}

func FuzzRequestEdits(f *testing.F) {
	f.Add([]byte(`{"model":"groq/llama3","messages":[{"role":"user","content":"hi"}],"stream":true}`), "llama3")
	f.Add([]byte("{\n  \"model\": \"m\",\n  \"stream_options\": {\"include_usage\": false, \"x\": 1}\n}\n"), "a\"\\\x00\x7f\xff")
	f.Add([]byte(`{"mod\u0065l":"x","stream_options":null}`), "y")
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, body []byte, model string) {
		keys, ok := topLevelKeys(body)
		if !ok || !json.Valid(body) {
			return
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				return // duplicate keys: decoders disagree on which one counts
			}
			seen[k] = true
		}

		out := WithIncludeUsage(body)
		if !json.Valid(out) {
			t.Fatalf("WithIncludeUsage(%q) = %q: invalid JSON", body, out)
		}
		checkOthersKept(t, body, out, "stream_options")
		if !includeUsage(out) {
			t.Fatalf("WithIncludeUsage(%q) = %q: want stream_options.include_usage true", body, out)
		}

		if !seen["model"] {
			return
		}
		out = SetModel(body, model)
		if !json.Valid(out) {
			t.Fatalf("SetModel(%q, %q) = %q: invalid JSON", body, model, out)
		}
		checkOthersKept(t, body, out, "model")
		want, _ := json.Marshal(model)
		var wantModel, gotModel any
		_ = json.Unmarshal(want, &wantModel)
		var m map[string]any
		_ = json.Unmarshal(out, &m)
		gotModel = m["model"]
		if gotModel != wantModel {
			t.Fatalf("SetModel(%q, %q) = %q: model is %q; want %q", body, model, out, gotModel, wantModel)
		}
	})
}

func TestInspectRejectsDuplicateModel(t *testing.T) {
	_, err := Inspect([]byte(`{"model":"gpt-4o","messages":[],"model":"groq/llama3"}`))
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || e.Param != "model" {
		t.Errorf("got %v; want a 400 naming the model parameter", err)
	}
}
