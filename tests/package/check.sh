#!/bin/bash
# tests/package/check.sh: build every package and check what is in it
# (`make package-check`; tools/deps.sh package installs what it needs).
#
#   1. make dist: the source tarball every package builds from.
#   2. rpmbuild -bb of each rpm_spec/*.spec.in, filled in as Qubes Builder
#      v2 does (@VERSION@, @REL@, @CHANGELOG@), with Fedora-like compiler
#      flags; each RPM's files, modes, owners and flags against the layout
#      below, its dependencies, and its scriptlets: none enables or starts a
#      service, dom0's %preun stops it on removal.  The packaged programs
#      run (--version).
#   3. dpkg-buildpackage -b -us -uc of debian/ (the qube's client), with
#      the same checks on dpkg -c.
#   4. Every man page renders without a warning (groff -ww, man -l); every
#      setting of lib/config.c is in qubes-remote.conf(5) and no other.
#   5. The bash completions complete what they should.
#   6. The Salt formula: salt-call when Salt is installed, else a YAML and
#      Jinja check with python3 (tests/package/salt_check.py).
#   7. make install DESTDIR=...: the layout, then the installed daemon and
#      client through round trips against the simulator
#      (tests/package/test_installed.sh).
#
# Prints "ok - ..." / "not ok - ..." per check with "# " diagnostics, each
# package's file list, and "N passed, N failed"; exits 1 on any failure.
# QVMR_KEEP=1 keeps the work directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
version=$(cat version) rel=$(cat rel)
work=$(mktemp -d /tmp/qvmr-pkg.XXXXXX) || exit 2
# 0755: the simulated qubes' users run the installed client from here
chmod 0755 "$work"
cleanup() {
	if [[ ${QVMR_KEEP:-0} == 1 ]]; then
		printf '# kept %s\n' "$work"
	else
		rm -rf -- "$work"
	fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

passed=0 failed=0
ok() { printf 'ok - %s\n' "$1"; ((passed++)); }
not_ok() {   # NAME [DETAIL...]
	printf 'not ok - %s\n' "$1"
	shift
	local l
	for l in "$@"; do
		while IFS= read -r line; do printf '#   %s\n' "$line"; done <<<"$l"
	done
	((failed++))
}
check() {   # NAME CONDITION-STATUS [DETAIL...]: ok when status is 0
	local name=$1 st=$2
	shift 2
	if ((st == 0)); then ok "$name"; else not_ok "$name" "$@"; fi
}
section() { printf '# ---- %s\n' "$1"; }
tail_of() { tail -n "${2:-25}" "$1"; }

# A listing line per file: "MODE OWNER:GROUP PATH", man pages without their
# compression suffix (Fedora's rpm and dh_compress gzip them, Debian's rpm
# does not), build-id links left out (rpm makes them), the licence in
# /usr/share/licenses/NAME/ whichever name rpm gives that directory.
norm_rpm() {   # RPM: its files as listed by rpm -qlvp
	rpm -qlvp "$1" 2>/dev/null |
		awk '$NF !~ /^\/usr\/lib\/\.build-id/ && $(NF-2) !~ /^\/usr\/lib\/\.build-id/ {
			path = ($1 ~ /^l/) ? $(NF-2) : $NF
			sub(/\.gz$/, "", path)
			# Debian'"'"'s rpm puts %license in NAME-VERSION/, Fedora'"'"'s in NAME/
			if (path ~ /^\/usr\/share\/licenses\//) {
				if ($1 ~ /^d/) next
				sub(/-[0-9][0-9.]*\//, "/", path)
			}
			print $1, $3 ":" $4, path
		}' | sort -k3
}
norm_deb() {   # DEB: its files as listed by dpkg -c (directories left out)
	dpkg -c "$1" | awk '$1 !~ /^d/ {
			path = $6; sub(/^\./, "", path); sub(/\.gz$/, "", path)
			sub(/\//, ":", $2)
			print $1, $2, path
		}' | sort -k3
}
compare_list() {   # NAME EXPECTED-TEXT GOT-TEXT
	local d
	if d=$(diff <(sort -k3 <<<"$2") <(sort -k3 <<<"$3")); then
		ok "$1"
	else
		not_ok "$1" "< expected, > found:" "$d"
	fi
}

# The layouts.  Every package file is here with its mode; nothing else may
# be in the package.
exp_dom0="\
-rwxr-xr-x root:root /usr/sbin/qvm-remote-dom0
-rw-r--r-- root:root /usr/lib/systemd/system/qvm-remote-dom0.service
-rw-r--r-- root:root /usr/lib/systemd/system-preset/75-qvm-remote-dom0.preset
-rw------- root:root /etc/qubes/remote.conf
drwx------ root:root /etc/qubes/remote.d
drwx------ root:root /var/lib/qvm-remote
drwxr-x--- root:root /var/log/qubes/qvm-remote
-rw-r--r-- root:root /etc/logrotate.d/qvm-remote-dom0
-rw-r--r-- root:root /usr/share/man/man5/qubes-remote.conf.5
-rw-r--r-- root:root /usr/share/man/man8/qvm-remote-dom0.8
-rw-r--r-- root:root /usr/share/bash-completion/completions/qvm-remote-dom0
drwxr-xr-x root:root /etc/qubes/remote-policy.d
drwxr-xr-x root:root /usr/share/qvm-remote
drwxr-xr-x root:root /usr/share/qvm-remote/remote-policy
-rw-r--r-- root:root /usr/share/qvm-remote/remote-policy/readonly.policy
-rw-r--r-- root:root /usr/share/qvm-remote/remote-policy/agent.policy
-rw-r--r-- root:root /usr/share/man/man5/qvm-remote-policy.5
-rw-r--r-- root:root /usr/share/licenses/qvm-remote-dom0/LICENSE"
vm_files="\
-rwxr-xr-x root:root /usr/bin/qvm-remote
-rwxr-xr-x root:root /usr/bin/qvm-remote-agent
-rw-r--r-- root:root /usr/share/man/man1/qvm-remote.1
-rw-r--r-- root:root /usr/share/man/man1/qvm-remote-agent.1
-rw-r--r-- root:root /usr/share/bash-completion/completions/qvm-remote"
exp_vm="$vm_files
-rw-r--r-- root:root /usr/share/licenses/qvm-remote/LICENSE"
exp_webui="\
-rwxr-xr-x root:root /usr/sbin/qvm-remote-webui
-rw-r--r-- root:root /usr/lib/systemd/system/qvm-remote-webui.service
-rw-r--r-- root:root /usr/lib/systemd/system-preset/75-qvm-remote-webui.preset
-rw-r--r-- root:root /usr/share/man/man8/qvm-remote-webui.8
-rw-r--r-- root:root /usr/share/licenses/qvm-remote-webui-dom0/LICENSE"
exp_deb="$vm_files
-rw-r--r-- root:root /usr/share/doc/qvm-remote/changelog.Debian
-rw-r--r-- root:root /usr/share/doc/qvm-remote/copyright"

# The log viewer is another part of the tree; it is packaged once it is
# there (its unit, its man page and a rule that builds it).
webui_present() {
	[[ -f systemd/qvm-remote-webui.service && -f docs/qvm-remote-webui.8 ]] &&
		make -n build-webui >/dev/null 2>&1
}

# A command line that starts or enables a unit: what no scriptlet may run.
bad_systemctl='systemctl([[:space:]]+-[^[:space:]]+)*[[:space:]]+(enable|start|restart|try-restart|reload-or-restart|try-reload-or-restart|reenable|preset|preset-all|isolate)([[:space:]]|$)'

# ------------------------------------------------------------------ dist --
section "make dist"
mkdir -p "$work/rpm/SOURCES" "$work/rpm/SPECS" "$work/logs"
tarball=$work/rpm/SOURCES/qvm-remote-$version.tar.gz
if make --no-print-directory dist DISTDIR="$work/rpm/SOURCES" >"$work/logs/dist.log" 2>&1 &&
	[[ -f $tarball ]]; then
	ok "make dist writes qvm-remote-$version.tar.gz"
else
	not_ok "make dist writes qvm-remote-$version.tar.gz" "$(tail_of "$work/logs/dist.log")"
fi
missing=()
for f in Makefile version rel .qubesbuilder rpm_spec/qvm-remote-dom0.spec.in \
	rpm_spec/qvm-remote-vm.spec.in debian/control debian/rules \
	archlinux/PKGBUILD.in etc/remote.conf systemd/qvm-remote-dom0.service \
	docs/qubes-remote.conf.5 completion/qvm-remote completion/qvm-remote-dom0 \
	client/main.c daemon/main.c lib/config.c; do
	tar -tzf "$tarball" "qvm-remote-$version/$f" >/dev/null 2>&1 || missing+=("$f")
done
check "the tarball holds the sources, the packaging and qvm-remote-$version/ prefix" \
	"${#missing[@]}" "missing: ${missing[*]}"
unwanted=$(tar -tzf "$tarball" 2>/dev/null | grep -E '/(build|build-san|build-fuzz|\.git|node_modules)/' | head -5)
check "the tarball holds no build output or .git" "$([[ -z $unwanted ]]; echo $?)" "$unwanted"

# ----------------------------------------------------- .qubesbuilder --
section "Qubes Builder v2 files"
qb=$(python3 - <<'EOF' 2>&1
import os, yaml
d = yaml.safe_load(open(".qubesbuilder"))
want = {"host": {"rpm"}, "vm": {"rpm", "deb", "archlinux"}}
bad = []
for k, kinds in want.items():
    for kind in kinds:
        for b in d.get(k, {}).get(kind, {}).get("build", []) or ["(none)"]:
            src = b + ".in" if b.endswith(".spec") else b
            if not os.path.exists(src):
                bad.append("%s/%s: %s does not exist" % (k, kind, src))
print("\n".join(bad))
EOF
)
check ".qubesbuilder names host and vm builds that exist" "$([[ -z $qb ]]; echo $?)" "$qb"
placeholders=$(grep -nE '@[A-Z_]+@' rpm_spec/*.spec.in archlinux/PKGBUILD.in |
	grep -vE ':(Version:[[:space:]]+@VERSION@|Release:[[:space:]]+@REL@%\{\?dist\}|@CHANGELOG@|pkgver=@VERSION@|pkgrel=@REL@)$')
check "@VERSION@, @REL@ and @CHANGELOG@ appear only where they are filled in" \
	"$([[ -z $placeholders ]]; echo $?)" "$placeholders"
deb_version=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
check "debian/changelog is at version-rel ($version-$rel)" \
	"$([[ $deb_version == "$version-$rel" ]]; echo $?)" "debian/changelog: $deb_version"
x=$(bash -n archlinux/PKGBUILD.in 2>&1)
check "archlinux/PKGBUILD.in is valid bash" "$([[ -z $x ]]; echo $?)" "$x"

# ---------------------------------------------------------------- rpm --
# make rpm's own builder, with Fedora's flags, which define
# _FORTIFY_SOURCE=3: the specs must cope with it.
section "tools/packages.sh rpm (make rpm)"
declare -A rpm_of
if RPM_OPTFLAGS='-O2 -g -pipe -Wall -Werror=format-security -Wp,-D_FORTIFY_SOURCE=3 -fstack-protector-strong' \
	tools/packages.sh rpm "$work/rpm" >"$work/logs/rpm.out" 2>"$work/logs/rpm.err"; then
	ok "tools/packages.sh rpm builds every RPM"
else
	not_ok "tools/packages.sh rpm builds every RPM" "$(tail_of "$work/logs/rpm.err")"
fi
for in in rpm_spec/*.spec.in; do
	spec=${in##*/}
	spec=${spec%.in}
	if [[ $spec == qvm-remote-webui-dom0.spec ]] && ! webui_present; then
		printf 'skip - rpmbuild %s (the log viewer is not in this tree yet: no unit, man page or build-webui rule)\n' "$spec"
		continue
	fi
	left=$(grep -n '@[A-Z_]*@' "$work/rpm/SPECS/$spec" 2>&1)
	check "$spec: every placeholder filled in" "$([[ -z $left ]]; echo $?)" "$left"
	name=$(rpmspec -q --qf '%{name}\n' --define "_topdir $work/rpm" "$work/rpm/SPECS/$spec" 2>/dev/null | head -1)
	rpm_of[$spec]=$(grep -F "/$name-$version-$rel" "$work/logs/rpm.out" | head -1)
done

# The checks every RPM gets: layout, scriptlets, that its program runs.
rpm_checks() {   # SPEC EXPECTED PROGRAM
	local spec=$1 exp=$2 prog=$3 f=${rpm_of[$1]:-} scripts x
	[[ -n $f && -f $f ]] || { not_ok "$spec: an RPM was built"; return; }
	printf '# rpm -qlvp %s\n' "${f##*/}"
	rpm -qlvp "$f" | sed 's/^/#   /'
	compare_list "$spec: files, modes and owners are the layout" "$exp" "$(norm_rpm "$f")"
	# the scriptlets without their comments
	scripts=$(rpm -qp --scripts "$f" 2>/dev/null | grep -vE '^[[:space:]]*#')
	x=$(grep -nE "$bad_systemctl" <<<"$scripts")
	check "$spec: no scriptlet enables or starts a service" "$([[ -z $x ]]; echo $?)" "$x"
	x=$(grep -nE '%systemd_post|systemd-preset|daemon-reexec' <<<"$scripts")
	check "$spec: no systemd_post or preset call in a scriptlet" "$([[ -z $x ]]; echo $?)" "$x"
	mkdir -p "$work/x/$spec"
	if (cd "$work/x/$spec" && rpm2archive - <"$f" | tar -xzf -) 2>"$work/logs/x-$spec.log" &&
		out=$("$work/x/$spec$prog" --version 2>&1) && [[ $out == *"$version"* ]]; then
		ok "$spec: the packaged $prog runs and is version $version"
	else
		not_ok "$spec: the packaged $prog runs and is version $version" \
			"${out:-}" "$(cat "$work/logs/x-$spec.log")"
	fi
	x=$(rpm -qpL "$f" 2>/dev/null)
	check "$spec: the GPL is its %license" \
		"$([[ $x == /usr/share/licenses/*/LICENSE ]] &&
			grep -q 'GNU GENERAL PUBLIC LICENSE' "$work/x/$spec$x"; echo $?)" "$x"
	# Each unit runs a program of its package, and a preset disables it.
	local unit exe
	for unit in "$work/x/$spec"/usr/lib/systemd/system/*.service; do
		[[ -f $unit ]] || continue
		exe=$(sed -n 's/^ExecStart=-\{0,1\}\([^ ]*\).*/\1/p' "$unit" | head -1)
		check "$spec: ${unit##*/} runs $exe, which the package holds" \
			"$([[ -n $exe && -x $work/x/$spec$exe ]]; echo $?)"
		x=$(cat "$work/x/$spec"/usr/lib/systemd/system-preset/*.preset 2>/dev/null)
		check "$spec: a preset disables ${unit##*/}" \
			"$(grep -qx "disable ${unit##*/}" <<<"$x"; echo $?)" "$x"
	done
}

