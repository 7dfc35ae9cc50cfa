"""Recorded Bedrock Converse calls as OpenAI chat completions calls: the
calls test_bedrock_litellm.py makes with LiteLLM (USE_LITELLM_PROXY, model
`bedrock/<model id>`), and the Converse request the proxy must send for
each, from which cassettes/synthesize.py writes the synthetic cassettes the
fake provider answers them with.

Each call reproduces one recorded Converse or ConverseStream call: its
messages, tools and settings are the recorded request's in OpenAI's terms
(`chat_request`), and the Converse request the proxy must send is the
recorded one but for what the translation does differently, each listed in
`translated_request` with its reason. The answer is the recorded one.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import recorded

# A document's media type, by the format Converse names it with.
DOCUMENT_TYPES = {"txt": "text/plain", "pdf": "application/pdf", "csv": "text/csv", "md": "text/markdown", "html": "text/html"}
CACHE_CONTROL = {"type": "ephemeral"}


@dataclass(frozen=True)
class BedrockChatCall:
    id: str
    source: str  # the recorded call (NAME, or NAME@K for a later interaction)

    @property
    def model_id(self) -> str:
        return recorded.bedrock_url(self.source)[0]

    @property
    def model(self) -> str:
        """The model as a LiteLLM caller names it."""
        return "bedrock/" + self.model_id

    @property
    def stream(self) -> bool:
        return recorded.bedrock_url(self.source)[1] == "converse-stream"

    @property
    def status(self) -> int:
        return recorded.status(self.source)

    @property
    def cassette(self) -> str:
        """The synthetic cassette that answers the call."""
        return f"synthetic-bedrock-litellm-{self.id}"

    @property
    def path(self) -> str:
        """Where the proxy sends the translated call, unescaped."""
        model, operation = recorded.bedrock_url(self.source)
        return f"/model/{model}/{operation}"

    def chat_request(self) -> dict[str, Any]:
        """The recorded request as OpenAI chat completions arguments."""
        return chat_request(recorded.request_body(self.source))

    def translated_request(self) -> dict[str, Any]:
        return translated_request(recorded.request_body(self.source))


CALLS = [
    # Nova's plain text answer, with a system prompt.
    BedrockChatCall("nova", "pa-test_bedrock_model"),
    # A tool call (Devstral), the tool declared with its JSON schema.
    BedrockChatCall("tools", "oi-test_converse_tool_use_message"),
    # Nova's tool call, its reasoning in <thinking> tags before it, with
    # tool_choice auto and temperature 0.
    BedrockChatCall("tools-thinking", "pa-test_bedrock_model_retry"),
    # Nova's text, streamed, with temperature 0.
    BedrockChatCall("stream", "pa-test_bedrock_model_stream"),
    # Nova's reasoning (in <thinking> tags) and a call of one of two tools,
    # streamed, with top_p.
    BedrockChatCall("stream-tools-thinking", "pa-test_bedrock_model_iter_stream"),
    # Claude 3 Haiku's tool call, streamed.
    BedrockChatCall("stream-tools", "oi-TestConverseStream.test_invoke_tool_message"),
    # The conversation after that call: the assistant's text and tool call,
    # the tool's result; the answer streamed.
    BedrockChatCall("stream-tool-result", "oi-TestConverseStream.test_invoke_tool_response_message"),
    # Claude Sonnet 4.5 with cache points after the system prompt, the tools
    # and two user parts (one after a text document), sent twice: the first
    # answer wrote the prefix to the cache, the second read it.
    BedrockChatCall("cache-write", "pa-test_bedrock_cache_write_and_read"),
    BedrockChatCall("cache-read", "pa-test_bedrock_cache_write_and_read@1"),
    # Bedrock's 400 for a model id it does not know, on Converse and on
    # ConverseStream.
    BedrockChatCall("error", "pa-test_bedrock_error"),
    BedrockChatCall("stream-error", "pa-test_bedrock_streaming_error"),
]
BY_ID = {c.id: c for c in CALLS}


# --- Converse -> OpenAI ----------------------------------------------------------


def _parts(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Converse content blocks as an OpenAI message's content: one text as
    a string, else parts (a document as a file part with a data URL), a
    cachePoint as cache_control on the part before it."""
    if len(blocks) == 1 and set(blocks[0]) == {"text"}:
        return blocks[0]["text"]
    parts: list[dict[str, Any]] = []
    for b in blocks:
        if "text" in b:
            parts.append({"type": "text", "text": b["text"]})
        elif "document" in b:
            d = b["document"]
            url = f"data:{DOCUMENT_TYPES[d['format']]};base64,{d['source']['bytes']}"
            parts.append({"type": "file", "file": {"file_data": url}})
        elif "cachePoint" in b:
            parts[-1]["cache_control"] = dict(CACHE_CONTROL)
        else:
            raise ValueError(f"no OpenAI content part for the Converse block {sorted(b)}")
    return parts


