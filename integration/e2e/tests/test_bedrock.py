"""AWS Bedrock Runtime through the proxy, as a user sees it.

- boto3's bedrock-runtime client with endpoint_url set to the proxy
  (Converse, ConverseStream, InvokeModel with Claude's and Nova's bodies,
  InvokeModelWithResponseStream) and the Anthropic SDK's AnthropicBedrock
  with its base URL the proxy's /bedrock (signed with dummy keys, or not
  signed at all as Claude Code's CLAUDE_CODE_SKIP_BEDROCK_AUTH leaves it):
  the caller gets the recorded answer (test_calls.py compares the whole
  summary), every call reaches the fake Bedrock signed with the proxy's
  credentials and never with the client's, and the span is the operation's
  (bedrock.converse, ...) naming AWS, the model, the messages and the token
  counts. test_oracle.py compares every field with
  openinference-instrumentation-bedrock's span of the same call.
- Phoenix prices a Bedrock call whose model its price table knows (Claude
  Sonnet 4.5 under its Bedrock id), cache reads and writes included.
- A proxy that holds no AWS credentials answers a Bedrock call with
  Bedrock's 401 and sends nothing.

Expectations come from the recorded requests and answers.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

import cases
import phoenix_api
import recorded
from conftest import ARTIFACTS, PROXY_AWS_KEY_ID, PROXY_AWS_SECRET, PROXY_AWS_SESSION_TOKEN, start_proxy
from test_anthropic import assert_priced
from test_spans import attr, parsed, the_span

BEDROCK = [c for c in cases.CALLS if c.api == "bedrock"]
BEDROCK_OK = [c for c in BEDROCK if c.status < 400]
CONVERSE_OK = [c for c in BEDROCK_OK if recorded.bedrock_url(c.cassette)[1].startswith("converse")]
CLAUDE_INVOKE_OK = [c for c in BEDROCK_OK if "anthropic_version" in c.request_body()]


def fake_journal(fake: str) -> list[dict[str, Any]]:
    """Every request the fake provider at `fake` received so far (GET
    /fake/requests)."""
    r = httpx.get(f"{fake}/fake/requests", timeout=10, trust_env=False)
    r.raise_for_status()
    return r.json()


def bedrock_requests(journal: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in journal if r["path"].startswith("/model/")]


def call_path(call: cases.Call) -> str:
    """The operation's path as the fake provider sees it, unescaped."""
    model, operation = recorded.bedrock_url(call.cassette)
    return f"/model/{model}/{operation}"


# --- what the caller got --------------------------------------------------------

# A few answers as a reader of the recordings would write them down.
ANSWERS = {
    "bedrock-converse": [
        {"text": "Hello! How can I assist you today? Whether you have questions, need information, or just want to chat, I'm here to help."}
    ],
    "bedrock-converse-tools": [{"tool_use": {"id": "tooluse_Z4oIdWzp6MUkuN99WX3jLk", "name": "top_song", "input": {"sign": "Radio XYZ"}}}],
    "bedrock-converse-inference-profile": [{"text": "Hello"}],
    "bedrock-converse-stream-tools": [{"tool_use": {"id": "tooluse_p0X002uYQ9y_0fFkBsyYRg", "name": "top_song", "input": {"sign": "WZPZ"}}}],
}


@pytest.mark.parametrize("case_id", sorted(ANSWERS))
def test_boto3_answer(case_id, proxy_calls):
    got = proxy_calls[case_id]["result"]
    assert got["ok"], f"{case_id}: the call failed through the proxy: {got}"
    assert got["content"] == ANSWERS[case_id]


def test_boto3_cache_write_then_read(proxy_calls):
    """The same request twice: the first answer wrote 1322 prompt tokens to
    the cache, the second read them."""
    first, second = proxy_calls["bedrock-converse-cache"]["result"]["turns"]
    assert (first["usage"]["cacheWriteInputTokens"], first["usage"]["cacheReadInputTokens"]) == (1322, 0)
    assert (second["usage"]["cacheWriteInputTokens"], second["usage"]["cacheReadInputTokens"]) == (0, 1322)


