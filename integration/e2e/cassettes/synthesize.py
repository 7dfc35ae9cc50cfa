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

Calls the proxy translates (an anthropic/ model on /chat/completions) reach
Anthropic as requests the proxy writes, and gemini/ calls reach Gemini's
OpenAI-compatible API with the model renamed, so no recording holds them
either. For each such case of the suite, the request is captured by running
the case's client through the proxy (the built binary) against a local server
that logs what the proxy sends and answers with a recorded answer to the same
question: for Anthropic an answer from integration/testdata/anthropic, as
recorded; for Gemini a recorded OpenAI chat answer given Gemini's model name
and shape.

Claude Code on Bedrock sends requests of its own (its system prompt, its
tools, a session's state) that no recording could match, so the fake provider
answers them, whatever their body, with a cassette their
X-Fake-Cassette-Any-Body header names: a recorded Anthropic stream with a
text answer (oi-stream_message) re-framed as Bedrock's
InvokeModelWithResponseStream sends one, each event a chunk of AWS's event
stream carrying the event's JSON in base64.

LiteLLM's bedrock/ chat calls (tests/test_bedrock_litellm.py) reach Bedrock
as Converse requests the proxy writes. Their cassettes are not captured from
the proxy: each holds the Converse request the proxy must send
(tests/bedrock_chat.py: the recorded request but for the differences it
lists) and the recorded response as it is, so the fake provider's match
checks the proxy's translation against the recording.

They are synthetic, not recorded traffic: the README beside this file says so.
Run from the repo root to regenerate (output is deterministic; nothing leaves
the machine; the proxy must be built, as `make -C integration/e2e build` does):

    integration/e2e/.venv/bin/python integration/e2e/cassettes/synthesize.py
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import struct
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openai
import yaml

HERE = Path(__file__).resolve().parent
RECORDED = HERE.parents[2] / "integration" / "testdata" / "openai" / "cassettes"
# The suite's own modules: the agent it runs (cases) and the cassette reader
# (recorded), so the captured requests are the suite's agent's.
sys.path.insert(0, str(HERE.parent / "tests"))
import bedrock_chat  # noqa: E402
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
    host = url.split("/")[2]
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
        f"        host: {host}\n"
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


# --- Claude on Vertex AI: the AnthropicVertex client's request ------------------


def capture_anthropic_vertex() -> tuple[str, dict[str, Any]]:
    """Runs the suite's AnthropicVertex call (tests/cases.py,
    anthropic_vertex_create) against a local server that answers with
    oi-messages' answer; returns (path, request body) as the pinned
    Anthropic SDK sends them: the model in the path, anthropic_version in
    the body."""
    seen: list[tuple[str, bytes]] = []
    body = compact(json.loads(recorded.interaction(cases.ANTHROPIC_VERTEX_QUESTION)["response"]["body"])).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = cases.Target(root=f"http://127.0.0.1:{server.server_address[1]}", api_key="sk-synthesize", via_proxy=False)
        result = cases.anthropic_vertex_create(target)
    finally:
        server.shutdown()
    assert result["ok"], result
    assert len(seen) == 1, seen
    return seen[0][0], json.loads(seen[0][1])


def anthropic_vertex() -> str:
    """The anthropic-vertex case's call: the request AnthropicVertex sends to
    Vertex AI's :rawPredict (captured twice, which must agree), at Vertex
    AI's URL for the region, with oi-messages' answer as recorded."""
    path, request = capture_anthropic_vertex()
    assert (path, request) == capture_anthropic_vertex(), "AnthropicVertex's requests differ between two runs"
    url = f"https://{cases.ANTHROPIC_VERTEX_REGION}-aiplatform.googleapis.com{path}"
    source = cases.ANTHROPIC_VERTEX_QUESTION
    reply = compact(json.loads(recorded.interaction(source)["response"]["body"]))
    return cassette(source, [interaction(0, request, url, reply, "application/json")])


# --- the README's google-genai snippet ------------------------------------------

README = HERE.parents[2] / "README.md"
GEMINI_README_CASSETTE = "synthetic-gemini-readme"
GEMINI_README_ANSWER = "pa-test_google_model_instructions"  # a recorded answer to its question


def readme_genai_snippet() -> str:
    """The README's google-genai snippet (its "Using it" section's Python
    block that imports google.genai), as tests/test_readme.py runs it."""
    section = README.read_text().split("## Using it", 1)[1].split("\n## ", 1)[0]
    (code,) = [c for c in re.findall(r"```python\n(.*?)```", section, re.S) if "from google import genai" in c]
    return code


def capture_readme_genai() -> tuple[str, dict[str, Any], str]:
    """Runs the README's google-genai snippet, as written but for the
    address, against a local server that answers with the recorded answer;
    returns (path, request body, the answer) as the pinned SDK sends them."""
    seen: list[tuple[str, bytes]] = []
    answer = json.loads(recorded.interaction(GEMINI_README_ANSWER)["response"]["body"])
    model = re.search(r'model="([^"]+)"', readme_genai_snippet()).group(1)
    answer["modelVersion"] = model  # the model the snippet asks for answers
    body = compact(answer).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    code = readme_genai_snippet().replace("http://localhost:4000", f"http://127.0.0.1:{server.server_address[1]}")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GEMINI_API_KEY": "sk-synthesize", "NO_PROXY": "127.0.0.1"}
    try:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr
    assert len(seen) == 1, seen
    return seen[0][0], json.loads(seen[0][1]), body.decode()


def gemini_readme() -> str:
    """The README snippet's call (captured twice, which must agree) with a
    recorded answer to the same question, its modelVersion the snippet's
    model."""
    path, request, reply = capture_readme_genai()
    assert (path, request, reply) == capture_readme_genai(), "the README snippet's requests differ between two runs"
    url = "https://generativelanguage.googleapis.com" + path
    return cassette(GEMINI_README_ANSWER, [interaction(0, request, url, reply, "application/json; charset=UTF-8")])


# --- calls the proxy rewrites: anthropic/ (translated) and gemini/ models -----

ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"
GEMINI_URL = "https://generativelanguage.googleapis.com" + cases.GEMINI_PATH + "/chat/completions"
# Per suite case: the recorded answer its synthetic cassette gives (the
# case's question is that recording's; see cases.translated_bodies and
# cases.gemini_bodies).
TRANSLATED_ANSWERS = {
    "openai-anthropic-chat": "oi-messages",
    "openai-anthropic-stream": "oi-messages_streaming",
    "openai-anthropic-tools": "oi-multiple_tool_calling",
    "litellm-proxy-anthropic-image": "pa-test_image_url_input",
    "litellm-proxy-anthropic-stream": "oi-async_stream_message",
}
GEMINI_ANSWERS = {"openai-gemini": "chat-basic", "litellm-proxy-gemini": "chat-multiturn"}
GEMINI_MODEL_NAME = cases.GEMINI_MODEL.removeprefix("gemini/")


def gemini_answer(source: str) -> str:
    """A recorded OpenAI chat answer in the shape Gemini's OpenAI-compatible
    API answers: its model name, no OpenAI-only members (service_tier,
    system_fingerprint, refusal, annotations, token details), an id of its
    own. Content, finish reason and token counts are the recording's."""
    body = json.loads(recorded.interaction(source)["response"]["body"])
    choices = [
        {
            "finish_reason": c["finish_reason"],
            "index": c["index"],
            "message": {"content": c["message"]["content"], "role": c["message"]["role"]},
        }
        for c in body["choices"]
    ]
    usage = {k: body["usage"][k] for k in ("completion_tokens", "prompt_tokens", "total_tokens")}
    return compact(
        {
            "choices": choices,
            "created": body["created"],
            "id": f"synthetic-gemini-{source}",
            "model": GEMINI_MODEL_NAME,
            "object": "chat.completion",
            "usage": usage,
        }
    )


def answer(case_id: str) -> tuple[str, str, str]:
    """(url, body, content type) of the answer a rewritten case gets."""
    if case_id in GEMINI_ANSWERS:
        return GEMINI_URL, gemini_answer(GEMINI_ANSWERS[case_id]), "application/json"
    source = recorded.interaction(TRANSLATED_ANSWERS[case_id])
    body = source["response"]["body"]
    if recorded.is_stream(TRANSLATED_ANSWERS[case_id]):
        return ANTHROPIC_URL, body, "text/event-stream; charset=utf-8"
    return ANTHROPIC_URL, compact(json.loads(body)), "application/json"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def capture_rewritten() -> dict[str, tuple[str, dict[str, Any]]]:
    """Runs each rewritten case's client through the proxy, whose Anthropic
    and Gemini bases point at a local server that logs each request and
    answers with answer(case); returns per case (path, request body)."""
    seen: list[tuple[str, bytes]] = []
    reply: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
            body = reply["body"].encode()
            self.send_response(200)
            self.send_header("Content-Type", reply["content_type"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    binary = Path(os.environ.get("E2E_BIN") or HERE.parent / ".bin") / "proxy"
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary} is missing: build it first (make -C integration/e2e build)")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "OPENAI_API_BASE": upstream + "/v1",
        "ANTHROPIC_API_BASE": upstream,
        "GEMINI_API_BASE": upstream + cases.GEMINI_PATH,
        "OTEL_SDK_DISABLED": "true",
    }
    proxy = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(root + "/health/readiness", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        out = {}
        target = cases.Target(root=root, api_key="sk-synthesize", via_proxy=True)
        for case_id in [*TRANSLATED_ANSWERS, *GEMINI_ANSWERS]:
            _, reply["body"], reply["content_type"] = answer(case_id)
            seen.clear()
            result = cases.BY_ID[case_id].run(target)
            assert result["ok"], (case_id, result)
            assert len(seen) == 1, (case_id, seen)
            out[case_id] = (seen[0][0], json.loads(seen[0][1]))
        return out
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
        server.shutdown()


def rewritten() -> dict[str, str]:
    """Per synthetic cassette name, its text: the request the proxy sends for
    the case (captured twice, which must agree), the answer(case)."""
    captured = capture_rewritten()
    assert captured == capture_rewritten(), "the proxy's rewritten requests differ between two runs"
    files = {}
    for case_id, (path, request) in captured.items():
        url, body, content_type = answer(case_id)
        assert url.endswith(path), (case_id, path, url)
        source = GEMINI_ANSWERS.get(case_id) or TRANSLATED_ANSWERS[case_id]
        files[cases.BY_ID[case_id].cassette] = cassette(source, [interaction(0, request, url, body, content_type)])
    return files


def event_stream_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One message of AWS's event stream: prelude (total and headers
    length, its CRC32), string headers, payload, the message's CRC32."""
    hb = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v.encode())) + v.encode() for k, v in headers.items()
    )
    prelude = struct.pack(">II", 12 + len(hb) + len(payload) + 4, len(hb))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + hb + payload
    return message + struct.pack(">I", zlib.crc32(message))


