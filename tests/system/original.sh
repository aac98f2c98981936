# shellcheck shell=bash
# tests/system/original.sh: the original Python qvm-remote (issue 17), its
# users' own programs, for the cases where they meet this one.  The archive
# lies in the third_party directory beside the clone; it is unpacked into
# $TEST_DIR at test time and never copied into the repository.  Source
# after lib.sh and dom0.sh:
#
#   original_unpack       ORIG_CLIENT and ORIG_DAEMON name its two programs;
#                         skips the whole file, saying why, where the
#                         archive or python3 is missing
#   orig VM ARGS...       the original client in VM, as its user, stdin
#                         from /dev/null
#   orig_dom0_start VM    the original daemon in the background, serving
#                         VM with VM's key; its fixed paths (/etc/qubes,
#                         /var/log/qubes, /var/run, /home/user) are set to
#                         $ORIG_DOM0 and the VM's home before its main()
#                         runs; its log is $ORIG_DOM0/log
ORIG_CLIENT= ORIG_DAEMON= ORIG_DOM0=

original_unpack() {
	local tp tarball
	tp=$(cd "$QVMR_TOP/.." && pwd)/shared/third_party
	tarball=$(ls "$tp"/qvm-remote-original-*.tar.gz 2>/dev/null | head -n 1)
	[[ -n $tarball ]] || skip_all "no qvm-remote-original-*.tar.gz in $tp"
	command -v python3 >/dev/null || skip_all "the original qvm-remote needs python3"
	mkdir -p "$TEST_DIR/original" &&
		tar -xzf "$tarball" -C "$TEST_DIR/original" || die "cannot unpack $tarball"
	ORIG_CLIENT=$(ls "$TEST_DIR"/original/*/vm/qvm-remote)
	ORIG_DAEMON=$(ls "$TEST_DIR"/original/*/dom0/qvm-remote-dom0)
	[[ -f $ORIG_CLIENT && -f $ORIG_DAEMON ]] || die "$tarball holds no vm/qvm-remote and dom0/qvm-remote-dom0"
	chmod -R a+rX "$TEST_DIR/original"
}

orig() { local vm=$1; shift; in_vm "$vm" python3 "$ORIG_CLIENT" "$@" </dev/null; }

orig_dom0_start() {
	ORIG_DOM0=$TEST_DIR/orig-dom0
	mkdir -p "$ORIG_DOM0/keys" && : >"$ORIG_DOM0/remote.conf" &&
		vm_keyhex "$1" >"$ORIG_DOM0/keys/$1.key" || die "cannot set up the original dom0"
	python3 - "$ORIG_DAEMON" "$ORIG_DOM0" "$SIM/vms/$1/home/.qvm-remote" "$1" \
		>>"$ORIG_DOM0/daemon.out" 2>&1 <<'PYEOF' &
import importlib.machinery, importlib.util, sys
from pathlib import Path
prog, base, data, vm = sys.argv[1:5]
loader = importlib.machinery.SourceFileLoader("original_dom0", prog)
spec = importlib.util.spec_from_loader("original_dom0", loader)
d = importlib.util.module_from_spec(spec)
loader.exec_module(d)
d.CONF, d.KEYS_DIR = Path(base, "remote.conf"), Path(base, "keys")
d.WORK_DIR, d.LOG_FILE = Path(base, "run"), Path(base, "log")
d.vm_data_dir = lambda: data
sys.argv = ["qvm-remote-dom0", "--vm", vm]
sys.exit(d.main())
PYEOF
	track_pid $!
	wait_for "grep -q 'Listening for commands' '$ORIG_DOM0/log' 2>/dev/null" 30 ||
		die "the original dom0 did not start: $(tail -n 5 "$ORIG_DOM0/daemon.out")"
}
