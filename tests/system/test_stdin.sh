#!/bin/bash
# Issue 16, the client's half: a piped stdin goes to the command as ssh
# sends it (bounded, -n turns it off, a terminal is never read), and a
# cut output says so and exits 122 when the command itself succeeded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work
dom0_start
out=$TEST_DIR/out err=$TEST_DIR/err
pending=$SIM/vms/work/home/.qvm-remote/queue/pending
submit_of() {   # the SUBMIT line of the VM's newest request
	grep ' SUBMIT ' "$SIM/vms/work/home/.qvm-remote/audit.log" | tail -n 1
}

t "echo hello | qvm-remote cat prints hello"
echo hello | in_vm work qvm-remote cat >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_eq hello "$(cat "$out")" stdout
assert_eq "" "$(cat "$err")" stderr
assert_contains "$(submit_of)" " in=6" "the SUBMIT line counts the stdin"

t "binary stdin, all 256 byte values, arrives byte for byte"
printf "$(printf '\\%03o' $(seq 0 255))" >"$TEST_DIR/bytes"
chmod 0644 "$TEST_DIR/bytes"
assert_eq 256 "$(stat -c %s "$TEST_DIR/bytes")" "the test's own 256 bytes"
in_vm work qvm-remote -x od -An -tx1 <"$TEST_DIR/bytes" >"$out" 2>"$err"
assert_eq 0 "$?" "exit code of od"
assert_eq "$(od -An -tx1 <"$TEST_DIR/bytes")" "$(cat "$out")" "od in dom0"
head -c 1048576 /dev/urandom >"$TEST_DIR/blob"
assert_eq "$(sha256sum <"$TEST_DIR/blob")" \
	"$(in_vm work qvm-remote sha256sum <"$TEST_DIR/blob" 2>"$err")" \
	"sha256sum of 1 MiB of random bytes in dom0"

t "an empty piped stdin sends none: the command reads /dev/null"
: | in_vm work qvm-remote -x sh -c 'wc -c; test -c /dev/stdin && echo device' >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_eq "0
device" "$(tr -d ' ' <"$out")" "bytes the command read, from /dev/null"
[[ $(submit_of) == *" in="* ]] && fail "a stdin was sent: $(submit_of)"
in_vm work qvm-remote -x wc -c </dev/null >"$out" 2>"$err"
assert_eq 0 "$(tr -d ' ' <"$out")" "stdin /dev/null, as under cron or systemd"
: | in_vm work qvm-remote -i - -x wc -c >"$out" 2>"$err"
assert_contains "$(submit_of)" " in=0" "-i - sends even an empty one"

t "-n: the command's stdin is /dev/null and the client's is not touched"
printf 'data\n' | in_vm work qvm-remote -n -x cat >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_eq "" "$(cat "$out")" "the command read nothing"
[[ $(submit_of) == *" in="* ]] && fail "a stdin was sent: $(submit_of)"
got=$({ in_vm work qvm-remote -n -x cat; cat; } <<<kept)
assert_eq kept "$got" "the data is left for the next reader"
got=$({ in_vm work qvm-remote -n -x sh -c 'test -c /dev/stdin && echo device'; cat; } <<<kept)
assert_eq "device
kept" "$got" "dom0 gave /dev/null"

t "--check never reads stdin"
got=$({ in_vm work qvm-remote --check -x cat >/dev/null 2>&1; cat; } <<<kept)
assert_eq kept "$got" "the data is left for the next reader"

t "over 8 MiB of stdin: exit 125, a message, nothing queued"
head -c $((9 * 1048576)) /dev/zero | in_vm work qvm-remote -x wc -c >"$out" 2>"$err"
assert_eq 125 "$?" "exit code"
assert_contains "$(cat "$err")" "qvm-remote: stdin holds more than 8 MiB" "message"
assert_contains "$(cat "$err")" "give -n" "the way out"
assert_eq "" "$(cat "$out")" "nothing ran"
assert_eq "" "$(in_vm work ls -A "$pending")" "pending/"

t "a pipe that never ends stops at the bound"
start=$(now_ms)
yes | in_vm work qvm-remote cat >"$out" 2>"$err"
assert_eq 125 "$?" "exit code"
assert_contains "$(cat "$err")" "more than 8 MiB" "message"
(($(now_ms) - start < 30000)) || fail "it took $(($(now_ms) - start)) ms"
assert_eq "" "$(in_vm work ls -A "$pending")" "pending/"

