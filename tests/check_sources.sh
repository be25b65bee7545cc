#!/bin/sh
# Source checks run by ctest: banned C functions (STYLE.md habit 13) and SQL
# outside core/ (habit 9).
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
[ $status -eq 0 ] && echo "source checks passed"
exit $status
