#!/bin/bash
# Key changes take effect at once on a running daemon (no SIGHUP, no
# systemd): revoke, authorize and a replaced key, with what the admin verb
# says about them; the daemon's lock that tells the verbs a daemon runs and
# keeps a second one off the same runtime directory.  docs/threat-model.md
# maps the cases to their layer.
# run.sh limit: 420 s (two confirm waits of 10 s, a daemon without inotify)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work other
qubes-sim create late && qubes-sim start late
in_vm late qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in late"
M=$TEST_DIR/m
err=$TEST_DIR/err
# a short watch wait: every case below also meets fetches made after the
# key change, not only one that was waiting in the VM
printf '%s\n' QVM_REMOTE_POLL=watch QVM_REMOTE_WATCH_WAIT=2 >"$DOM0_CONF"

keys_file() { cat "$QVM_REMOTE_RUNTIME_DIR/keys" 2>/dev/null; }
body_file() {   # NAME TEXT: a body file in $TEST_DIR
	printf '%s\n' "$2" >"$TEST_DIR/body.$1"
	printf '%s\n' "$TEST_DIR/body.$1"
}

dom0_start
wait_for "keys_file | grep -q '^vm work .* served '" 10 || fail "no keys file from the daemon"

t "revoke on a running daemon: the VM's next command is refused (126, AUTH-DENY), nothing runs"
assert_eq ok "$(in_vm work qvm-remote echo ok)" "a command before the revoke"
dom0 revoke work >"$TEST_DIR/revoke.out" 2>&1
assert_eq 0 "$?" "revoke's exit status"
assert_contains "$(cat "$TEST_DIR/revoke.out")" "'work' is revoked; the running service dropped its key" \
	"what revoke says"
[[ $(cat "$TEST_DIR/revoke.out") != *"systemctl reload"* ]] || fail "revoke still says systemctl reload"
in_vm work qvm-remote --wait 60 "touch '$M.after-revoke'" 2>"$err"
assert_eq 126 "$?" "the revoked VM's client"
assert_contains "$(cat "$err")" "revoked in dom0" "the client's reason"
assert_contains "$(cat "$err")" "to authorize this VM again, in dom0: qvm-remote-dom0 authorize --from-vm work" "the way back"
[[ $(cat "$err") != *"compare 'qvm-remote key fingerprint'"* ]] || fail "a revoked VM is told to compare fingerprints"
assert_contains "$(grep 'vm=work ' "$QVM_REMOTE_LOG" | tail -n 3)" "AUTH-DENY vm=work" "the AUTH-DENY line"
[[ ! -e $M.after-revoke ]] || fail "the command ran after revoke"
assert_eq 0 "$(grep -c "EXEC vm=work .*after-revoke" "$QVM_REMOTE_LOG")" "EXEC lines of it"
[[ $(dom0_log) != *action=reloaded* ]] || fail "a reload happened (nobody sent SIGHUP)"

t "revoked: a command long after the revoke is refused too (126), not left waiting"
sleep 5     # past the 2 s watch wait: fetches made after the revoke
in_vm work qvm-remote --wait 60 "touch '$M.long-after'" 2>"$err"
assert_eq 126 "$?" "the revoked VM's client, after new fetches"
assert_contains "$(cat "$err")" "revoked in dom0" "the client's reason"
[[ ! -e $M.long-after ]] || fail "the command ran after revoke"

t "authorize a new VM on a running daemon (no SIGHUP): its first command runs"
dom0 authorize --from-vm late >"$TEST_DIR/auth.out" 2>&1
assert_eq 0 "$?" "authorize's exit status"
assert_contains "$(cat "$TEST_DIR/auth.out")" "'late' is authorized; the running service serves it from its next request" \
	"what authorize says"
assert_eq hi-late "$(in_vm late qvm-remote --wait 60 echo hi-late 2>&1)" "late's first command"
assert_eq 0 "$(grep -c action=reloaded "$QVM_REMOTE_LOG")" "reloads (SIGHUP)"

t "revoked and authorized again on a running daemon: served again at once"
dom0 authorize --from-vm work >/dev/null 2>&1 || fail "authorize work again failed"
assert_eq back "$(in_vm work qvm-remote --wait 60 echo back 2>&1)" "work's command"

t "revoke while a request is queued for a slot: it never runs, its client gets 126 at once"
dom0_stop
printf '%s\n' QVM_REMOTE_POLL=watch QVM_REMOTE_WATCH_WAIT=2 QVM_REMOTE_MAX_PER_VM=1 >"$DOM0_CONF"
dom0_start
rm -f "$M".*
in_vm work qvm-remote --wait 120 "touch '$M.first'; while [ ! -e '$M.go' ]; do sleep 0.05; done; echo first" \
	>"$TEST_DIR/first.out" 2>&1 &