t "exactly 8 MiB of stdin is taken"
head -c $((8 * 1048576)) /dev/zero | in_vm work qvm-remote -x wc -c >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_eq $((8 * 1048576)) "$(tr -d ' ' <"$out")" "bytes the command read"

t "a terminal stdin is not read"
if ! command -v script >/dev/null; then
	skip "no script(1) for a pseudo-terminal"
else
	# script(1) types this into the terminal, then an end of file: a
	# client that read it would send the 6 bytes
	printf 'typed\n' | script -qec "$(printf '%q ' "$(command -v qubes-sim)" \
		exec work -- qvm-remote -x sh -c 'sleep 0.3; wc -c; echo done')" \
		/dev/null >"$out" 2>&1
	assert_eq 0 "$?" "exit code"
	assert_contains "$(tr -d '\r' <"$out")" "
0
done" "the command read nothing"
	[[ $(submit_of) == *" in="* ]] && fail "a stdin was sent: $(submit_of)"
	# the client saw a terminal, or this case proves nothing
	script -qec "$(printf '%q ' "$(command -v qubes-sim)" exec work -- \
		sh -c 'test -t 0 && echo tty')" /dev/null >"$out" 2>&1
	assert_contains "$(cat "$out")" tty "stdin in the VM is a terminal"
fi

t "-i FILE and -n together: a usage error, nothing queued"
printf 'x' >"$TEST_DIR/in.bin"
chmod 0644 "$TEST_DIR/in.bin"
in_vm work qvm-remote -i "$TEST_DIR/in.bin" -n cat >"$out" 2>"$err"
assert_eq 125 "$?" "exit code"
assert_contains "$(cat "$err")" "contradict each other" "message"
assert_contains "$(cat "$err")" "see qvm-remote --help" "the pointer"
assert_exit 125 in_vm work qvm-remote -n
assert_eq "" "$(in_vm work ls -A "$pending")" "pending/"

t "-i FILE still wins over a piped stdin"
assert_eq x "$(echo piped | in_vm work qvm-remote -i "$TEST_DIR/in.bin" cat)" "stdout"

dom0_stop
printf 'QVM_REMOTE_MAX_OUTPUT=1000\n' >"$DOM0_CONF"
dom0_start

t "a cut output of a command that succeeded: the notice and exit 122"
in_vm work qvm-remote -q 'head -c 5000 /dev/zero; echo fine >&2' >"$out" 2>"$err"
assert_eq 122 "$?" "exit code"
assert_eq 1000 "$(stat -c %s "$out")" "bytes of stdout that arrived"
assert_eq "fine
qvm-remote: dom0 kept only the first 1000 bytes of stdout (QVM_REMOTE_MAX_OUTPUT); 5000 were written" \
	"$(cat "$err")" "stderr: the command's, then the notice (also with -q)"

t "a cut stderr counts as well"
in_vm work qvm-remote 'head -c 3000 /dev/zero >&2' >"$out" 2>"$err"
assert_eq 122 "$?" "exit code"
assert_contains "$(cat "$err")" "the first 1000 bytes of stderr (QVM_REMOTE_MAX_OUTPUT); 3000 were written" "notice"

t "a cut output of a failing command keeps its status"
in_vm work qvm-remote 'head -c 5000 /dev/zero; exit 3' >"$out" 2>"$err"
assert_eq 3 "$?" "exit code"
assert_contains "$(cat "$err")" "dom0 kept only the first 1000 bytes of stdout" "notice"

t "an output under the cap is not cut"
assert_exit 0 in_vm work qvm-remote 'head -c 1000 /dev/zero'

t "--json: truncated per stream, and the same exit"
in_vm work qvm-remote --json 'head -c 5000 /dev/zero | tr "\\0" a' >"$out" 2>"$err"
assert_eq 122 "$?" "exit code"
assert_contains "$(cat "$out")" '"stdout_truncated":true' "stdout_truncated"
assert_contains "$(cat "$out")" '"stderr_truncated":false' "stderr_truncated"
assert_contains "$(cat "$out")" '"status":"ok","exit":122' "status and exit"
assert_contains "$(cat "$err")" "5000 were written" "the notice on stderr"

t "history says it of a cut result too"
in_vm work qvm-remote history 5 >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_contains "$(cat "$err")" ": dom0 kept only the first 1000 bytes of stdout (QVM_REMOTE_MAX_OUTPUT); 5000 were written" "history's notice"
assert_contains "$(cat "$err")" "3000 were written" "the stderr one"

t "the daemon stops cleanly"
dom0_stop
