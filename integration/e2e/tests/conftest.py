"""Session fixtures: Phoenix, the fake provider and the proxy, started once on
loopback; every case run once through the proxy and once by the oracle; the
spans of both read back from Phoenix.

Logs, call results and span dumps land in integration/e2e/.artifacts (or
$E2E_ARTIFACTS); on failure the tail of each log is printed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

# Offline: LiteLLM reads its bundled model cost map instead of fetching one,
# and any HTTP(S) request to a non-loopback host from this process or the
# oracle fails at once on a closed local port instead of leaving the machine.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
for _k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ[_k] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"
for _k in list(os.environ):
    if _k.startswith(
        ("OPENAI_", "OTEL_", "PHOENIX_", "ANTHROPIC_", "GEMINI_", "GOOGLE_", "VERTEXAI_", "CLOUD_ML_", "LITELLM_PROXY_", "USE_LITELLM_PROXY")
        + ("AWS_", "CLAUDE_CODE_")
    ):
        del os.environ[_k]

import cases  # noqa: E402
import phoenix_api  # noqa: E402
import recorded  # noqa: E402
from processes import Service, base_env, free_port, tail  # noqa: E402

E2E = Path(__file__).resolve().parents[1]
TESTS = E2E / "tests"
BIN = Path(os.environ.get("E2E_BIN") or E2E / ".bin")
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS") or E2E / ".artifacts")

# The dummy key every client sends. Random per run so a match in a span can
# only have come from this run's requests.
API_KEY = "sk-e2e-dummy-" + secrets.token_hex(12)
PROXY_PROJECT = "e2e-proxy"
ORACLE_PROJECTS = {
    "openai": "oracle-openai",
    "litellm": "oracle-litellm",
    "anthropic": "oracle-anthropic",
    "google-genai": "oracle-google-genai",
    "bedrock": "oracle-bedrock",
}
# The proxy's AWS credentials, with which it signs every Bedrock call (the
# fake provider takes these and the oracle's, never a client's through the
# proxy). The secret and session token are random per run, so a match in a
# span or a log can only have come from this run's proxy.
PROXY_AWS_KEY_ID = "AKIAE2EPROXY00000000"
PROXY_AWS_SECRET = "e2e/proxy/" + secrets.token_hex(16)
PROXY_AWS_SESSION_TOKEN = "e2e-proxy-session-" + secrets.token_hex(16)


@dataclass
class Stack:
    phoenix: str  # http://127.0.0.1:PORT (UI, REST)
    grpc: str  # http://127.0.0.1:PORT (OTLP gRPC)
    # http://127.0.0.1:PORT: serves /v1/..., Anthropic's /v1/messages, Gemini's
    # /v1beta/openai/... and /v1beta/models/..., Vertex AI's /v1beta1/projects/...
    fake: str
    proxy: str  # http://127.0.0.1:PORT
    proxy_service: Service
    work: Path  # scratch directory, removed at the end


def _binary(name: str) -> Path:
    p = BIN / name
    if not os.access(p, os.X_OK):
        pytest.exit(
            f"{p} is missing: run the suite with `make -C integration/e2e test`, which builds it "
            f"(or set E2E_BIN to a directory holding proxy and fakeprovider)",
            returncode=1,
        )
    return p


def _tcp_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_phoenix(work: Path) -> tuple[Service, str, str]:
    port, grpc_port = free_port(), free_port()
    env = base_env(
        PHOENIX_HOST="127.0.0.1",
        PHOENIX_PORT=str(port),
        PHOENIX_GRPC_PORT=str(grpc_port),
        PHOENIX_WORKING_DIR=str(work / "phoenix"),  # SQLite lives here
        # Nothing leaves the machine: no usage telemetry, no fetching of the
        # WASM sandbox binary or the docs MCP server, no assistant.
        PHOENIX_TELEMETRY_ENABLED="false",
        PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
        PHOENIX_DISABLE_AGENT_ASSISTANT="true",
        PHOENIX_LOG_MIGRATIONS="false",
        NO_PROXY="127.0.0.1,localhost,::1",
    )
    svc = Service(
        "phoenix",
        [sys.executable, str(TESTS / "phoenix_loopback.py"), "serve"],
        env,
        ARTIFACTS / "phoenix.log",
    )
    url = f"http://127.0.0.1:{port}"
    svc.wait_http_ok(f"{url}/healthz", timeout=120)
    svc.wait_until(lambda: _tcp_open(grpc_port), timeout=30, what=f"accepting gRPC on {grpc_port}")
    return svc, url, f"http://127.0.0.1:{grpc_port}"


def cassette_dir(work: Path) -> Path:
    """The recorded cassettes (chat, completions, embeddings; the Responses
    API; Anthropic's Messages API; Google's generateContent, on the Gemini
    API and Vertex AI) plus the suite's synthetic ones, in one folder."""
    d = work / "cassettes"
    d.mkdir()
    for src in recorded.CASSETTE_DIRS:
        for f in sorted(src.glob("*.yaml")):
            if not (d / f.name).exists():  # a name two directories share: the first's (as recorded.cassette_path)
                (d / f.name).symlink_to(f)
    return d


