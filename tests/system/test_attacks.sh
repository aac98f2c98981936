#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Attacks on authentication (L1) and on the keys, each through the real
# daemon and client.  The attacker is a process in a VM that writes request
# files into its own queue by hand, or a local user in dom0 for the key
# files.  Every case checks what the VM sees (exit code, result files), the
# dom0 audit category, and that the command did not run: each command would
# create a marker file in $TEST_DIR.  docs/threat-model.md maps every case
# to its layer.  The input rows are in test_attack_input.sh, the sandbox
# rows in test_attack_exec.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work dev
qubes-sim create stranger && qubes-sim start stranger
in_vm stranger qvm-remote key gen >/dev/null 2>&1
cd "$TEST_DIR" || die "cannot enter $TEST_DIR"
M=$TEST_DIR/marker   # every command below would create $M.<case>
err=$TEST_DIR/err
dom0_start

# The body file of case NAME: `touch $M.NAME` unless TEXT is given.
body_for() {   # NAME [TEXT]: writes the body file and prints its path
	printf '%s\n' "${2:-touch '$M.$1'}" >"$TEST_DIR/body.$1"
	printf '%s\n' "$TEST_DIR/body.$1"
}

# Checks a rejected request: status=rejected, exit 126, the reason in the
# result, CATEGORY in dom0's log for this cid, and no marker; RUNS is how
# many EXEC lines the cid had before (a replayed cid ran once).
expect_rejected() {   # VM CID CATEGORY REASON MARKER [RUNS]
	local q
	q=$(vm_queue "$1")
	wait_result "$1" "$2" || { fail "no result for $2 within 20 s"; return 1; }
	assert_eq 126 "$(cat "$q/results/$2.exit")" "exit code in results/"
	assert_eq rejected "$(meta_field "$1" "$2" status)" "status in .meta"
	assert_contains "$(meta_field "$1" "$2" reason)" "$4" "reason in .meta"
	assert_contains "$(cat "$q/results/$2.err")" "$4" "reason in .err"
	assert_contains "$(grep -F " id=$2 " "$QVM_REMOTE_LOG")" "] $3 vm=$1 id=$2 " \
		"the $3 line in dom0's log"
	[[ ! -e $5 ]] || fail "the command ran: $5 exists"
	assert_eq "${6:-0}" "$(grep -cF "] EXEC vm=$1 id=$2 " "$QVM_REMOTE_LOG")" "EXEC lines for $2"
}

t "forged token: a made-up v2 token is rejected as AUTH-FAIL and nothing runs"
cid=$(make_cid)
plant work "$cid" "$(body_for forged)" "" "" "v2 $(openssl rand -hex 32)"
expect_rejected work "$cid" AUTH-FAIL "token mismatch" "$M.forged"

t "body substitution: a valid token for one body does not run another"
key=$(vm_keyhex work)
cid=$(make_cid)
good=$(body_for subst-good 'echo harmless')
tok=$(v2_token "$key" "$cid" "$good")
plant work "$cid" "$(body_for subst)" "" "" "$tok"
expect_rejected work "$cid" AUTH-FAIL "token mismatch" "$M.subst"

t "options substitution: a valid token for timeout=5 does not run with timeout=86400"
cid=$(make_cid)
printf 'timeout=5\n' >"$TEST_DIR/opt.signed"
printf 'timeout=86400\n' >"$TEST_DIR/opt.planted"
b=$(body_for opt)
tok=$(v2_token "$key" "$cid" "$b" "$TEST_DIR/opt.signed")
plant work "$cid" "$b" "$TEST_DIR/opt.planted" "" "$tok"
expect_rejected work "$cid" AUTH-FAIL "token mismatch" "$M.opt"

t "stdin substitution: a valid token for one stdin does not run with another"
cid=$(make_cid)
printf 'harmless\n' >"$TEST_DIR/in.signed"
printf 'evil\n' >"$TEST_DIR/in.planted"
b=$(body_for in "cat >'$M.in'")
tok=$(v2_token "$key" "$cid" "$b" "" "$TEST_DIR/in.signed")
plant work "$cid" "$b" "" "$TEST_DIR/in.planted" "$tok"
expect_rejected work "$cid" AUTH-FAIL "token mismatch" "$M.in"