@pytest.mark.parametrize("case_id", ["bedrock-converse-error", "bedrock-converse-stream-error"])
def test_boto3_error(case_id, proxy_calls):
    """Bedrock's 400 reaches boto3 as Bedrock sent it (a ClientError with its
    message), on Converse and on ConverseStream."""
    got = proxy_calls[case_id]["result"]
    want = recorded.bedrock_json(cases.BY_ID[case_id].cassette)["message"]
    assert not got["ok"] and got["status"] == 400 and got["message"] == want, got


def test_anthropic_bedrock_answers(proxy_calls):
    """AnthropicBedrock's create, create(stream=True) and stream() get
    Claude's recorded messages through the proxy, signed or not."""
    got = proxy_calls["anthropic-bedrock-stream-helper-skip-auth"]["result"]
    assert got["ok"], got
    assert got["text"].startswith("Of course! I'd be happy to get you the current temperature and population")
    assert [b["name"] for b in got["message"]["content"] if b["type"] == "tool_use"] == [
        "get_current_weather_info",
        "get_current_population_info",
    ]
    assert proxy_calls["anthropic-bedrock-create"]["result"] == proxy_calls["anthropic-bedrock-create-skip-auth"]["result"]


# --- who signed what --------------------------------------------------------------


def test_every_call_reaches_bedrock_signed_by_the_proxy(stack, proxy_calls, oracle_calls):
    """The fake Bedrock takes only SigV4 signatures it can verify, of the
    proxy's credentials or the oracle's: every call made through the proxy
    reached it signed with the proxy's key (a boto3 client's own signature,
    made for the proxy's host with keys no account has, dropped; an unsigned
    AnthropicBedrock call signed), every oracle call with the oracle's, none
    with a client's, and none was refused."""
    got = bedrock_requests(fake_journal(stack.fake))
    assert not [r for r in got if r.get("refused")], "the fake refused a signature"
    by_key: dict[str, list[str]] = {}
    for r in got:
        by_key.setdefault(r["access_key_id"], []).append(unquote(r["path"]))
    assert cases.BEDROCK_CLIENT_KEYS[0] not in by_key, "a client's own signature reached Bedrock"
    assert set(by_key) == {PROXY_AWS_KEY_ID, cases.BEDROCK_ORACLE_KEYS[0]}, sorted(by_key)
    assert sorted(by_key[PROXY_AWS_KEY_ID]) == sorted(call_path(c) for c in BEDROCK), "one signed request per call through the proxy"
    oracle = [c for c in BEDROCK if "bedrock" in c.case.oracles]
    assert sorted(by_key[cases.BEDROCK_ORACLE_KEYS[0]]) == sorted(call_path(c) for c in oracle)


def test_no_aws_secret_recorded(stack, proxy_spans_all):
    """Neither the proxy's AWS secret and session token nor a client's
    secret or signature appears in a span or in the proxy's log."""
    texts = {"spans": json.dumps(proxy_spans_all, ensure_ascii=False), "proxy.log": (ARTIFACTS / "proxy.log").read_text()}
    for where, text in texts.items():
        for secret in (PROXY_AWS_SECRET, PROXY_AWS_SESSION_TOKEN, cases.BEDROCK_CLIENT_KEYS[1]):
            assert secret not in text, f"an AWS secret appears in {where}"
        assert "AWS4-HMAC-SHA256" not in text and "Signature=" not in text, f"a SigV4 Authorization appears in {where}"


# --- the span -------------------------------------------------------------------


def _message(s: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) + 1 :]: v for k, v in s["attributes"].items() if k.startswith(prefix + ".")}


def converse_answer(call: cases.Call) -> dict[str, Any]:
    """The recorded Converse answer, whole or the stream's summary."""
    return recorded.converse_result(call.cassette)


