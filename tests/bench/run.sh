#!/usr/bin/env bash
# tests/bench/run.sh: the benchmarks of issue 12, all in one run on this
# machine, each figure printed beside its target. Figures, not pass/fail: the
# script fails only when a step errors or wrk sees a non-2xx answer. Starts
# its own throwaway PostgreSQL (fsync off) and conform-signer.
#
#   tests/bench/run.sh [--register N] [SECONDS] [CONNECTIONS]
#
#   --register N   certificates in the register (default 100000)
#   SECONDS        length of each measurement (default 10)
#   CONNECTIONS    wrk connections (default 32; wrk threads:
#                  CONFORM_BENCH_WRK_THREADS, default 1; server threads:
#                  CONFORM_BENCH_THREADS, default conformd's own default,
#                  eight per CPU (at most 64), the same for conformd, the
#                  baseline and the naive server)
#
# Rows, in this order:
#   1. bare libmicrohttpd (bench_baseline): GET /v1/health, the reference;
#   2. conformd GET /v1/health against it;
#   3. conformd's peak resident growth around a 64 MiB evidence upload;
#   4. the register: five `conformctl demo` runs (five bodies), the first
#      certificate cloned N times in SQL by the superuser through the
#      database's own checks (constraints, triggers);
#   5. GET /v1/certificates/{serial}, cold: every serial read once in a
#      pseudo-random order (walk.lua), against the naive server (bench_naive:
#      libmicrohttpd + libpq, one prepared SELECT) and a freshly started
#      conformd with the default settings; then that conformd's resident
#      memory after a full pass, and its resident growth while it streams
#      GET /v1/register/export;
#   6. the same, warm: a conformd whose CONFORM_CERT_CACHE holds the
#      register, after one full pass, serials at random (random.lua);
#   7. POST /v1/verify with the demo's real credential (verify.lua) against
#      one core's `openssl speed ed25519` verifications;
#   8. issuance: approved applications cloned per body in SQL (four bodies,
#      each with its own certifier token), issued through the API by eight
#      clients at once (bench_issue), against pgbench TPC-B (-c 8 -j 2) on
#      another database of the same cluster; then `conformctl log verify`.
# The closing table repeats every row: path | figure | ratio | target. A
# copy of the output is kept in build/bench-<date>.txt.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. deploy/local/common.sh
# shellcheck source=tests/bench/common.sh
. tests/bench/common.sh

register=100000
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--register) [ $# -ge 2 ] || conform_die "--register needs a number"; register=$2; shift 2 ;;
	--register=*) register=${1#*=}; shift ;;
	-h|--help) sed -n '2,40p' "$0"; exit 0 ;;
	*) args+=("$1"); shift ;;
	esac
done
case $register in ''|*[!0-9]*) conform_die "--register: not a number: $register" ;; esac
[ "$register" -ge 1000 ] && [ "$register" -le 9000000 ] ||
	conform_die "--register: between 1000 and 9000000 (serials CF-2026-0100001 upwards have 7 digits)"
duration=${args[0]:-10}
conns=${args[1]:-32}
# conformd's default worker count (server/server.c): eight per CPU, at most 64
default_threads=$(( $(nproc) * 8 > 64 ? 64 : $(nproc) * 8 ))
threads=${CONFORM_BENCH_THREADS:-$default_threads}
wrk_threads=${CONFORM_BENCH_WRK_THREADS:-1}
issue_per_body=${CONFORM_BENCH_ISSUE_PER_BODY:-5000}
# enough for every answer of the register (about 3.5 KB each today), and at least 512 MiB
warm_cache=${CONFORM_BENCH_CERT_CACHE:-$(( register * 6 / 1024 > 512 ? register * 6 / 1024 : 512 ))MiB}

conform_install $CONFORM_PACKAGES $CONFORM_TEST_PACKAGES
build=$top/build
[ -n "${CONFORM_BENCH_NO_BUILD:-}" ] || conform_build "$top" "$build"
command -v pgbench >/dev/null || conform_die "pgbench is missing (postgresql-client-15)"

report=$build/bench-$(date -u +%Y%m%dT%H%M%SZ).txt
exec > >(tee "$report") 2>&1

bench_workdir conform-bench
started_at=$(date +%s)
say "register of $register certificates, $duration s per measurement, wrk -t$wrk_threads -c$conns," \
	"$threads server threads, $(nproc) CPUs"

bench_cluster
bench_signer

