// Package litellmconfig reads LiteLLM's proxy config file (config.yaml):
// the model list, the router's retry, fallback and cooldown settings, the
// master key and the environment variables it sets, with LiteLLM's
// os.environ/NAME references resolved. It only reads and checks the file;
// the router package acts on it.
//
// An existing LiteLLM config runs unchanged: settings LiteLLM has and this
// proxy does not are listed in File.Ignored (to be named in one warning),
// never an error. A malformed file, or one that references an unset
// variable, is an error naming the file, the entry and the field.
package litellmconfig

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// File is a LiteLLM config file, read and checked.
type File struct {
	// Path is where it was read from, for messages.
	Path string
	// Models are the model_list entries, in the file's order.
	Models []Model
	// Router holds router_settings and litellm_settings merged (the first
	// wins where both set a field, as LiteLLM's router takes its own
	// settings over litellm's globals).
	Router RouterSettings
	// MasterKey is general_settings.master_key.
	MasterKey string
	// Environment is environment_variables: LiteLLM sets them in its
	// process environment before anything else is read.
	Environment map[string]string
	// Ignored names each setting of the file that LiteLLM has and this
	// proxy does not act on (model_list[0].litellm_params.rpm, ...), sorted.
	Ignored []string
}

// Model is one model_list entry: a deployment serving a model_name.
type Model struct {
	// Name is model_name: what clients ask for. It may be a wildcard
	// ("*", "anthropic/*").
	Name string
	// Model is litellm_params.model: the provider's prefix and its model
	// name ("azure/my-deployment", "anthropic/claude-sonnet-4-5"), or a
	// wildcard.
	Model                            string
	APIBase, APIKey, APIVersion, Org string
	// VertexProject, VertexLocation and VertexCredentials are a Vertex AI
	// deployment's vertex_project, vertex_location and vertex_credentials
	// (a credentials file's path, or its JSON).
	VertexProject, VertexLocation, VertexCredentials string
	// AWS holds a Bedrock deployment's aws_* settings.
	AWS                    AWSParams
	Timeout, StreamTimeout time.Duration // 0: not set
	MaxRetries             int           // -1: not set
	ExtraHeaders           map[string]string
	Weight                 float64        // 0: not set
	RPM, TPM               float64        // 0: not set (used as weights when weight is not)
	ID                     string         // model_info.id; "" when not set
	BaseModel              string         // model_info.base_model
	Info                   map[string]any // model_info as written, for /model/info

	orgs []string // organization given as a list: one Model each
}

// AWSParams are a Bedrock deployment's AWS settings, LiteLLM's aws_*
// litellm_params, each os.environ/ resolved: its region, its credentials
// (keys, a shared config profile, a role assumed with them or with a web
// identity token) and its Bedrock Runtime endpoint.
type AWSParams struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	RegionName, ProfileName                    string
	RoleName, SessionName, WebIdentityToken    string
	BedrockRuntimeEndpoint                     string
}

// awsFields are the aws_* litellm_params read, by name.
var awsFields = map[string]func(*AWSParams) *string{
	"aws_access_key_id":            func(a *AWSParams) *string { return &a.AccessKeyID },
	"aws_secret_access_key":        func(a *AWSParams) *string { return &a.SecretAccessKey },
	"aws_session_token":            func(a *AWSParams) *string { return &a.SessionToken },
	"aws_region_name":              func(a *AWSParams) *string { return &a.RegionName },
	"aws_profile_name":             func(a *AWSParams) *string { return &a.ProfileName },
	"aws_role_name":                func(a *AWSParams) *string { return &a.RoleName },
	"aws_session_name":             func(a *AWSParams) *string { return &a.SessionName },
	"aws_web_identity_token":       func(a *AWSParams) *string { return &a.WebIdentityToken },
	"aws_bedrock_runtime_endpoint": func(a *AWSParams) *string { return &a.BedrockRuntimeEndpoint },
}

