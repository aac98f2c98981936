#!/bin/bash
# Reliability under a kill -9 storm: 500 commands from 4 VMs while the
# daemon is killed with SIGKILL at random moments and restarted each time.
# Nothing runs twice; every client ends with its command's result (0), a
# clear "interrupted" (255) or a rejection (126); none hangs.
#
# Without systemd the commands a killed daemon was running are orphaned and
# may still finish (in production KillMode=control-group kills them): each
# still appends its id at most once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

VMS=(s1 s2 s3 s4)
TOTAL=${STORM_COMMANDS:-500}
BATCH=25
MIN_KILLS=${STORM_KILLS:-20}
BOUND_S=${STORM_BOUND_S:-240}   # the whole storm, clients included
CLIENT_WAIT=240                 # each client's --wait: generous

dom0_setup "${VMS[@]}"
# every daemon of the storm runs with this same configuration
printf '%s\n' QVM_REMOTE_MAX_JOBS=16 QVM_REMOTE_MAX_PER_VM=4 >>"$DOM0_CONF"
ran=$TEST_DIR/ran
: >"$ran"
chmod 0666 "$ran"
# What every command does: its own id into the file, once; its id on
# stdout, so the test knows which client it was; then a short random
# while, so kills find commands running.
body=$TEST_DIR/storm.body
printf '%s\n' "echo \"\$QVM_REMOTE_ID\" >>'$ran'" 'echo "$QVM_REMOTE_ID"' \
	'sleep 0.$((RANDOM % 4))' >"$body"
# One batch of clients in a VM: BATCH NAME COUNT.  Each client's exit
# code goes to ~/storm/rc as "NAME-I CODE".
launch=$TEST_DIR/storm.launch
cat >"$launch" <<EOF
d=\$HOME/storm; mkdir -p "\$d"
i=0
while [ "\$i" -lt "\$2" ]; do
	( qvm-remote -q --wait $CLIENT_WAIT <'$body' >"\$d/\$1-\$i.out" 2>"\$d/\$1-\$i.err"
	  echo "\$1-\$i \$?" >>"\$d/rc" ) &
	i=\$((i + 1))
done
wait
EOF
chmod 0644 "$body" "$launch"

