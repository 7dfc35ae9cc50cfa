"""The cassettes the fake provider replays, read the way a test needs them:
the request a case must send, and what its caller and its span should show.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

E2E = Path(__file__).resolve().parents[1]
REPO = E2E.parents[1]
# The recorded traffic: the repository's own, or the tree FIXTURES_DIR names.
FIXTURES = Path(os.environ.get("FIXTURES_DIR") or (REPO / "integration" / "testdata")).resolve()
RECORDED_DIR = FIXTURES / "openai" / "cassettes"
RESPONSES_DIR = FIXTURES / "responses" / "cassettes"
ANTHROPIC_DIR = FIXTURES / "anthropic" / "cassettes"
GEMINI_DIR = FIXTURES / "gemini" / "cassettes"
BEDROCK_DIR = FIXTURES / "bedrock" / "cassettes"
SYNTHETIC_DIR = E2E / "cassettes"
# Where two directories hold a cassette of the same name, the first's is the
# one read (and served: conftest.cassette_dir): Bedrock's
# pa-test_image_url_input is Anthropic's.
CASSETTE_DIRS = (SYNTHETIC_DIR, RECORDED_DIR, RESPONSES_DIR, ANTHROPIC_DIR, GEMINI_DIR, BEDROCK_DIR)


def cassette_path(name: str) -> Path:
    for d in CASSETTE_DIRS:
        p = d / f"{name}.yaml"
        if p.exists():
            return p
    raise FileNotFoundError(f"no cassette {name}.yaml in {', '.join(map(str, CASSETTE_DIRS))}")


def turn(name: str, k: int) -> str:
    """The name the fake provider gives interaction k of cassette `name`:
    the first is NAME, a later one NAME@K."""
    return name if k == 0 else f"{name}@{k}"


@functools.lru_cache(maxsize=None)
def interaction(name: str) -> dict[str, Any]:
    """Interaction NAME (the first) or NAME@K of a cassette, in go-vcr's
    shape whichever dialect it was recorded in."""
    file, _, k = name.partition("@")
    with open(cassette_path(file)) as f:
        return _go_vcr(yaml.safe_load(f)["interactions"][int(k or 0)])


def _go_vcr(it: dict[str, Any]) -> dict[str, Any]:
    """A vcrpy interaction (request.uri, body or parsed_body; response.status.code,
    body.string or parsed_body) read as the fake provider reads it
    (fakeprovider.LoadAll): a parsed body is sent as its JSON, and a response
    without a Content-Type gets the one its body shows."""
    req, resp = it["request"], it["response"]
    if "code" in resp:
        return it  # go-vcr already
    body = json.dumps(req["parsed_body"]) if "parsed_body" in req else req.get("body") or ""
    rbody = json.dumps(resp["parsed_body"]) if "parsed_body" in resp else resp["body"]["string"]
    ct = next((v[0] for k, v in (resp.get("headers") or {}).items() if k.lower() == "content-type"), None)
    if ct is None:
        if isinstance(rbody, bytes):  # !!binary: an AWS event stream
            ct = EVENT_STREAM
        else:
            ct = "text/event-stream" if rbody.startswith(("event:", "data:")) else "application/json"
    return {
        "request": {"method": req["method"], "url": req["uri"], "body": body},
        "response": {"code": resp["status"]["code"], "body": rbody, "headers": {"Content-Type": [ct]}},
    }


def request_body(name: str) -> dict[str, Any]:
    """The recorded request's JSON body (a fresh copy each call)."""
    return json.loads(interaction(name)["request"]["body"])


def status(name: str) -> int:
    return int(interaction(name)["response"]["code"])


# AWS's binary event stream: Bedrock's streamed answers.
EVENT_STREAM = "application/vnd.amazon.eventstream"


def is_stream(name: str) -> bool:
    ct = interaction(name)["response"]["headers"].get("Content-Type", [""])[0]
    return ct.startswith(("text/event-stream", EVENT_STREAM))


def sse_chunks(name: str) -> list[dict[str, Any]]:
    chunks = []
    for event in interaction(name)["response"]["body"].split("\n\n"):
        for line in event.splitlines():
            if line.startswith("data:"):
                data = line[len("data:") :].strip()
                if data and data != "[DONE]":
                    chunks.append(json.loads(data))
    return chunks


@dataclass
class Expected:
    """What the caller gets back, assembled from the recorded response."""

    model: str | None = None
    content: list[str | None] = field(default_factory=list)  # per choice (chat)
    texts: list[str] = field(default_factory=list)  # per choice (legacy completions)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # choice 0
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    vectors: list[list[float]] = field(default_factory=list)  # embeddings, decoded
    error: dict[str, Any] | None = None


