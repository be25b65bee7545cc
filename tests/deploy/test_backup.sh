#!/usr/bin/env bash
# tests/deploy/test_backup.sh: the restore drill of docs/operations.md,
# "Backups and restore", with deploy/backup/conform-backup and
# conform-restore.
#
# A cluster of its own, conform-signer and conformd with an issued
# certificate and evidence; a backup; more issued and uploaded after it; a
# restore into a NEW cluster and a NEW data and signer directory (the first
# cluster and its processes stopped); conform-signer and conformd started on
# the restored copy. Then: conformctl audit verify and log verify pass; the
# certificate issued before the backup verifies through POST /v1/verify and
# its evidence downloads with the same SHA-256; what came after the backup
# is absent; the restored signer still signs (one more certificate is
# issued, and the restored log key signs the checkpoint that covers it); a
# damaged backup and a non-empty target are refused.
#
# Run by ctest as deploy/test_backup (through tests/run.sh, which installs
# PostgreSQL and the tools).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${CONFORM_BINARY_DIR:-$top/build}
# shellcheck source=deploy/local/common.sh
. "$top/deploy/local/common.sh"
# shellcheck source=tests/deploy/conform_stack.sh
. "$top/tests/deploy/conform_stack.sh"

backup=$top/deploy/backup/conform-backup
restore=$top/deploy/backup/conform-restore
tmp=$(mktemp -d /tmp/conform-backup.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
pga=$tmp/pga
pgb=$tmp/pgb

cleanup() {
	status=$?
	stack_stop_all
	conform_pg_stop "$pga" >/dev/null 2>&1 || true
	conform_pg_stop "$pgb" >/dev/null 2>&1 || true
	if [ "$status" -ne 0 ]; then
		for f in "$tmp"/a.log "$tmp"/b.log "$tmp"/*signer*.log; do
			[ -f "$f" ] && { echo "=== $f (last lines)"; tail -20 "$f"; } >&2
		done
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ctl() { "$build/conformctl" "$@"; }

# The service of one side: its cluster, database URLs and directories.
use_side() { # PGBASE DATADIR
	export CONFORM_DATABASE_URL="host=$1/sock dbname=conform user=conform_app"
	export CONFORM_DATABASE_OWNER_URL="host=$1/sock dbname=conform user=conform_owner"
	export CONFORM_DATA_DIR=$2
	export CONFORM_SIGNER_DIR=$2/signer
	export CONFORM_SIGNER_SOCKET=$2/signer/signer.sock
}
export CONFORM_MIGRATIONS_DIR=$top/migrations

api() { # METHOD PATH TOKEN [CURL-ARGS...]: status; body in $tmp/body
	local m=$1 p=$2 t=$3
	shift 3
	local h=()
	[ -n "$t" ] && h=(-H "Authorization: Bearer $t")
	curl -sS -o "$tmp/body" -w '%{http_code}' -X "$m" "${h[@]}" "$@" "$base$p"
}
expect() {
	[ "$2" = "$1" ] || { head -c 600 "$tmp/body" >&2; echo >&2; stack_fail "$3: status $2, expected $1"; }
}

# conformctl demo, then its serial, and the JWS kept for later
demo() { # NAME
	ctl demo >"$tmp/$1.out" 2>&1 || { cat "$tmp/$1.out" >&2; stack_fail "conformctl demo ($1) failed"; }
	sed -n 's/^certificate \([^ ]*\) issued.*/\1/p' "$tmp/$1.out"
}

# evidence of RUN's applicant: a token through its organisation's
# administrator, a draft application, an upload; prints "TOKEN APP EID SHA"
evidence() { # RUN MIB
	local run=$1 mib=$2 admin token applicant product body app st
	ctl token create --user "demo$run-admin-manufacturer@example.org" --name drill >"$tmp/tok" ||
		stack_fail "conformctl token create failed"
	admin=$(grep '^cfm_' "$tmp/tok")
	st=$(api GET "/v1/users?limit=100" "$admin")
	expect 200 "$st" "GET /v1/users"
	applicant=$(jq -r --arg e "demo$run-applicant@example.org" '(.items // .)[] | select(.email == $e) | .id' "$tmp/body")
	st=$(api POST "/v1/users/$applicant/tokens" "$admin" -H 'Content-Type: application/json' --data '{"name":"drill"}')
	expect 201 "$st" "a token for the applicant"
	token=$(jq -r .token "$tmp/body")
	st=$(api GET /v1/products "$token")
	product=$(jq -r '(.items // .)[0].id' "$tmp/body")
	st=$(api GET /v1/bodies "")
	body=$(jq -r --arg n "(demo $run)" '(.items // .)[] | select(.name | endswith($n)) | select(.name | startswith("Demo Test")) | .id' "$tmp/body" | head -1)
	[ -n "$body" ] || stack_fail "no assessment body of demo run $run"
	jq -n --arg p "$product" --arg b "$body" '{product_id: $p, scheme_id: "dcms-cop",
		scheme_version: "2018", confidentiality: "basic", integrity: "basic",
		availability: "basic", assessment_type: "third-party", body_id: $b,
		owners: {Software: "Head of firmware", Hardware: "Hardware lead", Policy: "CISO",
		Process: "PSIRT lead"}}' >"$tmp/app.json"
	st=$(api POST /v1/applications "$token" -H 'Content-Type: application/json' --data-binary @"$tmp/app.json")
	expect 201 "$st" "POST /v1/applications"
	app=$(jq -r .id "$tmp/body")
	head -c $((mib * 1024 * 1024)) /dev/urandom >"$tmp/ev-$run.bin"
	st=$(api POST "/v1/applications/$app/evidence?name=report-$run.pdf&refs=DCMS-1" "$token" \
		-H 'Content-Type: application/octet-stream' --data-binary @"$tmp/ev-$run.bin")
	expect 201 "$st" "the evidence upload"
	echo "$token $app $(jq -r .id "$tmp/body") $(sha256sum "$tmp/ev-$run.bin" | cut -d' ' -f1)"
}

