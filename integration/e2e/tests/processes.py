"""Starting and stopping the suite's servers: Phoenix, the fake provider, the
proxy. Each runs in its own process group with its output in a log file; all
listen on loopback only; every one started is stopped at exit, whatever
happens (see `Service.stop_all`)."""

from __future__ import annotations

import atexit
import ctypes
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    """A minimal environment: no PHOENIX_*, OTEL_*, OPENAI_* or proxy
    settings leak in from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")}
    env.update(extra)
    return env


def tail(path: Path, lines: int = 80) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    # Phoenix's startup banner pads lines heavily; squeeze runs of spaces.
    text = re.sub(r" {4,}", "   ", text)
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the test process dies, even
    by SIGKILL, so no server outlives the run (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Service:
    running: list["Service"] = []

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path, cwd: Path | None = None):
        self.name = name
        self.cmd = cmd
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._logf = open(log, "wb")
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stopped as a unit
            preexec_fn=_die_with_parent,
        )
        Service.running.append(self)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(
                f"{self.name} exited with status {self.proc.returncode}; last lines of {self.log}:\n{tail(self.log)}"
            )

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if ready():
                    return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: not {what} after {timeout:.0f}s; last lines of {self.log}:\n{tail(self.log)}")

    def wait_http_ok(self, url: str, timeout: float) -> None:
        self.wait_until(lambda: httpx.get(url, timeout=2, trust_env=False).status_code == 200, timeout, f"ready at {url}")

    def wait_log_line(self, pattern: str, timeout: float) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def ready() -> bool:
            m = re.search(pattern, self.log.read_text(errors="replace"))
            if m:
                found.append(m)
            return bool(m)

        self.wait_until(ready, timeout, f"printing /{pattern}/")
        return found[0]

    def stop(self, signum: int = signal.SIGTERM, grace: float = 15.0) -> int | None:
        """Signal the process group, wait up to `grace` seconds, then kill it.
        Returns the exit status (None if it had to be killed)."""
        if self in Service.running:
            Service.running.remove(self)
        status: int | None = self.proc.poll()
        if status is None:
            try:
                os.killpg(self.proc.pid, signum)
            except ProcessLookupError:
                pass
            try:
                status = self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
                status = None
        self._logf.close()
        return status

    @classmethod
    def stop_all(cls) -> None:
        for s in reversed(list(cls.running)):
            try:
                s.stop(grace=5.0)
            except Exception:
                pass


atexit.register(Service.stop_all)
