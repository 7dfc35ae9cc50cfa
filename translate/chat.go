package translate

import "encoding/json"

// The OpenAI chat types every translation to OpenAI chat writes
// (anthropic_openai.go, bedrock_openai.go, gemini_openai.go): each member
// one of them does not give is omitempty, so each writes the members it
// gives and no others. The usage objects differ by provider (what LiteLLM
// fills from each) and stay with their translations.

// chatCompletion is a chat.completion.
type chatCompletion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	// Usage is the translation's usage object (usage, bedrockUsage,
	// geminiUsage).
	Usage any `json:"usage"`
	// Trace is Bedrock's guardrail trace.
	Trace json.RawMessage `json:"trace,omitempty"`
}

// completionChoice is one choice of a chat.completion.
type completionChoice struct {
	Index        int             `json:"index"`
	Message      chatMessage     `json:"message"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
	FinishReason string          `json:"finish_reason"`
}

// chatMessage is the assistant message of a chat.completion.
type chatMessage struct {
	Role             string     `json:"role"`
	Content          *string    `json:"content"`
	ToolCalls        []toolCall `json:"tool_calls,omitempty"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ThinkingBlocks   []any      `json:"thinking_blocks,omitempty"`
	// ProviderSpecificFields holds Bedrock's reasoning blocks as they came.
	ProviderSpecificFields map[string]any `json:"provider_specific_fields,omitempty"`
}

// toolCall is an OpenAI tool call.
type toolCall struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// chatChunk is one chat.completion.chunk.
type chatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	// Usage is the translation's usage object, on the usage chunk only.
	Usage any `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int             `json:"index"`
	Delta        delta           `json:"delta"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
	FinishReason *string         `json:"finish_reason"`
}

type delta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	ThinkingBlocks   []block    `json:"thinking_blocks,omitempty"`
	ToolCalls        []toolCall `json:"tool_calls,omitempty"`
}