// RouterSettings are the router's settings the proxy acts on.
type RouterSettings struct {
	// NumRetries is num_retries; -1 when not set.
	NumRetries int
	// Timeout is timeout or request_timeout; 0 when not set.
	Timeout time.Duration
	// Fallbacks maps a model_name to the model_names tried after it, in
	// order ("fallbacks: [{gpt-4o: [gpt-4o-mini]}]").
	Fallbacks map[string][]string
	// Aliases is model_group_alias: a name clients may use for a
	// model_name; HiddenAliases are left out of /models.
	Aliases       map[string]string
	HiddenAliases []string
	// ContextWindowFallbacks, when set, are tried instead of Fallbacks
	// after a 400 that says the prompt is longer than the context window
	// (context_window_fallbacks).
	ContextWindowFallbacks map[string][]string
	// AllowedFails is allowed_fails (failures a minute before a cooldown);
	// -1 when not set.
	AllowedFails int
	// CooldownTime is cooldown_time; 0 when not set.
	CooldownTime time.Duration
	// RoutingStrategy is routing_strategy; "" when not set.
	RoutingStrategy string
	// RetryAfter is retry_after, the least wait before a retry; 0 when not
	// set.
	RetryAfter time.Duration
}

// Load reads the config file at path. lookup finds an environment variable
// (os.LookupEnv); the file's own environment_variables are seen first, as
// LiteLLM sets them before it reads the rest.
func Load(path string, lookup func(string) (string, bool)) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	f, err := Parse(data, lookup)
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// Parse reads a config file's contents; see Load.
func Parse(data []byte, lookup func(string) (string, bool)) (*File, error) {
	var root any
	if err := yaml.UnmarshalWithOptions(data, &root, yaml.UseOrderedMap()); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	f := &File{Environment: map[string]string{}, Router: RouterSettings{NumRetries: -1, AllowedFails: -1}}
	p := &parser{file: f}
	top, ok := p.object("", root, true)
	if !ok {
		return nil, p.err
	}
	// environment_variables first: os.environ/ references see them.
	if v, ok := top.get("environment_variables"); ok {
		env, ok := p.object("environment_variables", v, false)
		for _, item := range env {
			s, ok2 := p.str("environment_variables."+item.key, item.value, lookup)
			if ok2 {
				f.Environment[item.key] = s
			}
		}
		if !ok && p.err != nil {
			return nil, p.err
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	p.lookup = func(name string) (string, bool) {
		if v, ok := f.Environment[name]; ok {
			return v, true
		}
		return lookup(name)
	}
	for _, item := range top {
		switch item.key {
		case "environment_variables":
		case "model_list":
			p.modelList(item.value)
		case "router_settings":
			p.routerSettings("router_settings", item.value, true)
		case "litellm_settings":
			p.routerSettings("litellm_settings", item.value, false)
		case "general_settings":
			p.generalSettings(item.value)
		default:
			p.ignore(item.key)
		}
		if p.err != nil {
			return nil, p.err
		}
	}
	if err := p.checkFallbacks(); err != nil {
		return nil, err
	}
	sort.Strings(f.Ignored)
	return f, nil
}

// parser walks the YAML tree, keeping the first error.
type parser struct {
	file   *File
	lookup func(string) (string, bool)
	err    error
	// set records which router settings router_settings set, so that
	// litellm_settings does not override them.
	set map[string]bool
}

func (p *parser) fail(field, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
	}
}

func (p *parser) ignore(field string) { p.file.Ignored = append(p.file.Ignored, field) }

type member struct {
	key   string
	value any
}

type object []member

func (o object) get(key string) (any, bool) {
	for _, m := range o {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// object reads a mapping; null is an empty one unless required.
func (p *parser) object(field string, v any, required bool) (object, bool) {
	if v == nil && !required {
		return nil, true
	}
	ms, ok := v.(yaml.MapSlice)
	if !ok {
		name := field
		if name == "" {
			name = "the file"
		}
		p.fail(name, "want a mapping, got %s", describe(v))
		return nil, false
	}
	out := make(object, 0, len(ms))
	for _, item := range ms {
		k, ok := item.Key.(string)
		if !ok {
			p.fail(field, "key %v is not a string", item.Key)
			return nil, false
		}
		out = append(out, member{k, item.Value})
	}
	return out, true
}

// str reads a scalar as a string, resolving os.environ/NAME.
func (p *parser) str(field string, v any, lookup func(string) (string, bool)) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		p.fail(field, "want a string, got %s", describe(v))
		return "", false
	}
	if name, ok := strings.CutPrefix(s, "os.environ/"); ok {
		if lookup == nil {
			lookup = p.lookup
		}
		val, set := lookup(name)
		if !set {
			p.fail(field, "references environment variable %s, which is not set", name)
			return "", false
		}
		return val, true
	}
	return s, true
}

// number reads a number, or a string holding one (os.environ/ too).
func (p *parser) number(field string, v any) (float64, bool) {
	switch x := v.(type) {
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			p.fail(field, "want a finite number, got %v", x)
			return 0, false
		}
		return x, true
	case string:
		s, ok := p.str(field, x, nil)
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			p.fail(field, "want a number, got %q", s)
			return 0, false
		}
		return n, true
	}
	p.fail(field, "want a number, got %s", describe(v))
	return 0, false
}

