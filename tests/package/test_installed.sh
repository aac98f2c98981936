#!/bin/bash
# The installed programs end to end: `make install DESTDIR=$QVMR_INSTALL_ROOT`
# put them there, and the simulated dom0 runs the installed daemon, with the
# installed /etc/qubes/remote.conf, against simulated qubes whose client is
# the installed one.  Run through tests/system/run.sh (tests/package/check.sh
# does), with QVMR_INSTALL_ROOT set.
# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/../system/lib.sh"

root=${QVMR_INSTALL_ROOT:-}
[[ -n $root && -d $root ]] || skip_all "QVMR_INSTALL_ROOT is not an install tree"
QVMR_CLIENT=$root/usr/bin/qvm-remote
QVMR_DAEMON=$root/usr/sbin/qvm-remote-dom0
QVMR_AGENT=$root/usr/bin/qvm-remote-agent
# shellcheck source=tests/system/dom0.sh
. "$(dirname "$0")/../system/dom0.sh"
version=$(cat "$QVMR_TOP/version")

t "the installed programs are the ones of this version"
assert_contains "$("$QVMR_CLIENT" --version 2>&1)" "$version" "qvm-remote --version"
assert_contains "$("$QVMR_DAEMON" --version 2>&1)" "$version" "qvm-remote-dom0 --version"

dom0_setup work dev:bash
# From here on the daemon reads the configuration file the package ships
# (every line a comment: the defaults); the paths stay in the environment.
# shellcheck disable=SC2034 # read by dom0.sh's functions
DOM0_CONF=$root/etc/qubes/remote.conf

t "the installed daemon reads the installed remote.conf and lists both keys"
keys=$(dom0 keys 2>&1)
assert_eq 0 "$?" "qvm-remote-dom0 keys"
assert_contains "$keys" "work" "keys"
assert_contains "$keys" "dev" "keys"

dom0_start

out=$TEST_DIR/out err=$TEST_DIR/err
for vm in work dev; do
	t "$vm: a command runs in dom0 with stdout, stderr and exit code intact"
	in_vm "$vm" qvm-remote 'echo to-out; echo to-err >&2; exit 3' >"$out" 2>"$err"
	assert_eq 3 "$?" "exit code"
	assert_eq to-out "$(cat "$out")" stdout
	assert_eq to-err "$(cat "$err")" stderr
	assert_exit 0 in_vm "$vm" qvm-remote true
done

t "a script on stdin runs, and the VM keeps the history"
# shellcheck disable=SC2016 # expanded by bash in dom0
printf 'a=20\necho $((a + 22))\n' >"$TEST_DIR/s.sh"
assert_eq 42 "$(in_vm work qvm-remote <"$TEST_DIR/s.sh")" "script output"
assert_contains "$(in_vm work qvm-remote history 3)" "echo" "history"

t "the installed daemon's audit log holds the commands, with a valid chain"
assert_contains "$(dom0_log)" "EXEC vm=work" "EXEC line"
assert_contains "$(dom0_log)" "DONE vm=dev" "DONE line"
assert_exit 0 dom0 audit verify

t "the installed daemon stops cleanly on SIGTERM"
dom0_stop
