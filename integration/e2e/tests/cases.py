"""The calls the suite makes, each as an application would make it.

Every model call a case makes reproduces a cassette's recorded request
byte-for-byte in JSON (the fake provider only answers a request whose body
equals a recording), so each client is used unchanged except for its base URL
and a dummy API key. A case that makes several calls (a tool round trip, an
agent run) replays the interactions of one cassette in order. Where the proxy
rewrites the request (an anthropic/ model it translates, a gemini/ prefix it
strips), the cassette is a synthetic one holding the request the proxy sends
(cassettes/synthesize.py), and the case says what the client sends (`sent`).

The same case runs twice: through the proxy (the pytest process, never
instrumented) and straight against the fake provider from `oracle.py`, a
subprocess in which the official OpenInference instrumentors are on. A case's
`run(target)` returns a JSON-able summary of what the caller got back.

This module must not import openinference or opentelemetry: the proxy-side
calls must stay uninstrumented.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
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
    """What a call's recording (the cassette named `self.cassette`) and the
    API its client speaks (`self.api`) say about the call."""

    @property
    def span_name(self) -> str:
        if self.api == "anthropic":
            # The SDK's messages.stream() helper marks its requests
            # (x-stainless-helper-method: stream); the proxy names their
            # spans messages.stream, as the instrumentor does.
            return "messages.stream" if "stream-helper" in getattr(self, "id", "") else "messages.create"
        if self.api == "translated":
            return "ChatCompletion"  # the call as the client made it
        if self.api == "gemini":
            # As openinference-instrumentation-google-genai names them.
            return "GenerateContentStream" if self.stream else "GenerateContent"
        if self.api == "bedrock":
            # As openinference-instrumentation-bedrock names them.
            return BEDROCK_SPAN_NAMES[recorded.bedrock_url(self.cassette)[1]]
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
    # openai | openai-async | litellm | node | agents | anthropic | anthropic-async
    # | anthropic-vertex | genai | genai-async | genai-vertex | boto3
    # | anthropic-bedrock
    client: str
    cassette: str
    run: Callable[[Target], dict[str, Any]] = field(repr=False, compare=False)
    # How the oracle reproduces the call when the client cannot be
    # instrumented in Python (node): a Python call with the same body.
    oracle_run: Callable[[Target], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    turns: int = 1
    # What run() returns when the caller gets the recorded answers, for
    # cases whose summary is compared whole (the Responses API's, the
    # Anthropic SDK's).
    expect: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    # The API the client speaks, and the fake provider answers in:
    #   openai      OpenAI's (chat, completions, embeddings, Responses)
    #   anthropic   Anthropic's Messages API (the Anthropic SDK)
    #   translated  the client speaks OpenAI's chat API for an anthropic/
    #               model; the proxy translates to the Messages API and back
    #   gemini      Google's generateContent (the google-genai SDK, on the
    #               Gemini API or Vertex AI)
    #   bedrock     AWS Bedrock Runtime (Converse, ConverseStream, InvokeModel,
    #               InvokeModelWithResponseStream), signed by the proxy
    api: str = "openai"
    # The body the client sends the proxy when it is not the cassette's
    # recorded request: a provider-prefixed model the proxy strips
    # (gemini/...), a call the proxy translates.
    sent: Callable[[], dict[str, Any]] | None = field(default=None, repr=False, compare=False)
    # The llm.provider the proxy's span names.
    provider: str = "openai"
    # The official instrumentors whose span of the same call, made straight
    # to the fake provider, the proxy's span is compared with. None: by
    # client (see `oracles`); () for a call with no direct equivalent.
    oracle: tuple[str, ...] | None = None

    @property
    def litellm(self) -> bool:
        return self.client == "litellm"

    @property
    def oracles(self) -> tuple[str, ...]:
        if self.oracle is not None:
            return self.oracle
        if self.client.startswith("anthropic"):
            return ("anthropic",)
        if self.client.startswith("genai"):
            return ("google-genai",)
        if self.litellm:
            return ("openai", "litellm")  # LiteLLM calls the OpenAI SDK
        return ("openai",)

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

    @property
    def api(self) -> str:
        return self.case.api

    def request_body(self) -> dict[str, Any]:
        """The body the client sends the proxy for this call."""
        if self.case.sent is not None:
            return self.case.sent()
        return recorded.request_body(self.cassette)

    def traced_body(self) -> dict[str, Any]:
        """The body the proxy's span records (input.value): the client's,
        with the model named as its provider names it (the proxy routes by
        LiteLLM's prefix, strips it, and records the model Phoenix prices)."""
        body = self.request_body()
        prefix, _, rest = str(body.get("model", "")).partition("/")  # Google's and Vertex's name it in the path
        if prefix in ("anthropic", "gemini") and rest:
            body["model"] = rest
        return body


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


# --- Anthropic Python SDK (the Messages API) -------------------------------------
# The SDK's base URL is the server root (it appends /v1/messages): the proxy's
# root through the proxy, the fake provider's for the oracle.

ANTHROPIC_USAGE = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
# What each kind of content block shows the caller, beyond its type.
ANTHROPIC_BLOCK_FIELDS = {
    "text": ("text",),
    "thinking": ("thinking", "signature"),
    "redacted_thinking": ("data",),
    "tool_use": ("id", "name", "input"),
}


def _anthropic(t: Target) -> Any:
    import anthropic

    return anthropic.Anthropic(base_url=t.root, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT)


def _async_anthropic(t: Target) -> Any:
    import anthropic

    return anthropic.AsyncAnthropic(base_url=t.root, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT)


def message_summary(m: Any) -> dict[str, Any]:
    """What the caller reads of a Message (an SDK object or the API's JSON):
    id, model, stop reason, each content block, the token counts."""
    d = m if isinstance(m, dict) else m.model_dump(mode="json")
    usage = d.get("usage") or {}
    return {
        "id": d.get("id"),
        "model": d.get("model"),
        "role": d.get("role"),
        "stop_reason": d.get("stop_reason"),
        "stop_sequence": d.get("stop_sequence"),
        "content": [
            {"type": b["type"], **{k: b.get(k) for k in ANTHROPIC_BLOCK_FIELDS.get(b["type"], ())}}
            for b in d.get("content") or []
        ],
        "usage": {k: usage.get(k) for k in ANTHROPIC_USAGE},
    }


def anthropic_create(cassette: str) -> Callable[[Target], dict[str, Any]]:
    """client.messages.create with the recorded body (sync)."""

    def run(t: Target) -> dict[str, Any]:
        return {"ok": True, "message": message_summary(_anthropic(t).messages.create(**recorded.request_body(cassette)))}

    return guarded(run)


def anthropic_create_async(cassette: str) -> Callable[[Target], dict[str, Any]]:
    """AsyncAnthropic messages.create with the recorded body; with
    "stream": true in it, the raw events are read as they come."""

    def run(t: Target) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            body = recorded.request_body(cassette)
            async with _async_anthropic(t) as client:
                resp = await client.messages.create(**body)
                if not body.get("stream"):
                    return {"ok": True, "message": message_summary(resp)}
                acc, events = recorded.MessageAccumulator(), 0
                async for event in resp:
                    events += 1
                    acc.add(event.model_dump(mode="json"))
                return {"ok": True, "events": events, "text": acc.text, "message": message_summary(acc.message)}

        return asyncio.run(go())

    return guarded(run)


def _stream_kwargs(cassette: str) -> dict[str, Any]:
    body = recorded.request_body(cassette)
    del body["stream"]  # the helper sets it
    return body


def anthropic_stream_helper(cassette: str) -> Callable[[Target], dict[str, Any]]:
    """client.messages.stream(): the text as the helper's text_stream gives
    it, and its final message."""

    def run(t: Target) -> dict[str, Any]:
        with _anthropic(t).messages.stream(**_stream_kwargs(cassette)) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        return {"ok": True, "text": text, "message": message_summary(final)}

    return guarded(run)


def anthropic_stream_helper_async(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with _async_anthropic(t) as client:
                async with client.messages.stream(**_stream_kwargs(cassette)) as stream:
                    text = "".join([piece async for piece in stream.text_stream])
                    final = await stream.get_final_message()
            return {"ok": True, "text": text, "message": message_summary(final)}

        return asyncio.run(go())

    return guarded(run)


def _assistant_turn(message: Any) -> dict[str, Any]:
    """An answer sent back as the next request's assistant message, its
    blocks as pydantic-ai sent them when it recorded the conversations."""
    blocks = []
    for b in message.content:
        if b.type == "thinking":
            blocks.append({"signature": b.signature, "thinking": b.thinking, "type": "thinking"})
        elif b.type == "text":
            blocks.append({"text": b.text, "type": "text"})
        elif b.type == "tool_use":
            blocks.append({"id": b.id, "input": b.input, "name": b.name, "type": "tool_use"})
    return {"content": blocks, "role": "assistant"}


@guarded
def anthropic_thinking_round_trip(t: Target) -> dict[str, Any]:
    """pa-test_anthropic_model_thinking_part, both turns: extended thinking
    on; the answer (thinking block with its signature, then text) goes back
    with a follow-up question."""
    client = _anthropic(t)
    body = recorded.request_body("pa-test_anthropic_model_thinking_part")
    first = client.messages.create(**body)
    body["messages"] += [
        _assistant_turn(first),
        {
            "content": [
                {"text": "Considering the way to cross the street, analogously, how do I cross the river?", "type": "text"}
            ],
            "role": "user",
        },
    ]
    second = client.messages.create(**body)
    return {"ok": True, "turns": [message_summary(first), message_summary(second)]}


# The tool of the parallel tool-call conversation, answering as it did when
# the conversation was recorded.
FAMILY = {
    "Alice": "alice is bob's wife",
    "Bob": "bob is alice's husband",
    "Charlie": "charlie is alice's son",
    "Daisy": "daisy is bob's daughter and charlie's younger sister",
}


@guarded
def anthropic_tool_round_trip(t: Target) -> dict[str, Any]:
    """pa-test_multiple_parallel_tool_calls, both turns: the model calls
    retrieve_entity_info four times at once, the application answers each
    call with a tool_result, the model answers."""
    client = _anthropic(t)
    body = recorded.request_body("pa-test_multiple_parallel_tool_calls")
    first = client.messages.create(**body)
    results = [
        {"content": FAMILY[b.input["name"]], "is_error": False, "tool_use_id": b.id, "type": "tool_result"}
        for b in first.content
        if b.type == "tool_use"
    ]
    body["messages"] += [_assistant_turn(first), {"content": results, "role": "user"}]
    second = client.messages.create(**body)
    return {"ok": True, "turns": [message_summary(first), message_summary(second)]}


def anthropic_result(cassette: str, how: str = "create", turns: int = 1) -> Callable[[], dict[str, Any]]:
    """What an Anthropic SDK case returns when every call gets its recorded
    answer. how: create (a message), events (a raw stream read event by
    event; pings are not given to the caller), helper (messages.stream())."""

    def expect() -> dict[str, Any]:
        if turns > 1:
            return {
                "ok": True,
                "turns": [message_summary(recorded.anthropic_message(recorded.turn(cassette, k))) for k in range(turns)],
            }
        out: dict[str, Any] = {"ok": True, "message": message_summary(recorded.anthropic_message(cassette))}
        if how in ("events", "helper"):
            acc = recorded.MessageAccumulator()
            for event in recorded.sse_chunks(cassette):
                acc.add(event)
            out["text"] = acc.text
        if how == "events":
            out["events"] = sum(1 for e in recorded.sse_chunks(cassette) if e.get("type") != "ping")
        return out

    return expect


# --- anthropic/ models in OpenAI's format (the proxy translates) ----------------
# The OpenAI SDK and LiteLLM call /chat/completions for an anthropic/ model;
# the proxy sends Anthropic a Messages API request and answers in OpenAI's
# format. Those requests are the proxy's, so no recording holds them: each
# case has a synthetic cassette (cassettes/synthesize.py) pairing the request
# the proxy sends with a recorded Anthropic answer to the same question.

ANTHROPIC_MODEL = "anthropic/claude-sonnet-4-6"


def weather_tools() -> list[dict[str, Any]]:
    """oi-multiple_tool_calling's two tools, as OpenAI function tools."""
    return [
        {"type": "function", "function": {"name": x["name"], "description": x["description"], "parameters": x["input_schema"]}}
        for x in recorded.request_body("oi-multiple_tool_calling")["tools"]
    ]


def translated_bodies() -> dict[str, dict[str, Any]]:
    """Per case, the chat request its client makes (the question of the
    recorded answer its synthetic cassette gives)."""
    image = recorded.request_body("pa-test_image_url_input")["messages"][0]["content"]
    return {
        # oi-messages' question and answer.
        "openai-anthropic-chat": {
            "model": ANTHROPIC_MODEL,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": "What's the capital of France?"}],
        },
        # oi-messages_streaming's.
        "openai-anthropic-stream": {
            "model": ANTHROPIC_MODEL,
            "max_tokens": 1024,
            "messages": [{"role": "user", "content": "Why is the sky blue? Answer in 5 words or less"}],
            "stream": True,
        },
        # oi-multiple_tool_calling's: two tools, both called at once.
        "openai-anthropic-tools": {
            "model": ANTHROPIC_MODEL,
            "max_tokens": 1024,
            "messages": [
                {
                    "role": "user",
                    "content": "What is the weather like right now in New York? Also what time is it there? "
                    "Use necessary tools simultaneously.",
                }
            ],
            "tools": weather_tools(),
        },
        # pa-test_image_url_input's: text and an image by URL; no max_tokens.
        "litellm-proxy-anthropic-image": {
            "model": "anthropic/claude-haiku-4-5",
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": image[0]["text"]},
                        {"type": "image_url", "image_url": {"url": image[1]["source"]["url"]}},
                    ],
                }
            ],
        },
        # oi-async_stream_message's, streamed, with usage asked for (the
        # usage chunk OpenAI streams end with).
        "litellm-proxy-anthropic-stream": {
            "model": ANTHROPIC_MODEL,
            "messages": [{"role": "user", "content": "What's the capital of France?"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    }


def sent_body(case_id: str) -> Callable[[], dict[str, Any]]:
    return lambda: translated_bodies()[case_id]


def openai_typed(case_id: str) -> Callable[[Target], dict[str, Any]]:
    """The OpenAI SDK's chat call for the case; every answer (each chunk of a
    stream) must validate against the SDK's own types, and the summary keeps
    the ids the caller saw."""

    def run(t: Target) -> dict[str, Any]:
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        body = translated_bodies()[case_id]
        client = _openai(t)
        if not body.get("stream"):
            resp = client.chat.completions.create(**body)
            ChatCompletion.model_validate(resp.to_dict())
            return summarize(resp) | {"id": resp.id}
        s, ids = StreamSummary(), []
        with client.chat.completions.create(**body) as stream:
            for chunk in stream:
                ChatCompletionChunk.model_validate(chunk.to_dict())
                s.add(chunk)
                if chunk.id not in ids:
                    ids.append(chunk.id)
        return s.result() | {"ids": ids}

    return guarded(run)


@contextlib.contextmanager
def litellm_proxy_env(t: Target) -> Any:
    """USE_LITELLM_PROXY=True: LiteLLM sends every call, whatever its
    provider prefix, to LITELLM_PROXY_API_BASE (here the proxy's root)."""
    keys = ("USE_LITELLM_PROXY", "LITELLM_PROXY_API_BASE", "LITELLM_PROXY_API_KEY")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(USE_LITELLM_PROXY="True", LITELLM_PROXY_API_BASE=t.root, LITELLM_PROXY_API_KEY=t.api_key)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def litellm_use_proxy(body: Callable[[], dict[str, Any]]) -> Callable[[Target], dict[str, Any]]:
    """litellm.completion with the model named as for the provider itself
    (anthropic/..., gemini/...) and USE_LITELLM_PROXY on."""

    def run(t: Target) -> dict[str, Any]:
        kw = body()
        with litellm_proxy_env(t):
            resp = _litellm().completion(max_retries=0, timeout=CALL_TIMEOUT, **kw)
            if not kw.get("stream"):
                return summarize(resp) | {"id": resp.id}
            s = StreamSummary()
            for chunk in resp:
                s.add(chunk)
            return s.result()

    return guarded(run)


# --- gemini/ models (Gemini's OpenAI-compatible API) ------------------------------
# The proxy strips the prefix and calls GEMINI_API_BASE/chat/completions; the
# suite points GEMINI_API_BASE at the fake provider's GEMINI_PATH. Directly
# (the oracle), the same OpenAI SDK call goes to that base with Gemini's own
# model name, which is the request the proxy sends.

GEMINI_PATH = "/v1beta/openai"
GEMINI_MODEL = "gemini/gemini-2.5-flash"


def gemini_bodies() -> dict[str, dict[str, Any]]:
    """Per case, the chat request (the questions of chat-basic and
    chat-multiturn, whose answers the synthetic cassettes give as Gemini's;
    chat-multiturn's developer message as a system message, which is what
    LiteLLM would send for it)."""
    multiturn = recorded.request_body("chat-multiturn")
    messages = [m | {"role": "system"} if m["role"] == "developer" else m for m in multiturn["messages"]]
    return {
        "openai-gemini": {"model": GEMINI_MODEL, "messages": [{"role": "user", "content": "Hello!"}]},
        "litellm-proxy-gemini": {"model": GEMINI_MODEL, "messages": messages, "temperature": multiturn["temperature"]},
    }


@guarded
def openai_gemini(t: Target) -> dict[str, Any]:
    import openai

    body = gemini_bodies()["openai-gemini"]
    if t.via_proxy:
        client = _openai(t)
    else:
        body["model"] = body["model"].removeprefix("gemini/")
        client = openai.OpenAI(base_url=t.root + GEMINI_PATH, api_key=t.api_key, max_retries=0, timeout=CALL_TIMEOUT)
    return summarize(client.chat.completions.create(**body))


# --- Google's Gemini API and Vertex AI (the google-genai SDK) ---------------------
# The SDK unchanged but for its base URL: the server's root for the Gemini API
# (the SDK appends /v1beta/models/{model}:generateContent), and for Vertex AI
# the proxy's /vertex_ai (LiteLLM's pass-through prefix; the SDK appends
# /v1beta1/projects/...) or the fake provider's root. The proxy holds no Google
# credentials in this suite, so the Vertex client's own bearer token passes
# through it: a static token (the run's dummy key), which the SDK sends as it
# is, never asking Google for one.

VERTEX_PREFIX = "/vertex_ai"
# The usage a summary keeps, as the SDK names usageMetadata's members.
GENAI_USAGE = {k: "".join("_" + c.lower() if c.isupper() else c for c in k) for k in recorded.GENAI_USAGE}


def _genai_http_options(base_url: str) -> Any:
    from google.genai import types

    # attempts=1: one request per call (the SDK's default too), as
    # max_retries=0 for the other SDKs; the timeout is in milliseconds.
    return types.HttpOptions(
        base_url=base_url, timeout=int(CALL_TIMEOUT * 1000), retry_options=types.HttpRetryOptions(attempts=1)
    )


def _genai(t: Target) -> Any:
    from google import genai

    return genai.Client(api_key=t.api_key, http_options=_genai_http_options(t.root))


def _genai_vertex(t: Target, cassette: str) -> Any:
    """A Vertex AI client for the project and location the recorded URL names."""
    import google.oauth2.credentials
    from google import genai

    where = recorded.google_url(cassette)
    return genai.Client(
        vertexai=True,
        project=where["project"],
        location=where["location"],
        credentials=google.oauth2.credentials.Credentials(token=t.api_key),
        http_options=_genai_http_options(t.root + VERTEX_PREFIX if t.via_proxy else t.root),
    )


def genai_summary(responses: list[Any]) -> dict[str, Any]:
    """recorded.genai_summary, of the SDK's GenerateContentResponse objects
    (one, or a stream's chunks in order) as the caller reads them."""
    s: dict[str, Any] = {"text": None, "thoughts": None, "function_calls": [], "finish_reason": None, "usage": None}
    for r in responses:
        s["model_version"] = r.model_version if r.model_version is not None else s.get("model_version")
        s["response_id"] = r.response_id if r.response_id is not None else s.get("response_id")
        if r.usage_metadata is not None:
            s["usage"] = {k: getattr(r.usage_metadata, attr) for k, attr in GENAI_USAGE.items()}
        for c in (r.candidates or [])[:1]:
            if c.finish_reason is not None:
                s["finish_reason"] = getattr(c.finish_reason, "value", c.finish_reason)
            for p in (c.content.parts if c.content else None) or []:
                if p.text is not None:
                    key = "thoughts" if p.thought else "text"
                    s[key] = (s[key] or "") + p.text
                if p.function_call is not None:
                    fc = p.function_call
                    s["function_calls"].append({"id": fc.id, "name": fc.name, "args": fc.args})
    return s


def genai_result(responses: list[Any], stream: bool) -> dict[str, Any]:
    out = {"ok": True, **genai_summary(responses)}
    if stream:
        out["chunks"] = len(responses)
    return out


def genai_guarded(fn: Callable[[Target], dict[str, Any]]) -> Callable[[Target], dict[str, Any]]:
    """guarded, with Google's errors as the SDK raises them: code, status
    and message of the API's error."""

    def run(t: Target) -> dict[str, Any]:
        from google.genai import errors

        try:
            return fn(t)
        except errors.APIError as e:
            return {"ok": False, "status": e.code, "status_name": e.status, "message": e.message}
        except Exception as e:
            return failure(e)

    run.__name__ = fn.__name__
    return run


def genai_expect(cassette: str, turns: int = 1) -> Callable[[], dict[str, Any]]:
    def expect() -> dict[str, Any]:
        if turns == 1:
            return recorded.genai_result(cassette)
        return {"ok": True, "turns": [recorded.genai_result(recorded.turn(cassette, k)) for k in range(turns)]}

    return expect


# The weather tool of openinference's google-genai tests (their cassettes).
WEATHER_SYSTEM = "You are a helpful assistant that can answer questions and help with tasks."
WEATHER_TOOLS_SYSTEM = WEATHER_SYSTEM + " Use the available tools when appropriate."
WEATHER_REPORT = {"location": "San Francisco", "temperature": 65, "unit": "fahrenheit", "condition": "foggy", "humidity": "85%"}


def weather_tool() -> Any:
    from google.genai import types

    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name="get_weather",
                description="Get current weather information for a given location",
                parameters=types.Schema(
                    type=types.Type.OBJECT,
                    properties={
                        "location": types.Schema(
                            type=types.Type.STRING, description="The city and state/country for weather information"
                        ),
                        "unit": types.Schema(
                            type=types.Type.STRING, description="Temperature unit", enum=["celsius", "fahrenheit"]
                        ),
                    },
                    required=["location"],
                ),
            )
        ]
    )


