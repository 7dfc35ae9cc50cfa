"""Pictures of Phoenix's UI for the README, taken with a headless Chromium
(cdp.py) once agents.py has sent its conversations through the proxy into
three projects, one per way of grouping calls into traces:

- sessions.png: the Sessions list of the `call` project, one row per
  conversation with its user and trace count;
- session-per-call.png: the first conversation's session, read back turn
  by turn (a Phoenix "turn" is a trace: here, one model call);
- conversation-last-call.png: that conversation's last call, whose span
  holds the whole conversation as messages;
- span-session-attributes.png: the last call of the Claude Code session,
  its span's `session.id` and `user.id`;
- trace-shared.png: the first conversation's first user turn in the
  `shared` project (the turn's calls in one trace, each a root span);
- session-per-turn.png, trace-per-turn.png: the first conversation in the
  `turn` project (one trace per user turn, under a span the client made),
  its session and its first turn's trace.

Usage: python shoot.py PHOENIX_URL OUT_DIR PROJECT_CALL PROJECT_SHARED PROJECT_TURN
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

from cdp import Browser

WIDTH, HEIGHT = 1400, 900
# The session and trace panes slide over the page from here (at WIDTH):
# the pictures of them leave out the page underneath.
PANE_X = 352


def get(base: str, path: str) -> Any:
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def sessions(base: str, project: str) -> list[dict[str, Any]]:
    """The project's sessions, oldest first."""
    got = get(base, f"/v1/projects/{project}/sessions?limit=100")["data"]
    return sorted(got, key=lambda s: s["start_time"])


async def sessions_list(b: Browser, base: str, project: str, out: Path) -> None:
    ss = sessions(base, project)
    await b.goto(f"{base}/projects/{ss[0]['project_id']}/sessions")
    await b.wait_text("session id", *(s["session_id"][:8] for s in ss))
    await b.click("button[aria-label='Collapse side navigation']")
    await b.click("button[aria-label='Hide aside panel']")
    await b.click("button", "Columns")
    for column in ("annotations", "end time", "p50 latency", "p99 latency", "total cost"):
        await b.click("li[data-column-id] label", column)
    await b.key("Escape", 27)
    await b.eval("document.activeElement && document.activeElement.blur()")
    await b.wait_text("total traces")
    bottom = await b.eval("Math.max(...[...document.querySelectorAll('tbody tr')].map(r => r.getBoundingClientRect().bottom))")
    await b.shoot(out, (0, 0, WIDTH, int(bottom) + 40))


async def session_detail(b: Browser, base: str, project: str, out: Path) -> None:
    s = sessions(base, project)[0]
    await b.goto(f"{base}/projects/{s['project_id']}/sessions/{s['id']}")
    await b.wait_text("Turn 01", s["session_id"])
    await b.shoot(out, (PANE_X, 45, WIDTH - PANE_X, HEIGHT - 45))


async def open_trace(b: Browser, base: str, project_id: str, trace_id: str) -> None:
    await b.goto(f"{base}/projects/{project_id}/traces/{trace_id}")
    await b.wait_text("Attributes", trace_id)


async def trace_info(b: Browser, base: str, project: str, session: int, trace: int, out: Path, height: int) -> None:
    """The Info tab of the trace's selected span (its root), `height`
    pixels of the trace pane."""
    s = sessions(base, project)[session]
    await open_trace(b, base, s["project_id"], s["traces"][trace]["trace_id"])
    await b.shoot(out, (PANE_X, 45, WIDTH - PANE_X, height))


async def conversation(b: Browser, base: str, project: str, out: Path) -> None:
    """The first session's last call: every message of the conversation."""
    tall = 1400
    await b.resize(WIDTH, tall)
    s = sessions(base, project)[0]
    await open_trace(b, base, s["project_id"], s["traces"][-1]["trace_id"])
    await b.wait_text("Will I need an umbrella")
    bottom = await b.eval(
        "Math.max(...[...document.querySelectorAll('*')].filter(e => e.children.length === 0 && e.innerText"
        " && e.innerText.trim() === 'Output').map(e => e.getBoundingClientRect().bottom))"
    )
    await b.shoot(out, (PANE_X, 45, WIDTH - PANE_X, min(tall, int(bottom) + 120) - 45))
    await b.resize(WIDTH, HEIGHT)


async def span_attributes(b: Browser, base: str, project: str, out: Path) -> None:
    s = sessions(base, project)[-1]
    await open_trace(b, base, s["project_id"], s["traces"][-1]["trace_id"])
    await b.click("[role=tab]", "Attributes")
    await b.click("button[aria-label='Search JSON keys and values']")
    await b.type(".id")
    await b.wait_text("session.id", "user.id", s["session_id"])
    bottom = await b.eval("Math.max(...[...document.querySelectorAll('tbody tr')].map(r => r.getBoundingClientRect().bottom))")
    await b.shoot(out, (PANE_X, 45, WIDTH - PANE_X, int(bottom) + 24 - 45))


async def main() -> None:
    base, out = sys.argv[1], Path(sys.argv[2])
    call, shared, turn = sys.argv[3:6]
    out.mkdir(parents=True, exist_ok=True)
    async with Browser(WIDTH, HEIGHT) as b:
        await sessions_list(b, base, call, out / "sessions.png")
        await session_detail(b, base, call, out / "session-per-call.png")
        await conversation(b, base, call, out / "conversation-last-call.png")
        await span_attributes(b, base, call, out / "span-session-attributes.png")
        await trace_info(b, base, shared, 0, 0, out / "trace-shared.png", HEIGHT - 45)
        await session_detail(b, base, turn, out / "session-per-turn.png")
        await trace_info(b, base, turn, 0, 0, out / "trace-per-turn.png", 560)
    for p in sorted(out.glob("*.png")):
        print(f"{p}: {p.stat().st_size // 1024} KB")


if __name__ == "__main__":
    asyncio.run(main())
