"""The newcomer's path: `make run` starts the proxy and a local Phoenix, the
README's first curl works offline, its span reaches that Phoenix, and Ctrl-C
(typed on a terminal: the test drives `make run` through a pseudo-terminal)
stops both with exit 0."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import socket
import subprocess
import termios
import time
from pathlib import Path

import phoenix_api
from processes import base_env, free_port

REPO = Path(__file__).resolve().parents[3]


def readme_first_curl() -> str:
    """The first shell block of the README that runs curl, as written."""
    text = (REPO / "README.md").read_text()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        if block.lstrip().startswith("curl "):
            return block
    raise AssertionError("README has no curl example")


class Terminal:
    """`make run` on its own pseudo-terminal, as a user starts it."""

    def __init__(self, env: dict[str, str]) -> None:
        master, slave = pty.openpty()

        def controlling_tty() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.master = master
        self.out = b""
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=REPO, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=controlling_tty,
        )
        os.close(slave)

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.out += os.read(self.master, 65536)
                except OSError:  # the terminal closed: everyone exited
                    return

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.proc.poll() is not None:
                break
            self.read(0.5)
        raise AssertionError(f"`make run` never printed {pattern!r}; it printed:\n{self.text()[-4000:]}")

    def text(self) -> str:
        return self.out.decode(errors="replace")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()
        os.close(self.master)


def test_make_run_then_readme_curl_then_ctrl_c(tmp_path: Path) -> None:
    port, ui, grpc = free_port(), free_port(), free_port()
    env = base_env(
        PORT=str(port),
        PHOENIX_PORT=str(ui),
        PHOENIX_GRPC_PORT=str(grpc),
        # Nothing answers here yet: `make run` starts its own Phoenix.
        PHOENIX_COLLECTOR_ENDPOINT=f"http://127.0.0.1:{grpc}",
        PHOENIX_WORKING_DIR=str(tmp_path / "phoenix"),
        OTEL_BSP_SCHEDULE_DELAY="200",
        **{k: v for k, v in os.environ.items() if k.startswith("GO")},
    )
    term = Terminal(env)
    try:
        term.wait_for(rf"Phoenix UI at http://localhost:{ui}", timeout=240)
        term.wait_for(r"llmproxy listening", timeout=60)

        curl = readme_first_curl().replace("http://localhost:4000", f"http://127.0.0.1:{port}")
        done = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=30, env=env)
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["object"] == "chat.completion"
        assert answer["choices"][0]["message"]["content"] == "Hello from the proxy!"

        got = phoenix_api.wait_for_spans(f"http://127.0.0.1:{ui}", "default", at_least=1)
        assert [s["name"] for s in got] == ["ChatCompletion"]
        attrs = got[0]["attributes"]
        assert attrs["llm.model_name"] == "gpt-4o-mini"
        assert attrs["litellm.mock_response"] is True
        assert attrs["output.value"]  # the answer, as the client got it

        os.write(term.master, b"\x03")  # Ctrl-C
        rc = None
        end = time.monotonic() + 90
        while time.monotonic() < end and (rc := term.proc.poll()) is None:
            term.read(0.5)
        assert rc == 0, f"`make run` ended with {rc} after Ctrl-C:\n{term.text()[-3000:]}"
        assert "Error" not in term.text(), term.text()[-3000:]
        for p in (port, ui, grpc):  # the proxy and Phoenix are gone
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex(("127.0.0.1", p)) != 0, f"something still listens on {p}"
    finally:
        term.close()

