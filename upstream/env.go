package upstream

// Env is the providers' configuration from the environment, with LiteLLM's
// variable names: one part per family. Embed it in a struct read by
// envconfig.
type Env struct {
	OpenAIEnv
	AzureEnv
	CompatibleEnv
	GeminiEnv
	AnthropicEnv
}

// entry is one provider the environment configures, before its base URL is
// checked.
type entry struct {
	p Provider
	// env names the base URL's variable, for errors.
	env string
	// home marks the provider of its dialect's own API: where a call in
	// that dialect goes when nothing routes it elsewhere (OpenAI for
	// OpenAI's API, Anthropic for the Messages API).
	home bool
}

// entries are every provider the environment may configure, each family's.
func (e Env) entries() []entry {
	var all []entry
	for _, family := range [][]entry{
		e.OpenAIEnv.entries(),
		e.AzureEnv.entries(),
		e.CompatibleEnv.entries(),
		e.GeminiEnv.entries(),
		e.AnthropicEnv.entries(),
	} {
		all = append(all, family...)
	}
	return all
}