// count reads a whole number that is not negative.
func (p *parser) count(field string, v any) (int, bool) {
	n, ok := p.number(field, v)
	if !ok {
		return 0, false
	}
	if n < 0 || n != math.Trunc(n) || n > 1e6 {
		p.fail(field, "want a whole number from 0 to 1000000, got %v", n)
		return 0, false
	}
	return int(n), true
}

// seconds reads a duration in seconds (LiteLLM's unit), more than 0.
func (p *parser) seconds(field string, v any) (time.Duration, bool) {
	n, ok := p.number(field, v)
	if !ok {
		return 0, false
	}
	if n <= 0 || n > 365*24*3600 {
		p.fail(field, "want a number of seconds greater than 0, got %v", n)
		return 0, false
	}
	return time.Duration(n * float64(time.Second)), true
}

func (p *parser) modelList(v any) {
	list, ok := v.([]any)
	if !ok {
		if v != nil {
			p.fail("model_list", "want a list, got %s", describe(v))
		}
		return
	}
	for i, raw := range list {
		entry := fmt.Sprintf("model_list[%d]", i)
		m, ok := p.model(entry, raw)
		if !ok {
			return
		}
		if len(m.orgs) == 0 {
			p.file.Models = append(p.file.Models, m)
			continue
		}
		if m.ID != "" && len(m.orgs) > 1 {
			p.fail(entry, "model_info.id %q cannot name the %d deployments of a list of organizations", m.ID, len(m.orgs))
			return
		}
		for _, org := range m.orgs {
			one := m
			one.Org, one.orgs = org, nil
			p.file.Models = append(p.file.Models, one)
		}
	}
}

// model reads one model_list entry.
func (p *parser) model(entry string, raw any) (Model, bool) {
	m := Model{MaxRetries: -1}
	o, ok := p.object(entry, raw, true)
	if !ok {
		return m, false
	}
	if v, ok := o.get("model_name"); ok {
		m.Name, _ = p.str(entry+".model_name", v, nil)
	}
	if p.err != nil {
		return m, false
	}
	if m.Name == "" {
		p.fail(entry, "model_name is missing or empty")
		return m, false
	}
	// Name the entry by its model_name from here on.
	entry = fmt.Sprintf("%s (model_name %q)", entry, m.Name)
	for _, item := range o {
		switch item.key {
		case "model_name":
		case "litellm_params":
			p.litellmParams(entry, item.value, &m)
		case "model_info":
			p.modelInfo(entry, item.value, &m)
		default:
			p.ignore(entry + "." + item.key)
		}
		if p.err != nil {
			return m, false
		}
	}
	if m.Model == "" {
		p.fail(entry, "litellm_params.model is missing or empty")
		return m, false
	}
	return m, true
}

func (p *parser) litellmParams(entry string, v any, m *Model) {
	o, ok := p.object(entry+".litellm_params", v, true)
	if !ok {
		return
	}
	for _, item := range o {
		field := entry + ".litellm_params." + item.key
		switch item.key {
		case "model":
			m.Model, _ = p.str(field, item.value, nil)
		case "api_base", "base_url":
			m.APIBase, _ = p.str(field, item.value, nil)
		case "api_key":
			m.APIKey, _ = p.str(field, item.value, nil)
		case "api_version":
			m.APIVersion, _ = p.str(field, item.value, nil)
		case "vertex_project":
			m.VertexProject, _ = p.str(field, item.value, nil)
		case "vertex_location":
			m.VertexLocation, _ = p.str(field, item.value, nil)
		case "vertex_credentials":
			if obj, isObject := item.value.(yaml.MapSlice); isObject {
				// Written inline as YAML: its JSON, as LiteLLM takes a dict.
				b, err := json.Marshal(plain(obj))
				if err != nil {
					p.fail(field, "not JSON-encodable: %v", err)
					break
				}
				m.VertexCredentials = string(b)
				break
			}
			m.VertexCredentials, _ = p.str(field, item.value, nil)
		case "organization":
			if list, isList := item.value.([]any); isList {
				// LiteLLM makes one deployment per organization.
				for j, o := range list {
					if s, ok := p.str(fmt.Sprintf("%s[%d]", field, j), o, nil); ok {
						m.orgs = append(m.orgs, s)
					}
				}
				break
			}
			m.Org, _ = p.str(field, item.value, nil)
		case "timeout", "request_timeout":
			m.Timeout, _ = p.seconds(field, item.value)
		case "stream_timeout":
			m.StreamTimeout, _ = p.seconds(field, item.value)
		case "max_retries":
			m.MaxRetries, _ = p.count(field, item.value)
		case "weight":
			m.Weight, _ = p.number(field, item.value)
		case "rpm":
			m.RPM, _ = p.number(field, item.value)
		case "tpm":
			m.TPM, _ = p.number(field, item.value)
		case "extra_headers", "headers":
			hdrs, ok := p.object(field, item.value, false)
			if !ok {
				return
			}
			if m.ExtraHeaders == nil {
				m.ExtraHeaders = map[string]string{}
			}
			for _, h := range hdrs {
				if s, ok := p.str(field+"."+h.key, h.value, nil); ok {
					m.ExtraHeaders[h.key] = s
				}
			}
		default:
			if at := awsFields[item.key]; at != nil {
				*at(&m.AWS), _ = p.str(field, item.value, nil)
				break
			}
			p.ignore(entry + ".litellm_params." + item.key)
		}
		if p.err != nil {
			return
		}
	}
	if m.Weight < 0 || m.RPM < 0 || m.TPM < 0 {
		p.fail(entry+".litellm_params", "weight, rpm and tpm must not be negative")
	}
}

