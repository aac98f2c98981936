#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Logging and state that fail closed, and floods that cost one VM only.
# dom0's log and state directory each live on a small tmpfs of their own
# that the test fills, remounts read-only and frees again: a command runs
# only after its EXEC line is on disk, a refusal reaches the client at once
# (exit 126 and the reason), and the next command after space is freed
# runs without a restart.  A process in a VM without the key planting
# junk costs dom0 a bounded number of log lines and only that VM waits.
# Every command below would create a marker file in $TEST_DIR.
# run.sh limit: 420 s (the flood case waits out one 60 s budget window)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

((EUID == 0)) || skip_all "needs root (mount)"

LOGFS=$TEST_DIR/logfs
STATEFS=$TEST_DIR/statefs
M=$TEST_DIR/marker

# A tmpfs of SIZE at DIR, unmounted at exit.
small_fs() {   # DIR SIZE
	mkdir -p "$1" && mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" ||
		die "cannot mount a tmpfs at $1"
	at_exit "umount '$1' 2>/dev/null || umount -l '$1'"
}

# Fills the file system of DIR to the last block (again, when some was
# freed since: another fill.N file).
fill() {   # DIR
	dd if=/dev/zero of="$(mktemp "$1/fill.XXXXXX")" bs=4096 2>/dev/null
	true
}

dom0_setup work other
small_fs "$LOGFS" 256k
small_fs "$STATEFS" 512k
mv "$QVM_REMOTE_LOG" "$LOGFS/qvm-remote.log" || die "cannot move the log"
export QVM_REMOTE_LOG=$LOGFS/qvm-remote.log
export QVM_REMOTE_STATE_DIR=$STATEFS/state
dom0_start
out=$TEST_DIR/out
err=$TEST_DIR/err

t "setup: a command runs with room on both file systems"
assert_exit 0 in_vm work qvm-remote "touch '$M.first'"
assert_file_exists "$M.first"

# Runs commands in work until dom0 refuses one (at most 20; what is left
# of the log's last page takes a few).  Prints the refused one's number.
until_refused() {   # TAG
	local i rc
	for ((i = 1; i <= 20; i++)); do
		rc=0
		timeout 60 "$QUBES_SIM_ROOT/bin/qubes-sim" exec work -- \
			qvm-remote "touch '$M.$1.$i'" >"$out" 2>"$err" || rc=$?
		if ((rc != 0)); then
			printf '%s %s\n' "$i" "$rc"
			return 0
		fi
		[[ -e $M.$1.$i ]] || { printf '%s ran-no-marker\n' "$i"; return 0; }
	done
	printf 'none\n'
}

t "a full log file system: the command is refused at once (126, the reason) and does not run"
fill "$LOGFS"
read -r n rc < <(until_refused full)
assert_eq 126 "${rc:-}" "the exit status of the first refused command (number ${n:-none})"
assert_contains "$(cat "$err")" "dom0 cannot write its audit log" "what the client says"
[[ ${n:-none} == none || ! -e $M.full.$n ]] || fail "the refused command ran: $M.full.$n exists"
assert_eq 0 "$(grep -c "touch '$M.full.$n'" "$QVM_REMOTE_LOG")" "lines of the refused command in the log"

t "the full log freed: the next command runs, without a restart"
rm -f "$LOGFS"/fill.*
assert_exit 0 in_vm work qvm-remote "touch '$M.freed'"
assert_file_exists "$M.freed"
assert_contains "$(grep -F "] EXEC vm=work " "$QVM_REMOTE_LOG" | tail -n 1)" "$M.freed" \
	"its EXEC line in the log"

t "a read-only log: the daemon does not start, and says why"
# (a file system cannot go read-only under a writer but by an error;
# the full file system above is the running case)
dom0_stop
mount -o remount,ro "$LOGFS" || die "cannot remount $LOGFS read-only"
rc=0
"$QVMR_DAEMON" -c "$DOM0_CONF" --once >"$out" 2>&1 || rc=$?
mount -o remount,rw "$LOGFS" || die "cannot remount $LOGFS writable"
assert_ne 0 "$rc" "the daemon's exit status with a read-only log"
assert_contains "$(cat "$out")" "$QVM_REMOTE_LOG" "the daemon names the log"
dom0_start
assert_exit 0 in_vm work qvm-remote "touch '$M.rw'"
assert_file_exists "$M.rw"

