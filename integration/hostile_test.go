package integration

import (
	"net/http"
	"strings"
	"testing"
)

// Hostile input: requests and answers built to crash or exhaust the proxy.

func TestDeeplyNestedRequestIs400AndTheProxyLives(t *testing.T) {
	up := answer(200, chatAnswer)
	h := newHarness(t, harnessOptions{upstream: up, maxBodyBytes: 32 << 20})
	for _, body := range []string{
		strings.Repeat("[", 8_000_000),
		`{"model":"gpt-4o","messages":` + strings.Repeat(`[{"a":`, 1_000_000),
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"tools":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	} {
		resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", body, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status: got %d; want 400 (%.200s)", resp.StatusCode, got)
		}
		if msg, _, _ := openAIError(t, got); !strings.Contains(msg, "nested deeper than 512") {
			t.Errorf("message %q does not say the body nests too deep", msg)
		}
	}
	if n := up.calls.Load(); n != 0 {
		t.Errorf("upstream called %d times; want 0", n)
	}
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
	if resp.StatusCode != 200 || got != chatAnswer {
		t.Errorf("after the nested bodies: got %d %q", resp.StatusCode, got)
	}
}

func TestDeeplyNestedForwardedBodyIsForwardedUntraced(t *testing.T) {
	up := answer(200, `{"id":"modr-1","results":[]}`)
	h := newHarness(t, harnessOptions{upstream: up})
	body := strings.Repeat("[", 500_000)
	resp, got := post(t, h.proxy.URL+"/v1/moderations", "application/json", body, nil)
	if resp.StatusCode != 200 || got != `{"id":"modr-1","results":[]}` {
		t.Fatalf("got %d %q; want the upstream's answer", resp.StatusCode, got)
	}
	if b := up.body.Load(); b == nil || string(*b) != body {
		t.Errorf("the upstream did not get the body unchanged")
	}
	span := h.span(t)
	if _, ok := span.Attributes["input.value"]; ok {
		t.Errorf("a body nested too deep to read is on the span as input.value")
	}
}

// An upstream that answers 200 with something that is no JSON object: the
// client gets it unchanged, the span says tracing failed instead of OK.
func TestUnreadableAnswerIsRelayedAndMarkedOnTheSpan(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"not JSON", `<html>502 Bad Gateway</html>`},
		{"nested too deep", strings.Repeat("[", 4_000_000)},
		{"deep inside an object", `{"model":"gpt-4o","choices":` + strings.Repeat("[", 4_000_000)},
		{"empty", ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{upstream: answer(200, tt.body)})
			resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, nil)
			if resp.StatusCode != 200 || got != tt.body {
				t.Fatalf("got %d, %d bytes; want 200 and the upstream's %d bytes unchanged", resp.StatusCode, len(got), len(tt.body))
			}
			span := h.span(t)
			assertErrorSpan(t, span, "TracingError")
			if tt.body != "" && span.Attributes["output.value"] != tt.body {
				t.Errorf("output.value is not the answer as text")
			}
		})
	}
}

// An error answer nested too deep is described as text, not walked.
func TestDeeplyNestedErrorAnswer(t *testing.T) {
	body := `{"error":` + strings.Repeat("[", 4_000_000)
	h := newHarness(t, harnessOptions{upstream: answer(500, body)})
	resp, got := post(t, h.proxy.URL+"/v1/chat/completions", "application/json", `{"model":"gpt-4o","messages":[]}`, nil)
	if resp.StatusCode != 500 || got != body {
		t.Fatalf("got %d; want the upstream's 500 unchanged", resp.StatusCode)
	}
	span := h.span(t)
	assertErrorSpan(t, span, "openai.InternalServerError")
}
