#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Replay and freshness across restarts and clock jumps (L1).  The attacker
# is a process in the VM that copies a request's files and plants them
# again later, with any body when the token is a legacy v1 one (it covers
# only the id).  dom0's clock comes from the clock VM, so it can be wrong
# at one start: the daemon is started under libfaketime for that (Debian
# package faketime, in tools/deps.sh's test list).  Every command appends a
# line to a marker file, so a case can count how often it ran.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[[ -e $f ]] && FAKETIME_LIB=$f && break
done
[[ -n $FAKETIME_LIB ]] || skip_all "libfaketime is not installed (tools/deps.sh test)"

dom0_setup work
printf 'QVM_REMOTE_LEGACY_AUTH=work\n' >"$DOM0_CONF"
cd "$TEST_DIR" || die "cannot enter $TEST_DIR"
M=$TEST_DIR/marker   # case NAME's command appends a line to $M.NAME
err=$TEST_DIR/err
key=$(vm_keyhex work)
wq=$(vm_queue work)
store=$QVM_REMOTE_STATE_DIR/replay/work

# The daemon with its clock moved by OFFSET (libfaketime's "+2d").  The
# sanitizer build's runtime must come first, unless told not to check.
dom0_start_skewed() {   # OFFSET
	LD_PRELOAD=$FAKETIME_LIB FAKETIME=$1 \
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		"$QVMR_DAEMON" -c "$DOM0_CONF" >>"$DOM0/daemon.out" 2>&1 &
	DOM0_PID=$!
	track_pid "$DOM0_PID"
}

# A start of the daemon whose clock is OFFSET ahead: it opens the replay
# store (the "polling" line comes after), fetches once, and stops.
start_ahead_and_stop() {   # OFFSET
	local before
	before=$(grep -c "INFO vm=work action=polling" "$QVM_REMOTE_LOG")
	dom0_start_skewed "$1"
	wait_for "(( \$(grep -c 'INFO vm=work action=polling' '$QVM_REMOTE_LOG') > $before ))" 20 ||
		fail "the daemon with its clock ahead never polled work"
	dom0_stop
}

body_for() {   # NAME [TEXT]: writes the body file and prints its path
	printf '%s\n' "${2:-echo ran >>'$M.$1'}" >"$TEST_DIR/body.$1"
	printf '%s\n' "$TEST_DIR/body.$1"
}

runs() {   # NAME: how often case NAME's command ran
	if [[ -e $M.$1 ]]; then wc -l <"$M.$1"; else echo 0; fi
}

# A planted request that runs: exit 0 in results/.
expect_ran() {   # CID
	wait_result work "$1" || { fail "no result for $1 within 20 s"; return 1; }
	assert_eq 0 "$(cat "$wq/results/$1.exit")" "exit code in results/"
}

# A rejected request: status=rejected, exit 126, REASON in .meta, AUTH-FAIL
# in dom0's log for it.
expect_refused() {   # CID REASON
	wait_result work "$1" || { fail "no result for $1 within 20 s"; return 1; }
	assert_eq 126 "$(cat "$wq/results/$1.exit")" "exit code in results/"
	assert_eq rejected "$(meta_field work "$1" status)" "status in .meta"
	assert_contains "$(meta_field work "$1" reason)" "$2" "reason in .meta"
	assert_contains "$(grep -F " id=$1 " "$QVM_REMOTE_LOG" | tail -n 1)" \
		"AUTH-FAIL vm=work id=$1 " "the AUTH-FAIL line in dom0's log"
}

replant() {   # CID BODY AUTH: the results of the first run are gone first
	rm -f -- "$wq/results/$1".*
	plant work "$1" "$2" "" "" "$3"
}

dom0_start

