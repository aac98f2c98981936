#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Issue 15, the ask flow (docs/protocol.md 5b): a request the policy asks
# about waits in dom0 until a person answers it with qvm-remote-dom0
# approve or deny, the VM withdraws it, or the time runs out; the VM's
# client is told (notes) and says so; a policy edited or a key revoked
# while it waits decides again; a flood of asks is bounded; the answers
# come only from dom0's root.  Every command that must not run would
# create a marker in $TEST_DIR.
# run.sh limit: 420 s (asks waited out, restarts)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

need_root || skip_all "the policy's users and the runtime directory: needs root"
dom0_setup work other third:bash
M=$TEST_DIR/marker
err=$TEST_DIR/err
out=$TEST_DIR/out
P=$QVM_REMOTE_POLICY_DIR
RUN=$QVM_REMOTE_RUNTIME_DIR
chmod 0777 "$TEST_DIR"
at_exit "chmod 0755 '$TEST_DIR'"
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_ASK_TIMEOUT=60 \
	QVM_REMOTE_ASK_PROMPT=none >"$DOM0_CONF"

policy() {   # NAME: $P/NAME from stdin, through a rename
	mkdir -p "$P" && chmod 0755 "$P" || return 1
	cat >"$P/.$1.tmp" && chmod 0644 "$P/.$1.tmp" && mv -f "$P/.$1.tmp" "$P/$1"
}
policy 10-ask.policy <<EOF
work      ask       touch $M.*
work      ask       cat *
work      ask       @script
work      allow     echo ...
work      ask       sleep *
third     ask       touch $M.*
other     ask       touch $M.*
EOF
ask_of() {   # CID: the ID of what waits for it, from asks/
	grep -l -F " cid=$1 " "$RUN"/asks/* 2>/dev/null | head -n 1 | xargs -r basename
}
wait_ask() {   # CID: until it waits
	wait_for "[[ -n \$(ask_of '$1') ]]" 20
}
last_id() {   # VM: the id of the VM's last request, from its audit.log
	sed -n 's/.* SUBMIT id=\([^ ]*\) .*/\1/p' "$SIM/vms/$1/home/.qvm-remote/audit.log" | tail -n 1
}
policy_line() {   # CID ACTION: its POLICY line of that action
	grep -F "] POLICY vm=" "$QVM_REMOTE_LOG" | grep -F " id=$1 " | grep -F " action=$2 "
}
# plant_argv VM CID ARG...: a signed exact-argv request written by hand
plant_argv() {
	local vm=$1 cid=$2 key
	shift 2
	key=$(vm_keyhex "$vm")
	printf '%s\0' "$@" >"$TEST_DIR/body.$cid"
	printf 'form=argv\n' >"$TEST_DIR/opt.$cid"
	plant "$vm" "$cid" "$TEST_DIR/body.$cid" "$TEST_DIR/opt.$cid" "" \
		"$(v2_token "$key" "$cid" "$TEST_DIR/body.$cid" "$TEST_DIR/opt.$cid")"
}
note_of() {   # VM CID: the note dom0 wrote into running/
	cat "$(vm_queue "$1")/running/$2.note" 2>/dev/null
}

dom0_start
wait_for "grep -q 'policy loaded' '$QVM_REMOTE_LOG'" 20 || die "the daemon did not start"

t "ask: the request waits in dom0, its file names the VM, the vector and the rule; the VM gets a note"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.approved"
wait_ask "$cid" || fail "no asks/ file"
id=$(ask_of "$cid")
a=$(cat "$RUN/asks/$id")
assert_contains "$a" " ASK id=$id vm=work cid=$cid user=root form=argv " "the ASK line"
assert_contains "$a" "rule=$P/10-ask.policy:1" "its rule"
assert_contains "$a" "cmd=\"touch $M.approved\"" "its command, as words"
assert_eq 600 "$(stat -c %a "$RUN/asks/$id")" "the file's mode"
assert_eq 700 "$(stat -c %a "$RUN/asks")" "the directory's mode"
assert_contains "$(policy_line "$cid" ask)" "ask=$id form=argv user=root timeout=300 expires=" "the POLICY line"
wait_for "[[ -n \$(note_of work '$cid') ]]" 10 || fail "no note in running/"
assert_contains "$(note_of work "$cid")" "status=asking" "the note's status"
assert_contains "$(note_of work "$cid")" \
	"reason=waiting for approval in dom0 (ask: $P/10-ask.policy:1)" "the note's reason"
