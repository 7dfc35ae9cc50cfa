"""A proxy started with a LiteLLM config.yaml of aliases (CONFIG_FILE_PATH):
LiteLLM's SDK calls the aliases with `litellm_proxy/<model_name>` and with
USE_LITELLM_PROXY=True, the master key from the file keeps out callers
without it, /v1/models lists the aliases, each call's span in Phoenix names
the real model and the deployment, and calls that name a Phoenix project go
to it: two projects in one run, each with its own spans."""

from __future__ import annotations

import secrets

import httpx
import openai
import pytest

import cases
import phoenix_api
import recorded
from conftest import start_proxy

PROJECT = "e2e-config"
TEAM_A, TEAM_B = "e2e-team-alpha", "e2e-team-beta"
MASTER_KEY = "sk-e2e-master-" + secrets.token_hex(8)
UPSTREAM_KEY = "sk-e2e-upstream-" + secrets.token_hex(8)

CONFIG = """
model_list:
  - model_name: my-chat
    litellm_params:
      model: openai/{chat_model}
      api_base: {fake}/v1
      api_key: os.environ/E2E_UPSTREAM_KEY
    model_info:
      id: my-chat-1
  - model_name: my-azure
    litellm_params:
      model: azure/{chat_model}
      api_base: {fake}
      api_version: "2025-01-01-preview"
      api_key: os.environ/E2E_UPSTREAM_KEY
    model_info:
      base_model: gpt-4o
  - model_name: my-claude
    litellm_params:
      model: {claude_model}
      api_base: {fake}
      api_key: os.environ/E2E_UPSTREAM_KEY
general_settings:
  master_key: os.environ/E2E_MASTER_KEY
litellm_settings:
  drop_params: true
"""

CHAT = "chat-basic"
CLAUDE_CASE = "litellm-proxy-anthropic-stream"


@pytest.fixture(scope="module")
def configured(stack):
    chat_model = recorded.request_body(CHAT)["model"]
    claude_model = cases.translated_bodies()[CLAUDE_CASE]["model"]
    path = stack.work / "litellm-config.yaml"
    path.write_text(CONFIG.format(fake=stack.fake, chat_model=chat_model, claude_model=claude_model))
    svc, url = start_proxy(
        "proxy-config",
        stack.fake,
        stack.grpc,
        PROJECT,
        CONFIG_FILE_PATH=str(path),
        E2E_UPSTREAM_KEY=UPSTREAM_KEY,
        E2E_MASTER_KEY=MASTER_KEY,
        PHOENIX_PROJECT_PATTERN="e2e-team-[a-z]+",
    )
    yield url
    svc.stop()


def _litellm():
    return cases._litellm()


def test_master_key_keeps_out_callers_without_it(configured):
    client = openai.OpenAI(base_url=configured + "/v1", api_key="sk-not-the-master-key", max_retries=0)
    body = recorded.request_body(CHAT) | {"model": "my-chat"}
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(**body)
    assert e.value.status_code == 401


def test_models_lists_the_aliases(configured):
    client = openai.OpenAI(base_url=configured + "/v1", api_key=MASTER_KEY, max_retries=0)
    assert [m.id for m in client.models.list()] == ["my-chat", "my-azure", "my-claude"]
    info = httpx.get(configured + "/v1/model/info", headers={"Authorization": f"Bearer {MASTER_KEY}"}, trust_env=False)
    assert info.status_code == 200
    assert UPSTREAM_KEY not in info.text and "api_key" not in info.text


