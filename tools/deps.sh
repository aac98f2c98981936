#!/bin/sh
# deps.sh build|test|package - make sure the Debian packages a target needs
# are here.
# As root, installs what is missing with apt-get; otherwise prints the exact
# command to run and stops, so nothing is installed behind a user's back.
set -eu

build="gcc make pkg-config libssl-dev libjansson-dev libmicrohttpd-dev"
test="$build libcmocka-dev dash bash coreutils util-linux passwd procps openssl faketime strace jq
	xvfb zenity xdotool
	chromium nodejs npm curl libpam0g-dev lsb-release"
optional_test="clang libclang-rt-14-dev valgrind"
# make package-check: rpmbuild, dpkg-buildpackage, man page and Salt checks
package="rpm rpmlint lintian dpkg-dev debhelper fakeroot groff-base man-db mandoc python3-yaml
	python3-jinja2 libmicrohttpd-dev bash-completion"

case "${1:-}" in
build) want=$build ;;
test) want="$test $optional_test" ;;
package) want="$test $package" ;;
*) echo "usage: tools/deps.sh build|test|package" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	# a Node.js from elsewhere counts (NodeSource's nodejs bundles npm and
	# conflicts with Debian's npm package)
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "qvm-remote: missing packages:$missing" >&2
	echo "qvm-remote: install them with: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "qvm-remote: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