@genai_guarded
def genai_generate_content(t: Target) -> dict[str, Any]:
    """pa-test_google_model: a system instruction and text only."""
    from google.genai import types

    with _genai(t) as client:
        resp = client.models.generate_content(
            model="gemini-2.5-flash",
            contents="Hello!",
            config=types.GenerateContentConfig(system_instruction="You are a chatbot.", response_modalities=["TEXT"]),
        )
    return genai_result([resp], stream=False)


@genai_guarded
def genai_instructions_async(t: Target) -> dict[str, Any]:
    """pa-test_google_model_instructions, with the async client (client.aio)."""
    from google.genai import types

    async def go() -> dict[str, Any]:
        async with _genai(t).aio as client:
            resp = await client.models.generate_content(
                model="gemini-2.0-flash",
                contents="What is the capital of France?",
                config=types.GenerateContentConfig(system_instruction="You are a helpful assistant."),
            )
        return genai_result([resp], stream=False)

    return asyncio.run(go())


@genai_guarded
def genai_tools(t: Target) -> dict[str, Any]:
    """oi-generate_content_with_tool: a function declaration; the model calls it."""
    from google.genai import types

    with _genai(t) as client:
        resp = client.models.generate_content(
            model="gemini-2.0-flash",
            contents="What's the weather like in San Francisco?",
            config=types.GenerateContentConfig(system_instruction=WEATHER_TOOLS_SYSTEM, tools=[weather_tool()]),
        )
    return genai_result([resp], stream=False)