def start_fake(work: Path, name: str = "fakeprovider") -> tuple[Service, str]:
    """The fake provider, serving the cassettes from a folder under work;
    its log is ARTIFACTS/<name>.log."""
    svc = Service(
        name,
        [
            str(_binary("fakeprovider")),
            *("-addr", "127.0.0.1:0", "-cassettes", str(cassette_dir(work)), "-pace", "2ms"),
            # Bedrock Runtime's routes take SigV4 signatures of the proxy's
            # credentials and of the oracle's (boto3 calling it directly).
            "-aws-credentials",
            f"{PROXY_AWS_KEY_ID}:{PROXY_AWS_SECRET}:{PROXY_AWS_SESSION_TOKEN},{':'.join(cases.BEDROCK_ORACLE_KEYS)}",
            *("-aws-region", cases.BEDROCK_REGION),
        ],
        base_env(),
        ARTIFACTS / f"{name}.log",
    )
    m = svc.wait_log_line(r"listening on (http://127\.0\.0\.1:\d+)", timeout=30)
    return svc, m.group(1)


def _empty_home() -> Path:
    home = ARTIFACTS / "proxy-home"
    home.mkdir(parents=True, exist_ok=True)
    return home


def start_proxy(name: str, fake: str, grpc: str, project: str, **extra: str) -> tuple[Service, str]:
    port = free_port()
    settings = {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "OPENAI_API_BASE": f"{fake}/v1",
        # Anthropic's server root (the proxy adds /v1/messages), the Gemini
        # API's OpenAI-compatible endpoint (its native routes go under the
        # root before /v1beta/openai; gemini/ models stay on the endpoint,
        # as the cases' cassettes hold them: test_google_clients.py runs a
        # proxy with the root, which translates them) and Vertex AI's (in
        # place of each location's host): the fake too.
        "ANTHROPIC_API_BASE": fake,
        "GEMINI_API_BASE": f"{fake}/v1beta/openai",
        "VERTEXAI_API_BASE": fake,
        # No Google credentials: the Vertex clients' own bearer tokens pass.
        # An empty home, so that no gcloud Application Default Credentials of
        # the machine's are found instead.
        "HOME": str(_empty_home()),
        # Bedrock Runtime: the fake too, every call signed with the proxy's
        # AWS credentials (from the environment, as the AWS SDKs find them;
        # no shared config file or instance role to probe).
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": fake,
        "AWS_ACCESS_KEY_ID": PROXY_AWS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": PROXY_AWS_SECRET,
        "AWS_SESSION_TOKEN": PROXY_AWS_SESSION_TOKEN,
        "AWS_REGION": cases.BEDROCK_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "PHOENIX_COLLECTOR_ENDPOINT": grpc,
        "PHOENIX_PROJECT_NAME": project,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms: spans reach Phoenix quickly
    }
    settings.update(extra)
    env = base_env(**settings)
    svc = Service(name, [str(_binary("proxy"))], env, ARTIFACTS / f"{name}.log")
    url = f"http://127.0.0.1:{port}"
    svc.wait_http_ok(f"{url}/health/readiness", timeout=30)
    return svc, url


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix="proxy-e2e-"))
    try:
        _, phoenix_url, grpc = start_phoenix(work)
        _, fake = start_fake(work)
        proxy_svc, proxy = start_proxy("proxy", fake, grpc, PROXY_PROJECT)
        (ARTIFACTS / "stack.json").write_text(
            json.dumps({"phoenix": phoenix_url, "grpc": grpc, "fake": fake, "proxy": proxy, "work": str(work)}, indent=2)
        )
        yield Stack(phoenix_url, grpc, fake, proxy, proxy_svc, work)
    finally:
        Service.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def _dump(name: str, data: Any) -> None:
    (ARTIFACTS / name).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@pytest.fixture(scope="session")
