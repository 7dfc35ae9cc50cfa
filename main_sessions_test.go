package main

import (
	"strings"
	"testing"
)

// The Redis session inference shares its memory through: SESSION_REDIS_URL,
// else LiteLLM's REDIS_URL, else LiteLLM's REDIS_HOST and companions.
func TestSessionRedis(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		url, from string
	}{
		{"none", nil, "", ""},
		{"ours", map[string]string{"SESSION_REDIS_URL": "redis://a:6379", "REDIS_URL": "redis://b:6379", "REDIS_HOST": "c"}, "redis://a:6379", "SESSION_REDIS_URL"},
		{"LiteLLM's URL", map[string]string{"REDIS_URL": "redis://b:6379/2", "REDIS_HOST": "c"}, "redis://b:6379/2", "REDIS_URL"},
		{"LiteLLM's host", map[string]string{"REDIS_HOST": "redis.internal"}, "redis://redis.internal:6379", "REDIS_HOST"},
		{"host, port, password", map[string]string{"REDIS_HOST": "10.0.0.7", "REDIS_PORT": "6380", "REDIS_PASSWORD": "p@ss"}, "redis://:p%40ss@10.0.0.7:6380", "REDIS_HOST"},
		{"user and TLS", map[string]string{"REDIS_HOST": "h", "REDIS_USERNAME": "proxy", "REDIS_PASSWORD": "pw", "REDIS_SSL": "True"}, "rediss://proxy:pw@h:6379", "REDIS_HOST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"SESSION_REDIS_URL", "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_USERNAME", "REDIS_PASSWORD", "REDIS_SSL"} {
				t.Setenv(k, tt.env[k])
			}
			if tt.env["REDIS_PORT"] == "" {
				t.Setenv("REDIS_PORT", "6379") // the default, as when unset
			}
			c, err := LoadConfig()
			if err != nil {
				t.Fatal(err)
			}
			if u, got := c.sessionRedis(); u != tt.url || got != tt.from {
				t.Errorf("got %q from %q; want %q from %q", u, got, tt.url, tt.from)
			}
		})
	}
}

// A Redis URL that does not parse stops start-up with an error naming the
// variable, and not the password in it.
func TestSessionRedisBadURL(t *testing.T) {
	for _, u := range []string{"http://h:6379", "redis://user:s3cret@h:notaport", "redis://:s3cret@h:6379/db"} {
		t.Setenv("SESSION_REDIS_URL", u)
		_, err := LoadConfig()
		if err == nil || !strings.Contains(err.Error(), "SESSION_REDIS_URL") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: error %v; want one naming SESSION_REDIS_URL without the password", u, err)
		}
	}
}
