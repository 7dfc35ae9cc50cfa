"""Anthropic through the proxy, as a user sees it.

- The Anthropic SDK on /v1/messages: a `messages.create` span with the
  provider, Anthropic's model, the messages, tool calls, token counts and the
  message as the API sent it (test_oracle.py compares the rest with
  openinference-instrumentation-anthropic's span of the same call).
- anthropic/ models on /chat/completions (the OpenAI SDK, LiteLLM with
  USE_LITELLM_PROXY): the request the proxy sends Anthropic is the
  translation the README describes; the caller gets OpenAI's format (valid
  for the OpenAI SDK's types) with the recorded answer's content, tool
  calls, finish reason and usage; the span is a ChatCompletion span naming
  Anthropic and its model, with token counts, which Phoenix prices.
- gemini/ models: Phoenix prices them too (test_spans.py checks the rest;
  Google's own API and Claude on Vertex AI are test_gemini.py's).

Expectations come from the recorded Anthropic answers the (synthetic)
cassettes give.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import cases
import phoenix_api
import recorded
from test_spans import attr, parsed, the_span

MESSAGES_OK = [c for c in cases.CALLS if c.api == "anthropic" and c.status < 400]
TRANSLATED = [c for c in cases.CASES if c.api == "translated"]
# Calls whose model Phoenix's cost table knows: every translated and gemini/ call.
PRICED = [c for c in cases.CALLS if c.api == "translated" or (c.api == "openai" and c.case.provider == "google")]

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


# How a content block's type shows in a span (as the instrumentor writes it).
CONTENT_TYPES = {"text": "text", "thinking": "reasoning", "tool_use": "tool_use", "image": "image"}


def usage_counts(message: dict[str, Any]) -> dict[str, int]:
    """An Anthropic message's usage as OpenAI token counts (the README: the
    prompt counts cache reads and writes too)."""
    u = message["usage"]
    prompt = u["input_tokens"] + (u.get("cache_creation_input_tokens") or 0) + (u.get("cache_read_input_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": u["output_tokens"], "total_tokens": prompt + u["output_tokens"]}


def text_of(message: dict[str, Any]) -> str | None:
    texts = [b["text"] for b in message["content"] if b["type"] == "text"]
    return "".join(texts) if texts else None


def tool_uses(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message["content"] if b["type"] == "tool_use"]




# --- the Messages API (Anthropic SDK) ---------------------------------------------


@pytest.mark.parametrize("call", MESSAGES_OK, ids=lambda c: c.id)
def test_messages_span(call, proxy_spans):
    s = the_span(proxy_spans, call)
    message = recorded.anthropic_message(call.cassette)
    assert attr(s, "llm.system") == "anthropic"
    assert attr(s, "llm.provider") == call.case.provider, "who hosts the model: Anthropic, or Google for Vertex AI"
    assert attr(s, "llm.model_name") == message["model"], "llm.model_name is the model that answered"
    counts = usage_counts(message)
    assert attr(s, "llm.token_count.prompt") == counts["prompt_tokens"]
    assert attr(s, "llm.token_count.completion") == counts["completion_tokens"]
    assert attr(s, "llm.token_count.total") == counts["total_tokens"]
    assert attr(s, "llm.finish_reason") == message["stop_reason"]
    assert parsed(attr(s, "output.value")) == message, (
        "output.value is the message as the API sent it (a stream's, assembled from its events)"
    )


@pytest.mark.parametrize("call", MESSAGES_OK, ids=lambda c: c.id)
def test_messages_span_messages(call, proxy_spans):
    """The system prompt, each request message, and the answer's blocks
    (text, thinking, tool calls) as Phoenix lists them."""
    s = the_span(proxy_spans, call)
    body = call.request_body()
    first = 0
    if "system" in body:
        assert attr(s, "llm.input_messages.0.message.role") == "system"
        assert attr(s, "llm.input_messages.0.message.content") == body["system"]
        first = 1
    i = first
    for m in body["messages"]:
        p = f"llm.input_messages.{i}.message"
        if isinstance(m["content"], str):
            assert attr(s, f"{p}.role") == m["role"]
            assert attr(s, f"{p}.content") == m["content"]
        elif all(b["type"] == "tool_result" for b in m["content"]):
            # Each tool result is a message of its own, as in OpenAI's format.
            for b in m["content"]:
                p = f"llm.input_messages.{i}.message"
                assert attr(s, f"{p}.role") == "tool"
                assert attr(s, f"{p}.tool_call_id") == b["tool_use_id"]
                assert attr(s, f"{p}.content") == b["content"]
                i += 1
            continue
        else:
            assert attr(s, f"{p}.role") == m["role"]
            for j, b in enumerate(m["content"]):
                q = f"{p}.contents.{j}.message_content"
                assert attr(s, f"{q}.type") == CONTENT_TYPES[b["type"]]
                if b["type"] in ("text", "thinking"):
                    assert attr(s, f"{q}.text") == b[b["type"]]
        i += 1
    message = recorded.anthropic_message(call.cassette)
    p = "llm.output_messages.0.message"
    assert attr(s, f"{p}.role") == "assistant"
    for j, b in enumerate(message["content"]):
        if b["type"] == "text":
            assert attr(s, f"{p}.contents.{j}.message_content.text") == b["text"]
        elif b["type"] == "thinking":
            assert attr(s, f"{p}.contents.{j}.message_content.text") == b["thinking"]
            assert attr(s, f"{p}.contents.{j}.message_content.signature") == b["signature"]
    assert_tool_calls_and_tools(s, p, message, body)


# --- anthropic/ models in OpenAI's format (translated) ---------------------------


def anthropic_request(body: dict[str, Any]) -> dict[str, Any]:
    """The Messages API request the README says the proxy sends for an
    OpenAI chat body (for what the cases use: user text and image URLs,
    function tools, max_tokens or the 4,096 default, stream)."""
    assert all(m["role"] == "user" for m in body["messages"]), "write the expectation for other roles first"

    def block(part: dict[str, Any]) -> dict[str, Any]:
        if part["type"] == "text":
            return {"type": "text", "text": part["text"]}
        assert part["type"] == "image_url"
        return {"type": "image", "source": {"type": "url", "url": part["image_url"]["url"]}}

    out: dict[str, Any] = {
        "model": body["model"].removeprefix("anthropic/"),
        "max_tokens": body.get("max_tokens", 4096),
        "messages": [
            {
                "role": "user",
                "content": [block(p) for p in m["content"]]
                if isinstance(m["content"], list)
                else [{"type": "text", "text": m["content"]}],
            }
            for m in body["messages"]
        ],
    }
    if body.get("tools"):
        out["tools"] = [
            {"name": t["function"]["name"], "description": t["function"]["description"], "input_schema": t["function"]["parameters"]}
            for t in body["tools"]
        ]
    if body.get("stream"):
        out["stream"] = True
    return out


@pytest.mark.parametrize("case", TRANSLATED, ids=lambda c: c.id)
def test_translated_request(case):
    """What the proxy sent Anthropic for the case (captured into its
    synthetic cassette, and matched by the fake provider on every run) is the
    translation of the client's request."""
    assert recorded.is_messages_api(case.cassette)
    assert recorded.request_body(case.cassette) == anthropic_request(case.sent())