t "a command running when the state directory fills still gets its result (its meta has room)"
in_vm work qvm-remote 'sleep 2; exit 3' >"$out" 2>"$err" &
bg=$!
wait_for "grep -qF 'cmd=\"sleep 2; exit 3' '$QVM_REMOTE_LOG'" 20 ||
	fail "the command did not start" "$(grep EXEC "$QVM_REMOTE_LOG" | tail -n 2)"
fill "$STATEFS"
rc=0
wait "$bg" || rc=$?
assert_eq 3 "$rc" "the running command's exit status"

t "a full state directory: the command is refused at once (126, the reason) and does not run"
fill "$STATEFS"     # the result above left the outbox: full again
read -r n rc < <(until_refused state)
assert_eq 126 "${rc:-}" "the exit status of the first refused command (number ${n:-none})"
assert_contains "$(cat "$err")" "nothing ran" "what the client says"
[[ ${n:-none} == none || ! -e $M.state.$n ]] || fail "the refused command ran: $M.state.$n exists"

t "the full state directory freed: the next command runs, without a restart"
rm -f "$STATEFS"/fill.*
assert_exit 0 in_vm work qvm-remote "touch '$M.state-freed'"
assert_file_exists "$M.state-freed"

t "flood: 200 junk requests without the key cost dom0 a bounded number of log lines"
lines_before=$(wc -l <"$QVM_REMOTE_LOG")
# shellcheck disable=SC2016 # expanded by the VM's sh
in_vm work sh -c '
	q=$HOME/.qvm-remote/queue/pending; i=0
	while [ $i -lt 200 ]; do
		c=$(date -u +%Y%m%d-%H%M%S)-$((1000 + i))-$(printf %08x $i)deadbeef
		printf "touch %s.junk.%s\n" "$1" $i >"$q/.j" && mv "$q/.j" "$q/$c"
		printf "v2 %064d\n" $i >"$q/.j" && mv "$q/.j" "$q/$c.auth"
		i=$((i + 1))
	done' sh "$M" || fail "cannot plant the junk"
wait_for "grep -q 'vm=work reason=\"over 30 rejected' '$QVM_REMOTE_LOG'" 60 ||
	fail "no line saying work went over its budget within 60 s" \
		"AUTH-FAIL lines of work: $(grep -c "] AUTH-FAIL vm=work " "$QVM_REMOTE_LOG")" \
		"$(tail -n 3 "$QVM_REMOTE_LOG")"
fails=$(grep -c "] AUTH-FAIL vm=work " "$QVM_REMOTE_LOG")
((fails >= 30 && fails <= 30 + 32)) ||
	fail "AUTH-FAIL lines of work: $fails (30 logged, at most one fetch more)"
left=$(find "$(vm_queue work)/pending" -name '*.auth' | wc -l)
((left > 100)) || fail "only $left junk requests left in pending/: fetching did not pause"

t "flood: another VM is served at once meanwhile"
assert_exit 0 in_vm other qvm-remote "touch '$M.other'"
assert_file_exists "$M.other"

t "flood: after the minute an aggregate line counts what was not logged, and work is fetched again"
wait_for "grep -q 'vm=work count=[0-9]* reason=\"more rejected' '$QVM_REMOTE_LOG'" 90 ||
	fail "no aggregate line within 90 s"
# the next window's fetch takes the next junk: fewer are left
wait_for "((\$(find '$(vm_queue work)/pending' -name '*.auth' | wc -l) < left))" 30 ||
	fail "work was not fetched from again after the minute"
ls "$M".junk.* >/dev/null 2>&1 && fail "a junk request ran"
lines=$(($(wc -l <"$QVM_REMOTE_LOG") - lines_before))
((lines < 150)) || fail "the flood cost $lines log lines"

dom0_stop
