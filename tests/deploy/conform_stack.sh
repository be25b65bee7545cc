# shellcheck shell=bash disable=SC2154
# tests/deploy/conform_stack.sh: shell functions the deployment tests
# (test_nginx.sh, test_backup.sh) share to run the real programs: free
# loopback ports, conform-signer, conformd, waiting with a deadline. Sourced
# after deploy/local/common.sh, with $build (the build directory) and $tmp
# (the test's own mktemp directory) set. Every process started here is
# recorded in stack_pids and stopped by stack_stop_all.

stack_pids=""

stack_fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

stack_note() { printf -- '--- %s\n' "$*" >&2; }

# stack_free_port: a loopback TCP port nothing listens on now (a caller that
# then fails to bind it picks another: stack_start_conformd and the nginx
# test retry on a clash). Drawn below the kernel's ephemeral range: a busy
# suite holds thousands of outgoing connections on ephemeral ports, and
# nginx cannot bind a port an outgoing connection holds, though nothing
# listens there.
stack_free_port() {
	local p low=32768
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
	[ "$low" -gt 12000 ] || low=32768
	while :; do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

# stack_wait SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# fails after SECONDS.
stack_wait() {
	local deadline=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# stack_signer_start DIR LOG: conform-signer with its keys in DIR (made by
# it, mode 0700); waits for its socket. Sets signer_pid.
stack_signer_start() {
	local dir=$1 log=$2
	CONFORM_SIGNER_DIR=$dir CONFORM_SIGNER_SOCKET=$dir/signer.sock \
		"$build/conform-signer" >>"$log" 2>&1 &
	signer_pid=$!
	stack_pids="$stack_pids $signer_pid"
	stack_wait 30 test -S "$dir/signer.sock" || {
		cat "$log" >&2
		stack_fail "conform-signer did not open $dir/signer.sock"
	}
}

# stack_conformd_start LOG [NAME=VALUE]...: conformd on a free loopback port
# with the caller's CONFORM_* environment plus the given entries; waits for
# /v1/health. Sets conformd_pid and conformd_port.
stack_conformd_start() {
	local log=$1 mark
	shift
	for _ in 1 2 3 4 5; do
		conformd_port=$(stack_free_port)
		mark=$(wc -c <"$log" 2>/dev/null || echo 0)
		env "$@" CONFORM_LISTEN="127.0.0.1:$conformd_port" "$build/conformd" >>"$log" 2>&1 &
		conformd_pid=$!
		if stack_wait 30 stack_conformd_up; then
			stack_pids="$stack_pids $conformd_pid"
			return 0
		fi
		kill "$conformd_pid" 2>/dev/null || true
		wait "$conformd_pid" 2>/dev/null || true
		grep -qi "in use" < <(tail -c +"$((mark + 1))" "$log") || break
	done
	tail -20 "$log" >&2
	stack_fail "conformd did not start"
}

stack_conformd_up() {
	kill -0 "$conformd_pid" 2>/dev/null || return 1
	curl -fsS -o /dev/null "http://127.0.0.1:$conformd_port/v1/health"
}

# stack_stop PID: SIGTERM, and waits for it to end (SIGKILL after 30 s).
stack_stop() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

stack_stop_all() {
	local pid
	for pid in $stack_pids; do
		stack_stop "$pid"
	done
	stack_pids=""
}

# stack_on_exit LOG...: at the end of the test, whatever ends it: stops
# nginx ($nginx_pid, when set) and every process started here, drops the
# test's database ($db, when set), shows the last lines of each LOG that
# exists when the test failed, and removes $tmp. Ctrl-C ends it too.
stack_on_exit() {
	stack_exit_logs=("$@")
	trap stack_exit EXIT
	trap 'exit 130' INT TERM
}

stack_exit() {
	local status=$? f
	[ -n "${nginx_pid:-}" ] && stack_stop "$nginx_pid"
	stack_stop_all
	if [ -n "${db:-}" ]; then
		psql -X -q -h "$CONFORM_TEST_PGHOST" -U postgres -d postgres \
			-c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	fi
	if [ "$status" -ne 0 ]; then
		for f in "${stack_exit_logs[@]}"; do
			[ -f "$f" ] && { echo "=== $f (last lines)"; tail -30 "$f"; } >&2
		done
	fi
	rm -rf "$tmp"
	exit "$status"
}

# stack_service: a database cloned from tests/run.sh's template ($db, dropped
# at exit), the shipped schemes imported, and conform-signer running; the
# CONFORM_* settings of both (data and signer under $tmp) exported for
# conformd and conformctl.
stack_service() {
	stack_note "database $db, conform-signer, conformd"
	psql -X -q -v ON_ERROR_STOP=1 -h "$CONFORM_TEST_PGHOST" -U postgres -d postgres \
		-c "CREATE DATABASE $db TEMPLATE $CONFORM_TEST_TEMPLATE OWNER conform_owner" >/dev/null
	export CONFORM_DATABASE_URL="host=$CONFORM_TEST_PGHOST dbname=$db user=conform_app"
	export CONFORM_DATABASE_OWNER_URL="host=$CONFORM_TEST_PGHOST dbname=$db user=conform_owner"
	export CONFORM_MIGRATIONS_DIR=$top/migrations
	export CONFORM_DATA_DIR=$tmp/data
	export CONFORM_SIGNER_SOCKET=$tmp/signer/signer.sock
	mkdir -p "$CONFORM_DATA_DIR"
	stack_signer_start "$tmp/signer" "$tmp/signer.log"
	"$build/conformctl" scheme import "$top"/schemes/*.json >/dev/null
}
