#!/usr/bin/env bash
# tests/deploy/test_package.sh BUILD SOURCE: the package acceptance test.
#
# From the build tree: builds the .deb (cpack), installs it on this machine
# (apt-get install ./conform_*.deb), checks what the package set up (the
# conform users, /var/lib/conform 0750, the conffile), starts a throwaway
# PostgreSQL cluster, runs the INSTALLED conformctl (db migrate, scheme
# import of /usr/share/conform/schemes) and the INSTALLED conformd as the
# conform user (no systemctl: setpriv), beside the INSTALLED conform-signer
# as the conform-signer user (a log key made through it), with the INSTALLED
# /etc/conform/conform.conf plus the two settings the test must override
# (the database and a free port), and checks that /v1/ready answers 200 and
# that SIGTERM stops it cleanly. Then purges the package and checks that it
# is gone. Every exit path stops conformd and the cluster, purges the
# package, removes the users if this test made them, and the temporary
# directory.
#
# Needs root (dpkg). Runs one at a time on a machine (a lock file): two
# worktrees' suites must not install the package over each other.
set -euo pipefail

build=${1:?usage: test_package.sh BUILD SOURCE}
src=${2:?usage: test_package.sh BUILD SOURCE}
# shellcheck source=deploy/local/common.sh
. "$src/deploy/local/common.sh"
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
step() { printf '==> %s\n' "$*"; }

[ "$(id -u)" -eq 0 ] || fail "the package test installs a .deb: run it as root"
exec 9>/run/lock/conform-package-test.lock
flock -w 600 9 || fail "another package test held the lock for 10 minutes"
if dpkg-query -W -f='${Status}' conform 2>/dev/null | grep -q "ok installed"; then
	fail "a conform package is already installed here; this test installs and purges its own"
fi
# The package's state directories are removed by its purge: never take over
# ones that something else made.
for d in /var/lib/conform /var/lib/conform-signer /etc/conform; do
	[ ! -e "$d" ] || fail "$d exists and no conform package is installed: this test would purge it"
done
made_users=""
for u in conform conform-signer; do
	getent passwd "$u" >/dev/null || made_users="$made_users $u"
done
made_group=0
getent group conform >/dev/null || made_group=1

