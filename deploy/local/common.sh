# Shell functions shared by deploy/local/run.sh and tests/run.sh: Debian
# packages, the build, and a private PostgreSQL 15 cluster on a Unix socket.
# Sourced, not run. Every function says what it does on failure.

CONFORM_PG_BIN=${CONFORM_PG_BIN:-/usr/lib/postgresql/15/bin}

# Packages the build, the service and the tests need.
CONFORM_PACKAGES="postgresql-15 postgresql-client-15 libpq-dev libmicrohttpd-dev libssl-dev
libjansson-dev zlib1g-dev check cmake gcc make pkg-config curl libcurl4-openssl-dev
ca-certificates softhsm2 libp11-kit-dev libsystemd-dev libqrencode-dev"

conform_say() { printf '==> %s\n' "$*" >&2; }
conform_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# conform_install PACKAGE...: installs the packages that are missing, with
# apt-get (as root, or through sudo).
conform_install() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	conform_say "installing:$missing"
	if [ "$(id -u)" -eq 0 ]; then
		sudo=""
	elif command -v sudo >/dev/null 2>&1; then
		sudo="sudo"
	else
		conform_die "missing packages:$missing; install them as root (apt-get install$missing)"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq || conform_die "apt-get update failed"
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		conform_die "apt-get install$missing failed"
}

# conform_build SRC BUILD [CMAKE-ARG]...: configures (once) and builds.
conform_build() {
	src=$1; bld=$2; shift 2
	if [ ! -f "$bld/CMakeCache.txt" ]; then
		cmake -S "$src" -B "$bld" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null ||
			conform_die "cmake configure failed"
	fi
	cmake --build "$bld" -j "$(nproc)" >/dev/null 2>"$bld/build-errors.log" || {
		cat "$bld/build-errors.log" >&2
		conform_die "the build failed"
	}
}

# PostgreSQL refuses to run as root: as root the cluster belongs to the
# postgres user, otherwise to the invoking user.
conform_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		# from a directory postgres may enter, whatever ours is
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# conform_pg_reachable DIR: can the cluster's user enter DIR?
conform_pg_reachable() {
	conform_pg_as sh -c 'cd "$1" && test -w .' sh "$1" 2>/dev/null
}

# conform_pg_base DATA: prints the cluster directory DATA/pg. When the
# cluster's user cannot reach DATA (a clone in a home directory of mode 700),
# the cluster lives under /var/lib/conform-dev and DATA/pg is a symlink to it
# (not /var/lib/conform: that is the package's, which a purge removes).
conform_pg_base() {
	data=$1
	mkdir -p "$data" || conform_die "cannot create $data"
	if [ -e "$data/pg" ]; then
		echo "$data/pg"
		return
	fi
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -p "$data/pg"
		chown postgres: "$data/pg"
		if conform_pg_reachable "$data/pg"; then
			echo "$data/pg"
			return
		fi
		rmdir "$data/pg"
		real="/var/lib/conform-dev/$(printf '%s' "$data" | sha256sum | cut -c1-16)"
		mkdir -p "$real/pg"
		chown postgres: "$real/pg"
		chmod 755 /var/lib/conform-dev "$real"
		ln -s "$real/pg" "$data/pg"
		conform_say "the postgres user cannot reach $data: the cluster lives in $real/pg"
	else
		mkdir -p "$data/pg"
	fi
	echo "$data/pg"
}

# conform_pg_init BASE [SETTING]...: creates a cluster in BASE/data whose
# only listener is the Unix socket in BASE/sock (trust authentication: the
# socket directory's permissions are the guard). Idempotent.
conform_pg_init() {
	base=$1; shift
	[ -f "$base/data/PG_VERSION" ] && return 0
	[ -x "$CONFORM_PG_BIN/initdb" ] || conform_die "PostgreSQL 15 is not installed ($CONFORM_PG_BIN)"
	real=$(readlink -f "$base")
	conform_pg_as mkdir -p "$real/data" "$real/sock"
	conform_pg_as chmod 700 "$real/data"
	conform_pg_as chmod 700 "$real/sock"
	conform_pg_as "$CONFORM_PG_BIN/initdb" -D "$real/data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$real/initdb.log" 2>&1 ||
		{ cat "$real/initdb.log" >&2; conform_die "initdb failed"; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$real/sock'"
		echo "max_connections = 200"
		for s in "$@"; do echo "$s"; done
	} | conform_pg_as sh -c "cat >> '$real/data/postgresql.conf'"
}

