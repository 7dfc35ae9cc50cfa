package integration

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/integration/awsfake"
	"github.com/phoenixproxy/llmproxy/integration/googlefake"
)

// nativeFake is every provider of the native routes at once: a request to
// Bedrock's paths must carry awsfake's signature, one to Vertex AI's a
// token the fake token endpoint issued; each is answered with a recorded
// answer of its API.
type nativeFake struct {
	tokens          *googlefake.TokenServer
	gemini, bedrock string

	mu   sync.Mutex
	seen []*http.Request
}

func (f *nativeFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, r)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/model/"):
		if err := awsfake.New().Verify(r, body); err != nil {
			awsfake.WriteError(w, err)
			return
		}
		_, _ = io.WriteString(w, f.bedrock)
	case strings.HasPrefix(r.URL.Path, "/v1/projects/") && !f.tokens.Valid(r.Header.Get("Authorization")):
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"code":401,"message":"no token","status":"UNAUTHENTICATED"}}`)
	default:
		_, _ = io.WriteString(w, f.gemini)
	}
}

func (f *nativeFake) last() *http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[len(f.seen)-1]
}

// TestConfigModelNameOnNativeRoutes: a config file's model_name in the path
// of a native route (Google's generateContent, Vertex AI's, Bedrock's
// Converse) goes to its deployment's provider, at that provider's own path
// for the deployment's model, with the deployment's credentials: a gemini/
// deployment to the Gemini API (not its OpenAI-compatible endpoint) from
// Vertex AI's route too, a vertex_ai/ one to its project and location from
// the Gemini API's route, a bedrock/ one to its model id. A deployment no
// native route reaches gets a 400 naming the APIs that do.
func TestConfigModelNameOnNativeRoutes(t *testing.T) {
	withoutAWSCredentials(t)
	ts := googlefake.NewTokenServer(t, 3600)
	gem := geminiCassettes(t)[0].Response.Body
	fake := &nativeFake{tokens: ts, gemini: gem,
		bedrock: `{"output":{"message":{"role":"assistant","content":[{"text":"Hi"}]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}}`}
	h := newHarness(t, harnessOptions{upstream: fake, config: `
model_list:
  - model_name: team-flash
    litellm_params: {model: gemini/gemini-2.5-flash, api_key: os.environ/TEAM_GEMINI_KEY}
  - model_name: vertex-flash
    litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: team-project, vertex_location: europe-west4, vertex_credentials: os.environ/TEAM_SA}
  - model_name: team-nova
    litellm_params:
      model: bedrock/converse/us.amazon.nova-micro-v1:0
      aws_access_key_id: os.environ/TEAM_AWS_ACCESS_KEY_ID
      aws_secret_access_key: os.environ/TEAM_AWS_SECRET_ACCESS_KEY
      aws_session_token: os.environ/TEAM_AWS_SESSION_TOKEN
      aws_region_name: us-east-1
  - model_name: gpt
    litellm_params: {model: openai/gpt-4o}
`, lookup: map[string]string{"TEAM_GEMINI_KEY": "team-gemini-key", "TEAM_SA": googlefake.ServiceAccountJSON(t, ts.TokenURI()),
		"TEAM_AWS_ACCESS_KEY_ID": awsfake.AccessKeyID, "TEAM_AWS_SECRET_ACCESS_KEY": awsfake.SecretAccessKey, "TEAM_AWS_SESSION_TOKEN": awsfake.SessionToken}})

	const geminiBody = `{"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}`
	for _, tt := range []struct {
		name, path, body, wantPath, wantProvider string
		check                                    func(r *http.Request) string
	}{
		{"gemini/ on the Gemini API's route", "/v1beta/models/team-flash:generateContent", geminiBody,
			"/v1beta/models/gemini-2.5-flash:generateContent", "google", func(r *http.Request) string {
				if r.Header.Get("X-Goog-Api-Key") != "team-gemini-key" {
					return "x-goog-api-key " + r.Header.Get("X-Goog-Api-Key")
				}
				return ""
			}},
		{"gemini/ on Vertex AI's route", "/vertex_ai/v1/projects/p/locations/us-central1/publishers/google/models/team-flash:generateContent", geminiBody,
			"/v1beta/models/gemini-2.5-flash:generateContent", "google", func(r *http.Request) string {
				if r.Header.Get("X-Goog-Api-Key") != "team-gemini-key" || r.Header.Get("Authorization") != "" {
					return "credentials " + r.Header.Get("X-Goog-Api-Key") + " " + r.Header.Get("Authorization")
				}
				return ""
			}},
		{"vertex_ai/ on the Gemini API's route", "/v1beta/models/vertex-flash:generateContent", geminiBody,
			"/v1/projects/team-project/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent", "google", func(r *http.Request) string {
				if r.Header.Get("X-Goog-Api-Key") != "" {
					return "the client's key went to Vertex AI"
				}
				return ""
			}},
		{"bedrock/ on Bedrock's route", "/bedrock/model/team-nova/converse", `{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}`,
			"/model/us.amazon.nova-micro-v1%3A0/converse", "aws", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := post(t, h.proxy.URL+tt.path, "application/json", tt.body, map[string]string{"X-Goog-Api-Key": "client-key"})
			want := gem
			if tt.wantProvider == "aws" {
				want = fake.bedrock
			}
			if resp.StatusCode != 200 || got != want {
				t.Fatalf("%d %.300s; want the fake's answer", resp.StatusCode, got)
			}
			r := fake.last()
			if r.URL.EscapedPath() != tt.wantPath {
				t.Errorf("upstream path %s; want %s", r.URL.EscapedPath(), tt.wantPath)
			}
			if tt.check != nil {
				if msg := tt.check(r); msg != "" {
					t.Error(msg)
				}
			}
			span := h.span(t)
			if span.Attributes["llm.provider"] != tt.wantProvider || span.Attributes["llm.system"] == "openai" {
				t.Errorf("span provider %v, system %v", span.Attributes["llm.provider"], span.Attributes["llm.system"])
			}
		})
	}

	before := len(fake.seen)
	resp, got := post(t, h.proxy.URL+"/v1beta/models/gpt:generateContent", "application/json", geminiBody, nil)
	if msg := gjson.Get(got, "error.message").String(); resp.StatusCode != 400 || !strings.Contains(msg, "/chat/completions") {
		t.Errorf("an OpenAI deployment on the Gemini API's route: %d %s; want a 400 in Google's format naming what reaches it", resp.StatusCode, got)
	}
	if len(fake.seen) != before {
		t.Error("the refused call was sent")
	}
}