first=$!
track_pid "$first"
wait_for "[ -e '$M.first' ]" 30 || fail "the first command never started"
n=$(auth_ok_count work)
in_vm work qvm-remote --wait 120 "touch '$M.queued'" >"$TEST_DIR/queued.out" 2>"$TEST_DIR/queued.err" &
queued=$!
track_pid "$queued"
wait_for "(( \$(auth_ok_count work) > n ))" 30 || fail "the second request was never accepted (queued)"
dom0 revoke work >"$TEST_DIR/revoke.out" 2>&1
assert_eq 0 "$?" "revoke's exit status"
assert_contains "$(cat "$TEST_DIR/revoke.out")" "dropped its key (1 command from it still running)" \
	"revoke counts the command still running"
# refused when the key went, not when the slot frees: the first still runs
queued_refused "$queued" "$TEST_DIR/queued.err" "revoked in dom0" "$first" "$M.go"
assert_eq first "$(cat "$TEST_DIR/first.out")" "its output"
[[ ! -e $M.queued ]] || fail "the queued command ran after revoke"
assert_eq 0 "$(grep -c "EXEC vm=work .*m.queued" "$QVM_REMOTE_LOG")" "EXEC lines of the queued command"
dom0 authorize --from-vm work >/dev/null 2>&1 || fail "authorize work again failed"

t "key replaced while a request is queued: what the old key signed never runs"
rm -f "$M".*
in_vm work qvm-remote --wait 120 "touch '$M.first'; while [ ! -e '$M.go' ]; do sleep 0.05; done" \
	>/dev/null 2>&1 &
first=$!
track_pid "$first"
wait_for "[ -e '$M.first' ]" 30 || fail "the first command never started"
n=$(auth_ok_count work)
in_vm work qvm-remote --wait 120 "touch '$M.old-queued'" >/dev/null 2>"$TEST_DIR/queued.err" &
queued=$!
track_pid "$queued"
wait_for "(( \$(auth_ok_count work) > n ))" 30 || fail "the second request was never accepted (queued)"
in_vm work qvm-remote key gen --force >/dev/null 2>&1 || fail "key gen --force failed"
dom0 authorize --from-vm work >"$TEST_DIR/auth.out" 2>&1
assert_eq 0 "$?" "authorize's exit status"
assert_contains "$(cat "$TEST_DIR/auth.out")" "uses the new key from its next request" "what authorize says"
queued_refused "$queued" "$TEST_DIR/queued.err" "replaced in dom0" "$first" "$M.go"
assert_contains "$(cat "$TEST_DIR/queued.err")" "dom0 holds a newer key of this VM's: run the command again" "the way on"
[[ ! -e $M.old-queued ]] || fail "the request the old key signed ran"

t "key rotation while a session is open: the old key's request is refused (AUTH-FAIL), the new key's runs"
dom0_stop
printf '%s\n' QVM_REMOTE_POLL=watch QVM_REMOTE_WATCH_WAIT=2 >"$DOM0_CONF"
dom0_start
rm -f "$M".*
assert_eq warm "$(in_vm work qvm-remote echo warm)" "a command that opens the session"
wait_for "pgrep -u '$(cat "$SIM/vms/work/user")' -f 'qvm-remote-agent session' >/dev/null" 20 ||
	fail "no session in work"
session=$(pgrep -u "$(cat "$SIM/vms/work/user")" -f 'qvm-remote-agent session' | head -n 1)
old=$(vm_keyhex work)
in_vm work qvm-remote key gen --force >/dev/null 2>&1 || fail "key gen --force failed"
dom0 authorize --from-vm work >"$TEST_DIR/auth.out" 2>&1
assert_eq 0 "$?" "authorize's exit status"
assert_contains "$(cat "$TEST_DIR/auth.out")" "uses the new key from its next request" "what authorize says"
proc_alive "$session" || fail "the session ended with the switch (the case needs it open)"
cid=$(make_cid)
b=$(body_file old "touch '$M.old-key'")
plant work "$cid" "$b" "" "" "$(v2_token "$old" "$cid" "$b")"
wait_result work "$cid" || fail "no result for the old key's request"
assert_eq 126 "$(cat "$(vm_queue work)/results/$cid.exit" 2>/dev/null)" "its exit code in results/"
assert_contains "$(grep -F " id=$cid " "$QVM_REMOTE_LOG")" "AUTH-FAIL vm=work id=$cid" "its AUTH-FAIL line"
[[ ! -e $M.old-key ]] || fail "the old key's request ran"
assert_eq new "$(in_vm work qvm-remote --wait 60 "touch '$M.new-key'; echo new" 2>&1)" "the new key's command"
assert_file_exists "$M.new-key" "the new key's marker"