# waits until the log's signed tree head covers every entry
checkpoint_covers_all() {
	local size signed
	size=$(psql -X -tA -d "$CONFORM_DATABASE_OWNER_URL" -c "SELECT count(*) FROM tlog_entry" 2>/dev/null) || return 1
	signed=$(curl -fsS "$base/v1/log/tree-head" | jq -r '.tree_size // .size') || return 1
	[ -n "$size" ] && [ "$signed" = "$size" ]
}

# --- side A: the running service
stack_note "side A: cluster, conform-signer, conformd"
conform_pg_init "$pga" "fsync = off"
conform_pg_start "$pga"
conform_pg_roles "$pga"
conform_pg_database "$pga" conform
use_side "$pga" "$tmp/a"
mkdir -p "$tmp/a"
ctl db migrate >/dev/null
ctl scheme import "$top"/schemes/*.json >/dev/null
stack_signer_start "$tmp/a/signer" "$tmp/a-signer.log"
stack_conformd_start "$tmp/a.log"
base=http://127.0.0.1:$conformd_port
a_signer=$signer_pid a_conformd=$conformd_pid

before=$(demo before)
[ -n "$before" ] || stack_fail "no certificate from the first demo"
read -r tok1 app1 ev1 sha1 <<<"$(evidence 1 3)"
[ -n "$sha1" ] || stack_fail "no evidence before the backup"
st=$(api GET "/v1/certificates/$before/jws" "")
expect 200 "$st" "the JWS of $before"
cp "$tmp/body" "$tmp/before.jws"
stack_wait 20 checkpoint_covers_all || stack_fail "side A's log was not checkpointed"
ctl log key >"$tmp/logkey.a" || stack_fail "conformctl log key failed on side A"

# --- the backup
stack_note "conform-backup"
"$backup" --help >"$tmp/help" && grep -q 'Usage: conform-backup' "$tmp/help" || stack_fail "conform-backup --help"
dest=$(CONFORMCTL=$build/conformctl "$backup" --out "$tmp/backups") || stack_fail "conform-backup failed"
[ -d "$dest" ] || stack_fail "conform-backup printed no directory"
[ "$(stat -c %a "$dest")" = 700 ] || stack_fail "the backup directory is not mode 0700"
for f in database.dump blobs.tar signer.tar keys.txt identity.txt backup.info SHA256SUMS; do
	[ -s "$dest/$f" ] || stack_fail "the backup has no $f"
done
(cd "$dest" && sha256sum --quiet -c SHA256SUMS) || stack_fail "the backup does not match its sums"
tar -tf "$dest/blobs.tar" >"$tmp/list"
grep -q "$sha1" "$tmp/list" || stack_fail "the evidence $sha1 is not in blobs.tar"
tar -tf "$dest/signer.tar" >"$tmp/list"
grep -q '^./tokens/.' "$tmp/list" || stack_fail "the signer's tokens are not in signer.tar"
grep -q '^./owners/.*/pin$' "$tmp/list" || stack_fail "the signer's PIN files are not in signer.tar"
grep -q "$base" "$dest/identity.txt" || stack_fail "identity.txt does not name the public URL"
grep -qi "log" "$dest/keys.txt" || stack_fail "keys.txt does not list the log key"