def bedrock_claude_code() -> str:
    """synthetic-bedrock-claude-code: oi-stream_message's question as
    AnthropicBedrock sends it to InvokeModelWithResponseStream (the model in
    the path, anthropic_version in the body), and its recorded events (pings
    aside: Bedrock sends none) as Bedrock frames them."""
    source = CLAUDE_CODE_SOURCE
    body = recorded.request_body(source)
    model = body.pop("model")
    body.pop("stream", None)
    body["anthropic_version"] = "bedrock-2023-05-31"
    stream = b"".join(
        event_stream_message(
            {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
            compact({"bytes": base64.b64encode(compact(e).encode()).decode()}).encode(),
        )
        for e in recorded.sse_chunks(source)
        if e.get("type") != "ping"
    )
    url = f"https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.{model}/invoke-with-response-stream"
    req = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False)
    b64 = base64.b64encode(stream).decode()
    lines = "\n".join(" " * 12 + b64[i : i + 76] for i in range(0, len(b64), 76))
    return cassette(
        source,
        [
            "    - id: 0\n"
            "      request:\n"
            "        body: |-\n"
            f"{indent(req, 12)}\n"
            "        headers:\n"
            "            Content-Type:\n"
            "                - application/json\n"
            f"        url: {url}\n"
            "        method: POST\n"
            "      response:\n"
            f"        content_length: {len(stream)}\n"
            "        body: !!binary |\n"
            f"{lines}\n"
            "        headers:\n"
            "            Content-Type:\n"
            "                - application/vnd.amazon.eventstream\n"
            "        status: 200 OK\n"
            "        code: 200\n"
        ],
    )


