#!/bin/bash
# tests/soak/soak.sh: the daemon under SOAK_SECONDS (600) of mixed load
# against the simulator, watching for growth.  Run with `make soak`; not
# part of `make check`.
#
# Load, in four VMs (three dash, one bash) at once: short commands, long
# ones (3 s, several at a time), big outputs (3 MB, and 12 MB, which dom0
# cuts at 10 MiB), now and then a forged request (a token that is not the
# VM's, which dom0 rejects), and a SIGHUP to the daemon every minute.
# Every 10 s the daemon's VmRSS, open fds (/proc/PID/fd) and RssAnon go to
# a CSV (SOAK_CSV, default build/soak.csv): seconds,rss_kib,fds,rss_anon_kib.
# At the end it prints the start, end and max of each and fails when the
# median of the last third is above the median of the first third by more
# than 10 % (at least 1 MiB) for RSS or 3 for fds, when the fd count with
# the daemon idle grew, or when a client got an unexpected exit code.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib.sh"
. "$here/../system/dom0.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-600}
[[ $SECONDS_TOTAL =~ ^[0-9]+$ ]] && ((SECONDS_TOTAL >= 30)) ||
	die "SOAK_SECONDS='$SECONDS_TOTAL': give at least 30 seconds"
CSV=${SOAK_CSV:-$QVMR_BUILD/soak.csv}
SAMPLE_S=10
HUP_S=60
VMS=(w1 w2 w3 w4)

dom0_setup w1 w2 w3 w4:bash
stop=$TEST_DIR/stop
# One VM's load until $stop exists; tallies in ~/soak.tally as
# "KIND CODE" lines.  Forgeries are written by hand, with a token made of
# zeros, and not waited for (dom0 answers them with status=rejected).
cat >"$TEST_DIR/load.sh" <<'EOF'
stop=$1
q=$HOME/.qvm-remote/queue
tally=$HOME/soak.tally
i=0
while [ ! -e "$stop" ]; do
	i=$((i + 1))
	qvm-remote -q --wait 120 "echo short-$i" >/dev/null 2>&1
	echo "short $?" >>"$tally"
	if [ $((i % 5)) -eq 0 ]; then
		( qvm-remote -q --wait 120 'sleep 3; echo long' >/dev/null 2>&1
		  echo "long $?" >>"$tally" ) &
	fi
	if [ $((i % 7)) -eq 0 ]; then
		size=3000000
		[ $((i % 21)) -eq 0 ] && size=12000000
		qvm-remote -q --wait 120 "head -c $size /dev/zero" >/dev/null 2>&1
		echo "big $?" >>"$tally"
	fi
	if [ $((i % 11)) -eq 0 ]; then
		cid=$(date -u +%Y%m%d-%H%M%S)-$$-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
		printf 'echo forged\n' >"$q/pending/.f" && mv "$q/pending/.f" "$q/pending/$cid"
		printf 'v2 %064d\n' 0 >"$q/pending/.f" && mv "$q/pending/.f" "$q/pending/$cid.auth"
		echo "forged 0" >>"$tally"
		# nobody reads its rejection: clear the one before
		[ -z "${last:-}" ] || rm -f "$q/results/$last".*
		last=$cid
	fi
	sleep 0.3
done
wait
EOF
chmod 0644 "$TEST_DIR/load.sh"

