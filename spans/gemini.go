package spans

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
	"go.opentelemetry.io/otel/attribute"

	"github.com/phoenixproxy/llmproxy/jsonbound"
	"github.com/phoenixproxy/llmproxy/openai"
)

// GeminiGenerateContent maps Google's generateContent (the Gemini API's
// /models/{model}:generateContent and Vertex AI's publishers/google one)
// onto an LLM span, as openinference-instrumentation-google-genai does
// (_request_attributes_extractor.py, _response_attributes_extractor.py,
// _context.py, _utils.py): the system instruction as input message 0,
// role system; each content a message of its role (user, model), each
// function response a message of its own, role tool; the candidates'
// contents out; token counts with thoughts counted in the completion.
//
// Deliberate differences: input.value and output.value are the JSON as it
// crossed the wire (Google's camelCase), where the instrumentor records its
// SDK's request and response objects with every key in snake_case (and an
// sdk_http_response member). Tools and invocation parameters are recorded
// in snake_case, as the instrumentor does, so that Phoenix shows them
// alike.
var GeminiGenerateContent = Operation{
	Name:          NameGenerateContent,
	Kind:          KindLLM,
	Request:       geminiRequest,
	Response:      geminiResponse,
	UpstreamError: geminiUpstreamError,
}

// GeminiStreamGenerateContent is :streamGenerateContent: the same mapping,
// its output the response the stream's chunks make up.
var GeminiStreamGenerateContent = func() Operation {
	op := GeminiGenerateContent
	op.Name = NameGenerateContentStream
	return op
}()

// GeminiEmbedContent maps :embedContent and :batchEmbedContents onto an
// EMBEDDING span, as the instrumentor's embedding extractor does: each
// request's text parts joined by blank lines, each embedding's vector.
var GeminiEmbedContent = Operation{
	Name:          NameEmbedContent,
	Kind:          KindEmbedding,
	Request:       geminiEmbedRequest,
	Response:      geminiEmbedResponse,
	UpstreamError: geminiUpstreamError,
}

// The instrumentor's span names.
const (
	NameGenerateContent       = "GenerateContent"
	NameGenerateContentStream = "GenerateContentStream"
	NameEmbedContent          = "EmbedContent"
)

// SuffixToolCallSignature is a function call's thought signature.
const SuffixToolCallSignature = "tool_call.reasoning_signature"

func geminiRequest(a *Attrs, req *requestBody) {
	obj := req.obj
	i := 0
	if sys := a.get(obj, "systemInstruction"); sys.Exists() {
		// A Content, or (as the SDK also accepts) a plain string.
		if sys.Type == gjson.String {
			a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageContent), sys.Str)
		} else {
			geminiPartsAttrs(a, KeyLLMInputMessages, 0, geminiParts(a.get(sys, "parts"), false), true)
		}
		a.String(indexed(KeyLLMInputMessages, 0, SuffixMessageRole), "system")
		i = 1
	}
	a.forEach(a.get(obj, "contents"), func(_, content gjson.Result) bool {
		role := a.get(content, "role").Str
		if role == "" {
			role = "user"
		}
		parts := a.get(content, "parts")
		// Each function response is a message of its own, role tool,
		// before the rest of its content.
		rest := 0
		a.forEach(parts, func(_, part gjson.Result) bool {
			fr := a.get(part, "functionResponse")
			if !fr.Exists() {
				rest++
				return true
			}
			a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), "tool")
			a.stringIf(indexed(KeyLLMInputMessages, i, SuffixMessageName), a.get(fr, "name"))
			if resp := a.get(fr, "response"); resp.Exists() {
				a.String(indexed(KeyLLMInputMessages, i, SuffixMessageContent), resp.Raw)
			}
			a.stringIf(indexed(KeyLLMInputMessages, i, SuffixMessageToolCallID), a.get(fr, "id"))
			i++
			return true
		})
		if rest == 0 && parts.IsArray() && len(parts.Array()) > 0 {
			return true
		}
		a.String(indexed(KeyLLMInputMessages, i, SuffixMessageRole), role)
		geminiPartsAttrs(a, KeyLLMInputMessages, i, geminiParts(parts, true), true)
		i++
		return true
	})
	geminiToolsAttrs(a, a.get(obj, "tools"))
	if gc := a.get(obj, "generationConfig"); hasMembers(gc) {
		a.String(KeyLLMInvocationParameters, snakeKeys(gc))
	}
}

