#!/bin/bash
# Attacks on dom0's audit log (issue 12, item 3), by root in dom0, which is
# what an authorized VM that went bad is: edit a line and recompute the
# unkeyed chain, delete one request's lines, reorder two lines, cut the
# last lines.  With the verification key each is found and the first bad
# line named; the cut is found with a VM's anchor; without the key the
# rewrite passes the keyless check, and verify says it cannot prove it.
# Also: rotation by SIGHUP keeps the seal continuous; a local user cannot
# plant or loosen the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work
LOG=$QVM_REMOTE_LOG
KEY=$TEST_DIR/seal.key
out=$TEST_DIR/out err=$TEST_DIR/err

# The attacker's tool: every chain value recomputed as SHA-256(previous
# chain || line up to " chain="), cut to 32 hex digits, from 32 zeros.
rechain() {   # FILE: in place, as root editing the log would
	local prev=00000000000000000000000000000000 line content tmp=$1.rechain
	: >"$tmp"
	while IFS= read -r line; do
		content=${line% chain=*}
		prev=$(printf '%s%s' "$prev" "$content" | sha256sum | cut -c1-32)
		printf '%s chain=%s\n' "$content" "$prev" >>"$tmp"
	done <"$1"
	cat "$tmp" >"$1"
	rm -f "$tmp"
}
# seq made contiguous again from the file's first seq (here 1)
renumber() { awk '{ sub(/ seq=[0-9]+ seal=/, " seq=" NR " seal="); print }' "$1" >"$1.n" && cat "$1.n" >"$1" && rm -f "$1.n"; }
# audit verify's exit status and output (both streams) for ARGS
verify() { local rc=0; dom0 audit verify "$@" >"$out" 2>&1 || rc=$?; echo "$rc"; }
line_of() { grep -n -- "$1" "$2" | head -n 1 | cut -d: -f1; }
# shellcheck disable=SC2016 # expanded by the VM's sh
vm_audit() { in_vm work sh -c 'cat "$HOME/.qvm-remote/audit.log"'; }

t "a writer that starts the seal keeps its key for setup-key, which shows it once"
assert_file_exists "$QVM_REMOTE_STATE_DIR/log-verify.key" "the pending key"
assert_contains "$(dom0_log)" "INFO action=seal-start note=" "the seal-start line"
assert_contains "$(dom0 status 2>&1)" "audit setup-key" "status warns of the pending key"
(umask 077; dom0 audit setup-key >"$TEST_DIR/setup.out" 2>"$err") ||
	fail "setup-key failed: $(cat "$err")"
head -n 1 "$TEST_DIR/setup.out" >"$KEY"
chmod 0600 "$KEY"
grep -qx 'qvmr-seal1-1-[0-9a-f]\{64\}' "$KEY" || fail "setup-key printed no key"
[[ ! -e $QVM_REMOTE_STATE_DIR/log-verify.key ]] || fail "the pending key is still in dom0"
grep -qF "$(cut -d- -f4 "$KEY")" "$LOG" "$QVM_REMOTE_STATE_DIR/log-seal" &&
	fail "the verification key is in the log or the state"
assert_exit 1 dom0 audit setup-key 2>/dev/null
[[ $(dom0 status 2>&1) != *"audit setup-key"* ]] || fail "status still warns"

dom0_start
for c in 'echo one' 'echo two' 'exit 3' 'echo four' 'echo five'; do
	in_vm work qvm-remote "$c" >/dev/null 2>&1
done

t "the untouched log is proven with the key, and each result carries an anchor"
assert_eq 0 "$(verify --key "$KEY")" "verify --key"
assert_contains "$(cat "$out")" "the key proves" "what the key proved"
assert_eq 0 "$(verify)" "verify without the key"
assert_contains "$(cat "$out")" "cannot prove that no line was rewritten" "what the keyless check says"
vm_audit | grep -qE ' RESULT id=.* dom0-log=[1-9][0-9]*:[0-9a-f]{32}$' ||
	fail "no anchor in the VM's audit.log: $(vm_audit | tail -n 1)"

t "tamper with the log: an edited line with the chain recomputed passes the keyless check, the key names it"
cp "$LOG" "$TEST_DIR/edit.log"
n=$(line_of 'cmd="echo two' "$TEST_DIR/edit.log")
sed -i "${n}s/echo two/echo TWO/" "$TEST_DIR/edit.log"
rechain "$TEST_DIR/edit.log"
assert_eq 0 "$(verify "$TEST_DIR/edit.log")" "keyless verify of the rewrite"
assert_contains "$(cat "$out")" "cannot prove that no line was rewritten" "it says what it cannot prove"
assert_eq 1 "$(verify --key "$KEY" "$TEST_DIR/edit.log")" "verify --key"
assert_contains "$(cat "$out")" "edit.log: line $n: the seal of seq $n does not verify" "the line named"