# --- more after the backup
stack_note "issuing and uploading after the backup"
after=$(demo after)
[ -n "$after" ] && [ "$after" != "$before" ] || stack_fail "no second certificate"
read -r tok2 app2 _ sha2 <<<"$(evidence 2 1)"
[ -n "$sha2" ] || stack_fail "no evidence after the backup"
st=$(api GET "/v1/certificates/$after/jws" "")
expect 200 "$st" "the JWS of $after"
cp "$tmp/body" "$tmp/after.jws"

# --- side A goes away entirely
stack_note "stopping side A"
stack_stop "$a_conformd"
stack_stop "$a_signer"
conform_pg_stop "$pga"

# --- restore into a new cluster and new directories
stack_note "conform-restore into a new cluster"
conform_pg_init "$pgb" "fsync = off"
conform_pg_start "$pgb"
admin="host=$(readlink -f "$pgb")/sock user=postgres"
"$restore" --help >"$tmp/help" && grep -q 'Usage: conform-restore' "$tmp/help" || stack_fail "conform-restore --help"
# refused: a damaged backup, a target that is not new
cp -r "$dest" "$tmp/damaged"
printf 'x' >>"$tmp/damaged/blobs.tar"
if "$restore" --from "$tmp/damaged" --data-dir "$tmp/x" --admin-url "$admin" 2>"$tmp/err"; then
	stack_fail "a damaged backup was restored"
fi
grep -q "does not match its SHA256SUMS" "$tmp/err" || stack_fail "the damage is not named: $(cat "$tmp/err")"
mkdir -p "$tmp/full"
touch "$tmp/full/something"
if "$restore" --from "$dest" --data-dir "$tmp/full" --admin-url "$admin" 2>"$tmp/err"; then
	stack_fail "a restore into a non-empty data directory went ahead"
fi
grep -q "not empty" "$tmp/err" || stack_fail "the non-empty target is not named"
"$restore" --from "$dest" --data-dir "$tmp/b" --admin-url "$admin" >"$tmp/restore.out" ||
	stack_fail "conform-restore failed"
if "$restore" --from "$dest" --data-dir "$tmp/b2" --admin-url "$admin" 2>"$tmp/err"; then
	stack_fail "a restore over an existing database went ahead"
fi
grep -q "database conform exists" "$tmp/err" || stack_fail "the existing database is not named"

# --- side B: the restored service
stack_note "side B: conform-signer and conformd on the restored copy"
use_side "$pgb" "$tmp/b"
[ "$(stat -c %a "$tmp/b/signer")" = 700 ] || stack_fail "the restored signer directory is not 0700"
grep -q "tokendir = $tmp/b/signer/tokens" "$tmp/b/signer/softhsm2.conf" ||
	stack_fail "SoftHSM2 still points at the old tokens"
stack_signer_start "$tmp/b/signer" "$tmp/b-signer.log"
stack_conformd_start "$tmp/b.log"
base=http://127.0.0.1:$conformd_port

