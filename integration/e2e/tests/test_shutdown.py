"""On SIGTERM the proxy flushes the spans it still holds, then exits 0.

A second proxy with a one-minute batch delay, so the span can only reach
Phoenix through the flush at shutdown."""

from __future__ import annotations

import signal
import time

import cases
import phoenix_api
from conftest import API_KEY, start_proxy

PROJECT = "e2e-shutdown"


def test_sigterm_flushes_spans(stack):
    svc, url = start_proxy("proxy-shutdown", stack.fake, stack.grpc, PROJECT, OTEL_BSP_SCHEDULE_DELAY="60000")
    try:
        result = cases.BY_ID["openai-chat"].run(cases.Target(root=url, api_key=API_KEY, via_proxy=True))
        assert result["ok"], result
        time.sleep(0.5)
        assert phoenix_api.spans(stack.phoenix, PROJECT) == [], "span exported before shutdown (batch delay is 60s)"
    finally:
        t0 = time.monotonic()
        status = svc.stop(signal.SIGTERM, grace=20)
        took = time.monotonic() - t0
    assert status == 0, f"proxy exit status after SIGTERM: {status} (None: had to be killed after 20s)"
    got = phoenix_api.wait_for_spans(stack.phoenix, PROJECT, at_least=1, timeout=15)
    assert [s["name"] for s in got] == ["ChatCompletion"], f"spans after shutdown: {got}"
    assert took < 10, f"shutdown took {took:.1f}s"