t "kill -9 storm: $TOTAL commands from ${#VMS[@]} VMs, the daemon killed at least $MIN_KILLS times"
start=$(now_ms)
deadline=$((start + BOUND_S * 1000))
per_vm=$((TOTAL / ${#VMS[@]}))
batches=$((per_vm / BATCH))
launchers=()
kills=0 launched=0 b=0 stalls=0
dom0_start
# Batches go out over the first part of the storm, one round of VMs
# between two kills.  Most kills wait until the new daemon has done
# something (a command started or finished, a claim recovered) and then
# come at a random moment, so they land on every phase: fetches, running
# commands, delivers, recovery; every fourth comes at a random moment
# right after the start, during recovery.
log_size() { stat -c %s "$QVM_REMOTE_LOG"; }
# did the daemon do something since the log was SIZE bytes long?
progress_since() {
	tail -c "+$(($1 + 1))" "$QVM_REMOTE_LOG" | grep -q -E '^\[[^]]*\] (EXEC|DONE|DONE-FAIL|RECOVER) '
}
seen=$(log_size)
until ((launched == TOTAL && kills >= MIN_KILLS)); do
	if ((launched < TOTAL)); then
		for vm in "${VMS[@]}"; do
			in_vm "$vm" sh "$launch" "b$b" "$BATCH" </dev/null >/dev/null 2>&1 &
			launchers+=($!)
			track_pid $!
			launched=$((launched + BATCH))
		done
		b=$((b + 1))
	fi
	if ((kills % 4 != 3)); then
		for ((i = 0; i < 100; i++)); do
			progress_since "$seen" && break
			sleep 0.2
		done
		((i < 100)) || stalls=$((stalls + 1))
	fi
	sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
	kill -KILL "$DOM0_PID" 2>/dev/null
	wait "$DOM0_PID" 2>/dev/null
	kills=$((kills + 1))
	DOM0_PID=
	seen=$(log_size)
	dom0_start
	(($(now_ms) < deadline)) || break
done
printf '# %d kills in %d ms; %d clients launched; %d times no progress within 20 s of a restart\n' \
	"$kills" "$(($(now_ms) - start))" "$launched" "$stalls"
# The last daemon lives: every client must end now.
done_count() { cat "$SIM"/vms/s*/home/storm/rc 2>/dev/null | wc -l; }
while (($(done_count) < launched && $(now_ms) < deadline)); do sleep 0.5; done
(($(done_count) >= launched)) ||
	fail "only $(done_count) of $launched clients ended within ${BOUND_S} s: some hang"
printf '# all clients ended after %d ms\n' "$(($(now_ms) - start))"
sleep 1   # an orphaned command (no systemd here) may still be finishing

cat "$SIM"/vms/s*/home/storm/rc >"$TEST_DIR/rcs" 2>/dev/null
declare -A by_code=()
while read -r _ code; do
	by_code[$code]=$((${by_code[$code]:-0} + 1))
done <"$TEST_DIR/rcs"
for code in "${!by_code[@]}"; do
	printf '# exit %s: %d clients\n' "$code" "${by_code[$code]}"
done
printf '# result 0: %d, interrupted 255: %d, rejected 126: %d, other: %d\n' \
	"${by_code[0]:-0}" "${by_code[255]:-0}" "${by_code[126]:-0}" \
	$(($(wc -l <"$TEST_DIR/rcs") - ${by_code[0]:-0} - ${by_code[255]:-0} - ${by_code[126]:-0}))
assert_eq "$launched" "$(wc -l <"$TEST_DIR/rcs")" "clients that ended"
for code in "${!by_code[@]}"; do
	case $code in 0 | 126 | 255) ;;
	*)
		fail "${by_code[$code]} clients ended with $code (only 0, 126 or 255 are allowed)"
		grep " $code\$" "$TEST_DIR/rcs" | head -n 5 | while read -r name _; do
			vm=$(grep -l . "$SIM"/vms/s*/home/storm/"$name".err 2>/dev/null | head -n 1)
			printf '#   %s: %s\n' "$name" "$(head -c 300 "$SIM"/vms/s*/home/storm/"$name".err | tr '\n' ' ')"
		done ;;
	esac
done

# at most once: no id twice in the file
runs=$(wc -l <"$ran")
twice=$(sort "$ran" | uniq -d)
printf '# runs recorded: %d (distinct %d)\n' "$runs" "$(sort -u "$ran" | wc -l)"
assert_eq "" "$twice" "ids that ran more than once"
# a result 0 is a run: its id (the client's stdout) is in the file once
missing=0
while read -r name code; do
	[[ $code == 0 ]] || continue
	id=$(cat "$SIM"/vms/s*/home/storm/"$name".out 2>/dev/null)
	if [[ -z $id ]] || ! grep -qxF -- "$id" "$ran"; then
		((missing++ < 5)) && fail "client $name got 0 but its run is not recorded (stdout '$id')"
	fi
done <"$TEST_DIR/rcs"
((missing == 0)) || fail "$missing clients with result 0 have no recorded run"
interrupted_ran=$((runs - ${by_code[0]:-0}))
printf '# interrupted commands that had run anyway (orphans): %d of %d\n' \
	"$interrupted_ran" "${by_code[255]:-0}"
((runs <= ${by_code[0]:-0} + ${by_code[255]:-0})) ||
	fail "$runs runs recorded, more than the $((${by_code[0]:-0} + ${by_code[255]:-0})) clients that ran or were interrupted"
# nothing stranded once the dust settles: every claim resolved, the
# outbox empty
settled() {
	local vm
	for vm in "${VMS[@]}"; do
		[[ -z $(ls "$(vm_queue "$vm")/running") && -z $(ls "$(vm_queue "$vm")/pending") ]] || return 1
		[[ -z $(ls "$QVM_REMOTE_STATE_DIR/outbox/$vm" 2>/dev/null) ]] || return 1
	done
}
wait_for settled 20 || {
	for vm in "${VMS[@]}"; do
		printf '#   %s: running/ %s; pending/ %s; outbox %s\n' "$vm" \
			"$(ls "$(vm_queue "$vm")/running" | head -n 4 | tr '\n' ' ')" \
			"$(ls "$(vm_queue "$vm")/pending" | head -n 4 | tr '\n' ' ')" \
			"$(ls "$QVM_REMOTE_STATE_DIR/outbox/$vm" 2>/dev/null | head -n 4 | tr '\n' ' ')"
	done
	fail "claims or results left behind after the storm"
}
printf '# RECOVER lines: %d interrupted, %d released\n' \
	"$(grep -c 'RECOVER.*action=interrupted' "$QVM_REMOTE_LOG")" \
	"$(grep -c 'RECOVER.*action=released' "$QVM_REMOTE_LOG")"
dom0_stop
