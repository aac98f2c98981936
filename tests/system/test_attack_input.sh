#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Attacks on input validation (L2) and on the audit log (L4), through the
# real daemon and client.  The attacker is a process in a VM writing files
# into its own queue by hand, or, for the replies, a compromised VM whose
# sh answers dom0's fetch program with bytes of its choosing.  Every case
# checks what the VM sees, the dom0 audit category, and that nothing ran
# (each command would create a marker file).  docs/threat-model.md maps
# every case to its layer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

dom0_setup work dev:bash evil1 evil2 evil3
cd "$TEST_DIR" || die "cannot enter $TEST_DIR"
M=$TEST_DIR/marker
err=$TEST_DIR/err

# A compromised VM: its sh answers every call with the reply in FILE, with
# @CLAIM@ replaced by the claim dom0 expects (the program's P='...' and -0),
# so the reply is well formed but for what the test puts in it.
forge_sh() {   # VM FILE
	local d=$SIM/vms/$1/bin
	rm -f -- "$d/sh"
	sed "s|@REPLY@|$2|" >"$d/sh" <<'EOF'
#!/bin/dash
p=$(sed -n "s/^P='\([0-9a-f-]*\)'\$/\1/p")
sed "s/@CLAIM@/$p-0/" '@REPLY@'
EOF
	chmod 0755 "$d/sh"
	chmod 0644 "$2"
}
# A fetch reply with one request named CID, a body and a made-up token.
forged_reply() {   # CID
	local body="touch '$M.forged-reply'" tok
	tok="v2 $(openssl rand -hex 32)"
	printf 'qvmr-fetch 1\nreq %s @CLAIM@\npart body %d\n%s\npart auth %d\n%s\n\nend\ndone 1\n' \
		"$1" "${#body}" "$body" "$((${#tok} + 1))" "$tok"
}
forged_reply '../../../../tmp/qvmr-forged-dotdot' >"$TEST_DIR/reply.evil1"
forged_reply "20261128-101500-1/$M.x-0123abcdef" >"$TEST_DIR/reply.evil2"
control_cid=$(make_cid)
forged_reply "$control_cid" >"$TEST_DIR/reply.evil3"
for vm in evil1 evil2 evil3; do
	forge_sh "$vm" "$TEST_DIR/reply.$vm"
done

dom0_start

log_mark() { wc -l <"$QVM_REMOTE_LOG"; }
log_since() { tail -n "+$(($1 + 1))" "$QVM_REMOTE_LOG"; }

# Names planted in pending/ of work (dash) and dev (bash), each with a body
# and a .auth of 64+ bytes: none may be claimed, used in a path, a program
# or a log line; every one that the fetch program's *.auth sees is counted
# as skipped; a normal command from the same VM still runs; no file named
# after them appears anywhere in dom0 or in the VM outside pending/.
bad_names() {   # NAME...
	local vm q mark n counted=0 name listing expected
	mark=$(log_mark)
	for name in "$@"; do
		[[ $name == .* ]] || ((counted++))
	done
	for vm in work dev; do
		in_vm "$vm" sh -c '
			q=$HOME/.qvm-remote/queue/pending; mkdir -p "$q" || exit 1
			for n in "$@"; do
				printf "touch qvmr-pwned\n" >"$q/$n" || exit 1
				printf "v2 %064d\n" 0 >"$q/$n.auth" || exit 1
			done' sh "$@" || fail "cannot plant the names in $vm"
	done
	for vm in work dev; do
		assert_eq "still works" "$(in_vm "$vm" qvm-remote echo still works)" \
			"a normal command from $vm after the planted names"
		q=$(vm_queue "$vm")
		expected=$(for name in "$@"; do printf '%s\n%s.auth\n' "$name" "$name"; done | LC_ALL=C sort)
		listing=$(cd "$q/pending" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort)
		assert_eq "$expected" "$listing" "pending/ of $vm: the planted names, untouched"
		assert_eq "" "$(ls -A "$q/running")" "running/ of $vm"
		n=$(find "$q/results" -name '*pwned*' | wc -l)
		assert_eq 0 "$n" "results named after a planted name in $vm"
		assert_contains "$(log_since "$mark" | grep "REJECT vm=$vm reason=")" "count=$counted" \
			"the skip count in dom0's log for $vm"
		in_vm "$vm" sh -c 'cd "$HOME/.qvm-remote/queue/pending" && for n in "$@"; do
			rm -f -- "./$n" "./$n.auth"; done' sh "$@"
	done
	n=$( (find "$TEST_DIR" \( -path '*/queue/pending' -prune \) -o -name '*pwned*' -print
		find /tmp / -maxdepth 1 -name '*pwned*') 2>/dev/null | wc -l)
	assert_eq 0 "$n" "files named after a planted name outside pending/"
	[[ ! -e $TEST_DIR/qvmr-pwned && ! -e /qvmr-pwned ]] || fail "a planted body ran"
	[[ $(log_since "$mark") != *pwned* ]] || fail "a planted name reached dom0's log"
}

