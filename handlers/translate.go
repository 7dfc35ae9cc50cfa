package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phoenixproxy/llmproxy/anthropic"
	"github.com/phoenixproxy/llmproxy/spans"
	"github.com/phoenixproxy/llmproxy/stream"
)

// anthropicHeaders readies a translated call's headers for Anthropic: the
// OpenAI client's bearer key becomes x-api-key (a proxy key replaces it
// after), and anthropic-version is set if the client did not set it.
func anthropicHeaders(h http.Header) {
	if key, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer "); ok && h.Get("X-Api-Key") == "" {
		h.Set("X-Api-Key", key)
	}
	h.Del("Authorization")
	if h.Get("Anthropic-Version") == "" {
		h.Set("Anthropic-Version", anthropic.Version)
	}
}

// relayTranslated answers an OpenAI-format call with Anthropic's answer in
// OpenAI's format: a stream chunk by chunk as its events arrive, anything
// else once read whole. The span records the call as the client saw it.
// It reports whether the call succeeded.
func (h *Handler) relayTranslated(w http.ResponseWriter, r *http.Request, upCtx context.Context, cancel context.CancelCauseFunc,
	resp *http.Response, call *spans.Call, includeUsage bool) bool {
	w.Header().Del("Content-Length")
	w.Header().Del("Content-Encoding")
	if isEventStream(resp.Header) && resp.StatusCode < 400 {
		conv := &anthropic.ChatStream{IncludeUsage: includeUsage, Created: time.Now().Unix()}
		acc := &stream.ChatAccumulator{}
		relay := stream.Relay{OnFirstToken: call.FirstToken, Acc: acc, Translate: func(ev stream.Event) [][]byte { return conv.Event(ev.Data) }}
		// Anthropic always sends the usage: the span gets it even when the
		// client did not ask for the usage chunk.
		relay.OnEnd = func() {
			if !includeUsage {
				_, _ = acc.Add(conv.UsageChunk())
			}
		}
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		w.WriteHeader(resp.StatusCode)
		return h.finishStream(w, r, upCtx, cancel, resp, call, &relay)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, h.maxBodyBytes)); err != nil {
		status, kind, cause := classify(r.Context(), upCtx, err)
		call.Fail(kind, cause)
		h.logFailure(r, call.Model(), kind, cause)
		upstreamError(status, cause).Write(w)
		return false
	}
	var body []byte
	if resp.StatusCode >= 400 {
		body = anthropic.ErrorToOpenAI(resp.StatusCode, buf.Bytes())
	} else {
		var err error
		if body, err = anthropic.ToOpenAIChat(buf.Bytes(), time.Now().Unix()); err != nil {
			cause := fmt.Errorf("translating Anthropic's answer: %w", err)
			call.Fail(failTracing, cause)
			h.logFailure(r, call.Model(), failTracing, cause)
			upstreamError(http.StatusBadGateway, cause).Write(w)
			return false
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, bytes.NewReader(body))
	if resp.StatusCode >= 400 {
		call.UpstreamError(resp.StatusCode, body)
		return false
	}
	return h.traceResponse(r, call, body)
}