t "a token with every part in place runs (the control for the rows above)"
cid=$(make_cid)
b=$(body_for control "cat >'$M.control'")
tok=$(v2_token "$key" "$cid" "$b" "$TEST_DIR/opt.signed" "$TEST_DIR/in.signed")
plant work "$cid" "$b" "$TEST_DIR/opt.signed" "$TEST_DIR/in.signed" "$tok"
wait_result work "$cid" || fail "no result"
assert_eq 0 "$(cat "$(vm_queue work)/results/$cid.exit" 2>/dev/null)" "exit code"
assert_eq harmless "$(cat "$M.control" 2>/dev/null)" "what the command read on stdin"
assert_contains "$(dom0_log)" "AUTH-OK vm=work id=$cid " "AUTH-OK line"

t "another VM's key: dev signing with work's key file is rejected"
dq=$SIM/vms/dev/home/.qvm-remote
cp -p -- "$dq/auth.key" "$TEST_DIR/dev.key"
cp -- "$SIM/vms/work/home/.qvm-remote/auth.key" "$dq/auth.key"
chown --reference="$dq" "$dq/auth.key" && chmod 0600 "$dq/auth.key"
in_vm dev qvm-remote -q "touch '$M.otherkey'" 2>"$err"
assert_eq 126 "$?" "the client's exit code"
assert_contains "$(cat "$err")" "authentication failed" "the client's message"
assert_contains "$(dom0_log)" "AUTH-FAIL vm=dev " "AUTH-FAIL line"
[[ ! -e $M.otherkey ]] || fail "the command ran"
cp -p -- "$TEST_DIR/dev.key" "$dq/auth.key"
assert_eq back "$(in_vm dev qvm-remote echo back)" "dev with its own key again"

