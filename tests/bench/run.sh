#!/usr/bin/env bash
# tests/bench/run.sh: the benchmarks, in one run on this machine, each
# printed with its target. Figures, not pass/fail. Starts its own throwaway
# PostgreSQL.
#   1. GET /v1/health against a bare libmicrohttpd server (wrk; the ratio);
#   2. conformd's peak resident memory around a 64 MiB evidence upload;
#   3. GET /v1/certificates/{serial} at random over a register of 100,000
#      certificates, against the same baseline.
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
"$build/conformctl" scheme import schemes/*.json >/dev/null 2>&1

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

CONFORM_LISTEN=127.0.0.1:$port_conformd CONFORM_THREADS=$threads CONFORM_DATA_DIR=$tmp/data-dir CONFORM_PER_ADDRESS_CONNECTIONS=0 \
	"$build/conformd" 2>"$tmp/conformd.log" &
pids+=($!)
wait_http "http://127.0.0.1:$port_conformd/v1/health"
wrk -t2 -c"$conns" -d2s "http://127.0.0.1:$port_conformd/v1/health" >/dev/null
health=$(wrk_rps "http://127.0.0.1:$port_conformd/v1/health")

kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

# 2. Memory of an evidence upload: a fresh conformd, a manufacturer with a
# self-assessed application, then 64 MiB streamed to it. The peak resident
# set size is reset just before (clear_refs 5), so the figure is the growth
# the upload causes.
CONFORM_LISTEN=127.0.0.1:$port_conformd CONFORM_THREADS=$threads CONFORM_DATA_DIR=$tmp/data-dir CONFORM_PER_ADDRESS_CONNECTIONS=0 \
	CONFORM_CERT_CACHE=${CONFORM_BENCH_CERT_CACHE:-512MiB} "$build/conformd" 2>"$tmp/conformd2.log" &
pids+=($!)
cpid=${pids[0]}
base_url="http://127.0.0.1:$port_conformd"
wait_http "$base_url/v1/health"
admin=$("$build/conformctl" bootstrap --org-name Bench --country GB --email b@example.org \
	--admin-name Bench --admin-email bench@example.org | awk '/^token:/ {print $2}')
api() { # METHOD PATH TOKEN [JSON]
	curl -fsS -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' \
		${4:+-d "$4"} "$base_url$2"
}
# the scheme owner makes the manufacturer and its administrator, who staffs it
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
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$cpid/status")
echo 5 >"/proc/$cpid/clear_refs"
curl -fsS -o /dev/null -X POST -T "$tmp/upload.bin" -H "Authorization: Bearer $applicant" \
	-H 'Content-Type: application/octet-stream' "$base_url/v1/applications/$app/evidence?name=big.bin&refs=DCMS-1"
hwm_after=$(awk '/^VmHWM/ {print $2}' "/proc/$cpid/status")
growth_kib=$((hwm_after - rss_before))

# 3. The register: one real certificate from conformctl demo, cloned into
# 100,000 (applications with their approvals, log entries and certificates)
# by the superuser, through the database's own checks, then read at random
# serials.
CONFORM_DATA_DIR=$tmp/data-dir "$build/conformctl" demo >/dev/null
conform_pg_psql "$tmp" conform "
CREATE TEMP TABLE g AS SELECT i, gen_random_uuid() AS app FROM generate_series(1, 100000) i;
INSERT INTO application (id, product_id, manufacturer_id, scheme_id, scheme_version, class,
	assessment_type, body_id, owners, state, product_snapshot, manufacturer_snapshot, created_by,
	submitted_at)
SELECT g.app, a.product_id, a.manufacturer_id, a.scheme_id, a.scheme_version, a.class,
	a.assessment_type, a.body_id, a.owners, 'decided', a.product_snapshot, a.manufacturer_snapshot,
	a.created_by, now()
FROM g, application a WHERE a.id = (SELECT application_id FROM certificate ORDER BY seq LIMIT 1);
INSERT INTO application_decision (application_id, decision, rationale, decided_by, evidence_digest,
	self_declaration)
SELECT g.app, d.decision, d.rationale, d.decided_by, d.evidence_digest, d.self_declaration
FROM g, application_decision d
WHERE d.application_id = (SELECT application_id FROM certificate ORDER BY seq LIMIT 1);
INSERT INTO tlog_entry (idx, entry, leaf_hash, kind, serial)
SELECT b.base + g.i, e.entry, encode(sha256('\\x00'::bytea || convert_to(e.entry, 'UTF8')), 'hex'),
	'issuance', 'CF-2026-' || lpad((100000 + g.i)::text, 7, '0')
FROM g, (SELECT max(idx) AS base FROM tlog_entry) b,
	LATERAL (SELECT '{\"kind\":\"issuance\",\"serial\":\"CF-2026-' || lpad((100000 + g.i)::text, 7, '0')
	|| '\"}' AS entry) e;
INSERT INTO certificate (serial, seq, application_id, body_id, manufacturer_id, scheme_id,
	scheme_version, class, accreditation_id, kid, valid_from, valid_until, payload, jws,
	revocation_index, suspension_index, log_index, issued_by, manufacturer_name, product_name,
	product_model, firmware_version, issuer_name)
SELECT 'CF-2026-' || lpad((100000 + g.i)::text, 7, '0'), 1000 + g.i, g.app, c.body_id,
	c.manufacturer_id, c.scheme_id, c.scheme_version, c.class, c.accreditation_id, c.kid,
	c.valid_from, c.valid_until, c.payload, c.jws,
	g.i + (g.i >= c.revocation_index)::int, g.i + (g.i >= c.suspension_index)::int,
	b.base + g.i, c.issued_by, c.manufacturer_name, c.product_name, c.product_model,
	c.firmware_version, c.issuer_name
FROM g, (SELECT max(idx) - 100000 AS base FROM tlog_entry) b,
	(SELECT * FROM certificate ORDER BY seq LIMIT 1) c;
INSERT INTO certificate_event (serial, seq, action, log_index)
SELECT serial, 1, 'issued', log_index FROM certificate WHERE seq > 1000;
ANALYZE;" >/dev/null
registered=$(psql -X -tA -h "$sock" -U postgres -d conform -c "SELECT count(*) FROM certificate")
cat >"$tmp/random-serial.lua" <<'LUA'
math.randomseed(os.time())
request = function()
	return wrk.format("GET", string.format("/v1/certificates/CF-2026-%07d", 100000 + math.random(1, 100000)))
end
LUA
cat >"$tmp/every-serial.lua" <<'LUA'
counter = 0
request = function()
	counter = counter + 1
	return wrk.format("GET", string.format("/v1/certificates/CF-2026-%07d", 100000 + (counter - 1) % 100000 + 1))
end
LUA
curl -fsS -o /dev/null "$base_url/v1/certificates/CF-2026-0100001"
# A service that has been up a while has read its register once: one pass
# over every serial first, then the measurement at random.
wrk -t1 -c"$conns" -d20s -s "$tmp/every-serial.lua" "$base_url" >/dev/null
cert_out=$(wrk -t2 -c"$conns" -d"${duration}s" -s "$tmp/random-serial.lua" "$base_url")
if echo "$cert_out" | grep -q "Non-2xx"; then echo "$cert_out" >&2; conform_die "non-2xx from GET /v1/certificates"; fi
cert=$(echo "$cert_out" | awk '/^Requests\/sec:/ {print $2}')

printf '\n%-44s %12s %8s %8s\n' "endpoint" "requests/s" "ratio" "target"
printf '%-44s %12.0f %8s %8s\n' "baseline: bare libmicrohttpd" "$base" "1.00" ""
printf '%-44s %12.0f %8.2f %8s\n' "conformd GET /v1/health" "$health" \
	"$(awk -v a="$health" -v b="$base" 'BEGIN{print a/b}')" ">=0.80"
printf '%-44s %12.0f %8.2f %8s\n' "conformd GET /v1/certificates/{serial}" "$cert" \
	"$(awk -v a="$cert" -v b="$base" 'BEGIN{print a/b}')" ">=0.50"
echo "  ($registered certificates in the register, serials drawn at random, after one pass over all;"
echo "   conformd's certificate cache: ${CONFORM_BENCH_CERT_CACHE:-512MiB})"
echo
echo "($threads server threads, wrk -t2 -c$conns -d${duration}s, $(nproc) CPUs shared by server and wrk;"
echo " conformd writes its access log to a file, as in production)"
printf '\n%-44s %12s %8s\n' "memory" "growth" "target"
printf '%-44s %9.1f MiB %8s\n' "64 MiB evidence upload: peak RSS growth" \
	"$(awk -v k="$growth_kib" 'BEGIN{print k/1024}')" "<16 MiB"
printf '%-44s %9.1f MiB\n' "  (resident before the upload)" "$(awk -v k="$rss_before" 'BEGIN{print k/1024}')"