def chat_request(converse: dict[str, Any]) -> dict[str, Any]:
    """A Converse request as the OpenAI chat completions request that means
    it: the system blocks as a system message, each user message's
    toolResult blocks as tool messages, the assistant's toolUse blocks as
    tool_calls, toolSpecs as function tools (a cachePoint after one as its
    cache_control), toolChoice as tool_choice, inferenceConfig as OpenAI's
    sampling settings. A member with no OpenAI counterpart is an error."""
    known = {"messages", "system", "inferenceConfig", "toolConfig"}
    if set(converse) - known:
        raise ValueError(f"members with no OpenAI counterpart: {sorted(set(converse) - known)}")
    messages: list[dict[str, Any]] = []
    if converse.get("system"):
        messages.append({"role": "system", "content": _parts(converse["system"])})
    for m in converse["messages"]:
        blocks = m["content"]
        if m["role"] == "user":
            for b in blocks:
                if "toolResult" in b:
                    r = b["toolResult"]
                    messages.append({"role": "tool", "tool_call_id": r["toolUseId"], "content": "".join(c["text"] for c in r["content"])})
            rest = [b for b in blocks if "toolResult" not in b]
            if rest:
                messages.append({"role": "user", "content": _parts(rest)})
            continue
        out: dict[str, Any] = {"role": "assistant", "content": "".join(b["text"] for b in blocks if "text" in b) or None}
        calls = [
            {
                "id": b["toolUse"]["toolUseId"],
                "type": "function",
                "function": {"name": b["toolUse"]["name"], "arguments": json.dumps(b["toolUse"]["input"])},
            }
            for b in blocks
            if "toolUse" in b
        ]
        if calls:
            out["tool_calls"] = calls
        messages.append(out)
    req: dict[str, Any] = {"messages": messages}
    config = converse.get("toolConfig")
    if config:
        tools: list[dict[str, Any]] = []
        for t in config["tools"]:
            if "cachePoint" in t:
                tools[-1]["cache_control"] = dict(CACHE_CONTROL)
                continue
            spec = t["toolSpec"]
            fn = {"name": spec["name"], "parameters": spec["inputSchema"]["json"]}
            if "description" in spec:
                fn["description"] = spec["description"]
            tools.append({"type": "function", "function": fn})
        req["tools"] = tools
        choice = config.get("toolChoice")
        if choice:
            (kind, v), = choice.items()
            req["tool_choice"] = {"auto": "auto", "any": "required"}.get(kind) or {"type": "function", "function": {"name": v["name"]}}
    names = {"temperature": "temperature", "topP": "top_p", "maxTokens": "max_tokens", "stopSequences": "stop"}
    for k, v in (converse.get("inferenceConfig") or {}).items():
        req[names[k]] = v
    return req


# --- what the proxy sends ----------------------------------------------------------


def translated_request(converse: dict[str, Any]) -> dict[str, Any]:
    """The Converse request the proxy must send for chat_request(converse):
    the recorded one, but
    - an empty system or inferenceConfig is left out (Converse reads an
      absent one as empty; the recording's client sent them empty);
    - a toolSpec with no description has its name as description
      (LiteLLM's default: Converse refuses an empty one);
    - a document is named as LiteLLM names a file part's document, for its
      content's hash (OpenAI's file part carries no name Converse takes);
      the name is LiteLLM's own function's."""
    want = copy.deepcopy(converse)
    for k in ("system", "inferenceConfig"):
        if k in want and not want[k]:
            del want[k]
    for t in (want.get("toolConfig") or {}).get("tools", []):
        if "toolSpec" in t:
            t["toolSpec"].setdefault("description", t["toolSpec"]["name"])
    for m in want["messages"]:
        for b in m["content"]:
            if "document" in b:
                d = b["document"]
                d["name"] = litellm_document_name(d["source"]["bytes"], d["format"])
    return want


def litellm_document_name(data: str, format: str) -> str:
    """The name LiteLLM gives a document it sends Bedrock."""
    from litellm.litellm_core_utils.prompt_templates.factory import BedrockImageProcessor

    return BedrockImageProcessor._create_bedrock_block(data, DOCUMENT_TYPES[format], format)["document"]["name"]
