# bench/common.sh - the helpers bench/run.sh and bench/live.sh share;
# sourced.  SIM names the simulated machine's directory, FAILED collects
# a warning; `build` names the build whose programs are measured.

# shellcheck disable=SC2034 # used by the scripts that source this
CLIENT=$build/qvm-remote DAEMON=$build/qvm-remote-dom0 \
	PROBE=$build/qvmr-bench-probe AGENT=$build/qvm-remote-agent
export QUBES_REAL_QREXEC=${QUBES_REAL_QREXEC:-$build/real-qrexec/bin}

# bench_args HELP ARG...: --quick, --out DIR and --transport T into quick,
# out and transport (as given: the script checks it); --help prints the
# lines HELP (a sed address) of the script's header.
bench_args() {
	local help=$1
	shift
	quick=0 out= transport=
	while (($#)); do
		case $1 in
		--quick) quick=1 ;;
		--out) (($# >= 2)) || { echo "bench: --out needs a directory" >&2; exit 2; }; out=$2; shift ;;
		--transport)
			(($# >= 2)) || { echo "bench: --transport needs a value; see: bench/${0##*/} --help" >&2; exit 2; }
			transport=$2
			shift
			;;
		-h | --help) sed -n "${help}p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "bench: unknown argument '$1'; see: bench/${0##*/} --help" >&2; exit 2 ;;
		esac
		shift
	done
}
say() { printf 'bench: %s\n' "$*" >&2; }
warn() { printf 'bench: %s\n' "$*" >&2; FAILED=1; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
now_us() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }
sim() { "$SIM/bin/qubes-sim" "$@"; }
in_vm() { local vm=$1; shift; "$SIM/bin/qubes-sim" exec "$vm" -- "$@" </dev/null; }
# EXPR to DIGITS decimals (1)
calc() { awk "BEGIN { printf \"%.${2:-1}f\n\", $1 }"; }
