#!/bin/bash
# Issue 17, messages that pointed the wrong way: what the client, the VM's
# status and dom0's verbs say where a new user goes wrong, each as the
# administrator would need it (and the exit status a script can test).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work:bash
qubes-sim create stranger --shell bash && qubes-sim start stranger ||
	die "cannot create the VM stranger"
in_vm stranger qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in stranger"
qubes-sim create nokey --shell bash && qubes-sim start nokey ||
	die "cannot create the VM nokey"
qubes-sim create halted --shell bash || die "cannot create the VM halted"
dom0_start
wait_for "grep -q 'action=start' '$QVM_REMOTE_LOG'" 20 || die "the daemon did not start"
in_vm work qvm-remote true >/dev/null || die "the first command failed"
out=$TEST_DIR/out err=$TEST_DIR/err

t "a VM dom0 does not serve is told both causes and both remedies"
in_vm stranger qvm-remote --wait 2 true >"$out" 2>"$err"
assert_eq 123 "$?" "exit status"
assert_contains "$(cat "$err")" "nothing ran"
assert_contains "$(cat "$err")" "is qvm-remote-dom0 running, and is this VM authorized?"
assert_contains "$(cat "$err")" "qvm-remote-dom0 authorize --from-vm stranger; then try again"

t "the notice while it still waits names both too"
in_vm stranger qvm-remote --wait 7 true >"$out" 2>"$err"
assert_eq 123 "$?" "exit status"
assert_contains "$(cat "$err")" "(it is not enabled at boot), and is this VM authorized?"
assert_contains "$(cat "$err")" "qvm-remote-dom0 authorize --from-vm stranger   (still waiting"

t "--json gives a client-side outcome its reason"
in_vm stranger qvm-remote --json --wait 1 true >"$out" 2>"$err"
assert_eq 123 "$?" "exit status"
assert_eq no_answer "$(jq -r .status <"$out")" "status"
assert_contains "$(jq -r .reason <"$out")" "no answer from dom0 after 1 s; the command was withdrawn and nothing ran"

t "authorize --from-vm tells a VM that does not exist from one that is halted"
dom0 authorize --from-vm nosuchvm >"$out" 2>"$err"
assert_eq 1 "$?" "exit status, no such VM"
assert_eq "qvm-remote-dom0: there is no VM named 'nosuchvm' (qvm-ls lists them)" "$(cat "$err")"
dom0 authorize --from-vm halted >"$out" 2>"$err"
assert_eq 1 "$?" "exit status, halted"
assert_contains "$(cat "$err")" "'halted' is not running; start it with: qvm-start halted"

t "dom0's -V prints its version, as the client's does"
v=$(dom0 -V)
assert_eq 0 "$?" "exit status"
[[ $v =~ ^qvm-remote-dom0\ [0-9]+\.[0-9]+ ]] || fail "dom0 -V printed '$v'"
assert_eq "$v" "$(dom0 --version)" "-V and --version"

t "status in a VM without a key says how to make one, and exits 125"
in_vm nokey qvm-remote status >"$out" 2>"$err"
assert_eq 125 "$?" "exit status"
assert_contains "$(cat "$out")" "missing; create one with: qvm-remote key gen"
in_vm work qvm-remote status >"$out" 2>"$err"
assert_eq 0 "$?" "exit status with a key"

