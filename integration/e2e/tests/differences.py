"""Every deliberate difference between the proxy's spans and the official
instrumentors' spans of the same calls, each with its reason. test_oracle.py
compares everything else and fails on any difference not listed here.

Key: (oracle, scope, path).
  oracle  "openai" (openinference-instrumentation-openai), "litellm"
          (openinference-instrumentation-litellm), "anthropic"
          (openinference-instrumentation-anthropic) or "google-genai"
          (openinference-instrumentation-google-genai).
  scope   space-separated words, all of which must hold:
            all        any case
            stream     streaming cases only
            error      cases whose provider answer is an HTTP error
            responses  Responses API calls only (Response spans)
            case:<id>  that case only (every model call of it)
            extra      only where the proxy records something the
                       instrumentor does not (never a missing or unequal value)
            null       only where, inside a JSON value, the instrumentor has a
                       member as null and the proxy has no such member
  path    what differs, as an fnmatch glob. A span attribute is its name
          (llm.token_count.prompt); inside an attribute holding JSON, the path
          continues after '#' with dotted keys and list indexes
          (output.value#usage, output.value#data.0.embedding). Pseudo fields:
          name, span_kind, status_code, status_message, events (the list of
          event names), event:<event name>:<attribute>. A path also covers
          everything beneath it.

NORMALIZED lists the fields that are compared after both sides are put in
one form (a difference of form, not of content), each with its reason.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timezone
from typing import Any, Callable

_CAMEL_RUN = re.compile(r"([A-Z]+)([A-Z][a-z])")
_CAMEL_WORD = re.compile(r"([a-z0-9])([A-Z])")


def snake_case_keys(v: Any) -> Any:
    """v with every object key in snake_case, as the google-genai
    instrumentor converts its SDK's request (its _camel_to_snake, regular
    expressions and all; integration/golden_test.go: snakeCased)."""
    if isinstance(v, dict):
        return {_CAMEL_WORD.sub(r"\1_\2", _CAMEL_RUN.sub(r"\1_\2", k)).lower(): snake_case_keys(x) for k, x in v.items()}
    if isinstance(v, list):
        return [snake_case_keys(x) for x in v]
    return v


def google_json(v: Any) -> Any:
    """A Google request or response (input.value, output.value) in one form:
    keys in snake_case (snake_case_keys), each thought_signature in standard
    base64 (the bytes it encodes, whichever alphabet wrote them), create_time
    as a UTC ISO 8601 time (however it was written)."""
    return _google_values(snake_case_keys(v))


def _google_values(v: Any, key: str | None = None) -> Any:
    if isinstance(v, dict):
        return {k: _google_values(x, k) for k, x in v.items()}
    if isinstance(v, list):
        return [_google_values(x, key) for x in v]
    if isinstance(v, str) and key == "thought_signature":
        try:
            raw = base64.b64decode(v.replace("-", "+").replace("_", "/") + "=" * (-len(v) % 4), validate=True)
        except (binascii.Error, ValueError):
            return v
        return base64.b64encode(raw).decode()
    if isinstance(v, str) and key == "create_time":
        try:
            return datetime.fromisoformat(v).astimezone(timezone.utc).isoformat()
        except ValueError:
            return v
    return v


# (oracle, field) -> (the form both sides are put in, why).
NORMALIZED: dict[tuple[str, str], tuple[Callable[[Any], Any], str]] = {
    ("google-genai", "input.value"): (
        google_json,
        "The proxy records the request as it crossed the wire, in Google's camelCase "
        "(systemInstruction, functionDeclarations); the instrumentor records its SDK's request "
        "dict with every key put in snake_case (README: Google spans). Compared with the "
        "proxy's keys put in snake_case the same way (integration/golden_test.go: googleIO); "
        "every value must be equal.",
    ),
    ("google-genai", "output.value"): (
        google_json,
        "The same for the response: the proxy records the JSON as the API sent it (a stream's, "
        "assembled from its chunks); the instrumentor its SDK's response object, dumped with "
        "snake_case keys. Two values are written as the SDK's types write them: a "
        "thoughtSignature (bytes to the SDK), which google-genai 2.34's dump writes in URL-safe "
        "base64 where the API sent standard base64, and a stream's createTime (a datetime to the "
        "SDK), which the instrumentor writes as Python prints a datetime "
        "('2026-03-21 18:11:55.919086+00:00' for the API's '2026-03-21T18:11:55.919086Z'). They "
        "are compared as the bytes and the time they stand for.",
    ),
}

DIFFERENCES: dict[tuple[str, str, str], str] = {
    # --- against openinference-instrumentation-openai ------------------------
    ("openai", "extra", "llm.provider"): (
        "The proxy knows who hosts the model (its provider routing) and records it; the OpenAI "
        "instrumentor only sets llm.system. OPENINFERENCE.md lists llm.provider."
    ),
    ("openai", "extra", "litellm.call_id"): (
        "The proxy answers every call with LiteLLM's x-litellm-call-id header, as a LiteLLM proxy "
        "does, and records the same id on the call's span, so a caller can find the span of a "
        "call; a client-side instrumentor has no such id."
    ),
    ("openai", "extra", "session.id"): (
        "Session inference (README, \"Sessions\"; issue 20): the proxy puts every call it traces "
        "in a session, the one its history or its Responses chain continues, else a new one, so "
        "that Phoenix's Sessions view groups an agent's calls with no change to the client; an "
        "instrumentor sets session.id only where the application names one (using_session). "
        "test_sessions.py checks the sessions."
    ),
    ("openai", "stream extra", "llm.token_count.*"): (
        "The proxy asks the provider for stream usage (stream_options.include_usage) when the "
        "client did not, so its stream spans have token counts; the instrumentor only has them "
        "when the client asked. Where both have them (openai-stream-usage) they are compared."
    ),
    ("openai", "stream extra", "output.value#usage"): (
        "Same cause: the usage chunk the proxy asked for is part of the response it assembles."
    ),
    ("openai", "error extra", "llm.model_name"): (
        "With no response, the proxy records the requested model (OPENINFERENCE.md: 'the "
        "response's model, else the request's'); the instrumentor records none."
    ),
    ("openai", "error", "event:exception:exception.message"): (
        "The instrumentor's text is str() of the Python SDK's exception, which changes with the "
        "SDK version: openai 1.x gives \"Error code: 404 - {'error': {...}}\" (the shared golden "
        "spans), openai 3.x \"Error code: 404 - <message>\". The proxy serves every client and "
        "writes the golden spans' form; test_spans checks that the provider's message is in it."
    ),
    ("openai", "error", "status_message"): "Follows exception.message (same reason).",
    ("openai", "error", "event:exception:exception.stacktrace"): (
        "A Python traceback of the client SDK; the proxy has no Python stack to report."
    ),
    ("openai", "case:openai-embeddings-sdk-base64", "output.value#data.*.embedding"): (
        "The call does not set encoding_format, so the Python SDK asks for base64 and decodes it "
        "before the instrumentor sees the response (floats); the proxy records the wire response "
        "(base64 strings). The decoded vectors are compared in embedding.embeddings.*.vector."
    ),
    ("openai", "responses null", "llm.tools.*.tool.json_schema"): (
        "The instrumentor writes its SDK's dump of each tool of the response, which adds as null "
        "every member the SDK's types know and the API did not send (allowed_callers, async_, "
        "defer_loading, output_schema with openai 3.57); the proxy writes the tool as the API sent "
        "it. Every member the API sent is compared (integration/golden_test.go: nullAsAbsent)."
    ),
    # --- against openinference-instrumentation-anthropic ---------------------
    ("anthropic", "null", "output.value"): (
        "The instrumentor writes its SDK's dump of the Message, which adds as null every member "
        "the SDK's types know and the API did not send (container, diagnostics, stop_details, "
        "content[].citations, tool_use caller and toolset_name, usage.speed, "
        "usage.server_tool_use, ... with anthropic 1.17); the proxy writes the message as the "
        "API sent it (a stream's, assembled from its events). Every member the API sent is "
        "compared (integration/golden_test.go: nullAsAbsent)."
    ),
    ("anthropic", "extra", "litellm.call_id"): "As for the OpenAI instrumentor.",
    ("anthropic", "extra", "session.id"): "As for the OpenAI instrumentor.",
    ("anthropic", "stream", "events"): (
        "The Anthropic instrumentor records no First Token Stream Event; the proxy records one "
        "on every stream, when the first token reaches the client (test_spans checks it)."
    ),
    ("anthropic", "case:anthropic-stream-helper", "input.value#stream"): (
        "The instrumentor records the helper's arguments, which have no stream (the helper "
        "adds it to the request); the proxy records the request body, which has \"stream\": true."
    ),
    ("anthropic", "case:anthropic-stream-helper-async", "input.value#stream"): "As for anthropic-stream-helper.",
    # --- against openinference-instrumentation-anthropic: Claude on Vertex AI --
    ("anthropic", "case:anthropic-vertex", "input.value#model"): (
        "The instrumentor records the arguments of messages.create, the model among them; the "
        "AnthropicVertex client moves the model into the URL (.../publishers/anthropic/models/"
        "{model}:rawPredict) and the proxy records the body as it was sent, which has none. The "
        "model is compared in llm.model_name."
    ),
    ("anthropic", "case:anthropic-vertex extra", "input.value#anthropic_version"): (
        "AnthropicVertex adds anthropic_version (Vertex AI's way of naming the API version) to "
        "the body it sends; the arguments the instrumentor records have none."
    ),
    # --- against openinference-instrumentation-google-genai -----------------
    # input.value and output.value are compared in one form (NORMALIZED).
    ("google-genai", "extra", "litellm.call_id"): "As for the OpenAI instrumentor.",
    ("google-genai", "extra", "session.id"): "As for the OpenAI instrumentor.",
    ("google-genai", "stream", "events"): (
        "The google-genai instrumentor records no First Token Stream Event; the proxy records "
        "one on every stream, when the first token reaches the client (test_spans checks it)."
    ),
    ("google-genai", "error", "event:exception:exception.stacktrace"): (
        "A Python traceback of the client SDK; the proxy has no Python stack to report."
    ),
    ("google-genai", "all", "output.value#sdk_http_response"): (
        "The SDK adds sdk_http_response (the HTTP headers it received) to the response object "
        "the instrumentor dumps; it is no part of the API's answer, which the proxy records."
    ),
    ("google-genai", "all", "output.value#automatic_function_calling_history"): (
        "The SDK's record of its automatic function calling (an empty list when it ran none), "
        "added to the response object by the SDK; no part of the API's answer."
    ),
    ("google-genai", "extra", "output.value#usage_metadata.service_tier"): (
        "The API sends usageMetadata.serviceTier, which google-genai 2.34's types do not know, "
        "so the response it parses, and the instrumentor's dump of it, lack it; the proxy "
        "records what the API sent (integration/golden_test.go: googleIO drops it too)."
    ),
    ("google-genai", "case:genai-instructions-async", "name"): (
        "The instrumentor names the async client's calls AsyncGenerateContent and "
        "AsyncGenerateContentStream. The async client's requests are the sync client's, byte "
        "for byte and header for header (google-genai 2.34), so the proxy cannot tell them "
        "apart: it names both GenerateContent / GenerateContentStream."
    ),
    ("google-genai", "case:genai-stream-async", "name"): "As for genai-instructions-async.",
    # --- against openinference-instrumentation-litellm -----------------------
    # Only what LiteLLM's span records is compared (never the proxy's extras).
    # LiteLLM's span describes its *function call*; the proxy's, like the OpenAI
    # instrumentor's, describes the *HTTP request*, so the fields that describe
    # the call itself differ by design:
    ("litellm", "all", "name"): (
        "LiteLLM names spans after its function (completion, acompletion); the proxy uses the "
        "OpenAI instrumentor's names (ChatCompletion, Completion, CreateEmbeddings)."
    ),
    ("litellm", "all", "input.value"): (
        "LiteLLM records only {messages} (or the embedding input text); the proxy records the "
        "whole request body it received."
    ),
    ("litellm", "all", "input.mime_type"): "Follows input.value.",
    ("litellm", "all", "output.value"): (
        "LiteLLM records the assistant text or its own response object; the proxy records the "
        "provider's response JSON."
    ),
    ("litellm", "all", "output.mime_type"): "Follows output.value.",
    ("litellm", "all", "llm.model_name"): (
        "LiteLLM records the caller's model string (openai/gpt-5-nano); the proxy, like the "
        "OpenAI instrumentor, records the model that answered (gpt-5-nano-2025-08-07)."
    ),
    ("litellm", "all", "embedding.model_name"): "As llm.model_name.",
    ("litellm", "all", "llm.invocation_parameters"): (
        "LiteLLM's include its client settings (api_base, max_retries, the provider-prefixed "
        "model); the proxy records the parameters of the request it received."
    ),
    ("litellm", "all", "embedding.invocation_parameters"): "As llm.invocation_parameters.",
    ("litellm", "all", "llm.cost.*"): (
        "LiteLLM prices calls from its bundled cost map; Phoenix computes cost itself from model "
        "name and token counts (OPENINFERENCE.md: cost is optional)."
    ),
    ("litellm", "error", "event:exception:*"): (
        "LiteLLM raises its own exception classes and wraps the provider's message in its text "
        "(litellm.NotFoundError: ... OpenAIException - ...); the proxy sees the provider's HTTP error."
    ),
    ("litellm", "error", "status_message"): "Follows exception.message.",
    ("litellm", "stream", "events"): (
        "LiteLLM's instrumentor records no First Token Stream Event; the proxy does, as the "
        "OpenAI instrumentor (compared there)."
    ),
}
