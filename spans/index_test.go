package spans

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/agentcall"
	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// TestIndexedMappingAsPlain: a request mapped through its body's index
// (jsonbound.Ends, as End maps a body of IndexFrom bytes or more) records
// exactly what it records without one, for every operation: the agent-sized
// calls, and the recorded Bedrock requests whatever their size; so does one
// mapped through the index the handler lends (jsonbound.CheckIndex, made as
// it checked the body, lent to the span's copy).
func TestIndexedMappingAsPlain(t *testing.T) {
	bodies := map[string][]byte{}
	for _, c := range agentcall.All() {
		bodies[c.Name] = c.Body
	}
	recorded, err := filepath.Glob("testdata/bedrock/*.request.json")
	if err != nil || len(recorded) == 0 {
		t.Fatalf("no recorded requests: %v", err)
	}
	for _, path := range recorded {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(path)] = b
	}
	ops := map[string]*Operation{"chat": &Chat, "anthropic": &AnthropicMessages, "responses": &Responses,
		"gemini": &GeminiGenerateContent, "converse": &BedrockConverse, "invoke": &BedrockInvokeModel,
		"completion": &Completion, "embeddings": &Embeddings}
	for name, body := range bodies {
		raw := string(body)
		for opName, op := range ops {
			var kvs [3][]string
			for i := range kvs {
				a := &Attrs{}
				switch i {
				case 1:
					a.index(raw)
				case 2:
					var lent jsonbound.Ends
					if err := jsonbound.CheckIndex(body, &lent); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					a.useIndex(lent.For(raw))
				}
				a.body = readRequest(a, gjson.Parse(raw), op.Drop...)
				op.Request(a, &a.body)
				for _, kv := range a.kv {
					kvs[i] = append(kvs[i], string(kv.Key)+"="+kv.Value.String())
				}
			}
			for i, how := range []string{"indexed", "through the lent index"} {
				if !reflect.DeepEqual(kvs[0], kvs[i+1]) {
					t.Errorf("%s as %s: %s, %d attributes differ from %d", name, opName, how, len(kvs[i+1]), len(kvs[0]))
				}
			}
		}
	}
}
