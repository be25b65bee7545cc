#!/usr/bin/env bash
# tests/bench/shelf_check.sh: the shelf check benchmark of issue 15. A
# register whose certificates state GTINs (one `conformctl demo`, cloned in
# SQL through the database's checks, each clone's product snapshot given its
# own GTIN), then POST /v1/shelf-check of N GTINs (default 10,000: a quarter
# certified, a few malformed, the rest unknown), timed with curl, while
# conformd's resident set is sampled. Prints each figure beside its target
# (< 2 s; constant memory: the growth does not follow N). A benchmark, not a
# test: it fails only when a step errors. Starts its own throwaway
# PostgreSQL (fsync off) and conform-signer.
#
#   tests/bench/shelf_check.sh [N]     N from 1 to 10000
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. deploy/local/common.sh
# shellcheck source=tests/bench/common.sh
. tests/bench/common.sh

n=${1:-10000}
case $n in ''|*[!0-9]*) conform_die "N: not a number: $n" ;; esac
[ "$n" -ge 1 ] && [ "$n" -le 10000 ] || conform_die "N: from 1 to 10000 (the shelf check's limit)"
certified=$(( n / 4 > 0 ? n / 4 : 1 ))

conform_install $CONFORM_PACKAGES $CONFORM_TEST_PACKAGES
build=$top/build
[ -n "${CONFORM_BENCH_NO_BUILD:-}" ] || conform_build "$top" "$build"

bench_workdir conform-shelf

bench_cluster
bench_signer
port=$(( 20000 + RANDOM % 12000 ))
base_url="http://127.0.0.1:$port"
"$build/conformctl" identity set "$base_url" >/dev/null
"$build/conformctl" demo >/dev/null

# The GTINs: the first $certified certified, every hundredth malformed (its
# check digit off by one), the rest unknown. GTIN-13s 50... with their check
# digit.
python3 - "$n" "$certified" "$tmp" <<'PY'
import json, sys
n, certified, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def gtin(i):
    body = "50%010d" % i
    s = sum(int(c) * (1 if k % 2 == 0 else 3) for k, c in enumerate(body))
    return body + str((10 - s % 10) % 10)
items = []
for i in range(n):
    g = gtin(i)
    if i >= certified and i % 100 == 99:
        g = g[:-1] + str((int(g[-1]) + 1) % 10)
    items.append(g)
open(tmp + "/certified.txt", "w").write("\n".join(items[:certified]) + "\n")
json.dump(items, open(tmp + "/request.json", "w"))
PY
say "cloning the demo certificate into $certified certificates, each with its own GTIN"
bench_clone_register "$certified" "
CREATE TEMP TABLE gt (gtin text);
COPY gt FROM '$tmp/certified.txt';
CREATE TEMP TABLE g AS SELECT i, 0 AS t, i AS j, app, gtin
	FROM (SELECT row_number() OVER () AS i, gen_random_uuid() AS app, gtin FROM gt) n;
CREATE TEMP TABLE tp AS SELECT 0 AS t, serial, application_id AS id FROM certificate ORDER BY seq
	LIMIT 1;"
chmod 644 "$tmp/certified.txt"
say "register: $(sql "SELECT count(*) FROM certificate") certificates"

CONFORM_LISTEN=127.0.0.1:$port "$build/conformd" 2>"$tmp/conformd.log" &
cpid=$!
pids+=($cpid)
for _ in $(seq 300); do curl -fs -m 10 "$base_url/v1/health" >/dev/null && break; sleep 0.1; done
curl -fs -m 10 "$base_url/v1/health" >/dev/null || { tail -20 "$tmp/conformd.log" >&2; conform_die "conformd did not answer"; }
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$cpid/status"; }

shelf() { # OUT: POST the request, the answer in OUT; prints curl's total time
	curl -sS -o "$1" -w '%{http_code} %{time_total}\n' -H 'Content-Type: application/json' \
		--data-binary @"$tmp/request.json" "$base_url/v1/shelf-check"
}
cold=$(rss)
shelf "$tmp/warm.jsonl" >/dev/null # warm-up: connections, plans, pages
before=$(rss)
peak=$before
shelf "$tmp/answer.jsonl" >"$tmp/curl.out" &
curl_pid=$!
while kill -0 "$curl_pid" 2>/dev/null; do
	r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.01
done
wait "$curl_pid"
read -r code seconds <"$tmp/curl.out"
[ "$code" = 200 ] || conform_die "the shelf check answered $code"
lines=$(wc -l <"$tmp/answer.jsonl")
[ "$lines" -eq "$n" ] || conform_die "$lines answer lines for $n GTINs"
got_certified=$(grep -c '"status":"certified"' "$tmp/answer.jsonl" || true)
errors=$(grep -c '"error"' "$tmp/answer.jsonl" || true)
growth=$(( peak - before ))
say "POST /v1/shelf-check of $n GTINs: $seconds s, $lines lines ($got_certified certified, $errors malformed)"
printf '%-45s | %-14s | %s\n' "figure" "value" "target"
printf '%-45s | %-14s | %s\n' "shelf check of $n GTINs, time" "$seconds s" "< 2 s"
printf '%-45s | %-14s | %s\n' "conformd VmRSS growth during it (sampled)" \
	"$(awk -v k="$growth" 'BEGIN{printf "%.1f MiB", k/1024}')" \
	"constant: pages of 500 GTINs, not N"
printf '%-45s | %-14s | %s\n' "conformd VmRSS: fresh / after the first check" \
	"$(awk -v a="$cold" -v b="$before" 'BEGIN{printf "%.1f / %.1f MiB", a/1024, b/1024}')" "-"