@pytest.mark.parametrize("call", CONVERSE_OK, ids=lambda c: c.id)
def test_converse_span(call, proxy_spans):
    """A Converse / ConverseStream span names AWS and the path's model id,
    has the system prompt and each message (their text blocks), the answer's
    text as the output message, the stop reason, and the token counts with
    the cache's reads and writes counted in the prompt."""
    s = the_span(proxy_spans, call)
    body = call.request_body()
    assert attr(s, "llm.provider") == "aws"
    assert "llm.system" not in s["attributes"], "the instrumentor sets no llm.system on Converse spans"
    assert attr(s, "llm.model_name") == recorded.bedrock_url(call.cassette)[0], "Converse's model is the path's model id"
    i = 0
    if any("text" in b for b in body.get("system") or []):
        m = _message(s, "llm.input_messages.0.message")
        assert m["role"] == "system"
        assert m["contents.0.message_content.text"] == next(b["text"] for b in body["system"] if "text" in b)
        i = 1
    first = body["messages"][0]
    m = _message(s, f"llm.input_messages.{i}.message")
    assert m["role"] == first["role"]
    texts = [b["text"] for b in first["content"] if "text" in b]
    if texts:
        assert m["contents.0.message_content.text"] == texts[0]

    want = converse_answer(call)
    out = _message(s, "llm.output_messages.0.message")
    assert out["role"] == "assistant"
    got_texts = [v for k, v in sorted(out.items()) if k.startswith("contents.") and k.endswith("message_content.text")]
    for block in want["content"]:
        if "text" in block:
            assert block["text"] in got_texts
        if "tool_use" in block:
            assert out["tool_calls.0.tool_call.function.name"] == block["tool_use"]["name"]
            assert out["tool_calls.0.tool_call.id"] == block["tool_use"]["id"]
            assert parsed(out["tool_calls.0.tool_call.function.arguments"]) == block["tool_use"]["input"]
    assert attr(s, "llm.finish_reason") == want["stop_reason"]
    u = want["usage"]
    cache_read, cache_write = u.get("cacheReadInputTokens") or 0, u.get("cacheWriteInputTokens") or 0
    assert attr(s, "llm.token_count.prompt") == u["inputTokens"] + cache_read + cache_write
    assert attr(s, "llm.token_count.completion") == u["outputTokens"]
    assert attr(s, "llm.token_count.total") == u["totalTokens"]
    if cache_read or cache_write:
        assert attr(s, "llm.token_count.prompt_details.cache_read") == cache_read
        assert attr(s, "llm.token_count.prompt_details.cache_write") == cache_write
    assert parsed(attr(s, "input.value")) == body, "input.value is the request as sent"
    if not call.stream:
        assert parsed(attr(s, "output.value")) == recorded.bedrock_json(call.cassette), "output.value is the answer as sent"


@pytest.mark.parametrize("call", CLAUDE_INVOKE_OK, ids=lambda c: c.id)
def test_claude_invoke_span(call, proxy_spans):
    """InvokeModel and InvokeModelWithResponseStream with Claude's Messages
    body (boto3's and AnthropicBedrock's): the span names AWS as the host and
    Anthropic as the system, the model that answered, the messages, the
    answer's text and tool calls, the token counts."""
    s = the_span(proxy_spans, call)
    message = recorded.bedrock_message(call.cassette)
    assert attr(s, "llm.provider") == "aws"
    assert attr(s, "llm.system") == "anthropic"
    assert attr(s, "llm.model_name") == message["model"]
    assert attr(s, "llm.token_count.prompt") == message["usage"]["input_tokens"]
    assert attr(s, "llm.token_count.completion") == message["usage"]["output_tokens"]
    assert attr(s, "llm.finish_reason") == message["stop_reason"]
    out = _message(s, "llm.output_messages.0.message")
    assert out["role"] == "assistant"
    text = "".join(b["text"] for b in message["content"] if b["type"] == "text")
    got = out.get("content") or "".join(v for k, v in sorted(out.items()) if k.endswith("message_content.text"))
    assert got == text
    tools = [b for b in message["content"] if b["type"] == "tool_use"]
    for k, b in enumerate(tools):
        q = f"tool_calls.{k}.tool_call"
        assert out[f"{q}.id"] == b["id"] and out[f"{q}.function.name"] == b["name"]
        assert parsed(out[f"{q}.function.arguments"]) == b["input"]
    assert f"tool_calls.{len(tools)}.tool_call.id" not in out


def test_nova_invoke_span(proxy_spans):
    """InvokeModel with Nova's body: its system and messages, the answer,
    the token counts with the cache's (none) counted."""
    call = cases.BY_ID["bedrock-invoke-nova"].calls[0]
    s = the_span(proxy_spans, call)
    answer = recorded.bedrock_json(call.cassette)
    assert attr(s, "llm.provider") == "aws"
    assert attr(s, "llm.model_name") == "amazon.nova-lite-v1:0"
    assert _message(s, "llm.input_messages.0.message")["role"] == "system"
    assert attr(s, "llm.output_messages.0.message.contents.0.message_content.text") == answer["output"]["message"]["content"][0]["text"]
    assert attr(s, "llm.token_count.prompt") == answer["usage"]["inputTokens"]
    assert attr(s, "llm.token_count.completion") == answer["usage"]["outputTokens"]
    assert attr(s, "llm.token_count.total") == answer["usage"]["totalTokens"]


