"""Write the e2e suite's synthetic cassettes, derived from the recorded ones.

The recorded streaming cassettes in integration/testdata/openai/cassettes carry no
usage chunk and no streamed tool calls, so nothing there exercises the proxy's
stream token counts or its tool-call delta accumulation. Two chat cassettes
fill that gap. Each is built from a recorded response (same ids, model,
content, tool call, usage) re-cut into the chunk shapes OpenAI streams when a
request sets `stream_options.include_usage` (every chunk carries
`"usage": null`, then one last chunk with `"choices": []` and the usage).

No recording holds the requests the OpenAI Agents SDK sends, so a third
cassette pairs the requests of the suite's agent run, captured from the
pinned Agents SDK, with the recorded replies of the same conversation
(pa-model_simple_response_with_tool_call in integration/testdata/responses).

They are synthetic, not recorded traffic: the README beside this file says so.
Run from the repo root to regenerate (output is deterministic; nothing leaves
the machine):

    integration/e2e/.venv/bin/python integration/e2e/cassettes/synthesize.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import yaml

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parents[2] / "integration" / "testdata" / "openai" / "cassettes"
# The suite's own modules: the agent it runs (cases) and the cassette reader
# (recorded), so the captured requests are the suite's agent's.
sys.path.insert(0, str(HERE.parent / "tests"))
import cases  # noqa: E402
import recorded  # noqa: E402

AGENT_SOURCE = "pa-model_simple_response_with_tool_call"


def load(name: str) -> dict[str, Any]:
    with open(RECORDED / f"{name}.yaml") as f:
        return yaml.safe_load(f)["interactions"][0]


def compact(v: Any) -> str:
    """JSON as OpenAI sends it."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def sse(chunks: list[dict[str, Any]]) -> str:
    # One event per chunk, then [DONE].
    out = "".join(f"data: {compact(c)}\n\n" for c in chunks)
    return out + "data: [DONE]\n\n"


def indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else "" for line in text.split("\n"))


def interaction(k: int, request_body: dict[str, Any], url: str, response_body: str, content_type: str) -> str:
    req = json.dumps(request_body, indent=2, sort_keys=True, ensure_ascii=False)
    if content_type.startswith("text/event-stream"):
        # `|+` keeps trailing newlines: the body's final "\n\n" is the line
        # break after [DONE] plus one blank line.
        body = f"        body: |+\n{indent(response_body.removesuffix(chr(10) * 2), 12)}\n\n"
    else:
        body = f"        body: |-\n{indent(response_body, 12)}\n"
    # go-vcr's layout (yaml.v3 style, 4-space indent), as in the recorded files.
    return (
        f"    - id: {k}\n"
        "      request:\n"
        "        proto: HTTP/1.1\n"
        "        proto_major: 1\n"
        "        proto_minor: 1\n"
        f"        content_length: {len(req.encode())}\n"
        "        host: api.openai.com\n"
        "        body: |-\n"
        f"{indent(req, 12)}\n"
        "        headers:\n"
        "            Content-Type:\n"
        "                - application/json\n"
        f"        url: {url}\n"
        "        method: POST\n"
        "      response:\n"
        "        proto: HTTP/2.0\n"
        "        proto_major: 2\n"
        "        proto_minor: 0\n"
        f"        content_length: {len(response_body.encode())}\n"
        f"{body}"
        "        headers:\n"
        "            Content-Type:\n"
        f"                - {content_type}\n"
        "        status: 200 OK\n"
        "        code: 200\n"
        "        duration: 1s\n"
    )


def cassette(source: str, interactions: list[str]) -> str:
    return (
        "---\n"
        f"# SYNTHETIC: derived from {source}.yaml by synthesize.py; not recorded traffic.\n"
        "version: 2\n"
        "interactions:\n" + "".join(interactions)
    )


def sse_cassette(request_body: dict[str, Any], url: str, response_body: str, source: str) -> str:
    return cassette(source, [interaction(0, request_body, url, response_body, "text/event-stream; charset=utf-8")])


def streaming_usage() -> str:
    """chat-streaming re-cut with include_usage; usage from chat-basic's reply
    to the same prompt, which is what OpenAI bills for that exchange."""
    src = load("chat-streaming")
    chunks = []
    for event in src["response"]["body"].split("\n\n"):
        data = event.strip().removeprefix("data: ")
        if not data or data == "[DONE]":
            continue
        chunk = json.loads(data)
        chunk["usage"] = None
        chunks.append(chunk)
    last = chunks[-1]
    usage = json.loads(load("chat-basic")["response"]["body"])["usage"]
    chunks.append(
        {
            "id": last["id"],
            "object": "chat.completion.chunk",
            "created": last["created"],
            "model": last["model"],
            "service_tier": last["service_tier"],
            "system_fingerprint": None,
            "choices": [],
            "usage": usage,
            "obfuscation": "e2eUsage",
        }
    )
    request = json.loads(src["request"]["body"])
    # A different prompt than chat-streaming: the fake provider ignores
    # stream_options when matching, so the messages must tell them apart.
    request["messages"][0]["content"] = "Hello again!"
    request["stream_options"] = {"include_usage": True}
    return sse_cassette(request, src["request"]["url"], sse(chunks), "chat-streaming")