sleep 1
[[ ! -e $M.approved ]] || fail "it ran before anyone approved it"
[[ ! -e $(vm_queue work)/results/$cid.exit ]] || fail "a result came before an answer"

t "approve: it runs, the log says who approved it and how, before its EXEC line"
dom0 approve "$id" >"$out" 2>"$err"
assert_eq 0 "$?" "approve's exit status ($(cat "$err"))"
assert_contains "$(cat "$out")" "approved" "approve says so"
wait_result work "$cid" || fail "no result after the approval"
assert_eq ok "$(meta_field work "$cid" status)" "the status"
[[ -e $M.approved ]] || fail "the approved command did not run"
assert_contains "$(policy_line "$cid" approved)" "by=root via=terminal" "the approval's line"
assert_eq "" "$(ask_of "$cid")" "its asks/ file after the answer"
[[ ! -e $(vm_queue work)/running/$cid.note ]] || fail "the note outlived the result"
approved_seq=$(grep -n -F " id=$cid " "$QVM_REMOTE_LOG" | grep -F "action=approved" | cut -d: -f1)
exec_seq=$(grep -n -F "] EXEC vm=work id=$cid " "$QVM_REMOTE_LOG" | cut -d: -f1)
[[ -n $exec_seq && $approved_seq -lt $exec_seq ]] || fail "EXEC (line $exec_seq) before the approval (line $approved_seq)"

t "deny: refused with who denied it, nothing runs"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.denied"
wait_ask "$cid" || fail "no asks/ file"
dom0 deny "$(ask_of "$cid")" >"$out" 2>"$err"
assert_eq 0 "$?" "deny's exit status ($(cat "$err"))"
wait_result work "$cid" || fail "no result after the deny"
assert_eq rejected "$(meta_field work "$cid" status)" "the status"
assert_eq 126 "$(cat "$(vm_queue work)/results/$cid.exit")" "the exit code"
assert_contains "$(meta_field work "$cid" reason)" "denied in dom0 by root (ask: $P/10-ask.policy:1)" "the reason"
assert_contains "$(policy_line "$cid" denied)" "by=root via=terminal" "the deny's line"
[[ ! -e $M.denied ]] || fail "a denied command ran"

t "the client says it waits for approval, then that it was approved; it exits with the command's status"
: >"$err"   # not the last case's words
in_vm work qvm-remote -x cat /etc/hostname >"$out" 2>"$err" &
pid=$!
wait_for "[[ \$(last_id work) != '' && -n \$(ask_of \$(last_id work)) ]]" 20 || fail "it does not wait"
cid=$(last_id work)
wait_for "grep -q 'waiting for approval' '$err'" 10 || fail "the client does not say it waits"
dom0 approve "$(ask_of "$cid")" >/dev/null 2>&1
wait "$pid"
assert_eq 0 "$?" "the client's exit status"
assert_eq "$(cat /etc/hostname)" "$(cat "$out")" "stdout"
assert_eq "qvm-remote: waiting for approval in dom0 (ask: $P/10-ask.policy:2)
qvm-remote: approved in dom0" "$(cat "$err")" "stderr"

t "Ctrl-C while it waits withdraws it in dom0: exit 130, the client says so, nothing ran"
: >"$err"   # not the last case's words
in_vm work qvm-remote -x touch "$M.ctrl-c" >"$out" 2>"$err" &
pid=$!
wait_for "grep -q 'waiting for approval' '$err'" 20 || fail "the client does not say it waits"
cid=$(last_id work)
pkill -INT -u "$(cat "$SIM/vms/work/user")" -x qvm-remote || fail "no client to interrupt"
wait "$pid"
assert_eq 130 "$?" "the client's exit status"
assert_contains "$(cat "$err")" "qvm-remote: withdrawn in dom0 before it ran (id $cid)" "stderr"
assert_ne "" "$(policy_line "$cid" withdrawn)" "the withdrawal's POLICY line"
assert_eq "" "$(ask_of "$cid")" "its asks/ file"
[[ ! -e $M.ctrl-c ]] || fail "a withdrawn command ran"