@pytest.mark.parametrize("case", TRANSLATED, ids=lambda c: c.id)
def test_translated_answer(case, proxy_calls):
    """The caller gets the recorded Anthropic answer in OpenAI's format. The
    OpenAI SDK cases validated every answer (each chunk) against the SDK's
    types in the call itself (cases.openai_typed)."""
    got = proxy_calls[case.id]["result"]
    assert got["ok"], f"{case.id}: the call failed through the proxy: {got}"
    message = recorded.anthropic_message(case.cassette)
    text = text_of(message)
    assert got["content"] == ([text] if text is not None or not case.stream else [])
    want_calls = [{"id": u["id"], "name": u["name"], "arguments": u["input"]} for u in tool_uses(message)]
    assert [c | {"arguments": json.loads(c["arguments"])} for c in got["tool_calls"]] == want_calls
    assert got["finish_reason"] == FINISH_REASONS[message["stop_reason"]]
    if case.litellm:
        assert got["model"].endswith(message["model"]), got["model"]  # LiteLLM prefixes litellm_proxy/
    else:
        assert got["model"] == message["model"]
    if not case.stream:
        assert got["id"] == message["id"], "the id is Anthropic's message id (README)"
    elif not case.litellm:  # LiteLLM re-chunks what it reads
        assert got["ids"] == [message["id"]], "every chunk carries Anthropic's message id"
        deltas = sum(1 for e in recorded.sse_chunks(case.cassette) if e.get("type") == "content_block_delta")
        usage_chunk = bool((case.sent().get("stream_options") or {}).get("include_usage"))
        assert got["chunks"] == 1 + deltas + 1 + usage_chunk, (
            "a chunk with the role, one per text delta, the finish chunk (and the usage chunk if asked for)"
        )
    if case.sent().get("stream_options", {}).get("include_usage") or not case.stream:
        assert got["usage"] == usage_counts(message)
    elif not case.litellm:
        assert got["usage"] is None, "no usage chunk when the client did not ask for one"


