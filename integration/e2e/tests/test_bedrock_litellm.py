"""LiteLLM with USE_LITELLM_PROXY=True calling `bedrock/<model id>` through
the proxy, end to end.

LiteLLM 1.110.2 sends OpenAI's format to the proxy's /chat/completions with
the model as given; the proxy translates the call to Bedrock's Converse (or
ConverseStream, when it streams), signs it with its own AWS credentials,
and translates the answer back. The calls are recorded Converse calls
(bedrock_chat.CALLS: Nova's text, a tool call, Nova's tool call after its
reasoning in <thinking> tags, streams of text, of tool calls and after a
tool result, Claude Sonnet 4.5's prompt cache written then read, Bedrock's
400 on Converse and on ConverseStream), their messages, tools and settings
the recorded request's in OpenAI's terms.

They go to a fake provider of their own (SigV4 checked, as the suite's)
that answers them from synthetic cassettes (cassettes/synthesize.py) whose
requests are the Converse requests the proxy must send: the recorded ones
but for the few differences bedrock_chat.translated_request lists. The fake
matches a request's body as JSON, so a call the proxy translated otherwise
gets its 404, and fails. Each call names its cassette (X-Fake-Cassette,
which the proxy passes on), as the cache's two calls send one request.

Checked: LiteLLM's answer (content, tool calls, finish reason, usage with
the cache's reads and writes as LiteLLM reports them; an error as the
exception LiteLLM raises for its status, with Bedrock's message); one
ChatCompletion span per call naming AWS and the Bedrock model id, the
messages, the answer, the token counts with cache reads and writes, no AWS
secret; every request reaching the fake signed with the proxy's key; the
cost Phoenix computes where its price table knows the model.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote

import pytest

import cases
import phoenix_api
import recorded
from bedrock_chat import CALLS, BedrockChatCall
from conftest import API_KEY, ARTIFACTS, PROXY_AWS_KEY_ID, PROXY_AWS_SECRET, PROXY_AWS_SESSION_TOKEN, start_fake, start_proxy
from test_anthropic import assert_priced
from test_bedrock import bedrock_requests, fake_journal

PROJECT = "e2e-bedrock-litellm"
OK_CALLS = [c for c in CALLS if c.status < 400]
ERROR_CALLS = [c for c in CALLS if c.status >= 400]
# Converse's stopReason as LiteLLM gives it (map_finish_reason).
FINISH_REASONS = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length", "stop_sequence": "stop"}


@dataclass
class BedrockLiteLLMStack:
    proxy: str
    fake: str


@pytest.fixture(scope="module")
def bedrock_litellm(stack) -> Iterator[BedrockLiteLLMStack]:
    """A fake provider of its own (the suite's cassettes and the synthetic
    ones, Bedrock's routes taking the proxy's signature), so that its
    journal holds these calls alone, and a proxy in front of it exporting
    to a project of its own."""
    work = stack.work / "bedrock-litellm"
    work.mkdir()
    fake_svc, fake = start_fake(work, "fakeprovider-bedrock-litellm")
    proxy_svc, proxy = start_proxy("proxy-bedrock-litellm", fake, stack.grpc, PROJECT)
    yield BedrockLiteLLMStack(proxy, fake)
    proxy_svc.stop()
    fake_svc.stop()


# --- the calls ----------------------------------------------------------------------


def _dump(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else v.model_dump(warnings=False)


def answer_summary(resp: Any) -> dict[str, Any]:
    """What the caller reads of a whole answer."""
    d = _dump(resp)
    (choice,) = d["choices"]
    m = choice["message"]
    return {
        "ok": True,
        "model": d["model"],
        "content": m.get("content"),
        "reasoning_content": m.get("reasoning_content"),
        "tool_calls": [
            {"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"]} for c in m.get("tool_calls") or []
        ],
        "finish_reason": choice["finish_reason"],
        "usage": d.get("usage"),
    }


def stream_summary(chunks: Iterator[Any]) -> dict[str, Any]:
    """What the caller reads of a stream: the content and tool calls its
    deltas build, the last finish reason, the usage chunk's usage."""
    out: dict[str, Any] = {"ok": True, "model": None, "content": None, "tool_calls": [], "finish_reason": None, "usage": None, "chunks": 0}
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        d = _dump(chunk)
        out["chunks"] += 1
        out["model"] = d.get("model") or out["model"]
        if d.get("usage"):
            out["usage"] = d["usage"]
        for ch in d.get("choices") or []:
            delta = ch.get("delta") or {}
            if delta.get("content"):
                out["content"] = (out["content"] or "") + delta["content"]
            for tc in delta.get("tool_calls") or []:
                acc = calls.setdefault(tc.get("index") or 0, {"id": None, "name": "", "arguments": ""})
                acc["id"] = tc.get("id") or acc["id"]
                fn = tc.get("function") or {}
                acc["name"] += fn.get("name") or ""
                acc["arguments"] += fn.get("arguments") or ""
            if ch.get("finish_reason"):
                out["finish_reason"] = ch["finish_reason"]
    out["tool_calls"] = [calls[i] for i in sorted(calls)]
    return out