t "--wait covers the wait for approval: past it the client withdraws, exit 123"
in_vm work qvm-remote --wait 2 -x touch "$M.wait" >"$out" 2>"$err"
assert_eq 123 "$?" "the client's exit status"
cid=$(sed -n 's/.* withdrawn in dom0 before it ran (id \(.*\))$/\1/p' "$err")
assert_ne "" "$(policy_line "$cid" ask)" "the withdrawn one is the request that waited"
assert_contains "$(cat "$err")" "withdrawn in dom0 before it ran (id $cid)" "stderr"
assert_eq "" "$(ask_of "$cid")" "its asks/ file"
[[ ! -e $M.wait ]] || fail "a withdrawn command ran"

t "a script that needs approval: the file shows its size, SHA-256 and first lines"
printf 'echo one\necho two\necho three\necho four\necho five\necho six\n' >"$TEST_DIR/script"
: >"$err"   # not the last case's words
in_vm work qvm-remote -i /dev/null "$(cat "$TEST_DIR/script")" >"$out" 2>"$err" &
pid=$!
wait_for "grep -q 'waiting for approval' '$err'" 20 || fail "the client does not say it waits"
cid=$(last_id work)
a=$(cat "$RUN/asks/$(ask_of "$cid")")
assert_contains "$a" "form=script" "its form"
assert_contains "$a" "bytes=$(wc -c <"$TEST_DIR/script") sha256=$(sha256sum <"$TEST_DIR/script" | cut -d' ' -f1)" "size and digest"
assert_contains "$a" 'cmd="echo one\necho two\necho three\necho four\necho five\n" cut=1' "the first 5 lines"
dom0 pending "$(ask_of "$cid")" >"$TEST_DIR/pending" 2>&1
assert_contains "$(cat "$TEST_DIR/pending")" "echo five" "pending ID shows it"
dom0 deny "$(ask_of "$cid")" >/dev/null 2>&1
wait "$pid"
assert_eq 126 "$?" "denied"

t "mcp: a run that needs approval answers pending, stage approval, with the reason; result says the same until it is answered"
printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' \
	'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run","arguments":{"argv":["cat","/etc/hostname"],"wait_s":3}}}' \
	>"$TEST_DIR/mcp.in"
in_vm work qvm-remote mcp <"$TEST_DIR/mcp.in" >"$TEST_DIR/mcp.out" 2>/dev/null
sc=$(jq -c 'select(.id == 1) | .result.structuredContent' <"$TEST_DIR/mcp.out")
assert_eq '"pending"' "$(jq -c .state <<<"$sc")" "state"
assert_eq '"approval"' "$(jq -c .stage <<<"$sc")" "stage"
assert_contains "$(jq -r .reason <<<"$sc")" "waiting for approval in dom0 (ask: $P/10-ask.policy:2)" "reason"
rid=$(jq -r .id <<<"$sc")
dom0 approve "$(ask_of "$rid")" >/dev/null 2>&1
wait_result work "$rid" || fail "no result after the approval"
printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}' \
	"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"result\",\"arguments\":{\"id\":\"$rid\"}}}" \
	>"$TEST_DIR/mcp.in"
in_vm work qvm-remote mcp <"$TEST_DIR/mcp.in" >"$TEST_DIR/mcp.out" 2>/dev/null
assert_eq '"done"' "$(jq -c 'select(.id == 2) | .result.structuredContent.state' <"$TEST_DIR/mcp.out")" "result after the approval"

t "withdraw: a signed cancel refuses what waits, answers 'withdrawn', nothing runs"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.withdrawn"
wait_ask "$cid" || fail "no asks/ file"
c2=$(make_cid)
plant_cancel work "$c2" "$cid"
wait_result work "$c2" || fail "no answer to the cancel"
assert_eq withdrawn "$(cat "$(vm_queue work)/results/$c2.out")" "the cancel's answer"
assert_eq 0 "$(cat "$(vm_queue work)/results/$c2.exit")" "the cancel's exit"
wait_result work "$cid" || fail "no result for the withdrawn request"
assert_contains "$(meta_field work "$cid" reason)" "withdrawn by the VM while it waited for approval" "its reason"
assert_ne "" "$(policy_line "$cid" withdrawn)" "the withdrawal's POLICY line"
assert_eq "" "$(ask_of "$cid")" "its asks/ file"
[[ ! -e $M.withdrawn ]] || fail "a withdrawn command ran"
c3=$(make_cid)
plant_cancel work "$c3" "$cid"
wait_result work "$c3" || fail "no answer to the second cancel"
assert_eq not-held "$(cat "$(vm_queue work)/results/$c3.out")" "a cancel of what waits no more"
assert_eq 1 "$(cat "$(vm_queue work)/results/$c3.exit")" "its exit"