t "cid with ../ or dots: never claimed, counted as skipped"
bad_names 'x..y' '20261128-101500-1-deadbeef..' '..-..-..-..pwned' '.hidden..pwned'

t "cid with quotes: never claimed, counted as skipped"
bad_names "20261128-101500-1-dead'beef" 'x"pwned' "a'\$(touch qvmr-pwned)'" 'a"`touch qvmr-pwned`"'

t "cid with newlines: never claimed, never a line of the fetch reply"
bad_names $'20261128-101500-1-deadbeef\nreq 20261128-101500-1-deadbeef 0123abcd-0-0' \
	$'pwned\ndone 0' $'\npwned'

t "cid with shell metacharacters: never claimed, never evaluated"
bad_names 'x;touch qvmr-pwned' 'x$(touch qvmr-pwned)' 'x`touch qvmr-pwned`' \
	'x|touch qvmr-pwned' 'x&touch qvmr-pwned&' 'x>qvmr-pwned' '*' '?' '[a-z]*' \
	'-rf' '--help' $'x\033[31mpwned' '~pwned' 'x$HOME'

t "cid with spaces: never claimed, counted as skipped"
bad_names '20261128-101500-1-dead beef' ' 20261128-101500-1-deadbeef' \
	'20261128-101500-1-deadbeef ' $'20261128-101500-1-dead\tbeef'

t "overlong cid: past the grammar's lengths, never claimed"
bad_names "20261128-101500-1-$(printf '%033d' 0 | tr 0 a)" \
	"20261128-101500-12345678901-deadbeef" \
	"20261128-101500-1-$(printf 'a%.0s' {1..200})" \
	"ping-$(printf '%021d' 1)-1" "$(printf '%240d' 0 | tr ' ' 9)"

t "a compromised VM's forged reply with a valid id is parsed (the control for the next two)"
wait_for "grep -q 'AUTH-FAIL vm=evil3 id=$control_cid ' '$QVM_REMOTE_LOG'" 10 ||
	fail "dom0 did not get as far as the token: $(grep 'vm=evil3 ' "$QVM_REMOTE_LOG" | tail -n 2)"
[[ ! -e $M.forged-reply ]] || fail "the forged request ran"

for vm in evil1 evil2; do
	case $vm in
	evil1) what="../" ;;
	evil2) what="/" ;;
	esac
	t "cid with $what in a compromised VM's fetch reply: malformed, nothing claimed in dom0, other VMs served"
	wait_for "grep -q 'ERROR vm=$vm .*malformed fetch reply' '$QVM_REMOTE_LOG'" 10 ||
		fail "no ERROR line for $vm's reply"
	assert_eq ok "$(in_vm work qvm-remote echo ok)" "work is served"
	[[ $(grep "vm=$vm " "$QVM_REMOTE_LOG") != *AUTH-* ]] || fail "dom0 went on to authenticate it"
	[[ $(grep "vm=$vm " "$QVM_REMOTE_LOG") != *EXEC* ]] || fail "dom0 ran it"
	[[ $(dom0_log) != *qvmr-forged* && $(dom0_log) != *"$M.x"* ]] || fail "the name reached the log"
	n=$( (find "$TEST_DIR" \( -name '*qvmr-forged*' -o -name '*0123abcdef*' \) -print
		find /tmp / -maxdepth 1 -name '*qvmr-forged*') 2>/dev/null | wc -l)
	assert_eq 0 "$n" "files named after the forged id"
	[[ ! -e $M.forged-reply ]] || fail "the forged request ran"
	[[ ! -e $DOM0/state/$vm || -z $(find "$DOM0/state/$vm" -type f -newer "$TEST_DIR/reply.$vm") ]] ||
		fail "dom0 stored something for $vm: $(find "$DOM0/state/$vm" -type f)"
