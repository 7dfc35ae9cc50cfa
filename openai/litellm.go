package openai

import (
	"slices"

	"github.com/tidwall/gjson"
)

// litellmFields are request members that are LiteLLM's, not the
// provider's: per-call credentials and endpoints that LiteLLM's SDK and
// proxy accept (litellm.completion's api_key, api_base, …). The proxy
// never forwards them: the provider would refuse an unknown member, and
// a credential has no business travelling further than the proxy.
var litellmFields = map[string]bool{
	"api_key": true, "api_base": true, "base_url": true, "api_version": true,
	"aws_access_key_id": true, "aws_secret_access_key": true, "aws_session_token": true,
	"aws_region_name": true, "aws_profile_name": true,
	"vertex_project": true, "vertex_location": true, "vertex_credentials": true,
	"azure_ad_token": true,
	// LiteLLM's tracing metadata on the APIs with a metadata of their own.
	"litellm_metadata": true,
	"mock_response":    true,
	// Client-side fallbacks, which the proxy acts on, and the switch that
	// tries them out.
	"fallbacks": true, "mock_testing_fallbacks": true,
}

// LiteLLMField reports whether a top-level request member is LiteLLM's
// (see litellmFields): a translation that copies the client's members
// leaves it out.
func LiteLLMField(name string) bool { return litellmFields[name] }

// WithoutLiteLLMFields returns body without the top-level members that are
// LiteLLM's (see litellmFields), and without the members named in also
// (the metadata of an API that has none of its own), the rest byte for
// byte. A body that has none is returned as it is.
func WithoutLiteLLMFields(body []byte, also ...string) []byte {
	type span struct{ start, end int }
	var drop []span
	gjson.ParseBytes(body).ForEach(func(k, v gjson.Result) bool {
		if (litellmFields[k.Str] || slices.Contains(also, k.Str)) && k.Index > 0 && v.Index > 0 {
			drop = append(drop, span{k.Index, v.Index + len(v.Raw)})
		}
		return true
	})
	if len(drop) == 0 {
		return body
	}
	out := make([]byte, 0, len(body))
	prev := 0
	for _, d := range drop {
		start, end := d.start, d.end
		// Take the comma after the member, or else the one before it.
		j := end
		for j < len(body) && isSpace(body[j]) {
			j++
		}
		if j < len(body) && body[j] == ',' {
			end = j + 1
		} else {
			i := start - 1
			for i >= prev && isSpace(body[i]) {
				i--
			}
			if i >= prev && body[i] == ',' {
				start = i
			} else if i < prev {
				// The member before was dropped with the comma after it:
				// the comma that separated this one is already in out.
				out = trimComma(out)
			}
		}
		out = append(out, body[prev:start]...)
		prev = end
	}
	return append(out, body[prev:]...)
}

// trimComma removes a trailing comma, and the space after it, from out.
func trimComma(out []byte) []byte {
	i := len(out) - 1
	for i >= 0 && isSpace(out[i]) {
		i--
	}
	if i >= 0 && out[i] == ',' {
		return out[:i]
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
