#!/bin/bash
# tests/clone/check.sh: the README's commands work from any clone, one in a
# 0700 home and under a path with a space included (issue 13).
#
#   tests/clone/check.sh [--worktree] [--full]
#
# Clones this checkout's HEAD into "<0700 dir>/a clone/" and runs there, as
# a newcomer would, `make demo`, then the system files whose VMs run what
# the build made (sim, roundtrip, agent: the client and agent in the VMs,
# the daemon in dom0), through tests/system/run.sh as `make system` does.
# --full runs `make check` there instead (about 15 minutes); --worktree
# copies the uncommitted files of this checkout over the clone first, to
# try a change before it is committed.  Prints "ok - ..." or "not ok - ..."
# per step and exits 1 when one failed.  Run as root: only then are the
# VMs other users, who cannot enter the 0700 directory.  The clone is
# removed at the end unless QVMR_KEEP=1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
worktree=0 full=0
for a in "$@"; do
	case $a in
	--worktree) worktree=1 ;;
	--full) full=1 ;;
	*) printf 'usage: tests/clone/check.sh [--worktree] [--full]\n' >&2; exit 2 ;;
	esac
done
((EUID == 0)) ||
	printf '# not root: the VMs are this user, so the 0700 directory proves nothing\n'

base=$(mktemp -d /tmp/qvmr-clone.XXXXXX) || exit 2
chmod 0700 "$base"
clone="$base/a clone"
failed=0
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	if [[ ${QVMR_KEEP:-0} == 1 ]]; then
		printf '# kept %s\n' "$base"
	else
		rm -rf -- "$base"
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

step() {   # NAME LOG CMD...: run CMD in the clone, its output in LOG
	local name=$1 log=$2 rc=0
	shift 2
	(cd "$clone" && "$@") >"$log" 2>&1 </dev/null || rc=$?
	if ((rc == 0)); then
		printf 'ok - %s\n' "$name"
	else
		printf 'not ok - %s (exit %d); the end of its output:\n' "$name" "$rc"
		tail -n 30 -- "$log" | sed 's/^/#   /'
		failed=1
	fi
	return "$rc"
}

head=$(git -C "$top" rev-parse HEAD) || { echo "not ok - $top is not a git checkout"; exit 1; }
if ! git clone -q --no-checkout -- "$top" "$clone" ||
	! git -C "$clone" checkout -q --detach "$head"; then
	echo "not ok - git clone of $head"
	exit 1
fi
if ((worktree)); then
	# what make dist would pack: tracked files as they are now, and new ones
	# shellcheck disable=SC2016 # expanded by sh
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$clone" ||
		{ echo "not ok - copying the worktree's changes"; exit 1; }
	git -C "$top" ls-files -z --deleted | (cd "$clone" && xargs -0 -r rm -f --)
fi
printf '# clone of %s%s in %s (mode %s)\n' "${head:0:12}" \
	"$( ((worktree)) && echo ' with the worktree changes')" "$clone" "$(stat -c %a "$base")"

if step "make demo in a 0700 clone whose path has a space" "$base/demo.log" make demo; then
	grep -q 'demo finished' "$base/demo.log" ||
		{ echo "not ok - the demo did not finish"; failed=1; }
	# the client and the agent the VMs ran were copies, not the build tree's
	grep -q 'Permission denied' "$base/demo.log" &&
		{ echo "not ok - the demo's output says Permission denied"; failed=1; }
	# quiet: what it shows is what it runs, not the compiler's lines
	grep -q '^cc ' "$base/demo.log" &&
		{ echo "not ok - the demo shows its build"; failed=1; }
	grep -A 2 -F "exit 42'; echo \$?" "$base/demo.log" | grep -qx 42 ||
		{ echo "not ok - the demo's 'echo \$?' did not print 42"; failed=1; }
	grep -q "^qvm-remote: result after [0-9]* ms" "$base/demo.log" ||
		{ echo "not ok - the demo's round trip through the agent"; failed=1; }
fi
if ((full)); then
	step "make check in the clone" "$base/check.log" make check
else
	# shellcheck disable=SC2016 # expanded by the clone's shell
	step "the system files sim, roundtrip and agent in the clone" "$base/system.log" \
		sh -c 'QVMR_BUILD="$PWD/build" tests/system/run.sh sim roundtrip agent'
	grep -E '^[0-9]+ passed, [0-9]+ failed$' "$base/system.log" | sed 's/^/# /'
fi
exit "$failed"
