"""Google's own clients and LiteLLM's Google providers through the proxy,
end to end, as a user runs them.

- Gemini CLI (@google/gemini-cli, pinned in node/package.json) in
  non-interactive mode (`gemini -p`), set up as LiteLLM documents it for a
  gateway (GOOGLE_GEMINI_BASE_URL = the proxy, GEMINI_API_KEY = the key),
  with telemetry, usage statistics and auto-update off and a HOME of its own.
  It exits 0 and prints the recorded answer; each call it makes (its model
  router's classifier call, then the streamed answer) is one
  GenerateContent / GenerateContentStream span in Phoenix naming Google and
  the model that answered, with the prompt in its input messages, the
  answer, the token counts; the key is in no span.
- LiteLLM 1.110.2 with USE_LITELLM_PROXY=True calling `vertex_ai/<gemini>`
  and `gemini/<model>` with `api_base` = the proxy, plain and streamed:
  LiteLLM sends OpenAI's format to the proxy's /chat/completions with the
  model as given; the proxy translates both to generateContent (Vertex AI's
  under VERTEXAI_PROJECT, the Gemini API's for gemini/: the README's Gemini
  section says why) and back. The caller gets the recorded answer; the span
  is a ChatCompletion span naming Google and the model that answered, with
  the token counts LiteLLM counts (thoughts in the completion), which
  Phoenix prices.

Neither client's requests can equal a recording byte for byte (the CLI's
prompt carries the date and its working directory; the translated ones are
the proxy's), so these calls go to a fake provider of their own, started
here, whose `-any-body` routes answer each path with one named recording
(the answer to the same question where the client asks one) and log each
request they answer; the suite's shared fake keeps replaying byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

import cases
import phoenix_api
import recorded
from conftest import API_KEY, ARTIFACTS, _binary, cassette_dir, start_proxy
from processes import Service, base_env
from test_anthropic import assert_priced
from test_gemini import texts

PROJECT = "e2e-google-clients"
# The Vertex AI project and location of the proxy's vertex_ai/ calls.
VERTEX_PROJECT, VERTEX_LOCATION = "e2e-google-project", "us-central1"
GEMINI_CLI = cases.NODE_DIR / "node_modules" / ".bin" / "gemini"


def vertex_path(model: str, method: str) -> str:
    return f"/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_LOCATION}/publishers/google/models/{model}:{method}"


# --- Gemini CLI -------------------------------------------------------------------
# The pinned CLI's default model is "auto": its router first asks its
# flash-lite model to classify the prompt (generateContent), then streams
# the answer from the model the router picked. The classifier's call asks
# for structured output (a JSON schema); it gets a recorded structured
# answer of another schema (a city and its country), which the router
# cannot read, so it falls back to its default (pro) model at once, as it
# does whenever Google's classification does not parse. (An answer that is
# no JSON at all would be retried five times, with back-off.)
CLI_PROMPT = "What is the capital of France?"
CLI_CLASSIFIER = ("/v1beta/models/gemini-3.5-flash-lite:generateContent", "pa-test_google_native_output")
CLI_ANSWER = ("/v1beta/models/gemini-3.1-pro-preview:streamGenerateContent", "pa-test_google_model_stream")

# Gemini CLI's settings (~/.gemini/settings.json): nothing leaves the machine
# (no usage statistics, telemetry, update check or ripgrep download), the
# key is a Gemini API key.
CLI_SETTINGS = {
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "tools": {"useRipgrep": False},
}


# --- LiteLLM with USE_LITELLM_PROXY ------------------------------------------------


@dataclass(frozen=True)
class LiteLLMCall:
    id: str
    model: str  # as the caller names it, with LiteLLM's prefix
    cassette: str  # the recorded answer; its question is the call's
    path: str  # where the proxy sends the translated call

    @property
    def stream(self) -> bool:
        return recorded.is_stream(self.cassette)

    def messages(self) -> list[dict[str, str]]:
        """The recorded request's system instruction and user turns, as chat
        messages."""
        body = recorded.request_body(self.cassette)
        out = []
        if "systemInstruction" in body:
            out.append({"role": "system", "content": "".join(p["text"] for p in body["systemInstruction"]["parts"])})
        for c in body["contents"]:
            assert c["role"] == "user"
            out.append({"role": "user", "content": "".join(p["text"] for p in c["parts"])})
        return out

    def answer(self) -> dict[str, Any]:
        return recorded.genai_summary(recorded.generate_content_chunks(self.cassette))


LITELLM_CALLS = [
    LiteLLMCall(
        "vertex",
        "vertex_ai/gemini-2.0-flash",
        "pa-test_google_model_vertex_provider",
        vertex_path("gemini-2.0-flash", "generateContent"),
    ),
    LiteLLMCall(
        "vertex-stream",
        "vertex_ai/gemini-3-flash-preview",
        "pa-test_google_vertex_service_tier_flex_stream",
        vertex_path("gemini-3-flash-preview", "streamGenerateContent"),
    ),
    LiteLLMCall("gemini", "gemini/gemini-2.5-flash", "pa-test_google_model", "/v1beta/models/gemini-2.5-flash:generateContent"),
    LiteLLMCall(
        "gemini-stream",
        "gemini/gemini-2.0-flash",
        "oi-streaming_text_content",
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
    ),
]

FINISH_REASONS = {"STOP": "stop", "MAX_TOKENS": "length"}


def any_body_routes() -> list[tuple[str, str]]:
    return [CLI_CLASSIFIER, CLI_ANSWER, *[(c.path, c.cassette) for c in LITELLM_CALLS]]


# --- the stack ----------------------------------------------------------------------


@dataclass
class GoogleStack:
    proxy: str
    fake_log: Path


@pytest.fixture(scope="module")
def google(stack) -> Iterator[GoogleStack]:
    """A fake provider with the any-body routes above, and a proxy in front
    of it whose GEMINI_API_BASE is the Gemini API's root (so gemini/ models
    are translated to the native API), with a Vertex AI project, exporting
    to a project of its own."""
    work = stack.work / "google-clients"
    work.mkdir()
    log = ARTIFACTS / "fakeprovider-google.log"
    routes = [a for path, name in any_body_routes() for a in ("-any-body", f"{path}={name}")]
    fake_svc = Service(
        "fakeprovider-google",
        [str(_binary("fakeprovider")), "-addr", "127.0.0.1:0", "-cassettes", str(cassette_dir(work)), "-pace", "2ms", *routes],
        base_env(),
        log,
    )
    fake = fake_svc.wait_log_line(r"listening on (http://127\.0\.0\.1:\d+)", timeout=30).group(1)
    proxy_svc, proxy = start_proxy(
        "proxy-google",
        fake,
        stack.grpc,
        PROJECT,
        GEMINI_API_BASE=fake,
        VERTEXAI_PROJECT=VERTEX_PROJECT,
        VERTEXAI_LOCATION=VERTEX_LOCATION,
    )
    yield GoogleStack(proxy, log)
    proxy_svc.stop()
    fake_svc.stop()


def answered(log: Path) -> list[str]:
    """The paths the fake provider's any-body routes answered, in order."""
    return re.findall(r"any-body route: POST (\S+) ", log.read_text())