@genai_guarded
def genai_function_response(t: Target) -> dict[str, Any]:
    """oi-generate_content: a conversation whose last turns are the model's
    function call and the function's response; the model answers in text."""
    from google.genai import types

    call = types.FunctionCall(id="call_abc123", name="get_weather", args={"location": "San Francisco"})
    contents = [
        types.Content(role="user", parts=[types.Part(text="What's the weather like?")]),
        types.Content(role="model", parts=[types.Part(function_call=call)]),
        types.Content(
            role="user",
            parts=[types.Part(function_response=types.FunctionResponse(id=call.id, name=call.name, response=WEATHER_REPORT))],
        ),
    ]
    with _genai(t) as client:
        resp = client.models.generate_content(
            model="gemini-2.0-flash", contents=contents, config=types.GenerateContentConfig(system_instruction=WEATHER_SYSTEM)
        )
    return genai_result([resp], stream=False)


# pa-test_google_tool_output's tools and the id its application (pydantic-ai)
# gave the model's function call, which the API sent without one.
USER_COUNTRY = "Mexico"
USER_COUNTRY_CALL_ID = "pyd_ai_3fa5644dae1d4aad997ae39c70006fbd"


@genai_guarded
def genai_tool_round_trip(t: Target) -> dict[str, Any]:
    """pa-test_google_tool_output, both turns: function calling forced (mode
    ANY); the model calls get_user_country, the application sends the call
    and its response back, the model calls final_result."""
    from google.genai import types

    config = types.GenerateContentConfig(
        tools=[
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="get_user_country", description="", parameters=types.Schema(type=types.Type.OBJECT, properties={})
                    ),
                    types.FunctionDeclaration(
                        name="final_result",
                        description="The final response which ends this conversation",
                        parameters=types.Schema(
                            type=types.Type.OBJECT,
                            properties={"city": types.Schema(type=types.Type.STRING), "country": types.Schema(type=types.Type.STRING)},
                            required=["city", "country"],
                        ),
                    ),
                ]
            )
        ],
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(
                mode=types.FunctionCallingConfigMode.ANY, allowed_function_names=["get_user_country", "final_result"]
            )
        ),
    )
    question = types.Content(role="user", parts=[types.Part(text="What is the largest city in the user country?")])
    with _genai(t) as client:
        first = client.models.generate_content(model="gemini-2.0-flash", contents=[question], config=config)
        call = first.function_calls[0]
        call = types.FunctionCall(id=USER_COUNTRY_CALL_ID, name=call.name, args=call.args)
        answer = types.FunctionResponse(id=call.id, name=call.name, response={"return_value": USER_COUNTRY})
        second = client.models.generate_content(
            model="gemini-2.0-flash",
            contents=[
                question,
                types.Content(role="model", parts=[types.Part(function_call=call)]),
                types.Content(role="user", parts=[types.Part(function_response=answer)]),
            ],
            config=config,
        )
    return {"ok": True, "turns": [genai_result([first], stream=False), genai_result([second], stream=False)]}