t "forged cancels: another VM's key, no token, or a cancel from another VM withdraw nothing"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.forged-cancel"
wait_ask "$cid" || fail "no asks/ file"
id=$(ask_of "$cid")
forged_cancels work "$cid" other
assert_eq "$id" "$(ask_of "$cid")" "the request still waits"
dom0 deny "$id" >/dev/null 2>&1
wait_result work "$cid" || fail "no result after the deny"
[[ ! -e $M.forged-cancel ]] || fail "it ran"

t "forged answers: an answer naming another request's cid, or that does not parse, answers nothing; a VM cannot reach answers/"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.forged-answer"
wait_ask "$cid" || fail "no asks/ file"
id=$(ask_of "$cid")
printf '[%s] ANSWER id=%s cid=%s action=approve by=root via=terminal\n' \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$id" "$(make_cid)" >"$RUN/answers/.x" &&
	mv "$RUN/answers/.x" "$RUN/answers/$id"
printf 'approve\n' >"$RUN/answers/.y" && mv "$RUN/answers/.y" "$RUN/answers/$id"
wait_for "[[ ! -e '$RUN/answers/$id' ]]" 10 || fail "the daemon did not take the answer files"
sleep 0.5
assert_eq "$id" "$(ask_of "$cid")" "the request still waits"
[[ ! -e $M.forged-answer ]] || fail "a forged answer made it run"
assert_eq 700 "$(stat -c %a "$RUN/answers")" "answers/ is root's alone"
in_vm work sh -c "printf x >'$RUN/answers/$id'" 2>/dev/null &&
	fail "a VM's user wrote into answers/"
dom0 deny "$id" >/dev/null 2>&1
wait_result work "$cid" || fail "no result after the deny"

t "no answer in time: refused as expired, the time named"
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_ASK_TIMEOUT=10 \
	QVM_REMOTE_ASK_PROMPT=none >"$DOM0_CONF"
dom0_stop
dom0_start
cid=$(make_cid)
plant_argv work "$cid" touch "$M.expired"
wait_ask "$cid" || fail "no asks/ file"
assert_contains "$(note_of work "$cid")" "timeout_s=" "the note says how long it waits"
wait_result work "$cid" 25 || fail "no result after the time ran out"
assert_contains "$(meta_field work "$cid" reason)" "no answer in dom0 within 10 s (ask: $P/10-ask.policy:1); nothing ran" "the reason"
assert_ne "" "$(policy_line "$cid" expired)" "the POLICY line"
[[ ! -e $M.expired ]] || fail "an expired request ran"
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_ASK_TIMEOUT=60 \
	QVM_REMOTE_ASK_PROMPT=none >"$DOM0_CONF"
dom0_stop
dom0_start

t "the policy edited while it waits: allowed now runs it unasked, denied refuses it"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.now-allowed"
c2=$(make_cid)
plant_argv work "$c2" cat /etc/hostname
wait_ask "$cid" && wait_ask "$c2" || fail "they do not wait"
policy 05-edit.policy <<EOF
work      allow     touch $M.now-allowed
work      deny      cat /etc/hostname
EOF
wait_result work "$cid" || fail "the allowed one got no result"
[[ -e $M.now-allowed ]] || fail "what the policy now allows did not run"
wait_result work "$c2" || fail "the denied one got no result"
assert_contains "$(meta_field work "$c2" reason)" "denied by policy: $P/05-edit.policy:2" "the reason"
assert_eq "" "$(ask_of "$cid")$(ask_of "$c2")" "their asks/ files"
rm -f "$P/05-edit.policy"

t "the key revoked while it waits: refused, nothing runs"
cid=$(make_cid)
plant_argv other "$cid" touch "$M.revoked"
wait_ask "$cid" || fail "no asks/ file"
dom0 revoke other >/dev/null 2>&1
wait_result other "$cid" || fail "no result after the revoke"
assert_contains "$(meta_field other "$cid" reason)" "revoked" "the reason"
assert_eq "" "$(ask_of "$cid")" "its asks/ file"
[[ ! -e $M.revoked ]] || fail "it ran"

t "flood: at most 8 requests of a VM wait; the 9th is refused at once, other VMs still ask"
cids=()
for i in 1 2 3 4 5 6 7 8 9; do
	cids+=("$(make_cid)")
	plant_argv work "${cids[-1]}" touch "$M.flood-$i"
