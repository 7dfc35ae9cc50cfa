#!/usr/bin/env bash
# `make run`: the proxy, and a local Phoenix for its spans unless
# PHOENIX_COLLECTOR_ENDPOINT (default http://localhost:4317) already names a
# collector that answers. Phoenix comes from the pinned virtual environment
# the end-to-end suite builds, keeps its data under .phoenix/ (git-ignored;
# PHOENIX_WORKING_DIR to change), and listens on loopback only.
#
# Ctrl-C stops the proxy (which drains its calls and flushes its spans),
# then Phoenix, and exits 0. The proxy runs as the terminal's foreground job
# (job control, set -m), so the Ctrl-C reaches it alone and not make.
set -euo pipefail
set -m

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=$repo/integration/e2e/.venv/bin/python
proxy=$repo/bin/llmproxy

# hostport ENDPOINT: the host and port an OTLP endpoint dials.
hostport() {
	local rest=${1#*://}
	rest=${rest%%/*}
	case $rest in
	*:*) echo "$rest" ;;
	*) case $1 in https://*) echo "$rest:443" ;; *) echo "$rest:4317" ;; esac ;;
	esac
}

# answers HOST:PORT: something accepts TCP connections there.
answers() {
	local host=${1%:*} port=${1##*:}
	[[ $host == localhost ]] && host=127.0.0.1
	timeout 1 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

endpoint=${PHOENIX_COLLECTOR_ENDPOINT:-http://localhost:4317}
phoenix_pid=
stop_phoenix() {
	if [[ -n $phoenix_pid ]]; then
		kill -TERM -- "-$phoenix_pid" 2>/dev/null || true
		wait "$phoenix_pid" 2>/dev/null || true
	fi
}
trap stop_phoenix EXIT

if answers "$(hostport "$endpoint")"; then
	echo "run: spans go to $endpoint, which answers (no local Phoenix started)"
else
	if [[ -n ${PHOENIX_COLLECTOR_ENDPOINT:-} ]]; then
		echo "run: PHOENIX_COLLECTOR_ENDPOINT=$endpoint does not answer; starting a local Phoenix instead"
	fi
	ui_port=${PHOENIX_PORT:-6006}
	grpc_port=${PHOENIX_GRPC_PORT:-4317}
	work=${PHOENIX_WORKING_DIR:-$repo/.phoenix}
	mkdir -p "$work"
	echo "run: starting Phoenix (log: $work/phoenix.log)"
	PHOENIX_HOST=127.0.0.1 PHOENIX_PORT=$ui_port PHOENIX_GRPC_PORT=$grpc_port PHOENIX_WORKING_DIR=$work \
		PHOENIX_TELEMETRY_ENABLED=false PHOENIX_ALLOW_EXTERNAL_RESOURCES=false \
		"$python" "$repo/integration/e2e/tests/phoenix_loopback.py" serve >"$work/phoenix.log" 2>&1 &
	phoenix_pid=$!
	ready=
	for _ in $(seq 240); do
		if answers "127.0.0.1:$grpc_port" && "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "http://127.0.0.1:$ui_port/healthz" 2>/dev/null; then
			ready=1
			break
		fi
		if ! kill -0 "$phoenix_pid" 2>/dev/null; then
			echo "run: Phoenix did not start; the end of $work/phoenix.log:" >&2
			tail -n 20 "$work/phoenix.log" >&2
			exit 1
		fi
		sleep 0.5
	done
	if [[ -z $ready ]]; then
		echo "run: Phoenix did not answer within 2 minutes (log: $work/phoenix.log)" >&2
		exit 1
	fi
	echo "run: Phoenix UI at http://localhost:$ui_port"
	export PHOENIX_COLLECTOR_ENDPOINT=http://127.0.0.1:$grpc_port
	unset OTEL_EXPORTER_OTLP_PROTOCOL
fi

status=0
"$proxy" || status=$?
exit "$status"
