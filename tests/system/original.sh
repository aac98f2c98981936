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
ORIG_CLIENT= ORIG_DAEMON=

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
