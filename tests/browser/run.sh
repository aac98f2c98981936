#!/bin/sh
# run.sh - qvm-remote-webui in headless Chromium (make browser).
#
# Installs playwright-core at the version package-lock.json pins (npm ci,
# once; node_modules/ is not committed), then runs webui.test.mjs with
# node's own test runner against $QVMR_BUILD/qvm-remote-webui, driving
# Debian's /usr/bin/chromium.  Screenshots go to screenshots/; with
# QVMR_UPDATE_SCREENSHOT=1 the main one is also copied to docs/webui.png.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
: "${QVMR_BUILD:?QVMR_BUILD must name the build directory}"
export QVMR_BUILD

stamp=node_modules/.qvmr-package-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
	echo "browser: installing playwright-core with npm ci"
	if ! npm ci --no-audit --no-fund --loglevel=error; then
		echo "browser: npm ci failed; it needs the npm registry once" >&2
		exit 1
	fi
	cp package-lock.json "$stamp"
fi
exec node --test --test-concurrency=1 --test-reporter=spec webui.test.mjs
