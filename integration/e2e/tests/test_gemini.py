"""Google through the proxy, as a user sees it.

- The google-genai SDK on the Gemini API (/v1beta/models/{model}:generateContent,
  :streamGenerateContent) and on Vertex AI (/vertex_ai/v1beta1/projects/...):
  the caller gets the recorded answer (test_calls.py compares the whole
  summary; here a few answers are also written out by hand), and the span is a
  GenerateContent / GenerateContentStream LLM span naming Google and the model
  that answered, with the system instruction and contents as input messages
  (function calls as tool calls, function responses as tool messages), the
  answer's text, thoughts and function calls as the output message, the
  function declarations as tools, the generation config as invocation
  parameters and the token counts (thoughts counted in the completion).
  test_oracle.py compares every field with
  openinference-instrumentation-google-genai's span of the same call.
- Phoenix prices the calls whose model its price table knows (Google's and
  Claude on Vertex AI's). Claude on Vertex AI's span is test_anthropic.py's
  (a messages.create span).

Expectations come from the recorded requests and answers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import cases
import phoenix_api
import recorded
from differences import snake_case_keys
from test_anthropic import assert_priced
from test_spans import attr, parsed, the_span

GOOGLE = [c for c in cases.CALLS if c.api == "gemini"]
GOOGLE_OK = [c for c in GOOGLE if c.status < 400]


def summary(call: cases.Call) -> dict[str, Any]:
    """What the recorded answer says (recorded.genai_summary)."""
    return recorded.genai_summary(recorded.generate_content_chunks(call.cassette))


def _message(s: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The attributes of one message (llm.input_messages.N.message...), by
    the rest of their names."""
    return {k[len(prefix) + 1 :]: v for k, v in s["attributes"].items() if k.startswith(prefix + ".")}


def texts(m: dict[str, Any]) -> tuple[str | None, str | None]:
    """(text, reasoning) of a message's attributes: its content, or its
    contents' text and reasoning parts, joined."""
    if "content" in m:
        return m["content"], None
    out: dict[str, str] = {}
    for j in range(len(m)):
        kind = m.get(f"contents.{j}.message_content.type")
        if kind is None:
            break
        out[kind] = out.get(kind, "") + m.get(f"contents.{j}.message_content.text", "")
    return out.get("text"), out.get("reasoning")


# --- what the caller got --------------------------------------------------------

# A few answers as a reader of the recordings would write them down.
ANSWERS = {
    "genai-generate-content": {"text": "Hello! How can I help you today?"},
    "genai-instructions-async": {"text": "The capital of France is Paris.\n"},
    "genai-tools": {"function_calls": [{"id": None, "name": "get_weather", "args": {"location": "San Francisco"}}]},
    "genai-function-response": {
        "text": "The weather in San Francisco is foggy with a temperature of 65 degrees Fahrenheit and 85% humidity."
    },
    "genai-stream-tools": {
        "function_calls": [
            {"id": None, "name": "get_weather", "args": {"location": "Boston"}},
            {"id": None, "name": "get_weather", "args": {"location": "New Delhi"}},
        ]
    },
    "genai-stream-async": {"text": "The capital of France is Paris.\n"},
    "genai-vertex": {"text": "The capital of France is Paris.\n"},
    "genai-vertex-stream": {"text": "OK"},
}


@pytest.mark.parametrize("case_id", sorted(ANSWERS))
def test_sdk_answer(case_id, proxy_calls):
    got = proxy_calls[case_id]["result"]
    assert got["ok"], f"{case_id}: the call failed through the proxy: {got}"
    for k, want in ANSWERS[case_id].items():
        assert got[k] == want, f"{case_id}: {k}"


def test_sdk_tool_round_trip(proxy_calls):
    """The model asks for get_user_country, gets Mexico, answers with final_result."""
    got = proxy_calls["genai-tool-round-trip"]["result"]
    assert got["ok"], got
    first, second = got["turns"]
    assert [(c["name"], c["args"]) for c in first["function_calls"]] == [("get_user_country", {})]
    assert [(c["name"], c["args"]) for c in second["function_calls"]] == [
        ("final_result", {"city": "Mexico City", "country": "Mexico"})
    ]


def test_sdk_thoughts(proxy_calls):
    """Thought parts reach the caller as thoughts, apart from the answer."""
    got = proxy_calls["genai-thinking-stream"]["result"]
    assert got["ok"], got
    assert got["thoughts"].startswith("**Defining the Narrative Parameters**")
    assert got["text"].startswith("Here is a cozy, calming bedtime story")
    assert got["usage"]["thoughtsTokenCount"] == 713


def test_sdk_error(proxy_calls):
    """Google's 404 reaches the SDK as Google sent it (a ClientError)."""
    got = proxy_calls["genai-error"]["result"]
    assert got == {
        "ok": False,
        "status": 404,
        "status_name": "NOT_FOUND",
        "message": recorded.genai_result("pa-test_model_name_suggestion-google")["message"],
    }


# --- the span -------------------------------------------------------------------


