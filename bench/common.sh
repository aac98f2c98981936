# bench/common.sh - the helpers bench/run.sh and bench/live.sh share;
# sourced.  SIM names the simulated machine's directory, FAILED collects
# a warning.
say() { printf 'bench: %s\n' "$*" >&2; }
warn() { printf 'bench: %s\n' "$*" >&2; FAILED=1; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
now_us() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }
sim() { "$SIM/bin/qubes-sim" "$@"; }
in_vm() { local vm=$1; shift; "$SIM/bin/qubes-sim" exec "$vm" -- "$@" </dev/null; }
# EXPR to DIGITS decimals (1)
calc() { awk "BEGIN { printf \"%.${2:-1}f\n\", $1 }"; }
