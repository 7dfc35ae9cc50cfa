"""Claude Code itself on Bedrock through the proxy, set up as Anthropic
documents for an LLM gateway: CLAUDE_CODE_USE_BEDROCK=1,
ANTHROPIC_BEDROCK_BASE_URL=<proxy>/bedrock, CLAUDE_CODE_SKIP_BEDROCK_AUTH=1
(Claude Code signs nothing; the proxy signs with its own AWS credentials).

`claude -p` (the pinned @anthropic-ai/claude-code, node/package.json) asks
one question. Its requests are its own (its system prompt and tools), which no
recording holds, so they carry ANTHROPIC_CUSTOM_HEADERS'
X-Fake-Cassette-Any-Body, which the proxy passes on like any header and
which makes the fake provider answer whatever the body with a synthetic
cassette: a recorded Claude stream re-framed as Bedrock's
InvokeModelWithResponseStream sends it (cassettes/synthesize.py). The test
reads Claude Code's answer, the span in Phoenix, and whose signature
reached the fake. Its proxy, project and fake provider are its own, so the
suite's project keeps one span per case and the suite's fake's journal only
the cases' requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

import cases
import phoenix_api
import recorded
from conftest import PROXY_AWS_KEY_ID, start_fake, start_proxy
from processes import base_env
from test_anthropic import assert_priced
from test_bedrock import bedrock_requests, fake_journal
from test_spans import attr

CLAUDE = Path(__file__).resolve().parents[1] / "node" / "node_modules" / ".bin" / "claude"
PROJECT = "e2e-claude-code"
# A Bedrock model id, as a Claude Code user on Bedrock sets ANTHROPIC_MODEL.
MODEL = "us.anthropic.claude-sonnet-4-6"
QUESTION = recorded.request_body(cases.CLAUDE_CODE_CASSETTE)["messages"][0]["content"]


@pytest.fixture(scope="module")
def claude_code_run(stack: Any) -> dict[str, Any]:
    if not os.access(CLAUDE, os.X_OK):
        pytest.fail(f"{CLAUDE} is missing: `make -C integration/e2e deps` installs it (node/package.json)")
    work = Path(tempfile.mkdtemp(prefix="claude-code-", dir=stack.work))
    fake_svc, fake = start_fake(work, "fakeprovider-claude-code")
    svc, proxy = start_proxy("proxy-claude-code", fake, stack.grpc, PROJECT)
    with tempfile.TemporaryDirectory(prefix="claude-home-") as home:
        env = base_env(
            HOME=home,  # no settings, credentials or history of the machine's
            CLAUDE_CODE_USE_BEDROCK="1",
            ANTHROPIC_BEDROCK_BASE_URL=f"{proxy}/bedrock",
            CLAUDE_CODE_SKIP_BEDROCK_AUTH="1",
            AWS_REGION=cases.BEDROCK_REGION,
            ANTHROPIC_MODEL=MODEL,
            ANTHROPIC_DEFAULT_HAIKU_MODEL=MODEL,
            ANTHROPIC_CUSTOM_HEADERS=f"X-Fake-Cassette-Any-Body: {cases.CLAUDE_CODE_CASSETTE}",
            # Nothing else leaves the machine: no update check, telemetry or
            # error reports, and any other request fails at a closed port.
            DISABLE_AUTOUPDATER="1",
            DISABLE_TELEMETRY="1",
            DISABLE_ERROR_REPORTING="1",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            HTTP_PROXY="http://127.0.0.1:9",
            HTTPS_PROXY="http://127.0.0.1:9",
            NO_PROXY="127.0.0.1,localhost,::1",
        )
        done = subprocess.run(
            [str(CLAUDE), "-p", QUESTION, "--output-format", "json", "--max-turns", "1"],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    journal = fake_journal(fake)
    spans = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=1)
    svc.stop()
    fake_svc.stop()
    return {"done": done, "journal": journal, "spans": spans}


def test_claude_code_answers(claude_code_run):
    done = claude_code_run["done"]
    assert done.returncode == 0, f"claude exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    out = json.loads(done.stdout)
    want = recorded.bedrock_message(cases.CLAUDE_CODE_CASSETTE)["content"][0]["text"]
    assert out["is_error"] is False and out["result"] == want, out


def test_claude_code_calls_reach_bedrock_signed_by_the_proxy(claude_code_run):
    """Claude Code signs nothing (skip-auth); each of its model calls reached
    the fake Bedrock signed with the proxy's key."""
    calls = bedrock_requests(claude_code_run["journal"])
    assert calls, f"no Bedrock call reached the fake: {claude_code_run['journal']}"
    assert {r["access_key_id"] for r in calls} == {PROXY_AWS_KEY_ID}
    assert all(r["path"] == f"/model/{MODEL}/invoke-with-response-stream" for r in calls), calls


def test_claude_code_spans(claude_code_run, stack):
    """One span per model call, each an InvokeModelWithResponseStream span
    of Claude's: AWS and Anthropic, the model that answered, Claude Code's
    system prompt and the question among the input messages, the answer, the
    token counts, a first-token event; Phoenix prices it."""
    spans = claude_code_run["spans"]
    calls = bedrock_requests(claude_code_run["journal"])
    assert len(spans) == len(calls), [s["name"] for s in spans]
    message = recorded.bedrock_message(cases.CLAUDE_CODE_CASSETTE)
    for s in spans:
        assert s["name"] == "bedrock.invoke_model_with_response_stream"
        assert s["status_code"] == "OK", s["status_message"]
        assert attr(s, "llm.provider") == "aws" and attr(s, "llm.system") == "anthropic"
        assert attr(s, "llm.request.model_name") == MODEL
        assert attr(s, "llm.model_name") == message["model"]
        assert attr(s, "llm.token_count.prompt") == message["usage"]["input_tokens"]
        assert attr(s, "llm.token_count.completion") == message["usage"]["output_tokens"]
        texts = [v for k, v in s["attributes"].items() if k.startswith("llm.input_messages.") and isinstance(v, str)]
        assert any(QUESTION in t for t in texts), "the question is among the input messages"
        assert attr(s, "llm.input_messages.0.message.role") == "system", "Claude Code's system prompt comes first"
        assert attr(s, "llm.output_messages.0.message.contents.0.message_content.text") == message["content"][0]["text"]
        assert [e["name"] for e in s["events"]] == ["First Token Stream Event"]
        body = json.loads(attr(s, "input.value"))
        assert body["anthropic_version"] == "bedrock-2023-05-31" and body["tools"], "input.value is Claude Code's request"
    if phoenix_api.prices_model(message["model"]):
        assert_priced(stack, spans[-1])
