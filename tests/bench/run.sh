#!/usr/bin/env bash
# tests/bench/run.sh: conformd against a bare libmicrohttpd server, measured
# in one run with wrk on this machine, with the ratio printed. Starts its own
# throwaway PostgreSQL. Figures, not pass/fail: the targets are printed
# beside them.
#
#   tests/bench/run.sh [SECONDS] [CONNECTIONS]
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. deploy/local/common.sh

duration=${1:-10}
conns=${2:-64}
threads=${CONFORM_BENCH_THREADS:-$(nproc)}

conform_install $CONFORM_PACKAGES $CONFORM_TEST_PACKAGES
build=$top/build
[ -n "${CONFORM_BENCH_NO_BUILD:-}" ] || conform_build "$top" "$build"

tmp=$(mktemp -d /tmp/conform-bench.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	conform_pg_stop "$tmp" || true
	rm -rf "$tmp"
}
trap cleanup EXIT

conform_pg_init "$tmp" "fsync = off" "synchronous_commit = off"
conform_pg_start "$tmp"
conform_pg_roles "$tmp"
conform_pg_database "$tmp" conform
sock=$(readlink -f "$tmp")/sock
export CONFORM_DATABASE_OWNER_URL="host=$sock dbname=conform user=conform_owner"
export CONFORM_DATABASE_URL="host=$sock dbname=conform user=conform_app"
"$build/conformctl" db migrate >/dev/null

# wrk_rps URL: requests per second of a wrk run (all 2xx, or it fails).
wrk_rps() {
	out=$(wrk -t2 -c"$conns" -d"${duration}s" --latency "$1")
	if echo "$out" | grep -q "Non-2xx"; then
		echo "$out" >&2
		conform_die "non-2xx answers from $1"
	fi
	echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

wait_http() {
	for _ in $(seq 100); do curl -fs "$1" >/dev/null && return 0; sleep 0.1; done
	conform_die "$1 did not answer"
}

port_base=18081
port_conformd=18082

"$build/bench_baseline" "$port_base" "$threads" &
pids+=($!)
wait_http "http://127.0.0.1:$port_base/v1/health"
wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$port_base/v1/health" >/dev/null # warm-up
base=$(wrk_rps "http://127.0.0.1:$port_base/v1/health")
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

CONFORM_LISTEN=127.0.0.1:$port_conformd CONFORM_THREADS=$threads CONFORM_DATA_DIR=$tmp/data-dir \
	"$build/conformd" 2>"$tmp/conformd.log" &
pids+=($!)
wait_http "http://127.0.0.1:$port_conformd/v1/health"
wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$port_conformd/v1/health" >/dev/null
health=$(wrk_rps "http://127.0.0.1:$port_conformd/v1/health")

printf '\n%-44s %12s %8s %8s\n' "endpoint" "requests/s" "ratio" "target"
printf '%-44s %12.0f %8s %8s\n' "baseline: bare libmicrohttpd" "$base" "1.00" ""
printf '%-44s %12.0f %8.2f %8s\n' "conformd GET /v1/health" "$health" \
	"$(awk -v a="$health" -v b="$base" 'BEGIN{print a/b}')" ">=0.80"
echo
echo "($threads server threads, wrk -t2 -c$conns -d${duration}s, $(nproc) CPUs shared by server and wrk;"
echo " conformd writes its access log to a file, as in production)"
