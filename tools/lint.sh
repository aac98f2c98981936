#!/bin/sh
# lint.sh - two rules of the house, checked:
# - every .c under lib io client daemon agent webui tests fuzz includes
#   "banned.h" as its last #include, so no later header can undo the bans;
# - lib/ is pure: no call in lib/*.c or lib/*.h does I/O or starts a
#   process (files, descriptors, sockets, stdio output, signals, exec).
#   The clock (clock_gettime, time) and randomness (getrandom, for keys and
#   ids) are allowed; what touches files lives in io/.
#
# Prints each offending file or line; exits 1 if there is any.
set -u

cd "$(dirname "$0")/.." || exit 2

dirs=
for d in lib io client daemon agent webui tests fuzz; do
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

# lib/ is pure: a call of one of these, outside a comment line
io_calls='open|openat|read|write|pread|pwrite|readv|writev|close|fopen|fdopen|'\
'fclose|fread|fwrite|fprintf|printf|puts|fputs|perror|stat|fstat|lstat|'\
'fstatat|rename|renameat|unlink|unlinkat|mkdir|mkdirat|rmdir|fsync|'\
'fdatasync|ioctl|socket|connect|bind|accept|fork|vfork|execv|execve|execvp|'\
'posix_spawn|opendir|readdir|flock|fcntl|dup|dup2|dup3|pipe|pipe2|poll|'\
'select|mmap|chmod|fchmod|chown|fchown|truncate|ftruncate|posix_fallocate|'\
'inotify_init1|inotify_add_watch|kill|signal|sigaction|waitpid|wait4|'\
'sendfile|syscall|system|popen'
if [ -d lib ]; then
	found=$(grep -nE "(^|[^A-Za-z0-9_.>])($io_calls)[[:space:]]*\(" lib/*.c lib/*.h |
		grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/?\*)')
	if [ -n "$found" ]; then
		printf '%s\n' "$found" | sed 's/$/   <- I\/O in lib\/, which is pure: move it to io\//'
		bad=1
	fi
fi
exit "$bad"