t "tamper with the log: one request's lines deleted, renumbered and rechained, are found with the key"
cp "$LOG" "$TEST_DIR/del.log"
id=$(sed -n 's/.*EXEC vm=work id=\([^ ]*\) .*cmd="exit 3.*/\1/p' "$TEST_DIR/del.log")
[[ -n $id ]] || fail "no EXEC line for 'exit 3'"
n=$(line_of "id=$id" "$TEST_DIR/del.log")
grep -v -- "id=$id" "$TEST_DIR/del.log" >"$TEST_DIR/del.tmp" && cat "$TEST_DIR/del.tmp" >"$TEST_DIR/del.log"
rechain "$TEST_DIR/del.log"
assert_eq 1 "$(verify "$TEST_DIR/del.log")" "keyless: the seq gap"
assert_contains "$(cat "$out")" "line $n: seq jumps" "the gap named"
renumber "$TEST_DIR/del.log"
rechain "$TEST_DIR/del.log"
assert_eq 0 "$(verify "$TEST_DIR/del.log")" "keyless verify of the renumbered log"
assert_eq 1 "$(verify --key "$KEY" "$TEST_DIR/del.log")" "verify --key"
assert_contains "$(cat "$out")" "line $n: the seal of seq $n does not verify" "the first renumbered line"

t "tamper with the log: two lines swapped, renumbered and rechained, are found with the key"
cp "$LOG" "$TEST_DIR/swap.log"
n=$(line_of 'cmd="echo four' "$TEST_DIR/swap.log")
awk -v n="$n" 'NR == n { h = $0; next } { print } NR == n + 1 { print h }' "$TEST_DIR/swap.log" >"$TEST_DIR/swap.tmp" &&
	cat "$TEST_DIR/swap.tmp" >"$TEST_DIR/swap.log"
assert_contains "$(sed -n "$((n + 1))p" "$TEST_DIR/swap.log")" 'cmd="echo four' "the swap"
rechain "$TEST_DIR/swap.log"
assert_eq 1 "$(verify "$TEST_DIR/swap.log")" "keyless: seq out of order"
renumber "$TEST_DIR/swap.log"
rechain "$TEST_DIR/swap.log"
assert_eq 0 "$(verify "$TEST_DIR/swap.log")" "keyless verify of the renumbered swap"
assert_eq 1 "$(verify --key "$KEY" "$TEST_DIR/swap.log")" "verify --key"
assert_contains "$(cat "$out")" "line $n: the seal of seq $n does not verify" "the first moved line"

t "tamper with the log: its last lines cut pass both checks, a VM's anchor finds the cut"
vm_audit >"$TEST_DIR/anchors"
head -n -3 "$LOG" >"$TEST_DIR/cut.log"
assert_eq 0 "$(verify --key "$KEY" "$TEST_DIR/cut.log")" "verify --key of the cut log"
assert_eq 1 "$(verify --key "$KEY" --anchors "$TEST_DIR/anchors" "$TEST_DIR/cut.log")" "verify with the anchors"
assert_contains "$(cat "$out")" "but the anchor at $TEST_DIR/anchors:" "the anchor named"
assert_contains "$(cat "$out")" "lines were cut from its end" "the cut named"
assert_eq 1 "$(verify --anchors "$TEST_DIR/anchors" "$TEST_DIR/cut.log")" "the anchors find it without the key too"
assert_eq 0 "$(verify --key "$KEY" --anchors "$TEST_DIR/anchors")" "the real log matches every anchor"
assert_contains "$(cat "$out")" "anchors from the VMs match" "what matched"

t "tamper with the log: a tail cut on the live log is recorded by the daemon's next line"
cp "$LOG" "$TEST_DIR/before-cut.log"
head -n -2 "$TEST_DIR/before-cut.log" >"$LOG"
in_vm work qvm-remote 'echo after' >/dev/null 2>&1
assert_contains "$(dom0_log)" "ERROR action=seal-break reason=\"the log ends at seq" "the break line"
assert_eq 1 "$(verify)" "keyless verify sees the seq jump"
assert_contains "$(cat "$out")" "seq jumps from" "the jump named"
cp "$TEST_DIR/before-cut.log" "$TEST_DIR/cut-saved.log"