t "a script's errors name bash and the line, as over ssh, not dom0's file"
in_vm work qvm-remote 'echo one; nosuchcmd' >"$out" 2>"$err"
assert_eq 127 "$?" "exit status"
assert_eq one "$(cat "$out")" "stdout"
assert_eq "bash: line 1: nosuchcmd: command not found" "$(cat "$err")" "stderr"
in_vm work qvm-remote 'echo $0; syntax error (' >"$out" 2>"$err"
assert_eq 2 "$?" "exit status of a syntax error"
assert_eq "bash: eval: line 1: syntax error near unexpected token \`('" "$(head -n 1 "$err")"
[[ $(cat "$err") != */run/* ]] || fail "an error names dom0's runtime directory: $(cat "$err")"
# fd 3 the script's own to the end, its EXIT trap included
in_vm work qvm-remote "exec 3>'$TEST_DIR/fd3'; trap 'echo trap-ran >&3' EXIT; echo body" >"$out" 2>"$err"
assert_eq 0 "$?" "exit status with a trap on fd 3"
assert_eq trap-ran "$(cat "$TEST_DIR/fd3" 2>&1)" "what the EXIT trap wrote to fd 3"

t "a typo of a verb is refused with the verb it resembles, not run as root in dom0"
before=$(grep -c ' EXEC ' "$QVM_REMOTE_LOG")
in_vm work qvm-remote stauts >"$out" 2>"$err"
assert_eq 125 "$?" "exit status"
assert_contains "$(cat "$err")" "'stauts' is not a verb of qvm-remote; did you mean 'status'? To run 'stauts' in dom0: qvm-remote -- stauts"
assert_eq "$before" "$(grep -c ' EXEC ' "$QVM_REMOTE_LOG")" "EXEC lines"
in_vm work qvm-remote -- stauts >"$out" 2>"$err"
assert_eq 127 "$?" "with --, it runs"

t "the log's preview of a script ends where the script does"
in_vm work qvm-remote echo preview-end >/dev/null
wait_for "grep -qF 'cmd=\"echo preview-end' '$QVM_REMOTE_LOG'" 10 || fail "no EXEC line"
assert_contains "$(grep -F 'cmd="echo preview-end' "$QVM_REMOTE_LOG")" 'cmd="echo preview-end" '

t "the daemon stops cleanly"
dom0_stop

printf '%s\n' QVM_REMOTE_TIMEOUT=5 QVM_REMOTE_MAX_PER_VM=1 >"$DOM0_CONF"
dom0_start

t "a -t above dom0's longest is told as the command starts, with the timeout it gets"
in_vm work qvm-remote -t 3600 echo capped >"$out" 2>"$err"
assert_eq 0 "$?" "exit status"
assert_eq capped "$(cat "$out")" "its output"
assert_eq "qvm-remote: dom0 runs it with a timeout of 5 s, not the 3600 s asked (QVM_REMOTE_TIMEOUT, dom0's longest)" \
	"$(cat "$err")" "stderr"
in_vm work qvm-remote -t 4 echo within >"$out" 2>"$err"
assert_eq "" "$(cat "$err")" "a -t within it: nothing said"

dom0_stop
printf '%s\n' QVM_REMOTE_MAX_PER_VM=1 >"$DOM0_CONF"
dom0_start

# slot_wait GO CLIENT-ARGS...: a command that holds work's one slot until
# file GO, and the client with CLIENT-ARGS waiting for the slot: accepted
# by dom0, then kept waiting at least the second a note tells; its stderr
# in $err
slot_wait() {
	local go=$1 holder taken
	shift
	in_vm work qvm-remote "while [ ! -e '$go' ]; do sleep 0.1; done" >/dev/null 2>&1 &
	holder=$!
	wait_for "grep -qF \"cmd=\\\"while [ ! -e '$go'\" '$QVM_REMOTE_LOG'" 20 ||
		fail "the holder did not start"
	taken=$(($(auth_ok_count work) + 1))
	in_vm work qvm-remote "$@" >"$out" 2>"$err" &
	wait_for '(($(auth_ok_count work) >= taken))' 30 || fail "dom0 did not take the waiting command"
	sleep 1.2
	touch "$go"
	wait "$holder" $!
}

t "-v says a command waited for a free slot in dom0; without -v nothing is said"
slot_wait "$TEST_DIR/go1" -v echo second
assert_contains "$(cat "$err")" "qvm-remote: dom0 started the command after " "with -v"
assert_contains "$(cat "$err")" " waiting for a free slot" "with -v"
assert_eq second "$(cat "$out")" "its output"
slot_wait "$TEST_DIR/go2" echo third
assert_eq "" "$(cat "$err")" "without -v"
assert_eq third "$(cat "$out")" "its output"

t "the daemon stops cleanly"
dom0_stop