done

t "a compromised VM answering every deliver with garbage does not keep the daemon from stopping"
# evil3's rejected result waits in dom0's outbox; its sh answers the
# deliver program with a fetch reply, so every deliver is malformed
wait_for "grep -q 'ERROR vm=evil3 reason=\"malformed deliver reply\"' '$QVM_REMOTE_LOG'" 15 ||
	fail "evil3's deliver was never tried"
kill -TERM "$DOM0_PID"
if ! wait_for "! proc_alive $DOM0_PID" 25; then
	fail "the daemon still runs 25 s after SIGTERM: $(grep -c 'vm=evil3 reason="malformed deliver' "$QVM_REMOTE_LOG") malformed delivers to evil3"
	kill -KILL "$DOM0_PID"
fi
wait "$DOM0_PID"
DOM0_PID=
ln -sf /bin/dash "$SIM/vms/evil3/bin/sh"
dom0_start
assert_eq ok "$(in_vm work qvm-remote echo ok)" "work after the restart"

# Requests with a valid v2 token over exactly the planted bytes: L2 must
# refuse them before the token is looked at, with a result naming the rule.
expect_l2() {   # VM CID RULE MARKER
	local q
	q=$(vm_queue "$1")
	wait_result "$1" "$2" || { fail "no result for $2 within 20 s"; return 1; }
	assert_eq 126 "$(cat "$q/results/$2.exit")" "exit code in results/"
	assert_eq rejected "$(meta_field "$1" "$2" status)" "status in .meta"
	assert_contains "$(meta_field "$1" "$2" reason)" "$3" "the rule in .meta"
	assert_contains "$(cat "$q/results/$2.err")" "$3" "the rule in .err"
	assert_contains "$(grep -F " id=$2 " "$QVM_REMOTE_LOG")" "] REJECT vm=$1 id=$2 " "the REJECT line"
	assert_eq 0 "$(grep -cF "] EXEC vm=$1 id=$2 " "$QVM_REMOTE_LOG")" "EXEC lines"
	[[ ! -e $4 ]] || fail "the command ran: $4 exists"
}

plant_signed() {   # VM CID BODY [OPT [IN]]: with a valid v2 token
	plant "$1" "$2" "$3" "${4:-}" "${5:-}" "$(v2_token "$(vm_keyhex "$1")" "$2" "$3" "${4:-}" "${5:-}")"
}

t "binary body: a NUL byte is rejected with the rule, under a valid token"
cid=$(make_cid)
printf "touch '%s'\0\n" "$M.nul" >"$TEST_DIR/body.nul"
plant_signed work "$cid" "$TEST_DIR/body.nul"
expect_l2 work "$cid" "NUL or control bytes" "$M.nul"

t "binary body: an ESC byte is rejected with the rule, under a valid token"
cid=$(make_cid)
printf "touch '%s' # \033[2J\033]0;owned\a\n" "$M.esc" >"$TEST_DIR/body.esc"
plant_signed work "$cid" "$TEST_DIR/body.esc"
expect_l2 work "$cid" "NUL or control bytes" "$M.esc"

t "oversized body: over 1 MiB is rejected as larger than 1 MiB"
cid=$(make_cid)
{ printf "touch '%s'\n" "$M.big"; head -c 1048576 /dev/zero | tr '\0' '#'; } >"$TEST_DIR/body.big"
plant_signed work "$cid" "$TEST_DIR/body.big"
expect_l2 work "$cid" "larger than 1 MiB" "$M.big"

