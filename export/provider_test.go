package export

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

func TestCollectorTarget(t *testing.T) {
	const grpcT, httpT = false, true
	tests := []struct {
		in, protocol string
		want         string
		http         bool
		wantErr      bool
	}{
		{in: "http://localhost:4317", want: "http://localhost:4317", http: grpcT},
		{in: "localhost:4317", want: "http://localhost:4317", http: grpcT},
		{in: "phoenix:4317", want: "http://phoenix:4317", http: grpcT},
		{in: "[::1]:4317", want: "http://[::1]:4317", http: grpcT},
		{in: "grpc://collector:9000", want: "http://collector:9000", http: grpcT},
		{in: "grpcs://collector.example", want: "https://collector.example", http: grpcT},
		{in: "https://app.phoenix.arize.com", want: "https://app.phoenix.arize.com/v1/traces", http: httpT},
		{in: "https://app.phoenix.arize.com/s/my-space/v1/traces", want: "https://app.phoenix.arize.com/s/my-space/v1/traces", http: httpT},
		{in: "https://app.phoenix.arize.com/s/my-space", want: "https://app.phoenix.arize.com/s/my-space/v1/traces", http: httpT},
		{in: "http://localhost:6006", want: "http://localhost:6006/v1/traces", http: httpT},
		{in: "http://localhost:6006/v1/traces", want: "http://localhost:6006/v1/traces", http: httpT},
		{in: "http://localhost:4318/v1/traces", want: "http://localhost:4318/v1/traces", http: httpT},
		{in: "http://localhost:4317", protocol: "http/protobuf", want: "http://localhost:4317/v1/traces", http: httpT},
		{in: "http://localhost:6006", protocol: "grpc", want: "http://localhost:6006", http: grpcT},
		{in: "http://localhost:6006/v1/traces", protocol: "grpc", wantErr: true},
		{in: "http://localhost:4317", protocol: "thrift", wantErr: true},
		{in: "", wantErr: true},
		{in: "ftp://localhost:4317", wantErr: true},
		{in: "http://", wantErr: true},
		{in: "://localhost", wantErr: true},
		{in: "http://local host:4317", wantErr: true},
	}
	for _, tt := range tests {
		got, err := collectorTarget(tt.in, tt.protocol)
		if tt.wantErr {
			if err == nil {
				t.Errorf("collectorTarget(%q, %q) = %+v; want an error", tt.in, tt.protocol, got)
			}
			continue
		}
		if err != nil || got.url != tt.want || got.http != tt.http {
			t.Errorf("collectorTarget(%q, %q) = %+v, %v; want %q, http %v", tt.in, tt.protocol, got, err, tt.want, tt.http)
		}
	}
}
