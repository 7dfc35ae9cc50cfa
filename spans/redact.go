package spans

import (
	"regexp"
	"strings"

	"go.opentelemetry.io/otel/attribute"
)

// Redaction is what a span may not hold: OpenInference's trace
// configuration (the OPENINFERENCE_HIDE_* settings of spec/configuration.md,
// with the semantics of openinference-instrumentation's TraceConfig.mask),
// and patterns whose matches in any recorded string are masked. The zero
// value hides nothing but base64 images over DefaultBase64ImageMaxLength.
type Redaction struct {
	HideInputs, HideOutputs                   bool
	HideInputMessages, HideOutputMessages     bool
	HideInputImages, HideInputText            bool
	HideOutputText                            bool
	HideEmbeddingsVectors, HideEmbeddingsText bool
	HideLLMInvocationParameters, HideLLMTools bool
	HidePrompts, HideChoices                  bool
	// Base64ImageMaxLength: a data URL image longer than this becomes
	// Redacted; 0 means DefaultBase64ImageMaxLength.
	Base64ImageMaxLength int
	// Patterns: every match, in any string the span records, becomes
	// Redacted (secrets and personal data the flags cannot tell apart).
	Patterns []*regexp.Regexp
}

// DefaultBase64ImageMaxLength is OpenInference's default limit on a base64
// image kept in a span.
const DefaultBase64ImageMaxLength = 32000

// mask applies the configuration to one attribute, as TraceConfig.mask
// does: the attribute, changed or not, and whether it stays.
func (r *Redaction) mask(kv attribute.KeyValue) (attribute.KeyValue, bool) {
	key := string(kv.Key)
	redacted := attribute.String(key, Redacted)
	switch {
	case r.HideLLMInvocationParameters && key == KeyLLMInvocationParameters:
		return kv, false
	case (r.HideInputs || r.HideLLMTools) && strings.Contains(key, KeyLLMTools):
		return kv, false
	case r.HideInputs && key == KeyInputValue:
		return redacted, true
	case r.HideInputs && key == KeyInputMimeType:
		return kv, false
	case r.HideOutputs && key == KeyOutputValue:
		return redacted, true
	case r.HideOutputs && key == KeyOutputMimeType:
		return kv, false
	case (r.HideInputs || r.HideInputMessages) && strings.Contains(key, KeyLLMInputMessages):
		return kv, false
	case (r.HideInputs || r.HidePrompts) && strings.Contains(key, KeyLLMPrompts):
		return redacted, true
	case (r.HideOutputs || r.HideOutputMessages) && strings.Contains(key, KeyLLMOutputMessages):
		return kv, false
	case (r.HideOutputs || r.HideChoices) && strings.Contains(key, KeyLLMChoices):
		return redacted, true
	case r.HideInputText && strings.Contains(key, KeyLLMInputMessages) && isMessageContent(key):
		return redacted, true
	case r.HideOutputText && strings.Contains(key, KeyLLMOutputMessages) && isMessageContent(key):
		return redacted, true
	case r.HideInputText && strings.Contains(key, KeyLLMInputMessages) && strings.Contains(key, SuffixContentText):
		return redacted, true
	case r.HideOutputText && strings.Contains(key, KeyLLMOutputMessages) && strings.Contains(key, SuffixContentText):
		return redacted, true
	case (r.HideInputs || r.HideInputImages) && isInputImage(key):
		return kv, false
	case r.HideOutputs && isOutputImage(key):
		return kv, false
	case strings.HasSuffix(key, SuffixImageURL) && (isInputImage(key) || isOutputImage(key)):
		if v := kv.Value.AsString(); strings.HasPrefix(v, "data:image/") && strings.Contains(v, "base64") && len(v) > r.imageMax() {
			return redacted, true
		}
	case r.HideEmbeddingsVectors && strings.Contains(key, KeyEmbeddingEmbeddings) && strings.Contains(key, SuffixEmbeddingVector):
		return redacted, true
	case r.HideEmbeddingsText && strings.Contains(key, KeyEmbeddingEmbeddings) && strings.Contains(key, SuffixEmbeddingText):
		return redacted, true
	}
	return r.maskPatterns(kv), true
}

func (r *Redaction) imageMax() int {
	if r.Base64ImageMaxLength > 0 {
		return r.Base64ImageMaxLength
	}
	return DefaultBase64ImageMaxLength
}

// isMessageContent: a message's content (message.content), not one of its
// parts (message.contents).
func isMessageContent(key string) bool {
	return strings.Contains(key, SuffixMessageContent) && !strings.Contains(key, SuffixMessageContents)
}

func isInputImage(key string) bool {
	return strings.Contains(key, KeyLLMInputMessages) && strings.Contains(key, "message_content.image")
}

func isOutputImage(key string) bool {
	return (strings.Contains(key, KeyLLMOutputMessages) && strings.Contains(key, "message_content.image")) ||
		key == KeyOutputImages || strings.HasPrefix(key, KeyOutputImages+".")
}

// maskPatterns masks the patterns' matches in a string or string list.
func (r *Redaction) maskPatterns(kv attribute.KeyValue) attribute.KeyValue {
	if len(r.Patterns) == 0 {
		return kv
	}
	switch kv.Value.Type() {
	case attribute.STRING:
		return attribute.String(string(kv.Key), r.MaskString(kv.Value.AsString()))
	case attribute.STRINGSLICE:
		ss := kv.Value.AsStringSlice()
		for i := range ss {
			ss[i] = r.MaskString(ss[i])
		}
		return attribute.StringSlice(string(kv.Key), ss)
	}
	return kv
}

// MaskString replaces every match of the patterns in s with Redacted.
func (r *Redaction) MaskString(s string) string {
	for _, p := range r.Patterns {
		s = p.ReplaceAllLiteralString(s, Redacted)
	}
	return s
}

// hides reports whether any hide setting is on.
func (r *Redaction) hides() bool {
	return r.HideInputs || r.HideOutputs || r.HideInputMessages || r.HideOutputMessages || r.HideInputImages ||
		r.HideInputText || r.HideOutputText || r.HideEmbeddingsVectors || r.HideEmbeddingsText ||
		r.HideLLMInvocationParameters || r.HideLLMTools || r.HidePrompts || r.HideChoices
}

// apply masks a list of attributes in place, dropping the hidden ones.
// With no hide setting and no pattern (the default), only image URLs are
// looked at: the key checks of mask cost more than the rest of a span.
func (r *Redaction) apply(kvs []attribute.KeyValue) []attribute.KeyValue {
	if !r.hides() && len(r.Patterns) == 0 {
		max := r.imageMax()
		for i, kv := range kvs {
			if kv.Value.Type() != attribute.STRING || len(kv.Value.AsString()) <= max || !strings.HasSuffix(string(kv.Key), SuffixImageURL) {
				continue
			}
			if m, _ := r.mask(kv); m.Value != kv.Value {
				kvs[i] = m
			}
		}
		return kvs
	}
	out := kvs[:0]
	for _, kv := range kvs {
		if m, keep := r.mask(kv); keep {
			out = append(out, m)
		}
	}
	return out
}
