#!/usr/bin/env bash
# deploy/local/run.sh: from a fresh clone to a running conform on this machine.
# Installs what is missing, builds, starts the embedded PostgreSQL cluster
# (unless CONFORM_DATABASE_URL is set), migrates, imports the shipped schemes,
# starts conform-signer (which alone holds the private signing keys, under
# DATA_DIR/signer) and runs conformd in the foreground, restarting it (with a
# back-off, a bounded number of times) when it dies unexpectedly. Ctrl-C stops
# conformd, the signer and the cluster.
# Safe to run again: every step is idempotent.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# shellcheck source=deploy/local/common.sh
. deploy/local/common.sh

export CONFORM_DATA_DIR=${CONFORM_DATA_DIR:-./var}
export CONFORM_LISTEN=${CONFORM_LISTEN:-127.0.0.1:8080}
build=${CONFORM_BUILD_DIR:-$top/build}

conform_install $CONFORM_PACKAGES
conform_say "building in $build"
conform_build "$top" "$build"

embedded=0
if [ -z "${CONFORM_DATABASE_URL:-}" ]; then
	embedded=1
	data=$(cd "$(dirname "$CONFORM_DATA_DIR")" 2>/dev/null && pwd)/$(basename "$CONFORM_DATA_DIR") ||
		data=$CONFORM_DATA_DIR
	mkdir -p "$data"
	data=$(cd "$data" && pwd)
	pg=$(conform_pg_base "$data")
	conform_say "PostgreSQL 15 cluster in $(readlink -f "$pg") (socket only)"
	conform_pg_init "$pg"
	conform_pg_start "$pg"
	conform_pg_roles "$pg"
	conform_pg_database "$pg" conform
fi

conform_say "migrating"
"$build/conformctl" db migrate