def test_litellm_sdk_calls_aliases(stack, configured):
    """litellm_proxy/<model_name>, then USE_LITELLM_PROXY=True with the
    bare alias, then a streamed alias of an Anthropic model (translated):
    each answer as recorded, each span under the real model."""
    exp = recorded.expected(CHAT)
    body = recorded.request_body(CHAT)
    answer = _litellm().completion(
        **(body | {"model": "litellm_proxy/my-chat"}), api_base=configured, api_key=MASTER_KEY, max_retries=0
    )
    assert answer.choices[0].message.content == exp.content[0]
    with cases.litellm_proxy_env(cases.Target(root=configured, api_key=MASTER_KEY, via_proxy=True)):
        answer = _litellm().completion(**(body | {"model": "my-chat"}), max_retries=0)
        assert answer.choices[0].message.content == exp.content[0]
        stream = _litellm().completion(**(cases.translated_bodies()[CLAUDE_CASE] | {"model": "my-claude"}), max_retries=0)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text, "the translated stream brought no text"

    got = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=3)
    chats = [s for s in got if s["attributes"].get("litellm.model_group") == "my-chat"]
    claude = [s for s in got if s["attributes"].get("litellm.model_group") == "my-claude"]
    assert len(chats) == 2 and len(claude) == 1, [s["attributes"].get("litellm.model_group") for s in got]
    for s in chats:
        a = s["attributes"]
        assert a["llm.model_name"] == exp.model, a["llm.model_name"]
        assert a["litellm.model_id"] == "my-chat-1"
        assert a["llm.provider"] == "openai"
    a = claude[0]["attributes"]
    assert a["llm.provider"] == "anthropic" and a["llm.model_name"].startswith("claude"), a
    assert a["llm.token_count.prompt"] > 0 and a["llm.token_count.completion"] > 0


def test_phoenix_prices_the_real_model(stack, configured):
    """An alias of an Azure deployment named after nothing Phoenix knows is
    recorded under the model_info.base_model the config gives, and Phoenix
    prices it; the OpenAI alias is priced under OpenAI's model."""
    client = openai.OpenAI(base_url=configured + "/v1", api_key=MASTER_KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        **(recorded.request_body("azure-chat-basic") | {"model": "my-azure"})
    )
    call_id = raw.headers["x-litellm-call-id"]
    spans = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=1)
    azure = [s for s in spans if s["attributes"].get("litellm.call_id") == call_id]
    assert len(azure) == 1, [s["attributes"].get("litellm.call_id") for s in spans]
    a = azure[0]["attributes"]
    assert a["llm.model_name"] == "gpt-4o" and a["llm.provider"] == "azure", a
    priced = [azure[0]] + [s for s in spans if s["attributes"].get("litellm.model_group") == "my-chat"][:1]
    assert len(priced) == 2, "no my-chat span to price (test_litellm_sdk_calls_aliases runs first)"
    for s in priced:
        cost = phoenix_api.span_cost(stack.phoenix, s)
        assert cost is not None, f"Phoenix computed no cost for {s['attributes']['llm.model_name']!r}"
        assert cost["prompt"]["cost"] > 0 and cost["completion"]["cost"] > 0, cost


def test_two_projects_in_one_run(stack, configured):
    """One call names its project by header, another by litellm_metadata:
    each project holds its own span, found by the call id the client got."""
    client = openai.OpenAI(base_url=configured + "/v1", api_key=MASTER_KEY, max_retries=0)
    body = recorded.request_body(CHAT) | {"model": "my-chat"}
    a = client.chat.completions.with_raw_response.create(**body, extra_headers={"x-phoenix-project-name": TEAM_A})
    b = client.chat.completions.with_raw_response.create(
        **body, extra_body={"litellm_metadata": {"phoenix_project_name": TEAM_B, "session_id": "s-beta"}}
    )
    for project, raw in ((TEAM_A, a), (TEAM_B, b)):
        spans = phoenix_api.wait_for_spans(stack.phoenix, project, at_least=1)
        assert [s["attributes"]["litellm.call_id"] for s in spans] == [raw.headers["x-litellm-call-id"]], project
        assert not any(k.startswith("llmproxy.internal") for k in spans[0]["attributes"])
    assert phoenix_api.wait_for_spans(stack.phoenix, TEAM_B, at_least=1)[0]["attributes"]["session.id"] == "s-beta"

    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(**body, extra_headers={"x-phoenix-project-name": "someone-elses"})
    assert "someone-elses" not in phoenix_api.projects(stack.phoenix)
