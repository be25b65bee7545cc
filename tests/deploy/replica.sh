#!/bin/sh
# tests/deploy/replica.sh PROGRAM [ARG]...: runs PROGRAM beside a PostgreSQL 15
# primary and a real streaming replica of it (pg_basebackup -R, a hot
# standby), each a cluster of its own in one temporary directory that is
# removed on every exit. PROGRAM finds them in its environment:
#
#   CONFORM_TEST_PGHOST, CONFORM_TEST_TEMPLATE  the primary's socket directory
#       and a migrated template database, as tests/run.sh gives them for the
#       shared cluster (so tests/support/testdb.c makes its databases there)
#   CONFORM_TEST_PRIMARY_HOST, CONFORM_TEST_REPLICA_HOST  the two sockets
#   CONFORM_TEST_REPLICA_CTL  pg_ctl of the replica; append start or stop
#
# tests/integration/test_replica runs itself through this script.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/deploy/local/common.sh"
build=${CONFORM_BINARY_DIR:-$top/build}
[ $# -ge 1 ] || conform_die "usage: $0 PROGRAM [ARG]..."

tmp=$(mktemp -d /tmp/conform-replica.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tmp"
cleanup() {
	status=$?
	conform_pg_stop "$tmp/replica" || true
	conform_pg_stop "$tmp/primary" || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conform_say "a primary PostgreSQL in $tmp/primary"
# wal_level replica and max_wal_senders 10 are PostgreSQL 15's defaults;
# said here because the replica needs them
conform_pg_init "$tmp/primary" "wal_level = replica" "max_wal_senders = 4" "fsync = off"
conform_pg_start "$tmp/primary"
conform_pg_roles "$tmp/primary"
conform_pg_database "$tmp/primary" conform_template
primary=$tmp/primary/sock
CONFORM_DATABASE_OWNER_URL="host=$primary dbname=conform_template user=conform_owner" \
CONFORM_DATABASE_URL="host=$primary dbname=conform_template user=conform_app" \
	"$build/conformctl" db migrate >/dev/null

conform_say "a streaming replica of it in $tmp/replica (pg_basebackup -R)"
conform_pg_as mkdir -p "$tmp/replica/sock"
conform_pg_as chmod 700 "$tmp/replica/sock"
conform_pg_as "$CONFORM_PG_BIN/pg_basebackup" -h "$primary" -U postgres -D "$tmp/replica/data" \
	-R -X stream -c fast
conform_pg_as chmod 700 "$tmp/replica/data"
# the copy has the primary's socket directory: the last line wins
echo "unix_socket_directories = '$tmp/replica/sock'" |
	conform_pg_as sh -c "cat >> '$tmp/replica/data/postgresql.conf'"
conform_pg_start "$tmp/replica"
in_recovery=$(psql -X -tA -h "$tmp/replica/sock" -U postgres -d postgres -c "SELECT pg_is_in_recovery()")
[ "$in_recovery" = t ] || conform_die "the replica is not a standby"

ctl="$CONFORM_PG_BIN/pg_ctl -D $tmp/replica/data -l $tmp/replica/postgresql.log -w -t 60"
[ "$(id -u)" -eq 0 ] && ctl="runuser -u postgres -- $ctl"
export CONFORM_TEST_PGHOST=$primary CONFORM_TEST_TEMPLATE=conform_template
export CONFORM_TEST_PRIMARY_HOST=$primary CONFORM_TEST_REPLICA_HOST=$tmp/replica/sock
export CONFORM_TEST_REPLICA_CTL="$ctl"
"$@"
