"""Write the e2e suite's synthetic cassettes, derived from the recorded ones.

The recorded streaming cassettes in integration/testdata/openai/cassettes carry no
usage chunk and no streamed tool calls, so nothing there exercises the proxy's
stream token counts or its tool-call delta accumulation. These two cassettes
fill that gap. Each is built from a recorded response (same ids, model,
content, tool call, usage) re-cut into the chunk shapes OpenAI streams when a
request sets `stream_options.include_usage` (every chunk carries
`"usage": null`, then one last chunk with `"choices": []` and the usage).

They are synthetic, not recorded traffic: the README beside this file says so.
Run from the repo root to regenerate (output is deterministic):

    integration/e2e/.venv/bin/python integration/e2e/cassettes/synthesize.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parents[2] / "integration" / "testdata" / "openai" / "cassettes"


def load(name: str) -> dict[str, Any]:
    with open(RECORDED / f"{name}.yaml") as f:
        return yaml.safe_load(f)["interactions"][0]


def sse(chunks: list[dict[str, Any]]) -> str:
    # Compact JSON as OpenAI sends it; one event per chunk, then [DONE].
    out = "".join(f"data: {json.dumps(c, separators=(',', ':'), ensure_ascii=False)}\n\n" for c in chunks)
    return out + "data: [DONE]\n\n"


def indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else "" for line in text.split("\n"))


def cassette(request_body: dict[str, Any], url: str, response_body: str, source: str) -> str:
    req = json.dumps(request_body, indent=2, sort_keys=True, ensure_ascii=False)
    # go-vcr's layout (yaml.v3 style, 4-space indent), as in the recorded files.
    return (
        "---\n"
        f"# SYNTHETIC: derived from {source}.yaml by synthesize.py; not recorded traffic.\n"
        "version: 2\n"
        "interactions:\n"
        "    - id: 0\n"
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
        "        body: |+\n"
        # `|+` keeps trailing newlines: the body's final "\n\n" is the line
        # break after [DONE] plus one blank line.
        f"{indent(response_body.removesuffix(chr(10) * 2), 12)}\n\n"
        "        headers:\n"
        "            Content-Type:\n"
        "                - text/event-stream; charset=utf-8\n"
        "        status: 200 OK\n"
        "        code: 200\n"
        "        duration: 1s\n"
    )


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
    return cassette(request, src["request"]["url"], sse(chunks), "chat-streaming")


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
    return cassette(request, src["request"]["url"], sse(chunks), "chat-tools")


def main() -> int:
    (HERE / "synthetic-chat-streaming-usage.yaml").write_text(streaming_usage())
    (HERE / "synthetic-chat-streaming-tools.yaml").write_text(streaming_tools())
    # Round-trip check: the files parse and their bodies are what we built.
    for name in ("synthetic-chat-streaming-usage", "synthetic-chat-streaming-tools"):
        with open(HERE / f"{name}.yaml") as f:
            i = yaml.safe_load(f)["interactions"][0]
        json.loads(i["request"]["body"])
        assert i["response"]["body"].endswith("data: [DONE]\n\n"), name
    return 0


if __name__ == "__main__":
    sys.exit(main())
