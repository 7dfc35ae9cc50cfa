package upstream

// Env is the providers' configuration from the environment, with LiteLLM's
// variable names: one part per family. Embed it in a struct read by
// envconfig.
type Env struct {
	OpenAIEnv
	AzureEnv
	CompatibleEnv
	GeminiEnv
	VertexEnv
	AnthropicEnv
	BedrockEnv
}

// entry is one provider the environment configures, before its base URL is
// checked.
type entry struct {
	p Provider
	// env names the base URL's variable, for errors.
	env string
	// home marks the provider of its dialect's own API: where a call in
	// that dialect goes when nothing routes it elsewhere (OpenAI for
	// OpenAI's API, Anthropic for the Messages API, the Gemini API for
	// generateContent).
	home bool
	// homeOnly keeps a home provider out of routing by name: no prefix
	// and no RouteNamed reach it (the Gemini API's LiteLLM prefix,
	// "gemini/", is another entry's: the same API translated to from
	// OpenAI's, or the OpenAI-compatible endpoint).
	homeOnly bool
	// namedOnly keeps a provider out of Route's prefixes: RouteNamed
	// reaches it by Name, and a config file's deployment by its family's
	// LiteLLM prefix (Vertex AI's, whose calls are not translated from
	// OpenAI's API).
	namedOnly bool
	// baseOptional marks a provider configured without a base URL too:
	// its family then picks the URL itself (Vertex AI's regional hosts).
	baseOptional bool
	// err, when set, is what is wrong with the family's configuration,
	// naming the variable: NewProviders returns it.
	err error
}

// entries are every provider the environment may configure, each family's.
func (e Env) entries() []entry {
	var all []entry
	for _, family := range [][]entry{
		e.OpenAIEnv.entries(),
		e.AzureEnv.entries(),
		e.CompatibleEnv.entries(),
		e.GeminiEnv.entries(),
		e.VertexEnv.entries(),
		e.AnthropicEnv.entries(),
		e.BedrockEnv.entries(),
	} {
		all = append(all, family...)
	}
	return all
}
