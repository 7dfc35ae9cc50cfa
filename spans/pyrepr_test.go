package spans

import "testing"

// TestPythonRepr compares pythonRepr with what Python 3 prints for
// repr(json.loads(body.decode("utf-8", "replace"))), or the text itself when
// json.loads fails: the expected values were printed by python3.
func TestPythonRepr(t *testing.T) {
	tests := []struct{ body, want string }{
		{"{\"error\":{\"message\":\"The model `x` does not exist\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"model_not_found\"}}", "{'error': {'message': 'The model `x` does not exist', 'type': 'invalid_request_error', 'param': None, 'code': 'model_not_found'}}"},
		{"{\"a\":true,\"b\":false,\"c\":null}", "{'a': True, 'b': False, 'c': None}"},
		{"{ \"a\" : [ 1 , 2 ] ,\n \"b\" : { } }", "{'a': [1, 2], 'b': {}}"},
		{"[]", "[]"},
		{"{}", "{}"},
		{"[[],{},[{}]]", "[[], {}, [{}]]"},
		{"[1,\"a\",null,true,2.5]", "[1, 'a', None, True, 2.5]"},
		{"{\"outer\":{\"inner\":{\"deep\":[{\"k\":\"v\"}]}}}", "{'outer': {'inner': {'deep': [{'k': 'v'}]}}}"},
		{"\"plain\"", "'plain'"},
		{"\"it's\"", "\"it's\""},
		{"\"say \\\"hi\\\"\"", "'say \"hi\"'"},
		{"\"both ' and \\\"\"", "'both \\' and \"'"},
		{"\"back\\\\slash\"", "'back\\\\slash'"},
		{"\"line\\nbreak\\ttab\\rcr\"", "'line\\nbreak\\ttab\\rcr'"},
		{"\"\\u0000\\u0001\\u001f\\u007f\"", "'\\x00\\x01\\x1f\\x7f'"},
		{"\"é 日本 😀 ’\"", "'é 日本 😀 ’'"},
		{"\"\\u00a0 \\u00ad \\u0085 \\u200b \\u2028 \\u2029 \\ufeff\"", "'\\xa0 \\xad \\x85 \\u200b \\u2028 \\u2029 \\ufeff'"},
		{"\"\\ue000 \U000e0001\"", "'\\ue000 \\U000e0001'"},
		{"\"\\ufffd\"", "'�'"},
		{"\"a\xffb\"", "'a�b'"},
		{"{\"k'ey\":\"v\"}", "{\"k'ey\": 'v'}"},
		{"0", "0"},
		{"-5", "-5"},
		{"-0", "0"},
		{"12345678901234567890123", "12345678901234567890123"},
		{"1.0", "1.0"},
		{"-0.0", "-0.0"},
		{"0.1", "0.1"},
		{"2.5", "2.5"},
		{"100.0", "100.0"},
		{"1e2", "100.0"},
		{"1E2", "100.0"},
		{"123e-2", "1.23"},
		{"0.0001", "0.0001"},
		{"0.00001", "1e-05"},
		{"1e-05", "1e-05"},
		{"1e-7", "1e-07"},
		{"1.5e-7", "1.5e-07"},
		{"1e16", "1e+16"},
		{"1e+16", "1e+16"},
		{"9999999999999998.0", "9999999999999998.0"},
		{"1e22", "1e+22"},
		{"1.5e300", "1.5e+300"},
		{"1.7976931348623157e308", "1.7976931348623157e+308"},
		{"5e-324", "5e-324"},
		{"1e-400", "0.0"},
		{"1E400", "inf"},
		{"-1e400", "-inf"},
		{"3.141592653589793", "3.141592653589793"},
		{"0.30000000000000004", "0.30000000000000004"},
		{"not json", "not json"},
		{"{\"a\":", "{\"a\":"},
		{"", ""},
		{"  {\"a\":1}  ", "{'a': 1}"},
	}
	for _, tt := range tests {
		if got := pythonRepr([]byte(tt.body)); got != tt.want {
			t.Errorf("pythonRepr(%q) = %q; want %q", tt.body, got, tt.want)
		}
	}
}