ctl audit verify >"$tmp/audit.out" 2>&1 || { cat "$tmp/audit.out" >&2; stack_fail "audit verify failed on the restored copy"; }
ctl log verify >"$tmp/logv.out" 2>&1 || { cat "$tmp/logv.out" >&2; stack_fail "log verify failed on the restored copy"; }

# what was backed up is served
jq -n --rawfile j "$tmp/before.jws" '{jws: ($j | rtrimstr("\n"))}' >"$tmp/v.json"
st=$(api POST /v1/verify "" -H 'Content-Type: application/json' --data-binary @"$tmp/v.json")
expect 200 "$st" "POST /v1/verify of $before"
[ "$(jq -r .valid "$tmp/body")" = true ] || { cat "$tmp/body" >&2; stack_fail "$before does not verify on the restored copy"; }
st=$(api GET "/v1/certificates/$before" "")
expect 200 "$st" "GET $before"
curl -fsS -o "$tmp/dl.bin" -H "Authorization: Bearer $tok1" "$base/v1/applications/$app1/evidence/$ev1" ||
	stack_fail "the evidence backed up does not download"
[ "$(sha256sum "$tmp/dl.bin" | cut -d' ' -f1)" = "$sha1" ] || stack_fail "the evidence's digest changed"

# what came after is absent
st=$(api GET "/v1/certificates/$after" "")
expect 404 "$st" "the certificate issued after the backup"
jq -n --rawfile j "$tmp/after.jws" '{jws: ($j | rtrimstr("\n"))}' >"$tmp/v.json"
st=$(api POST /v1/verify "" -H 'Content-Type: application/json' --data-binary @"$tmp/v.json")
[ "$(jq -r .valid "$tmp/body")" != true ] || stack_fail "$after verifies on a copy from before it"
n=$(psql -X -tA -d "$CONFORM_DATABASE_OWNER_URL" -c "SELECT count(*) FROM application WHERE id = '$app2'")
[ "$n" = 0 ] || stack_fail "the application made after the backup is in the restored database"
st=$(api GET /v1/me "$tok2")
expect 401 "$st" "a token made after the backup"
st=$(api GET /v1/me "$tok1")
expect 200 "$st" "a token made before the backup"
if [ -e "$tmp/b/blobs/${sha2:0:2}/${sha2:2:2}/$sha2" ]; then
	stack_fail "evidence uploaded after the backup is in the restored store"
fi

# the restored signer still signs: the restored log key signs the checkpoint
# of a new certificate (whose body key the restored SoftHSM2 makes)
stack_note "the restored signer signs"
stack_wait 20 checkpoint_covers_all || stack_fail "the restored log is not checkpointed"
third=$(demo third)
[ -n "$third" ] || stack_fail "no certificate issued on the restored copy"
# a serial lost with the restore (its holder still shows it) never names another product
[ "$third" != "$after" ] || stack_fail "the restored copy issued $after again, a serial lost with the restore"
stack_wait 30 checkpoint_covers_all || stack_fail "the restored log key signed no new checkpoint"
ctl log key >"$tmp/logkey.b" || stack_fail "conformctl log key failed on side B"
cmp -s "$tmp/logkey.a" "$tmp/logkey.b" || stack_fail "the log's key changed in the restore"
st=$(api GET "/v1/certificates/$third/jws" "")
expect 200 "$st" "the JWS of $third"
jq -n --rawfile j "$tmp/body" '{jws: ($j | rtrimstr("\n"))}' >"$tmp/v.json"
st=$(api POST /v1/verify "" -H 'Content-Type: application/json' --data-binary @"$tmp/v.json")
[ "$(jq -r .valid "$tmp/body")" = true ] || { cat "$tmp/body" >&2; stack_fail "$third does not verify"; }
ctl log verify >"$tmp/logv.out" 2>&1 || { cat "$tmp/logv.out" >&2; stack_fail "log verify failed after issuing on the copy"; }
ctl audit verify >/dev/null 2>&1 || stack_fail "audit verify failed after issuing on the copy"
echo "PASS: backup and restore drill"