@genai_guarded
def genai_stream(t: Target) -> dict[str, Any]:
    """oi-streaming_text_content: generate_content_stream, text only."""
    with _genai(t) as client:
        chunks = list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="Tell me a short story about a cat."))
    return genai_result(chunks, stream=True)


@genai_guarded
def genai_stream_tools(t: Target) -> dict[str, Any]:
    """oi-response_with_multiple_tool_calls-True: a stream of two parallel
    function calls."""
    from google.genai import types

    with _genai(t) as client:
        stream = client.models.generate_content_stream(
            model="gemini-2.0-flash",
            contents="What is the weather like in Boston & new Delhi?",
            config=types.GenerateContentConfig(system_instruction=WEATHER_TOOLS_SYSTEM, tools=[weather_tool()]),
        )
        chunks = list(stream)
    return genai_result(chunks, stream=True)


@genai_guarded
def genai_stream_async(t: Target) -> dict[str, Any]:
    """pa-test_google_model_stream, with the async client: temperature 0."""
    from google.genai import types

    async def go() -> dict[str, Any]:
        async with _genai(t).aio as client:
            stream = await client.models.generate_content_stream(
                model="gemini-2.0-flash-exp",
                contents="What is the capital of France?",
                config=types.GenerateContentConfig(system_instruction="You are a helpful chatbot.", temperature=0.0),
            )
            chunks = [chunk async for chunk in stream]
        return genai_result(chunks, stream=True)

    return asyncio.run(go())


