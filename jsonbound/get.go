package jsonbound

import "github.com/tidwall/gjson"

// Get is t.Get(key) for a key that is a plain member name (letters,
// digits, '_' and '-': no gjson path syntax), on JSON that Check accepted:
// the first member of the object t named key, found with ForEach's linear
// scan rather than gjson's byte by byte one. A span mapping reads a few
// members of each message of a coding agent's history, and each gjson Get
// read every long string before the member it wanted a byte at a time. On
// anything but an object it is gjson's Get.
func Get(t gjson.Result, key string) gjson.Result { return get(nil, t, key) }

// get is Get, with the nested values that ends indexes jumped over (ends
// may be nil).
func get(ends *Ends, t gjson.Result, key string) gjson.Result {
	if t.Type != gjson.JSON || t.Indexes != nil || !isObject(t.Raw) {
		return t.Get(key)
	}
	found := gjson.Result{Index: t.Index} // as gjson's Result.Get gives a missing member
	forEach(ends, t, func(k, v gjson.Result) bool {
		if k.Str != key {
			return true
		}
		found = v
		return false
	})
	return found
}

// isObject reports whether raw's first byte after whitespace opens an
// object.
func isObject(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] > ' ' {
			return raw[i] == '{'
		}
	}
	return false
}
