package endpoint

import (
	"net/url"
	"slices"
	"strings"
)

// Route is one of the client's routes: a method and a path pattern.
type Route struct {
	Method string
	// Path is the pattern, from the proxy's root: literal segments, a
	// parameter "{name}" that takes a whole segment, or one followed by a
	// literal within it ("{model}:generateContent", as Google's APIs name
	// their methods), and, last, "*name" for the rest of the path.
	Path string
	// Stream marks a route whose calls stream whatever the body says
	// (Gemini's :streamGenerateContent, Bedrock's /converse-stream);
	// otherwise the body's stream member decides.
	Stream bool
	// Prefix is the start of Path that is the proxy's own, not the
	// provider's (LiteLLM's pass-through prefixes /gemini, /vertex_ai):
	// the upstream path of a Spec without a Path of its own is the rest.
	Prefix string
	// ModelMethod, on a native route whose path names the model (Google's
	// "{model}:generateContent", Bedrock's "/model/{model}/converse"), is
	// the model's method the route calls: a config file's model_name in
	// the path goes to its deployment's provider at that provider's path
	// for the method (upstream.Provider.ModelPath).
	ModelMethod string
}

// prefixed is each route under prefix too, the prefix marked as the
// proxy's own.
func prefixed(prefix string, routes ...Route) []Route {
	out := slices.Clone(routes)
	for _, r := range routes {
		r.Path, r.Prefix = prefix+r.Path, prefix
		out = append(out, r)
	}
	return out
}

// HasParams reports whether the pattern has parameters: such routes are
// matched by Match, the others by their literal path.
func (r Route) HasParams() bool { return strings.ContainsAny(r.Path, "{*") }

// Match matches the pattern against a request's path as the client sent
// it (escaped: an encoded '/' inside a segment stays in it) and returns
// the parameters as sent, escaped (Param unescapes one).
func (r Route) Match(escapedPath string) (map[string]string, bool) {
	pattern, path := r.Path, escapedPath
	var params map[string]string
	set := func(name, raw string) bool {
		if _, err := url.PathUnescape(raw); err != nil {
			return false
		}
		if params == nil {
			params = map[string]string{}
		}
		params[name] = raw
		return true
	}
	for pattern != "" {
		if path == "" || path[0] != '/' || pattern[0] != '/' {
			return nil, false
		}
		pattern, path = pattern[1:], path[1:]
		pseg, prest := cutSegment(pattern)
		seg, rest := cutSegment(path)
		switch {
		case strings.HasPrefix(pseg, "*"):
			if !set(pseg[1:], path) {
				return nil, false
			}
			return params, true
		case strings.HasPrefix(pseg, "{"):
			end := strings.IndexByte(pseg, '}')
			name, suffix := pseg[1:end], pseg[end+1:]
			value, ok := strings.CutSuffix(seg, suffix)
			if !ok || value == "" || !set(name, value) {
				return nil, false
			}
		case pseg != seg:
			return nil, false
		}
		pattern, path = prest, rest
	}
	return params, path == ""
}

// cutSegment splits a path after its leading slash into its first segment
// and the rest (from the next slash).
func cutSegment(p string) (seg, rest string) {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, ""
}

// Param is the named parameter of a match, unescaped.
func Param(params map[string]string, name string) string {
	v, _ := url.PathUnescape(params[name]) // checked by Match
	return v
}

// UpstreamPath is a Spec's Path with its parameters filled in: the route's
// parameters as the client sent them, and the model as the target
// provider names it (the client's bytes when that is the model the client
// named).
func UpstreamPath(pattern, model string, params map[string]string) string {
	if !strings.Contains(pattern, "{") {
		return pattern
	}
	var b strings.Builder
	for {
		start := strings.IndexByte(pattern, '{')
		if start < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		end := strings.IndexByte(pattern[start:], '}') + start
		b.WriteString(pattern[:start])
		name := pattern[start+1 : end]
		switch raw, ok := params[name]; {
		case name == "model" && (!ok || Param(params, name) != model):
			b.WriteString(url.PathEscape(model))
		default:
			b.WriteString(raw)
		}
		pattern = pattern[end+1:]
	}
}

// openAIRoutes are an OpenAI API's routes: POST path, with and without /v1.
func openAIRoutes(path string) []Route {
	return []Route{{Method: "POST", Path: path}, {Method: "POST", Path: "/v1" + path}}
}
