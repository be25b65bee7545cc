#!/usr/bin/env bash
# tests/data/make-populated-0025.sh: regenerates tests/data/populated-0025.sql,
# the rows that real programs wrote under schema 0025 (the schema before
# 0026_domain_constraints.sql), which tests/integration/test_migrate.c
# (constraints_apply_to_a_populated_database) restores before applying 0026
# and every later migration.
#
# The rows must come from the code as it was while it still ran on that
# schema, not from today's (which reads columns of later migrations): the
# script checks out commit 255e4f9 (the last before 0029; it ran on 0025 as
# well as on 0027) in a scratch worktree, builds it, starts a throwaway
# PostgreSQL 15 cluster and a conform-signer, migrates a database with
# migrations 0001-0025 only and fills it as the test did before:
#
#   a webhook subscription to everything (SQL, after bootstrap: one delivery
#   per log entry); conformctl scheme import (dcms-cop with etsi and iotsf,
#   which its crosswalk names); bootstrap; identity set http://127.0.0.1:7;
#   demo (an application walked to a signed certificate); the certificate
#   suspended (reason code nonconformity) by a certifier of the body through
#   core's certificate_change, as conformd does (that commit's conformctl
#   suspends only through the API, and its conformd does not serve a 0025
#   schema), by a small C program linked with that commit's libconform.
#
# Then pg_dump --data-only --disable-triggers of everything but
# schema_migrations (the test's own migrate writes it): restored as the
# superuser into a fresh 0025 database, the rows come back as they were, and
# no trigger (feed items, webhook deliveries, the audit chain) runs twice.
#
#   tests/data/make-populated-0025.sh [OUTPUT]   (default tests/data/populated-0025.sql)
#
# Needs what tests/run.sh installs (git, cmake, gcc, PostgreSQL 15, softhsm2).
set -euo pipefail

commit=255e4f9c61b665dc6db3aecc3015e58b15c7af2d
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(readlink -f "${1:-$top/tests/data/populated-0025.sql}")
# shellcheck source=deploy/local/common.sh
. "$top/deploy/local/common.sh"