func (p *parser) modelInfo(entry string, v any, m *Model) {
	o, ok := p.object(entry+".model_info", v, false)
	if !ok {
		return
	}
	m.Info = map[string]any{}
	for _, item := range o {
		field := entry + ".model_info." + item.key
		switch item.key {
		case "id":
			m.ID, _ = p.str(field, item.value, nil)
			m.Info["id"] = m.ID
		case "base_model":
			m.BaseModel, _ = p.str(field, item.value, nil)
			m.Info["base_model"] = m.BaseModel
		default:
			// Descriptive fields (mode, costs, max tokens) are shown by
			// /model/info as written.
			m.Info[item.key] = plain(item.value)
		}
		if p.err != nil {
			return
		}
	}
}

// routerKeys are the router settings the proxy acts on.
var routerKeys = map[string]bool{
	"num_retries": true, "timeout": true, "request_timeout": true, "fallbacks": true, "context_window_fallbacks": true, "model_group_alias": true,
	"allowed_fails": true, "cooldown_time": true, "routing_strategy": true, "retry_after": true,
}

// routerSettings reads router_settings (primary) or litellm_settings.
func (p *parser) routerSettings(section string, v any, primary bool) {
	o, ok := p.object(section, v, false)
	if !ok {
		return
	}
	if p.set == nil {
		p.set = map[string]bool{}
	}
	rs := &p.file.Router
	for _, item := range o {
		field := section + "." + item.key
		if !routerKeys[item.key] {
			p.ignore(field)
			continue
		}
		key := item.key
		if key == "request_timeout" {
			key = "timeout"
		}
		if p.set[key] && !primary {
			continue // router_settings wins
		}
		p.set[key] = true
		switch key {
		case "num_retries":
			rs.NumRetries, _ = p.count(field, item.value)
		case "timeout":
			rs.Timeout, _ = p.seconds(field, item.value)
		case "allowed_fails":
			rs.AllowedFails, _ = p.count(field, item.value)
		case "cooldown_time":
			if n, ok := p.number(field, item.value); ok {
				if n < 0 || n > 24*3600 {
					p.fail(field, "want a number of seconds from 0 to 86400, got %v", n)
				}
				rs.CooldownTime = time.Duration(n * float64(time.Second))
			}
		case "retry_after":
			if n, ok := p.number(field, item.value); ok {
				if n < 0 || n > 60 {
					p.fail(field, "want a number of seconds from 0 to 60, got %v", n)
				}
				rs.RetryAfter = time.Duration(n * float64(time.Second))
			}
		case "routing_strategy":
			s, _ := p.str(field, item.value, nil)
			rs.RoutingStrategy = s
			if s != "simple-shuffle" && p.err == nil {
				// Another strategy is honoured as simple-shuffle, LiteLLM's
				// default: said in the warning.
				p.ignore(field + " (" + s + ": simple-shuffle is used)")
			}
		case "fallbacks":
			rs.Fallbacks = p.fallbacks(field, item.value)
		case "context_window_fallbacks":
			rs.ContextWindowFallbacks = p.fallbacks(field, item.value)
		case "model_group_alias":
			p.aliases(field, item.value)
		}
		if p.err != nil {
			return
		}
	}
}