if [[ -n ${rpm_of[qvm-remote-dom0.spec]:-} ]]; then
	section "the dom0 RPM"
	rpm_checks qvm-remote-dom0.spec "$exp_dom0" /usr/sbin/qvm-remote-dom0
	f=${rpm_of[qvm-remote-dom0.spec]}
	flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$f")
	check "dom0: remote.conf is %config(noreplace); the log is not the package's, so removal keeps it" \
		"$(grep -qx 'cn /etc/qubes/remote.conf' <<<"$flags" &&
			! grep -q 'qvm-remote.log' <<<"$flags"; echo $?)" "$flags"
	req=$(rpm -qp --requires "$f")
	check "dom0: libcrypto through its soname, no library required by name" \
		"$(grep -q '^libcrypto\.so' <<<"$req" && ! grep -q '^openssl-libs' <<<"$req"; echo $?)" "$req"
	# %postun on a copy of /etc/qubes: the keys set aside on removal ($1
	# 0), left in place on an upgrade ($1 1)
	postun=$(rpm -qp --qf '%{POSTUN}\n' "$f")
	etc=$work/postun/etc/qubes
	mkdir -p "$etc/remote.d" && echo key >"$etc/remote.d/work.key"
	sh -c "${postun//\/etc\/qubes/$etc}" postun 1 2>"$work/logs/postun1.log"
	x=$(ls "$etc")
	sh -c "${postun//\/etc\/qubes/$etc}" postun 0 2>"$work/logs/postun0.log"
	check "dom0: %postun leaves the keys on an upgrade, sets them aside on removal and says where" \
		"$([[ $x == remote.d && ! -e $etc/remote.d && $(cat "$etc/remote.d.rpmsave/work.key") == key ]] &&
			grep -q "kept in $etc/remote.d.rpmsave; nothing is authorized now" "$work/logs/postun0.log"; echo $?)" \
		"$x / $(ls "$etc")" "$(cat "$work/logs/postun0.log")"
	preun=$(rpm -qp --qf '%{PREUN}\n' "$f")
	# shellcheck disable=SC2016 # "$1" is the scriptlet's, looked for as text
	check "dom0: %preun stops the service on removal only, guarded" \
		"$(grep -q '"$1" -eq 0' <<<"$preun" &&
			grep -qE 'systemctl stop qvm-remote-dom0(\.service)? .*\|\| :' <<<"$preun"; echo $?)" "$preun"
	unit=$(rpm2archive - <"$f" | tar -xzOf - ./usr/lib/systemd/system/qvm-remote-dom0.service 2>/dev/null)
	check "dom0: the packaged unit runs /usr/sbin/qvm-remote-dom0 with /etc/qubes/remote.conf" \
		"$(grep -qx 'ExecStart=/usr/sbin/qvm-remote-dom0 -c /etc/qubes/remote.conf' <<<"$unit"; echo $?)"