wrk_check() { # OUTPUT WHAT: fails on non-2xx or socket errors
	if echo "$1" | grep -qE "Non-2xx|Socket errors"; then
		echo "$1" >&2
		conform_die "$2: non-2xx answers or socket errors"
	fi
}
wrk_rps() { # URL [SCRIPT [ARG...]]: requests per second of a wrk run
	local url=$1 out
	shift
	if [ $# -gt 0 ]; then
		local script=$1
		shift
		out=$(wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" -s "$script" "$url" -- "$@")
	else
		out=$(wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" "$url")
	fi
	wrk_check "$out" "$url"
	echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}
walk() { # URL SECONDS SEED [LIMIT]: walk.lua; prints "RATE COMPLETE(all|part) REQUESTS"
	local out
	out=$(wrk -t"$wrk_threads" -c"$conns" -d"${2}s" -s tests/bench/walk.lua "$1" -- "$register" \
		"$wrk_threads" "$3" "${4:-$register}")
	wrk_check "$out" "walk of $1"
	echo "$out" | awk '/^walk:/ {gsub(/[()\/s]/, "", $7); print $7, $8, $2}' |
		sed 's/[()]//g'
}
wait_http() { # URL [LOG]
	for _ in $(seq 300); do curl -fs -m 10 "$1" >/dev/null && return 0; sleep 0.1; done
	[ -n "${2:-}" ] && tail -20 "$2" >&2
	conform_die "$1 did not answer"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "-" }'; }
kib_mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
rss() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }

# Ports nobody listens on: other programs on this machine may run their own
# conformd, and libmicrohttpd's SO_REUSEPORT would share a port with them.
free_port() {
	local p
	for _ in $(seq 100); do
		# below the ephemeral range, and in no socket at all (a client's
		# TIME_WAIT on the port makes a bind without SO_REUSEADDR fail)
		p=$(( 20000 + RANDOM % 12000 ))
		[ -z "$(ss -Htan "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	conform_die "no free port found"
}
port_base=$(free_port)
port_conformd=$(free_port)
port_naive=$(free_port)
base_url="http://127.0.0.1:$port_conformd"
conformd() { # LOG [VAR=VALUE...]: starts conformd with the bench's settings; sets cpid
	local log=$1; shift
	env CONFORM_LISTEN=127.0.0.1:$port_conformd CONFORM_THREADS=$threads \
		CONFORM_PER_ADDRESS_CONNECTIONS=0 "$@" "$build/conformd" 2>"$tmp/$log" &
	cpid=$!
	pids+=($cpid)
	wait_http "$base_url/v1/health" "$tmp/$log"
}
rows=()
row() { rows+=("$1|$2|$3|$4"); } # PATH FIGURE RATIO TARGET

# ---- 1, 2: GET /v1/health --------------------------------------------------
"$build/bench_baseline" "$port_base" "$threads" &
bpid=$!
pids+=($bpid)
wait_http "http://127.0.0.1:$port_base/v1/health"
wrk -t"$wrk_threads" -c"$conns" -d2s "http://127.0.0.1:$port_base/v1/health" >/dev/null # warm-up
base=$(wrk_rps "http://127.0.0.1:$port_base/v1/health")
stop_pid "$bpid"
say "baseline (bare libmicrohttpd, two-phase, $threads threads): $base req/s"

# the first start stores the public URL (from the loopback listen address)
conformd conformd-health.log
wrk -t"$wrk_threads" -c"$conns" -d2s "$base_url/v1/health" >/dev/null
health=$(wrk_rps "$base_url/v1/health")
say "conformd GET /v1/health: $health req/s ($(ratio "$health" "$base")x baseline)"

# ---- 3: memory of a 64 MiB evidence upload -----------------------------------
# A manufacturer with a self-assessed application, then 64 MiB streamed to
# it. The peak resident set size is reset just before (clear_refs 5), so the
# figure is the growth the upload causes.
admin=$("$build/conformctl" bootstrap --org-name Bench --country GB --email b@example.org \
	--admin-name Bench --admin-email bench@example.org | awk '/^token:/ {print $2}')
api() { # METHOD PATH TOKEN [JSON]
	curl -fsS -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
		${4:+-d "$4"} "$base_url$2"
}
maker_admin=$(api POST /v1/organisations "$admin" '{"kind":"manufacturer","name":"Bench Devices",
	"country":"GB","contact":{"email":"m@example.org"},"vulnerability_disclosure":{"contact":
	"security@example.org","policy_url":"https://example.org/vdp","response_days":5},
	"administrator":{"name":"Bench Admin","email":"maker-admin@example.org"}}' |
	jq -r .administrator.id)
maker_token=$(api POST "/v1/users/$maker_admin/tokens" "$admin" | jq -r .token)
user=$(api POST /v1/users "$maker_token" '{"name":"Bench","email":"applicant@example.org",
	"roles":["applicant"]}' | jq -r .id)
applicant=$(api POST "/v1/users/$user/tokens" "$maker_token" | jq -r .token)
product=$(api POST /v1/products "$applicant" '{"name":"Bench","model":"B","hardware_version":"1",
	"firmware_version":"1","support_end":"2031-01-01"}' | jq -r .id)
app=$(api POST /v1/applications "$applicant" "{\"product_id\":\"$product\",\"scheme_id\":
	\"dcms-cop\",\"scheme_version\":\"2018\",\"assessment_type\":\"self\"}" | jq -r .id)
head -c 64M /dev/urandom >"$tmp/upload.bin"
curl -fsS -o /dev/null "$base_url/v1/health"
rss_before=$(rss "$cpid" VmRSS)
echo 5 >"/proc/$cpid/clear_refs"
curl -fsS -o /dev/null -X POST -T "$tmp/upload.bin" -H "Authorization: Bearer $applicant" \
	-H 'Content-Type: application/octet-stream' "$base_url/v1/applications/$app/evidence?name=big.bin&refs=DCMS-1"
growth_kib=$(( $(rss "$cpid" VmHWM) - rss_before ))
rm -f "$tmp/upload.bin"
say "64 MiB upload: peak resident growth $(kib_mib "$growth_kib") MiB"
stop_pid "$cpid"

# ---- 4: the register -----------------------------------------------------------
# Demo runs: assessment bodies, each with its own key, certifier and one real
# certificate. A body's status lists hold 131,072 positions (the database
# refuses any beyond), so the register is cloned from the certificates of as
# many bodies as it needs, 131,000 each (templates), and four more bodies
# issue in row 8.
per_body=${CONFORM_BENCH_PER_BODY:-131000}
templates=$(( (register + per_body - 1) / per_body ))
say "conformctl demo x$((templates + 4))"
for _ in $(seq $((templates + 4))); do "$build/conformctl" demo >/dev/null; done
demo_serial=$(sql "SELECT serial FROM certificate ORDER BY seq LIMIT 1")
say "cloning $templates bodies' certificates into $register certificates (SQL, through the database's checks)"
clone_start=$(date +%s)
# Clone i takes template body t = (i - 1) / per_body, at position j in its
# status lists.
bench_clone_register "$register" "
CREATE TEMP TABLE g AS SELECT i, (i - 1) / $per_body AS t, (i - 1) % $per_body + 1 AS j,
	gen_random_uuid() AS app, NULL::text AS gtin FROM generate_series(1, $register) i;
CREATE TEMP TABLE tp AS SELECT row_number() OVER (ORDER BY seq) - 1 AS t, serial, application_id AS id
	FROM certificate ORDER BY seq LIMIT $templates;"
# issuance (row 8) draws serials from the sequence: past the cloned ones
sql "SELECT setval('certificate_serial_seq', 100000 + $register)" >/dev/null
registered=$(sql "SELECT count(*) FROM certificate")
clone_s=$(( $(date +%s) - clone_start ))
say "register: $registered certificates ($clone_s s to clone)"
# The freshly written rows are in the OS page cache already; one scan makes
# sure for both servers alike.
sql "SELECT count(*), sum(length(payload) + length(jws)) FROM certificate" >/dev/null

# ---- 5: cold reads, the naive server and a default conformd ------------------------
# walk.lua reads every serial once in a pseudo-random order (the wrk threads
# take disjoint parts): each read is the first of its serial.
"$build/bench_naive" "$port_naive" "$threads" 2>"$tmp/naive.log" &
npid=$!
pids+=($npid)
wait_http "http://127.0.0.1:$port_naive/v1/certificates/$demo_serial" "$tmp/naive.log"
read -r naive naive_all _ < <(walk "http://127.0.0.1:$port_naive" "$duration" 1)
stop_pid "$npid"
say "naive server, cold walk: $naive req/s ($naive_all)"

conformd conformd-default.log # the default settings: CONFORM_CERT_CACHE 256MiB
read -r cold cold_all cold_n < <(walk "$base_url" "$duration" 1)
say "conformd (default cache), cold walk: $cold req/s ($cold_all, $cold_n requests)"
# More of the register, once, in the same order (those above hit the
# cache): every serial, or the first default_pass (200,000) of the order,
# more than the default cache holds (about 75,000 answers), so that the
# figure is the memory of a full cache.
default_pass=$(( register < ${CONFORM_BENCH_DEFAULT_PASS:-200000} ? register : ${CONFORM_BENCH_DEFAULT_PASS:-200000} ))
pass_time() { awk -v n="$1" -v r="$cold" 'BEGIN{ r = r > 100 ? r : 100; printf "%d", n / r * 1.4 + 10 }'; }
read -r _ pass_all pass_n < <(walk "$base_url" "$(pass_time "$default_pass")" 1 "$default_pass")
say "conformd (default cache), pass over $default_pass serials: $pass_n requests ($pass_all)"
default_rss=$(rss "$cpid" VmRSS)
default_hwm=$(rss "$cpid" VmHWM)
say "conformd (default cache) after the pass: VmRSS $(kib_mib "$default_rss") MiB, VmHWM $(kib_mib "$default_hwm") MiB"

# GET /v1/register/export, streamed to /dev/null while conformd's resident
# set is sampled every 100 ms: the growth should not depend on N.
export_before=$(rss "$cpid" VmRSS)
curl -fsS -o /dev/null -w '%{size_download}\n' "$base_url/v1/register/export" >"$tmp/export.size" &
xpid=$!
peak=$export_before
while kill -0 "$xpid" 2>/dev/null; do
	r=$(rss "$cpid" VmRSS)
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.1
done
wait "$xpid" || conform_die "GET /v1/register/export failed"
export_bytes=$(cat "$tmp/export.size")
export_growth=$((peak - export_before))
say "register export: $export_bytes bytes, peak resident growth $(kib_mib "$export_growth") MiB"
stop_pid "$cpid"

# ---- 6: warm reads, 7: verify ------------------------------------------------------
conformd conformd-warm.log CONFORM_CERT_CACHE="$warm_cache"
say "conformd (CONFORM_CERT_CACHE=$warm_cache): one pass over the register"
read -r _ warm_pass_all warm_pass_n < <(walk "$base_url" "$(pass_time "$register")" 2)
say "  pass: $warm_pass_n requests ($warm_pass_all)"
warm=$(wrk_rps "$base_url" tests/bench/random.lua "$register")
warm_rss=$(rss "$cpid" VmRSS)
say "conformd warm random reads: $warm req/s ($(ratio "$warm" "$base")x baseline), VmRSS $(kib_mib "$warm_rss") MiB"

curl -fsS "$base_url/v1/certificates/$demo_serial/jws" >"$tmp/credential.jws"
verdict=$(curl -fsS -H 'Content-Type: application/vc+jwt' --data-binary @"$tmp/credential.jws" \
	"$base_url/v1/verify" | jq -c '{valid, status}')
say "the demo's credential verifies as $verdict"
verify=$(wrk_rps "$base_url" tests/bench/verify.lua "$tmp/credential.jws")
ossl=$(openssl speed -seconds 3 ed25519 2>/dev/null | awk '/EdDSA/ && /Ed25519/ {print $NF}')
[ -n "$ossl" ] || conform_die "cannot read openssl speed ed25519"
say "POST /v1/verify: $verify req/s; openssl speed ed25519 (one core): $ossl verify/s"

# ---- 8: issuance -----------------------------------------------------------------
# The four other demo bodies: each body's demo application (approved, with
# its certificate) cloned issue_per_body times, approvals included, in SQL
# (the decision trigger checks each); a token for each body's certifier,
# made by the body's administrator (whose first token the scheme owner's
# admin makes); the lines interleaved so that the eight clients work for all
# bodies at once.
: >"$tmp/issue.lines"
body_files=()
k=0
while IFS='|' read -r tapp certifier body_admin; do
	k=$((k + 1))
	admin_token=$(api POST "/v1/users/$body_admin/tokens" "$admin" | jq -r .token)
	token=$(api POST "/v1/users/$certifier/tokens" "$admin_token" | jq -r .token)
	sql "
WITH a AS (INSERT INTO application (product_id, manufacturer_id, scheme_id, scheme_version, class,
	assessment_type, body_id, owners, state, product_snapshot, manufacturer_snapshot, created_by,
	submitted_at)
SELECT product_id, manufacturer_id, scheme_id, scheme_version, class, assessment_type, body_id,
	owners, 'decided', product_snapshot, manufacturer_snapshot, created_by, now()
FROM application, generate_series(1, $issue_per_body) WHERE id = '$tapp' RETURNING id),
d AS (INSERT INTO application_decision (application_id, decision, rationale, decided_by,
	evidence_digest, self_declaration)
SELECT a.id, t.decision, t.rationale, t.decided_by, t.evidence_digest, t.self_declaration
FROM a, application_decision t WHERE t.application_id = '$tapp' RETURNING application_id)
SELECT application_id FROM d" | sed "s/\$/ $token/" >"$tmp/issue.$k"
	body_files+=("$tmp/issue.$k")
done < <(sql "SELECT c.application_id || '|' || d.decided_by || '|' || (SELECT u.id FROM app_user u
	WHERE u.org_id = c.body_id AND 'org_admin' = ANY (u.roles) ORDER BY u.created_at LIMIT 1)
	FROM certificate c JOIN application_decision d ON d.application_id = c.application_id
	WHERE c.seq < 1000 ORDER BY c.seq OFFSET $templates")
[ "$k" -eq 4 ] || conform_die "expected four issuing bodies, found $k"
paste -d '\n' "${body_files[@]}" >"$tmp/issue.lines"
sql "ANALYZE" >/dev/null
log_before=$(sql "SELECT count(*) FROM tlog_entry")
issue_out=$("$build/bench_issue" "$base_url" "$tmp/issue.lines" 8 "$duration") ||
	{ echo "$issue_out" >&2; conform_die "issuance: answers other than 201"; }
issued=$(echo "$issue_out" | sed -n 's/.*issued=\([0-9]*\).*/\1/p')
issue_rate=$(echo "$issue_out" | sed -n 's/.*per_second=\([0-9.]*\).*/\1/p')
say "issuance, 4 bodies, 8 clients: $issue_out"
stop_pid "$cpid"
log_after=$(sql "SELECT count(*) || ' entries, indexes 0..' || max(idx) || ', '
	|| count(DISTINCT idx) || ' distinct' FROM tlog_entry")
log_verify=$("$build/conformctl" log verify 2>&1) || { echo "$log_verify" >&2; conform_die "the log does not verify"; }
say "log after issuance: $log_after (was $log_before entries); $log_verify"

sql "CREATE DATABASE pgbench" >/dev/null
pgbench -i -q -s 8 -h "$sock" -U postgres pgbench >"$tmp/pgbench-init.log" 2>&1 ||
	{ cat "$tmp/pgbench-init.log" >&2; conform_die "pgbench -i failed"; }
tpcb=$(pgbench -c 8 -j 2 -T "$duration" -h "$sock" -U postgres pgbench 2>&1 |
	awk '/^tps = / {print $3; exit}')
[ -n "$tpcb" ] || conform_die "cannot read pgbench's tps"
say "pgbench TPC-B (-s 8 -c 8 -j 2 -T $duration): $tpcb tps"

# ---- the table ---------------------------------------------------------------------
row "bare libmicrohttpd GET /v1/health (baseline)" "$base req/s" "1.00" "reference"
row "conformd GET /v1/health" "$health req/s" "$(ratio "$health" "$base")x base" ">= 0.80x base"
row "GET /v1/certificates/{serial} cold, naive server" "$naive req/s" "$(ratio "$naive" "$base")x base" "(reference)"
row "GET /v1/certificates/{serial} cold, conformd" "$cold req/s" \
	"$(ratio "$cold" "$naive")x naive, $(ratio "$cold" "$base")x base" ">= 1.00x naive"
row "GET /v1/certificates/{serial} warm, conformd" "$warm req/s" "$(ratio "$warm" "$base")x base" ">= 0.80x base"
row "POST /v1/verify (real credential)" "$verify req/s" \
	"$(ratio "$verify" "$ossl")x openssl ($ossl/s)" ">= 0.80x openssl 1 core"
row "issuance, 4 bodies, 8 clients" "$issue_rate /s" \
	"$(ratio "$issue_rate" "$tpcb")x TPC-B ($tpcb tps)" ">= 0.25x TPC-B"
row "conformd VmRSS / VmHWM, default cache, after $default_pass first reads" \
	"$(kib_mib "$default_rss") / $(kib_mib "$default_hwm") MiB" "-" "bounded by the cache (256MiB) + base"
row "GET /v1/register/export, peak RSS growth" "$(kib_mib "$export_growth") MiB" \
	"$export_bytes bytes sent" "constant (independent of N)"
row "64 MiB evidence upload, peak RSS growth" "$(kib_mib "$growth_kib") MiB" "-" "< 16 MiB"

echo
echo "register: $registered certificates (--register $register); cold = first read of each serial;"
echo "warm: CONFORM_CERT_CACHE=$warm_cache after one pass; $threads server threads (conformd,"
echo "baseline, naive), wrk -t$wrk_threads -c$conns -d${duration}s, $(nproc) CPUs shared by servers and clients;"
echo "log: $log_verify"
echo
{
	echo "path|figure|ratio|target"
	echo "----|------|-----|------"
	for r in "${rows[@]}"; do echo "$r"; done
} | column -t -s '|' -o ' | '
echo
echo "total $(( $(date +%s) - started_at )) s; a copy of this output: $report"
