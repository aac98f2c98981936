#!/bin/bash
# qrexec-build.sh [OUTDIR] - build Qubes' own qrexec (qrexec-daemon,
# qrexec-client, qrexec-agent, libqrexec) with the socket vchan backend, so
# the system tests can run against the real transport without Xen
# (sim/qubes-real, `make check-real`).
#
# Sources: QREXEC_SRC and VCHAN_SRC, each a .tar.gz or a directory; by
# default the qubes-core-qrexec-*.tar.gz and qubes-core-vchan-socket-*.tar.gz
# in the third_party directory beside the clone (../shared/third_party/).
# They are unpacked (or copied) under OUTDIR/src and built there, never in
# the source tree or in theirs; nothing of theirs enters this repository.
# OUTDIR/src is removed when done (QREXEC_KEEP_SRC=1 keeps it): its
# directories named *.d would be taken for dependency files by the
# project's Makefile, which includes every *.d under build/.
# OUTDIR (default build/real-qrexec) then holds:
#   bin/qrexec-daemon bin/qrexec-client bin/qrexec-agent
#   lib/libqrexec-utils.so.4 lib/libvchan-socket.so   (found through
#                 an $ORIGIN rpath: OUTDIR may move, or hold a space)
#   share/qrexec.pam.debian   the agent's PAM file, for /etc/pam.d/qrexec
#   build.log     the build's output
#   .built        what was built from; a second run with the same sources
#                 and this same script does nothing
# Debian packages: gcc make pkg-config libpam0g-dev lsb-release (tools/deps.sh
# test).  Without the sources it says "skipped" and how to get them, removes
# OUTDIR/.built and exits 0; callers look for OUTDIR/.built.  Exit 1 when a build fails (its
# log is OUTDIR/build.log).
set -u

prog=qrexec-build
here=$(cd "$(dirname "$0")" && pwd) || exit 2
top=${here%/*}
self=$here/${0##*/}

die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