def decode_vector(v: Any) -> list[float]:
    if isinstance(v, str):
        raw = base64.b64decode(v)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return [float(x) for x in v]


@functools.lru_cache(maxsize=None)
def expected(name: str) -> Expected:
    if status(name) >= 400:
        body = json.loads(interaction(name)["response"]["body"])
        # Bedrock's error body is {"message": ...} itself.
        return Expected(error=body.get("error") or ({"message": body["message"]} if "message" in body else None))
    if is_stream(name):
        return _expected_stream(name)
    body = json.loads(interaction(name)["response"]["body"])
    e = Expected(model=body.get("model"), usage=body.get("usage"))
    if body.get("object") == "list":  # embeddings
        e.vectors = [decode_vector(d["embedding"]) for d in body["data"]]
        return e
    for choice in body["choices"]:
        if "message" in choice:
            e.content.append(choice["message"].get("content"))
        else:
            e.texts.append(choice["text"])
    first = body["choices"][0]
    e.finish_reason = first.get("finish_reason")
    e.tool_calls = (first.get("message") or {}).get("tool_calls") or []
    return e


def _expected_stream(name: str) -> Expected:
    e = Expected()
    content: dict[int, str] = {}
    texts: dict[int, str] = {}
    calls: dict[int, dict[str, Any]] = {}
    for chunk in sse_chunks(name):
        e.model = chunk.get("model") or e.model
        if chunk.get("usage"):
            e.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            i = choice.get("index", 0)
            if choice.get("finish_reason") and i == 0:
                e.finish_reason = choice["finish_reason"]
            if "text" in choice:
                texts[i] = texts.get(i, "") + choice["text"]
                continue
            delta = choice.get("delta") or {}
            if delta.get("content") is not None:
                content[i] = content.get(i, "") + delta["content"]
            if i == 0:
                for tc in delta.get("tool_calls") or []:
                    acc = calls.setdefault(tc["index"], {"function": {"name": "", "arguments": ""}})
                    if tc.get("id"):
                        acc["id"] = tc["id"]
                    if tc.get("type"):
                        acc["type"] = tc["type"]
                    fn = tc.get("function") or {}
                    acc["function"]["name"] += fn.get("name") or ""
                    acc["function"]["arguments"] += fn.get("arguments") or ""
    e.content = [content[i] for i in sorted(content)]
    e.texts = [texts[i] for i in sorted(texts)]
    e.tool_calls = [calls[i] for i in sorted(calls)]
    return e


# --- the Responses API ----------------------------------------------------------


def final_response(name: str) -> dict[str, Any]:
    """The Response object a recorded call ends with: the JSON body, or the
    response of a stream's response.completed event."""
    if not is_stream(name):
        return json.loads(interaction(name)["response"]["body"])
    return next(c["response"] for c in reversed(sse_chunks(name)) if c.get("type") == "response.completed")


