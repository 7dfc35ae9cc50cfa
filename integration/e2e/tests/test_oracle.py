"""The proxy's span for each call against the official instrumentors' span for
the same call made straight to the provider: every field the instrumentor
records, the proxy records too, with the same value (JSON strings compared
parsed), unless differences.py says why not. Against the OpenAI instrumentor
the proxy may also not add fields of its own that are not listed there."""

from __future__ import annotations

import fnmatch
import json
import math
from typing import Any

import pytest

import cases
from conftest import ARTIFACTS
from differences import DIFFERENCES, NORMALIZED

_report: dict[str, Any] = {}

# Differences a proxy bug makes: (oracle, case id, field) -> the bug. Not
# worked around: a call whose only differences are its bugs' xfails with
# them as the reason, one with any other difference fails, and one whose bug
# no longer shows fails too (remove its line then).
PROXY_BUGS: dict[tuple[str, str, str], str] = {}


def scope_holds(scope: str, call: cases.Call, kind: str) -> bool:
    for word in scope.split():
        if word == "all":
            continue
        if word == "stream" and not call.stream:
            return False
        if word == "error" and call.status < 400:
            return False
        if word == "responses" and call.span_name != "Response":
            return False
        if word == "claude-invoke" and not (call.api == "bedrock" and "anthropic_version" in call.request_body()):
            return False
        if word.startswith("case:") and word[len("case:") :] != call.case.id:
            return False
        if word in ("extra", "null") and kind != word:
            return False
    return True


def listed(oracle: str, call: cases.Call, path: str, kind: str) -> bool:
    for (o, scope, pattern), _reason in DIFFERENCES.items():
        if o != oracle or not scope_holds(scope, call, kind):
            continue
        if fnmatch.fnmatchcase(path, pattern) or any(
            path.startswith(prefix) and fnmatch.fnmatchcase(path[: len(prefix) - 1], pattern)
            for prefix in _prefixes(path)
        ):
            return True
    return False


def _prefixes(path: str) -> list[str]:
    """'a#b.c' -> ['a#', 'a#b.']: the ends of the paths above it, plus separator."""
    out = []
    for i, ch in enumerate(path):
        if ch in "#.":
            out.append(path[: i + 1])
    return out


