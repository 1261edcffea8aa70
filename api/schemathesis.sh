#!/usr/bin/env bash
# schemathesis.sh runs schemathesis against the local stack's API, for
# `make fuzz`: it builds and starts the devstack without its demo,
# waits for the URL and dev token it writes, runs schemathesis from
# api/openapi.yaml with the checks for no 5xx and answers that match
# the description, bounded in examples and time, and stops the stack
# by its PID however the run ends.
#
# Environment: VENV (default .venv), ST_EXAMPLES (test cases per
# operation, default 25), ST_TIME (seconds for the whole run, default
# 180), ST_SEED (default 1).
set -euo pipefail

venv=${VENV:-.venv}
examples=${ST_EXAMPLES:-25}
budget=${ST_TIME:-180}
seed=${ST_SEED:-1}

work=$(mktemp -d "${TMPDIR:-/tmp}/cascade-schemathesis-XXXXXX")
pid=""
stop() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid"
		wait "$pid" || true
	fi
}
trap stop EXIT

# A built binary, so the PID we stop is the stack's own, not go run's.
go build -o "$work/devstack" ./cmd/devstack
"$work/devstack" -demo=false -serve=true -info "$work/info.json" \
	>"$work/devstack.out" 2>&1 &
pid=$!

for _ in $(seq 240); do
	[[ -s $work/info.json ]] && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/devstack.out"; exit 1; }
	sleep 0.5
done
[[ -s $work/info.json ]] || { echo "devstack did not start"; cat "$work/devstack.out"; exit 1; }
read -r url token < <("$venv/bin/python" -c \
	'import json,sys; d=json.load(open(sys.argv[1])); print(d["url"], d["token"])' "$work/info.json")
echo "schemathesis against $url (stack pid $pid, logs in $work)"

"$venv/bin/schemathesis" --no-color run api/openapi.yaml \
	--url "$url" \
	-H "Authorization: Bearer $token" \
	--checks not_a_server_error,response_schema_conformance \
	--phases examples,coverage,fuzzing \
	--max-examples "$examples" \
	--max-time "$budget" \
	--seed "$seed" \
	--workers 1 \
	--generation-database none \
	--report junit --report-dir "$work/report"
