"""The assistant message a streamed chat completion adds up to, as an agent
sends it back as history: shared by the session tests and the README's
screenshot script (integration/screenshots/agents.py)."""

from __future__ import annotations

from typing import Any, Iterable


def streamed_message(chunks: Iterable[Any]) -> dict[str, Any]:
    """Adds up the OpenAI SDK's chunks of one choice: its text, and its tool
    calls by index (ids, names and arguments concatenated)."""
    content, calls = "", {}
    for chunk in chunks:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for tc in delta.tool_calls or []:
            c = calls.setdefault(tc.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
            c["id"] += tc.id or ""
            if tc.function:
                c["function"]["name"] += tc.function.name or ""
                c["function"]["arguments"] += tc.function.arguments or ""
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message