conform_say "importing the shipped schemes"
"$build/conformctl" scheme import schemes/*.json

stop_all() {
	if [ -n "${sleep_pid:-}" ]; then
		kill -TERM "$sleep_pid" 2>/dev/null || true
	fi
	if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ -n "${signer_pid:-}" ] && kill -0 "$signer_pid" 2>/dev/null; then
		conform_say "stopping conform-signer"
		kill -TERM "$signer_pid" 2>/dev/null || true
		wait "$signer_pid" 2>/dev/null || true
	fi
	if [ "$embedded" = 1 ]; then
		conform_say "stopping PostgreSQL"
		conform_pg_stop "$pg" || true
	fi
}
trap stop_all EXIT
trap 'exit 0' INT TERM

# The signer first: conformd signs through its socket. It makes its own
# directory (mode 0700); conformd and conformctl find the socket through the
# same CONFORM_DATA_DIR (or CONFORM_SIGNER_SOCKET).
signer_dir=${CONFORM_SIGNER_DIR:-$CONFORM_DATA_DIR/signer}
signer_socket=${CONFORM_SIGNER_SOCKET:-$signer_dir/signer.sock}
conform_say "conform-signer: keys in $signer_dir"
"$build/conform-signer" &
signer_pid=$!
for _ in $(seq 1 100); do
	[ -S "$signer_socket" ] && break
	kill -0 "$signer_pid" 2>/dev/null || conform_die "conform-signer did not start"
	sleep 0.1
done
[ -S "$signer_socket" ] || conform_die "conform-signer did not open $signer_socket"

# The transparency log is signed from the first start: its key is made once,
# in conform-signer, when the service has no active one.
if ! "$build/conformctl" key list | grep -Eq '^[^ ]+ +log .* active '; then
	conform_say "making the transparency log's key (in conform-signer)"
	"$build/conformctl" key generate --log >/dev/null
fi

# What a second terminal needs to reach this service with conformctl: the
# same data directory (absolute), and the same database and signer settings.
data_abs=$(cd "$CONFORM_DATA_DIR" && pwd)
exports=""
if [ "$CONFORM_DATA_DIR" != ./var ] && [ "$data_abs" != "$top/var" ]; then
	exports="$exports  export CONFORM_DATA_DIR=$data_abs
"
fi
for v in CONFORM_SIGNER_SOCKET CONFORM_SIGNER_DIR; do
	if [ -n "${!v:-}" ]; then
		exports="$exports  export $v=$(readlink -f "${!v}")
"
	fi
done
if [ "$embedded" = 0 ]; then
	# never printed: a connection string may hold a password
	exports="$exports  export CONFORM_DATABASE_URL=...  (the same as this shell's, and CONFORM_DATABASE_OWNER_URL)
"
fi
where=""
if [ "$embedded" = 1 ] && [ "$(readlink -f "$pg")" != "$data_abs/pg" ]; then
	where="
The postgres user cannot reach $data_abs, so the PostgreSQL cluster lives in
$(readlink -f "$pg") ($data_abs/pg links to it). To remove everything
this script made: stop it (Ctrl-C), then rm -rf $data_abs $(dirname "$(readlink -f "$pg")")
"
fi

url="http://$CONFORM_LISTEN"
cat <<MSG

conform is starting on $url  (Ctrl-C stops conformd, conform-signer and PostgreSQL)

  curl $url/v1/ready                  is the service ready?
  curl $url/v1/openapi.json           the API description
  curl $url/metrics                   Prometheus metrics

This terminal stays with conformd. In another terminal, from $top:
${exports:+
$exports
}  $build/conformctl bootstrap --org-name NAME --country GB --email EMAIL \\
      --admin-name NAME --admin-email EMAIL      the first admin and its token (once)
  $build/conformctl --help          administer conform (db status, schemes, ...)
  $build/conformctl db status       the schema migrations
  $build/conformctl demo            walk one DCMS application to a signed certificate,
                                         then open the /verify/ page it prints

Read on: README.md, docs/operations.md, docs/architecture.md.
$where
MSG
# The public URL is stored in the database at conformd's first start and
# fixed from then on (docs/operations.md, "The public URL"): on a loopback
# listen address conformd derives it itself. Listening on every address
# ("*:8080", ":8080", "0.0.0.0:8080") on this machine, it is 127.0.0.1's;
# any other deployment gives CONFORM_PUBLIC_URL (https://<host name>).
listen_host=${CONFORM_LISTEN%:*}
case $listen_host in
''|'*'|0.0.0.0)
	if [ -z "${CONFORM_PUBLIC_URL:-}" ] && [ -z "$("$build/conformctl" identity show 2>/dev/null | sed -n 's/^public URL: *//p')" ]; then
		export CONFORM_PUBLIC_URL=http://127.0.0.1:${CONFORM_LISTEN##*:}
	fi ;;
esac
# conformd is restarted when it dies unexpectedly (a crash, a kill -9, an
# out-of-memory kill): after 1 s, then twice as long each time up to 30 s, and
# at most CONFORM_RESTART_LIMIT (5) times in a row; a run of a minute or more
# starts the count again. It exiting 0 (stopped with SIGTERM by the operator)
# or 2 (a configuration it refuses) stops everything, as does Ctrl-C.
restart_limit=${CONFORM_RESTART_LIMIT:-5}
restarts=0
delay=1
while :; do
	started=$(date +%s)
	"$build/conformd" &
	pid=$!
	rc=0
	wait "$pid" || rc=$?
	pid=
	case $rc in
	0) conform_say "conformd stopped"; break ;;
	2) conform_die "conformd refused its configuration (see above)" ;;
	esac
	if [ $(($(date +%s) - started)) -ge 60 ]; then
		restarts=0
		delay=1
	fi
	restarts=$((restarts + 1))
	[ "$restarts" -le "$restart_limit" ] ||
		conform_die "conformd died $restart_limit times in a row (last status $rc); giving up"
	conform_say "conformd died (status $rc); restarting in ${delay}s ($restarts of $restart_limit)"
	# in the background, so that Ctrl-C or SIGTERM is acted on at once
	sleep "$delay" &
	sleep_pid=$!
	wait "$sleep_pid" || true
	sleep_pid=
	delay=$((delay * 2 > 30 ? 30 : delay * 2))
done