def proxy_calls(stack: Stack) -> dict[str, Any]:
    """Every case, through the proxy, from this (uninstrumented) process."""
    target = cases.Target(root=stack.proxy, api_key=API_KEY, via_proxy=True)
    calls = cases.run_cases(cases.CASES, target)
    _dump("calls-proxy.json", calls)
    return calls


def _run_oracle(stack: Stack, instrumentor: str, ids: list[str]) -> dict[str, Any]:
    out = ARTIFACTS / f"calls-oracle-{instrumentor}.json"
    log = ARTIFACTS / f"oracle-{instrumentor}.log"
    cmd = [
        sys.executable,
        str(TESTS / "oracle.py"),
        "--instrumentor",
        instrumentor,
        "--root",
        stack.fake,
        "--grpc",
        stack.grpc,
        "--project",
        ORACLE_PROJECTS[instrumentor],
        "--api-key",
        API_KEY,
        "--out",
        str(out),
        *ids,
    ]
    with open(log, "wb") as f:
        p = subprocess.run(cmd, cwd=TESTS, env=dict(os.environ), stdout=f, stderr=subprocess.STDOUT, timeout=300)
    if p.returncode != 0:
        pytest.fail(f"oracle ({instrumentor}) exited {p.returncode}; last lines of {log}:\n{tail(log)}")
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def oracle_calls(stack: Stack, proxy_calls: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The same calls straight to the fake provider, instrumented by the
    official instrumentors (after the proxy calls, so windows never overlap):
    each case by the instrumentors its `oracles` name."""
    return {
        instrumentor: _run_oracle(stack, instrumentor, [c.id for c in cases.CASES if instrumentor in c.oracles])
        for instrumentor in ORACLE_PROJECTS
    }


@pytest.fixture(scope="session")
def proxy_spans_all(stack: Stack, proxy_calls: dict[str, Any]) -> list[dict[str, Any]]:
    got = phoenix_api.wait_for_spans(stack.phoenix, PROXY_PROJECT, at_least=len(cases.CALLS))
    _dump("spans-proxy.json", got)
    return got


@pytest.fixture(scope="session")
def proxy_spans(proxy_spans_all: list[dict[str, Any]], proxy_calls: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The proxy's spans, per case id."""
    return phoenix_api.by_case(proxy_spans_all, proxy_calls)


@pytest.fixture(scope="session")
def oracle_spans(stack: Stack, oracle_calls: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The instrumentors' spans: {"openai"|"litellm": {case id: [spans]}}."""
    out = {}
    for instrumentor, calls in oracle_calls.items():
        # The litellm instrumentor does not trace every LiteLLM function
        # (text_completion), so it is awaited by count (a span per model
        # call) only for openai and anthropic.
        at_least = sum(cases.BY_ID[i].turns for i in calls) if instrumentor != "litellm" else 1
        got = phoenix_api.wait_for_spans(stack.phoenix, ORACLE_PROJECTS[instrumentor], at_least=at_least, settle=1.5)
        _dump(f"spans-oracle-{instrumentor}.json", got)
        out[instrumentor] = phoenix_api.by_case(got, calls)
    return out


# --- process hygiene and failure output ---------------------------------------


def _sigterm(signum: int, frame: Any) -> None:
    # CI and make stop a run with SIGTERM: turn it into KeyboardInterrupt so
    # fixtures tear down and every server started here is stopped.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    signal.signal(signal.SIGTERM, _sigterm)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if exitstatus == 0 or not ARTIFACTS.exists():
        return
    for log in sorted(ARTIFACTS.glob("*.log")):
        terminalreporter.write_sep("-", f"last lines of {log.relative_to(E2E) if log.is_relative_to(E2E) else log}")
        terminalreporter.write_line(tail(log, 60))
    terminalreporter.write_line(f"logs, call results and span dumps: {ARTIFACTS}")
