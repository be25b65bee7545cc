#!/usr/bin/env bash
# tests/deploy/test_tiles.sh: the transparency log as C2SP tlog-tiles
# (issue 14), read by an independent reader (tests/py/tlog_reader.py: the
# specs, Python's standard library and `cryptography`, none of conform's
# code), from conformd and from a plain nginx serving what `conformctl log
# publish` wrote.
#
#   1. a log of 1,600 certificates issued through the API (approved
#      applications cloned in SQL through the database's own checks, as
#      tests/bench/run.sh does; issued by POST .../certificate, eight clients:
#      every entry is a real signed issuance);
#   2. conformd: /log/checkpoint is /v1/log/checkpoint's note; the reader
#      verifies it under /v1/log/vkey, rebuilds the tree from the tiles and
#      checks every entry's inclusion proof; the headers (immutable full
#      tiles, no-cache partial ones and checkpoint, any origin); tiles past
#      the checkpoint and malformed paths are 404 problems;
#   3. conformctl log publish DIR (from the database) served by nginx: the
#      reader gives the same size, root and entries, and every file is
#      byte-identical to conformd's answer at its path; publish --url
#      (through the API) writes the same files;
#   4. the log grows: publish again keeps the full tiles untouched (same
#      inode), drops the partial tiles a full one replaced, and the reader
#      still verifies through nginx.
#
# Needs tests/run.sh's cluster (CONFORM_TEST_PGHOST, CONFORM_TEST_TEMPLATE);
# run by ctest as deploy/test_tiles.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${CONFORM_BINARY_DIR:-$top/build}
# shellcheck source=deploy/local/common.sh
. "$top/deploy/local/common.sh"
# shellcheck source=tests/deploy/conform_stack.sh
. "$top/tests/deploy/conform_stack.sh"

: "${CONFORM_TEST_PGHOST:?run through tests/run.sh (it provides the cluster)}"
: "${CONFORM_TEST_TEMPLATE:?run through tests/run.sh}"
command -v nginx >/dev/null || stack_fail "nginx is not installed (tests/run.sh installs nginx-light)"
python3 -c 'import cryptography' 2>/dev/null ||
	stack_fail "python3-cryptography is not installed (tests/run.sh installs it)"
[ -x "$build/bench_issue" ] || stack_fail "$build/bench_issue is not built"

count=${CONFORM_TILES_CERTS:-1600}
reader=$top/tests/py/tlog_reader.py
tmp=$(mktemp -d /tmp/conform-tiles.XXXXXX)
chmod 755 "$tmp"
db=tiles_$$_$RANDOM
nginx_pid=""

stack_on_exit "$tmp"/conformd.log "$tmp"/nginx/error.log

sql() { psql -X -q -tA -v ON_ERROR_STOP=1 -h "$CONFORM_TEST_PGHOST" -U postgres -d "$db" -c "$1"; }
expect() { # WANT GOT WHAT
	[ "$1" = "$2" ] || stack_fail "$3: expected $1, got $2"
}

# --- the database, conform-signer, conformd
stack_service
export CONFORM_PUBLIC_URL=https://registry.example.test
touch "$tmp/conformd.log"
# conformd's first start stores the public URL, which bootstrap needs
stack_conformd_start "$tmp/conformd.log"
base=http://127.0.0.1:$conformd_port
admin=$("$build/conformctl" bootstrap --org-name Tiles --country GB --email t@example.org \
	--admin-name Tiles --admin-email tiles@example.org | awk '/^token:/ {print $2}')
[ -n "$admin" ] || stack_fail "conformctl bootstrap gave no token"
"$build/conformctl" demo >/dev/null

api() { # METHOD PATH TOKEN
	curl -fsS -X "$1" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' "$base$2"
}

