"""Agent loops through the proxy, for the README's pictures of Phoenix.

Drives three conversations through a proxy whose upstream is the fake
provider's conversation mode (`fakeprovider -conversation`: it calls the
request's first tool while the request holds fewer tool results than its
"[tools: N]" asks for, then answers "Answer N."), as agents send them:

- two OpenAI chat completions loops (the OpenAI SDK, the second streamed)
  with the same system prompt and the same first question, and no session
  field at all: the proxy tells them apart by their history;
- a Messages API loop (the Anthropic SDK) sending Claude Code's
  `X-Claude-Code-Session-Id` header and its `metadata.user_id`.

The first and third have two user turns each, with tool calls and tool
results in the history.

How the calls are grouped into traces, the third argument:

- `call` (the proxy's default): each call is a trace of its own, and the
  session groups them;
- `shared`: the calls of one user turn share a trace, through LiteLLM's
  `x-litellm-trace-id` header, each call a root span of it, with no span
  for the turn (what the proxy could do on its own);
- `turn`: each user turn is a trace of its own made by the client: the
  script opens a span for the turn (kind CHAIN, the user's message in, the
  agent's answer out), exported straight to Phoenix's OTLP endpoint (the
  fourth argument), and sends its W3C `traceparent` with each call of the
  turn, so that the proxy's spans of that turn are its children.

README: "What it looks like in Phoenix".

Usage: python agents.py PROXY_URL PROJECT call|shared|turn [OTLP_GRPC_ENDPOINT]
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import sys
import uuid
from typing import Any, Iterator

import anthropic
import openai

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "e2e" / "tests"))
from chat_stream import streamed_message  # noqa: E402  (the e2e tests' helper, found by the line above)

SYSTEM = "You are a weather agent. Answer from the tools you have, never from memory."
TOOL = {
    "name": "get_weather",
    "description": "Today's weather and the forecast for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
# The fake provider calls the tool until the history holds as many tool
# results as the first "[tools: N]" in the request asks for: two in the
# first turn, none in the second.
TURNS = [
    "What's the weather in PotatoLand today? [tools: 2]",
    "Will I need an umbrella there tomorrow?",
]


def weather(city: str) -> str:
    """What the tool answers."""
    return f"{city}: 18°C, light rain from 15:00; tomorrow 14°C, showers all day"


class Turns:
    """How the calls of one user turn are traced (the module's doc: `call`,
    `shared`, `turn`, the last with the tracer of the turns' spans)."""

    def __init__(self, mode: str = "call", tracer: Any = None) -> None:
        self.mode, self.tracer = mode, tracer

    @contextlib.contextmanager
    def turn(self, text: str) -> Iterator[tuple[dict[str, str], list[str]]]:
        """Yields the headers for the turn's calls, and a list to put the
        turn's answer in."""
        answer: list[str] = []
        if self.mode == "shared":
            yield {"x-litellm-trace-id": uuid.uuid4().hex}, answer
            return
        if self.mode != "turn":
            yield {}, answer
            return
        from opentelemetry import propagate, trace

        with self.tracer.start_as_current_span("agent turn") as span:
            span.set_attribute("openinference.span.kind", "CHAIN")
            span.set_attribute("input.value", text)
            headers: dict[str, str] = {}
            propagate.inject(headers)
            yield headers, answer
            span.set_attribute("output.value", "".join(answer))
            span.set_status(trace.StatusCode.OK)


def chat_loop(client: openai.OpenAI, turns: Turns, texts: list[str], stream: bool) -> None:
    """A scripted tool loop on chat completions, each answer sent back as
    the SDK gives it (a stream added up)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    tools = [{"type": "function", "function": TOOL}]
    for text in texts:
        messages.append({"role": "user", "content": text})
        with turns.turn(text) as (headers, answer):
            for _ in range(8):
                message = _chat_call(client, messages, tools, stream, headers)
                messages.append(message)
                if not message.get("tool_calls"):
                    answer.append(message.get("content") or "")
                    break
                for tc in message["tool_calls"]:
                    city = json.loads(tc["function"]["arguments"])["city"]
                    messages.append({"role": "tool", "tool_call_id": tc["id"], "content": weather(city)})


def _chat_call(
    client: openai.OpenAI, messages: list[dict[str, Any]], tools: list[Any], stream: bool, headers: dict[str, str]
) -> dict[str, Any]:
    if not stream:
        resp = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, extra_headers=headers)
        return resp.choices[0].message.model_dump(exclude_none=True, exclude={"refusal", "annotations"})
    return streamed_message(
        client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, stream=True, extra_headers=headers)
    )


def messages_loop(client: anthropic.Anthropic, turns: Turns, texts: list[str]) -> None:
    """The same loop on the Messages API, with Claude Code's session
    header and metadata."""
    session, device = str(uuid.uuid4()), uuid.uuid4().hex + uuid.uuid4().hex
    user_id = json.dumps({"device_id": device, "account_uuid": "", "session_id": session})
    tool = {"name": TOOL["name"], "description": TOOL["description"], "input_schema": TOOL["parameters"]}
    messages: list[dict[str, Any]] = []
    for text in texts:
        messages.append({"role": "user", "content": text})
        with turns.turn(text) as (headers, answer):
            for _ in range(8):
                resp = client.messages.create(
                    model="claude-sonnet-4-6",
                    max_tokens=1024,
                    system=SYSTEM,
                    messages=messages,
                    tools=[tool],
                    metadata={"user_id": user_id},
                    extra_headers={"X-Claude-Code-Session-Id": session, **headers},
                )
                messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in resp.content]})
                uses = [b for b in resp.content if b.type == "tool_use"]
                if not uses:
                    answer.append("".join(b.text for b in resp.content if b.type == "text"))
                    break
                messages.append(
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": u.id, "content": weather(u.input["city"])} for u in uses
                        ],
                    }
                )


def turn_tracer(endpoint: str, project: str) -> tuple[Any, Any]:
    """A tracer exporting to Phoenix's OTLP gRPC endpoint, in the project,
    and its provider (to flush)."""
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"openinference.project.name": project}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True)))
    return provider.get_tracer("agents.py"), provider


def main() -> None:
    proxy, project, mode = sys.argv[1:4]
    turns, provider = Turns(mode), None
    if mode == "turn":
        tracer, provider = turn_tracer(sys.argv[4], project)
        turns = Turns(mode, tracer)
    elif mode not in ("call", "shared"):
        sys.exit(f"agents.py: mode {mode!r}: want call, shared or turn")
    headers = {"x-phoenix-project-name": project}
    oa = openai.OpenAI(base_url=f"{proxy}/v1", api_key="sk-fake", max_retries=0, default_headers=headers)
    chat_loop(oa, turns, TURNS, stream=False)
    chat_loop(oa, turns, TURNS[:1], stream=True)
    client = anthropic.Anthropic(base_url=proxy, api_key="sk-ant-fake", max_retries=0, default_headers=headers)
    messages_loop(client, turns, TURNS)
    if provider is not None:
        provider.shutdown()


if __name__ == "__main__":
    main()