done
wait_result work "${cids[8]}" || fail "the 9th got no answer"
assert_contains "$(meta_field work "${cids[8]}" reason)" "too many requests of this VM wait for approval" "the 9th's reason"
assert_eq 8 "$(grep -l -F ' vm=work ' "$RUN"/asks/* | wc -l)" "requests of work that wait"
cid=$(make_cid)
plant_argv third "$cid" touch "$M.flood-third"
wait_ask "$cid" || fail "another VM's ask does not wait"
dom0 deny "$(ask_of "$cid")" >/dev/null 2>&1

t "stopping while requests wait: they are dropped, and the next start asks again under a new ID"
old=$(ask_of "${cids[0]}")
dom0_stop
assert_eq "" "$(ls "$RUN/asks")" "asks/ after the stop"
dom0_start
wait_ask "${cids[0]}" || fail "not asked again"
assert_ne "$old" "$(ask_of "${cids[0]}")" "its new ID"
for c in "${cids[@]:0:8}"; do
	wait_ask "$c"
	dom0 deny "$(ask_of "$c")" >/dev/null 2>&1
done
for c in "${cids[@]:0:8}"; do wait_result work "$c" || fail "no result for $c"; done
ls "$M".flood-* >/dev/null 2>&1 && fail "a flooded request ran"
t "a VM without the agent (sh programs) gets the note, and the approval runs it"
rm -f "$SIM/vmbin/qvm-remote-agent"
dom0_stop
dom0_start
cid=$(make_cid)
plant_argv third "$cid" touch "$M.sh"
wait_ask "$cid" || fail "no asks/ file"
wait_for "[[ -n \$(note_of third '$cid') ]]" 10 || fail "no note in running/"
assert_contains "$(note_of third "$cid")" "status=asking" "the note"
dom0 approve "$(ask_of "$cid")" >/dev/null 2>&1
wait_result third "$cid" || fail "no result"
[[ -e $M.sh ]] || fail "the approved command did not run"
[[ ! -e $(vm_queue third)/running/$cid.note ]] || fail "the note outlived the result"
t "the desktop prompt: the service shows the request in zenity as the desktop's user; Approve there runs it, an answer from a terminal closes it"
DU=qvmrdsk$$
useradd -M -d / -s /bin/sh -U "$DU" || die "useradd $DU failed"
at_exit "userdel '$DU' 2>/dev/null; groupdel '$DU' 2>/dev/null"
exec 3>"$TEST_DIR/display"
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -ac >"$TEST_DIR/xvfb.log" 2>&1 &
track_pid $!
exec 3>&-
wait_for '[[ -s $TEST_DIR/display ]]' 10 || die "Xvfb did not start: $(cat "$TEST_DIR/xvfb.log")"
export DISPLAY=:$(tr -dc 0-9 <"$TEST_DIR/display")
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_ASK_TIMEOUT=60 \
	QVM_REMOTE_ASK_PROMPT="$DU@$DISPLAY" >"$DOM0_CONF"
dom0_stop
dom0_start
cid=$(make_cid)
plant_argv work "$cid" touch "$M.desktop"
win=$(timeout 20 xdotool search --sync --name 'qvm-remote: work asks' 2>/dev/null | head -n 1)
[[ -n $win ]] || fail "no prompt on the desktop"
assert_eq "$DU" "$(ps -o user= -p "$(pgrep -x zenity | head -n 1)" 2>/dev/null | tr -d ' ')" "zenity's user"
xdotool windowfocus --sync "$win" && xdotool key --clearmodifiers Tab Return
wait_result work "$cid" || fail "no result after Approve on the desktop"
[[ -e $M.desktop ]] || fail "what was approved on the desktop did not run"
assert_contains "$(policy_line "$cid" approved)" "by=$DU via=desktop" "the approval's line"
cid=$(make_cid)
plant_argv work "$cid" touch "$M.desktop-denied"
win=$(timeout 20 xdotool search --sync --name 'qvm-remote: work asks' 2>/dev/null | head -n 1)
[[ -n $win ]] || fail "no prompt for the second request"
dom0 deny "$(ask_of "$cid")" >/dev/null 2>&1
wait_result work "$cid" || fail "no result after the deny"
wait_for '! pgrep -x zenity >/dev/null' 10 || fail "the prompt outlived its request"
[[ ! -e $M.desktop-denied ]] || fail "a denied request ran"

dom0_stop