def normalize(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def diff(path: str, mine: Any, theirs: Any, sep: str = ".") -> list[tuple[str, str, Any, Any]]:
    """(path, kind, proxy value, instrumentor value) for every difference.
    kind: missing, extra, differs, or null (a member the instrumentor's JSON
    has as null and the proxy's lacks)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        out = []
        for k in sorted(set(mine) | set(theirs), key=str):
            p = f"{path}{sep}{k}"
            if k not in mine:
                out.append((p, "null" if theirs[k] is None else "missing", None, theirs[k]))
            elif k not in theirs:
                out.append((p, "extra", mine[k], None))
            else:
                out.extend(diff(p, mine[k], theirs[k]))
        return out
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in mine + theirs):
            ok = all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9) for x, y in zip(mine, theirs))
            return [] if ok else [(path, "differs", mine, theirs)]
        out = []
        for i, (x, y) in enumerate(zip(mine, theirs)):
            out.extend(diff(f"{path}{sep}{i}", x, y))
        return out
    if isinstance(mine, bool) or isinstance(theirs, bool):
        return [] if mine is theirs else [(path, "differs", mine, theirs)]
    if isinstance(mine, (int, float)) and isinstance(theirs, (int, float)):
        return [] if math.isclose(mine, theirs, rel_tol=1e-6, abs_tol=1e-9) else [(path, "differs", mine, theirs)]
    return [] if mine == theirs else [(path, "differs", mine, theirs)]


def fields(span: dict[str, Any]) -> dict[str, Any]:
    """A span as flat fields: attributes (JSON strings parsed), the pseudo
    fields and event attributes."""
    out: dict[str, Any] = {k: normalize(v) for k, v in span["attributes"].items()}
    out["name"] = span["name"]
    out["span_kind"] = span["span_kind"]
    out["status_code"] = span["status_code"]
    out["status_message"] = span["status_message"]
    out["events"] = sorted(e["name"] for e in span["events"])
    for e in span["events"]:
        for k, v in (e.get("attributes") or {}).items():
            out[f"event:{e['name']}:{k}"] = v
    return out


def short(v: Any, n: int = 300) -> str:
    s = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def compare(oracle: str, call: cases.Call, mine: dict[str, Any], theirs: dict[str, Any]) -> list[dict[str, Any]]:
    a, b = fields(mine), fields(theirs)
    for (o, k), (form, _reason) in NORMALIZED.items():
        for side in (a, b):
            if o == oracle and k in side:
                side[k] = form(side[k])
    problems = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            found = [(k, "missing", None, b[k])]
        elif k not in b:
            found = [(k, "extra", a[k], None)]
        else:
            # Inside a JSON attribute the path continues after '#'.
            found = diff(k, a[k], b[k], sep="#") if isinstance(a[k], (dict, list)) else diff(k, a[k], b[k])
        for path, kind, proxy_value, their_value in found:
            if oracle == "litellm" and kind == "extra":
                continue  # only what LiteLLM records is compared
            if listed(oracle, call, path, kind):
                continue
            p = {"field": path, "problem": kind}
            if kind != "extra":
                p["instrumentor"] = their_value
            if kind not in ("missing", "null"):
                p["proxy"] = proxy_value
            problems.append(p)
    return problems


def explain(call: cases.Call, oracle: str, problems: list[dict[str, Any]]) -> str:
    lines = [f"{call.id} ({call.client}, cassette {call.cassette}) vs the {oracle} instrumentor:"]
    for p in problems:
        lines.append(f"  {p['field']}: {p['problem']}" + (" (not listed in differences.py)" if p["problem"] == "extra" else ""))
        if "instrumentor" in p:
            lines.append(f"      instrumentor: {short(p['instrumentor'])}")
        if "proxy" in p:
            lines.append(f"      proxy:        {short(p['proxy'])}")
    return "\n".join(lines)


def check(oracle: str, call: cases.Call, problems: list[dict[str, Any]]) -> None:
    _report[f"{oracle}/{call.id}"] = problems
    bugs = {f: reason for (o, case_id, f), reason in PROXY_BUGS.items() if o == oracle and case_id == call.case.id}
    others = [p for p in problems if p["field"] not in bugs]
    assert not others, explain(call, oracle, others)
    shown = {p["field"] for p in problems}
    fixed = [f for f in bugs if f not in shown]
    assert not fixed, f"{call.id}: {fixed} now match the {oracle} instrumentor: remove them from PROXY_BUGS"
    if bugs:
        pytest.xfail("; ".join(bugs.values()))


def one(spans: dict[str, list[dict[str, Any]]], who: str, call: cases.Call) -> dict[str, Any]:
    """The span of one model call among its case's spans (one per call, in order)."""
    got, want = spans[call.case.id], call.case.turns
    if len(got) != want:
        pytest.fail(f"{call.case.id}: expected {want} {who} span(s) in the case's window, found {len(got)}")
    return got[call.index]


@pytest.mark.parametrize("call", [c for c in cases.CALLS if "openai" in c.case.oracles], ids=lambda c: c.id)
def test_matches_openai_instrumentor(call, proxy_spans, oracle_spans):
    mine = one(proxy_spans, "proxy", call)
    theirs = one(oracle_spans["openai"], "OpenAI-instrumentor", call)
    check("openai", call, compare("openai", call, mine, theirs))


@pytest.mark.parametrize("call", [c for c in cases.CALLS if "litellm" in c.case.oracles], ids=lambda c: c.id)
def test_matches_litellm_instrumentor(call, proxy_spans, oracle_spans):
    if not oracle_spans["litellm"][call.case.id]:
        pytest.skip(f"openinference-instrumentation-litellm records no span for {call.id} (nothing to compare)")
    mine = one(proxy_spans, "proxy", call)
    theirs = one(oracle_spans["litellm"], "LiteLLM-instrumentor", call)
    check("litellm", call, compare("litellm", call, mine, theirs))


@pytest.mark.parametrize("call", [c for c in cases.CALLS if "anthropic" in c.case.oracles], ids=lambda c: c.id)
def test_matches_anthropic_instrumentor(call, proxy_spans, oracle_spans):
    mine = one(proxy_spans, "proxy", call)
    theirs = one(oracle_spans["anthropic"], "Anthropic-instrumentor", call)
    check("anthropic", call, compare("anthropic", call, mine, theirs))


@pytest.mark.parametrize("call", [c for c in cases.CALLS if "google-genai" in c.case.oracles], ids=lambda c: c.id)
def test_matches_google_genai_instrumentor(call, proxy_spans, oracle_spans):
    mine = one(proxy_spans, "proxy", call)
    theirs = one(oracle_spans["google-genai"], "google-genai-instrumentor", call)
    check("google-genai", call, compare("google-genai", call, mine, theirs))


@pytest.mark.parametrize("call", [c for c in cases.CALLS if "bedrock" in c.case.oracles], ids=lambda c: c.id)
def test_matches_bedrock_instrumentor(call, proxy_spans, oracle_spans):
    mine = one(proxy_spans, "proxy", call)
    theirs = one(oracle_spans["bedrock"], "Bedrock-instrumentor", call)
    check("bedrock", call, compare("bedrock", call, mine, theirs))


def teardown_module() -> None:
    if _report:
        (ARTIFACTS / "oracle-differences.json").write_text(json.dumps(_report, indent=2, ensure_ascii=False))