@pytest.mark.parametrize("case", TRANSLATED, ids=lambda c: c.id)
def test_translated_span(case, proxy_spans):
    """A ChatCompletion span of the call as the client made and saw it, naming
    Anthropic and the model that answered, with the messages, tool calls,
    finish reason and token counts."""
    (call,) = case.calls
    s = the_span(proxy_spans, call)
    message = recorded.anthropic_message(case.cassette)
    assert attr(s, "llm.system") == "anthropic"
    assert attr(s, "llm.provider") == "anthropic"
    assert attr(s, "llm.model_name") == message["model"]
    assert attr(s, "llm.finish_reason") == FINISH_REASONS[message["stop_reason"]]
    body = case.sent()
    for i, m in enumerate(body["messages"]):
        p = f"llm.input_messages.{i}.message"
        assert attr(s, f"{p}.role") == m["role"]
        if isinstance(m["content"], str):
            assert attr(s, f"{p}.content") == m["content"]
        else:
            for j, part in enumerate(m["content"]):
                assert attr(s, f"{p}.contents.{j}.message_content.type") == part["type"].replace("image_url", "image")
    p = "llm.output_messages.0.message"
    assert attr(s, f"{p}.role") == "assistant"
    if text_of(message) is not None:
        assert attr(s, f"{p}.content") == text_of(message)
    assert_tool_calls_and_tools(s, p, message, body)
    out = parsed(attr(s, "output.value"))
    assert out["id"] == message["id"] and out["model"] == message["model"], "output.value is the answer in OpenAI's format"


@pytest.mark.parametrize("call", [c for c in cases.CALLS if c.api == "translated"], ids=lambda c: c.id)
def test_translated_token_counts(call, proxy_spans):
    """Anthropic sends a call's usage on every answer, streams included, so
    every translated span has token counts, as every stream span of the
    proxy has (README), whether or not the client asked for a usage chunk."""
    s = the_span(proxy_spans, call)
    counts = usage_counts(recorded.anthropic_message(call.cassette))
    assert attr(s, "llm.token_count.prompt") == counts["prompt_tokens"]
    assert attr(s, "llm.token_count.completion") == counts["completion_tokens"]
    assert attr(s, "llm.token_count.total") == counts["total_tokens"]


@pytest.mark.parametrize("call", PRICED, ids=lambda c: c.id)
def test_phoenix_prices_the_call(call, stack, proxy_spans):
    """Phoenix knows the model by the name the span gives it (Anthropic's,
    Gemini's, without LiteLLM's prefix) and prices the call from its token
    counts. (Phoenix's REST API does not return costs: they are read the
    way its UI reads them, through its GraphQL API.)"""
    assert_priced(stack, the_span(proxy_spans, call))


def assert_priced(stack: Any, s: dict[str, Any]) -> None:
    """Phoenix priced the span: prompt and completion, for its token counts."""
    cost = phoenix_api.span_cost(stack.phoenix, s)
    assert cost is not None, f"Phoenix computed no cost for {attr(s, 'llm.model_name')!r}"
    assert cost["prompt"]["tokens"] == attr(s, "llm.token_count.prompt")
    assert cost["completion"]["tokens"] == attr(s, "llm.token_count.completion")
    assert cost["prompt"]["cost"] > 0 and cost["completion"]["cost"] > 0, cost
    assert cost["total"]["cost"] == pytest.approx(cost["prompt"]["cost"] + cost["completion"]["cost"])


def test_stream_helper_marks_its_requests():
    """What tells the helper's calls apart on the wire: the pinned Anthropic
    SDK's messages.stream() sends x-stainless-helper-method: stream and
    x-stainless-stream-helper: messages (messages.create(stream=True) sends
    neither). The proxy reads the first to name the helper's spans
    messages.stream, as the instrumentor does."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict[str, str]] = []
    stream = recorded.interaction("oi-async_stream_message")["response"]["body"].encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(stream)))
            self.end_headers()
            self.wfile.write(stream)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = cases._anthropic(cases.Target(f"http://127.0.0.1:{server.server_address[1]}", "sk-test", False))
        body = recorded.request_body("oi-async_stream_message")
        for _ in client.messages.create(**body):
            pass
        with client.messages.stream(**{k: v for k, v in body.items() if k != "stream"}) as s:
            s.until_done()
    finally:
        server.shutdown()
    create, helper = seen
    assert "x-stainless-helper-method" not in create and "x-stainless-stream-helper" not in create
    assert helper.get("x-stainless-helper-method") == "stream"
    assert helper.get("x-stainless-stream-helper") == "messages"


def assert_tool_calls_and_tools(s: dict[str, Any], p: str, message: dict[str, Any], body: dict[str, Any]) -> None:
    """The answer's tool_use blocks are the output message's tool calls (at
    prefix p), and the request's tools are llm.tools, as the instrumentor
    records them."""
    for k, use in enumerate(tool_uses(message)):
        q = f"{p}.tool_calls.{k}.tool_call"
        assert attr(s, f"{q}.id") == use["id"]
        assert attr(s, f"{q}.function.name") == use["name"]
        assert parsed(attr(s, f"{q}.function.arguments")) == use["input"]
    for k, tool in enumerate(body.get("tools") or []):
        assert parsed(attr(s, f"llm.tools.{k}.tool.json_schema")) == tool
