package translate

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/openai"
)

// A JSON Schema in OpenAI's request becomes Google's Schema, OpenAPI's
// subset, as LiteLLM's build_vertex_schema (vertex_ai/common_utils.py)
// makes it: $refs to $defs unpacked, type lists as anyOf, null in an
// anyOf as nullable, empty enum values null, enums off anything but
// strings (Gemini 3 takes integer ones, as strings), arrays given items,
// schemas without a type typed object, the members Google's Schema does
// not have dropped ($schema, additionalProperties, strict, oneOf,
// const…), and, for a response schema, each object's propertyOrdering its
// properties' order. Schemas are edited as a tree of *object (members in
// order), []any and json.RawMessage leaves.

// object is a JSON object that keeps its members' order.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// obj is a member that is an object, or nil.
func (o *object) obj(k string) *object {
	v, _ := o.vals[k].(*object)
	return v
}

func (o *object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = openai.AppendJSONString(b, k)
		b = append(b, ':')
		v, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// parseSchema is a JSON value as a tree to edit.
func parseSchema(v gjson.Result) any {
	switch {
	case v.IsObject():
		o := &object{vals: map[string]any{}}
		v.ForEach(func(k, x gjson.Result) bool {
			o.set(k.Str, parseSchema(x))
			return true
		})
		return o
	case v.IsArray():
		out := []any{}
		v.ForEach(func(_, x gjson.Result) bool {
			out = append(out, parseSchema(x))
			return true
		})
		return out
	}
	return json.RawMessage(v.Raw)
}

// copyTree is a deep copy of a tree, so that an unpacked $def is edited
// apart from the others.
func copyTree(v any) any {
	switch v := v.(type) {
	case *object:
		o := &object{keys: append([]string(nil), v.keys...), vals: make(map[string]any, len(v.vals))}
		for k, x := range v.vals {
			o.vals[k] = copyTree(x)
		}
		return o
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyTree(x)
		}
		return out
	}
	return v
}

// leafString is a leaf's string value.
func leafString(v any) (string, bool) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		return "", false
	}
	r := gjson.ParseBytes(raw)
	return r.Str, r.Type == gjson.String
}

// maxSchemaDepth bounds the nesting a schema's passes walk (LiteLLM's
// DEFAULT_MAX_RECURSE_DEPTH).
const maxSchemaDepth = 100

var errSchemaDepth = errors.New("a JSON schema nests deeper than 100 levels")

// maxInlinedDefs bounds the bytes of $defs one schema may unpack: $refs
// to $refs can grow a small schema without end (LiteLLM bounds some of
// its unpack_defs callers the same way, at 10 MB; a schema Gemini takes
// is far smaller).
const maxInlinedDefs = 1 << 20

// vertexSchema is a JSON Schema as Google's Schema, with each object's
// propertyOrdering when ordered (a response schema: Google orders an
// answer's members alphabetically unless told), integer enums kept as
// strings when integerEnums.
func vertexSchema(v gjson.Result, ordered, integerEnums bool) (json.RawMessage, error) {
	s, ok := withoutStrict(parseSchema(v)).(*object)
	if !ok {
		return json.RawMessage(v.Raw), nil
	}
	removeClosedAdditional(s)
	defs := s.obj("$defs")
	s.del("$defs")
	u := unpacker{budget: maxInlinedDefs, sizes: map[*object]int{}}
	if err := u.unpack(s, defs, map[string]bool{}, 0); err != nil {
		return nil, err
	}
	for _, step := range []func(*object, int) error{schemaTypeLists, anyOfNullToNullable, enumEmptyStrings,
		func(s *object, depth int) error { return enumTypes(s, integerEnums, depth) }, arrayItems} {
		if err := step(s, 0); err != nil {
			return nil, err
		}
	}
	if err := objectType(s, 0); err != nil {
		return nil, err
	}
	s = filterSchema(s, 0)
	if ordered {
		propertyOrdering(s, 0)
	}
	return json.Marshal(s)
}

