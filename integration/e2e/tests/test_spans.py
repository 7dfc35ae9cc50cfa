"""What a user sees in Phoenix for each call through the proxy: one span in
the configured project, of the right kind, naming the model, with the
messages, tool calls, token counts, first-token event and error status that
the call had. Expectations come from the recorded request and response."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import cases
import phoenix_api
import recorded


def the_span(proxy_spans: dict[str, list[dict[str, Any]]], call: cases.Call) -> dict[str, Any]:
    """The proxy's span of one model call: the case's spans, one per call, in
    the order the calls were made."""
    got = proxy_spans[call.case.id]
    want = call.case.turns
    assert len(got) == want, (
        f"{call.case.id}: want {want} proxy span(s) in the case's time window, one per model call, "
        f"found {len(got)}: {[(s['name'], s['start_time']) for s in got]}"
    )
    return got[call.index]


def attr(span: dict[str, Any], key: str) -> Any:
    a = span["attributes"]
    assert key in a, f"{span['name']}: attribute {key} missing; has {sorted(a)}"
    return a[key]


def parsed(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


CALLS = cases.CALLS
OK_CALLS = [c for c in CALLS if c.status < 400]
ERROR_CALLS = [c for c in CALLS if c.status >= 400]
# Chat and legacy completions answered in OpenAI's format; the Responses
# API's spans have their own tests (test_responses.py), and so have the
# Messages API's and translated calls' (test_anthropic.py).
LLM_OK = [c for c in OK_CALLS if c.span_name in ("ChatCompletion", "Completion") and c.api == "openai"]
CHAT_OK = [c for c in LLM_OK if c.span_name == "ChatCompletion"]


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.id)
def test_one_span_named_and_kinded(call, proxy_spans):
    s = the_span(proxy_spans, call)
    assert s["name"] == call.span_name
    assert s["span_kind"] == call.span_kind
    assert s["status_code"] == ("ERROR" if call.status >= 400 else "OK"), s["status_message"]
    assert s["parent_id"] is None, "a proxy span is the root of its trace (no traceparent was sent)"


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.id)
def test_input_is_the_request(call, proxy_spans):
    s = the_span(proxy_spans, call)
    assert attr(s, "input.mime_type") == "application/json"
    assert parsed(attr(s, "input.value")) == call.traced_body(), (
        "input.value must be the request the client sent (with the model as its provider names it)"
    )


@pytest.mark.parametrize("call", LLM_OK, ids=lambda c: c.id)
def test_llm_model_and_provider(call, proxy_spans):
    s = the_span(proxy_spans, call)
    exp = recorded.expected(call.cassette)
    assert attr(s, "llm.model_name") == exp.model, "llm.model_name is the model that answered"
    assert attr(s, "llm.system") == "openai"
    assert attr(s, "llm.provider") == call.case.provider
    params = parsed(attr(s, "llm.invocation_parameters"))
    body = call.traced_body()
    for k, v in body.items():
        if k not in ("messages", "tools", "functions", "prompt"):
            assert params.get(k) == v, f"llm.invocation_parameters.{k}: got {params.get(k)!r}; want {v!r}"


@pytest.mark.parametrize("call", CHAT_OK, ids=lambda c: c.id)
def test_chat_messages(call, proxy_spans):
    s = the_span(proxy_spans, call)
    body = call.request_body()
    for i, m in enumerate(body["messages"]):
        p = f"llm.input_messages.{i}.message"
        assert attr(s, f"{p}.role") == m["role"]
        if isinstance(m.get("content"), str):
            assert attr(s, f"{p}.content") == m["content"]
        elif isinstance(m.get("content"), list):
            for j, part in enumerate(m["content"]):
                q = f"{p}.contents.{j}.message_content"
                assert attr(s, f"{q}.type") == ("image" if part["type"] == "image_url" else part["type"])
                if part["type"] == "text":
                    assert attr(s, f"{q}.text") == part["text"]
    exp = recorded.expected(call.cassette)
    assert attr(s, "llm.output_messages.0.message.role") == "assistant"
    if exp.content and exp.content[0]:
        assert attr(s, "llm.output_messages.0.message.content") == exp.content[0]
    for k, call in enumerate(exp.tool_calls):
        p = f"llm.output_messages.0.message.tool_calls.{k}.tool_call"
        assert attr(s, f"{p}.id") == call["id"]
        assert attr(s, f"{p}.function.name") == call["function"]["name"]
        assert parsed(attr(s, f"{p}.function.arguments")) == json.loads(call["function"]["arguments"])
    for k, tool in enumerate(body.get("tools") or []):
        assert parsed(attr(s, f"llm.tools.{k}.tool.json_schema")) == tool
    assert attr(s, "llm.finish_reason") == exp.finish_reason
    assert parsed(attr(s, "output.value")), "output.value holds the (assembled) response"
    assert attr(s, "output.mime_type") == "application/json"


@pytest.mark.parametrize("call", [c for c in LLM_OK if c.span_name == "Completion"], ids=lambda c: c.id)
def test_legacy_completion_prompts_and_choices(call, proxy_spans):
    s = the_span(proxy_spans, call)
    prompt = recorded.request_body(call.cassette)["prompt"]
    prompts = [prompt] if isinstance(prompt, str) else prompt
    for i, p in enumerate(prompts):
        assert attr(s, f"llm.prompts.{i}.prompt.text") == p
    for i, text in enumerate(recorded.expected(call.cassette).texts):
        assert attr(s, f"llm.choices.{i}.completion.text") == text


@pytest.mark.parametrize("call", [c for c in LLM_OK if recorded.expected(c.cassette).usage], ids=lambda c: c.id)
def test_token_counts(call, proxy_spans):
    s = the_span(proxy_spans, call)
    usage = recorded.expected(call.cassette).usage
    assert attr(s, "llm.token_count.prompt") == usage["prompt_tokens"]
    assert attr(s, "llm.token_count.completion") == usage["completion_tokens"]
    assert attr(s, "llm.token_count.total") == usage["total_tokens"]
    details = usage.get("completion_tokens_details") or {}
    if "reasoning_tokens" in details:
        assert attr(s, "llm.token_count.completion_details.reasoning") == details["reasoning_tokens"]
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is not None:
        assert attr(s, "llm.token_count.prompt_details.cache_read") == cached


@pytest.mark.parametrize("call", [c for c in OK_CALLS if c.stream], ids=lambda c: c.id)
def test_stream_first_token_event(call, proxy_spans):
    s = the_span(proxy_spans, call)
    events = [e for e in s["events"] if e["name"] == "First Token Stream Event"]
    assert len(events) == 1, f"want one First Token Stream Event, got {[e['name'] for e in s['events']]}"
    t = phoenix_api.ts(events[0]["timestamp"])
    assert phoenix_api.ts(s["start_time"]) <= t <= phoenix_api.ts(s["end_time"]), "the event lies within the span"


@pytest.mark.parametrize("call", [c for c in OK_CALLS if c.span_kind == "EMBEDDING"], ids=lambda c: c.id)
def test_embeddings(call, proxy_spans):
    s = the_span(proxy_spans, call)
    body = recorded.request_body(call.cassette)
    assert attr(s, "embedding.model_name") == recorded.expected(call.cassette).model
    inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
    vectors = recorded.expected(call.cassette).vectors
    for i, text in enumerate(inputs):
        if isinstance(text, str):
            assert attr(s, f"embedding.embeddings.{i}.embedding.text") == text
    for i, want in enumerate(vectors):
        got = attr(s, f"embedding.embeddings.{i}.embedding.vector")
        assert len(got) == len(want), f"vector {i}: {len(got)} floats; want {len(want)}"
        assert all(math.isclose(g, w, rel_tol=1e-6, abs_tol=1e-9) for g, w in zip(got, want)), (
            f"vector {i} differs from the (decoded) response"
        )


@pytest.mark.parametrize("call", ERROR_CALLS, ids=lambda c: c.id)
def test_errors_are_marked(call, proxy_spans):
    s = the_span(proxy_spans, call)
    assert s["status_code"] == "ERROR"
    exc = [e for e in s["events"] if e["name"] == "exception"]
    assert len(exc) == 1, f"want one exception event, got {[e['name'] for e in s['events']]}"
    message = recorded.expected(call.cassette).error["message"]
    assert message in exc[0]["attributes"].get("exception.message", ""), (
        f"exception.message should carry the provider's message {message!r}"
    )
    assert message in s["status_message"]