def streaming_tools() -> str:
    """chat-tools' reply streamed: the tool call's id and name in the first
    delta, its arguments in several, finish_reason tool_calls, then usage."""
    src = load("chat-tools")
    resp = json.loads(src["response"]["body"])
    call = resp["choices"][0]["message"]["tool_calls"][0]
    head = {
        "id": resp["id"],
        "object": "chat.completion.chunk",
        "created": resp["created"],
        "model": resp["model"],
        "service_tier": resp["service_tier"],
        "system_fingerprint": None,
    }

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, n: int = 0) -> dict[str, Any]:
        c = dict(head)
        c["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        c["usage"] = None
        c["obfuscation"] = f"e2e{n}"
        return c

    chunks = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ],
                "refusal": None,
            }
        )
    ]
    args = call["function"]["arguments"]
    pieces = [args[i : i + 9] for i in range(0, len(args), 9)]
    for n, piece in enumerate(pieces, 1):
        chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, n=n))
    chunks.append(chunk({}, "tool_calls", n=len(pieces) + 1))
    usage_chunk = chunk(None, n=len(pieces) + 2)
    usage_chunk["usage"] = resp["usage"]
    chunks.append(usage_chunk)
    request = json.loads(src["request"]["body"])
    request["stream"] = True
    request["stream_options"] = {"include_usage": True}
    return sse_cassette(request, src["request"]["url"], sse(chunks), "chat-tools")


def agent_reply(k: int, request: dict[str, Any]) -> dict[str, Any]:
    """Recorded reply k of pa-model_simple_response_with_tool_call (the same
    question and tool: first a get_capital call, then the answer), echoing
    the agent's instructions and tools as the API echoes a request's."""
    reply = recorded.final_response(recorded.turn(AGENT_SOURCE, k))
    reply["instructions"] = request["instructions"]
    reply["tools"] = request["tools"]
    return reply


def capture_agent_run() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Runs the suite's agent (tests/cases.py, run_agent) against a local
    server that answers its k-th request with agent_reply(k, request), and
    returns every (request, reply): the requests exactly as this version
    of the Agents SDK sends them."""
    exchanges: list[tuple[dict[str, Any], dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = agent_reply(len(exchanges), request)
            exchanges.append((request, reply))
            body = compact(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    async def go() -> None:
        base = f"http://127.0.0.1:{server.server_address[1]}/v1"
        async with openai.AsyncOpenAI(base_url=base, api_key="sk-synthesize", max_retries=0) as client:
            await cases.run_agent(client)

    try:
        asyncio.run(go())
    finally:
        server.shutdown()
    return exchanges


def agents_tool_run() -> str:
    """The agents case's two model calls: the Agents SDK's requests, captured,
    with pa-model_simple_response_with_tool_call's replies (ids, model, usage
    as recorded). Two runs must send the same requests: one that changed
    from run to run could never match a cassette."""
    exchanges = capture_agent_run()
    assert exchanges == capture_agent_run(), "the Agents SDK's requests differ between two runs"
    url = recorded.interaction(AGENT_SOURCE)["request"]["url"]
    return cassette(
        AGENT_SOURCE,
        [interaction(k, request, url, compact(reply), "application/json") for k, (request, reply) in enumerate(exchanges)],
    )


def main() -> int:
    (HERE / "synthetic-chat-streaming-usage.yaml").write_text(streaming_usage())
    (HERE / "synthetic-chat-streaming-tools.yaml").write_text(streaming_tools())
    (HERE / f"{cases.AGENT_CASSETTE}.yaml").write_text(agents_tool_run())
    # Round-trip check: the files parse and their bodies are what we built.
    for name in ("synthetic-chat-streaming-usage", "synthetic-chat-streaming-tools"):
        with open(HERE / f"{name}.yaml") as f:
            i = yaml.safe_load(f)["interactions"][0]
        json.loads(i["request"]["body"])
        assert i["response"]["body"].endswith("data: [DONE]\n\n"), name
    for k, (request, reply) in enumerate(capture_agent_run()):
        i = recorded.interaction(recorded.turn(cases.AGENT_CASSETTE, k))
        assert json.loads(i["request"]["body"]) == request and json.loads(i["response"]["body"]) == reply, k
    return 0


if __name__ == "__main__":
    sys.exit(main())