@pytest.mark.parametrize("call", GOOGLE_OK, ids=lambda c: c.id)
def test_generate_content_span(call, proxy_spans):
    s = the_span(proxy_spans, call)
    want = summary(call)
    assert attr(s, "llm.provider") == "google"
    assert "llm.system" not in s["attributes"], "OpenInference has no llm.system for Google's API"
    assert attr(s, "llm.model_name") == want["model_version"], "llm.model_name is the model that answered"
    u = want["usage"]
    assert attr(s, "llm.token_count.prompt") == u["promptTokenCount"]
    assert attr(s, "llm.token_count.completion") == (u["candidatesTokenCount"] or 0) + (u["thoughtsTokenCount"] or 0), (
        "the completion counts the thoughts too"
    )
    assert attr(s, "llm.token_count.total") == u["totalTokenCount"]
    if u["thoughtsTokenCount"]:
        assert attr(s, "llm.token_count.completion_details.reasoning") == u["thoughtsTokenCount"]
    assert attr(s, "llm.finish_reason") == want["finish_reason"]
    assert attr(s, "output.mime_type") == "application/json"
    if not call.stream:
        assert parsed(attr(s, "output.value")) == json.loads(recorded.interaction(call.cassette)["response"]["body"]), (
            "output.value is the response as the API sent it"
        )
    else:
        out = parsed(attr(s, "output.value"))
        assert out["responseId"] == want["response_id"] and out["modelVersion"] == want["model_version"], (
            "output.value is the stream's response, assembled"
        )


@pytest.mark.parametrize("call", GOOGLE_OK, ids=lambda c: c.id)
def test_generate_content_messages(call, proxy_spans):
    """The system instruction and each content as input messages (a function
    response as a tool message of its own), the answer as the output message."""
    s = the_span(proxy_spans, call)
    body = call.request_body()
    i = 0
    if "systemInstruction" in body:
        m = _message(s, "llm.input_messages.0.message")
        assert m["role"] == "system"
        assert m["content"] == "".join(p["text"] for p in body["systemInstruction"]["parts"])
        i = 1
    for content in body["contents"]:
        responses = [p["functionResponse"] for p in content["parts"] if "functionResponse" in p]
        for r in responses:
            m = _message(s, f"llm.input_messages.{i}.message")
            assert m["role"] == "tool"
            assert m["name"] == r["name"]
            assert m["tool_call_id"] == r["id"]
            assert parsed(m["content"]) == r["response"]
            i += 1
        if responses:
            continue
        m = _message(s, f"llm.input_messages.{i}.message")
        assert m["role"] == content["role"]
        text = "".join(p["text"] for p in content["parts"] if "text" in p)
        if text:
            assert texts(m)[0] == text
        calls = [p["functionCall"] for p in content["parts"] if "functionCall" in p]
        for k, fc in enumerate(calls):
            q = f"tool_calls.{k}.tool_call"
            assert m[f"{q}.function.name"] == fc["name"]
            assert m[f"{q}.id"] == fc["id"]
            if fc["args"]:  # no arguments, no attribute (as the instrumentor records them)
                assert parsed(m[f"{q}.function.arguments"]) == fc["args"]
        i += 1
    assert f"llm.input_messages.{i}.message.role" not in s["attributes"], "one input message per content"

    want = summary(call)
    m = _message(s, "llm.output_messages.0.message")
    assert m["role"] == "model"
    assert texts(m) == (want["text"], want["thoughts"])
    for k, fc in enumerate(want["function_calls"]):
        q = f"tool_calls.{k}.tool_call"
        assert m[f"{q}.function.name"] == fc["name"]
        if fc["args"]:
            assert parsed(m[f"{q}.function.arguments"]) == fc["args"]
    assert f"tool_calls.{len(want['function_calls'])}.tool_call.function.name" not in m


@pytest.mark.parametrize("call", GOOGLE, ids=lambda c: c.id)
def test_generate_content_tools_and_parameters(call, proxy_spans):
    """Each function declaration is a tool, and the generation config the
    invocation parameters, in snake_case as the instrumentor records them."""
    s = the_span(proxy_spans, call)
    body = call.request_body()
    declarations = [d for tool in body.get("tools") or [] for d in tool.get("functionDeclarations") or []]
    for k, d in enumerate(declarations):
        assert parsed(attr(s, f"llm.tools.{k}.tool.json_schema")) == snake_case_keys(d)
    assert f"llm.tools.{len(declarations)}.tool.json_schema" not in s["attributes"]
    if body.get("generationConfig"):
        assert parsed(attr(s, "llm.invocation_parameters")) == snake_case_keys(body["generationConfig"])
    else:
        assert "llm.invocation_parameters" not in s["attributes"]


# --- what Phoenix makes of it ---------------------------------------------------

PRICEABLE = [*GOOGLE_OK, *[c for c in cases.CALLS if c.client == "anthropic-vertex"]]


def answered_model(call: cases.Call) -> str:
    if call.api == "gemini":
        return summary(call)["model_version"]
    return recorded.anthropic_message(call.cassette)["model"]


@pytest.mark.parametrize("call", PRICEABLE, ids=lambda c: c.id)
def test_phoenix_prices_the_call(call, stack, proxy_spans):
    """Phoenix knows the model by the name the span gives it and prices the
    call from its token counts, where its price table has the model (read
    through its GraphQL API: its REST API returns no cost)."""
    model = answered_model(call)
    if not phoenix_api.prices_model(model):
        pytest.skip(f"the pinned Phoenix's price table has no {model}")
    assert_priced(stack, the_span(proxy_spans, call))