def held(stack: Any) -> int:
    """How many spans the project holds now."""
    return len(phoenix_api.spans(stack.phoenix, PROJECT))


def window_spans(stack: Any, window: tuple[float, float], at_least: int) -> list[dict[str, Any]]:
    got = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=at_least)
    return [s for s in got if phoenix_api.in_window(s, list(window))]


attr = phoenix_api.span_attr
messages = phoenix_api.span_messages


# --- Gemini CLI --------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_run(stack, google) -> dict[str, Any]:
    """`gemini -p CLI_PROMPT` through the proxy, in an empty workspace, with
    a HOME of its own."""
    if not os.access(GEMINI_CLI, os.X_OK):
        pytest.fail(f"{GEMINI_CLI} is missing: `make -C integration/e2e deps` installs it")
    home = stack.work / "gemini-cli-home"
    workspace = home / "workspace"
    (home / ".gemini").mkdir(parents=True)
    workspace.mkdir()
    (home / ".gemini" / "settings.json").write_text(json.dumps(CLI_SETTINGS, indent=2))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GOOGLE_GEMINI_BASE_URL": google.proxy,
        "GEMINI_API_KEY": API_KEY,
        # Headless in a directory it has not been told to trust.
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
        # One process (it otherwise starts itself again with a larger heap).
        "GEMINI_CLI_NO_RELAUNCH": "true",
        "NO_COLOR": "1",
        # Anything not on loopback fails at once.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost,::1",
    }
    before = held(stack)
    start = time.time()
    p = subprocess.run(
        [str(GEMINI_CLI), "-p", CLI_PROMPT], cwd=workspace, env=env, capture_output=True, text=True, timeout=120
    )
    end = time.time()
    (ARTIFACTS / "gemini-cli.out").write_text(f"exit {p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
    spans = window_spans(stack, (start, end), at_least=before + 2)
    (ARTIFACTS / "spans-gemini-cli.json").write_text(json.dumps(spans, indent=2, ensure_ascii=False))
    return {"process": p, "spans": spans, "answered": answered(google.fake_log)}


def test_cli_prints_the_recorded_answer(cli_run):
    p = cli_run["process"]
    assert p.returncode == 0, f"gemini exited {p.returncode}: {p.stderr[-2000:]}"
    want = recorded.genai_summary(recorded.generate_content_chunks(CLI_ANSWER[1]))["text"]
    assert p.stdout.strip() == want.strip()


def test_cli_calls_are_the_spans(cli_run):
    """Every call the CLI made (each reached the fake provider, which logged
    it) is one span, in order: the classifier's GenerateContent, then the
    answer's GenerateContentStream."""
    paths = [path for path, _ in (CLI_CLASSIFIER, CLI_ANSWER)]
    assert [a for a in cli_run["answered"] if a in paths] == paths, "the CLI's calls, as the fake provider answered them"
    assert [s["name"] for s in cli_run["spans"]] == ["GenerateContent", "GenerateContentStream"]


@pytest.mark.parametrize("k", [0, 1], ids=["classifier", "answer"])
def test_cli_span(cli_run, k):
    s = cli_run["spans"][k]
    cassette = (CLI_CLASSIFIER, CLI_ANSWER)[k][1]
    want = recorded.genai_summary(recorded.generate_content_chunks(cassette))
    assert s["span_kind"] == "LLM" and s["status_code"] == "OK"
    assert attr(s, "llm.provider") == "google"
    assert attr(s, "llm.model_name") == want["model_version"], "the model that answered"
    inputs = messages(s, "input")
    assert any(CLI_PROMPT in (texts(m)[0] or "") for m in inputs if m.get("role") == "user"), (
        "the prompt is in a user message"
    )
    (out,) = messages(s, "output")
    assert out["role"] == "model" and texts(out)[0] == want["text"]
    u = want["usage"]
    assert attr(s, "llm.token_count.prompt") == u["promptTokenCount"]
    assert attr(s, "llm.token_count.completion") == (u["candidatesTokenCount"] or 0) + (u["thoughtsTokenCount"] or 0)
    assert attr(s, "llm.token_count.total") == u["totalTokenCount"]


def test_cli_key_never_recorded(cli_run):
    text = json.dumps(cli_run["spans"], ensure_ascii=False)
    assert API_KEY not in text and API_KEY[len("sk-") :] not in text


# --- LiteLLM -----------------------------------------------------------------------


def litellm_call(proxy: str, call: LiteLLMCall) -> dict[str, Any]:
    """litellm.completion with USE_LITELLM_PROXY on and the proxy as api_base."""
    saved = os.environ.get("USE_LITELLM_PROXY")
    os.environ["USE_LITELLM_PROXY"] = "True"
    try:
        resp = cases._litellm().completion(
            model=call.model,
            messages=call.messages(),
            stream=call.stream,
            api_base=proxy,
            api_key=API_KEY,
            max_retries=0,
            timeout=cases.CALL_TIMEOUT,
        )
        if not call.stream:
            return cases.summarize(resp)
        s = cases.StreamSummary()
        for chunk in resp:
            s.add(chunk)
        return s.result()
    finally:
        if saved is None:
            os.environ.pop("USE_LITELLM_PROXY", None)
        else:
            os.environ["USE_LITELLM_PROXY"] = saved


@pytest.fixture(scope="module")
def litellm_runs(stack, google) -> dict[str, dict[str, Any]]:
    out, before = {}, held(stack)
    for call in LITELLM_CALLS:
        start = time.time()
        result = cases.guarded(lambda t, c=call: litellm_call(t.root, c))(cases.Target(google.proxy, API_KEY, True))
        out[call.id] = {"result": result, "window": (start, time.time())}
        time.sleep(0.05)
    spans = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=before + len(LITELLM_CALLS))
    for run in out.values():
        run["spans"] = [s for s in spans if phoenix_api.in_window(s, list(run["window"]))]
    (ARTIFACTS / "calls-google-litellm.json").write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str))
    return out


