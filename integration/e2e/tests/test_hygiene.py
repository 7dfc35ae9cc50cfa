"""Things a user relies on without looking: spans land in the configured
project and nowhere else, one per call, and never carry the API key."""

from __future__ import annotations

import json

import httpx

import cases
import phoenix_api
from conftest import API_KEY, PROXY_PROJECT


def test_readiness(stack):
    r = httpx.get(f"{stack.proxy}/health/readiness", timeout=5, trust_env=False)
    assert r.status_code == 200


def test_one_span_per_call_in_the_project(proxy_spans_all, proxy_spans):
    per_case = {case_id: len(s) for case_id, s in proxy_spans.items() if len(s) != cases.BY_ID[case_id].turns}
    assert not per_case, f"cases without exactly one span per model call: {per_case}"
    assert len(proxy_spans_all) == len(cases.CALLS), (
        f"{PROXY_PROJECT} holds {len(proxy_spans_all)} spans for {len(cases.CALLS)} model calls"
    )


def test_nothing_in_the_default_project(stack, proxy_spans_all):
    assert phoenix_api.spans(stack.phoenix, "default") == []


def test_api_key_never_recorded(proxy_spans_all):
    text = json.dumps(proxy_spans_all, ensure_ascii=False)
    assert API_KEY not in text, "the caller's API key appears in a span"
    assert API_KEY[len("sk-") :] not in text
    assert "Bearer " not in text, "an Authorization header value appears in a span"