// fallbacks reads LiteLLM's list of one-member mappings:
// [{gpt-4o: [gpt-4o-mini, claude]}].
func (p *parser) fallbacks(field string, v any) map[string][]string {
	list, ok := v.([]any)
	if !ok {
		if v != nil {
			p.fail(field, "want a list of {model_name: [fallback model_names]}, got %s", describe(v))
		}
		return nil
	}
	out := map[string][]string{}
	for i, raw := range list {
		at := fmt.Sprintf("%s[%d]", field, i)
		o, ok := p.object(at, raw, true)
		if !ok {
			return nil
		}
		for _, item := range o {
			targets, ok := item.value.([]any)
			if !ok {
				// LiteLLM also takes one name.
				if s, isStr := item.value.(string); isStr {
					targets, ok = []any{s}, true
				}
			}
			if !ok {
				p.fail(at+"."+item.key, "want a list of model_names, got %s", describe(item.value))
				return nil
			}
			for j, t := range targets {
				s, ok := p.str(fmt.Sprintf("%s.%s[%d]", at, item.key, j), t, nil)
				if !ok {
					return nil
				}
				out[item.key] = append(out[item.key], s)
			}
		}
	}
	return out
}

// aliases reads model_group_alias: {alias: model_name}, or {alias:
// {model: model_name, hidden: true}} to leave the alias out of /models.
func (p *parser) aliases(field string, v any) {
	o, ok := p.object(field, v, false)
	if !ok {
		return
	}
	rs := &p.file.Router
	rs.Aliases = map[string]string{}
	for _, item := range o {
		at := field + "." + item.key
		target := item.value
		if obj, isObj := item.value.(yaml.MapSlice); isObj {
			fields, _ := p.object(at, obj, true)
			target, _ = fields.get("model")
			if hidden, _ := fields.get("hidden"); hidden == true {
				rs.HiddenAliases = append(rs.HiddenAliases, item.key)
			}
		}
		s, ok := p.str(at, target, nil)
		if !ok {
			return
		}
		rs.Aliases[item.key] = s
	}
}

func (p *parser) generalSettings(v any) {
	o, ok := p.object("general_settings", v, false)
	if !ok {
		return
	}
	for _, item := range o {
		if item.key == "master_key" {
			p.file.MasterKey, _ = p.str("general_settings.master_key", item.value, nil)
			continue
		}
		p.ignore("general_settings." + item.key)
	}
}

// checkFallbacks makes sure every fallback names a model_name of the list
// (or a wildcard entry matches it): a typo would otherwise show only when a
// provider fails.
func (p *parser) checkFallbacks() error {
	names := map[string]bool{}
	for _, m := range p.file.Models {
		names[m.Name] = true
		if m.ID != "" {
			names[m.ID] = true // LiteLLM falls back to a deployment by its id too
		}
	}
	for alias, to := range p.file.Router.Aliases {
		if !names[to] {
			return fmt.Errorf("model_group_alias: %q names %q, which is no model_name of model_list", alias, to)
		}
	}
	for setting, fallbacks := range map[string]map[string][]string{
		"fallbacks": p.file.Router.Fallbacks, "context_window_fallbacks": p.file.Router.ContextWindowFallbacks,
	} {
		keys := make([]string, 0, len(fallbacks))
		for k := range fallbacks {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, from := range keys {
			for _, to := range fallbacks[from] {
				if !names[to] && !matchesWildcard(p.file.Models, to) {
					return fmt.Errorf("%s: %q falls back to %q, which is no model_name or model_info.id of model_list", setting, from, to)
				}
			}
		}
	}
	return nil
}

// matchesWildcard reports whether a wildcard model_name of models matches
// name ("anthropic/*" matches "anthropic/claude-sonnet-4-5"; "*" matches
// everything).
func matchesWildcard(models []Model, name string) bool {
	for _, m := range models {
		if prefix, ok := strings.CutSuffix(m.Name, "*"); ok && strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// plain turns the decoded YAML into JSON-ready values (ordered mappings
// become maps).
func plain(v any) any {
	switch x := v.(type) {
	case yaml.MapSlice:
		m := make(map[string]any, len(x))
		for _, item := range x {
			m[fmt.Sprint(item.Key)] = plain(item.Value)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = plain(x[i])
		}
		return out
	}
	return v
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case yaml.MapSlice:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", v)
	}
	return fmt.Sprintf("%v", v)
}
