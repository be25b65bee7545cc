# tests/bench/common.sh: what the benchmark scripts (run.sh, shelf_check.sh)
# share, sourced after deploy/local/common.sh: their throwaway cluster and
# conform-signer, and the register cloned in SQL from real certificates.
# The caller sets tmp (its directory, reachable by postgres), build, and
# pids (an array: the processes its cleanup stops).

# bench_workdir PREFIX: a fresh $tmp (/tmp/PREFIX.XXXXXX) that postgres can
# reach, an empty pids, and a trap that stops those processes and the
# cluster and removes $tmp on every exit; defines say (a timed line).
bench_workdir() {
	tmp=$(mktemp -d "/tmp/$1.XXXXXX")
	chmod 755 "$tmp"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
	pids=()
	trap bench_cleanup EXIT
}
bench_cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	conform_pg_stop "$tmp" || true
	rm -rf "$tmp"
}
say() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# bench_cluster: a PostgreSQL under $tmp (fsync off), migrated, the shipped
# schemes imported; exports the CONFORM_* settings of conformctl and
# conformd, sets sock and defines sql (a statement as the superuser).
bench_cluster() {
	conform_pg_init "$tmp" "fsync = off" "synchronous_commit = off"
	conform_pg_start "$tmp"
	conform_pg_roles "$tmp"
	conform_pg_database "$tmp" conform
	sock=$(readlink -f "$tmp")/sock
	export CONFORM_DATABASE_OWNER_URL="host=$sock dbname=conform user=conform_owner"
	export CONFORM_DATABASE_URL="host=$sock dbname=conform user=conform_app"
	export CONFORM_DATA_DIR=$tmp/data-dir
	"$build/conformctl" db migrate >/dev/null
	"$build/conformctl" scheme import schemes/*.json >/dev/null 2>&1
}

sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$sock" -U postgres -d conform -c "$1"; }

# bench_signer: conform-signer, which alone holds the private keys;
# conformd and conformctl reach it through DATA_DIR/signer/signer.sock
# (deploy/local/run.sh). Returns once its socket is there.
bench_signer() {
	"$build/conform-signer" >"$tmp/signer.log" 2>&1 &
	pids+=($!)
	local signer_pid=$!
	for _ in $(seq 100); do
		[ -S "$CONFORM_DATA_DIR/signer/signer.sock" ] && break
		kill -0 "$signer_pid" 2>/dev/null || { cat "$tmp/signer.log" >&2; conform_die "conform-signer died"; }
		sleep 0.1
	done
	[ -S "$CONFORM_DATA_DIR/signer/signer.sock" ] || conform_die "conform-signer did not open its socket"
}

# bench_clone_register N: N certificates cloned from real ones, through the
# database's own checks (constraints, triggers): applications with their
# approvals, log entries, certificates and events, one INSERT ... SELECT per
# table. The caller's temporary tables say what: g (i: 1..N, the clone's
# number and its serial CF-2026-(100000 + i); t: its template; j: its
# position in its template body's status lists; app: a new application id;
# gtin: one for its product snapshot, or NULL) and tp (t, the template
# certificate's serial and application id). The columns listed are those
# the clone sets; later columns keep their defaults or are filled by the
# database's triggers. Runs in the caller's sql session text: pass the
# statements that make g and tp as $2.
bench_clone_register() {
	local n=$1 tables=$2
	sql "
$tables
INSERT INTO application (id, product_id, manufacturer_id, scheme_id, scheme_version, class,
	assessment_type, body_id, owners, state, product_snapshot, manufacturer_snapshot, created_by,
	submitted_at)
SELECT g.app, a.product_id, a.manufacturer_id, a.scheme_id, a.scheme_version, a.class,
	a.assessment_type, a.body_id, a.owners, 'decided',
	CASE WHEN g.gtin IS NULL THEN a.product_snapshot
	     ELSE (a.product_snapshot::jsonb || jsonb_build_object('gtin', g.gtin))::json END,
	a.manufacturer_snapshot, a.created_by, now()
FROM g JOIN tp ON tp.t = g.t JOIN application a ON a.id = tp.id;
INSERT INTO application_decision (application_id, decision, rationale, decided_by, evidence_digest,
	self_declaration)
SELECT g.app, d.decision, d.rationale, d.decided_by, d.evidence_digest, d.self_declaration
FROM g JOIN tp ON tp.t = g.t JOIN application_decision d ON d.application_id = tp.id;
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
	g.j + (g.j >= c.revocation_index)::int, g.j + (g.j >= c.suspension_index)::int,
	b.base + g.i, c.issued_by, c.manufacturer_name, c.product_name, c.product_model,
	c.firmware_version, c.issuer_name
FROM g JOIN tp ON tp.t = g.t JOIN certificate c ON c.serial = tp.serial,
	(SELECT max(idx) - $n AS base FROM tlog_entry) b;
INSERT INTO certificate_event (serial, seq, action, log_index)
SELECT serial, 1, 'issued', log_index FROM certificate WHERE seq > 1000;
ANALYZE;" >/dev/null
}
