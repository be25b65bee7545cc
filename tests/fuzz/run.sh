#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer targets with clang (ASan and UBSan
# on, in ./build-fuzz) and fuzzes each for SECONDS, two at a time. New
# inputs go to build-fuzz/fuzz-corpus/<target> (tests/fuzz/corpus/<target>
# is only read); a crash is saved as build-fuzz/fuzz-artifacts/<target>-crash-*
# and makes the script fail with the end of the target's log. The last
# libFuzzer status line of every target is printed (executions, cov, ft).
#
#   tests/fuzz/run.sh SECONDS            every target
#   tests/fuzz/run.sh SECONDS TARGET...  the named ones (json, jws, ...)
#   FUZZ_JOBS=N                          targets run at once (default 2)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# shellcheck source=deploy/local/common.sh
. deploy/local/common.sh

case ${1:-} in
''|-h|--help) sed -n '2,12p' "$0"; exit 2 ;;
*[!0-9]*) echo "tests/fuzz/run.sh: SECONDS must be a whole number, not '$1'" >&2; exit 2 ;;
esac
seconds=$1
shift
jobs=${FUZZ_JOBS:-2}

all=()
for src in tests/fuzz/fuzz_*.c; do
	name=${src##*/fuzz_}
	all+=("${name%.c}")
done
if [ $# -gt 0 ]; then
	targets=("$@")
	for t in "${targets[@]}"; do
		[ -f "tests/fuzz/fuzz_$t.c" ] ||
			conform_die "there is no fuzz target '$t' (there are: ${all[*]})"
	done
else
	targets=("${all[@]}")
fi

conform_install $CONFORM_PACKAGES $CONFORM_TEST_PACKAGES
build=$top/build-fuzz
if [ ! -f "$build/CMakeCache.txt" ]; then
	CC=clang cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONFORM_FUZZ=ON \
		>/dev/null || conform_die "cmake configure (clang, CONFORM_FUZZ) failed"
fi
conform_say "building the fuzz targets in $build"
cmake --build "$build" --target fuzz -j "$(nproc)" >/dev/null 2>"$build/build-errors.log" || {
	cat "$build/build-errors.log" >&2
	conform_die "the fuzz build failed"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
logs=$build/fuzz-logs/${seconds}s
mkdir -p "$logs" "$build/fuzz-artifacts"

# fuzz TARGET: one libFuzzer run; its log in $logs/TARGET.log.
fuzz() {
	t=$1
	mkdir -p "$build/fuzz-corpus/$t"
	"$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
		"$build/fuzz-corpus/$t" "tests/fuzz/corpus/$t" >"$logs/$t.log" 2>&1
}

conform_say "fuzzing ${targets[*]} for ${seconds}s each, $jobs at a time"
declare -A pid_of
failed=()
running=0
for t in "${targets[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	fuzz "$t" &
	pid_of[$t]=$!
	running=$((running + 1))
done
for t in "${targets[@]}"; do
	if ! wait "${pid_of[$t]}"; then
		failed+=("$t")
	fi
done

for t in "${targets[@]}"; do
	last=$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -1 || true)
	printf '%-12s %s\n' "$t" "${last:-(no status line)}"
done
if [ ${#failed[@]} -gt 0 ]; then
	for t in "${failed[@]}"; do
		echo "---- fuzz_$t failed; the end of $logs/$t.log:" >&2
		tail -40 "$logs/$t.log" >&2
	done
	ls "$build"/fuzz-artifacts/ >&2 || true
	conform_die "fuzzing found a failure in: ${failed[*]} (keep the input in tests/fuzz/corpus/<target>/ once fixed)"
fi
conform_say "no failure in ${#targets[@]} targets"