// removeClosedAdditional drops additionalProperties: false wherever it is
// (remove_additional_properties): Google's Schema has no such member.
func removeClosedAdditional(v any) {
	switch v := v.(type) {
	case *object:
		if raw, ok := v.vals["additionalProperties"].(json.RawMessage); ok && string(raw) == "false" {
			v.del("additionalProperties")
		}
		for _, k := range v.keys {
			removeClosedAdditional(v.vals[k])
		}
	case []any:
		for _, x := range v {
			removeClosedAdditional(x)
		}
	}
}

// subschemas calls f with each subschema of s that LiteLLM's passes walk:
// each property's, items', and, when withAnyOf, each anyOf member's.
func subschemas(s *object, withAnyOf bool, f func(*object) error) error {
	if props := s.obj("properties"); props != nil {
		for _, k := range props.keys {
			if c, ok := props.vals[k].(*object); ok {
				if err := f(c); err != nil {
					return err
				}
			}
		}
	}
	if items := s.obj("items"); items != nil {
		if err := f(items); err != nil {
			return err
		}
	}
	if withAnyOf {
		list, _ := s.vals["anyOf"].([]any)
		for _, x := range list {
			if c, ok := x.(*object); ok {
				if err := f(c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// unpacker unpacks one schema's $refs, within a budget of bytes.
type unpacker struct {
	budget int
	sizes  map[*object]int // each definition's size, measured once
}

// unpack puts in place of each {"$ref": "…/Name"} anywhere in v a copy of
// the definition of that name (in defs, or the $defs and definitions of
// the objects it is in), itself unpacked, as LiteLLM's unpack_defs: a
// $ref to a definition it is already inside, or to none, stays as it is
// (and is dropped later, as not Google's).
func (u *unpacker) unpack(v any, defs *object, chain map[string]bool, depth int) error {
	if depth > 4*maxSchemaDepth {
		return errSchemaDepth
	}
	switch v := v.(type) {
	case *object:
		defs = withDefs(defs, v)
		for _, k := range v.keys {
			x := v.vals[k]
			if o, ok := x.(*object); ok {
				if ref, isRef := leafString(o.vals["$ref"]); isRef {
					name := ref[strings.LastIndex(ref, "/")+1:]
					var def *object
					if defs != nil {
						def = defs.obj(name)
					}
					if def == nil || chain[name] {
						continue
					}
					size, ok := u.sizes[def]
					if !ok {
						b, _ := json.Marshal(def)
						size = len(b)
						u.sizes[def] = size
					}
					if u.budget -= size; u.budget < 0 {
						return errors.New("a JSON schema's $refs unpack to more than 1 MiB")
					}
					d := copyTree(def).(*object)
					v.vals[k] = d
					inner := make(map[string]bool, len(chain)+1)
					for n := range chain {
						inner[n] = true
					}
					inner[name] = true
					if err := u.unpack(d, withDefs(defs, def), inner, depth+1); err != nil {
						return err
					}
					continue
				}
			}
			if err := u.unpack(x, defs, chain, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range v {
			if o, ok := x.(*object); ok {
				// A list's member that is a $ref: as an object's member.
				holder := &object{keys: []string{"x"}, vals: map[string]any{"x": o}}
				if err := u.unpack(holder, defs, chain, depth+1); err != nil {
					return err
				}
				v[i] = holder.vals["x"]
				continue
			}
			if err := u.unpack(x, defs, chain, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// withDefs is defs with the definitions o holds ($defs, definitions) over
// them.
func withDefs(defs, o *object) *object {
	local := []*object{o.obj("$defs"), o.obj("definitions")}
	if local[0] == nil && local[1] == nil {
		return defs
	}
	out := &object{vals: map[string]any{}}
	for _, d := range append([]*object{defs}, local...) {
		if d == nil {
			continue
		}
		for _, k := range d.keys {
			out.set(k, d.vals[k])
		}
	}
	return out
}

// schemaTypeLists makes a list of types an anyOf of each
// (_convert_schema_types): an object's or array's member with the
// members that belong to it (then taken off the schema), an integer's
// with the enum's values but null; one type the type.
func schemaTypeLists(s *object, depth int) error {
	if depth > maxSchemaDepth {
		return errSchemaDepth
	}
	if list, ok := s.vals["type"].([]any); ok {
		switch {
		case len(list) > 1:
			typeFields := []string{"properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minProperties", "maxProperties"}
			anyOf := []any{}
			structured := false
			for _, t := range list {
				name, isStr := leafString(t)
				if !isStr {
					continue
				}
				member := &object{vals: map[string]any{}}
				member.set("type", t)
				switch {
				case name == "object" || name == "array":
					structured = true
					for _, f := range typeFields {
						if x, ok := s.vals[f]; ok {
							member.set(f, copyTree(x))
						}
					}
				case name == "integer":
					if enum, ok := s.vals["enum"].([]any); ok {
						values := []any{}
						for _, e := range enum {
							if r, ok := e.(json.RawMessage); !ok || string(r) != "null" {
								values = append(values, e)
							}
						}
						member.set("enum", values)
					}
				}
				anyOf = append(anyOf, member)
			}
			if structured {
				for _, f := range typeFields {
					s.del(f)
				}
			}
			s.set("anyOf", anyOf)
			s.del("type")
		case len(list) == 1:
			s.set("type", list[0])
		}
	}
	return subschemas(s, true, func(c *object) error { return schemaTypeLists(c, depth+1) })
}

// anyOfNullToNullable drops the null types from an anyOf and makes the
// other members nullable (convert_anyof_null_to_nullable); an anyOf of
// null alone keeps its first; an empty member is an object.
func anyOfNullToNullable(s *object, depth int) error {
	if depth > maxSchemaDepth {
		return errSchemaDepth
	}
	if list, ok := s.vals["anyOf"].([]any); ok {
		kept := []any{}
		for _, x := range list {
			if o, ok := x.(*object); ok {
				if t, _ := leafString(o.vals["type"]); t == "null" {
					continue
				}
			}
			kept = append(kept, x)
		}
		null := len(kept) < len(list)
		if len(kept) == 0 && len(list) > 0 {
			kept = list[:1]
		}
		s.set("anyOf", kept)
		for _, x := range kept {
			o, ok := x.(*object)
			if !ok {
				continue
			}
			if len(o.keys) == 0 {
				o.set("type", json.RawMessage(`"object"`))
			}
			if null {
				o.set("nullable", json.RawMessage("true"))
			}
			if err := anyOfNullToNullable(o, depth+1); err != nil {
				return err
			}
		}
	}
	return subschemas(s, false, func(c *object) error { return anyOfNullToNullable(c, depth+1) })
}

// enumEmptyStrings makes "" in an enum null: Gemini refuses empty enum
// values (_fix_enum_empty_strings).
func enumEmptyStrings(s *object, depth int) error {
	if depth > maxSchemaDepth {
		return errSchemaDepth
	}
	if list, ok := s.vals["enum"].([]any); ok {
		for i, x := range list {
			if v, isStr := leafString(x); isStr && v == "" {
				list[i] = json.RawMessage("null")
			}
		}
	}
	return subschemas(s, false, func(c *object) error { return enumEmptyStrings(c, depth+1) })
}

// maxExactInt is the largest integer a double holds exactly: Gemini
// reads enum values as numbers.
const maxExactInt = 1<<53 - 1

// enumTypes keeps an enum on a string (or an anyOf with a string) only, as
// Gemini takes them (_fix_enum_types); with integerEnums, an integer's
// enum of exact integers stays, its values as strings.
func enumTypes(s *object, integerEnums bool, depth int) error {
	if depth > maxSchemaDepth {
		return errSchemaDepth
	}
	if list, ok := s.vals["enum"].([]any); ok {
		typ, _ := leafString(s.vals["type"])
		keep := strings.EqualFold(typ, "string")
		anyOf, _ := s.vals["anyOf"].([]any)
		for _, x := range anyOf {
			if o, ok := x.(*object); ok {
				if t, _ := leafString(o.vals["type"]); strings.EqualFold(t, "string") {
					keep = true
				}
			}
		}
		if !keep {
			if values, ok := integerEnum(list); ok && integerEnums && strings.EqualFold(typ, "integer") {
				s.set("enum", values)
			} else {
				s.del("enum")
			}
		}
	}
	return subschemas(s, true, func(c *object) error { return enumTypes(c, integerEnums, depth+1) })
}

// integerEnum is an enum's values as the strings of exact integers, or
// false if one is not one.
func integerEnum(list []any) ([]any, bool) {
	if len(list) == 0 {
		return nil, false
	}
	out := make([]any, len(list))
	for i, x := range list {
		raw, ok := x.(json.RawMessage)
		if !ok {
			return nil, false
		}
		r := gjson.ParseBytes(raw)
		text := r.Raw
		if r.Type == gjson.String {
			text = r.Str
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n > maxExactInt || n < -maxExactInt || (r.Type != gjson.String && r.Type != gjson.Number) ||
			(r.Type == gjson.String && len(strings.TrimPrefix(text, "-")) > 16) {
			return nil, false
		}
		out[i] = json.RawMessage(strconv.Quote(strconv.FormatInt(n, 10)))
	}
	return out, true
}

// maxEnumChars is the most characters Gemini takes in a request's enum
// values once it has an integer enum (GEMINI_MAX_ENUM_CHARACTERS).
const maxEnumChars = 2000

// integerEnumsFit reports whether declarations with integer enums stay
// within Gemini's limit on enum values (LiteLLM's _integer_enums_fit):
// without integer enums they do.
func integerEnumsFit(decls []block) bool {
	b, err := json.Marshal(decls)
	if err != nil {
		return false
	}
	integers, chars := false, 0
	var walk func(v gjson.Result)
	walk = func(v gjson.Result) {
		if v.IsObject() {
			if enum := v.Get("enum"); enum.IsArray() {
				integers = integers || strings.EqualFold(v.Get("type").Str, "integer")
				enum.ForEach(func(_, e gjson.Result) bool {
					chars += len(e.String())
					return true
				})
			}
		}
		if v.IsObject() || v.IsArray() {
			v.ForEach(func(_, x gjson.Result) bool {
				walk(x)
				return true
			})
		}
	}
	walk(gjson.ParseBytes(b))
	return !integers || chars <= maxEnumChars
}

// arrayItems gives every array, anywhere, items: an object when it has
// none or empty ones, as Vertex AI requires (process_items).
func arrayItems(s *object, depth int) error {
	if depth > maxSchemaDepth {
		return errSchemaDepth
	}
	if t, _ := leafString(s.vals["type"]); strings.EqualFold(t, "array") {
		if items, ok := s.vals["items"]; !ok || isEmptyObject(items) {
			s.set("items", &object{keys: []string{"type"}, vals: map[string]any{"type": json.RawMessage(`"object"`)}})
		}
	}
	walk := func(x any) error {
		switch x := x.(type) {
		case *object:
			return arrayItems(x, depth+1)
		case []any:
			for _, y := range x {
				if o, ok := y.(*object); ok {
					if err := arrayItems(o, depth+1); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	for _, k := range s.keys {
		if err := walk(s.vals[k]); err != nil {
			return err
		}
	}
	return nil
}

func isEmptyObject(x any) bool {
	o, ok := x.(*object)
	return ok && len(o.keys) == 0
}

// objectType types a schema with no type (nor anyOf, oneOf, allOf) an
// object, and one with properties; drops a null required, and an empty
// properties with its required (add_object_type: Gemini refuses empty
// properties).
func objectType(s *object, depth int) error {
	if depth > maxSchemaDepth {
		return errSchemaDepth
	}
	_, typed := s.vals["type"]
	_, anyOf := s.vals["anyOf"]
	_, oneOf := s.vals["oneOf"]
	_, allOf := s.vals["allOf"]
	if !typed && !anyOf && !oneOf && !allOf {
		s.set("type", json.RawMessage(`"object"`))
	}
	if props, ok := s.vals["properties"].(*object); ok {
		if r, ok := s.vals["required"].(json.RawMessage); ok && string(r) == "null" {
			s.del("required")
		}
		if len(props.keys) == 0 {
			s.del("properties")
			s.del("required")
		}
		s.set("type", json.RawMessage(`"object"`))
	}
	if err := subschemas(s, false, func(c *object) error { return objectType(c, depth+1) }); err != nil {
		return err
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		list, _ := s.vals[k].([]any)
		for _, x := range list {
			if o, ok := x.(*object); ok {
				if err := objectType(o, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// schemaFields are the members of Google's Schema (LiteLLM's Schema
// TypedDict): the others are dropped.
var schemaFields = map[string]bool{
	"type": true, "format": true, "title": true, "description": true, "nullable": true, "default": true,
	"items": true, "minItems": true, "maxItems": true, "enum": true, "properties": true, "propertyOrdering": true,
	"required": true, "minProperties": true, "maxProperties": true, "minimum": true, "maximum": true,
	"minLength": true, "maxLength": true, "pattern": true, "example": true, "anyOf": true,
}

// filterSchema keeps the members of Google's Schema (filter_schema_fields):
// of a format, only enum and date-time; of a schema with an anyOf, the
// anyOf alone, its title and description copied to each member
// (BerriAI/litellm#11164).
func filterSchema(s *object, depth int) *object {
	if depth > maxSchemaDepth {
		return s
	}
	if list, ok := s.vals["anyOf"].([]any); ok && len(list) > 0 {
		title, hasTitle := s.vals["title"]
		desc, hasDesc := s.vals["description"]
		all := true
		for _, x := range list {
			_, isObj := x.(*object)
			all = all && isObj
		}
		for _, x := range list {
			if o, ok := x.(*object); ok && all {
				if hasTitle && !isFalsy(title) {
					o.set("title", title)
				}
				if hasDesc && !isFalsy(desc) {
					o.set("description", desc)
				}
			}
		}
		s = &object{keys: []string{"anyOf"}, vals: map[string]any{"anyOf": list}}
	}
	out := &object{vals: map[string]any{}}
	for _, k := range s.keys {
		if !schemaFields[k] {
			continue
		}
		v := s.vals[k]
		switch k {
		case "properties":
			if props, ok := v.(*object); ok {
				filtered := &object{vals: map[string]any{}}
				for _, name := range props.keys {
					p := props.vals[name]
					if po, ok := p.(*object); ok {
						p = filterSchema(po, depth+1)
					}
					filtered.set(name, p)
				}
				v = filtered
			}
		case "format":
			if f, _ := leafString(v); f != "enum" && f != "date-time" {
				continue
			}
		case "items":
			if o, ok := v.(*object); ok {
				v = filterSchema(o, depth+1)
			}
		case "anyOf":
			if list, ok := v.([]any); ok {
				filtered := make([]any, len(list))
				for i, x := range list {
					if o, ok := x.(*object); ok {
						x = filterSchema(o, depth+1)
					}
					filtered[i] = x
				}
				v = filtered
			}
		}
		out.set(k, v)
	}
	return out
}

// isFalsy reports whether a leaf is empty, as Python's truth test: an
// empty title or description is not copied.
func isFalsy(v any) bool {
	r, ok := v.(json.RawMessage)
	if !ok {
		return false
	}
	switch string(r) {
	case `""`, "null", "false", "0":
		return true
	}
	return false
}

// propertyOrdering gives each object its properties' order, unless it
// names one itself (set_schema_property_ordering).
func propertyOrdering(s *object, depth int) {
	if depth > maxSchemaDepth {
		return
	}
	if props := s.obj("properties"); props != nil {
		if _, ok := s.vals["propertyOrdering"]; !ok {
			order := make([]any, len(props.keys))
			for i, k := range props.keys {
				order[i] = json.RawMessage(openai.AppendJSONString(nil, k))
			}
			s.set("propertyOrdering", order)
		}
	}
	_ = subschemas(s, false, func(c *object) error {
		propertyOrdering(c, depth+1)
		return nil
	})
}

// withoutStrict is a schema less OpenAI's strict flags (a boolean
// "strict" member, wherever it is), which Gemini does not take; a
// property named strict stays.
func withoutStrict(v any) any {
	switch v := v.(type) {
	case *object:
		if raw, ok := v.vals["strict"].(json.RawMessage); ok && (string(raw) == "true" || string(raw) == "false") {
			v.del("strict")
		}
		for _, k := range v.keys {
			v.vals[k] = withoutStrict(v.vals[k])
		}
	case []any:
		for i := range v {
			v[i] = withoutStrict(v[i])
		}
	}
	return v
}
