package spans

import (
	"github.com/tidwall/gjson"
)

// Completion maps the legacy /completions onto an LLM span with llm.prompts
// and llm.choices.
var Completion = Operation{
	Name:      NameCompletion,
	Kind:      KindLLM,
	ParamsKey: KeyLLMInvocationParameters,
	Drop:      []string{"prompt"},
	Request:   completionRequest,
	Response:  completionResponse,
}

func completionRequest(a *Attrs, req *requestBody) {
	for i, text := range textInputs(req.prompt) {
		a.String(indexed(KeyLLMPrompts, i, SuffixPromptText), text)
	}
}

func completionResponse(a *Attrs, resp gjson.Result) {
	a.stringIf(KeyLLMModelName, a.get(resp, "model"))
	pos := 0
	a.forEach(a.get(resp, "choices"), func(_, choice gjson.Result) bool {
		if pos == 0 {
			a.stringIf(KeyLLMFinishReason, a.get(choice, "finish_reason"))
		}
		a.stringIf(indexed(KeyLLMChoices, listIndex(choice, pos), SuffixCompletionText), a.get(choice, "text"))
		pos++
		return true
	})
	usageAttrs(a, a.get(resp, "usage"))
}

// textInputs returns the texts of a prompt or embedding input: a string, or
// a list of strings. Token arrays (a list of integers, or of lists) have no
// text and give nothing, as in the instrumentor.
func textInputs(v gjson.Result) []string {
	switch {
	case v.Type == gjson.String:
		return []string{v.Str}
	case v.IsArray():
		items := v.Array()
		texts := make([]string, 0, len(items))
		for _, item := range items {
			if item.Type != gjson.String {
				return nil
			}
			texts = append(texts, item.Str)
		}
		return texts
	}
	return nil
}