@genai_guarded
def genai_thinking_stream(t: Target) -> dict[str, Any]:
    """oi-streaming_reasoning: thoughts asked for, with a budget; the stream
    has thought parts, then the answer's text, then its thought signature."""
    from google.genai import types

    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(include_thoughts=True, thinking_budget=512))
    with _genai(t) as client:
        stream = client.models.generate_content_stream(
            model="gemini-3.5-flash", contents="Tell bed storey for 5 years old boy.", config=config
        )
        chunks = list(stream)
    return genai_result(chunks, stream=True)


@genai_guarded
def genai_error(t: Target) -> dict[str, Any]:
    """pa-test_model_name_suggestion-google: a model the API does not know (404)."""
    from google.genai import types

    with _genai(t) as client:
        resp = client.models.generate_content(
            model="gemini-3.6-flahs", contents="hello", config=types.GenerateContentConfig(response_modalities=["TEXT"])
        )
    return genai_result([resp], stream=False)


@genai_guarded
def vertex_generate_content(t: Target) -> dict[str, Any]:
    """pa-test_google_model_vertex_provider: the Vertex AI client."""
    from google.genai import types

    cassette = "pa-test_google_model_vertex_provider"
    with _genai_vertex(t, cassette) as client:
        resp = client.models.generate_content(
            model="gemini-2.0-flash",
            contents="What is the capital of France?",
            config=types.GenerateContentConfig(system_instruction="You are a helpful chatbot."),
        )
    return genai_result([resp], stream=False)


@genai_guarded
def vertex_stream(t: Target) -> dict[str, Any]:
    """pa-test_google_vertex_service_tier_flex_stream: the Vertex AI client, streamed."""
    from google.genai import types

    cassette = "pa-test_google_vertex_service_tier_flex_stream"
    with _genai_vertex(t, cassette) as client:
        stream = client.models.generate_content_stream(
            model="gemini-3-flash-preview",
            contents="Reply with exactly: OK",
            config=types.GenerateContentConfig(response_modalities=["TEXT"]),
        )
        chunks = list(stream)
    return genai_result(chunks, stream=True)


# --- Claude on Vertex AI (the Anthropic SDK's AnthropicVertex) ---------------------
# As Claude Code calls it through a gateway: the base URL is the proxy's
# /vertex_ai/v1 (the SDK appends /projects/{p}/locations/{region}/publishers/
# anthropic/models/{model}:rawPredict), a static access token. The request is
# the SDK's (the model in the path, anthropic_version in the body), which no
# recording holds: its synthetic cassette pairs it with oi-messages' answer.

ANTHROPIC_VERTEX_CASSETTE = "synthetic-anthropic-vertex"
ANTHROPIC_VERTEX_QUESTION = "oi-messages"  # the recorded call it asks again
ANTHROPIC_VERTEX_REGION, ANTHROPIC_VERTEX_PROJECT = "us-east5", "my-project"


def _anthropic_vertex(t: Target) -> Any:
    import anthropic

    return anthropic.AnthropicVertex(
        region=ANTHROPIC_VERTEX_REGION,
        project_id=ANTHROPIC_VERTEX_PROJECT,
        base_url=(t.root + VERTEX_PREFIX if t.via_proxy else t.root) + "/v1",
        access_token=t.api_key,
        max_retries=0,
        timeout=CALL_TIMEOUT,
    )


@guarded
def anthropic_vertex_create(t: Target) -> dict[str, Any]:
    """oi-messages' messages.create, on Vertex AI."""
    message = _anthropic_vertex(t).messages.create(**recorded.request_body(ANTHROPIC_VERTEX_QUESTION))
    return {"ok": True, "message": message_summary(message)}


# --- AWS Bedrock Runtime (boto3's bedrock-runtime client) ------------------------
# boto3 with endpoint_url set to the proxy's root, as an application points it
# at a gateway. It signs every request (SigV4, for the proxy's host) with keys
# of its own, which no AWS account has and the fake provider does not take:
# through the proxy a call succeeds only because the proxy drops that
# signature and signs again with its own credentials. The oracle's boto3 calls
# the fake provider directly with keys the fake takes (BEDROCK_ORACLE_KEYS).

BEDROCK_REGION = "us-east-1"
BEDROCK_CLIENT_KEYS = ("AKIAE2ECLIENTDUMMY00", "e2e/client/dummy/secret/KEY")
BEDROCK_ORACLE_KEYS = ("AKIAE2EORACLE0000000", "e2e/oracle/secret/EXAMPLEKEY")

