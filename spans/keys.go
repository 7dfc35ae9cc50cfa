package spans

// OpenInference attribute keys and values, as the spec defines them:
// https://github.com/Arize-ai/openinference/blob/main/spec/semantic_conventions.md
// and as openinference-instrumentation-openai writes them. Keys with an index
// (llm.input_messages.N…) are built from a prefix and a suffix below.

// Span-level keys (spec: "Attributes").
const (
	KeySpanKind       = "openinference.span.kind"
	KeyProjectName    = "openinference.project.name" // a resource attribute
	KeyInputValue     = "input.value"
	KeyInputMimeType  = "input.mime_type"
	KeyOutputValue    = "output.value"
	KeyOutputMimeType = "output.mime_type"
	KeySessionID      = "session.id"
	KeyUserID         = "user.id"
	KeyMetadata       = "metadata"
	KeyTagTags        = "tag.tags"
	// KeyCallID is the id the client got in LiteLLM's x-litellm-call-id.
	KeyCallID = "litellm.call_id"
	// KeyMocked marks a call answered with LiteLLM's mock_response.
	KeyMocked = "litellm.mock_response"
	// The config file's deployment that answered: its model_name (the
	// client's, or a fallback's), model_info.id, and API base.
	KeyModelGroup = "litellm.model_group"
	KeyModelID    = "litellm.model_id"
	KeyAPIBase    = "litellm.api_base"
	// The attempts made after the first: LiteLLM's x-litellm-attempted-*.
	KeyAttemptedRetries   = "litellm.attempted_retries"
	KeyAttemptedFallbacks = "litellm.attempted_fallbacks"
	// KeyOutputImages is a list: output.images.N.image.url.
	KeyOutputImages = "output.images"
)

// Span kinds (spec: "Span Kinds").
const (
	KindLLM       = "LLM"
	KindEmbedding = "EMBEDDING"
)

// MimeJSON is the only mime type the proxy writes: plain text values carry
// no mime type, as in the official instrumentor.
const MimeJSON = "application/json"

// LLM keys (spec: llm_spans.md).
const (
	KeyLLMSystem               = "llm.system"
	KeyLLMProvider             = "llm.provider"
	KeyLLMModelName            = "llm.model_name"
	KeyLLMRequestModelName     = "llm.request.model_name"
	KeyLLMResponseModelName    = "llm.response.model_name"
	KeyLLMInvocationParameters = "llm.invocation_parameters"
	KeyLLMFinishReason         = "llm.finish_reason"
	KeyLLMInputMessages        = "llm.input_messages"
	KeyLLMOutputMessages       = "llm.output_messages"
	KeyLLMTools                = "llm.tools"
	KeyLLMPrompts              = "llm.prompts"
	KeyLLMChoices              = "llm.choices"

	KeyTokenPrompt              = "llm.token_count.prompt"
	KeyTokenCompletion          = "llm.token_count.completion"
	KeyTokenTotal               = "llm.token_count.total"
	KeyTokenPromptCacheRead     = "llm.token_count.prompt_details.cache_read"
	KeyTokenPromptCacheWrite    = "llm.token_count.prompt_details.cache_write"
	KeyTokenPromptAudio         = "llm.token_count.prompt_details.audio"
	KeyTokenCompletionReasoning = "llm.token_count.completion_details.reasoning"
	KeyTokenCompletionAudio     = "llm.token_count.completion_details.audio"
)

// Suffixes after llm.input_messages.N / llm.output_messages.N.
const (
	SuffixMessageRole       = "message.role"
	SuffixMessageContent    = "message.content"
	SuffixMessageName       = "message.name"
	SuffixMessageToolCallID = "message.tool_call_id"
	SuffixMessageContents   = "message.contents"   // + .M + a content suffix
	SuffixMessageToolCalls  = "message.tool_calls" // + .K + a tool call suffix

	// Legacy function calling (before tools).
	SuffixMessageFunctionCallName = "message.function_call_name"
	SuffixMessageFunctionCallArgs = "message.function_call_arguments_json"
)

// Suffixes after message.contents.M.
const (
	SuffixContentType     = "message_content.type"
	SuffixContentText     = "message_content.text"
	SuffixContentImageURL = "message_content.image.image.url"
	// SuffixContentEncrypted is a reasoning item's encrypted_content.
	SuffixContentEncrypted = "message_content.encrypted_content"
	// SuffixContentSignature and SuffixContentData are an Anthropic
	// thinking block's signature and a redacted thinking block's data.
	SuffixContentSignature = "message_content.signature"
	SuffixContentData      = "message_content.data"
)

// SuffixImageURL follows output.images.N.
const SuffixImageURL = "image.url"

// Suffixes after message.tool_calls.K.
const (
	SuffixToolCallID        = "tool_call.id"
	SuffixToolCallName      = "tool_call.function.name"
	SuffixToolCallArguments = "tool_call.function.arguments"
)

// Suffixes after llm.tools.N, llm.prompts.N and llm.choices.N.
const (
	SuffixToolJSONSchema = "tool.json_schema"
	SuffixPromptText     = "prompt.text"
	SuffixCompletionText = "completion.text"
)

// Embedding keys (spec: embedding_spans.md).
const (
	KeyEmbeddingModelName            = "embedding.model_name"
	KeyEmbeddingInvocationParameters = "embedding.invocation_parameters"
	KeyEmbeddingEmbeddings           = "embedding.embeddings"
	SuffixEmbeddingText              = "embedding.text"
	SuffixEmbeddingVector            = "embedding.vector"
)

// Event names and exception attributes (OTel semantic conventions, as the
// instrumentor records them).
const (
	EventFirstToken = "First Token Stream Event"
	// EventClientDisconnected marks a stream the client left before its end.
	EventClientDisconnected = "client_disconnected"
	// EventTracingCut marks an answer the span holds only part of.
	EventTracingCut = "llmproxy.tracing_cut"
	// EventProjectLimit marks a call whose span stayed in the default
	// project: it named a new one beyond the bound.
	EventProjectLimit = "llmproxy.project_limit"
	// EventAttemptFailed is an attempt that failed and was followed by a
	// retry or a fallback: which deployment, with what status and error.
	EventAttemptFailed  = "llmproxy.attempt_failed"
	KeyAttemptNumber    = "llmproxy.attempt"
	KeyAttemptStatus    = "http.response.status_code"
	KeyAttemptError     = "error.message"
	KeyTracingCutReason = "llmproxy.tracing_cut.reason"
	EventException      = "exception"
	KeyExceptionType    = "exception.type"
	KeyExceptionMessage = "exception.message"
	KeyExceptionEscaped = "exception.escaped"
)

// Span names, as openinference-instrumentation-openai names them.
const (
	NameChatCompletion   = "ChatCompletion"
	NameCompletion       = "Completion"
	NameCreateEmbeddings = "CreateEmbeddings"
	NameResponse         = "Response" // the Responses API
	// As openinference-instrumentation-anthropic names Messages API calls.
	NameMessagesCreate = "messages.create"
	NameMessagesStream = "messages.stream"
)