conform_pg_running() {
	conform_pg_as "$CONFORM_PG_BIN/pg_ctl" -D "$(readlink -f "$1")/data" status >/dev/null 2>&1
}

# conform_pg_start BASE: starts the cluster if it is not running.
conform_pg_start() {
	real=$(readlink -f "$1")
	conform_pg_running "$1" && return 0
	conform_pg_as "$CONFORM_PG_BIN/pg_ctl" -D "$real/data" -l "$real/postgresql.log" -w -t 60 \
		start >/dev/null || { tail -20 "$real/postgresql.log" >&2; conform_die "PostgreSQL did not start"; }
}

# conform_pg_stop BASE: stops the cluster (fast: open sessions are ended).
conform_pg_stop() {
	real=$(readlink -f "$1")
	conform_pg_running "$1" || return 0
	conform_pg_as "$CONFORM_PG_BIN/pg_ctl" -D "$real/data" -m fast -w -t 60 stop >/dev/null
}

# conform_pg_psql BASE DB SQL: runs SQL as the superuser.
conform_pg_psql() {
	psql -X -q -v ON_ERROR_STOP=1 -h "$(readlink -f "$1")/sock" -U postgres -d "$2" -c "$3"
}

# conform_pg_roles BASE: the schema owner and the runtime role (see
# docs/operations.md), created once.
conform_pg_roles() {
	conform_pg_psql "$1" postgres "
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'conform_owner') THEN
    CREATE ROLE conform_owner LOGIN;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'conform_app') THEN
    CREATE ROLE conform_app LOGIN;
  END IF;
END \$\$;" || conform_die "cannot create the database roles"
}

# conform_pg_database BASE NAME: creates database NAME owned by the schema
# owner, once.
conform_pg_database() {
	exists=$(psql -X -tA -h "$(readlink -f "$1")/sock" -U postgres -d postgres \
		-c "SELECT 1 FROM pg_database WHERE datname = '$2'")
	[ "$exists" = 1 ] && return 0
	conform_pg_psql "$1" postgres "CREATE DATABASE \"$2\" OWNER conform_owner" ||
		conform_die "cannot create database $2"
}

# What tests/run.sh needs beyond the service's packages (gdb: its gcore
# shows that conformd's memory holds no private key; clang and its runtime
# libraries: libFuzzer, ASan and UBSan for tests/fuzz/run.sh; dpkg-dev,
# lintian and systemd: tests/deploy builds, checks and installs the .deb and
# verifies the units).
CONFORM_TEST_PACKAGES="wrk jq chromium gdb clang libclang-rt-14-dev dpkg-dev lintian systemd"
# tests/deploy/: nginx in front (TLS from a throwaway CA made with openssl).
CONFORM_TEST_PACKAGES="$CONFORM_TEST_PACKAGES nginx-light openssl"
# Python 3 with cryptography: tests/deploy/test_tiles.sh's independent
# tlog-tiles reader (tests/py/), tests/witness/witness.py (a C2SP witness
# written from the spec) and docs/verify-bundle.py (the offline bundle).
CONFORM_TEST_PACKAGES="$CONFORM_TEST_PACKAGES python3 python3-cryptography"
# test_labels: the QR label's SVG drawn to PNG (rsvg-convert) and decoded
# (zbarimg), as a phone would read it.
CONFORM_TEST_PACKAGES="$CONFORM_TEST_PACKAGES librsvg2-bin zbar-tools"