# --- what Phoenix makes of it ---------------------------------------------------


@pytest.mark.parametrize("call", BEDROCK_OK, ids=lambda c: c.id)
def test_phoenix_prices_the_call(call, stack, proxy_spans):
    """Phoenix prices a Bedrock span by its llm.model_name, where its price
    table has the model: of the recorded ones only Claude Sonnet 4.5
    (us.anthropic.claude-sonnet-4-5-20250929-v1:0, matched by its
    claude-sonnet-4-5 patterns). The others (Nova, Claude 3 Haiku and 3.5
    Sonnet, Claude Sonnet 4, Devstral, an inference profile's ARN) it has no
    price for: they are skipped, their token counts checked above."""
    s = the_span(proxy_spans, call)
    model = attr(s, "llm.model_name")
    if not phoenix_api.prices_model(model):
        pytest.skip(f"the pinned Phoenix's price table has no {model}")
    assert_priced(stack, s)


def test_some_bedrock_call_is_priced():
    """The pricing test above is not all skips."""
    assert phoenix_api.prices_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert any(phoenix_api.prices_model(recorded.bedrock_url(c.cassette)[0]) for c in CONVERSE_OK)


# --- a proxy without AWS credentials ---------------------------------------------

UNSIGNED_PROJECT = "e2e-bedrock-no-credentials"


@pytest.fixture(scope="module")
def proxy_without_aws(stack):
    """A proxy that finds no AWS credentials (none in its environment, no
    shared files, no instance role), its Bedrock endpoint still the fake."""
    svc, url = start_proxy(
        "proxy-no-aws",
        stack.fake,
        stack.grpc,
        UNSIGNED_PROJECT,
        AWS_ACCESS_KEY_ID="",
        AWS_SECRET_ACCESS_KEY="",
        AWS_SESSION_TOKEN="",
    )
    yield url
    svc.stop()


def test_unsigned_without_aws_credentials(stack, proxy_without_aws):
    """Without AWS credentials the proxy cannot sign: boto3, AnthropicBedrock
    with skip-auth and a plain HTTP client get Bedrock's 401
    (AccessDeniedException, saying what to set), and no request reaches the
    fake Bedrock."""
    import anthropic

    before = len(fake_journal(stack.fake))
    t = cases.Target(root=proxy_without_aws, api_key="", via_proxy=True)

    boto = cases.boto3_converse("pa-test_bedrock_model")(t)
    assert boto["ok"] is False and boto["status"] == 401 and boto["code"] == "AccessDeniedException", boto
    assert "AWS_ACCESS_KEY_ID" in boto["message"]

    body = recorded.interaction("pa-test_bedrock_model")["request"]["body"]
    r = httpx.post(
        f"{proxy_without_aws}/bedrock/model/us.amazon.nova-micro-v1%3A0/converse",
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
        trust_env=False,
    )
    assert r.status_code == 401
    assert r.headers["X-Amzn-Errortype"].startswith("AccessDeniedException")
    assert "AWS_ACCESS_KEY_ID" in r.json()["message"]

    with pytest.raises(anthropic.AuthenticationError) as e:
        cases._anthropic_bedrock(t, signed=False).messages.create(
            **cases._anthropic_bedrock_kwargs(cases.ANTHROPIC_BEDROCK_MODEL_CASSETTES[0])
        )
    assert e.value.status_code == 401

    after = fake_journal(stack.fake)
    assert after[before:] == [], f"the proxy sent {after[before:]} without credentials"

    # What a user sees in Phoenix: each refused call as an error span that
    # says why.
    got = phoenix_api.wait_for_spans(stack.phoenix, UNSIGNED_PROJECT, at_least=3)
    assert [s["name"] for s in got] == ["bedrock.converse", "bedrock.converse", "bedrock.invoke_model"]
    for s in got:
        assert s["status_code"] == "ERROR" and "no AWS credentials" in s["status_message"], s["status_message"]
