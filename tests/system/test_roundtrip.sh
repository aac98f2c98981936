#!/bin/bash
# The main job end to end: commands typed in two simulated VMs (one whose
# sh is dash, one bash) run in "dom0" through the real daemon and client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work dev:bash
dom0_start
out=$TEST_DIR/out err=$TEST_DIR/err

for vm in work dev; do
	t "$vm: stdout, stderr and exit code 0 arrive on the right streams"
	in_vm "$vm" qvm-remote 'echo to-out; echo to-err >&2' >"$out" 2>"$err"
	assert_eq 0 "$?" "exit code"
	assert_eq to-out "$(cat "$out")" stdout
	assert_eq to-err "$(cat "$err")" stderr

	t "$vm: exit codes 1 and 42 are the remote ones"
	assert_exit 1 in_vm "$vm" qvm-remote false
	assert_exit 42 in_vm "$vm" qvm-remote 'exit 42'

	t "$vm: binary output is byte-exact on both streams"
	head -c 1048576 /dev/urandom >"$TEST_DIR/blob"
	chmod 0644 "$TEST_DIR/blob"
	in_vm "$vm" qvm-remote "cat '$TEST_DIR/blob'; cat '$TEST_DIR/blob' >&2" \
		>"$out" 2>"$err"
	assert_eq 0 "$?" "exit code"
	assert_eq "$(sha256sum <"$TEST_DIR/blob")" "$(sha256sum <"$out")" "stdout digest"
	assert_eq "$(sha256sum <"$TEST_DIR/blob")" "$(sha256sum <"$err")" "stderr digest"
done

t "a 1 MiB script on stdin runs whole"
{
	echo 'n=0'
	while :; do echo 'n=$((n + 1))  # padding padding padding padding padding'; done |
		head -c $((1048576 - 200)) | sed '$d'
	echo 'echo "lines=$n"'
} >"$TEST_DIR/script.sh"
expected=$(grep -c '^n=\$' "$TEST_DIR/script.sh")
assert_eq "lines=$expected" "$(in_vm work qvm-remote <"$TEST_DIR/script.sh")" "script output"

t "a script over 1 MiB is refused in the VM before anything is written"
head -c $((1048576 + 1)) /dev/zero | tr '\0' '#' >"$TEST_DIR/big.sh"
assert_exit 125 in_vm work qvm-remote <"$TEST_DIR/big.sh"
assert_eq "" "$(in_vm work ls "$SIM/vms/work/home/.qvm-remote/queue/pending")" "pending/"

t "commands from both VMs at once all come back"
pids=()
for i in 1 2 3 4; do
	in_vm work qvm-remote "sleep 0.3; echo work-$i" >"$TEST_DIR/w$i" &
	pids+=($!)
	in_vm dev qvm-remote "sleep 0.3; echo dev-$i" >"$TEST_DIR/d$i" &
	pids+=($!)
done
wait "${pids[@]}"
for i in 1 2 3 4; do
	assert_eq "work-$i" "$(cat "$TEST_DIR/w$i")" "work's command $i"
	assert_eq "dev-$i" "$(cat "$TEST_DIR/d$i")" "dev's command $i"
done

t "commands see their VM and id in the environment, and nothing else of ours"
env_out=$(in_vm dev qvm-remote 'echo "$QVM_REMOTE_VM"; echo "$QVM_REMOTE_ID" | grep -cE "^[0-9]{8}-[0-9]{6}-[0-9]+-[0-9a-f]{32}\$"; env | grep -c "^QUBES_SIM\|^QVM_REMOTE_KEYS" || true')
assert_eq "dev
1
0" "$env_out" "environment"

t "a command past its timeout is stopped in dom0 and reported"
start=$(now_ms)
in_vm work qvm-remote -t 1 'sleep 30' 2>"$err"
assert_eq 124 "$?" "exit code"
assert_contains "$(cat "$err")" "timed out after 1 s" "message"
(($(now_ms) - start < 15000)) || fail "the timeout took $(($(now_ms) - start)) ms"

t "every command is in the dom0 audit log, with a valid hash chain"
assert_contains "$(dom0_log)" "EXEC vm=work" "EXEC line"
assert_contains "$(dom0_log)" "DONE vm=dev" "DONE line"
assert_contains "$(dom0_log)" "DONE-FAIL vm=work" "DONE-FAIL line"
assert_contains "$(dom0_log)" "TIMEOUT vm=work" "TIMEOUT line"
assert_exit 0 dom0 audit verify

t "the VM keeps its own audit log and history"
vmlog=$(in_vm work qvm-remote log 50)
assert_contains "$vmlog" "SUBMIT id=" "SUBMIT line"
assert_contains "$vmlog" "RESULT id=" "RESULT line (written by dom0's deliver)"
assert_contains "$(in_vm work qvm-remote history 3)" "sleep 30" "history"

t "history: two requests of one second in the order they were made, though the later PID sorts first"
in_vm work sh -c 'd=$HOME/.qvm-remote/history/2020-01-02 &&
	for r in 9996-aaaa0000:first:.1 10012-bbbb0000:second:.2; do
		c=$d/20200102-030405-${r%%:*}; w=${r#*:}
		mkdir -p "$c" && printf "echo %s" "${w%:*}" >"$c/command" &&
		touch -d "2020-01-02 03:04:05${w#*:}" "$c/command" || exit 1
	done' || fail "cannot make the history entries"
assert_eq "echo second
echo first" "$(in_vm work qvm-remote history 100000 | grep -oE 'echo (first|second)')" \
	"newest first"

t "the daemon stops cleanly on SIGTERM"
dom0_stop