BEDROCK_SPAN_NAMES = {
    "converse": "bedrock.converse",
    "converse-stream": "bedrock.converse_stream",
    "invoke": "bedrock.invoke_model",
    "invoke-with-response-stream": "bedrock.invoke_model_with_response_stream",
}


def _boto3_bedrock(t: Target, under_bedrock: bool = False) -> Any:
    """boto3's client for the target: the proxy's root, or its /bedrock
    (LiteLLM's pass-through prefix) when under_bedrock; the fake's root."""
    import boto3
    from botocore.config import Config

    key, secret = BEDROCK_CLIENT_KEYS if t.via_proxy else BEDROCK_ORACLE_KEYS
    return boto3.client(
        "bedrock-runtime",
        region_name=BEDROCK_REGION,
        endpoint_url=t.root + ("/bedrock" if under_bedrock and t.via_proxy else ""),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        # No retry (a failure is one call, one span), and no call that hangs.
        # Legacy mode with no retries, not total_max_attempts=1: that marks
        # every error as having "reached max retries", which botocore then
        # writes into the exception's text.
        config=Config(retries={"mode": "legacy", "max_attempts": 0}, connect_timeout=CALL_TIMEOUT, read_timeout=CALL_TIMEOUT),
    )


def bedrock_guarded(fn: Callable[[Target], dict[str, Any]]) -> Callable[[Target], dict[str, Any]]:
    """guarded, with botocore's ClientError read as the caller reads it:
    the HTTP status, the error code and message Bedrock sent."""

    def run(t: Target) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        try:
            return fn(t)
        except ClientError as e:
            err = e.response.get("Error") or {}
            status = (e.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            return {"ok": False, "status": status, "code": err.get("Code"), "message": err.get("Message")}
        except Exception as e:
            return failure(e)

    run.__name__ = fn.__name__
    return run


def _converse_kwargs(cassette: str) -> dict[str, Any]:
    """The recorded Converse request as boto3's keyword arguments: the
    path's model id, the body's members, each source's base64 bytes (of a
    document, an image) as the bytes they encode, which boto3 encodes again."""

    def blobs(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: base64.b64decode(x) if k == "bytes" and isinstance(x, str) else blobs(x) for k, x in v.items()}
        if isinstance(v, list):
            return [blobs(x) for x in v]
        return v

    return {"modelId": recorded.bedrock_url(cassette)[0], **blobs(recorded.request_body(cassette))}


def boto3_converse(cassette: str) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        acc = recorded.ConverseAccumulator()
        acc.answer(_boto3_bedrock(t).converse(**_converse_kwargs(cassette)))
        return acc.result()

    return bedrock_guarded(run)


# Prompt caching: the same request twice, the first answer writing the cache,
# the second reading it. The fake provider answers equal requests with the
# first recording unless a header names the interaction: boto3 adds it
# before signing, the proxy passes it on.
BEDROCK_CACHE_CASSETTE = "pa-test_bedrock_cache_write_and_read"
FAKE_CASSETTE_HEADER = "X-Fake-Cassette"


@bedrock_guarded
def boto3_converse_cache_write_and_read(t: Target) -> dict[str, Any]:
    turns = []
    for k in range(2):
        name = recorded.turn(BEDROCK_CACHE_CASSETTE, k)
        client = _boto3_bedrock(t)

        def mark(request: Any, name: str = name, **_: Any) -> None:
            request.headers[FAKE_CASSETTE_HEADER] = name

        client.meta.events.register("before-sign.bedrock-runtime.Converse", mark)
        acc = recorded.ConverseAccumulator()
        acc.answer(client.converse(**_converse_kwargs(name)))
        turns.append(acc.result())
    return {"ok": True, "turns": turns}


def boto3_converse_stream(cassette: str, under_bedrock: bool = False) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        acc, events = recorded.ConverseAccumulator(), 0
        for event in _boto3_bedrock(t, under_bedrock).converse_stream(**_converse_kwargs(cassette))["stream"]:
            events += 1
            acc.add(event)
        return {**acc.result(), "events": events}

    return bedrock_guarded(run)


def boto3_invoke(cassette: str) -> Callable[[Target], dict[str, Any]]:
    """invoke_model, or invoke_model_with_response_stream for a streamed
    recording, with the recorded body as the bytes sent."""

    def run(t: Target) -> dict[str, Any]:
        model, operation = recorded.bedrock_url(cassette)
        kwargs = {
            "modelId": model,
            "body": recorded.interaction(cassette)["request"]["body"],
            "contentType": "application/json",
            "accept": "application/json",
        }
        client = _boto3_bedrock(t)
        if operation == "invoke":
            return {"ok": True, "body": json.loads(client.invoke_model(**kwargs)["body"].read())}
        stream = client.invoke_model_with_response_stream(**kwargs)["body"]
        return {"ok": True, "events": [json.loads(e["chunk"]["bytes"]) for e in stream if "chunk" in e]}

    return bedrock_guarded(run)


# --- Claude on Bedrock (the Anthropic SDK's AnthropicBedrock) -----------------------
# As Claude Code calls it through a gateway (ANTHROPIC_BEDROCK_BASE_URL): the
# base URL is the proxy's /bedrock (the SDK appends /model/{model}/invoke or
# /invoke-with-response-stream), the body Claude's Messages body with
# anthropic_version. Either signed with dummy keys (for the proxy's host), or
# not signed at all, as Claude Code's CLAUDE_CODE_SKIP_BEDROCK_AUTH leaves
# it (the TypeScript SDK's skipAuth; the Python SDK has no such switch, so a
# subclass skips the signing step). The oracle makes the same InvokeModel
# call with boto3 (the bedrock instrumentor traces botocore, not httpx).

# Claude Code's own requests (test_claude_code.py) no recording holds: the fake
# provider answers them whatever their body with this synthetic cassette
# (cassettes/synthesize.py), which their X-Fake-Cassette-Any-Body header names.
CLAUDE_CODE_CASSETTE = "synthetic-bedrock-claude-code"

ANTHROPIC_BEDROCK_MODEL_CASSETTES = ("oi-TestClaudeInvokeModelMessageApi.test_invoke_model", "oi-TestInvokeModelWithStreamResponse.test_invoke")


def _anthropic_bedrock(t: Target, signed: bool) -> Any:
    import anthropic

    class UnsignedAnthropicBedrock(anthropic.AnthropicBedrock):
        """AnthropicBedrock that signs nothing (skip-auth)."""

        def _prepare_request(self, request: Any) -> None:
            return None

    keys = {"aws_access_key": BEDROCK_CLIENT_KEYS[0], "aws_secret_key": BEDROCK_CLIENT_KEYS[1]} if signed else {}
    cls = anthropic.AnthropicBedrock if signed else UnsignedAnthropicBedrock
    return cls(aws_region=BEDROCK_REGION, base_url=t.root + "/bedrock", max_retries=0, timeout=CALL_TIMEOUT, **keys)


def _anthropic_bedrock_kwargs(cassette: str) -> dict[str, Any]:
    """The recorded InvokeModel body as messages.create's arguments: the
    model from the path; anthropic_version, which the SDK adds itself, and
    temperature (which anthropic 1.17's create() no longer takes) as extra
    body members."""
    body = recorded.request_body(cassette)
    extra = {k: body.pop(k) for k in ("anthropic_version", "temperature") if k in body}
    return {"model": recorded.bedrock_url(cassette)[0], **body, "extra_body": extra}


def anthropic_bedrock_create(cassette: str, signed: bool, stream: bool = False) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        client = _anthropic_bedrock(t, signed)
        if not stream:
            return {"ok": True, "message": message_summary(client.messages.create(**_anthropic_bedrock_kwargs(cassette)))}
        acc, events = recorded.MessageAccumulator(), 0
        for event in client.messages.create(**_anthropic_bedrock_kwargs(cassette), stream=True):
            events += 1
            acc.add(event.model_dump(mode="json"))
        return {"ok": True, "events": events, "text": acc.text, "message": message_summary(acc.message)}

    return guarded(run)


def anthropic_bedrock_stream_helper(cassette: str, signed: bool) -> Callable[[Target], dict[str, Any]]:
    def run(t: Target) -> dict[str, Any]:
        with _anthropic_bedrock(t, signed).messages.stream(**_anthropic_bedrock_kwargs(cassette)) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        return {"ok": True, "text": text, "message": message_summary(final)}

    return guarded(run)


def anthropic_bedrock_result(cassette: str, how: str) -> Callable[[], dict[str, Any]]:
    """What an AnthropicBedrock case returns when it gets the recorded
    answer. how: create, events (create with stream=True), helper."""

    def expect() -> dict[str, Any]:
        out: dict[str, Any] = {"ok": True, "message": message_summary(recorded.bedrock_message(cassette))}
        if how in ("events", "helper"):
            acc = recorded.MessageAccumulator()
            for event in recorded.invoke_stream_events(cassette):
                acc.add(event)
            out["text"] = acc.text
        if how == "events":
            out["events"] = len(recorded.invoke_stream_events(cassette))
        return out

    return expect


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
    # Anthropic's Messages API through the proxy with the Anthropic SDK (sync
    # and async), compared with openinference-instrumentation-anthropic. Where
    # two recordings hold the same request (oi-messages and oi-async_messages,
    # oi-messages_streaming and oi-async_messages_streaming, oi-stream_message
    # and oi-async_stream_message), the fake provider answers with the first by
    # name, the async test's; the cases name that one.
    *[
        Case(case_id, client, cassette, run(cassette), expect=anthropic_result(cassette, how), api="anthropic", provider="anthropic")
        for case_id, client, cassette, run, how in [
            ("anthropic-messages", "anthropic", "pa-test_anthropic_model_instructions", anthropic_create, "create"),
            ("anthropic-messages-async", "anthropic-async", "oi-async_messages", anthropic_create_async, "create"),
            ("anthropic-stream-async", "anthropic-async", "oi-async_messages_streaming", anthropic_create_async, "events"),
            (
                "anthropic-stream-helper",
                "anthropic",
                "pa-test_anthropic_model_thinking_part_stream",
                anthropic_stream_helper,
                "helper",
            ),
            ("anthropic-stream-helper-async", "anthropic-async", "oi-async_stream_message", anthropic_stream_helper_async, "helper"),
            ("anthropic-tools", "anthropic", "oi-multiple_tool_calling", anthropic_create, "create"),
        ]
    ],
    # Two turns each: the second sends the first answer back.
    *[
        Case(case_id, "anthropic", cassette, run, turns=2, expect=anthropic_result(cassette, turns=2), api="anthropic", provider="anthropic")
        for case_id, cassette, run in [
            ("anthropic-tool-round-trip", "pa-test_multiple_parallel_tool_calls", anthropic_tool_round_trip),
            ("anthropic-thinking", "pa-test_anthropic_model_thinking_part", anthropic_thinking_round_trip),
        ]
    ],
    # anthropic/ models through /chat/completions, translated by the proxy:
    # the OpenAI SDK, and LiteLLM with USE_LITELLM_PROXY. No direct call is
    # the same (the proxy is the translator), so no oracle: test_anthropic.py
    # checks the answers and spans against the recorded Anthropic answers.
    *[
        Case(
            case_id,
            client,
            cassette,
            openai_typed(case_id) if client == "openai" else litellm_use_proxy(sent_body(case_id)),
            api="translated",
            sent=sent_body(case_id),
            provider="anthropic",
            oracle=(),
        )
        for case_id, client, cassette in [
            ("openai-anthropic-chat", "openai", "synthetic-anthropic-chat"),
            ("openai-anthropic-stream", "openai", "synthetic-anthropic-chat-stream"),
            ("openai-anthropic-tools", "openai", "synthetic-anthropic-chat-tools"),
            ("litellm-proxy-anthropic-image", "litellm", "synthetic-anthropic-litellm-image"),
            ("litellm-proxy-anthropic-stream", "litellm", "synthetic-anthropic-litellm-stream"),
        ]
    ],
    # gemini/ models: the proxy strips the prefix and calls Gemini's
    # OpenAI-compatible API. The OpenAI SDK's call is compared with the same
    # call made to that API directly; LiteLLM's (USE_LITELLM_PROXY) has no
    # direct equivalent in OpenAI's format.
    Case(
        "openai-gemini",
        "openai",
        "synthetic-gemini-chat",
        openai_gemini,
        sent=lambda: gemini_bodies()["openai-gemini"],
        provider="google",
    ),
    Case(
        "litellm-proxy-gemini",
        "litellm",
        "synthetic-gemini-litellm-multiturn",
        litellm_use_proxy(lambda: gemini_bodies()["litellm-proxy-gemini"]),
        sent=lambda: gemini_bodies()["litellm-proxy-gemini"],
        provider="google",
        oracle=(),
    ),
    # Google's own API, natively: the google-genai SDK on the Gemini API
    # (sync and async) and on Vertex AI, each call a recorded one (the request
    # the SDK sends is the recorded request), compared with
    # openinference-instrumentation-google-genai.
    *[
        Case(case_id, client, cassette, run, turns=turns, expect=genai_expect(cassette, turns), api="gemini", provider="google")
        for case_id, client, cassette, run, turns in [
            ("genai-generate-content", "genai", "pa-test_google_model", genai_generate_content, 1),
            ("genai-instructions-async", "genai-async", "pa-test_google_model_instructions", genai_instructions_async, 1),
            ("genai-tools", "genai", "oi-generate_content_with_tool", genai_tools, 1),
            ("genai-function-response", "genai", "oi-generate_content", genai_function_response, 1),
            ("genai-tool-round-trip", "genai", "pa-test_google_tool_output", genai_tool_round_trip, 2),
            ("genai-stream", "genai", "oi-streaming_text_content", genai_stream, 1),
            ("genai-stream-tools", "genai", "oi-response_with_multiple_tool_calls-True", genai_stream_tools, 1),
            ("genai-stream-async", "genai-async", "pa-test_google_model_stream", genai_stream_async, 1),
            ("genai-thinking-stream", "genai", "oi-streaming_reasoning", genai_thinking_stream, 1),
            ("genai-error", "genai", "pa-test_model_name_suggestion-google", genai_error, 1),
            ("genai-vertex", "genai-vertex", "pa-test_google_model_vertex_provider", vertex_generate_content, 1),
            ("genai-vertex-stream", "genai-vertex", "pa-test_google_vertex_service_tier_flex_stream", vertex_stream, 1),
        ]
    ],
    # Claude on Vertex AI: the Anthropic SDK's AnthropicVertex (as Claude Code
    # uses it) to :rawPredict; a messages.create span, the host Google.
    Case(
        "anthropic-vertex",
        "anthropic-vertex",
        ANTHROPIC_VERTEX_CASSETTE,
        anthropic_vertex_create,
        expect=anthropic_result(ANTHROPIC_VERTEX_CASSETTE),
        api="anthropic",
        provider="google",
    ),
]