@pytest.mark.parametrize("call", LITELLM_CALLS, ids=lambda c: c.id)
def test_litellm_answer(call, litellm_runs):
    got = litellm_runs[call.id]["result"]
    assert got["ok"], got
    want = call.answer()
    assert got["content"] == [want["text"]]
    assert got["finish_reason"] == FINISH_REASONS[want["finish_reason"]]
    assert got["model"].endswith(call.model.split("/", 1)[1]), got["model"]
    if not call.stream:
        u = want["usage"]
        completion = (u["candidatesTokenCount"] or 0) + (u["thoughtsTokenCount"] or 0)
        assert got["usage"] == {
            "prompt_tokens": u["promptTokenCount"],
            "completion_tokens": completion,
            "total_tokens": u["totalTokenCount"],
        }


@pytest.mark.parametrize("call", LITELLM_CALLS, ids=lambda c: c.id)
def test_litellm_span(call, litellm_runs, google):
    """One ChatCompletion span per call, naming Google and the model that
    answered, the messages as LiteLLM sent them, the answer and the token
    counts (thoughts in the completion, as LiteLLM counts them)."""
    assert call.path in answered(google.fake_log), "the proxy sent the call where its provider takes it"
    (s,) = litellm_runs[call.id]["spans"]
    want = call.answer()
    assert s["name"] == "ChatCompletion" and s["status_code"] == "OK"
    assert attr(s, "llm.provider") == "google"
    assert "llm.system" not in s["attributes"], "no llm.system for Google's API"
    assert attr(s, "llm.model_name") == want["model_version"]
    assert [(m["role"], m["content"]) for m in messages(s, "input")] == [(m["role"], m["content"]) for m in call.messages()]
    (out,) = messages(s, "output")
    assert out["role"] == "assistant" and out["content"] == want["text"]
    u = want["usage"]
    assert attr(s, "llm.token_count.prompt") == u["promptTokenCount"]
    assert attr(s, "llm.token_count.completion") == (u["candidatesTokenCount"] or 0) + (u["thoughtsTokenCount"] or 0)
    assert attr(s, "llm.token_count.total") == u["totalTokenCount"]
    if u["thoughtsTokenCount"]:
        assert attr(s, "llm.token_count.completion_details.reasoning") == u["thoughtsTokenCount"]
    assert json.loads(attr(s, "input.value"))["model"] == call.model.split("/", 1)[1], "the model as Google names it"
    text = json.dumps(s, ensure_ascii=False)
    assert API_KEY not in text and API_KEY[len("sk-") :] not in text


@pytest.mark.parametrize("call", LITELLM_CALLS, ids=lambda c: c.id)
def test_litellm_priced(call, litellm_runs, stack):
    """Phoenix prices the call by the model the span names."""
    model = call.answer()["model_version"]
    if not phoenix_api.prices_model(model):
        pytest.skip(f"the pinned Phoenix's price table has no {model}")
    (s,) = litellm_runs[call.id]["spans"]
    assert_priced(stack, s)