fi
if [[ -n ${rpm_of[qvm-remote-vm.spec]:-} ]]; then
	section "the qube RPM"
	rpm_checks qvm-remote-vm.spec "$exp_vm" /usr/bin/qvm-remote
	x=$(rpm -qp --scripts "${rpm_of[qvm-remote-vm.spec]}")
	check "qube RPM: no scriptlets" "$([[ -z $x ]]; echo $?)" "$x"
fi
if [[ -n ${rpm_of[qvm-remote-webui-dom0.spec]:-} ]]; then
	section "the log viewer RPM"
	rpm_checks qvm-remote-webui-dom0.spec "$exp_webui" /usr/sbin/qvm-remote-webui
	req=$(rpm -qp --requires "${rpm_of[qvm-remote-webui-dom0.spec]}")
	check "webui: libmicrohttpd through its soname, the dom0 package of its version" \
		"$(grep -q '^libmicrohttpd\.so' <<<"$req" && ! grep -qx 'libmicrohttpd' <<<"$req" &&
			grep -qx "qvm-remote-dom0 = $version" <<<"$req"; echo $?)" "$req"
fi

section "rpmlint"
# every finding rpm_spec/qvm-remote.rpmlintrc does not filter, with its reason
rpms=()
for spec in "${!rpm_of[@]}"; do
	[[ -n ${rpm_of[$spec]} ]] && rpms+=("${rpm_of[$spec]}" "$work/rpm/SPECS/$spec")