t "replay of a used request: re-planted files are rejected and ran once"
dom0_stop
in_vm work qvm-remote -q --wait 60 "echo ran >>'$M.replay'" >/dev/null 2>&1 &
cpid=$!
track_pid "$cpid"
wq=$(vm_queue work)
wait_for "compgen -G '$wq/pending/*.auth' >/dev/null" 10 || fail "the request never appeared"
auth=$(compgen -G "$wq/pending/*.auth" | head -n 1)
cid=${auth##*/}
cid=${cid%.auth}
mkdir -m 0755 "$TEST_DIR/copy"
cp -- "$wq/pending/$cid" "$TEST_DIR/copy/body"
cp -- "$auth" "$TEST_DIR/copy/auth"
dom0_start
wait "$cpid"
assert_eq 0 "$?" "the original request's exit code"
assert_eq ran "$(cat "$M.replay" 2>/dev/null)" "the original ran once"
hist=$(compgen -G "$SIM/vms/work/home/.qvm-remote/history/*/$cid")
[[ -n $hist ]] || fail "the client did not archive the result"
rm -f -- "$wq/results/$cid".*
# the VM still has the result of that id, in history/: refused, and no
# answer is written over it (a result is written once per id)
plant work "$cid" "$TEST_DIR/copy/body" "" "" "$(cat "$TEST_DIR/copy/auth")"
wait_for "grep -q 'AUTH-FAIL vm=work id=$cid .*replayed' '$QVM_REMOTE_LOG'" 20 || fail "no refusal in dom0's log"
wait_for "! compgen -G '$wq/running/$cid*' >/dev/null" 20 || fail "its claim stays"
[[ ! -e $wq/results/$cid.exit ]] || fail "a rejection was written for an id the VM has a result of"
assert_eq 0 "$(cat "$hist/exit")" "the VM's result of it"
# without it, the refusal is answered
rm -rf -- "$hist"
plant work "$cid" "$TEST_DIR/copy/body" "" "" "$(cat "$TEST_DIR/copy/auth")"
expect_rejected work "$cid" AUTH-FAIL "replayed request" /nonexistent 1
assert_eq ran "$(cat "$M.replay")" "the marker after the replay (ran once)"

t "replay of a used request after a daemon restart: the store is durable"
dom0_stop
dom0_start
rm -f -- "$wq/results/$cid".*
plant work "$cid" "$TEST_DIR/copy/body" "" "" "$(cat "$TEST_DIR/copy/auth")"
expect_rejected work "$cid" AUTH-FAIL "replayed request" /nonexistent 1
assert_eq ran "$(cat "$M.replay")" "the marker after the second replay"
assert_eq 3 "$(grep -c "AUTH-FAIL vm=work id=$cid .*replayed" "$QVM_REMOTE_LOG")" "replay lines"

t "stale cid: a valid v2 token on a 2-day-old id is rejected"
cid=$(make_cid $(($(date +%s) - 2 * 86400)))
b=$(body_for stale)
plant work "$cid" "$b" "" "" "$(v2_token "$key" "$cid" "$b")"
expect_rejected work "$cid" AUTH-FAIL "stale request" "$M.stale"

t "cid from the future: a valid v2 token on an id 1 hour ahead is rejected"
cid=$(make_cid $(($(date +%s) + 3600)))
b=$(body_for future)
plant work "$cid" "$b" "" "" "$(v2_token "$key" "$cid" "$b")"
expect_rejected work "$cid" AUTH-FAIL "stale request" "$M.future"

t "legacy v1 token: rejected when the VM is not in QVM_REMOTE_LEGACY_AUTH"
cid=$(make_cid)
plant work "$cid" "$(body_for v1no)" "" "" "$(v1_token "$key" "$cid")"
expect_rejected work "$cid" AUTH-FAIL "QVM_REMOTE_LEGACY_AUTH" "$M.v1no"

t "legacy v1 token: accepted and logged as legacy for a listed VM only"
dom0_stop
printf 'QVM_REMOTE_LEGACY_AUTH=work\n' >"$DOM0_CONF"
dom0_start
cid=$(make_cid)
plant work "$cid" "$(body_for v1yes)" "" "" "$(v1_token "$key" "$cid")"
wait_result work "$cid" || fail "no result"
assert_eq 0 "$(cat "$wq/results/$cid.exit" 2>/dev/null)" "exit code"
assert_file_exists "$M.v1yes" "the marker of the legacy command"
assert_contains "$(grep -F " id=$cid " "$QVM_REMOTE_LOG")" "AUTH-OK vm=work id=$cid reason=\"legacy v1 token\"" \
	"the AUTH-OK line names the legacy token"
cid=$(make_cid)
plant dev "$cid" "$(body_for v1dev)" "" "" "$(v1_token "$(vm_keyhex dev)" "$cid")"
expect_rejected dev "$cid" AUTH-FAIL "QVM_REMOTE_LEGACY_AUTH" "$M.v1dev"
dom0_stop
: >"$DOM0_CONF"
dom0_start

t "unknown VM: a VM without a key in dom0 is never polled, its request never read"
cid=$(make_cid)
b=$(body_for unknown)
plant stranger "$cid" "$b" "" "" "$(v2_token "$(vm_keyhex stranger)" "$cid" "$b")"
qubes-sim calls --reset
assert_eq ok "$(in_vm work qvm-remote echo ok)" "a command from work meanwhile"
sleep 1
assert_eq 0 "$(calls stranger)" "transport calls into stranger"
assert_file_exists "$(vm_queue stranger)/pending/$cid.auth" "the request, untouched in pending/"
[[ ! -e $(vm_queue stranger)/results/$cid.exit ]] || fail "stranger got a result"
[[ $(dom0_log) != *vm=stranger* ]] || fail "dom0 logged something for stranger"
[[ ! -e $M.unknown ]] || fail "the command ran"

t "no keys configured: with an empty keys directory dom0 polls nobody and says so"
dom0_stop
mkdir -m 0700 "$DOM0/nokeys"
qubes-sim calls --reset
QVM_REMOTE_KEYS_DIR=$DOM0/nokeys dom0_start
assert_exit 123 in_vm work qvm-remote -q --wait 2 "touch '$M.nokeys'"
assert_eq 0 "$(qubes-sim calls --count)" "transport calls into any VM"
assert_contains "$(dom0_log | tail -n 5)" "no authorized VMs" "what dom0 says"
assert_contains "$(dom0_log | tail -n 5)" "authorize --from-vm" "how to authorize one"
[[ ! -e $M.nokeys ]] || fail "the command ran"
dom0_stop
dom0_start

t "key file with mode 0644 in the VM: the client refuses with the chmod hint"
chmod 0644 "$SIM/vms/work/home/.qvm-remote/auth.key"
before=$(ls -A "$wq/pending")
in_vm work qvm-remote "touch '$M.vm0644'" 2>"$err"
assert_eq 125 "$?" "the client's exit code"
assert_contains "$(cat "$err")" "chmod 600" "the hint"
assert_eq "$before" "$(ls -A "$wq/pending")" "pending/ (nothing was queued)"
[[ ! -e $M.vm0644 ]] || fail "the command ran"
chmod 0600 "$SIM/vms/work/home/.qvm-remote/auth.key"

t "key file with mode 0644 in dom0: the daemon does not load it and says how to fix it"
dom0_stop
chmod 0644 "$QVM_REMOTE_KEYS_DIR/work.key"
qubes-sim calls --reset
dom0_start
assert_exit 123 in_vm work qvm-remote -q --wait 2 "touch '$M.dom0644'"
assert_eq 0 "$(calls work)" "transport calls into work"
assert_contains "$(dom0_log | grep 'vm=work')" "ERROR vm=work" "the ERROR line for work's key"
assert_contains "$(cat "$DOM0/daemon.out"; grep 'ERROR vm=work' "$QVM_REMOTE_LOG")" "chmod 600" \
	"the daemon says how to fix it (its stderr or its ERROR line)"
assert_contains "$(dom0 keys 2>&1)" "chmod 600" "keys says how to fix it"
assert_eq ok "$(in_vm dev qvm-remote echo ok)" "dev is still served"
[[ ! -e $M.dom0644 ]] || fail "the command ran"
dom0_stop
chmod 0600 "$QVM_REMOTE_KEYS_DIR/work.key"

t "keys directory with mode 0755 in dom0: the daemon refuses to start"
chmod 0755 "$QVM_REMOTE_KEYS_DIR"
: >"$DOM0/daemon.out"
rc=0
timeout 10 "$QVMR_DAEMON" -c "$DOM0_CONF" >"$DOM0/daemon.out" 2>&1 || rc=$?
assert_ne 0 "$rc" "the daemon's exit status"
assert_ne 124 "$rc" "the daemon's exit status (it kept running)"
assert_contains "$(cat "$DOM0/daemon.out")" "chmod 700 $QVM_REMOTE_KEYS_DIR" "the message"
chmod 0700 "$QVM_REMOTE_KEYS_DIR"

t "authorize refuses a key another VM already has"
cp -- "$QVM_REMOTE_KEYS_DIR/dev.key" "$TEST_DIR/dev.key.before"
rc=0
dom0 authorize dev <"$SIM/vms/work/home/.qvm-remote/auth.key" >"$err" 2>&1 || rc=$?
assert_ne 0 "$rc" "authorize's exit status"
assert_contains "$(cat "$err")" "work" "the message names the VM holding that key"
cmp -s "$TEST_DIR/dev.key.before" "$QVM_REMOTE_KEYS_DIR/dev.key" || fail "dev's key file changed"
dom0 revoke stranger >/dev/null 2>&1
rc=0
dom0 authorize stranger <"$SIM/vms/work/home/.qvm-remote/auth.key" >"$err" 2>&1 || rc=$?
assert_ne 0 "$rc" "authorize's exit status for a new VM"
[[ ! -e $QVM_REMOTE_KEYS_DIR/stranger.key ]] || fail "stranger got work's key"

t "authorize refuses a key given in argv"
k=$(vm_keyhex stranger)
rc=0
dom0 authorize stranger "$k" </dev/null >"$err" 2>&1 || rc=$?
assert_ne 0 "$rc" "authorize's exit status"
[[ ! -e $QVM_REMOTE_KEYS_DIR/stranger.key ]] || fail "a key was stored from argv"
[[ $(cat "$err") != *"$k"* ]] || fail "the message repeats the key"
assert_contains "$(cat "$err")" "stdin" "the message says where the key goes"

t "the audit log's hash chain is intact after all of this"
assert_exit 0 dom0 audit verify

t "log tampering: an edited or a deleted line is found by audit verify, by number"
n=$(grep -n "AUTH-FAIL vm=work id=" "$QVM_REMOTE_LOG" | head -n 1 | cut -d: -f1)
sed "${n}s/AUTH-FAIL/AUTH-OK/" "$QVM_REMOTE_LOG" >"$TEST_DIR/edited.log"
rc=0
dom0 audit verify "$TEST_DIR/edited.log" >"$err" 2>&1 || rc=$?
assert_ne 0 "$rc" "verify of an edited log"
assert_contains "$(cat "$err")" "line $n:" "verify names the edited line"
sed "${n}d" "$QVM_REMOTE_LOG" >"$TEST_DIR/deleted.log"
rc=0
dom0 audit verify "$TEST_DIR/deleted.log" >"$err" 2>&1 || rc=$?
assert_ne 0 "$rc" "verify of a log with a line deleted"
assert_contains "$(cat "$err")" "line $n:" "verify names the line after the gap"