def output_text(response: dict[str, Any]) -> str:
    """What the SDKs' Response.output_text gives: the text of every
    output_text part of every message item, joined."""
    return "".join(
        part["text"]
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


def response_result(name: str) -> dict[str, Any]:
    """The summary cases.py makes of a Responses API call whose caller got
    the recorded answer: the final response as sent, its text, and for a
    stream the number of events."""
    final = final_response(name)
    out: dict[str, Any] = {"ok": True, "response": final, "output_text": output_text(final)}
    if is_stream(name):
        out["events"] = len(sse_chunks(name))
    return out


# --- Anthropic's Messages API ---------------------------------------------------


def is_messages_api(name: str) -> bool:
    """Whether the recorded call went to Anthropic's Messages API."""
    return urlsplit(interaction(name)["request"]["url"]).path.endswith("/v1/messages")


def anthropic_message(name: str) -> dict[str, Any]:
    """The Message a recorded Messages API call answered: the JSON body, or
    the message a stream's events build (message_start, content blocks and
    their deltas, message_delta), as the SDKs accumulate it."""
    if not is_stream(name):
        return json.loads(interaction(name)["response"]["body"])
    acc = MessageAccumulator()
    for event in sse_chunks(name):
        acc.add(event)
    return acc.message


class MessageAccumulator:
    """Builds a Message from Messages API stream events (dicts)."""

    def __init__(self) -> None:
        self.message: dict[str, Any] = {}
        self.text = ""  # every text delta, joined (the SDK helper's text_stream)
        self._json: dict[int, str] = {}

    def add(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            self.message = json.loads(json.dumps(event["message"]))
        elif kind == "content_block_start":
            self.message["content"].append(json.loads(json.dumps(event["content_block"])))
        elif kind == "content_block_delta":
            block, delta = self.message["content"][event["index"]], event["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
                self.text += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                self._json[event["index"]] = self._json.get(event["index"], "") + delta["partial_json"]
            elif delta["type"] == "citations_delta":
                block.setdefault("citations", []).append(delta["citation"])
        elif kind == "content_block_stop":
            if event["index"] in self._json:
                self.message["content"][event["index"]]["input"] = json.loads(self._json[event["index"]] or "{}")
        elif kind == "message_delta":
            self.message.update({k: v for k, v in event["delta"].items() if k in ("stop_reason", "stop_sequence")})
            self.message["usage"].update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})


# --- Google's generateContent (the Gemini API, Vertex AI) ------------------------


def is_generate_content(name: str) -> bool:
    """Whether the recorded call is Google's generateContent or
    streamGenerateContent (on the Gemini API or Vertex AI)."""
    return urlsplit(interaction(name)["request"]["url"]).path.endswith((":generateContent", ":streamGenerateContent"))


def google_url(name: str) -> dict[str, str]:
    """What a recorded generateContent URL names: the model, and on Vertex
    AI the API version, project and location
    (/v1beta1/projects/P/locations/L/publishers/google/models/M:method)."""
    path = urlsplit(interaction(name)["request"]["url"]).path
    out = {"model": path.rsplit("/", 1)[1].split(":")[0]}
    parts = path.strip("/").split("/")
    if len(parts) > 4 and parts[1] == "projects" and parts[3] == "locations":
        out.update(version=parts[0], project=parts[2], location=parts[4])
    return out


def generate_content_chunks(name: str) -> list[dict[str, Any]]:
    """The GenerateContentResponse objects a recorded call answered: the
    JSON body, or each event of a stream."""
    if is_stream(name):
        return sse_chunks(name)
    return [json.loads(interaction(name)["response"]["body"])]


def genai_summary(responses: list[dict[str, Any]]) -> dict[str, Any]:
    """What a google-genai caller reads of an answer (one response, or a
    stream's chunks in order), from the wire JSON: candidate 0's text and
    thought text (joined over the chunks), its function calls, the last
    finish reason, usage, model version and response id. cases.py makes the
    same summary of the SDK's objects."""
    s: dict[str, Any] = {"text": None, "thoughts": None, "function_calls": [], "finish_reason": None, "usage": None}
    for r in responses:
        s["model_version"] = r.get("modelVersion", s.get("model_version"))
        s["response_id"] = r.get("responseId", s.get("response_id"))
        if r.get("usageMetadata"):
            u = r["usageMetadata"]
            s["usage"] = {k: u.get(k) for k in GENAI_USAGE}
        for c in (r.get("candidates") or [])[:1]:
            s["finish_reason"] = c.get("finishReason") or s["finish_reason"]
            for p in (c.get("content") or {}).get("parts") or []:
                if "text" in p:
                    key = "thoughts" if p.get("thought") else "text"
                    s[key] = (s[key] or "") + p["text"]
                if "functionCall" in p:
                    fc = p["functionCall"]
                    s["function_calls"].append({"id": fc.get("id"), "name": fc["name"], "args": fc.get("args")})
    return s


# The usage a summary keeps (usageMetadata's camelCase names).
GENAI_USAGE = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount", "totalTokenCount")


def genai_result(name: str) -> dict[str, Any]:
    """The summary cases.py makes of a google-genai call whose caller got the
    recorded answer (a stream's: with its number of chunks), or of its error."""
    if status(name) >= 400:
        e = json.loads(interaction(name)["response"]["body"])["error"]
        return {"ok": False, "status": e["code"], "status_name": e["status"], "message": e["message"]}
    chunks = generate_content_chunks(name)
    out = {"ok": True, **genai_summary(chunks)}
    if is_stream(name):
        out["chunks"] = len(chunks)
    return out


# --- AWS Bedrock Runtime ----------------------------------------------------------


def is_bedrock(name: str) -> bool:
    """Whether the recorded call went to Bedrock Runtime (/model/{id}/...)."""
    return urlsplit(interaction(name)["request"]["url"]).path.startswith("/model/")


def bedrock_url(name: str) -> tuple[str, str]:
    """(model id, operation) of a recorded Bedrock Runtime call: the path's
    modelId unescaped (us.amazon.nova-micro-v1:0, an inference profile's
    ARN) and converse | converse-stream | invoke | invoke-with-response-stream."""
    from urllib.parse import unquote

    _, model, operation = urlsplit(interaction(name)["request"]["url"]).path.rsplit("/", 2)
    return unquote(model), operation


def _response_bytes(name: str) -> bytes:
    body = interaction(name)["response"]["body"]
    return body if isinstance(body, bytes) else body.encode()


def event_stream(name: str) -> list[tuple[str, dict[str, Any]]]:
    """The messages of a recorded AWS event stream, in order: (event type,
    payload JSON), decoded with botocore's own event-stream reader."""
    from botocore.eventstream import EventStreamBuffer

    buf = EventStreamBuffer()
    buf.add_data(_response_bytes(name))
    return [(m.headers.get(":event-type", ""), json.loads(m.payload or b"{}")) for m in buf]


def bedrock_json(name: str) -> dict[str, Any]:
    """A recorded Bedrock Runtime answer that is not a stream (Converse's,
    InvokeModel's model body, an error)."""
    return json.loads(interaction(name)["response"]["body"])


def invoke_stream_events(name: str) -> list[dict[str, Any]]:
    """The model's own events an InvokeModelWithResponseStream answer
    carries: each chunk's bytes (base64 in the wire's JSON), as JSON."""
    return [json.loads(base64.b64decode(p["bytes"])) for kind, p in event_stream(name) if kind == "chunk"]


class ConverseAccumulator:
    """What a Converse caller reads of an answer, from a whole answer
    (`answer`) or a ConverseStream's events (`add`, as {type: payload}):
    the text, reasoning and tool uses of the output message, the stop
    reason, the token counts. cases.py builds the same from boto3's
    objects."""

    USAGE = ("inputTokens", "outputTokens", "totalTokens", "cacheReadInputTokens", "cacheWriteInputTokens")

    def __init__(self) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}
        self.stop_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    def answer(self, a: dict[str, Any]) -> None:
        for i, block in enumerate(a["output"]["message"]["content"]):
            b = self.blocks.setdefault(i, {})
            if "text" in block:
                b["text"] = block["text"]
            if "reasoningContent" in block and "reasoningText" in block["reasoningContent"]:
                b["reasoning"] = block["reasoningContent"]["reasoningText"].get("text")
            if "toolUse" in block:
                t = block["toolUse"]
                b["tool_use"] = {"id": t["toolUseId"], "name": t["name"], "input": t["input"]}
        self.stop_reason = a.get("stopReason")
        self._usage(a.get("usage"))

    def add(self, event: dict[str, Any]) -> None:
        (kind, p), = event.items()
        if kind == "contentBlockStart" and "toolUse" in p.get("start", {}):
            t = p["start"]["toolUse"]
            self.blocks.setdefault(p["contentBlockIndex"], {})["tool_use"] = {"id": t["toolUseId"], "name": t["name"], "input": ""}
        elif kind == "contentBlockDelta":
            b, d = self.blocks.setdefault(p["contentBlockIndex"], {}), p["delta"]
            if "text" in d:
                b["text"] = b.get("text", "") + d["text"]
            if "reasoningContent" in d and "text" in d["reasoningContent"]:
                b["reasoning"] = b.get("reasoning", "") + d["reasoningContent"]["text"]
            if "toolUse" in d:
                b["tool_use"]["input"] += d["toolUse"]["input"]
        elif kind == "contentBlockStop":
            t = self.blocks.get(p["contentBlockIndex"], {}).get("tool_use")
            if t and isinstance(t["input"], str):
                t["input"] = json.loads(t["input"] or "{}")
        elif kind == "messageStop":
            self.stop_reason = p.get("stopReason")
        elif kind == "metadata":
            self._usage(p.get("usage"))

    def _usage(self, u: dict[str, Any] | None) -> None:
        if u is not None:
            self.usage = {k: u[k] for k in self.USAGE if k in u}

    def result(self) -> dict[str, Any]:
        return {
            "ok": True,
            "content": [self.blocks[i] for i in sorted(self.blocks)],
            "stop_reason": self.stop_reason,
            "usage": self.usage,
        }


def converse_result(name: str) -> dict[str, Any]:
    """The summary cases.py makes of a Converse or ConverseStream call whose
    caller got the recorded answer (a stream's: with its number of events)."""
    acc = ConverseAccumulator()
    if not is_stream(name):
        acc.answer(bedrock_json(name))
        return acc.result()
    events = event_stream(name)
    for kind, payload in events:
        payload.pop("p", None)  # the padding Bedrock adds to each event
        acc.add({kind: payload})
    return {**acc.result(), "events": len(events)}


def invoke_result(name: str) -> dict[str, Any]:
    """The summary cases.py makes of an InvokeModel call that got the
    recorded answer (the model's body as JSON), or of an
    InvokeModelWithResponseStream call (the model's events)."""
    if is_stream(name):
        return {"ok": True, "events": invoke_stream_events(name)}
    return {"ok": True, "body": bedrock_json(name)}


def bedrock_message(name: str) -> dict[str, Any]:
    """The Message a recorded Claude InvokeModel call answered: the body, or
    the message the stream's events build."""
    if not is_stream(name):
        return bedrock_json(name)
    acc = MessageAccumulator()
    for event in invoke_stream_events(name):
        acc.add(event)
    return acc.message