t "the admin message says what the running service did, and that none runs when none does"
assert_contains "$(dom0 status 2>&1)" "service    running (pid $DOM0_PID)" "status with the daemon"
dom0 revoke other >"$TEST_DIR/revoke.out" 2>&1
assert_eq 0 "$?" "revoke's exit status"
assert_contains "$(cat "$TEST_DIR/revoke.out")" "the running service dropped its key" "revoke, daemon running"
assert_contains "$(keys_file)" "vm other - dropped " "the keys file"
dom0 authorize --from-vm other >"$TEST_DIR/auth.out" 2>&1
assert_contains "$(cat "$TEST_DIR/auth.out")" "the running service serves it" "authorize, daemon running"
dom0_stop
assert_contains "$(dom0 status 2>&1)" "service    not running" "status without the daemon"
dom0 revoke other >"$TEST_DIR/revoke.out" 2>&1
assert_eq 0 "$?" "revoke's exit status"
assert_contains "$(cat "$TEST_DIR/revoke.out")" "the service is not running" "revoke, no daemon"
[[ $(cat "$TEST_DIR/revoke.out") != *"running service"* ]] || fail "revoke claims a running service"
dom0 authorize --from-vm other >"$TEST_DIR/auth.out" 2>&1
assert_eq 0 "$?" "authorize's exit status"
assert_contains "$(cat "$TEST_DIR/auth.out")" "the service is not running" "authorize, no daemon"

t "a daemon that does not take the change in time: revoke says so and fails"
dom0_start
wait_for "keys_file | grep -q \"^pid $DOM0_PID\$\"" 10 || fail "no keys file from the new daemon"
kill -STOP "$DOM0_PID"
start=$(now_ms)
dom0 revoke other >"$TEST_DIR/revoke.out" 2>&1
rc=$?
took=$(($(now_ms) - start))
kill -CONT "$DOM0_PID"
assert_eq 1 "$rc" "revoke's exit status"
assert_contains "$(cat "$TEST_DIR/revoke.out")" "did not confirm within 10 s" "what revoke says"
((took < 30000)) || fail "revoke waited $took ms (bound: 10 s)"
wait_for "keys_file | grep -q '^vm other - dropped '" 10 || fail "the daemon did not drop the key once running again"
dom0 authorize --from-vm other >/dev/null 2>&1 || fail "authorize other again failed"

t "a second daemon on the same runtime directory refuses to start"
rc=0
timeout 10 "$QVMR_DAEMON" -c "$DOM0_CONF" >"$TEST_DIR/second.out" 2>&1 || rc=$?
assert_ne 0 "$rc" "the second daemon's exit status"
assert_ne 124 "$rc" "the second daemon's exit status (it kept running)"
assert_contains "$(cat "$TEST_DIR/second.out")" "another qvm-remote-dom0 (pid $DOM0_PID) is running" "its message"
rc=0
timeout 10 "$QVMR_DAEMON" -c "$DOM0_CONF" --once >"$TEST_DIR/second.out" 2>&1 || rc=$?
assert_ne 0 "$rc" "--once beside a running daemon"
proc_alive "$DOM0_PID" || fail "the first daemon died"
assert_eq still "$(in_vm work qvm-remote --wait 60 echo still 2>&1)" "the first daemon still serves"
dom0_stop

t "without inotify, the 1 s tick notices a revoke: the VM's next command is refused"
rm -f "$M".*
if ! dom0_start_no_inotify; then
	skip "no C compiler to build the LD_PRELOAD shim"
else
	wait_for "keys_file | grep -q \"^pid $DOM0_PID\$\"" 10 || fail "no keys file from the daemon"
	assert_eq 0 "$(find "/proc/$DOM0_PID/fd" -lname 'anon_inode:inotify' | wc -l)" \
		"inotify descriptors of the daemon (the shim must take them away)"
	assert_eq ok "$(in_vm work qvm-remote --wait 60 echo ok 2>&1)" "a command before the revoke"
	dom0 revoke work >"$TEST_DIR/revoke.out" 2>&1
	assert_eq 0 "$?" "revoke's exit status"
	assert_contains "$(cat "$TEST_DIR/revoke.out")" "the running service dropped its key" "what revoke says"
	in_vm work qvm-remote --wait 60 "touch '$M.no-inotify'" 2>"$err"
	assert_eq 126 "$?" "the revoked VM's client"
	[[ ! -e $M.no-inotify ]] || fail "the command ran after revoke"
	dom0 authorize --from-vm work >"$TEST_DIR/auth.out" 2>&1
	assert_contains "$(cat "$TEST_DIR/auth.out")" "the running service serves it" "authorize again"
	assert_eq back "$(in_vm work qvm-remote --wait 60 echo back 2>&1)" "work's command after authorize"
	dom0_stop
fi