def litellm_call(proxy: str, call: BedrockChatCall) -> dict[str, Any]:
    """litellm.completion with USE_LITELLM_PROXY on and the proxy as
    api_base; a stream asks for its usage (stream_options), as a caller who
    counts tokens does. An exception is summarized: its class (LiteLLM's
    for the status), status and message."""
    saved = os.environ.get("USE_LITELLM_PROXY")
    os.environ["USE_LITELLM_PROXY"] = "True"
    try:
        extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if call.stream else {}
        resp = cases._litellm().completion(
            model=call.model,
            **call.chat_request(),
            **extra,
            stream=call.stream,
            api_base=proxy,
            api_key=API_KEY,
            max_retries=0,
            timeout=cases.CALL_TIMEOUT,
            extra_headers={"X-Fake-Cassette": call.cassette},
        )
        return stream_summary(resp) if call.stream else answer_summary(resp)
    except Exception as e:  # the caller's view of an error is the summary
        status = getattr(e, "status_code", None)
        return {"ok": False, "exception": type(e).__name__, "status": status, "message": str(getattr(e, "message", e))[:2000]}
    finally:
        if saved is None:
            os.environ.pop("USE_LITELLM_PROXY", None)
        else:
            os.environ["USE_LITELLM_PROXY"] = saved


@pytest.fixture(scope="module")
def runs(stack, bedrock_litellm) -> dict[str, dict[str, Any]]:
    """Each call, one at a time, with its time window and the proxy's
    spans in it."""
    out = {}
    for call in CALLS:
        start = time.time()
        result = litellm_call(bedrock_litellm.proxy, call)
        out[call.id] = {"result": result, "window": (start, time.time())}
        time.sleep(0.05)
    spans = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=len(CALLS))
    for run in out.values():
        run["spans"] = [s for s in spans if phoenix_api.in_window(s, list(run["window"]))]
    (ARTIFACTS / "calls-bedrock-litellm.json").write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    return {"calls": out, "spans": spans}


def the_span(runs: dict[str, Any], call: BedrockChatCall) -> dict[str, Any]:
    got = runs["calls"][call.id]["spans"]
    assert len(got) == 1, f"{call.id}: want one span in the call's window, found {[(s['name'], s['start_time']) for s in got]}"
    return got[0]


attr = phoenix_api.span_attr
messages = phoenix_api.span_messages


# --- what the recordings say ----------------------------------------------------------


def recorded_answer(call: BedrockChatCall) -> dict[str, Any]:
    """The recorded answer: its text, its tool uses, stop reason and usage.
    A whole answer's text that opens with its reasoning in tags (Nova's
    <thinking>) is that reasoning and the text after it, as LiteLLM's own
    parse_content_for_reasoning splits it; a stream's text is as it came
    (LiteLLM parses no tags in a Converse stream)."""
    from litellm.litellm_core_utils.prompt_templates.reasoning_utils import parse_content_for_reasoning

    a = recorded.converse_result(call.source)
    text = "".join(b.get("text", "") for b in a["content"])
    reasoning = None
    if not call.stream:
        reasoning, text = parse_content_for_reasoning(text)
    return {
        "text": text or "",
        "reasoning": reasoning,
        "tool_uses": [b["tool_use"] for b in a["content"] if "tool_use" in b],
        "stop_reason": a["stop_reason"],
        "usage": a["usage"],
    }


