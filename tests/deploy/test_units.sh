#!/usr/bin/env bash
# tests/deploy/test_units.sh BUILD SOURCE: the install layout and the
# systemd units, from `cmake --install` into a staging root.
#
# - the layout: bin/, share/conform/{migrations,schemes}, share/doc/conform,
#   /etc/conform/conform.conf, /lib/systemd/system;
# - no source path in the installed programs (they find share/conform from
#   their own place), and the shipped configuration file parses for each;
# - `systemd-analyze verify` of every unit prints nothing and succeeds;
#   systemd does not run in this container, so verify runs with --root= on
#   the staging root, into which the host's own units (the targets ours
#   refer to) are copied;
# - `systemd-analyze security --offline` keeps each service's exposure at
#   2.0 ("OK") or below.
set -euo pipefail

build=${1:?usage: test_units.sh BUILD SOURCE}
src=${2:?usage: test_units.sh BUILD SOURCE}
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

root=$(mktemp -d /tmp/conform-units.XXXXXX)
trap 'rm -rf "$root"' EXIT

DESTDIR=$root cmake --install "$build" --prefix /usr --strip >"$root.log" 2>&1 ||
	{ cat "$root.log" >&2; rm -f "$root.log"; fail "cmake --install failed"; }
rm -f "$root.log"

for f in usr/bin/conformd usr/bin/conformctl usr/bin/conform-signer; do
	[ -x "$root/$f" ] || fail "/$f is not installed"
done
for f in usr/share/conform/migrations/0001_foundation.sql \
	usr/share/conform/schemes/dcms-cop-2018.json usr/share/conform/schemes/scheme.schema.json \
	usr/share/doc/conform/operations.md usr/share/doc/conform/copyright \
	usr/share/doc/conform/changelog.Debian.gz usr/share/man/man8/conformd.8.gz \
	etc/conform/conform.conf \
	lib/systemd/system/conformd.service lib/systemd/system/conform-signer.service \
	lib/systemd/system/conform-janitor.service lib/systemd/system/conform-janitor.timer; do
	[ -f "$root/$f" ] || fail "/$f is not installed"
done
n_src=$(ls "$src"/migrations/[0-9][0-9][0-9][0-9]_*.sql | wc -l)
n_inst=$(ls "$root"/usr/share/conform/migrations/*.sql | wc -l)
[ "$n_src" = "$n_inst" ] || fail "$n_inst migrations installed, $n_src in the sources"
[ ! -e "$root/usr/share/conform/build-tree" ] || fail "the build tree's marker was installed"

# The programs find their files from their own place, not from a compiled-in
# source path. (Only the data directories are looked for: a sanitizer build
# names its C source files in its reports, which is no lookup.)
for b in conformd conformctl conform-signer; do
	if strings "$root/usr/bin/$b" | grep -F -e "$src/migrations" -e "$src/schemes" >/dev/null; then
		fail "/usr/bin/$b holds a source path under $src"
	fi
done
# The shipped configuration file is valid for every program.
conf=$root/etc/conform/conform.conf
CONFORM_CONFIG=$conf "$root/usr/bin/conformd" --version >/dev/null ||
	fail "conformd refuses the shipped $conf"
CONFORM_CONFIG=$conf "$root/usr/bin/conformctl" --version >/dev/null ||
	fail "conformctl refuses the shipped $conf"
CONFORM_CONFIG=$conf "$root/usr/bin/conform-signer" --help >/dev/null ||
	fail "conform-signer refuses the shipped $conf"

# the targets and slices our units name, from the host (never over ours)
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/"
units="conformd.service conform-signer.service conform-janitor.service conform-janitor.timer"
for u in $units; do
	out=$(cd / && systemd-analyze verify --man=no --root="$root" "/lib/systemd/system/$u" 2>&1) ||
		fail "systemd-analyze verify $u: $out"
	[ -z "$out" ] || fail "systemd-analyze verify $u is not clean: $out"
	echo "verify $u: clean"
done
for u in conformd.service conform-signer.service conform-janitor.service; do
	out=$(cd / && systemd-analyze security --offline=true --root="$root" --threshold=20 \
		--no-pager "/lib/systemd/system/$u" 2>&1) ||
		fail "systemd-analyze security $u: exposure above 2.0: $(printf '%s\n' "$out" | tail -1)"
	printf '%s\n' "$out" | tail -1
done
echo "PASS"
