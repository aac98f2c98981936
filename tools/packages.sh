#!/bin/bash
# packages.sh rpm|deb OUTDIR - build the packages of this tree into OUTDIR
# (make rpm, make deb; tests/package/check.sh builds through it too).
#
#   rpm: the source tarball (tools/dist.sh) into OUTDIR/SOURCES, the specs
#        with @VERSION@, @REL@ and @CHANGELOG@ filled in (as Qubes Builder
#        fills them: an entry with the latest commit subjects) into
#        OUTDIR/SPECS, and rpmbuild -bb of each into OUTDIR/RPMS/ARCH/:
#        qvm-remote-dom0 and qvm-remote-webui-dom0 for dom0, qvm-remote
#        for the template.  On a system whose packages are not rpm's
#        (Debian), without rpm's dependency check and debuginfo.
#        RPM_OPTFLAGS, when set, are the compiler flags rpm passes.
#   deb: the tarball unpacked in OUTDIR and dpkg-buildpackage -b -us -uc:
#        OUTDIR/qvm-remote_VERSION-REL_ARCH.deb, for a Debian template.
#
# Prints the path of each package built; logs go to OUTDIR/*.log.  Exit 0,
# or 1 when a build failed (its log's end on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."

(($# == 2)) && [[ $1 == @(rpm|deb) ]] ||
	{ echo "usage: tools/packages.sh rpm|deb OUTDIR" >&2; exit 2; }
kind=$1
mkdir -p -- "$2"
out=$(cd "$2" && pwd)
version=$(cat version) rel=$(cat rel)

failed() {   # WHAT LOG
	printf 'packages: %s failed; the end of %s:\n' "$1" "$2" >&2
	tail -n 25 "$2" >&2
	exit 1
}

# The viewer's package needs libmicrohttpd to build.
webui_buildable() {
	pkg-config --exists libmicrohttpd 2>/dev/null
}

if [[ $kind == rpm ]]; then
	mkdir -p "$out/SOURCES" "$out/SPECS"
	tools/dist.sh "$out/SOURCES" "$version" >"$out/dist.log" 2>&1 ||
		failed "make dist" "$out/dist.log"
	changelog=$out/changelog
	{
		printf '* %s qvm-remote maintainers <maintainers@qvm-remote.invalid> - %s-%s\n' \
			"$(LC_ALL=C date -u '+%a %b %d %Y')" "$version" "$rel"
		# '%' doubled: rpm expands macros in the changelog
		git log -n 10 --format='- %s' 2>/dev/null | sed 's/%/%%/g' | grep . ||
			echo "- Package of the working tree"
	} >"$changelog"
	opts=(--define "_topdir $out")
	if ! rpm -q --quiet rpm 2>/dev/null; then
		opts+=(--nodeps --define 'debug_package %{nil}')
	fi
	[[ -n ${RPM_OPTFLAGS:-} ]] && opts+=(--define "optflags $RPM_OPTFLAGS")
	for in in rpm_spec/*.spec.in; do
		spec=${in##*/}
		spec=${spec%.in}
		[[ $spec == qvm-remote-webui-dom0.spec ]] && ! webui_buildable && continue
		awk -v v="$version" -v r="$rel" -v cl="$changelog" '
			/@CHANGELOG@/ { while ((getline l < cl) > 0) print l; next }
			{ gsub(/@VERSION@/, v); gsub(/@REL@/, r); print }' "$in" >"$out/SPECS/$spec"
		rpmbuild -bb "${opts[@]}" "$out/SPECS/$spec" >"$out/$spec.log" 2>&1 ||
			failed "rpmbuild -bb $spec" "$out/$spec.log"
		name=$(rpmspec -q --qf '%{name}\n' "${opts[@]:0:2}" "$out/SPECS/$spec" 2>/dev/null | head -n 1)
		find "$out/RPMS" -name "$name-$version-$rel*.rpm"
	done
else
	tools/dist.sh "$out" "$version" >"$out/dist.log" 2>&1 ||
		failed "make dist" "$out/dist.log"
	rm -rf -- "$out/qvm-remote-$version"
	tar -C "$out" -xzf "$out/qvm-remote-$version.tar.gz"
	(cd "$out/qvm-remote-$version" && dpkg-buildpackage -b -us -uc) >"$out/deb.log" 2>&1 ||
		failed "dpkg-buildpackage" "$out/deb.log"
	find "$out" -maxdepth 1 -name "qvm-remote_${version}-${rel}_*.deb"
fi