tmp=$(mktemp -d /tmp/conform-populated.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
old=$tmp/src
pg=$tmp/pg
signer_pid=""
cleanup() {
	status=$?
	[ -n "$signer_pid" ] && kill "$signer_pid" 2>/dev/null && wait "$signer_pid" 2>/dev/null
	conform_pg_stop "$pg" || true
	git -C "$top" worktree remove --force "$old" 2>/dev/null || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conform_say "checking out $commit in $old"
git -C "$top" worktree add --detach "$old" "$commit" >/dev/null 2>&1 ||
	conform_die "cannot check out $commit (git worktree add)"
conform_say "building it (without its tests)"
conform_build "$old" "$old/build" -DCONFORM_TESTS=OFF
ctl=$old/build/conformctl

# certificate_change as conformd calls it, with that commit's core.
cat >"$tmp/suspend.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "certificate.h"
#include "db.h"
#include "party.h"

/* suspend URL SERIAL USER-ID ORG-ID: a certifier of the issuing body
 * suspends the certificate (nonconformity). */
int main(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	struct principal p = { .roles = ROLE_CERTIFIER };
	snprintf(p.user_id, sizeof p.user_id, "%s", argv[3]);
	snprintf(p.org_id, sizeof p.org_id, "%s", argv[4]);
	snprintf(p.org_kind, sizeof p.org_kind, "assessment_body");
	struct db *db = NULL;
	struct cf_error err;
	if (db_connect(argv[1], &db, &err) != CF_OK) {
		fprintf(stderr, "connect: %s\n", err.detail);
		return 1;
	}
	json_t *body = json_pack("{s:s,s:s}", "reason_code", "nonconformity", "reason", "a complaint");
	json_t *out = NULL;
	cf_err e = certificate_change(db, &p, "http://127.0.0.1:7", argv[2], "suspend", body, &out, &err);
	json_decref(body);
	json_decref(out);
	db_close(db);
	if (e != CF_OK) {
		fprintf(stderr, "suspend: %s\n", err.detail);
		return 1;
	}
	return 0;
}
EOF
# shellcheck disable=SC2046
gcc -std=c11 -I"$old/core" $(pkg-config --cflags libpq jansson) -o "$tmp/suspend" "$tmp/suspend.c" "$old/build/core/libconform.a" \
	$(pkg-config --libs libpq jansson libcrypto zlib libqrencode) -ldl -lpthread ||
	conform_die "cannot build the suspension step"

conform_say "starting a throwaway PostgreSQL in $pg"
mkdir -p "$pg"
chmod 755 "$pg"
[ "$(id -u)" -eq 0 ] && chown postgres: "$pg"
conform_pg_init "$pg" "fsync = off"
conform_pg_start "$pg"
conform_pg_roles "$pg"
conform_pg_database "$pg" populated
sock=$(readlink -f "$pg")/sock
owner_url="host=$sock dbname=populated user=conform_owner"
app_url="host=$sock dbname=populated user=conform_app"
super_sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$sock" -U postgres -d populated -c "$1"; }

conform_say "migrating it to 0025"
mkdir "$tmp/migrations"
for f in "$old"/migrations/*.sql; do
	n=${f##*/}
	if [ "$((10#${n%%_*}))" -lt 26 ]; then cp "$f" "$tmp/migrations/"; fi
done
CONFORM_DATABASE_OWNER_URL=$owner_url "$ctl" db migrate --migrations-dir="$tmp/migrations" >/dev/null
[ "$(super_sql "SELECT max(version) FROM schema_migrations")" = 25 ] ||
	conform_die "the database is not at 0025"

conform_say "filling it with that commit's conformctl"
export CONFORM_DATABASE_URL=$app_url
"$ctl" scheme import "$old/schemes/dcms-cop-2018.json" "$old/schemes/etsi-en-303-645-2.1.1.json" \
	"$old/schemes/iotsf-cf-2.0.json" "$old/schemes/scheme.schema.json" >/dev/null
"$ctl" bootstrap --org-name Owner --country GB --email owner@example.org --admin-name Ada \
	--admin-email ada@example.org >/dev/null
super_sql "INSERT INTO webhook_subscription (org_id, url, secret)
	SELECT id, 'https://hooks.example.org/in', 'whsec_AAAA' FROM organisation"
"$ctl" identity set http://127.0.0.1:7 >/dev/null

mkdir -m 700 "$tmp/data"
export CONFORM_SIGNER_SOCKET=$tmp/data/signer/signer.sock
CONFORM_SIGNER_DIR=$tmp/data/signer CONFORM_DATA_DIR=$tmp/data "$old/build/conform-signer" \
	>"$tmp/signer.log" 2>&1 &
signer_pid=$!
for _ in $(seq 1 400); do
	[ -S "$CONFORM_SIGNER_SOCKET" ] && break
	kill -0 "$signer_pid" 2>/dev/null || { cat "$tmp/signer.log" >&2; conform_die "conform-signer exited"; }
	sleep 0.05
done
[ -S "$CONFORM_SIGNER_SOCKET" ] || { cat "$tmp/signer.log" >&2; conform_die "conform-signer did not start"; }
"$ctl" demo >"$tmp/demo.out" || { cat "$tmp/demo.out" >&2; conform_die "demo failed"; }
serial=$(grep -o 'certificate CF-[^ ]*' "$tmp/demo.out" | head -1 | cut -d' ' -f2)
[ -n "$serial" ] || { cat "$tmp/demo.out" >&2; conform_die "demo named no certificate"; }
kill "$signer_pid"
wait "$signer_pid" || true
signer_pid=""

certifier=$(super_sql "SELECT u.id || ' ' || u.org_id FROM app_user u WHERE 'certifier' = ANY (u.roles)
	ORDER BY u.created_at LIMIT 1")
# shellcheck disable=SC2086
"$tmp/suspend" "$app_url" "$serial" $certifier

counts=$(super_sql "SELECT (SELECT count(*) FROM certificate_event WHERE reason_code IS NOT NULL)
	|| ' ' || (SELECT count(*) FROM webhook_delivery) || ' ' || (SELECT count(*) FROM application_event)")
conform_say "certificate events with a reason code, webhook deliveries, application events: $counts"

conform_say "dumping the rows to $out"
{
	echo "-- Rows written under schema 0025 by conform at commit $commit"
	echo "-- (scheme import, bootstrap, a webhook subscription, identity set, demo"
	echo "-- with a real conform-signer, a suspension through core); made by"
	echo "-- tests/data/make-populated-0025.sh, restored by tests/integration/test_migrate.c."
	echo "-- Restore with psql as the superuser into a database migrated to 0025"
	echo "-- (the dump turns each table's triggers off while it loads it)."
	pg_dump -h "$sock" -U postgres -d populated --data-only --disable-triggers \
		--no-owner --no-privileges --exclude-table=schema_migrations
} >"$out.tmp"
mv "$out.tmp" "$out"
conform_say "done ($(wc -c <"$out") bytes)"
