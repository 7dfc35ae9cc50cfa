"""A headless Chromium driven over the DevTools protocol: enough to open a
page of Phoenix's UI, wait for it to render, click, and take a PNG of a
part of it. Phoenix is a JavaScript app that fetches its data after the page
loads, so a bare `chromium --screenshot` catches it at a fixed time; this
waits for the text the picture must show instead.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import websockets


class Browser:
    """One Chromium process and one page of it."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._ids = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}

    async def __aenter__(self) -> "Browser":
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if exe is None:
            raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
        self._profile = tempfile.TemporaryDirectory(prefix="screenshots-chromium-")
        self._proc = subprocess.Popen(
            [
                exe,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={self._profile.name}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        ws = await asyncio.to_thread(self._devtools_url)
        self._ws = await websockets.connect(ws, max_size=64 << 20)
        self._reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        self._session = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.resize(self.width, self.height)
        return self

    async def __aexit__(self, *_: Any) -> None:
        self._reader.cancel()
        await self._ws.close()
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._profile.cleanup()

    def _devtools_url(self) -> str:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            if m := re.search(r"DevTools listening on (ws://\S+)", line):
                return m.group(1)
        raise RuntimeError(f"chromium exited ({self._proc.wait()}) before it listened")

    async def _read(self) -> None:
        async for raw in self._ws:
            msg = json.loads(raw)
            if (fut := self._pending.pop(msg.get("id", -1), None)) is not None:
                if "error" in msg:
                    fut.set_exception(RuntimeError(f"devtools: {msg['error']}"))
                else:
                    fut.set_result(msg.get("result", {}))

    async def send(self, method: str, **params: Any) -> Any:
        """Calls one DevTools method on the page (the browser's own before
        a page is attached)."""
        self._ids += 1
        msg: dict[str, Any] = {"id": self._ids, "method": method, "params": params}
        if getattr(self, "_session", None) and not method.startswith("Target."):
            msg["sessionId"] = self._session
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._ids] = fut
        await self._ws.send(json.dumps(msg))
        return await asyncio.wait_for(fut, 30)

    async def resize(self, width: int, height: int) -> None:
        """Gives the page another size (the next picture a taller one)."""
        self.width, self.height = width, height
        await self.send(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
        )

    async def eval(self, js: str) -> Any:
        """The value of a JavaScript expression in the page."""
        got = await self.send("Runtime.evaluate", expression=js, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in got:
            raise RuntimeError(f"{js}: {got['exceptionDetails']}")
        return got["result"].get("value")

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def wait_text(self, *texts: str, timeout: float = 30) -> None:
        """Waits until the page shows every one of the texts, then a little
        longer for what renders after them."""
        js = "(() => { const t = document.body ? document.body.innerText : ''; return %s.every(s => t.includes(s)); })()"
        deadline = asyncio.get_running_loop().time() + timeout
        while not await self.eval(js % json.dumps(list(texts))):
            if asyncio.get_running_loop().time() > deadline:
                body = await self.eval("document.body ? document.body.innerText.slice(0, 2000) : ''")
                raise TimeoutError(f"page never showed {texts}; it shows: {body}")
            await asyncio.sleep(0.25)
        await asyncio.sleep(1.0)

    async def click(self, selector: str, text: str = "") -> None:
        """Clicks, with the mouse, the first element matching the CSS
        selector whose text is (or, failing that, contains) `text`. A real
        press and release, not `el.click()`: React Aria's buttons and
        checkboxes answer pointer events."""
        js = """(() => {
          const all = [...document.querySelectorAll(%s)];
          const want = %s;
          const el = all.find(e => e.innerText.trim() === want) || all.find(e => e.innerText.includes(want));
          if (!el) return null;
          el.scrollIntoView({block: 'center'});
          const r = el.getBoundingClientRect();
          return [r.x + r.width / 2, r.y + r.height / 2];
        })()""" % (json.dumps(selector), json.dumps(text))
        at = await self.eval(js)
        if at is None:
            raise RuntimeError(f"nothing to click: {selector} with text {text!r}")
        x, y = at
        await self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        await asyncio.sleep(0.5)

    async def key(self, key: str, code: int) -> None:
        """Presses and releases one key (Escape: "Escape", 27)."""
        for kind in ("keyDown", "keyUp"):
            await self.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)
        await asyncio.sleep(0.3)

    async def shoot(self, path: Path, clip: tuple[int, int, int, int] | None = None) -> None:
        """Writes a PNG of the page (x, y, width, height of it if clip)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": False}
        if clip is not None:
            x, y, w, h = clip
            params["clip"] = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
        got = await self.send("Page.captureScreenshot", **params)
        path.write_bytes(base64.b64decode(got["data"]))

    async def type(self, text: str) -> None:
        """Types text into the focused element."""
        await self.send("Input.insertText", text=text)
        await asyncio.sleep(0.5)
