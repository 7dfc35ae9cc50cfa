"""Agent loops that send no session field at all show up in Phoenix's
sessions view, one session per conversation, with one trace per model call.

The loops run against the fake provider in its conversation mode
(`fakeprovider -conversation`: a recording cannot answer requests that grow
with each answer), which calls the request's first tool while the request
holds fewer tool results than its "[tools: N]" asks for, then answers. The
sessions are read back through Phoenix's REST API
(`GET /v1/projects/{name}/sessions`), as its Sessions view shows them."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Iterator

import pytest

import phoenix_api
from chat_stream import streamed_message
from conftest import API_KEY, ARTIFACTS, BIN, start_proxy
from processes import Service, base_env

SYSTEM = "You are a weather agent. Always use the tools you have."
QUESTION = "What is the weather in Paris? [tools: 3]"
CALLS = 4  # three tool calls, then the answer
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"18°C and sunny in {city}"


@pytest.fixture(scope="module")
def proxy(stack) -> Iterator[str]:
    """A proxy in front of the fake provider's conversation mode."""
    fake = Service(
        "fakeprovider-conversation",
        [str(BIN / "fakeprovider"), "-addr", "127.0.0.1:0", "-conversation"],
        base_env(),
        ARTIFACTS / "fakeprovider-conversation.log",
    )
    fake_url = fake.wait_log_line(r"listening on (http://127\.0\.0\.1:\d+)", timeout=30).group(1)
    svc, url = start_proxy("proxy-sessions", fake_url, stack.grpc, "e2e-sessions")
    try:
        yield url
    finally:
        svc.stop()
        fake.stop()


def _check_sessions(stack, project: str, want: int) -> list[dict[str, Any]]:
    """The project's sessions once Phoenix holds every call's trace: `want`
    of them, each a UUID session id with one trace per call."""
    got = phoenix_api.wait_for_sessions(stack.phoenix, project, traces=want * CALLS)
    (ARTIFACTS / f"sessions-{project}.json").write_text(json.dumps(got, indent=2, default=str))
    shape = sorted(len(s["traces"]) for s in got)
    assert shape == [CALLS] * want, f"sessions' trace counts {shape}; want {want} sessions of {CALLS} traces: {got}"
    for s in got:
        assert UUID.match(s["session_id"]), s["session_id"]
    spans = phoenix_api.spans(stack.phoenix, project)
    by_trace = {s["context"]["trace_id"]: s for s in spans}
    for s in got:
        for t in s["traces"]:
            span = by_trace[t["trace_id"]]
            assert span["attributes"].get("session.id") == s["session_id"], span["attributes"]
    return got


def test_agents_sdk_loop(stack, proxy):
    """The OpenAI Agents SDK (Responses API, a function tool, no session
    field): each run is one session; a second run with the same
    instructions and question is a second one."""
    import openai
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

    project = "e2e-sessions-agents"
    set_tracing_disabled(True)  # the SDK's own export goes to OpenAI

    async def run() -> Any:
        client = openai.AsyncOpenAI(
            base_url=f"{proxy}/v1", api_key=API_KEY, max_retries=0, default_headers={"x-phoenix-project-name": project}
        )
        async with client:
            agent = Agent(
                name="Weather",
                instructions=SYSTEM,
                model=OpenAIResponsesModel(model="gpt-4o", openai_client=client),
                tools=[function_tool(get_weather)],
            )
            return await Runner.run(agent, QUESTION)

    results = [asyncio.run(run()) for _ in range(2)]
    for r in results:
        assert len(r.raw_responses) == CALLS, [x.output for x in r.raw_responses]
        assert r.final_output.startswith("Answer "), r.final_output
    _check_sessions(stack, project, want=2)


def _chat_loop(client: Any, stream: bool) -> None:
    """A scripted tool loop with the OpenAI SDK's chat completions, each
    answer sent back as the SDK gives it (streams added up)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    tools = [{"type": "function", "function": WEATHER_TOOL}]
    for _ in range(CALLS):
        if stream:
            message = streamed_message(
                client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools, stream=True)
            )
        else:
            resp = client.chat.completions.create(model="gpt-4o", messages=messages, tools=tools)
            message = resp.choices[0].message.model_dump(exclude_none=True)
        messages.append(message)
        if not message.get("tool_calls"):
            return
        for tc in message["tool_calls"]:
            city = json.loads(tc["function"]["arguments"])["city"]
            messages.append({"role": "tool", "tool_call_id": tc["id"], "content": get_weather(city)})
    raise AssertionError(f"no answer after {CALLS} calls: {messages}")


def _messages_loop(client: Any) -> None:
    """The same loop with the Anthropic SDK's Messages API."""
    tool = {"name": WEATHER_TOOL["name"], "description": WEATHER_TOOL["description"], "input_schema": WEATHER_TOOL["parameters"]}
    messages: list[dict[str, Any]] = [{"role": "user", "content": QUESTION}]
    for _ in range(CALLS):
        resp = client.messages.create(model="claude-sonnet-4-5", max_tokens=256, system=SYSTEM, messages=messages, tools=[tool])
        messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in resp.content]})
        uses = [b for b in resp.content if b.type == "tool_use"]
        if not uses:
            return
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": u.id, "content": get_weather(u.input["city"])} for u in uses],
            }
        )
    raise AssertionError(f"no answer after {CALLS} calls: {messages}")


def test_scripted_tool_loops(stack, proxy):
    """Scripted tool loops with the OpenAI SDK (whole answers, then
    streams) and the Anthropic SDK, no session field: one session each,
    the two OpenAI loops apart though they share the system prompt and
    the first message."""
    import anthropic
    import openai

    project = "e2e-sessions-scripted"
    headers = {"x-phoenix-project-name": project}
    oa = openai.OpenAI(base_url=f"{proxy}/v1", api_key=API_KEY, max_retries=0, default_headers=headers)
    _chat_loop(oa, stream=False)
    _chat_loop(oa, stream=True)
    _messages_loop(anthropic.Anthropic(base_url=proxy, api_key=API_KEY, max_retries=0, default_headers=headers))
    _check_sessions(stack, project, want=3)
