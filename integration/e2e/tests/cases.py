"""The calls the suite makes, each as an application would make it.

Every model call a case makes reproduces a cassette's recorded request
byte-for-byte in JSON (the fake provider only answers a request whose body
equals a recording), so each client is used unchanged except for its base URL
and a dummy API key. A case that makes several calls (a tool round trip, an
agent run) replays the interactions of one cassette in order.

The same case runs twice: through the proxy (the pytest process, never
instrumented) and straight against the fake provider from `oracle.py`, a
subprocess in which the official OpenInference instrumentors are on. A case's
`run(target)` returns a JSON-able summary of what the caller got back.

This module must not import openinference or opentelemetry: the proxy-side
calls must stay uninstrumented.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import recorded

NODE_DIR = Path(__file__).resolve().parents[1] / "node"

# Seconds before a call gives up (the SDKs' default is 600): a proxy that
# hangs fails its case quickly instead of stalling the suite.
CALL_TIMEOUT = 30.0


@dataclass(frozen=True)
class Target:
    """Where a case sends its request."""

    root: str  # http://127.0.0.1:PORT, no trailing slash
    api_key: str
    via_proxy: bool

    @property
    def v1(self) -> str:
        return self.root + "/v1"


class Recording:
    """What a call's recording (the cassette named `self.cassette`) says
    about the call."""

    @property
    def span_name(self) -> str:
        return span_name_for(self.cassette)

    @property
    def span_kind(self) -> str:
        return "EMBEDDING" if self.span_name == "CreateEmbeddings" else "LLM"

    @property
    def stream(self) -> bool:
        return recorded.is_stream(self.cassette)

    @property
    def status(self) -> int:
        return recorded.status(self.cassette)


@dataclass(frozen=True)
class Case(Recording):
    """One thing an application does. Most cases are one model call; a tool
    round trip or an agent run makes `turns` calls, one after the other,
    which replay interactions 0..turns-1 of `cassette`."""

    id: str
    client: str  # openai | openai-async | litellm | node | agents
    cassette: str
    run: Callable[[Target], dict[str, Any]] = field(repr=False, compare=False)
    # How the oracle reproduces the call when the client cannot be
    # instrumented in Python (node): a Python call with the same body.
    oracle_run: Callable[[Target], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    turns: int = 1
    # What run() returns when the caller gets the recorded answers, for
    # cases whose summary is compared whole (the Responses API's).
    expect: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def litellm(self) -> bool:
        return self.client == "litellm"

    @property
    def calls(self) -> list[Call]:
        return [Call(self, k) for k in range(self.turns)]


@dataclass(frozen=True)
class Call(Recording):
    """One model call of a case: one request, one span."""

    case: Case
    index: int

    @property
    def id(self) -> str:
        return self.case.id if self.case.turns == 1 else f"{self.case.id}@{self.index}"

    @property
    def cassette(self) -> str:
        return recorded.turn(self.case.cassette, self.index)

    @property
    def client(self) -> str:
        return self.case.client

    @property
    def litellm(self) -> bool:
        return self.case.litellm


def span_name_for(cassette: str) -> str:
    url = recorded.interaction(cassette)["request"]["url"]
    if url.endswith("/chat/completions"):
        return "ChatCompletion"
    if url.endswith("/completions"):
        return "Completion"
    if url.endswith("/embeddings"):
        return "CreateEmbeddings"
    if url.endswith("/responses"):
        return "Response"
    raise ValueError(f"{cassette}: no span name for {url}")


# --- summaries: what the caller got, in one shape for every client ----------


def _tool_calls(calls: Any) -> list[dict[str, Any]]:
    out = []
    for c in calls or []:
        c = c if isinstance(c, dict) else c.model_dump()
        fn = c.get("function") or {}
        out.append({"id": c.get("id"), "name": fn.get("name"), "arguments": fn.get("arguments")})
    return out


def _usage(u: Any) -> dict[str, Any] | None:
    if u is None:
        return None
    u = u if isinstance(u, dict) else u.model_dump()
    return {k: u.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")}


def summarize(resp: Any) -> dict[str, Any]:
    """A non-streamed response (OpenAI SDK or LiteLLM object)."""
    d = resp if isinstance(resp, dict) else resp.model_dump(warnings=False)
    s: dict[str, Any] = {"ok": True, "model": d.get("model"), "usage": _usage(d.get("usage"))}
    # The OpenAI SDK keeps the x-request-id response header: equal through
    # the proxy and direct means the provider's headers were relayed.
    request_id = getattr(resp, "_request_id", None)
    if isinstance(request_id, str):
        s["request_id"] = request_id
    if d.get("object") == "list":
        s["vectors"] = [recorded.decode_vector(x["embedding"]) for x in d["data"]]
        return s
    choices = d.get("choices") or []
    if choices and "message" in choices[0]:
        s["content"] = [c["message"].get("content") for c in choices]
        s["tool_calls"] = _tool_calls(choices[0]["message"].get("tool_calls"))
    else:
        s["texts"] = [c.get("text") for c in choices]
    s["finish_reason"] = choices[0].get("finish_reason") if choices else None
    return s


class StreamSummary:
    """Accumulates stream chunks the way a caller reading them would."""

    def __init__(self) -> None:
        self.chunks = 0
        self.model: str | None = None
        self.content: dict[int, str] = {}
        self.texts: dict[int, str] = {}
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    def add(self, chunk: Any) -> None:
        d = chunk if isinstance(chunk, dict) else chunk.model_dump(warnings=False)
        self.chunks += 1
        self.model = d.get("model") or self.model
        if d.get("usage"):
            self.usage = _usage(d["usage"])
        for ch in d.get("choices") or []:
            i = ch.get("index") or 0
            if ch.get("finish_reason") and i == 0:
                self.finish_reason = ch["finish_reason"]
            if ch.get("text") is not None and "delta" not in ch:
                self.texts[i] = self.texts.get(i, "") + ch["text"]
                continue
            delta = ch.get("delta") or {}
            if delta.get("content") is not None:
                self.content[i] = self.content.get(i, "") + delta["content"]
            for tc in delta.get("tool_calls") or []:
                acc = self.calls.setdefault(tc.get("index") or 0, {"id": None, "name": "", "arguments": ""})
                acc["id"] = tc.get("id") or acc["id"]
                fn = tc.get("function") or {}
                acc["name"] += fn.get("name") or ""
                acc["arguments"] += fn.get("arguments") or ""

    def result(self) -> dict[str, Any]:
        s: dict[str, Any] = {
            "ok": True,
            "model": self.model,
            "chunks": self.chunks,
            "finish_reason": self.finish_reason,
            "usage": self.usage,
        }
        if self.texts:
            s["texts"] = [self.texts[i] for i in sorted(self.texts)]
        else:
            s["content"] = [self.content[i] for i in sorted(self.content)]
            s["tool_calls"] = [self.calls[i] for i in sorted(self.calls)]
        return s


def failure(e: BaseException) -> dict[str, Any]:
    status = getattr(e, "status_code", None) or getattr(getattr(e, "response", None), "status_code", None)
    return {"ok": False, "status": status, "error": f"{type(e).__name__}: {e}"[:2000]}


def guarded(fn: Callable[[Target], dict[str, Any]]) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        try:
            return fn(t)
        except Exception as e:  # the caller's view of an error is the summary
            return failure(e)

    run.__name__ = fn.__name__
    return run


# --- OpenAI Python SDK --------------------------------------------------------


def _openai(t: Target) -> Any:
    import openai

    # max_retries=0: a proxy failure must show as one failed call, not as
    # three requests (and three spans) after backoff.
    return openai.OpenAI(base_url=t.v1, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT)


def _async_openai(t: Target) -> Any:
    import openai

    return openai.AsyncOpenAI(base_url=t.v1, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT)


def openai_chat(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        return summarize(_openai(t).chat.completions.create(**recorded.request_body(cassette)))

    return guarded(run)


def openai_chat_async(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with _async_openai(t) as client:
                return summarize(await client.chat.completions.create(**recorded.request_body(cassette)))

        return asyncio.run(go())

    return guarded(run)


def openai_stream(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        s = StreamSummary()
        body = recorded.request_body(cassette)  # includes "stream": true
        with _openai(t).chat.completions.create(**body) as stream:
            for chunk in stream:
                s.add(chunk)
        return s.result()

    return guarded(run)


def openai_stream_async(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            s = StreamSummary()
            async with _async_openai(t) as client:
                stream = await client.chat.completions.create(**recorded.request_body(cassette))
                async for chunk in stream:
                    s.add(chunk)
            return s.result()

        return asyncio.run(go())

    return guarded(run)


def openai_completion(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        body = recorded.request_body(cassette)
        resp = _openai(t).completions.create(**body)
        if body.get("stream"):
            s = StreamSummary()
            for chunk in resp:
                s.add(chunk)
            return s.result()
        return summarize(resp)

    return guarded(run)


def openai_embeddings(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        return summarize(_openai(t).embeddings.create(**recorded.request_body(cassette)))

    return guarded(run)


@guarded
def openai_embeddings_sdk_default(t: Target) -> dict[str, Any]:
    """No encoding_format: the SDK asks for base64 itself and decodes it,
    which is what embeddings-dimensions recorded."""
    resp = _openai(t).embeddings.create(
        model="text-embedding-3-small",
        input="Generate embeddings with specific dimensions",
        dimensions=256,
    )
    return summarize(resp)


@guarded
def openai_chat_explicit(t: Target) -> dict[str, Any]:
    """chat-basic, written as in the OpenAI quickstart."""
    resp = _openai(t).chat.completions.create(
        model="gpt-5-nano",
        messages=[{"role": "user", "content": "Hello!"}],
    )
    return summarize(resp)


# --- OpenAI Responses API (Python SDK) -------------------------------------------


def _response(resp: Any) -> dict[str, Any]:
    """A Response as the API sent it: the SDK's model without the members
    its types add as null when the API left them out."""
    return resp.model_dump(mode="json", exclude_unset=True)


def summarize_response(resp: Any) -> dict[str, Any]:
    return {"ok": True, "response": _response(resp), "output_text": resp.output_text}


class ResponseStreamSummary:
    """Reads Responses API stream events the way a caller would: counts them,
    joins the text deltas, keeps the response of response.completed."""

    def __init__(self) -> None:
        self.events = 0
        self.text = ""
        self.response: dict[str, Any] | None = None

    def add(self, event: Any) -> None:
        self.events += 1
        if event.type == "response.output_text.delta":
            self.text += event.delta
        elif event.type == "response.completed":
            self.response = _response(event.response)

    def result(self) -> dict[str, Any]:
        return {"ok": True, "events": self.events, "output_text": self.text, "response": self.response}


def openai_responses(cassette: str) -> Callable[[Target], dict[str, Any]]:
    """client.responses.create with the recorded body, streamed if it asks."""

    def run(t: Target) -> dict[str, Any]:
        body = recorded.request_body(cassette)
        resp = _openai(t).responses.create(**body)
        if not body.get("stream"):
            return summarize_response(resp)
        s = ResponseStreamSummary()
        with resp as stream:
            for event in stream:
                s.add(event)
        return s.result()

    return guarded(run)


@guarded
def openai_responses_stream_helper(t: Target) -> dict[str, Any]:
    """oi-simple_input_stream through client.responses.stream(), which sends
    the same body; the response and text are the helper's final response's."""
    s = ResponseStreamSummary()
    body = recorded.request_body("oi-simple_input_stream")
    with _openai(t).responses.stream(model=body["model"], input=body["input"]) as stream:
        for event in stream:
            s.add(event)
        final = stream.get_final_response()
    response = _response(final)
    # The helper's ParsedResponse gives every output_text part a `parsed`
    # member (None: no text format was asked for); the API sent none.
    for item in response["output"]:
        for part in item.get("content") or []:
            del part["parsed"]
    return s.result() | {"output_text": final.output_text, "response": response}


# The function tool of the tool cases, answering as the recorded
# conversations' tool did. Its docstring is the tool's description for the
# model (the Agents SDK sends it).
CAPITALS = {"PotatoLand": "Potato City"}


def get_capital(country: str) -> str:
    """Returns the capital of a country."""
    return CAPITALS[country]


@guarded
def openai_responses_tool_round_trip(t: Target) -> dict[str, Any]:
    """pa-model_simple_response_with_tool_call, both turns: the model asks for
    get_capital, the application runs it and sends the call and its output
    back, as pydantic-ai did when it recorded them."""
    client = _openai(t)
    body = recorded.request_body("pa-model_simple_response_with_tool_call")
    first = client.responses.create(**body)
    call = next(item for item in first.output if item.type == "function_call")
    body["input"] += [
        {
            "arguments": call.arguments,
            "call_id": call.call_id,
            "name": call.name,
            "status": None,
            "type": "function_call",
        },
        {"call_id": call.call_id, "output": get_capital(**json.loads(call.arguments)), "type": "function_call_output"},
    ]
    second = client.responses.create(**body)
    return {"ok": True, "turns": [summarize_response(first), summarize_response(second)]}


@guarded
def openai_responses_reasoning_async(t: Target) -> dict[str, Any]:
    """oi-input_typed_reasoning_item, both turns, with the async client: a
    reasoning model answers, and its reasoning item and message go back as
    input with the next question (items as received, minus SDK nulls)."""

    async def go() -> dict[str, Any]:
        async with _async_openai(t) as client:
            first = await client.responses.create(**recorded.request_body("oi-input_typed_reasoning_item"))
            history = [item.model_dump(mode="json", exclude_none=True) for item in first.output]
            second = await client.responses.create(
                model="gpt-5-mini",
                input=[*history, {"role": "user", "content": "Now multiply that by 10."}],
                reasoning={"summary": "auto"},
            )
            return {"ok": True, "turns": [summarize_response(first), summarize_response(second)]}

    return asyncio.run(go())


def responses_result(cassette: str, turns: int = 1) -> Callable[[], dict[str, Any]]:
    """What a Responses API case returns when every call gets its recorded
    answer (a case of several calls: one summary per call)."""

    def expect() -> dict[str, Any]:
        if turns == 1:
            return recorded.response_result(cassette)
        return {"ok": True, "turns": [recorded.response_result(recorded.turn(cassette, k)) for k in range(turns)]}

    return expect


# --- OpenAI Agents SDK ----------------------------------------------------------

AGENT_CASSETTE = "synthetic-agents-tool-run"  # written by cassettes/synthesize.py
AGENT_QUESTION = "What is the capital of PotatoLand?"
AGENT_USAGE = ("input_tokens", "output_tokens", "total_tokens")


async def run_agent(client: Any) -> Any:
    """Runs the agents case's agent (one function tool, model calls through
    `client`, an AsyncOpenAI) to its final output. cassettes/synthesize.py
    runs the same agent to capture the requests the Agents SDK sends."""
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

    # The Agents SDK's own trace export goes to OpenAI: off (no network).
    set_tracing_disabled(True)
    agent = Agent(
        name="Geographer",
        instructions="You answer questions about geography.",
        model=OpenAIResponsesModel(model="gpt-4o", openai_client=client),
        tools=[function_tool(get_capital)],
    )
    return await Runner.run(agent, AGENT_QUESTION)


@guarded
def agents_tool_run(t: Target) -> dict[str, Any]:
    """An Agents SDK run: the model asks for get_capital, the SDK runs it and
    asks again with its output, the model answers."""

    async def go() -> Any:
        async with _async_openai(t) as client:
            return await run_agent(client)

    result = asyncio.run(go())
    return {
        "ok": True,
        "final_output": result.final_output,
        "responses": [
            {
                "id": r.response_id,
                "output": [item.model_dump(mode="json", exclude_unset=True) for item in r.output],
                "usage": {k: getattr(r.usage, k) for k in AGENT_USAGE},
            }
            for r in result.raw_responses
        ],
    }


def agents_result() -> dict[str, Any]:
    """What agents_tool_run returns when every model call gets its recorded answer."""
    responses = [recorded.final_response(recorded.turn(AGENT_CASSETTE, k)) for k in range(2)]
    return {
        "ok": True,
        "final_output": recorded.output_text(responses[-1]),
        "responses": [
            {"id": r["id"], "output": r["output"], "usage": {k: r["usage"][k] for k in AGENT_USAGE}} for r in responses
        ],
    }


# --- LiteLLM -------------------------------------------------------------------
# LiteLLM users reach an OpenAI-compatible proxy either as the OpenAI provider
# with api_base (model="openai/<name>") or through the litellm_proxy provider
# with api_base set to the proxy root. Both are covered.


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    return litellm


def _litellm_chat_kwargs(cassette: str) -> dict[str, Any]:
    body = recorded.request_body(cassette)
    body["model"] = "openai/" + body["model"]
    return body


def litellm_completion(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        kw = _litellm_chat_kwargs(cassette)
        return summarize(
            _litellm().completion(api_base=t.v1, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT, **kw)
        )

    return guarded(run)


def litellm_acompletion_stream(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        litellm = _litellm()

        async def go() -> dict[str, Any]:
            s = StreamSummary()
            kw = _litellm_chat_kwargs(cassette)
            resp = await litellm.acompletion(
                api_base=t.v1, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT, **kw
            )
            async for chunk in resp:
                s.add(chunk)
            return s.result()

        return asyncio.run(go())

    return guarded(run)


def litellm_proxy_completion(cassette: str) -> Callable[[Target], dict[str, Any]]:
    """model="litellm_proxy/<name>", api_base = the proxy root, as LiteLLM's
    docs show for a LiteLLM proxy; LiteLLM then POSTs {root}/chat/completions.
    The fake provider only serves /v1, so the oracle goes to {root}/v1."""

    def run(t: Target) -> dict[str, Any]:
        body = recorded.request_body(cassette)
        body["model"] = "litellm_proxy/" + body["model"]
        base = t.root if t.via_proxy else t.v1
        return summarize(
            _litellm().completion(api_base=base, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT, **body)
        )

    return guarded(run)


def litellm_embedding(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        body = recorded.request_body(cassette)
        model = "openai/" + body.pop("model")
        return summarize(
            _litellm().embedding(model=model, api_base=t.v1, api_key=t.api_key, timeout=CALL_TIMEOUT, **body)
        )

    return guarded(run)


def litellm_text_completion(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        body = recorded.request_body(cassette)
        body["model"] = "openai/" + body["model"]
        return summarize(
            _litellm().text_completion(
                api_base=t.v1, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT, **body
            )
        )

    return guarded(run)


# --- OpenAI Node SDK -------------------------------------------------------------


def node(script_case: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "OPENAI_BASE_URL": t.v1,
            "OPENAI_API_KEY": t.api_key,
            "E2E_CALL_TIMEOUT_MS": str(int(CALL_TIMEOUT * 1000)),
        }
        p = subprocess.run(
            ["node", "client.mjs", script_case],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT + 30,
        )
        if p.returncode != 0 or not p.stdout.strip():
            return {"ok": False, "status": None, "error": f"node exited {p.returncode}: {p.stderr[-2000:]}"}
        return json.loads(p.stdout.strip().splitlines()[-1])

    return run


# --- the list --------------------------------------------------------------------

CASES: list[Case] = [
    # OpenAI Python SDK, sync and async.
    Case("openai-chat", "openai", "chat-basic", openai_chat_explicit),
    Case("openai-chat-multiturn-async", "openai-async", "chat-multiturn", openai_chat_async("chat-multiturn")),
    Case("openai-chat-developer-usage", "openai", "chat-detailed-usage", openai_chat("chat-detailed-usage")),
    Case("openai-chat-image", "openai", "chat-image-to-text", openai_chat("chat-image-to-text")),
    Case("openai-chat-json-mode", "openai", "chat-json-mode", openai_chat("chat-json-mode")),
    Case("openai-tools", "openai", "chat-tools", openai_chat("chat-tools")),
    Case("openai-stream", "openai", "chat-streaming", openai_stream("chat-streaming")),
    Case(
        "openai-stream-async-web-search",
        "openai-async",
        "chat-streaming-web-search",
        openai_stream_async("chat-streaming-web-search"),
    ),
    Case(
        "openai-stream-usage",
        "openai",
        "synthetic-chat-streaming-usage",
        openai_stream("synthetic-chat-streaming-usage"),
    ),
    Case(
        "openai-stream-tools",
        "openai",
        "synthetic-chat-streaming-tools",
        openai_stream("synthetic-chat-streaming-tools"),
    ),
    Case("openai-completion", "openai", "completion-basic", openai_completion("completion-basic")),
    Case("openai-completion-stream", "openai", "completion-streaming", openai_completion("completion-streaming")),
    Case("openai-completion-batch", "openai", "completion-text-batch", openai_completion("completion-text-batch")),
    Case("openai-embeddings-float", "openai", "embeddings-basic", openai_embeddings("embeddings-basic")),
    Case("openai-embeddings-sdk-base64", "openai", "embeddings-dimensions", openai_embeddings_sdk_default),
    Case("openai-embeddings-batch", "openai", "embeddings-whitespace", openai_embeddings("embeddings-whitespace")),
    Case("openai-error-unknown-model", "openai", "chat-unknown-model", openai_chat("chat-unknown-model")),
    Case("openai-error-bad-request", "openai", "chat-bad-request", openai_chat("chat-bad-request")),
    Case(
        "openai-embeddings-error",
        "openai",
        "embeddings-unknown-model",
        openai_embeddings("embeddings-unknown-model"),
    ),
    # LiteLLM SDK.
    Case("litellm-completion", "litellm", "chat-basic", litellm_completion("chat-basic")),
    Case("litellm-acompletion-stream", "litellm", "chat-streaming", litellm_acompletion_stream("chat-streaming")),
    Case("litellm-tools", "litellm", "chat-tools", litellm_completion("chat-tools")),
    Case("litellm-proxy-json-mode", "litellm", "chat-json-mode", litellm_proxy_completion("chat-json-mode")),
    Case("litellm-embedding", "litellm", "embeddings-basic", litellm_embedding("embeddings-basic")),
    Case("litellm-text-completion", "litellm", "completion-basic", litellm_text_completion("completion-basic")),
    Case("litellm-error-unknown-model", "litellm", "chat-unknown-model", litellm_completion("chat-unknown-model")),
    # OpenAI Node SDK (node/client.mjs); the oracle sends the same body from Python.
    Case("node-chat", "node", "chat-basic", node("chat"), oracle_run=openai_chat("chat-basic")),
    Case("node-stream", "node", "chat-streaming", node("stream"), oracle_run=openai_stream("chat-streaming")),
    Case("node-tools", "node", "chat-tools", node("tools"), oracle_run=openai_chat("chat-tools")),
    # The Responses API: OpenAI Python SDK (sync and async), Node SDK, Agents SDK.
    Case(
        "openai-responses",
        "openai",
        "oi-simple_input",
        openai_responses("oi-simple_input"),
        expect=responses_result("oi-simple_input"),
    ),
    Case(
        "openai-responses-stream",
        "openai",
        "oi-simple_input_stream",
        openai_responses("oi-simple_input_stream"),
        expect=responses_result("oi-simple_input_stream"),
    ),
    Case(
        "openai-responses-stream-helper",
        "openai",
        "oi-simple_input_stream",
        openai_responses_stream_helper,
        expect=responses_result("oi-simple_input_stream"),
    ),
    Case(
        "openai-responses-tool-round-trip",
        "openai",
        "pa-model_simple_response_with_tool_call",
        openai_responses_tool_round_trip,
        turns=2,
        expect=responses_result("pa-model_simple_response_with_tool_call", 2),
    ),
    Case(
        "openai-responses-reasoning-async",
        "openai-async",
        "oi-input_typed_reasoning_item",
        openai_responses_reasoning_async,
        turns=2,
        expect=responses_result("oi-input_typed_reasoning_item", 2),
    ),
    Case("openai-responses-error", "openai", "pa-model_http_error", openai_responses("pa-model_http_error")),
    Case(
        "node-responses",
        "node",
        "oi-simple_input",
        node("responses"),
        oracle_run=openai_responses("oi-simple_input"),
        expect=responses_result("oi-simple_input"),
    ),
    Case(
        "node-responses-stream",
        "node",
        "oi-simple_input_stream",
        node("responses-stream"),
        oracle_run=openai_responses("oi-simple_input_stream"),
        expect=responses_result("oi-simple_input_stream"),
    ),
    Case("agents-tool-run", "agents", AGENT_CASSETTE, agents_tool_run, turns=2, expect=agents_result),
]

CALLS: list[Call] = [call for case in CASES for call in case.calls]

BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"


def run_cases(cases: list[Case], target: Target, *, oracle: bool = False, gap: float = 0.05) -> dict[str, Any]:
    """Runs the cases one after another and returns, per case id, what the
    caller got and the wall-clock window [start, end] the call took. Spans are
    told apart by that window, so calls never overlap and a short gap
    separates them."""
    import time

    out: dict[str, Any] = {}
    for case in cases:
        fn = case.oracle_run if (oracle and case.oracle_run) else case.run
        start = time.time()
        result = fn(target)
        end = time.time()
        out[case.id] = {"window": [start, end], "result": result}
        time.sleep(gap)
    return out
