package spans

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/jsonbound"
)

// Redacted stands in for a value the span must not hold, as OpenInference's
// own redaction writes it.
const Redacted = "__REDACTED__"

// isCredentialKey reports whether a member name names a credential: api_key,
// api-key, apiKey, x-api-key, Authorization, LiteLLM's per-call cloud
// credentials, OAuth tokens, passwords (or, for api_base, where LiteLLM
// was told to send one), matched lower case without '-' and '_'. It runs
// on every member name of every body: a name of a length no credential has
// is refused before it is folded, and the folded one is matched by a
// switch (a few comparisons) rather than hashed for a map.
func isCredentialKey(key string) bool {
	if len(key) < len("secret") || len(key) > 32 {
		return false
	}
	var b [32]byte
	n := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '_':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	switch string(b[:n]) {
	case "apikey", "xapikey", "apitoken", "apibase",
		"authorization", "proxyauthorization", "bearertoken",
		"awsaccesskeyid", "awssecretaccesskey", "awssessiontoken",
		"vertexcredentials", "azureadtoken",
		"accesstoken", "refreshtoken", "idtoken",
		"clientsecret", "secret", "secretkey", "privatekey", "password":
		return true
	}
	return false
}

// withoutSecrets returns a JSON text with the string value of every
// credential member, at any depth, replaced by Redacted. Text that has
// none is returned as it is, after a scan of its member names that costs
// no allocation; only a text with one is rebuilt.
func withoutSecrets(raw string) string {
	if !mayHoldSecret(raw) {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	redactValue(&b, gjson.Parse(raw))
	return b.String()
}

// secretKeys is the jsonbound.KeyWatch of the body indexes the handler
// makes (WatchSecrets): it flags a member name that is a credential's, or
// is escaped (and so cannot be read without decoding), as mayHoldSecret
// does, but at the member names alone, as the check of the body finds them.
type secretKeys struct{}

func (secretKeys) FlagKey(raw string) bool { return suspectKey(raw) }

// suspectKey reports whether raw, a member name as it is written between
// its quotes, may name a credential: it is one (isCredentialKey), or holds
// an escape and cannot be read without decoding.
func suspectKey(raw string) bool {
	return strings.IndexByte(raw, '\\') >= 0 || isCredentialKey(raw)
}

// WatchSecrets has e, an index of request bodies, look at every member name
// as it checks a body (jsonbound.CheckIndex): lent to the span
// (Request.Index), it spares End a pass of its own over the body for
// credentials.
func WatchSecrets(e *jsonbound.Ends) { e.Watch(secretKeys{}) }

// bodyText is the text src (body, or a copy of it) as the span records it:
// with its credentials taken out (withoutSecrets). With idx, an index of
// body itself that watched its member names for credentials as body was
// checked (WatchSecrets), a body that had none is taken as it is, unread.
func bodyText(src string, body []byte, idx *jsonbound.Ends) string {
	if _, watched := idx.Watched().(secretKeys); watched && idx.Indexes(body) && !idx.KeyFlagged() {
		return src
	}
	return withoutSecrets(src)
}

// mayHoldSecret reports whether a member name before any ':' in raw is a
// credential's, or is escaped (and so cannot be read without decoding).
// It looks at more places than there are members (a ':' inside a string
// counts too): a false alarm costs a rebuild, a miss would cost a secret.
func mayHoldSecret(raw string) bool {
	for i := 0; i < len(raw); i++ {
		next := strings.IndexByte(raw[i:], ':')
		if next < 0 {
			return false
		}
		i += next
		j := i - 1
		for j >= 0 && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
			j--
		}
		if j < 1 || raw[j] != '"' || escaped(raw, j) {
			// Not the end of a member name: an escaped quote is inside a
			// string (JSON text in a tool call's arguments, say).
			continue
		}
		k := strings.LastIndexByte(raw[:j], '"')
		if k < 0 {
			continue
		}
		key := raw[k+1 : j]
		if escaped(raw, k) || suspectKey(key) {
			return true
		}
	}
	return false
}

// escaped reports whether the quote at i is escaped: an odd number of
// backslashes before it.
func escaped(s string, i int) bool {
	n := 0
	for i--; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// redactValue writes v with its credential members' string values
// replaced. Nesting is bounded (jsonbound checked every body), so the
// recursion is too.
func redactValue(b *strings.Builder, v gjson.Result) {
	switch {
	case v.IsObject():
		b.WriteByte('{')
		first := true
		jsonbound.ForEach(v, func(k, val gjson.Result) bool {
			if !first {
				b.WriteByte(',')
			}
			first = false
			b.WriteString(k.Raw)
			b.WriteByte(':')
			if val.Type == gjson.String && isCredentialKey(k.Str) {
				b.WriteString(`"` + Redacted + `"`)
			} else {
				redactValue(b, val)
			}
			return true
		})
		b.WriteByte('}')
	case v.IsArray():
		b.WriteByte('[')
		first := true
		jsonbound.ForEach(v, func(_, val gjson.Result) bool {
			if !first {
				b.WriteByte(',')
			}
			first = false
			redactValue(b, val)
			return true
		})
		b.WriteByte(']')
	default:
		b.WriteString(v.Raw)
	}
}