// geminiParts are a content's parts, without its function responses when
// skipResponses (they are messages of their own).
func geminiParts(parts gjson.Result, skipResponses bool) []gjson.Result {
	var out []gjson.Result
	jsonbound.ForEach(parts, func(_, p gjson.Result) bool {
		if !skipResponses || !jsonbound.Get(p, "functionResponse").Exists() {
			out = append(out, p)
		}
		return true
	})
	return out
}

// geminiPartsAttrs records the parts of message i of list: a lone text
// part as message.content, the others as message.contents (text, thoughts
// as reasoning with their signature, images) and message.tool_calls. The
// instrumentor reads a request's parts and a response's slightly apart:
// in a request an empty text is content, and inline data that is not an
// image takes no place; in a response the reverse.
func geminiPartsAttrs(a *Attrs, list string, i int, parts []gjson.Result, request bool) {
	content, calls := 0, 0
	contentKey := func(suffix string) string { return messageListKey(list, i, SuffixMessageContents, content, suffix) }
	for _, part := range parts {
		next := false
		text, sig := a.get(part, "text"), a.get(part, "thoughtSignature")
		switch {
		case a.get(part, "thought").Bool():
			if text.Str != "" || sig.Exists() {
				a.String(contentKey(SuffixContentType), "reasoning")
				if text.Str != "" {
					a.String(contentKey(SuffixContentText), text.Str)
				}
				stdBase64If(a, contentKey(SuffixContentSignature), sig)
				next = true
			}
		case text.Exists():
			switch {
			case sig.Exists():
				a.String(contentKey(SuffixContentType), "text")
				if request || text.Str != "" {
					a.String(contentKey(SuffixContentText), text.Str)
				}
				stdBase64If(a, contentKey(SuffixContentSignature), sig)
				next = true
			case !request && text.Str == "":
			case len(parts) == 1:
				a.String(indexed(list, i, SuffixMessageContent), text.Str)
				next = !request
			default:
				a.String(contentKey(SuffixContentType), "text")
				a.String(contentKey(SuffixContentText), text.Str)
				next = true
			}
		case a.get(part, "functionCall").Exists():
			fc := a.get(part, "functionCall")
			tc := func(suffix string) string { return messageListKey(list, i, SuffixMessageToolCalls, calls, suffix) }
			if name := a.get(fc, "name"); name.Str != "" {
				a.String(tc(SuffixToolCallName), name.Str)
			}
			if args := a.get(fc, "args"); hasMembers(args) {
				a.String(tc(SuffixToolCallArguments), args.Raw)
			}
			if id := a.get(fc, "id"); request && id.Str != "" {
				a.String(tc(SuffixToolCallID), id.Str)
			}
			stdBase64If(a, tc(SuffixToolCallSignature), sig)
			calls++
		}
		for _, member := range []string{"inlineData", "fileData"} {
			data := part.Get(member)
			if !data.Exists() {
				continue
			}
			if url := geminiImageURL(member, data); url != "" {
				a.String(contentKey(SuffixContentImageURL), url)
				a.String(contentKey(SuffixContentType), "image")
				next = true
			} else if !request {
				next = true
			}
		}
		if next {
			content++
		}
	}
}

// geminiImageURL is the URL of an image part: inline data as a data URL,
// file data as its URI; "" for any other media.
func geminiImageURL(member string, data gjson.Result) string {
	mime := jsonbound.Get(data, "mimeType")
	if !mime.Exists() {
		mime = jsonbound.Get(data, "mime_type") // the API takes both spellings
	}
	if !strings.Contains(mime.Str, "image") {
		return ""
	}
	if member == "inlineData" {
		if d := jsonbound.Get(data, "data"); d.Type == gjson.String {
			return "data:" + mime.Str + ";base64," + stdBase64(d.Str)
		}
		return ""
	}
	uri := jsonbound.Get(data, "fileUri")
	if !uri.Exists() {
		uri = jsonbound.Get(data, "file_uri")
	}
	return uri.Str
}

// stdBase64 is base64 in the standard alphabet: the API takes bytes in
// either alphabet (the SDKs send URL-safe), the instrumentor records them
// in the standard one, as its SDK decoded them.
func stdBase64(s string) string {
	if !strings.ContainsAny(s, "-_") {
		return s
	}
	return strings.NewReplacer("-", "+", "_", "/").Replace(s)
}

// stdBase64If adds key when v is a JSON string, in standard base64.
func stdBase64If(a *Attrs, key string, v gjson.Result) {
	if v.Type == gjson.String {
		a.String(key, stdBase64(v.Str))
	}
}