done
if ((${#rpms[@]})); then
	x=$(rpmlint --ignore-unused-rpmlintrc -r rpm_spec/qvm-remote.rpmlintrc "${rpms[@]}" 2>&1)
	check "rpmlint: no finding in the RPMs and their specs" \
		"$(grep -q ' 0 errors, 0 warnings' <<<"$x" && ! grep -qE ': [WE]: ' <<<"$x"; echo $?)" \
		"$(grep -E ': [WE]: |checked;' <<<"$x")"
fi

# ------------------------------------------------------------- debian --
section "tools/packages.sh deb (make deb): dpkg-buildpackage -b -us -uc"
deb=$(tools/packages.sh deb "$work/deb" 2>"$work/logs/deb.log" | head -1)
if [[ -n $deb ]]; then
	ok "dpkg-buildpackage -b -us -uc builds qvm-remote_${version}-${rel}"
	printf '# dpkg -c %s\n' "${deb##*/}"
	dpkg -c "$deb" | sed 's/^/#   /'
	compare_list "deb: files, modes and owners are the layout" "$exp_deb" "$(norm_deb "$deb")"
	dirs=$(dpkg -c "$deb" | awk '$1 ~ /^d/ && ($1 != "drwxr-xr-x" || $2 != "root/root")')
	check "deb: every directory is 0755 root" "$([[ -z $dirs ]]; echo $?)" "$dirs"
	dpkg-deb -e "$deb" "$work/deb/control"
	x=$(for c in "$work/deb/control"/*; do
		[[ ${c##*/} == @(control|md5sums) ]] || printf '%s\n' "${c##*/}"
	done)
	check "deb: no maintainer scripts" "$([[ -z $x ]]; echo $?)" "$x"
	# the package was never uploaded to Debian: no bug for it to close
	x=$(lintian --pedantic --suppress-tags initial-upload-closes-no-bugs "$deb" 2>&1 |
		grep -v '^running with root privileges')
	check "lintian --pedantic: no finding in the deb" "$([[ -z $x ]]; echo $?)" "$x"
	depends=$(dpkg-deb -f "$deb" Depends)
	check "deb: Depends on libssl3 and libc6 (from shlibs)" \
		"$([[ $depends == *libssl3* && $depends == *libc6* ]]; echo $?)" "Depends: $depends"
	dpkg-deb -x "$deb" "$work/deb/root"
	out=$("$work/deb/root/usr/bin/qvm-remote" --version 2>&1)
	check "deb: the packaged qvm-remote runs and is version $version" \
		"$([[ $out == *"$version"* ]]; echo $?)" "$out"