# the rest of this file starts again from a clean log
dom0_stop
rm -f "$LOG" "$QVM_REMOTE_STATE_DIR/log-seal" "$QVM_REMOTE_STATE_DIR/log-verify.key"
dom0_start
in_vm work qvm-remote 'echo fresh' >/dev/null 2>&1
(umask 077; dom0 audit setup-key 2>/dev/null | head -n 1 >"$KEY")

t "rotation: after the log is moved, SIGHUP reopens a new file sealed to the old one"
mv "$LOG" "$LOG.1"
kill -HUP "$DOM0_PID"
wait_for "[[ -s '$LOG' ]]" 20 || fail "no new log after SIGHUP"
in_vm work qvm-remote 'echo rotated' >/dev/null 2>&1
assert_contains "$(head -n 1 "$LOG")" "INFO action=log-continue prev_seq=" "the new file's first line"
assert_eq 0 "$(verify --key "$KEY" "$LOG.1" "$LOG")" "verify --key of both files"
assert_eq 0 "$(verify --key "$KEY" "$LOG")" "the new file alone"
assert_eq 1 "$(verify "$LOG" "$LOG.1")" "the wrong order"
assert_contains "$(cat "$out")" "does not continue" "what is wrong"
[[ $(stat -c %a "$LOG") == 640 ]] || fail "the new log's mode is $(stat -c %a "$LOG")"

t "rotation: the shipped logrotate file's rotation is accepted and keeps the seal"
if ! command -v logrotate >/dev/null 2>&1; then
	skip "logrotate is not installed"
else
	# the shipped file, for this test's log and daemon
	sed -e "s|^/var/log/qubes/qvm-remote/qvm-remote.log {|$LOG {|" \
	    -e "s|systemctl --quiet is-active.*|kill -HUP $DOM0_PID|" \
	    -e '/systemctl reload/d' "$(dirname "$0")/../../etc/qvm-remote.logrotate" >"$TEST_DIR/logrotate.conf"
	rm -f "$LOG.1"
	logrotate -f -s "$TEST_DIR/logrotate.state" "$TEST_DIR/logrotate.conf" >"$err" 2>&1 ||
		fail "logrotate failed: $(cat "$err")"
	in_vm work qvm-remote 'echo after-logrotate' >/dev/null 2>&1
	assert_contains "$(head -n 1 "$LOG")" "INFO action=log-continue prev_seq=" "the new file's first line"
	assert_eq 0 "$(verify --key "$KEY" "$LOG.1" "$LOG")" "verify --key of both files"
	assert_contains "$(dom0_log)" 'cmd="echo after-logrotate' "the daemon writes to the new file"
fi
dom0_stop

# The daemon refuses to start on a log a local user could have made or
# changed, naming the file and the fix.
refused() {   # WHAT-TO-FIND: the daemon with this log fails to start
	local rc=0
	timeout 20 "$QVMR_DAEMON" -c "$DOM0_CONF" --once >"$out" 2>&1 || rc=$?
	assert_eq 1 "$rc" "the daemon's exit status"
	assert_contains "$(cat "$out")" "$1" "its message"
}
EVIL=$TEST_DIR/evil
mkdir -m 0750 "$EVIL"
export QVM_REMOTE_LOG=$EVIL/qvm-remote.log

t "a planted log: a symlink in its place is refused"
: >"$TEST_DIR/target"
ln -s "$TEST_DIR/target" "$QVM_REMOTE_LOG"
refused "is a symbolic link"
[[ ! -s $TEST_DIR/target ]] || fail "the daemon wrote through the link"
rm -f "$QVM_REMOTE_LOG"

t "a planted log: a file another user made is refused"
install -m 0640 -o nobody /dev/null "$QVM_REMOTE_LOG"
refused "belongs to uid $(id -u nobody)"
rm -f "$QVM_REMOTE_LOG"

t "a loosened log: a group-writable log is refused, with the chmod that fixes it"
install -m 0660 /dev/null "$QVM_REMOTE_LOG"
refused "is writable by group or others; fix with: chmod go-w $QVM_REMOTE_LOG"
rm -f "$QVM_REMOTE_LOG"

t "a loosened log directory: a group-writable directory (as /var/log/qubes) is refused"
chmod 2770 "$EVIL"
refused "the log directory $EVIL is writable by group or others"
chmod 0750 "$EVIL"

t "what the packages and tests make is accepted"
install -m 0640 /dev/null "$QVM_REMOTE_LOG"
rc=0
timeout 30 "$QVMR_DAEMON" -c "$DOM0_CONF" --once >"$out" 2>&1 || rc=$?
assert_eq 0 "$rc" "the daemon with a 0640 log in a 0750 directory: $(cat "$out")"
