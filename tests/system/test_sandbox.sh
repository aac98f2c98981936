#!/bin/bash
# L3: what a command leaves behind dies with it.  With a delegated cgroup
# (as under systemd's Delegate=yes) even a process that made its own
# session is killed; without one, the process group is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work
tag=$$

gone() {   # PATTERN: no process's command line matches it
	! pgrep -f "$1" >/dev/null
}

t "without a cgroup, a background child does not outlive its command"
dom0_start
assert_eq started "$(in_vm work qvm-remote "sleep 1000.$tag & echo started")"
wait_for "gone 'sleep 1000.$tag'" 5 || fail "the background sleep survived"
assert_contains "$(dom0_log)" "containment=\"process group\"" "start line"

t "without a cgroup, a timeout kills the command's whole process group"
in_vm work qvm-remote -t 1 "sleep 1001.$tag & sleep 1002.$tag" 2>/dev/null
assert_eq 124 "$?" "exit code"
wait_for "gone 'sleep 100[12].$tag'" 5 || fail "a sleep survived the timeout"
dom0_stop

t "in a delegated cgroup, even a new session dies with its command"
v2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if ((EUID != 0)) || [[ -z $v2 ]]; then
	skip "needs root and a cgroup v2 hierarchy"
else
	cg=$v2/qvmr-test-$tag
	mkdir "$cg" || die "cannot create $cg"
	# the daemon starts inside $cg, as systemd would start it
	(echo "$BASHPID" >"$cg/cgroup.procs" &&
		exec "$QVMR_DAEMON" -c "$DOM0_CONF") >>"$DOM0/daemon.out" 2>&1 &
	DOM0_PID=$!
	track_pid "$DOM0_PID"
	wait_for "grep -q containment=cgroup '$QVM_REMOTE_LOG'" 10 ||
		fail "the daemon did not take the cgroup"
	assert_eq started "$(in_vm work qvm-remote "setsid sleep 1003.$tag & sleep 1004.$tag & echo started")"
	wait_for "gone 'sleep 100[34].$tag'" 5 || fail "a process escaped its command"
	assert_eq "" "$(find "$cg" -mindepth 1 -maxdepth 1 -type d -name 'cmd-*')" \
		"command cgroups left behind"
	in_vm work qvm-remote -t 1 "setsid sleep 1005.$tag & sleep 1006.$tag" 2>/dev/null
	assert_eq 124 "$?" "exit code of the timeout"
	wait_for "gone 'sleep 100[56].$tag'" 5 || fail "a process survived the timeout"
	dom0_stop
	# what the simulator's transport left in the leaf goes with the test
	for p in $(cat "$cg/daemon/cgroup.procs" 2>/dev/null); do kill -KILL "$p"; done
	wait_for "rmdir '$cg/daemon' '$cg' 2>/dev/null" 5 || fail "cannot remove $cg"
fi
