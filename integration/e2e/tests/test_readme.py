"""Every client snippet in the README runs as written (but for the proxy's
address) against the proxy, and prints the provider's recorded answer: the
snippets call the models and say the words of recorded cassettes
(chat-basic, oi-messages), which the fake provider replays; the google-genai
snippet's request, which no recording holds, is in a synthetic cassette
(synthetic-gemini-readme) with a recorded answer to the same question."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import API_KEY, Stack, start_proxy
from processes import base_env

REPO = Path(__file__).resolve().parents[3]
NODE_DIR = Path(__file__).resolve().parents[1] / "node"

OPENAI_ANSWER = "Hi there! How can I help you today?"
ANTHROPIC_ANSWER = "The capital of France is **Paris**."
GEMINI_ANSWER = "The capital of France is Paris."


def snippets() -> list[tuple[str, str]]:
    """The (language, code) blocks of the README's "Using it" section."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Using it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(python|js)\n(.*?)```", section, re.S)


def test_readme_has_the_client_snippets() -> None:
    codes = [code for _, code in snippets()]
    assert [lang for lang, _ in snippets()] == ["python", "js", "python", "python", "python"]
    assert "from openai import OpenAI" in codes[0] and "import litellm" in codes[2] and "import anthropic" in codes[3]
    assert "from google import genai" in codes[4]


@pytest.fixture(scope="module")
def readme_proxy(stack: Stack) -> str:
    # A proxy of its own: these calls' spans stay out of the suite's project.
    _, url = start_proxy("proxy-readme", stack.fake, stack.grpc, "readme-snippets")
    return url


@pytest.mark.parametrize("index", range(5), ids=["openai-python", "openai-node", "litellm", "anthropic", "google-genai"])
def test_readme_snippet_runs(readme_proxy: str, index: int, tmp_path: Path) -> None:
    lang, code = snippets()[index]
    code = code.replace("http://localhost:4000", readme_proxy)
    env = base_env(
        OPENAI_API_KEY=API_KEY,
        ANTHROPIC_API_KEY=API_KEY,
        GEMINI_API_KEY=API_KEY,
        LITELLM_PROXY_API_KEY=API_KEY,
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        NO_PROXY="127.0.0.1,localhost,::1",
    )
    if lang == "python":
        cmd, cwd = [sys.executable, "-c", code], tmp_path
    else:
        # An ES module beside node_modules, where `import OpenAI from "openai"` resolves.
        script = NODE_DIR / f"readme-snippet-{os.getpid()}.mjs"
        script.write_text(code)
        cmd, cwd = ["node", str(script)], NODE_DIR
    try:
        done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    finally:
        if lang == "js":
            script.unlink()
    assert done.returncode == 0, f"README snippet {index} failed:\n{code}\n{done.stderr[-3000:]}"
    want = ANTHROPIC_ANSWER if "anthropic" in code else GEMINI_ANSWER if "genai" in code else OPENAI_ANSWER
    lines = done.stdout.rstrip("\n").splitlines()  # Gemini's answer ends in a newline of its own
    assert lines and all(line.startswith(want) for line in lines), done.stdout