else
	not_ok "dpkg-buildpackage -b -us -uc builds qvm-remote_${version}-${rel}" \
		"$(tail_of "$work/logs/deb.log" 30)"
fi

# ------------------------------------------------------------ man pages --
section "man pages"
for page in docs/*.[1-9]; do
	w=$(groff -man -ww -z "$page" 2>&1)
	check "$page: groff -man -ww renders it without a warning" "$([[ -z $w ]]; echo $?)" "$w"
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	check "$page: man -l renders it without a warning" "$([[ -z $w ]]; echo $?)" "$w"
done
code_keys=$(grep -oE '"QVM_REMOTE_[A-Z_]+"' lib/config.c | tr -d '"' | sort -u)
man_keys=$(grep -E '^\.B(R)? QVM_REMOTE_[A-Z_]+' docs/qubes-remote.conf.5 |
	grep -oE 'QVM_REMOTE_[A-Z_]+' | sort -u)
d=$(diff <(echo "$code_keys") <(echo "$man_keys"))
check "qubes-remote.conf(5) describes exactly the settings of lib/config.c" \
	"$([[ -z $d ]]; echo $?)" "< only in lib/config.c, > only in the page:" "$d"
d=$(grep -oE '^#?QVM_REMOTE_[A-Z_]+' etc/remote.conf | tr -d '#' | sort -u |
	comm -23 - <(echo "$code_keys"))
check "etc/remote.conf names no setting the daemon does not know" "$([[ -z $d ]]; echo $?)" "$d"

# ---------------------------------------------------------- completion --
section "bash completion"
complete_test() {   # FILE WORD...: what the completion offers for the last word
	bash --norc --noprofile -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		fn=$(complete -p "$1" | sed -E "s/.*-F ([^ ]+).*/\1/")
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		((${#COMPREPLY[@]})) && printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$@"
}
keysdir=$work/keys
mkdir -p "$keysdir"
: >"$keysdir/alpha.key"
: >"$keysdir/beta.key"
export QVM_REMOTE_KEYS_DIR=$keysdir
args=()
while IFS='|' read -r file want words; do
	eval "args=($words)"   # the words as the shell would split them
	got=$(complete_test "completion/$file" "${args[@]}")
	check "completion: ${words//\'\'/\"\"} -> ${want:-nothing}" \
		"$([[ $got == "$want" ]]; echo $?)" "expected: '$want'" "     got: '$got'"
done <<'EOF'
qvm-remote|history key log mcp ping queue status |qvm-remote ''
qvm-remote|key |qvm-remote -t 5 ke
qvm-remote|fingerprint gen import show |qvm-remote key ''
qvm-remote|--force |qvm-remote key gen --
qvm-remote|clean status |qvm-remote queue ''
qvm-remote|--json |qvm-remote --js
qvm-remote||qvm-remote qvm-ls --
qvm-remote||qvm-remote -- key ''
qvm-remote-dom0|approve audit authorize |qvm-remote-dom0 -c /dev/null a
qvm-remote-dom0|deny |qvm-remote-dom0 de
qvm-remote-dom0|--from-vm |qvm-remote-dom0 authorize --
qvm-remote-dom0|alpha beta |qvm-remote-dom0 revoke ''
qvm-remote-dom0|alpha |qvm-remote-dom0 --vm al
qvm-remote-dom0|verify |qvm-remote-dom0 audit ''
qvm-remote-dom0|--yes |qvm-remote-dom0 enable ''
qvm-remote-dom0|--dry-run |qvm-remote-dom0 --dr
EOF
unset QVM_REMOTE_KEYS_DIR

# --------------------------------------------------------------- salt --
section "Salt formula"
if command -v salt-call >/dev/null 2>&1; then
	for sls in qvm-remote.dom0 qvm-remote.vm; do
		if salt-call --local --retcode-passthrough --file-root="$top/salt" \
			--pillar-root="$top/salt/pillar" state.show_sls "$sls" \
			>"$work/logs/salt-$sls.log" 2>&1; then
			ok "salt-call --local state.show_sls $sls"
		else
			not_ok "salt-call --local state.show_sls $sls" "$(tail_of "$work/logs/salt-$sls.log")"
		fi
	done
else
	cand=$(apt-cache policy salt-common 2>/dev/null | awk '/Candidate:/ { print $2 }')
	printf '# salt-call is not installed and Debian 12 has no Salt (apt-cache policy salt-common: %s);\n' \
		"${cand:-no such package}"
	printf '# checking the YAML and Jinja of every state and top file with python3 instead\n'
fi
build_daemon=$top/build/qvm-remote-dom0
make --no-print-directory build-dom0 >"$work/logs/build.log" 2>&1 ||
	not_ok "make build-dom0" "$(tail_of "$work/logs/build.log")"
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "salt: ${line#ok - }" ;;
	"not ok - "*) not_ok "salt: ${line#not ok - }" ;;
	"#"*) printf '%s\n' "$line" ;;
	*) not_ok "salt: unexpected output" "$line" ;;
	esac
