package upstream

// GeminiEnv configures Google's Gemini API, reached today through its
// OpenAI-compatible endpoint.
type GeminiEnv struct {
	GeminiAPIBase string `envconfig:"GEMINI_API_BASE" default:"https://generativelanguage.googleapis.com/v1beta/openai"`
	GeminiAPIKey  string `envconfig:"GEMINI_API_KEY"`
}

func (e GeminiEnv) entries() []entry {
	return []entry{{Provider{Name: "gemini", System: "openai", Host: "google", BaseURL: e.GeminiAPIBase, APIKey: e.GeminiAPIKey, family: openAIAPI{}}, "GEMINI_API_BASE", false}}
}
