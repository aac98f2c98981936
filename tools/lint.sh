#!/bin/sh
# lint.sh - every .c under lib client daemon agent webui tests fuzz must include
# "banned.h" as its last #include, so no later header can undo the bans.
#
# Prints each offending file; exits 1 if there is any.
set -u

cd "$(dirname "$0")/.." || exit 2

dirs=
for d in lib client daemon agent webui tests fuzz; do
	[ -d "$d" ] && dirs="$dirs $d"
done
[ -n "$dirs" ] || exit 0

# shellcheck disable=SC2086  # $dirs holds fixed names without spaces
list=$(find $dirs -type f -name '*.c' | LC_ALL=C sort)
bad=0
while IFS= read -r f; do
	[ -n "$f" ] || continue
	last=$(grep -E '^[[:space:]]*#[[:space:]]*include' "$f" | tail -n 1)
	if [ -z "$last" ]; then
		echo "$f: no #include \"banned.h\""
		bad=1
	elif ! printf '%s\n' "$last" | grep -Eq \
	    '^[[:space:]]*#[[:space:]]*include[[:space:]]*"banned\.h"[[:space:]]*$'; then
		echo "$f: last #include is not \"banned.h\": $last"
		bad=1
	fi
done <<LIST
$list
LIST
exit "$bad"