done < <(python3 tests/package/salt_check.py salt "$build_daemon" 2>&1)

# ------------------------------------------- installed by rpm and dpkg --
# The README's install, as far as a machine without Qubes goes: each
# package installed with its own tool into a root of its own (no
# scriptlets: they run in dom0), its programs run, its units verify, and
# removal keeps the audit log.
section "rpm -i and dpkg -i into a root of their own"
if [[ -n ${rpm_of[qvm-remote-dom0.spec]:-} ]]; then
	r=$work/rpmroot
	mkdir -p "$r/var/lib/rpm"
	dom0_rpms=("${rpm_of[qvm-remote-dom0.spec]}")
	[[ -n ${rpm_of[qvm-remote-webui-dom0.spec]:-} ]] && dom0_rpms+=("${rpm_of[qvm-remote-webui-dom0.spec]}")
	if rpm --root "$r" --initdb && rpm --root "$r" --nodeps --noscripts -i "${dom0_rpms[@]}" \
		>"$work/logs/rpm-i.log" 2>&1 && out=$("$r/usr/sbin/qvm-remote-dom0" --version 2>&1) &&
		[[ $out == *"$version"* ]]; then
		ok "rpm -i: dom0's packages install, and the installed qvm-remote-dom0 runs"
	else
		not_ok "rpm -i: dom0's packages install, and the installed qvm-remote-dom0 runs" \
			"${out:-}" "$(tail_of "$work/logs/rpm-i.log")"
	fi
	if command -v systemd-analyze >/dev/null 2>&1; then
		# the units as installed, their programs looked for in the root
		mkdir -p "$work/units"
		for u in "$r"/usr/lib/systemd/system/*.service; do
			sed "s#=\(-\{0,1\}\)/usr/sbin/#=\1$r/usr/sbin/#" "$u" >"$work/units/${u##*/}"
		done
		x=$(MANPATH=$r/usr/share/man systemd-analyze verify "$work/units"/*.service 2>&1)
		check "systemd-analyze verify: the installed units load" "$?" "$x"
	else
		printf 'skip - systemd-analyze verify (systemd-analyze is not installed)\n'
	fi
	mkdir -p "$r/var/log/qubes/qvm-remote" && echo line >"$r/var/log/qubes/qvm-remote/qvm-remote.log"
	rpm --root "$r" --nodeps --noscripts -e qvm-remote-webui-dom0 qvm-remote-dom0 \
		>"$work/logs/rpm-e.log" 2>&1
	check "rpm -e: the packages go, the audit log stays" \
		"$([[ ! -e $r/usr/sbin/qvm-remote-dom0 && -f $r/var/log/qubes/qvm-remote/qvm-remote.log ]]; echo $?)" \
		"$(tail_of "$work/logs/rpm-e.log")"
fi
if [[ -n $deb ]]; then
	d=$work/dpkgroot
	mkdir -p "$d/var/lib/dpkg/info" "$d/var/lib/dpkg/updates"
	: >"$d/var/lib/dpkg/status"
	if dpkg --root="$d" --force-depends --force-not-root -i "$deb" >"$work/logs/dpkg-i.log" 2>&1 &&
		out=$("$d/usr/bin/qvm-remote" --version 2>&1) && [[ $out == *"$version"* ]] &&
		[[ -x $d/usr/bin/qvm-remote-agent ]]; then
		ok "dpkg -i: the VM package installs, and the installed qvm-remote runs"
	else
		not_ok "dpkg -i: the VM package installs, and the installed qvm-remote runs" \
			"${out:-}" "$(tail_of "$work/logs/dpkg-i.log")"
	fi
	dpkg --root="$d" --force-not-root -r qvm-remote >"$work/logs/dpkg-r.log" 2>&1
	check "dpkg -r: the VM package goes" "$([[ ! -e $d/usr/bin/qvm-remote ]]; echo $?)" \
		"$(tail_of "$work/logs/dpkg-r.log")"
fi

# ------------------------------------------------------------ install --
section "make install DESTDIR=..."
root=$work/root
if make --no-print-directory install DESTDIR="$root" >"$work/logs/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
	got=$(cd "$root" && find . -mindepth 1 \( -type f -o -type l \) -printf '%M root:root /%P\n' | sort -k3)
	exp=$(printf '%s\n%s\n' "$exp_dom0" "$exp_vm" | grep -v '^d\| /usr/share/licenses/')
	compare_list "make install: the files and their modes" "$exp" "$got"
	dirs=$(cd "$root" && stat -c '%A %n' etc/qubes/remote.d var/lib/qvm-remote var/log/qubes var/log/qubes/qvm-remote etc/qubes/remote-policy.d 2>&1)
	want_dirs=$'drwx------ etc/qubes/remote.d\ndrwx------ var/lib/qvm-remote\ndrwxr-x--- var/log/qubes\ndrwxr-x--- var/log/qubes/qvm-remote\ndrwxr-xr-x etc/qubes/remote-policy.d'
	check "make install: key directory 0700, state 0700, log directories 0750, policy directory 0755" \
		"$([[ $dirs == "$want_dirs" ]]; echo $?)" "$dirs"
	if ls "$root/usr/share/man"/man*/* >/dev/null 2>&1; then
		w=$(for p in "$root"/usr/share/man/man*/*; do LC_ALL=C.UTF-8 man --warnings -l "$p" 2>&1 >/dev/null; done)
		check "make install: the installed man pages render" "$([[ -z $w ]]; echo $?)" "$w"
		w=$(mandoc -T lint -W style "$root"/usr/share/man/man*/* 2>&1)
		check "make install: mandoc -T lint finds nothing in the man pages, style included" \
			"$([[ -z $w ]]; echo $?)" "$w"
	fi
	section "the installed programs against the simulator"
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "installed: ${line#ok - }" ;;
		"not ok - "*) not_ok "installed: ${line#not ok - }" ;;
		"skip - "*) not_ok "installed: ${line#skip - }" ;;
		[0-9]*" passed, "*) ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(QVMR_INSTALL_ROOT=$root tests/system/run.sh "$top/tests/package/test_installed.sh" 2>&1)
else
	not_ok "make install DESTDIR=... PREFIX=/usr" "$(tail_of "$work/logs/install.log")"
fi

printf '%d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