def usage_counts(u: dict[str, Any]) -> dict[str, int]:
    """Converse's usage in OpenAI's terms as LiteLLM counts it: the prompt
    counts the cache's reads and writes (Converse's inputTokens does not)."""
    read, write = u.get("cacheReadInputTokens") or 0, u.get("cacheWriteInputTokens") or 0
    return {
        "prompt": u["inputTokens"] + read + write,
        "completion": u["outputTokens"],
        "total": u["totalTokens"],
        "cache_read": read,
        "cache_write": write,
        "input": u["inputTokens"],
    }


def message_text(content: Any) -> str:
    """An OpenAI message's text: a string, or its text parts joined."""
    if isinstance(content, str):
        return content
    return "".join(p["text"] for p in content or [] if p.get("type") == "text")


# --- what LiteLLM got -------------------------------------------------------------------


@pytest.mark.parametrize("call", OK_CALLS, ids=lambda c: c.id)
def test_litellm_answer(call, runs):
    """The recorded answer in OpenAI's format as LiteLLM gives it: the text,
    each tool call (its id, name and the input as JSON arguments), the
    finish reason, the token counts, the cache's reads (cached_tokens) and
    writes."""
    got = runs["calls"][call.id]["result"]
    assert got["ok"], got
    want = recorded_answer(call)
    # A tool call's content: "" whole, None streamed (no text delta came).
    assert (got["content"] or "") == want["text"]
    if not call.stream:
        assert got["reasoning_content"] == want["reasoning"]
    assert [(c["id"], c["name"]) for c in got["tool_calls"]] == [(t["id"], t["name"]) for t in want["tool_uses"]]
    assert [json.loads(c["arguments"]) for c in got["tool_calls"]] == [t["input"] for t in want["tool_uses"]]
    assert got["finish_reason"] == FINISH_REASONS[want["stop_reason"]]
    assert got["model"].endswith(call.model_id), got["model"]
    u, n = got["usage"], usage_counts(want["usage"])
    assert (u["prompt_tokens"], u["completion_tokens"], u["total_tokens"]) == (n["prompt"], n["completion"], n["total"])
    d = u["prompt_tokens_details"]
    assert (d["cached_tokens"], d["cache_creation_tokens"], d["text_tokens"]) == (n["cache_read"], n["cache_write"], n["input"])
    assert (u["cache_read_input_tokens"], u["cache_creation_input_tokens"]) == (n["cache_read"], n["cache_write"])


def test_cache_written_then_read(runs):
    """The same request twice: the first answer wrote the 1322-token prefix
    to the cache, the second read it, as LiteLLM reports them."""
    first, second = (runs["calls"][k]["result"]["usage"] for k in ("cache-write", "cache-read"))
    assert (first["cache_creation_input_tokens"], first["prompt_tokens_details"]["cached_tokens"]) == (1322, 0)
    assert (second["cache_creation_input_tokens"], second["prompt_tokens_details"]["cached_tokens"]) == (0, 1322)
    assert first["prompt_tokens"] == second["prompt_tokens"] == 1324


@pytest.mark.parametrize("call", ERROR_CALLS, ids=lambda c: c.id)
def test_litellm_error(call, runs):
    """Bedrock's 400 reaches LiteLLM with its status, in OpenAI's error
    format, so LiteLLM raises the exception of that status
    (BadRequestError) with Bedrock's message, streamed call or not."""
    got = runs["calls"][call.id]["result"]
    assert not got["ok"], got
    assert (got["exception"], got["status"]) == ("BadRequestError", call.status), got
    assert recorded.bedrock_json(call.source)["message"] in got["message"]


# --- what reached Bedrock ---------------------------------------------------------------


def test_every_call_reaches_bedrock_signed_by_the_proxy(bedrock_litellm, runs):
    """Each call reached the fake Bedrock once, at its model's Converse or
    ConverseStream path, signed with the proxy's credentials (LiteLLM holds
    none: it sent the proxy its API key), and none was refused. That they
    were answered at all (test_litellm_answer) says the proxy's Converse
    request was the one the synthetic cassette holds."""
    got = bedrock_requests(fake_journal(bedrock_litellm.fake))
    assert [(unquote(r["path"]), r["access_key_id"], r.get("refused")) for r in got] == [
        (c.path, PROXY_AWS_KEY_ID, None) for c in CALLS
    ]