tmp=$(mktemp -d /tmp/conform-pkgtest.XXXXXX)
chmod 755 "$tmp"
chown postgres: "$tmp"
pg=$tmp/pg
pid=""
signer_pid=""
cleanup() {
	status=$?
	set +e
	for p in $pid $signer_pid; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p"
			wait "$p" 2>/dev/null
		fi
	done
	conform_pg_stop "$pg" >/dev/null 2>&1
	if dpkg-query -W -f='${Status}' conform 2>/dev/null | grep -q "installed"; then
		dpkg --purge conform >/dev/null 2>&1 || echo "warning: dpkg --purge conform failed" >&2
	fi
	for u in $made_users; do
		getent passwd "$u" >/dev/null && { deluser --system --quiet "$u" >/dev/null 2>&1 ||
			echo "warning: could not remove the user $u" >&2; }
	done
	if [ "$made_group" = 1 ] && getent group conform >/dev/null; then
		delgroup --system --quiet conform >/dev/null 2>&1
	fi
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "building the package (cpack)"
mkdir "$tmp/deb"
(cd "$build" && cpack -G DEB -B "$tmp/deb") >"$tmp/cpack.log" 2>&1 ||
	{ cat "$tmp/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$tmp"/deb/conform_*.deb)
[ -f "$deb" ] || fail "cpack made no .deb"

step "lintian"
# Each tag let through is explained in docs/operations.md, "Installing the
# package"; anything else at warning level or above fails.
lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs "$deb" \
	>"$tmp/lintian.log" 2>&1 || { cat "$tmp/lintian.log" >&2; fail "lintian"; }
grep -v "running with root privileges" "$tmp/lintian.log" || true

step "installing $(basename "$deb")"
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	-o DPkg::Lock::Timeout=300 "$deb" >"$tmp/apt.log" 2>&1 ||
	{ cat "$tmp/apt.log" >&2; fail "apt-get install of the package failed"; }

# what the package set up
getent passwd conform >/dev/null || fail "no conform user"
getent passwd conform-signer >/dev/null || fail "no conform-signer user"
[ "$(stat -c '%U:%G %a' /var/lib/conform)" = "conform:conform 750" ] ||
	fail "/var/lib/conform is $(stat -c '%U:%G %a' /var/lib/conform), not conform:conform 750"
[ "$(stat -c '%U %a' /var/lib/conform-signer)" = "conform-signer 700" ] ||
	fail "/var/lib/conform-signer is $(stat -c '%U %a' /var/lib/conform-signer)"
dpkg-query -W -f='${Conffiles}\n' conform | grep -q '^ /etc/conform/conform.conf ' ||
	fail "/etc/conform/conform.conf is not a conffile"
[ "$(stat -c '%U:%G %a' /etc/conform/conform.conf)" = "root:conform 640" ] ||
	fail "/etc/conform/conform.conf is $(stat -c '%U:%G %a' /etc/conform/conform.conf)"
for f in /usr/bin/conformd /usr/bin/conformctl /usr/bin/conform-signer \
	/usr/bin/conform-backup /usr/bin/conform-restore \
	/usr/share/doc/conform/examples/nginx/conform.conf \
	/lib/systemd/system/conformd.service /usr/share/conform/migrations/0001_foundation.sql; do
	[ -e "$f" ] || fail "$f is not installed"
done
/usr/bin/conform-restore --help | grep -q -- '--serial-gap' || fail "the installed conform-restore has no --help"

step "a throwaway PostgreSQL cluster in $pg"
conform_pg_init "$pg" "fsync = off"
# the conform user connects through the socket too (trust: the cluster is
# this test's and gone at its end)
conform_pg_as chmod 755 "$pg/sock"
conform_pg_start "$pg" 9>&- # the cluster must not hold the lock either
conform_pg_roles "$pg"
conform_pg_database "$pg" conform
sock=$(readlink -f "$pg")/sock
app_url="host=$sock dbname=conform user=conform_app"
owner_url="host=$sock dbname=conform user=conform_owner"

# As the conform user, the way the units run the programs: the installed
# programs, the installed configuration (the default file) and only these
# settings on top.
# (exec: $! is the program itself; 9>&-: it does not hold the test's lock)
as_conform() { (cd / && exec setpriv --reuid=conform --regid=conform --init-groups -- "$@" 9>&-); }

step "the installed conformctl: db migrate, scheme import from /usr/share/conform"
as_conform /usr/bin/conformctl --database-url "$app_url" --database-owner-url "$owner_url" \
	db migrate >"$tmp/migrate.log" 2>&1 || { cat "$tmp/migrate.log" >&2; fail "db migrate failed"; }
as_conform /usr/bin/conformctl --database-url "$app_url" --database-owner-url "$owner_url" \
	db status >"$tmp/status.log" 2>&1 || { cat "$tmp/status.log" >&2; fail "db status failed"; }
grep -q "pending" "$tmp/status.log" && ! grep -qi "no pending\|0 pending" "$tmp/status.log" &&
	{ cat "$tmp/status.log" >&2; fail "migrations pending after db migrate"; }
as_conform /usr/bin/conformctl --database-url "$app_url" \
	scheme import /usr/share/conform/schemes/*.json >"$tmp/import.log" 2>&1 ||
	{ cat "$tmp/import.log" >&2; fail "scheme import failed"; }
as_conform /usr/bin/conformctl --database-url "$app_url" scheme list >"$tmp/list.log" 2>&1
grep -q "dcms-cop" "$tmp/list.log" || { cat "$tmp/list.log" >&2; fail "dcms-cop was not imported"; }

step "the installed conform-signer as conform-signer, asked by conformctl as conform"
# As its unit runs it: user conform-signer, group conform, keys in the
# installed signer-dir (/var/lib/conform-signer); the socket directory is
# what systemd's RuntimeDirectory= makes (0750, group conform).
run=$tmp/run-signer
mkdir "$run"
chown conform-signer:conform "$run"
chmod 750 "$run"
signer_sock=$run/signer.sock
(cd / && exec setpriv --reuid=conform-signer --regid=conform --init-groups -- \
	/usr/bin/conform-signer --signer-socket "$signer_sock" >"$tmp/signer.log" 2>&1 9>&-) &
signer_pid=$!
for _ in $(seq 1 300); do
	[ -S "$signer_sock" ] && break
	kill -0 "$signer_pid" 2>/dev/null || { cat "$tmp/signer.log" >&2; fail "conform-signer did not start"; }
	sleep 0.1
done
[ -S "$signer_sock" ] || fail "conform-signer did not open its socket"
[ "$(stat -c '%U:%G %a' "$signer_sock")" = "conform-signer:conform 660" ] ||
	fail "the signer's socket is $(stat -c '%U:%G %a' "$signer_sock")"
as_conform /usr/bin/conformctl --database-url "$app_url" --signer-socket "$signer_sock" \
	key generate --log >"$tmp/keygen.log" 2>&1 || { cat "$tmp/keygen.log" "$tmp/signer.log" >&2; fail "key generate --log through the signer failed"; }
# the token is the signer's alone
[ -n "$(ls -A /var/lib/conform-signer)" ] || fail "conform-signer kept nothing in /var/lib/conform-signer"
as_conform ls /var/lib/conform-signer >/dev/null 2>&1 && fail "the conform user can read the signer's directory"

step "the installed conformd as the conform user"
ready=0
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	(cd / && exec setpriv --reuid=conform --regid=conform --init-groups -- \
		/usr/bin/conformd --database-url "$app_url" --listen "127.0.0.1:$port" \
		--signer-socket "$signer_sock" \
		>"$tmp/conformd.log" 2>&1 9>&-) &
	pid=$!
	for _ in $(seq 1 600); do
		kill -0 "$pid" 2>/dev/null || break # exited: the port was taken, or a failure
		code=$(curl -s -o "$tmp/ready.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/ready" || true)
		if [ "$code" = 200 ]; then
			ready=1
			break
		fi
		sleep 0.1
	done
	[ "$ready" = 1 ] && break
	if kill -0 "$pid" 2>/dev/null; then
		cat "$tmp/conformd.log" >&2
		fail "conformd runs but /v1/ready did not answer 200 within 60 s (last: $code)"
	fi
	wait "$pid" || true
	pid=""
	grep -q "in use\|Address already" "$tmp/conformd.log" ||
		{ cat "$tmp/conformd.log" >&2; fail "the installed conformd did not start"; }
done
[ "$ready" = 1 ] || fail "no free port in 5 attempts"
echo "/v1/ready: $(cat "$tmp/ready.json")"
code=$(curl -s -o "$tmp/vkey" -w '%{http_code}' "http://127.0.0.1:$port/v1/log/vkey")
[ "$code" = 200 ] || fail "/v1/log/vkey answered $code: $(cat "$tmp/vkey")"
echo "/v1/log/vkey: $(cat "$tmp/vkey")"
[ "$(stat -c %U /proc/"$pid")" = conform ] || fail "conformd does not run as conform"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || { cat "$tmp/conformd.log" >&2; fail "conformd exited $rc on SIGTERM"; }
kill -TERM "$signer_pid"
rc=0
wait "$signer_pid" || rc=$?
signer_pid=""
[ "$rc" = 0 ] || { cat "$tmp/signer.log" >&2; fail "conform-signer exited $rc on SIGTERM"; }

step "the installed programs read the installed /etc/conform/conform.conf"
# by default, with nothing given: a line it does not know is refused by name
cp -p /etc/conform/conform.conf "$tmp/conform.conf.orig"
echo "no-such-setting = 1" >>/etc/conform/conform.conf
line=$(wc -l </etc/conform/conform.conf)
for b in conformd conformctl; do
	out=$(as_conform /usr/bin/$b --version 2>&1) && fail "$b did not read /etc/conform/conform.conf"
	case $out in
	*"/etc/conform/conform.conf:$line: unknown setting 'no-such-setting'"*) ;;
	*) fail "$b: $out" ;;
	esac
done
cp -p "$tmp/conform.conf.orig" /etc/conform/conform.conf
as_conform /usr/bin/conformd --version >/dev/null || fail "conformd refuses the shipped configuration"

step "purging the package"
dpkg --purge conform >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "dpkg --purge failed"; }
for f in /usr/bin/conformd /etc/conform/conform.conf /var/lib/conform /var/lib/conform-signer; do
	[ ! -e "$f" ] || fail "$f is left after the purge"
done
echo "PASS"
