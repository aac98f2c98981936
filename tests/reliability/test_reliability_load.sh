#!/bin/bash
# Reliability under load: one VM floods its queue with junk and makes
# 1 GiB of output while the others keep working and the daemon's memory
# stays bounded.  50 clients and 20 VMs at once: test_reliability_many.sh.
. "$(dirname "$0")/../system/lib.sh"
. "$(dirname "$0")/../system/dom0.sh"

NVMS=3
dom0_setup v01 v02 v03
flood=v01
out=$TEST_DIR/out
mkdir -m 0777 "$out"

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print -1 }'; }
maxof() { sort -n | tail -n 1; }
# ROUNDS round trips of `true` in VM one after the other, each one's
# time in ms as the client measured it (qvm-remote -v)
round_trips() {
	in_vm "$1" sh -c 'i=0; while [ $i -lt "$1" ]; do
		qvm-remote -v --wait 60 true 2>&1 >/dev/null | sed -n "s/.*result after \([0-9]*\) ms.*/\1/p"
		i=$((i + 1)); done' sh "$2"
}
hwm_kib() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DOM0_PID/status"; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DOM0_PID/status"; }
wait_rc() {   # PID SEC: RC = its exit status, or "hung"
	RC=hung
	wait_for "! proc_alive $1" "$2" || return 1
	wait "$1"
	RC=$?
}

dom0_start
wait_for "(( \$(grep -c 'action=polling' '$QVM_REMOTE_LOG') >= $NVMS ))" 20 || fail "not every VM is polled"

# ------------------------------------------------------------------
t "one VM floods 10,000 junk files and 1 GiB of output: the others keep working, memory stays bounded"
pending=$(vm_queue "$flood")/pending
in_vm "$flood" qvm-remote true >/dev/null 2>&1 || fail "$flood does not work at all"
base=$(round_trips v02 5)
# 10,000 names that are not requests: 1,000 of them end in .auth in
# shapes close to a cid, a ping or a claim; the rest plain junk and
# dot-names.  Made by the VM's own user, in its own queue.
in_vm "$flood" sh -c '
	cd "$HOME/.qvm-remote/queue/pending" || exit 1
	i=0
	while [ $i -lt 10000 ]; do
		case $((i % 10)) in
		0) case $((i % 40)) in
		   0) n=junk-$i.auth ;;
		   10) n=20261128-120000-$i-XYZ.auth ;;
		   20) n=ping-$i-.auth ;;
		   *) n=20261128-120000-1-0123456789abcdef.auth.$i.auth ;;
		   esac ;;
		1) n=.hidden-$i ;;
		*) n=junk-$i ;;
		esac
		: >"$n"
		i=$((i + 1))
	done'
files=$(ls -A "$pending" | wc -l)
junk_auth=$(ls "$pending" | grep -c '\.auth$')
printf '# junk in pending/: %d names, %d of them *.auth\n' "$files" "$junk_auth"
lines=$(wc -l <"$QVM_REMOTE_LOG")
hwm0=$(hwm_kib)
start=$(now_ms)
in_vm "$flood" qvm-remote --wait 120 -t 600 'head -c 1073741824 /dev/zero; echo done >&2' \
	>"$out/big" 2>"$out/big.err" &
big=$!
track_pid $!
# meanwhile, from two other VMs
in_vm v02 sh -c 'sleep 1; i=0; while [ $i -lt 10 ]; do
	qvm-remote -v --wait 60 true 2>&1 >/dev/null | sed -n "s/.*result after \([0-9]*\) ms.*/\1/p"
	i=$((i + 1)); done' >"$out/rt-v02" &
rt2=$!
track_pid $!
in_vm v03 sh -c 'sleep 1; i=0; while [ $i -lt 10 ]; do
	qvm-remote -v --wait 60 true 2>&1 >/dev/null | sed -n "s/.*result after \([0-9]*\) ms.*/\1/p"
	i=$((i + 1)); done' >"$out/rt-v03" &
rt3=$!
track_pid $!
peak=0
for pid in $rt2 $rt3 $big; do
	while proc_alive "$pid" && (($(now_ms) - start < 150000)); do
		r=$(rss_kib)
		((r > peak)) && peak=$r
		sleep 0.2
	done
done
wait_rc "$rt2" 1
wait_rc "$rt3" 1
wait_rc "$big" 1
big_rc=$RC
took=$(($(now_ms) - start))
hwm=$(hwm_kib)
during=$(cat "$out/rt-v02" "$out/rt-v03")
printf '# v02 round trip before: median %s ms; v02+v03 during the flood: median %s ms, max %s ms (%d done)\n' \
	"$(median <<<"$base")" "$(median <<<"$during")" "$(maxof <<<"$during")" "$(grep -c . <<<"$during")"
printf '# the 1 GiB command: exit %s after %d ms, %d bytes kept\n' "$big_rc" "$took" "$(stat -c %s "$out/big")"
((peak > hwm)) && hwm=$peak   # VmHWM is updated lazily
printf '# daemon memory: VmHWM %d KiB before, %d KiB after; VmRSS peak seen %d KiB\n' "$hwm0" "$hwm" "$peak"
assert_eq 20 "$(grep -c . <<<"$during")" "round trips from v02 and v03 during the flood"
(($(maxof <<<"$during") < 15000)) || fail "a round trip took $(maxof <<<"$during") ms during the flood"
((hwm < 64 * 1024)) || fail "the daemon's peak RSS is $hwm KiB, over 64 MiB"
# it succeeded, and dom0 cut its output: qvm-remote(1)'s 122
assert_eq 122 "$big_rc" "the 1 GiB command's exit code"
assert_eq 10485760 "$(stat -c %s "$out/big")" "output kept (QVM_REMOTE_MAX_OUTPUT)"
assert_contains "$(tail -n "+$((lines + 1))" "$QVM_REMOTE_LOG" | grep "TRUNC vm=$flood")" \
	"produced=1073741824" "TRUNC line"
# the junk: counted, reported, left where it was
skip=$(tail -n "+$((lines + 1))" "$QVM_REMOTE_LOG" | grep "REJECT vm=$flood .*count=" | tail -n 1)
assert_contains "$skip" "count=$junk_auth" "the REJECT line for the junk"
assert_eq "$files" "$(ls -A "$pending" | wc -l)" "names in pending/ after the fetches"
assert_eq "" "$(ls "$(vm_queue "$flood")/running")" "running/: nothing of the junk was claimed"
in_vm "$flood" sh -c 'cd "$HOME/.qvm-remote/queue/pending" && find . -maxdepth 1 -type f -delete'
dom0_stop
