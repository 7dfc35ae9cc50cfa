"""Reading spans back from Phoenix's REST API, as a user's script would:
`GET /v1/projects/{name}/spans` (Phoenix >= 10.6), newest first, paginated
by `next_cursor`."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx


def _pages(base: str, path: str, limit: int) -> list[dict[str, Any]]:
    """Every item of a paginated Phoenix list (`data`, `next_cursor`), in
    the order Phoenix gives them ([] for a 404: a project that does not
    exist yet)."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as client:
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor:
                params["cursor"] = cursor
            r = client.get(path, params=params)
            if r.status_code == 404:
                return []
            r.raise_for_status()
            body = r.json()
            out.extend(body["data"])
            cursor = body.get("next_cursor")
            if not cursor:
                return out


def spans(base: str, project: str) -> list[dict[str, Any]]:
    """Every span of the project, oldest first ([] if the project does not
    exist yet: Phoenix creates it with its first span)."""
    out = _pages(base, f"/v1/projects/{project}/spans", 1000)
    out.sort(key=lambda s: s["start_time"])
    return out

def projects(base: str) -> list[str]:
    r = httpx.get(f"{base}/v1/projects", params={"limit": 1000}, timeout=30, trust_env=False)
    r.raise_for_status()
    return [p["name"] for p in r.json()["data"]]


def wait_for_spans(
    base: str, project: str, at_least: int, timeout: float = 45.0, settle: float = 1.0
) -> list[dict[str, Any]]:
    """Polls until the project holds at least `at_least` spans and no new one
    arrived for `settle` seconds (so a late duplicate is seen too), or until
    `timeout`; returns what is there then."""
    deadline = time.monotonic() + timeout
    last: list[dict[str, Any]] = []
    stable_since = time.monotonic()
    while True:
        got = spans(base, project)
        now = time.monotonic()
        if len(got) != len(last):
            last, stable_since = got, now
        if len(last) >= at_least and now - stable_since >= settle:
            return last
        if now > deadline:
            return last
        time.sleep(0.25)


def ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def in_window(span: dict[str, Any], window: list[float], slack: float = 0.005) -> bool:
    start = ts(span["start_time"])
    return window[0] - slack <= start <= window[1] + slack


def by_case(all_spans: list[dict[str, Any]], calls: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Assigns spans to the case whose call window holds their start time."""
    out: dict[str, list[dict[str, Any]]] = {case_id: [] for case_id in calls}
    for s in all_spans:
        for case_id, call in calls.items():
            if in_window(s, call["window"]):
                out[case_id].append(s)
                break
    return out


# Phoenix prices LLM spans itself (model name and token counts against its
# model cost table) and stores the cost apart from the span: its REST span
# read-back (above) has no cost field and no llm.cost.* attributes. The UI
# reads it through Phoenix's GraphQL API, as Span.costSummary, by the span's
# global id (the REST span's "id"); so does this.
_COST_QUERY = """
query SpanCost($id: ID!) {
  node(id: $id) {
    ... on Span {
      costSummary { prompt { tokens cost } completion { tokens cost } total { tokens cost } }
    }
  }
}
"""


def span_cost(base: str, span: dict[str, Any], timeout: float = 10.0) -> dict[str, Any] | None:
    """The cost summary Phoenix shows for a span ({prompt, completion,
    total: {tokens, cost}}), or None if it has none after `timeout`
    (costs are computed as spans are inserted)."""
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.post(
            f"{base}/graphql", json={"query": _COST_QUERY, "variables": {"id": span["id"]}}, timeout=30, trust_env=False
        )
        r.raise_for_status()
        body = r.json()
        assert not body.get("errors"), body["errors"]
        summary = (body["data"]["node"] or {}).get("costSummary")
        if summary is not None or time.monotonic() > deadline:
            return summary
        time.sleep(0.25)


@functools.lru_cache(maxsize=None)
def _price_patterns() -> list[re.Pattern[str]]:
    spec = importlib.util.find_spec("phoenix")
    assert spec and spec.submodule_search_locations, "arize-phoenix is not installed"
    manifest = Path(list(spec.submodule_search_locations)[0]) / "server" / "cost_tracking" / "model_cost_manifest.json"
    return [re.compile(m["name_pattern"]) for m in json.loads(manifest.read_text())["models"]]


def prices_model(model: str) -> bool:
    """Whether the pinned Phoenix's built-in price table knows a model: as
    Phoenix looks a span's llm.model_name up (CostModelLookup.find_model), a
    model matches when an entry's name_pattern is found in the name
    (re.search) of its bundled model_cost_manifest.json."""
    return any(p.search(model) for p in _price_patterns())


def sessions(base: str, project: str) -> list[dict[str, Any]]:
    """Every session of the project, as Phoenix's sessions view lists them
    (`GET /v1/projects/{name}/sessions`, paginated by `next_cursor`): each
    with its `session_id` and its `traces` ([] if the project does not
    exist yet)."""
    return _pages(base, f"/v1/projects/{project}/sessions", 100)

def wait_for_sessions(
    base: str, project: str, traces: int, timeout: float = 45.0, settle: float = 1.0
) -> list[dict[str, Any]]:
    """Polls until the project's sessions hold at least `traces` traces in
    all and nothing changed for `settle` seconds, or until `timeout`;
    returns the sessions then."""
    deadline = time.monotonic() + timeout
    last: list[dict[str, Any]] = []
    stable_since = time.monotonic()
    while True:
        got = sessions(base, project)
        now = time.monotonic()
        shape = lambda ss: sorted((s["session_id"], len(s["traces"])) for s in ss)  # noqa: E731
        if shape(got) != shape(last):
            last, stable_since = got, now
        if sum(len(s["traces"]) for s in last) >= traces and now - stable_since >= settle:
            return last
        if now > deadline:
            return last
        time.sleep(0.25)


def span_attr(s: dict[str, Any], key: str) -> Any:
    """A span's attribute, or None."""
    return s["attributes"].get(key)


def span_messages(s: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The span's input or output messages (kind "input" or "output"),
    each as its attributes by the rest of their names."""
    out = []
    for i in range(10_000):
        prefix = f"llm.{kind}_messages.{i}.message."
        m = {k[len(prefix) :]: v for k, v in s["attributes"].items() if k.startswith(prefix)}
        if not m:
            return out
        out.append(m)
    return out
