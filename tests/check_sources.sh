#!/bin/sh
# Source checks run by ctest: banned C functions (STYLE.md habit 13), SQL
# outside core/ (habit 9), transactions opened by the surfaces, and the
# request's insides outside server/http.c (issue 16).
top=${1:-.}
cd "$top" || exit 2
status=0
banned=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|gets|strtok)[[:space:]]*\(' \
	core/*.c core/*.h server/*.c server/*.h server/routes/*.c cli/*.c cli/*.h 2>/dev/null)
if [ -n "$banned" ]; then
	echo "banned functions (use snprintf, buf_*, cf_strdup, strtok_r):"
	echo "$banned"
	status=1
fi
sql=$(grep -nE '"[[:space:]]*(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM)[[:space:]]' \
	server/*.c server/routes/*.c cli/*.c 2>/dev/null)
if [ -n "$sql" ]; then
	echo "SQL outside core/ (domain modules own every query):"
	echo "$sql"
	status=1
fi
# One domain operation = one transaction, and core/ runs it (db_transaction,
# idempotency_run): the surfaces never open, commit or roll one back.
tx=$(grep -nE '\bdb_(begin|commit|rollback)[[:space:]]*\(' \
	server/*.c server/*.h server/routes/*.c cli/*.c cli/*.h 2>/dev/null)
if [ -n "$tx" ]; then
	echo "transactions outside core/ (use db_transaction or idempotency_run):"
	echo "$tx"
	status=1
fi
# struct request is http.c's: handlers use its accessors (http.h).
insides=$(grep -nE 'struct request[[:space:]]*\{|\brq->' \
	server/*.c server/*.h server/routes/*.c 2>/dev/null | grep -v '^server/http\.c:')
if [ -n "$insides" ]; then
	echo "struct request read or defined outside server/http.c (use request_* of http.h):"
	echo "$insides"
	status=1
fi
# The tests outweigh the code (issue 16): lines of C, shell, Python and
# JavaScript under tests/ (not the installed node modules, not data) against
# the lines of core/, server/ and cli/. The declarative API cases
# (tests/api/*.json) are printed beside, not counted.
code=$(find core server cli -name '*.[ch]' -exec cat {} + | wc -l)
tests=$(find tests -path tests/js/node_modules -prune -o -type f \( -name '*.[ch]' -o \
	-name '*.sh' -o -name '*.py' -o -name '*.mjs' -o -name '*.lua' \) -print | xargs cat | wc -l)
cases=$(cat tests/api/*.json 2>/dev/null | wc -l)
echo "lines: code $code, tests $tests (and $cases of API cases)"
if [ "$tests" -lt "$code" ]; then
	echo "fewer test lines than code lines: a change that adds code adds its tests"
	status=1
fi
[ $status -eq 0 ] && echo "source checks passed"
exit $status