# AWS Bedrock Runtime: boto3's bedrock-runtime client (Converse, ConverseStream,
# InvokeModel with Claude's and Nova's bodies, InvokeModelWithResponseStream)
# through the proxy, which signs each call, compared with
# openinference-instrumentation-bedrock; and AnthropicBedrock, compared with
# the same call made with boto3 (its oracle_run).
CASES += [
    *[
        Case(
            case_id,
            "boto3",
            cassette,
            run(cassette),
            expect=functools.partial(expect, cassette),
            api="bedrock",
            provider="aws",
            oracle=oracle,
        )
        for case_id, cassette, run, expect, oracle in [
            ("bedrock-converse", "pa-test_bedrock_model", boto3_converse, recorded.converse_result, ("bedrock",)),
            ("bedrock-converse-tools", "oi-test_converse_tool_use_message", boto3_converse, recorded.converse_result, ("bedrock",)),
            (
                "bedrock-converse-inference-profile",
                "pa-test_bedrock_inference_profile_converse",
                boto3_converse,
                recorded.converse_result,
                ("bedrock",),
            ),
            ("bedrock-converse-guardrail", "pa-test_bedrock_model_guardrail_config", boto3_converse, recorded.converse_result, ("bedrock",)),
            ("bedrock-converse-stream", "pa-test_bedrock_model_stream", boto3_converse_stream, recorded.converse_result, ("bedrock",)),
            (
                "bedrock-converse-stream-tools",
                "oi-TestConverseStream.test_invoke_tool_message",
                boto3_converse_stream,
                recorded.converse_result,
                ("bedrock",),
            ),
            # endpoint_url the proxy's /bedrock, as the README has it.
            (
                "bedrock-converse-stream-tool-result",
                "oi-TestConverseStream.test_invoke_tool_response_message",
                functools.partial(boto3_converse_stream, under_bedrock=True),
                recorded.converse_result,
                ("bedrock",),
            ),
            (
                "bedrock-converse-stream-thinking",
                "pa-test_bedrock_model_thinking_part_stream",
                boto3_converse_stream,
                recorded.converse_result,
                ("bedrock",),
            ),
            ("bedrock-invoke-claude", "oi-TestClaudeInvokeModelMessageApi.test_invoke_model", boto3_invoke, recorded.invoke_result, ("bedrock",)),
            ("bedrock-invoke-nova", "oi-TestNovaInvokeModel.test_nova_lite_with_system", boto3_invoke, recorded.invoke_result, ("bedrock",)),
            (
                "bedrock-invoke-stream-claude",
                "oi-TestInvokeModelWithStreamResponse.test_invoke",
                boto3_invoke,
                recorded.invoke_result,
                ("bedrock",),
            ),
        ]
    ],
    Case(
        "bedrock-converse-cache",
        "boto3",
        BEDROCK_CACHE_CASSETTE,
        boto3_converse_cache_write_and_read,
        turns=2,
        expect=lambda: {"ok": True, "turns": [recorded.converse_result(recorded.turn(BEDROCK_CACHE_CASSETTE, k)) for k in range(2)]},
        api="bedrock",
        provider="aws",
        oracle=("bedrock",),
    ),
    # Errors: Bedrock's 400 for an unknown model, on Converse and on
    # ConverseStream (which the instrumentor exports no span of: no oracle).
    *[
        Case(case_id, "boto3", cassette, run(cassette), api="bedrock", provider="aws", oracle=oracle)
        for case_id, cassette, run, oracle in [
            ("bedrock-converse-error", "pa-test_bedrock_error", boto3_converse, ("bedrock",)),
            ("bedrock-converse-stream-error", "pa-test_bedrock_streaming_error", boto3_converse_stream, ()),
        ]
    ],
    *[
        Case(
            case_id,
            "anthropic-bedrock",
            cassette,
            run,
            oracle_run=boto3_invoke(cassette),
            expect=anthropic_bedrock_result(cassette, how),
            api="bedrock",
            provider="aws",
            oracle=("bedrock",),
        )
        for case_id, cassette, run, how in [
            (
                "anthropic-bedrock-create",
                ANTHROPIC_BEDROCK_MODEL_CASSETTES[0],
                anthropic_bedrock_create(ANTHROPIC_BEDROCK_MODEL_CASSETTES[0], signed=True),
                "create",
            ),
            (
                "anthropic-bedrock-create-stream",
                ANTHROPIC_BEDROCK_MODEL_CASSETTES[1],
                anthropic_bedrock_create(ANTHROPIC_BEDROCK_MODEL_CASSETTES[1], signed=True, stream=True),
                "events",
            ),
            (
                "anthropic-bedrock-stream-helper-skip-auth",
                ANTHROPIC_BEDROCK_MODEL_CASSETTES[1],
                anthropic_bedrock_stream_helper(ANTHROPIC_BEDROCK_MODEL_CASSETTES[1], signed=False),
                "helper",
            ),
            (
                "anthropic-bedrock-create-skip-auth",
                ANTHROPIC_BEDROCK_MODEL_CASSETTES[0],
                anthropic_bedrock_create(ANTHROPIC_BEDROCK_MODEL_CASSETTES[0], signed=False),
                "create",
            ),
        ]
    ],
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
