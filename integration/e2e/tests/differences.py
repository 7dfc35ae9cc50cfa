"""Every deliberate difference between the proxy's spans and the official
instrumentors' spans of the same calls, each with its reason. test_oracle.py
compares everything else and fails on any difference not listed here.

Key: (oracle, scope, path).
  oracle  "openai" (openinference-instrumentation-openai), "litellm"
          (openinference-instrumentation-litellm), "anthropic"
          (openinference-instrumentation-anthropic), "google-genai"
          (openinference-instrumentation-google-genai) or "bedrock"
          (openinference-instrumentation-bedrock).
  scope   space-separated words, all of which must hold:
            all        any case
            stream     streaming cases only
            error      cases whose provider answer is an HTTP error
            responses  Responses API calls only (Response spans)
            claude-invoke  Bedrock InvokeModel calls (plain or streamed) with
                       Claude's Messages body (anthropic_version)
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

import ast
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


def _py_bytes_as_base64(v: Any) -> Any:
    """v with every Python bytes literal (b'...', as the bedrock
    instrumentor writes binary content into its JSON) in standard base64,
    as the API's JSON carries the same bytes."""
    if isinstance(v, dict):
        return {k: _py_bytes_as_base64(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_py_bytes_as_base64(x) for x in v]
    if isinstance(v, str) and len(v) > 2 and v[0] == "b" and v[1] in "'\"" and v[-1] == v[1]:
        try:
            raw = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v
        if isinstance(raw, bytes):
            return base64.b64encode(raw).decode()
    return v


def bedrock_messages(v: Any) -> Any:
    """A Bedrock request (input.value) as the bedrock instrumentor records
    Converse's and Nova's: the JSON of its messages, binary content in
    base64. Claude's Messages body (anthropic_version), which both record
    whole, is left as it is."""
    if isinstance(v, dict) and isinstance(v.get("messages"), list) and "anthropic_version" not in v:
        v = v["messages"]
    return _py_bytes_as_base64(v)


def bedrock_output_message(v: Any) -> Any:
    """A Converse or Nova answer (output.value) as the instrumentor records
    it: its output.message alone. Claude's Message is left as it is."""
    if isinstance(v, dict) and isinstance(v.get("output"), dict) and "message" in v["output"]:
        return v["output"]["message"]
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
    ("bedrock", "input.value"): (
        bedrock_messages,
        "On Converse, ConverseStream and Nova's InvokeModel the proxy records the request body as "
        "it was sent, as on every API (spans/bedrock.go): what else the body holds (toolChoice, "
        "guardrailConfig, promptVariables, Nova's schemaVersion) has no attribute of its own. The "
        "instrumentor records the JSON of the body's messages alone, a document's or an image's "
        "bytes as a Python bytes literal (b'...'). Compared: the proxy's messages member against "
        "the instrumentor's value, its bytes literals read as base64 (integration/spans "
        "bedrockDiffs: diffProjected \"messages\"); the system prompt, inferenceConfig and "
        "toolConfig are compared in the attributes both record from them (input messages, "
        "invocation parameters, tools). Claude's Messages body both record whole.",
    ),
    ("bedrock", "output.value"): (
        bedrock_output_message,
        "On Converse, ConverseStream and Nova's InvokeModel the proxy records the whole answer (a "
        "stream's assembled in the shape of Converse's); the instrumentor its output.message "
        "alone. Compared: the proxy's output.message against the instrumentor's value "
        "(bedrockDiffs: diffProjected \"output.message\"); stopReason and usage are compared in "
        "llm.finish_reason and the token counts; metrics and a guardrail's trace, which the "
        "instrumentor records nowhere, only the proxy keeps.",
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
        "The proxy puts every call in a Phoenix session with no setting (package sessions, README "
        "\"Sessions\"): the id a client sends (Claude Code's, Codex's, …), a Responses chain's, or "
        "one inferred from the conversation's history (a new one for a new conversation); an "
        "in-process instrumentor records session.id only where the caller sets it."
    ),
    ("openai", "extra", "user.id"): "As session.id: the user a client names (Claude Code's account or device).",
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
    ("anthropic", "extra", "user.id"): "As for the OpenAI instrumentor.",
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
    ("google-genai", "extra", "user.id"): "As for the OpenAI instrumentor.",
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
    # --- against openinference-instrumentation-bedrock ----------------------
    # input.value and output.value of Converse and Nova are compared on what
    # both record (NORMALIZED). The rest follows integration/spans'
    # bedrockDiffs (spans/bedrock_test.go), where the golden spans the same
    # instrumentor made are compared key by key.
    ("bedrock", "extra", "litellm.call_id"): "As for the OpenAI instrumentor.",
    ("bedrock", "extra", "session.id"): "As for the OpenAI instrumentor.",
    ("bedrock", "extra", "user.id"): "As for the OpenAI instrumentor.",
    ("bedrock", "stream", "events"): (
        "The bedrock instrumentor records no First Token Stream Event; the proxy records one on "
        "every stream (ConverseStream, InvokeModelWithResponseStream), when the first token "
        "reaches the client (test_spans checks it)."
    ),
    ("bedrock", "error", "event:exception:exception.stacktrace"): (
        "A Python traceback of boto3; the proxy has no client stack to report."
    ),
    ("bedrock", "claude-invoke", "llm.output_messages.*"): (
        "Claude's answer on InvokeModel is mapped as Anthropic's Messages API is on /v1/messages "
        "spans: every content block a part with its type (a lone text too, where the "
        "instrumentor's Claude mapping writes message.content), each tool_use a tool call and a "
        "tool_use part; the instrumentor's stream mapping writes parts with no type "
        "(bedrockDiffs: the output messages of the claude families)."
    ),
    ("bedrock", "claude-invoke stream", "llm.input_messages.*"): (
        "Claude's request on InvokeModelWithResponseStream is mapped as Anthropic's Messages "
        "API is (and as the instrumentor maps it on InvokeModel): parts with their type, a "
        "string content (the system's too) as message.content, each tool_result a tool message "
        "of its own with its tool_call_id. The instrumentor's stream mapping writes parts with "
        "no type and one tool message without ids for a message's results, so its messages "
        "after the first tool result are shifted by one."
    ),
    ("bedrock", "claude-invoke stream", "output.value#content.*.input"): (
        "The Message the stream's events make up: the proxy parses each tool_use's streamed "
        "input JSON into the object the API means (as Anthropic's SDKs accumulate it); the "
        "instrumentor's accumulator keeps it as the JSON text."
    ),
    ("bedrock", "claude-invoke stream null", "output.value"): (
        "The instrumentor's accumulator adds as null the members the stream did not send "
        "(citations, cache token counts); the proxy writes what the events hold. Every member "
        "the stream sent is compared."
    ),
    ("bedrock", "claude-invoke stream extra", "output.value#amazon-bedrock-invocationMetrics"): (
        "Bedrock's invocation metrics (token counts, latencies) ride on the stream's last "
        "event; the proxy keeps them in the message it assembles, the instrumentor drops them."
    ),
    ("bedrock", "claude-invoke extra", "llm.token_count.total"): (
        "Prompt plus completion, as the Messages mapping records it on /v1/messages spans; the "
        "instrumentor's Claude mapping records no total."
    ),
    ("bedrock", "claude-invoke extra", "llm.response.model_name"): (
        "The model that answered (the Message's model), as the Messages mapping records it."
    ),
    ("bedrock", "claude-invoke extra", "llm.request.model_name"): (
        "The model the path names, as the Messages mapping records the request's (on Vertex AI "
        "too, where the Anthropic instrumentor records it)."
    ),
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
