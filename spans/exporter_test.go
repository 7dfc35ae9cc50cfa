package spans

import (
	"reflect"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{in: "", want: map[string]string{}},
		{in: "api_key=abc", want: map[string]string{"api_key": "abc"}},
		{in: "Authorization=Bearer%20tok", want: map[string]string{"authorization": "Bearer tok"}},
		{in: " a = 1 ,b=2, ", want: map[string]string{"a": "1", "b": "2"}},
		{in: ",,a=1,,", want: map[string]string{"a": "1"}},
		{in: "a=x%3Dy%2Cz", want: map[string]string{"a": "x=y,z"}},
		{in: "a=b=c", want: map[string]string{"a": "b=c"}},
		{in: "api_key=abc+def/g==", want: map[string]string{"api_key": "abc+def/g=="}},
		{in: "api_key=sk%2B%2F%3D", want: map[string]string{"api_key": "sk+/="}},
		{in: "x=%C3%A9", want: map[string]string{"x": "é"}},
		{in: "a=", want: map[string]string{"a": ""}},
		{in: "A=1,a=2", want: map[string]string{"a": "2"}},
		{in: "novalue", wantErr: true},
		{in: "a=1,novalue", wantErr: true},
		{in: "=v", wantErr: true},
		{in: " =v", wantErr: true},
		{in: "a=%zz", wantErr: true},
		{in: "a=100%", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseHeaders(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseHeaders(%q) = %q; want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseHeaders(%q) error = %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseHeaders(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "http://localhost:4317", want: "http://localhost:4317"},
		{in: "https://app.phoenix.arize.com", want: "https://app.phoenix.arize.com"},
		{in: "localhost:4317", want: "http://localhost:4317"},
		{in: "phoenix:4317", want: "http://phoenix:4317"},
		{in: "127.0.0.1:4317", want: "http://127.0.0.1:4317"},
		{in: "[::1]:4317", want: "http://[::1]:4317"},
		{in: "", wantErr: true},
		{in: "grpc://localhost:4317", wantErr: true},
		{in: "http://", wantErr: true},
		{in: "://localhost", wantErr: true},
		{in: "http://local host:4317", wantErr: true},
	}
	for _, tt := range tests {
		got, err := normalizeEndpoint(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("normalizeEndpoint(%q) = %q; want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeEndpoint(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
