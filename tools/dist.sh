#!/bin/bash
# dist.sh OUTDIR VERSION - write OUTDIR/qvm-remote-VERSION.tar.gz, the source
# tarball the packages build from (the specs' Source0), with every file
# under qvm-remote-VERSION/.
#
# The files are those git knows about (tracked, or untracked and not
# ignored), so a working tree with new files still makes a complete
# tarball; outside git, the tree minus build output.  The archive is
# reproducible: sorted names, owner root, one mtime (SOURCE_DATE_EPOCH, else
# the last commit's time), gzip without a time stamp.
set -euo pipefail
cd "$(dirname "$0")/.."

(($# == 2)) || { echo "usage: tools/dist.sh OUTDIR VERSION" >&2; exit 2; }
outdir=$1 version=$2
[[ $version =~ ^[0-9]+(\.[0-9]+)*$ ]] ||
	{ echo "dist: version '$version' is not N.N.N; fix the version file" >&2; exit 1; }
name=qvm-remote-$version
mkdir -p -- "$outdir"
out=$(cd "$outdir" && pwd)/$name.tar.gz

list_files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . \( -name .git -o -name build -o -name build-san \
			-o -name build-fuzz -o -name node_modules \) -prune \
			-o \( -type f -o -type l \) -print0 | sed -z 's,^\./,,'
	fi
}

# Leave out earlier tarballs and what a Debian build leaves in the tree;
# keep only files that still exist (a tracked file may be deleted).
files=()
while IFS= read -r -d '' f; do
	case $f in
	qvm-remote-*.tar.gz | debian/.debhelper/* | debian/qvm-remote/* | \
		debian/tmp/* | debian/files | debian/*.substvars | \
		debian/debhelper-build-stamp | debian/*.debhelper.log) continue ;;
	esac
	[[ -e $f || -L $f ]] && files+=("$f")
done < <(list_files)
((${#files[@]})) || { echo "dist: no files found" >&2; exit 1; }

epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
printf '%s\0' "${files[@]}" |
	tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime="@$epoch" --mode='u+rw,go-w,go+rX' \
		--transform "s,^,$name/," -cf - |
	gzip -9n >"$tmp"
mv -- "$tmp" "$out"
trap - EXIT
printf 'dist: %s (%d files)\n' "$out" "${#files[@]}"
