#!/usr/bin/env bash
# tests/run.sh: installs what is missing, builds, starts a throwaway
# PostgreSQL 15 cluster in a temporary directory, migrates a template
# database, runs every test (ctest over the Check suites), and removes the
# cluster again even when a test fails. Exits non-zero on any failure.
#
#   tests/run.sh            the suite
#   tests/run.sh --asan     the suite built with AddressSanitizer and UBSan
#   tests/run.sh -- ARGS    extra ctest arguments (e.g. -- -R unit/)
#   tests/run.sh --no-fuzz  without the fuzz smoke run
#
# The whole suite (no ctest arguments) ends with a smoke run of every fuzz
# target: tests/fuzz/run.sh $CONFORM_FUZZ_SMOKE_SECONDS (30 by default),
# built with clang in ./build-fuzz. The corpora are replayed in every run
# (the ctests fuzz/*).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# shellcheck source=deploy/local/common.sh
. deploy/local/common.sh

asan=0
fuzz=1
ctest_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--asan) asan=1 ;;
	--no-fuzz) fuzz=0 ;;
	--) shift; ctest_args=("$@"); break ;;
	-h|--help) sed -n '2,16p' "$0"; exit 0 ;;
	*) echo "tests/run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done

conform_install $CONFORM_PACKAGES $CONFORM_TEST_PACKAGES
# Independent implementations check our certificates: node's jose (the JWS),
# jsonld (the credential as linked data) and ajv (its JSON Schema). npm ci
# when any dependency of tests/js/package.json is missing.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || conform_install nodejs npm
js_deps=$(node -e 'console.log(Object.keys(require("./tests/js/package.json").dependencies).join(" "))')
for dep in $js_deps; do
	if [ ! -d "tests/js/node_modules/$dep" ]; then
		conform_say "installing the certificate test harness (npm ci)"
		npm ci --prefix tests/js --no-audit --no-fund --loglevel=error >/dev/null ||
			conform_die "npm ci in tests/js failed"
		break
	fi
done

if [ "$asan" = 1 ]; then
	build=$top/build-asan
	conform_say "building with sanitizers in $build"
	conform_build "$top" "$build" -DCONFORM_SANITIZE=ON
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
else
	build=$top/build
	conform_say "building in $build"
	conform_build "$top" "$build"
fi

tmp=$(mktemp -d /tmp/conform-test.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
pg=$tmp
cleanup() {
	status=$?
	conform_pg_stop "$pg" || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conform_say "starting a throwaway PostgreSQL in $tmp"
# Durability is not tested here; speed is welcome.
conform_pg_init "$pg" "fsync = off" "synchronous_commit = off" "full_page_writes = off"
conform_pg_start "$pg"
conform_pg_roles "$pg"
conform_pg_database "$pg" conform_template

sock=$(readlink -f "$pg")/sock
export CONFORM_TEST_PGHOST=$sock
export CONFORM_TEST_TEMPLATE=conform_template
if [ "$(id -u)" -eq 0 ]; then
	export CONFORM_TEST_PG_CTL="runuser -u postgres -- $CONFORM_PG_BIN/pg_ctl -D $tmp/data -l $tmp/postgresql.log -w -t 60"
else
	export CONFORM_TEST_PG_CTL="$CONFORM_PG_BIN/pg_ctl -D $tmp/data -l $tmp/postgresql.log -w -t 60"
fi
export CONFORM_TEST_ARTIFACTS=$build/test-artifacts
mkdir -p "$CONFORM_TEST_ARTIFACTS"

conform_say "migrating the template database"
CONFORM_DATABASE_OWNER_URL="host=$sock dbname=conform_template user=conform_owner" \
CONFORM_DATABASE_URL="host=$sock dbname=conform_template user=conform_app" \
	"$build/conformctl" db migrate >/dev/null

conform_say "running the tests"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "${ctest_args[@]}"

if [ "$fuzz" = 1 ] && [ ${#ctest_args[@]} -eq 0 ]; then
	conform_say "fuzz smoke run"
	"$top/tests/fuzz/run.sh" "${CONFORM_FUZZ_SMOKE_SECONDS:-30}"
fi