# --- the span ---------------------------------------------------------------------------


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.id)
def test_litellm_span(call, runs):
    """One ChatCompletion span per call, naming AWS and the Bedrock model
    id, the messages as LiteLLM sent them; for an answer, its text and tool
    calls and the token counts with the cache's reads and writes; for an
    error, the status and Bedrock's message."""
    s = the_span(runs, call)
    assert s["name"] == "ChatCompletion" and s["span_kind"] == "LLM"
    assert attr(s, "llm.provider") == "aws"
    assert "llm.system" not in s["attributes"], "no llm.system for Bedrock's Converse"
    assert attr(s, "llm.model_name") == call.model_id
    sent = call.chat_request()["messages"]
    got = messages(s, "input")
    assert [m["role"] for m in got] == [m["role"] for m in sent]
    for g, m in zip(got, sent):
        texts = g.get("content") or "".join(v for k, v in sorted(g.items()) if k.endswith("message_content.text"))
        assert texts == message_text(m["content"]), g
        for k, tc in enumerate(m.get("tool_calls") or []):
            assert g[f"tool_calls.{k}.tool_call.id"] == tc["id"]
            assert g[f"tool_calls.{k}.tool_call.function.name"] == tc["function"]["name"]
        if m["role"] == "tool":
            assert g["tool_call_id"] == m["tool_call_id"]
    if call.status >= 400:
        assert s["status_code"] == "ERROR"
        assert recorded.bedrock_json(call.source)["message"] in s["status_message"]
        return
    assert s["status_code"] == "OK"
    want = recorded_answer(call)
    (out,) = messages(s, "output")
    assert out["role"] == "assistant"
    assert (out.get("content") or "") == want["text"]
    for k, t in enumerate(want["tool_uses"]):
        q = f"tool_calls.{k}.tool_call"
        assert (out[f"{q}.id"], out[f"{q}.function.name"]) == (t["id"], t["name"])
        assert json.loads(out[f"{q}.function.arguments"]) == t["input"]
    assert f"tool_calls.{len(want['tool_uses'])}.tool_call.id" not in out
    n = usage_counts(want["usage"])
    assert attr(s, "llm.token_count.prompt") == n["prompt"]
    assert attr(s, "llm.token_count.completion") == n["completion"]
    assert attr(s, "llm.token_count.total") == n["total"]
    if n["cache_read"] or n["cache_write"]:
        assert attr(s, "llm.token_count.prompt_details.cache_read") == n["cache_read"]
        assert attr(s, "llm.token_count.prompt_details.cache_write") == n["cache_write"]
    assert json.loads(attr(s, "input.value"))["messages"] == sent, "input.value is the request as LiteLLM sent it"


def test_no_aws_secret_recorded(runs):
    """Neither the proxy's AWS secret and session token, nor a SigV4
    Authorization, nor the caller's key is in any of these spans or in the
    proxy's log."""
    texts = {
        "spans": json.dumps(runs["spans"], ensure_ascii=False),
        "proxy log": (ARTIFACTS / "proxy-bedrock-litellm.log").read_text(),
    }
    for where, text in texts.items():
        for secret in (PROXY_AWS_SECRET, PROXY_AWS_SESSION_TOKEN, API_KEY, API_KEY[len("sk-") :]):
            assert secret not in text, f"a secret appears in the {where}"
        assert "AWS4-HMAC-SHA256" not in text and "Signature=" not in text, f"a SigV4 Authorization appears in the {where}"


def test_one_span_per_call(runs):
    """The project holds one span per call, each in its call's window."""
    assert len(runs["spans"]) == len(CALLS)
    assert all(len(r["spans"]) == 1 for r in runs["calls"].values())


# --- what Phoenix makes of it -------------------------------------------------------------


@pytest.mark.parametrize("call", OK_CALLS, ids=lambda c: c.id)
def test_litellm_priced(call, runs, stack):
    """Phoenix prices the span by its llm.model_name where its price table
    knows the model: here Claude Sonnet 4.5 under its Bedrock id (the cache
    calls); Nova, Devstral and Claude 3 Haiku it has no price for."""
    if not phoenix_api.prices_model(call.model_id):
        pytest.skip(f"the pinned Phoenix's price table has no {call.model_id}")
    assert_priced(stack, the_span(runs, call))


def test_some_call_is_priced():
    """The pricing test above is not all skips."""
    assert any(phoenix_api.prices_model(c.model_id) for c in OK_CALLS)