t "oversized stdin: over 8 MiB is rejected as larger than 8 MiB"
cid=$(make_cid)
printf "touch '%s'\n" "$M.bigin" >"$TEST_DIR/body.bigin"
head -c $((8 * 1048576 + 1)) /dev/zero >"$TEST_DIR/in.big"
plant_signed work "$cid" "$TEST_DIR/body.bigin" "" "$TEST_DIR/in.big"
expect_l2 work "$cid" "larger than 8 MiB" "$M.bigin"

t "malformed options: an unknown option is rejected, under a valid token"
cid=$(make_cid)
printf "touch '%s'\n" "$M.badopt" >"$TEST_DIR/body.badopt"
printf 'timeout=5\nshell=/bin/sh\n' >"$TEST_DIR/opt.bad"
plant_signed work "$cid" "$TEST_DIR/body.badopt" "$TEST_DIR/opt.bad"
expect_l2 work "$cid" "unknown option" "$M.badopt"

t "empty body: a blank command is rejected as empty"
cid=$(make_cid)
printf ' \n\t\n' >"$TEST_DIR/body.empty"
plant_signed work "$cid" "$TEST_DIR/body.empty"
expect_l2 work "$cid" "empty" /nonexistent

t "log injection: a newline, a CR and a fake AUTH-OK line stay inside one escaped line"
fake='[2026-01-01T00:00:00Z] AUTH-OK vm=dom0 id=fake-line'
out=$(in_vm work qvm-remote ": <<'X'
$fake$(printf '\r')$fake
X
echo injected")
assert_eq injected "$out" "the command's output"
assert_eq 1 "$(grep -c 'id=fake-line' "$QVM_REMOTE_LOG")" "lines carrying the fake text"
line=$(grep 'id=fake-line' "$QVM_REMOTE_LOG")
assert_contains "$line" "] EXEC vm=work id=" "the one line is the EXEC line"
assert_contains "$line" '\n[2026-01-01T00:00:00Z] AUTH-OK' "the newline, escaped"
assert_contains "$line" '\r' "the CR, escaped"
assert_eq 0 "$(grep -c '^\[2026-01-01' "$QVM_REMOTE_LOG")" "lines starting with the fake time"
assert_eq 0 "$(tr -cd '\r' <"$QVM_REMOTE_LOG" | wc -c)" "raw CR bytes in the log"
assert_exit 0 dom0 audit verify

t "log injection: ANSI escapes are refused and never reach the log raw, even in a dry run"
in_vm work qvm-remote "$(printf 'echo \033[31mred\033[0m')" 2>"$err"
assert_eq 125 "$?" "the client refuses to send it"
dom0_stop
cid=$(make_cid)
printf "touch '%s' # \033[1A\033[2K[2026-01-01T00:00:00Z] AUTH-OK vm=dom0\n" "$M.ansi" >"$TEST_DIR/body.ansi"
plant_signed work "$cid" "$TEST_DIR/body.ansi"
assert_exit 0 dom0 --dry-run --vm work
line=$(grep -F "DRY vm=work id=$cid " "$QVM_REMOTE_LOG")
assert_contains "$line" '\x1b[1A\x1b[2K' "the DRY preview, escaped"
dom0_start
expect_l2 work "$cid" "NUL or control bytes" "$M.ansi"
assert_eq 0 "$(tr -cd '\033' <"$QVM_REMOTE_LOG" | wc -c)" "raw ESC bytes in the log"
assert_eq 0 "$(grep -c '^\[2026-01-01' "$QVM_REMOTE_LOG")" "lines starting with the fake time"
assert_exit 0 dom0 audit verify
assert_contains "$(dom0 log -n 50)" 'x1b' "dom0 log shows the escape as text"
[[ $(dom0 log -n 50) != *$'\033'* ]] || fail "dom0 log prints a raw ESC"

t "the daemon stops cleanly"
dom0_stop