// geminiToolsAttrs records each function declaration as a tool (its name,
// description and parameters), and each other tool (Google Search, code
// execution) whole, in snake_case as the instrumentor does.
func geminiToolsAttrs(a *Attrs, tools gjson.Result) {
	n := 0
	a.forEach(tools, func(_, tool gjson.Result) bool {
		decls := a.get(tool, "functionDeclarations")
		if !decls.IsArray() || len(decls.Array()) == 0 {
			a.String(indexed(KeyLLMTools, n, SuffixToolJSONSchema), snakeKeys(tool))
			n++
			return true
		}
		a.forEach(decls, func(_, decl gjson.Result) bool {
			b := []byte{'{'}
			for _, m := range [][2]string{{"name", "name"}, {"description", "description"}, {"parameters", "parameters"}} {
				if v := decl.Get(m[0]); v.Exists() {
					b = appendSnakeMember(b, m[1], v)
				}
			}
			if !a.get(decl, "parameters").Exists() {
				// google-genai ≥ 2 sends JSON Schema apart; the API takes
				// either spelling of its name.
				for _, name := range []string{"parametersJsonSchema", "parameters_json_schema"} {
					if v := decl.Get(name); v.Exists() {
						b = appendSnakeMember(b, "parameters", v)
						break
					}
				}
			}
			a.String(indexed(KeyLLMTools, n, SuffixToolJSONSchema), string(append(b, '}')))
			n++
			return true
		})
		return true
	})
}

func geminiResponse(a *Attrs, resp gjson.Result) {
	a.stringIf(KeyLLMModelName, a.get(resp, "modelVersion"))
	geminiUsageAttrs(a, a.get(resp, "usageMetadata"))
	index := -1
	a.forEach(a.get(resp, "candidates"), func(_, cand gjson.Result) bool {
		index = indexOr(a.get(cand, "index"), index+1)
		if content := a.get(cand, "content"); content.IsObject() {
			geminiPartsAttrs(a, KeyLLMOutputMessages, index, geminiParts(a.get(content, "parts"), false), false)
			a.stringIf(indexed(KeyLLMOutputMessages, index, SuffixMessageRole), a.get(content, "role"))
		}
		if fr := a.get(cand, "finishReason"); index == 0 && fr.Type == gjson.String {
			a.String(KeyLLMFinishReason, fr.Str)
		}
		return true
	})
}

// geminiUsageAttrs records usageMetadata as the instrumentor counts it: the
// prompt with its tool-use prompt tokens (cached ones are in it already),
// the completion with its thoughts, audio apart, the total the larger of
// the sum and the API's.
func geminiUsageAttrs(a *Attrs, usage gjson.Result) {
	if !usage.IsObject() {
		return
	}
	audio := func(details gjson.Result) int64 {
		var n int64
		a.forEach(details, func(_, d gjson.Result) bool {
			if a.get(d, "modality").Str == "AUDIO" {
				n += a.get(d, "tokenCount").Int()
			}
			return true
		})
		return n
	}
	positive := func(key string, n int64) {
		if n > 0 {
			a.Int(key, n)
		}
	}
	positive(KeyTokenPromptAudio, audio(a.get(usage, "promptTokensDetails")))
	prompt := a.get(usage, "promptTokenCount").Int() + a.get(usage, "toolUsePromptTokenCount").Int()
	positive(KeyTokenPromptCacheRead, a.get(usage, "cachedContentTokenCount").Int())
	positive(KeyTokenPrompt, prompt)
	positive(KeyTokenCompletionAudio, audio(a.get(usage, "candidatesTokensDetails")))
	thoughts := a.get(usage, "thoughtsTokenCount").Int()
	positive(KeyTokenCompletionReasoning, thoughts)
	completion := a.get(usage, "candidatesTokenCount").Int() + thoughts
	positive(KeyTokenCompletion, completion)
	positive(KeyTokenTotal, max(prompt+completion, a.get(usage, "totalTokenCount").Int()))
}

func geminiEmbedRequest(a *Attrs, req *requestBody) {
	obj := req.obj
	// :batchEmbedContents has requests, each with its content;
	// :embedContent one content.
	contents := []gjson.Result{a.get(obj, "content")}
	if reqs := a.get(obj, "requests"); reqs.IsArray() {
		contents = contents[:0]
		first := true
		a.forEach(reqs, func(_, r gjson.Result) bool {
			contents = append(contents, a.get(r, "content"))
			if first {
				geminiEmbedParams(a, r, "content", "model")
				first = false
			}
			return true
		})
	} else {
		geminiEmbedParams(a, obj, "content", "model")
	}
	for i, c := range contents {
		var texts []string
		a.forEach(a.get(c, "parts"), func(_, p gjson.Result) bool {
			if t := a.get(p, "text"); t.Exists() {
				texts = append(texts, t.Str)
			}
			return true
		})
		if len(texts) > 0 {
			a.String(indexed(KeyEmbeddingEmbeddings, i, SuffixEmbeddingText), strings.Join(texts, "\n\n"))
		}
	}
}