# --- 1. the log: COUNT certificates issued through the API
stack_note "$count certificates issued through the API"
IFS='|' read -r tapp body_admin certifier < <(sql "SELECT c.application_id || '|' ||
	(SELECT u.id FROM app_user u WHERE u.org_id = c.body_id AND 'org_admin' = ANY (u.roles)
	 ORDER BY u.created_at LIMIT 1) || '|' || d.decided_by
	FROM certificate c JOIN application_decision d ON d.application_id = c.application_id
	ORDER BY c.seq LIMIT 1")
body_token=$(api POST "/v1/users/$body_admin/tokens" "$admin" | jq -r .token)
token=$(api POST "/v1/users/$certifier/tokens" "$body_token" | jq -r .token)
[ -n "$token" ] && [ "$token" != null ] || stack_fail "no token for the certifier"
issue() { # N: clones the demo's approved application N times and issues each
	sql "
WITH a AS (INSERT INTO application (product_id, manufacturer_id, scheme_id, scheme_version, class,
	assessment_type, body_id, owners, state, product_snapshot, manufacturer_snapshot, created_by,
	submitted_at)
SELECT product_id, manufacturer_id, scheme_id, scheme_version, class, assessment_type, body_id,
	owners, 'decided', product_snapshot, manufacturer_snapshot, created_by, now()
FROM application, generate_series(1, $1) WHERE id = '$tapp' RETURNING id),
d AS (INSERT INTO application_decision (application_id, decision, rationale, decided_by,
	evidence_digest, self_declaration)
SELECT a.id, t.decision, t.rationale, t.decided_by, t.evidence_digest, t.self_declaration
FROM a, application_decision t WHERE t.application_id = '$tapp' RETURNING application_id)
SELECT application_id FROM d" | sed "s/\$/ $token/" >"$tmp/issue.lines"
	[ "$(wc -l <"$tmp/issue.lines")" -eq "$1" ] || stack_fail "expected $1 approved applications"
	"$build/bench_issue" "$base" "$tmp/issue.lines" 8 600 ||
		stack_fail "issuance: answers other than 201"
}
started=$(date +%s)
out=$(issue "$count")
stack_note "issued: $out in $(( $(date +%s) - started )) s"
expect "$count" "$(echo "$out" | sed -n 's/.*issued=\([0-9]*\).*/\1/p')" "certificates issued"

# the log's size once every append is in, and a checkpoint that covers it
entries=$(sql "SELECT count(*) FROM tlog_entry")
[ "$entries" -gt "$count" ] || stack_fail "the log has $entries entries for $count certificates"
signed() { [ "$(curl -fsS "$base/v1/log/tree-head" | jq -r .size)" = "$1" ]; }
stack_wait 60 signed "$entries" || stack_fail "no checkpoint of size $entries within 60 s"

# --- 2. conformd serves the tiles
stack_note "the independent reader against conformd ($entries entries)"
vkey=$(curl -fsS "$base/v1/log/vkey")
curl -fsS -o "$tmp/cp.v1" "$base/v1/log/checkpoint"
curl -fsS -o "$tmp/cp.tiles" "$base/log/checkpoint"
cmp -s "$tmp/cp.v1" "$tmp/cp.tiles" || stack_fail "/log/checkpoint is not /v1/log/checkpoint's note"
python3 "$reader" "$base/log" "$vkey" >"$tmp/read.conformd" ||
	stack_fail "the reader does not verify the log served by conformd"
expect "$entries" "$(jq -r .size "$tmp/read.conformd")" "the reader's tree size"
expect "$entries" "$(jq -r .proofs "$tmp/read.conformd")" "inclusion proofs checked"
root_b64=$(curl -fsS "$base/v1/log/tree-head" | jq -r .root_hash)
expect "$(echo "$root_b64" | base64 -d | od -An -tx1 -v | tr -d ' \n')" \
	"$(jq -r .root "$tmp/read.conformd")" "the reader's root against /v1/log/tree-head"

# headers and refusals
head_of() { curl -sS -o "$tmp/body" -D "$tmp/head" -w '%{http_code}' "$base$1"; }
header() { grep -i "^$1:" "$tmp/head" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
expect 200 "$(head_of /log/tile/0/000)" "a full tile"
expect "public, max-age=31536000, immutable" "$(header Cache-Control)" "a full tile's Cache-Control"
expect "*" "$(header Access-Control-Allow-Origin)" "a full tile's Access-Control-Allow-Origin"
expect application/octet-stream "$(header Content-Type)" "a tile's Content-Type"
expect 8192 "$(wc -c <"$tmp/body")" "a full tile's length"
w0=$((entries % 256)) n0=$((entries / 256))
[ "$w0" -gt 0 ] || stack_fail "the test expects a partial level-0 tile (entries $entries)"
expect 200 "$(head_of "/log/tile/entries/$(printf '%03d' "$n0").p/$w0")" "the partial entry bundle"
expect no-cache "$(header Cache-Control)" "a partial bundle's Cache-Control"
expect 200 "$(head_of /log/checkpoint)" "the checkpoint"
expect no-cache "$(header Cache-Control)" "the checkpoint's Cache-Control"
expect "text/plain; charset=utf-8" "$(header Content-Type)" "the checkpoint's Content-Type"
expect "*" "$(header Access-Control-Allow-Origin)" "the checkpoint's Access-Control-Allow-Origin"
for path in "/log/tile/0/$(printf '%03d' "$n0")" "/log/tile/0/$(printf '%03d' "$n0").p/$((w0 + 1))" \
	"/log/tile/entries/$(printf '%03d' $((n0 + 1)))" /log/tile/1/000 /log/tile/2/000.p/1; do
	expect 404 "$(head_of "$path")" "$path (past the checkpoint)"
	expect application/problem+json "$(header Content-Type)" "$path's Content-Type"
	grep -q "does not cover" "$tmp/body" || stack_fail "$path: the problem does not say why"
done
for path in /log/tile/0/1 /log/tile/00/000 /log/tile/64/000 /log/tile/0/x000/001 /log/tile/0/0000 \
	/log/tile/0/000.p/0 /log/tile/0/000.p/256 /log/tile/0/000.p/07 /log/tile/0/000/ \
	/log/tile/0/x001 /log/tile/entries/x1/000 /log/tile/0/000.q/1; do
	expect 404 "$(head_of "$path")" "$path (malformed)"
	grep -q "no such tile" "$tmp/body" || stack_fail "$path: the problem does not say why"
done

# --- 3. conformctl log publish, served by nginx
stack_note "conformctl log publish, served by a plain nginx"
www=$tmp/www
mkdir -p "$www/log" "$tmp/api-copy"
if "$build/conformctl" log publish "$tmp/no-such-dir" 2>"$tmp/why"; then
	stack_fail "log publish into a missing directory succeeded"
fi
grep -q "no-such-dir is not a directory" "$tmp/why" || stack_fail "log publish said: $(cat "$tmp/why")"
"$build/conformctl" --json log publish "$www/log" >"$tmp/publish.json"
expect "$entries" "$(jq -r .size "$tmp/publish.json")" "the size log publish reports"
"$build/conformctl" --url "$base" log publish "$tmp/api-copy" >/dev/null
diff -r "$www/log" "$tmp/api-copy" >/dev/null ||
	stack_fail "publish --url (through the API) wrote other files than publish from the database"
# every file is byte-identical to conformd's answer at its path
files=0
while IFS= read -r f; do
	curl -fsS -o "$tmp/answer" "$base/log/$f" || stack_fail "conformd has no /log/$f"
	cmp -s "$tmp/answer" "$www/log/$f" || stack_fail "$f differs from conformd's /log/$f"
	files=$((files + 1))
done < <(cd "$www/log" && find . -type f | sed 's|^\./||' | sort)
stack_note "$files published files, each byte-identical to conformd's answer"

ngx=$tmp/nginx
mkdir -p "$ngx"
nginx_start() {
	nginx_port=$(stack_free_port)
	cat >"$ngx/nginx.conf" <<NGX
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
worker_processes 1;
events { worker_connections 64; }
http {
	client_body_temp_path $ngx/client_body;
	proxy_temp_path $ngx/proxy;
	fastcgi_temp_path $ngx/fastcgi;
	uwsgi_temp_path $ngx/uwsgi;
	scgi_temp_path $ngx/scgi;
	access_log $ngx/access.log;
	server {
		listen 127.0.0.1:$nginx_port;
		root $www;
		location = /log/checkpoint {
			default_type "text/plain; charset=utf-8";
			add_header Cache-Control "no-cache" always;
			add_header Access-Control-Allow-Origin "*" always;
		}
		location ~ ^/log/tile/.*\.p/ {
			default_type application/octet-stream;
			add_header Cache-Control "no-cache" always;
			add_header Access-Control-Allow-Origin "*" always;
		}
		location /log/tile/ {
			default_type application/octet-stream;
			add_header Cache-Control "public, max-age=31536000, immutable" always;
			add_header Access-Control-Allow-Origin "*" always;
		}
	}
}
NGX
	nginx -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" -g 'daemon off;' &
	nginx_pid=$!
	stack_wait 20 curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/log/checkpoint"
}
for try in 1 2 3 4 5; do
	nginx_start && break
	kill "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=""
	grep -q "Address already in use" "$ngx/error.log" 2>/dev/null || stack_fail "nginx did not start"
	[ "$try" -lt 5 ] || stack_fail "nginx found no free port"
done
static=http://127.0.0.1:$nginx_port

python3 "$reader" "$static/log" "$vkey" >"$tmp/read.nginx" ||
	stack_fail "the reader does not verify the log served by nginx"
for k in size root entries_sha256 proofs fetched; do
	expect "$(jq -cS ".$k" "$tmp/read.conformd")" "$(jq -cS ".$k" "$tmp/read.nginx")" \
		"the reader's $k through nginx and through conformd"
done

# the reader is not fooled: a forged copy (one byte of an entry; an entry
# and its leaf hash both; the checkpoint's size) served beside the real one
forge() { # NAME PYTHON: a copy of the published log under /NAME/log, changed by PYTHON (cwd: it)
	rm -rf "${www:?}/$1"
	mkdir -p "$www/$1"
	cp -a "$www/log" "$www/$1/log"
	(cd "$www/$1/log" && python3 -c "$2")
}
refuses() { # NAME WHY
	if python3 "$reader" "$static/$1/log" "$vkey" >/dev/null 2>"$tmp/why"; then
		stack_fail "the reader accepted a forged log ($1)"
	fi
	grep -q "$2" "$tmp/why" || stack_fail "forged log $1: the reader said $(cat "$tmp/why")"
}
forge entry 'b = bytearray(open("tile/entries/000", "rb").read()); b[10] ^= 1
open("tile/entries/000", "wb").write(b)'
refuses entry "does not hash to its tile"
forge leaf 'import hashlib
b = bytearray(open("tile/entries/000", "rb").read()); b[10] ^= 1
open("tile/entries/000", "wb").write(b)
n = int.from_bytes(b[0:2], "big")
t = bytearray(open("tile/0/000", "rb").read())
t[0:32] = hashlib.sha256(b"\x00" + bytes(b[2:2 + n])).digest()
open("tile/0/000", "wb").write(t)'
refuses leaf "is not the hash of tile"
forge size 'c = open("checkpoint").read().split("\n"); c[1] = str(int(c[1]) - 1)
open("checkpoint", "w").write("\n".join(c))'
refuses size "does not verify"

# --- 4. the log grows; publish again
stack_note "the log grows by 300 certificates; publish again"
full_inode() { stat -c %i "$www/log/tile/0/000"; }
before=$(full_inode)
old_partial="$www/log/tile/0/$(printf '%03d' "$n0").p/$w0"
[ -f "$old_partial" ] || stack_fail "publish wrote no $old_partial"
issue 300 >/dev/null
entries2=$(sql "SELECT count(*) FROM tlog_entry")
stack_wait 60 signed "$entries2" || stack_fail "no checkpoint of size $entries2 within 60 s"
"$build/conformctl" log publish "$www/log" >/dev/null
expect "$before" "$(full_inode)" "the inode of a full tile after publishing again (never rewritten)"
if [ $((entries2 / 256)) -gt "$n0" ]; then
	[ ! -e "$old_partial" ] || stack_fail "$old_partial is still there after its full tile was written"
	[ -f "$www/log/tile/0/$(printf '%03d' "$n0")" ] || stack_fail "the full tile $n0 was not written"
fi
python3 "$reader" "$static/log" "$vkey" >"$tmp/read.nginx2" ||
	stack_fail "the reader does not verify the grown log served by nginx"
expect "$entries2" "$(jq -r .size "$tmp/read.nginx2")" "the grown log's size through nginx"
python3 "$reader" "$base/log" "$vkey" >"$tmp/read.conformd2" ||
	stack_fail "the reader does not verify the grown log served by conformd"
expect "$(jq -r .root "$tmp/read.conformd2")" "$(jq -r .root "$tmp/read.nginx2")" \
	"the grown log's root through nginx and conformd"
stack_note "ok: $entries2 entries verified by the independent reader through conformd and nginx"
