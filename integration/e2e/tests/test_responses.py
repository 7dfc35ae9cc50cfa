"""What a user sees in Phoenix for each Responses API call through the proxy
(OpenAI Python and Node SDKs, an Agents SDK run): a Response span naming the
model, with the instructions and input items as input messages, the output
items (text, reasoning, tool calls) as output messages, the tools and the
token counts. Expectations come from the recorded request and response."""

from __future__ import annotations

from typing import Any

import pytest

import cases
import recorded
from test_spans import attr, parsed, the_span

RESPONSES_OK = [c for c in cases.CALLS if c.span_name == "Response" and c.status < 400]


def message(item: dict[str, Any], role: str) -> dict[str, Any]:
    """The attributes (after `...N.message.`) an input or output item shows
    as, for the fields a user reads: role, text, tool call, tool result."""
    kind = item.get("type", "message")
    if kind == "function_call":
        call = "tool_calls.0.tool_call."
        return {
            "role": "assistant",
            call + "id": item["call_id"],
            call + "function.name": item["name"],
            call + "function.arguments": item["arguments"],
        }
    if kind == "function_call_output":
        return {"role": "tool", "tool_call_id": item["call_id"], "content": item["output"]}
    if kind == "reasoning":
        return {"role": "assistant", "contents.0.message_content.type": "reasoning"}
    assert kind == "message", f"no expectation written for a {kind} item"
    if isinstance(item["content"], str):
        return {"role": item.get("role", role), "content": item["content"]}
    out = {"role": item.get("role", role)}
    for j, part in enumerate(item["content"]):
        if part["type"] in ("input_text", "output_text"):
            out[f"contents.{j}.message_content.type"] = "text"
            out[f"contents.{j}.message_content.text"] = part["text"]
    return out


def input_messages(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The instructions as a system message, then one message per input item
    (a string input is one user message). The instrumentor numbers the
    items from 1 whether or not there are instructions; Phoenix keeps a
    span's messages as a list, so it shows them numbered from 0 in order."""
    msgs = [{"role": "system", "content": body["instructions"]}] if body.get("instructions") is not None else []
    items = [{"role": "user", "content": body["input"]}] if isinstance(body["input"], str) else body["input"]
    return dict(enumerate(msgs + [message(item, "user") for item in items]))


def assert_messages(span: dict[str, Any], key: str, want: dict[int, dict[str, Any]]) -> None:
    for n, fields in want.items():
        for suffix, value in fields.items():
            got = attr(span, f"{key}.{n}.message.{suffix}")
            assert got == value, f"{key}.{n}.message.{suffix}: got {got!r}; want {value!r}"


@pytest.mark.parametrize("call", RESPONSES_OK, ids=lambda c: c.id)
def test_model_and_parameters(call, proxy_spans):
    s = the_span(proxy_spans, call)
    assert attr(s, "llm.model_name") == recorded.final_response(call.cassette)["model"]
    assert attr(s, "llm.system") == "openai"
    assert attr(s, "llm.provider") == "openai"
    params = parsed(attr(s, "llm.invocation_parameters"))
    for k, v in recorded.request_body(call.cassette).items():
        if k not in ("input", "instructions", "tools"):
            assert params.get(k) == v, f"llm.invocation_parameters.{k}: got {params.get(k)!r}; want {v!r}"


@pytest.mark.parametrize("call", RESPONSES_OK, ids=lambda c: c.id)
def test_input_messages(call, proxy_spans):
    want = input_messages(recorded.request_body(call.cassette))
    assert_messages(the_span(proxy_spans, call), "llm.input_messages", want)


@pytest.mark.parametrize("call", RESPONSES_OK, ids=lambda c: c.id)
def test_output_messages_and_value(call, proxy_spans):
    s = the_span(proxy_spans, call)
    final = recorded.final_response(call.cassette)
    want = {k: message(item, "assistant") for k, item in enumerate(final["output"])}
    assert_messages(s, "llm.output_messages", want)
    assert attr(s, "output.mime_type") == "application/json"
    assert parsed(attr(s, "output.value")) == final, "output.value is the response (a stream's final one)"


@pytest.mark.parametrize(
    "call", [c for c in RESPONSES_OK if recorded.final_response(c.cassette)["tools"]], ids=lambda c: c.id
)
def test_tools(call, proxy_spans):
    s = the_span(proxy_spans, call)
    for k, tool in enumerate(recorded.final_response(call.cassette)["tools"]):
        got = parsed(attr(s, f"llm.tools.{k}.tool.json_schema"))
        assert got == tool, f"llm.tools.{k} is the response's tool {k}, as the API sent it"


@pytest.mark.parametrize("call", RESPONSES_OK, ids=lambda c: c.id)
def test_token_counts(call, proxy_spans):
    s = the_span(proxy_spans, call)
    usage = recorded.final_response(call.cassette)["usage"]
    assert attr(s, "llm.token_count.prompt") == usage["input_tokens"]
    assert attr(s, "llm.token_count.completion") == usage["output_tokens"]
    assert attr(s, "llm.token_count.total") == usage["total_tokens"]
    assert attr(s, "llm.token_count.completion_details.reasoning") == usage["output_tokens_details"]["reasoning_tokens"]
    details = usage["input_tokens_details"]
    assert attr(s, "llm.token_count.prompt_details.cache_read") == details["cached_tokens"]
    if "cache_write_tokens" in details:
        assert attr(s, "llm.token_count.prompt_details.cache_write") == details["cache_write_tokens"]


def test_agent_run_is_one_span_per_model_call(proxy_spans):
    """The Agents SDK run shows in Phoenix as its two model calls: the one
    that asked for the tool, and the one that was given its output."""
    first, second = (the_span(proxy_spans, c) for c in cases.BY_ID["agents-tool-run"].calls)
    assert first["name"] == second["name"] == "Response"
    assert attr(first, "llm.output_messages.0.message.tool_calls.0.tool_call.function.name") == "get_capital"
    assert attr(second, "llm.input_messages.3.message.role") == "tool"
    assert attr(second, "llm.input_messages.3.message.content") == cases.CAPITALS["PotatoLand"]
    assert "Potato City" in attr(second, "llm.output_messages.0.message.contents.0.message_content.text")