t "replay of a used v1 token after the store's window: refused, whatever the new body"
cid=$(make_cid)
tok=$(v1_token "$key" "$cid")
plant work "$cid" "$(body_for v1first)" "" "" "$tok"
expect_ran "$cid"
assert_eq 1 "$(runs v1first)" "runs of the original"
dom0_stop
# two days later by dom0's clock: past max age and the store's old window
dom0_start_skewed +2d
replant "$cid" "$(body_for v1again)" "$tok"
expect_refused "$cid" "stale request"
assert_eq 0 "$(runs v1again)" "runs of the re-planted body"
dom0_stop
dom0_start

t "stale v1 cid: a valid legacy token on a 2-day-old id is refused"
cid=$(make_cid $(($(date +%s) - 2 * 86400)))
plant work "$cid" "$(body_for v1stale)" "" "" "$(v1_token "$key" "$cid")"
expect_refused "$cid" "stale request"
assert_eq 0 "$(runs v1stale)" "runs"

t "a legacy v1 token on a fresh id runs (the control for the rows above)"
cid=$(make_cid)
plant work "$cid" "$(body_for v1fresh)" "" "" "$(v1_token "$key" "$cid")"
expect_ran "$cid"
assert_eq 1 "$(runs v1fresh)" "runs"

t "a ping id under a v1 token runs the ping, and nothing else: another body is refused, its claim dropped without a result"
cid=ping-$(date +%s%N)-4242
printf 'true\n' >"$TEST_DIR/body.ping"
plant work "$cid" "$TEST_DIR/body.ping" "" "" "$(v1_token "$key" "$cid")"
expect_ran "$cid"
cid=ping-$(date +%s%N)-4243
plant work "$cid" "$(body_for ping)" "" "" "$(v1_token "$key" "$cid")"
wait_for "grep -q '\\] REJECT vm=work id=$cid ' '$QVM_REMOTE_LOG'" 20 || fail "no refusal of $cid in dom0's log"
assert_contains "$(grep "id=$cid " "$QVM_REMOTE_LOG")" "ping" "its reason"
# the original client's ping reads a result as "responding": none comes
wait_for "! compgen -G '$wq/running/$cid*' >/dev/null" 20 || fail "its claim stays in running/"
[[ ! -e $wq/results/$cid.exit ]] || fail "a result was written"
assert_eq 0 "$(runs ping)" "runs"

t "the clock that ran ahead: after a start two days ahead and one on time, a re-planted request is refused as a replay"
cid=$(make_cid)
ahead_t=$(date +%s)   # not before the second the cid names
b=$(body_for ahead)
tok=$(v2_token "$key" "$cid" "$b")
plant work "$cid" "$b" "" "" "$tok"
expect_ran "$cid"
dom0_stop
start_ahead_and_stop +2d
dom0_start
replant "$cid" "$b" "$tok"
expect_refused "$cid" "replayed request"
assert_eq 1 "$(runs ahead)" "runs"
ahead_cid=$cid ahead_body=$b ahead_tok=$tok

t "the clock that ran ahead over a busy store: what it forgot is refused, a new command runs"
dom0_stop
# a busy VM's store: more than the store ever drops below (1024) with ids
# an hour old, written as the daemon writes them
old=$(($(date +%s) - 3600))
stamp=$(date -u -d "@$old" +%Y%m%d-%H%M%S)
for ((i = 0; i < 1100; i++)); do
	printf '%s-1-%08x %s\n' "$stamp" "$i" "$old"
done >>"$store"
start_ahead_and_stop +2d
grep -q '^floor ' "$store" || fail "no floor in the store after it forgot"
assert_eq 1 "$(wc -l <"$store")" "lines in the store after it forgot"
dom0_start
replant "$ahead_cid" "$ahead_body" "$ahead_tok"
expect_refused "$ahead_cid" "older than the ids dom0 still remembers"
assert_eq 1 "$(runs ahead)" "runs"
# the floor is the second after the newest id forgotten: a later id is new
wait_for "(( \$(date +%s) > $ahead_t ))" 5
assert_eq ok "$(in_vm work qvm-remote echo ok 2>"$err")" "a new command from work"
dom0_stop

t "the daemon's log stays verified"
assert_exit 0 dom0 audit verify
