"""What the caller gets: through the proxy, each client receives the recorded
answer, exactly as it does talking to the provider directly."""

from __future__ import annotations

import math

import pytest

import cases
import recorded


def close_vectors(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9) for x, y in zip(a, b))


@pytest.mark.parametrize("case", [c for c in cases.CASES if c.expect], ids=lambda c: c.id)
def test_caller_gets_recorded_response(case, proxy_calls):
    """Responses API cases: the whole summary (every response as sent, its
    text, the event count of a stream) is what the recordings hold."""
    assert proxy_calls[case.id]["result"] == case.expect()


@pytest.mark.parametrize("case", [c for c in cases.CASES if not c.expect and c.api == "openai"], ids=lambda c: c.id)
def test_caller_gets_recorded_answer(case, proxy_calls):
    got = proxy_calls[case.id]["result"]
    exp = recorded.expected(case.cassette)
    if case.status >= 400:
        assert not got["ok"], f"{case.id}: the provider answered {case.status}, the caller got success: {got}"
        assert got["status"] == case.status, f"{case.id}: status: got {got['status']}; want {case.status}: {got}"
        assert exp.error and exp.error["message"] in got["error"], (
            f"{case.id}: the provider's error message did not reach the caller: got {got['error']!r}; "
            f"want it to contain {exp.error['message']!r}"
        )
        return
    assert got["ok"], f"{case.id}: call failed through the proxy: {got}"
    want_model = exp.model
    if case.litellm and case.stream:
        # LiteLLM's stream wrapper reports the model the caller asked for, with
        # or without the proxy (the oracle's run shows the same).
        want_model = recorded.request_body(case.cassette)["model"]
    assert got["model"].endswith(want_model), f"{case.id}: model: got {got['model']!r}; want {want_model!r}"
    if exp.vectors:
        assert len(got["vectors"]) == len(exp.vectors)
        for i, (g, e) in enumerate(zip(got["vectors"], exp.vectors)):
            assert close_vectors(g, e), f"{case.id}: embedding {i} differs from the recorded one"
        return
    if exp.texts:
        assert got["texts"] == exp.texts
    else:
        want_content = [c for c in exp.content if c is not None] if case.stream else exp.content
        assert got["content"] == want_content
        want_calls = [
            {"id": c.get("id"), "name": c["function"]["name"], "arguments": c["function"]["arguments"]}
            for c in exp.tool_calls
        ]
        assert got["tool_calls"] == want_calls
    assert got["finish_reason"] == exp.finish_reason
    if exp.usage and got.get("usage") is not None:
        for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
            assert got["usage"][k] == exp.usage[k], f"{case.id}: usage.{k}"
    if case.stream:
        events = len(recorded.sse_chunks(case.cassette))
        assert got["chunks"] == events, f"{case.id}: chunks: got {got['chunks']}; want {events} (one per recorded event)"


@pytest.mark.parametrize("case", [c for c in cases.CASES if c.oracle_run is None and c.oracles], ids=lambda c: c.id)
def test_proxy_is_transparent(case, proxy_calls, oracle_calls):
    """The same client code gets the same result through the proxy as
    straight from the provider (the oracle's run)."""
    via_proxy = proxy_calls[case.id]["result"]
    direct = oracle_calls[case.oracles[0]][case.id]["result"]
    if not direct["ok"]:
        # Error text may name the URL it was sent to; compare the status only.
        assert not via_proxy["ok"] and via_proxy["status"] == direct["status"], (via_proxy, direct)
        return
    assert via_proxy == direct


@pytest.mark.parametrize("case", [c for c in cases.CASES if c.oracles], ids=lambda c: c.id)
def test_proxy_adds_no_noticeable_latency(case, proxy_calls, oracle_calls):
    """Replayed answers take milliseconds (2 ms between stream events), so a
    call through the proxy that takes seconds longer than the same call made
    directly means buffering, a stall, or a connection held open."""
    took = proxy_calls[case.id]["window"][1] - proxy_calls[case.id]["window"][0]
    direct = oracle_calls[case.oracles[0]][case.id]["window"]
    direct_took = direct[1] - direct[0]
    assert took < direct_took + 3.0, f"{case.id}: {took:.2f}s through the proxy, {direct_took:.2f}s direct"
