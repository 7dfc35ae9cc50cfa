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

import yaml

E2E = Path(__file__).resolve().parents[1]
REPO = E2E.parents[1]
# The recorded traffic: the repository's own, or the tree FIXTURES_DIR names.
FIXTURES = Path(os.environ.get("FIXTURES_DIR") or (REPO / "integration" / "testdata")).resolve()
RECORDED_DIR = FIXTURES / "openai" / "cassettes"
SYNTHETIC_DIR = E2E / "cassettes"


def cassette_path(name: str) -> Path:
    for d in (SYNTHETIC_DIR, RECORDED_DIR):
        p = d / f"{name}.yaml"
        if p.exists():
            return p
    raise FileNotFoundError(f"no cassette {name}.yaml in {SYNTHETIC_DIR} or {RECORDED_DIR}")


@functools.lru_cache(maxsize=None)
def interaction(name: str) -> dict[str, Any]:
    with open(cassette_path(name)) as f:
        return yaml.safe_load(f)["interactions"][0]


def request_body(name: str) -> dict[str, Any]:
    """The recorded request's JSON body (a fresh copy each call)."""
    return json.loads(interaction(name)["request"]["body"])


def status(name: str) -> int:
    return int(interaction(name)["response"]["code"])


def is_stream(name: str) -> bool:
    ct = interaction(name)["response"]["headers"].get("Content-Type", [""])[0]
    return ct.startswith("text/event-stream")


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
        return Expected(error=json.loads(interaction(name)["response"]["body"]).get("error"))
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