// geminiEmbedParams records an embedding request's other members
// (taskType, outputDimensionality, …) as its invocation parameters.
func geminiEmbedParams(a *Attrs, r gjson.Result, skip ...string) {
	b := []byte{'{'}
	a.forEach(r, func(k, v gjson.Result) bool {
		for _, s := range skip {
			if k.Str == s {
				return true
			}
		}
		b = appendSnakeMember(b, k.Str, v)
		return true
	})
	if len(b) > 1 {
		a.String(KeyEmbeddingInvocationParameters, string(append(b, '}')))
	}
}

func geminiEmbedResponse(a *Attrs, resp gjson.Result) {
	vectors := a.get(resp, "embeddings")
	if one := a.get(resp, "embedding"); one.IsObject() {
		vectors = gjson.Parse("[" + one.Raw + "]")
	}
	i := 0
	a.forEach(vectors, func(_, e gjson.Result) bool {
		if vec := embeddingVector(a.get(e, "values")); vec != nil {
			a.kv = append(a.kv, attribute.Float64Slice(indexed(KeyEmbeddingEmbeddings, i, SuffixEmbeddingVector), vec))
		}
		i++
		return true
	})
}

// geminiUpstreamError words an error answer as the google-genai SDK raises
// it (google/genai/errors.py): ClientError for a 4xx, ServerError for a
// 5xx, the message "404 NOT_FOUND. {'error': {...}}".
func geminiUpstreamError(status int, body []byte) (typ, msg, description string) {
	class := "APIError"
	switch {
	case status >= 400 && status < 500:
		class = "ClientError"
	case status >= 500 && status < 600:
		class = "ServerError"
	}
	b := bytes.TrimSpace(body)
	var details string
	errStatus := "None"
	if jsonbound.Valid(b) && gjson.ParseBytes(b).IsObject() {
		details = pythonRepr(b)
		e := gjson.GetBytes(b, "error")
		if !e.Exists() {
			e = gjson.ParseBytes(b)
		}
		if s := jsonbound.Get(e, "status"); s.Type == gjson.String {
			errStatus = s.Str
		}
	} else {
		// The SDK makes {'message': <text>, 'status': <reason>} of a body
		// that is not JSON.
		reason := http.StatusText(status)
		obj := openai.AppendJSONString([]byte(`{"message":`), string(b))
		obj = append(openai.AppendJSONString(append(obj, `,"status":`...), reason), '}')
		details, errStatus = pythonRepr(obj), reason
	}
	msg = fmt.Sprintf("%d %s. %s", status, errStatus, details)
	return "google.genai.errors." + class, msg, class + ": " + msg
}

// snakeKeys is v's JSON with every object key in snake_case, at every
// depth, as the instrumentor records the SDK's request (_context.py,
// _convert_keys_to_snake); other values as they came.
func snakeKeys(v gjson.Result) string {
	return string(appendSnake(nil, v))
}

func appendSnake(b []byte, v gjson.Result) []byte {
	switch {
	case v.IsObject():
		b = append(b, '{')
		first := true
		jsonbound.ForEach(v, func(k, e gjson.Result) bool {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = openai.AppendJSONString(b, snakeCase(k.Str))
			b = append(b, ':')
			b = appendSnake(b, e)
			return true
		})
		return append(b, '}')
	case v.IsArray():
		b = append(b, '[')
		first := true
		jsonbound.ForEach(v, func(_, e gjson.Result) bool {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendSnake(b, e)
			return true
		})
		return append(b, ']')
	}
	return append(b, v.Raw...)
}

// appendSnakeMember appends "key": v (v's keys in snake_case) to an object
// being built.
func appendSnakeMember(b []byte, key string, v gjson.Result) []byte {
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = openai.AppendJSONString(b, snakeCase(key))
	b = append(b, ':')
	return appendSnake(b, v)
}

// snakeCase is the instrumentor's camelCase → snake_case
// (_camel_to_snake): "HTTPServer" → "http_server", "mimeType" →
// "mime_type".
func snakeCase(s string) string {
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	lowerOrDigit := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i > 0 && upper(c) {
			prev := s[i-1]
			// ([a-z0-9])([A-Z]), or ([A-Z]+)([A-Z][a-z]) at the last
			// capital of a run followed by a lower-case letter.
			if lowerOrDigit(prev) || upper(prev) && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z' {
				b.WriteByte('_')
			}
		}
		if upper(c) {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}