(($# <= 1)) || { printf 'usage: tools/qrexec-build.sh [OUTDIR]\n' >&2; exit 2; }
out=${1:-$top/build/real-qrexec}

third_party=$(cd -- "$top/.." && pwd)/shared/third_party

# One tarball of a name, or nothing: the last in order when there are several.
find_src() {   # PATTERN
	local f last=""
	for f in "$third_party/"$1; do
		[[ -e $f ]] && last=$f
	done
	printf '%s\n' "$last"
}
qsrc=${QREXEC_SRC:-$(find_src 'qubes-core-qrexec-*.tar.gz')}
vsrc=${VCHAN_SRC:-$(find_src 'qubes-core-vchan-socket-*.tar.gz')}

if [[ -z $qsrc || ! -e $qsrc || -z $vsrc || ! -e $vsrc ]]; then
	printf '%s: skipped: no qrexec sources' "$prog"
	[[ -n $qsrc && ! -e $qsrc ]] && printf " (QREXEC_SRC '%s' does not exist)" "$qsrc"
	[[ -n $vsrc && ! -e $vsrc ]] && printf " (VCHAN_SRC '%s' does not exist)" "$vsrc"
	printf ' in %s;\n' "$third_party"
	printf '%s: to enable the real-transport tier, put qubes-core-qrexec-*.tar.gz and\n' "$prog"
	printf '%s: qubes-core-vchan-socket-*.tar.gz there, or set QREXEC_SRC and VCHAN_SRC\n' "$prog"
	printf '%s: to those tarballs or to source checkouts\n' "$prog"
	# .built now means "built from the sources here": an earlier build
	# is not used without them
	rm -f -- "$out/.built"
	exit 0
fi

# What a build is made of: the sources' contents (a tarball's hash, or a
# directory's files, sizes and times) and this script.
identity() {   # SRC
	if [[ -d $1 ]]; then
		(cd -- "$1" && find . -path ./.git -prune -o -type f -printf '%P %s %T@\n' |
			LC_ALL=C sort | sha256sum)
	else
		sha256sum <"$1"
	fi
}
mkdir -p -- "$out" || die "cannot create '$out'"
out=$(cd -- "$out" && pwd) || die "cannot enter '$out'"
case $out/ in
"$top"/build/* | "$top"/build-*) ;;
"$top"/*) die "'$out' is inside the source tree; give a directory under build/ or outside it" ;;
esac
want=$(printf 'script %s\nqrexec %s\nvchan %s\n' \
	"$(sha256sum <"$self" | cut -d' ' -f1)" \
	"$(identity "$qsrc" | cut -d' ' -f1)" "$(identity "$vsrc" | cut -d' ' -f1)")
if [[ -f $out/.built && $(cat -- "$out/.built") == "$want" ]]; then
	printf '%s: up to date in %s\n' "$prog" "$out"
	exit 0
fi

for p in gcc make pkg-config lsb_release; do
	command -v "$p" >/dev/null 2>&1 ||
		die "'$p' is missing; install the test dependencies: tools/deps.sh test"
done
[[ -f /usr/include/security/pam_appl.h ]] ||
	die "the PAM headers are missing (libpam0g-dev); install them: tools/deps.sh test"

# The sources' Makefiles split paths at spaces: build through an alias
# without any, and link with an $ORIGIN rpath so the result can live in out.
alias=""
b=$out
if [[ $out == *[![:alnum:]/._+-]* ]]; then
	alias=$(mktemp -u /tmp/qvmr-qrexec.XXXXXX) || die "mktemp failed"
	ln -s -- "$out" "$alias" || die "cannot make a path without spaces to build in"
	b=$alias
fi
cleanup() {
	[[ -z $alias ]] || rm -f -- "$alias"
	[[ ${QREXEC_KEEP_SRC:-0} == 1 ]] || rm -rf -- "${out:?}/src"
}
trap cleanup EXIT

unpack() {   # SRC DEST
	mkdir -p -- "$2" || return 1
	if [[ -d $1 ]]; then
		cp -a -- "$1/." "$2/"
	else
		tar -xzf "$1" -C "$2" --strip-components=1 --no-same-owner
	fi
}

rm -f -- "$out/.built"
rm -rf -- "${out:?}/src" "${out:?}/bin" "${out:?}/lib" "${out:?}/include" "${out:?}/share" ||
	die "cannot clear '$out'"
log=$out/build.log
: >"$log" || die "cannot write '$log'"
start=${EPOCHREALTIME//[!0-9]/}
jobs=${QREXEC_JOBS:-2}
if ! (
	set -e
	unpack "$qsrc" "$b/src/qrexec"
	unpack "$vsrc" "$b/src/vchan"
	mkdir -p "$b/bin" "$b/lib/pkgconfig" "$b/include/vchan-socket" "$b/share"
	make -C "$b/src/vchan/vchan" -j"$jobs" libvchan-socket.so vchan-socket.pc \
		PREFIX="$b" LIBDIR="$b/lib" INCLUDEDIR="$b/include"
	install -m 0755 "$b/src/vchan/vchan/libvchan-socket.so" "$b/lib/"
	install -m 0644 "$b/src/vchan/vchan/vchan-socket.pc" "$b/lib/pkgconfig/"
	install -m 0644 "$b/src/vchan/vchan/libvchan.h" "$b/include/vchan-socket/"
	# The .pc file says -lvchan-socket with no -L.  Through the
	# environment, so the Makefiles' own LDFLAGS += still apply; '$$' is
	# make's '$', the quotes keep it from the recipe's shell.
	export PKG_CONFIG_PATH=$b/lib/pkgconfig
	export LDFLAGS="-L$b/lib '-Wl,-rpath,\$\$ORIGIN/../lib'"
	make -C "$b/src/qrexec/libqrexec" -j"$jobs" BACKEND_VMM=socket all
	install -m 0755 "$b/src/qrexec/libqrexec/libqrexec-utils.so.4" "$b/lib/"
	# only the agent itself: its `all` wants pandoc for a man page
	make -C "$b/src/qrexec/agent" -j"$jobs" BACKEND_VMM=socket qrexec-agent
	make -C "$b/src/qrexec/daemon" -j"$jobs" BACKEND_VMM=socket all
	install -m 0755 "$b/src/qrexec/daemon/qrexec-daemon" \
		"$b/src/qrexec/daemon/qrexec-client" "$b/src/qrexec/agent/qrexec-agent" "$b/bin/"
	install -m 0644 "$b/src/qrexec/agent/qrexec.pam.debian" "$b/share/"
	# it runs: the libraries resolve from where the programs are
	if ldd "$b/bin/qrexec-daemon" "$b/bin/qrexec-client" "$b/bin/qrexec-agent" |
		grep 'not found'; then
		exit 1
	fi
) >>"$log" 2>&1; then
	die "the build failed; see $log (last lines: $(tail -n 3 "$log" | tr '\n' ' '))"
fi
printf '%s\n' "$want" >"$out/.built"
took=$(((${EPOCHREALTIME//[!0-9]/} - start) / 1000))
printf '%s: built qrexec-daemon, qrexec-client, qrexec-agent in %s (%d ms)\n' "$prog" "$out" "$took"