rss_kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$DOM0_PID/status" 2>/dev/null; }
fd_count() { ls "/proc/$DOM0_PID/fd" 2>/dev/null | wc -l; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'; }
# idle: no command running, nothing to deliver, every VM's watch fetch
# waiting; the fd count then depends on nothing but leaks
idle_fds() {
	local n vm
	wait_for "[[ -z \$(ls -A '$QVM_REMOTE_RUNTIME_DIR'/*/ 2>/dev/null) ]]" 30
	for vm in "${VMS[@]}"; do
		wait_for "[[ -z \$(ls -A '$QVM_REMOTE_STATE_DIR/outbox/$vm' 2>/dev/null) ]]" 30
	done
	sleep 3
	n=$(fd_count)
	printf '%s\n' "$n"
}

t "soak: $SECONDS_TOTAL s of mixed load; the daemon's RSS and open fds do not grow"
dom0_start
wait_for "(( \$(grep -c 'action=polling' '$QVM_REMOTE_LOG') >= ${#VMS[@]} ))" 20 || fail "not every VM is polled"
for vm in "${VMS[@]}"; do
	in_vm "$vm" qvm-remote true >/dev/null 2>&1 || fail "$vm does not work"
done
idle0=$(idle_fds)
mkdir -p "$(dirname "$CSV")"
printf 'seconds,rss_kib,fds,rss_anon_kib\n' >"$CSV" || die "cannot write $CSV"
for vm in "${VMS[@]}"; do
	in_vm "$vm" sh "$TEST_DIR/load.sh" "$stop" </dev/null >/dev/null 2>&1 &
	track_pid $!
done
start=$(now_ms)
next_hup=$HUP_S hups=0
for ((s = SAMPLE_S; s <= SECONDS_TOTAL; s += SAMPLE_S)); do
	while (($(now_ms) - start < s * 1000)); do sleep 0.5; done
	proc_alive "$DOM0_PID" || die "the daemon died $s s into the soak"
	printf '%d,%d,%d,%d\n' "$s" "$(rss_kib VmRSS)" "$(fd_count)" "$(rss_kib RssAnon)" >>"$CSV"
	if ((s >= next_hup && s < SECONDS_TOTAL)); then
		kill -HUP "$DOM0_PID"
		hups=$((hups + 1))
		next_hup=$((next_hup + HUP_S))
	fi
done
: >"$stop"
chmod 0644 "$stop"
for vm in "${VMS[@]}"; do
	wait_for "! compgen -G '$SIM/vms/$vm/home/.qvm-remote/queue/pending/*.auth' >/dev/null" 60
done
sleep 5
idle1=$(idle_fds)

# ---- figures
n=$(($(wc -l <"$CSV") - 1))
third=$((n / 3))
((third >= 1)) || die "too few samples ($n) for thirds"
col() { tail -n +2 "$CSV" | cut -d, -f"$1"; }
first() { col "$1" | head -n "$third"; }
last() { col "$1" | tail -n "$third"; }
for c in 2:rss_kib 4:rss_anon_kib 3:fds; do
	k=${c%%:*} name=${c#*:}
	printf '# %s: start %s, end %s, max %s; median of the first third %s, of the last third %s\n' \
		"$name" "$(col "$k" | head -n 1)" "$(col "$k" | tail -n 1)" "$(col "$k" | sort -n | tail -n 1)" \
		"$(first "$k" | median)" "$(last "$k" | median)"
done
printf '# fds with the daemon idle: %d before the load, %d after\n' "$idle0" "$idle1"
printf '# %d samples in %s; %d SIGHUPs\n' "$n" "$CSV" "$hups"
cat "$SIM"/vms/*/home/soak.tally 2>/dev/null | sort | uniq -c >"$TEST_DIR/tally"
while read -r count kind code; do
	printf '# clients %s: exit %s %d times\n' "$kind" "$code" "$count"
done <"$TEST_DIR/tally"
printf '# dom0 log: %d DONE, %d REJECT/AUTH-FAIL, %d TRUNC, %d ERROR lines\n' \
	"$(grep -c ' DONE ' "$QVM_REMOTE_LOG")" "$(grep -c -E ' (REJECT|AUTH-FAIL) ' "$QVM_REMOTE_LOG")" \
	"$(grep -c ' TRUNC ' "$QVM_REMOTE_LOG")" "$(grep -c ' ERROR ' "$QVM_REMOTE_LOG")"

grep ' ERROR ' "$QVM_REMOTE_LOG" | sed -n 's/.* \(reason=[^=]*\) [a-z_]*=.*/\1/p' | sort | uniq -c |
	head -n 5 | sed 's/^/#   /'
rss_a=$(first 2 | median) rss_b=$(last 2 | median)
fd_a=$(first 3 | median) fd_b=$(last 3 | median)
margin=$((rss_a / 10 > 1024 ? rss_a / 10 : 1024))
((rss_b <= rss_a + margin)) ||
	fail "RSS grew from a median of $rss_a KiB (first third) to $rss_b KiB (last third); allowed $margin KiB"
((fd_b <= fd_a + 3)) || fail "open fds grew from a median of $fd_a (first third) to $fd_b (last third)"
((idle1 <= idle0)) || fail "with the daemon idle it holds $idle1 fds after the load, $idle0 before"
while read -r count kind code; do
	[[ $code == 0 ]] || fail "$count $kind commands ended with exit $code (expected 0)"
done <"$TEST_DIR/tally"
grep -q ' short 0$' "$TEST_DIR/tally" || fail "no command completed"
dom0_stop
