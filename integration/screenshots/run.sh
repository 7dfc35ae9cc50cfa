#!/usr/bin/env bash
# `make screenshots`: the README's pictures of Phoenix (docs/images/), made
# afresh. Starts, on loopback and free ports, a Phoenix with an empty
# working directory (from the end-to-end suite's venv), the fake provider in
# its conversation mode and the proxy in front of it; sends agents.py's
# conversations through the proxy into three projects (one per way of
# grouping calls into traces); takes the pictures with a headless Chromium
# (shoot.py); stops what it started.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/integration/screenshots
python=$repo/integration/e2e/.venv/bin/python
out=${SCREENSHOTS_DIR:-$repo/docs/images}
work=$(mktemp -d -t screenshots-XXXXXX)

pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_http URL LOG: until URL answers 200, or say why not.
wait_http() {
	for _ in $(seq 240); do
		if "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.5
	done
	echo "screenshots: $1 did not answer; the end of $2:" >&2
	tail -n 20 "$2" >&2
	exit 1
}

cd "$repo"
go build -o "$work/llmproxy" .
go build -o "$work/fakeprovider" ./integration/cmd/fakeprovider

ui=$(free_port)
grpc=$(free_port)
env -i PATH="$PATH" HOME="$work" PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$ui" PHOENIX_GRPC_PORT="$grpc" \
	PHOENIX_WORKING_DIR="$work/phoenix" PHOENIX_TELEMETRY_ENABLED=false PHOENIX_ALLOW_EXTERNAL_RESOURCES=false \
	"$python" "$repo/integration/e2e/tests/phoenix_loopback.py" serve >"$work/phoenix.log" 2>&1 &
pids+=($!)

fake=$(free_port)
"$work/fakeprovider" -addr "127.0.0.1:$fake" -conversation >"$work/fake.log" 2>&1 &
pids+=($!)

wait_http "http://127.0.0.1:$ui/healthz" "$work/phoenix.log"

port=$(free_port)
env -i PATH="$PATH" HOME="$work" PORT="$port" HOST=127.0.0.1 \
	OPENAI_API_BASE="http://127.0.0.1:$fake/v1" ANTHROPIC_API_BASE="http://127.0.0.1:$fake" \
	PHOENIX_COLLECTOR_ENDPOINT="http://127.0.0.1:$grpc" PHOENIX_PROJECT_PATTERN='agents-.*' \
	OTEL_BSP_SCHEDULE_DELAY=200 "$work/llmproxy" >"$work/proxy.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/health/readiness" "$work/proxy.log"

proxy=http://127.0.0.1:$port
"$python" "$here/agents.py" "$proxy" agents-per-call call
"$python" "$here/agents.py" "$proxy" agents-shared-trace shared
"$python" "$here/agents.py" "$proxy" agents-per-turn turn "127.0.0.1:$grpc"

# Every call's span in Phoenix: 11 calls a run (4 + 3 + 4), and the
# client's 5 turn spans in the last.
"$python" - "http://127.0.0.1:$ui" <<'EOF'
import json, sys, time, urllib.error, urllib.request

base = sys.argv[1]
want = {"agents-per-call": 11, "agents-shared-trace": 11, "agents-per-turn": 16}
deadline = time.time() + 60
while True:
    got = {}
    for project in want:
        try:
            with urllib.request.urlopen(f"{base}/v1/projects/{project}/spans?limit=100", timeout=10) as r:
                got[project] = len(json.load(r)["data"])
        except urllib.error.HTTPError:  # 404: no span of the project yet
            got[project] = 0
    if got == want:
        break
    if time.time() > deadline:
        sys.exit(f"screenshots: spans in Phoenix {got}, want {want}")
    time.sleep(0.5)
EOF

cd "$here"
"$python" shoot.py "http://127.0.0.1:$ui" "$out" agents-per-call agents-shared-trace agents-per-turn