CLAUDE_CODE_SOURCE = "oi-stream_message"


# --- bedrock/ models through /chat/completions (LiteLLM, USE_LITELLM_PROXY) -----


class _LiteralDumper(yaml.SafeDumper):
    """Writes a string of several lines (a pretty-printed request) as a
    literal block."""


_LiteralDumper.add_representer(
    str,
    lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|" if "\n" in s else None),
)


def bedrock_litellm() -> dict[str, str]:
    """Per synthetic cassette name, its text, for each of
    bedrock_chat.CALLS: the Converse request the proxy must send for the
    call (bedrock_chat.translated_request: the recorded request but for the
    differences it lists), to the recorded URL; the recorded response as it
    is (status, headers, body: JSON, or AWS's binary event stream)."""
    files = {}
    for call in bedrock_chat.CALLS:
        file, _, k = call.source.partition("@")
        with open(recorded.cassette_path(file)) as f:
            source = yaml.safe_load(f)["interactions"][int(k or 0)]
        request = {
            "method": "POST",
            "uri": source["request"]["uri"],
            "headers": {"Content-Type": ["application/json"]},
            "body": json.dumps(call.translated_request(), indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        }
        text = yaml.dump(
            {"interactions": [{"request": request, "response": source["response"]}], "version": 1},
            Dumper=_LiteralDumper,
            sort_keys=False,
            allow_unicode=True,
            width=1000,
        )
        files[call.cassette] = (
            f"# SYNTHETIC: derived from {call.source} ({file}.yaml) by synthesize.py; not recorded traffic.\n" + text
        )
    return files


def main() -> int:
    # Loopback only, whatever the shell's proxy settings.
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    (HERE / "synthetic-chat-streaming-usage.yaml").write_text(streaming_usage())
    (HERE / "synthetic-chat-streaming-tools.yaml").write_text(streaming_tools())
    (HERE / f"{cases.AGENT_CASSETTE}.yaml").write_text(agents_tool_run())
    (HERE / f"{cases.ANTHROPIC_VERTEX_CASSETTE}.yaml").write_text(anthropic_vertex())
    (HERE / f"{GEMINI_README_CASSETTE}.yaml").write_text(gemini_readme())
    (HERE / f"{cases.CLAUDE_CODE_CASSETTE}.yaml").write_text(bedrock_claude_code())
    for name, text in rewritten().items():
        (HERE / f"{name}.yaml").write_text(text)
    for name, text in bedrock_litellm().items():
        (HERE / f"{name}.yaml").write_text(text)
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
