package handlers

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixproxy/llmproxy/ids"

	"github.com/tidwall/gjson"

	"github.com/phoenixproxy/llmproxy/openai"
)

// mockTransport answers a chat call with LiteLLM's mock_response text, as
// LiteLLM's mock completion does: a chat.completion with the text and
// LiteLLM's mock usage (10 prompt, 20 completion tokens), or, for a stream,
// the text in word chunks, a finish chunk, the usage chunk when asked for,
// and [DONE].
type mockTransport struct {
	text, model string
}

func (m mockTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close() // as every RoundTripper must
	if err != nil {
		return nil, err
	}
	id := "chatcmpl-mock-" + ids.UUID()
	created := time.Now().Unix()
	const usage = `{"prompt_tokens":10,"completion_tokens":20,"total_tokens":30}`
	text := openai.AppendJSONString(nil, m.text)
	model := openai.AppendJSONString(nil, m.model)
	var out bytes.Buffer
	contentType := "application/json"
	if gjson.GetBytes(body, "stream").Bool() {
		contentType = "text/event-stream"
		chunk := func(delta, finish string, withUsage bool) {
			fmt.Fprintf(&out, `data: {"id":%q,"object":"chat.completion.chunk","created":%d,"model":%s,"choices":[{"index":0,"delta":%s,"finish_reason":%s}]`, id, created, model, delta, finish)
			if withUsage {
				out.WriteString(`,"usage":null`)
			}
			out.WriteString("}\n\n")
		}
		withUsage := gjson.GetBytes(body, "stream_options.include_usage").Bool()
		chunk(`{"role":"assistant","content":""}`, "null", withUsage)
		words := strings.SplitAfter(m.text, " ")
		for _, w := range words {
			if w != "" {
				chunk(`{"content":`+string(openai.AppendJSONString(nil, w))+`}`, "null", withUsage)
			}
		}
		chunk(`{}`, `"stop"`, withUsage)
		if withUsage {
			fmt.Fprintf(&out, `data: {"id":%q,"object":"chat.completion.chunk","created":%d,"model":%s,"choices":[],"usage":%s}`+"\n\n", id, created, model, usage)
		}
		out.WriteString("data: [DONE]\n\n")
	} else {
		fmt.Fprintf(&out, `{"id":%q,"object":"chat.completion","created":%d,"model":%s,"choices":[{"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":%s}`,
			id, created, model, text, usage)
	}
	header := http.Header{"Content-Type": {contentType}}
	if contentType == "application/json" {
		header.Set("Content-Length", strconv.Itoa(out.Len()))
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        header,
		Body:          io.NopCloser(&out),
		ContentLength: int64(out.Len()),
		Request:       r,
	}, nil
}
