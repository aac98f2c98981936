#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Issue 15: exact-argv requests (-x), -u USER, and the policy on a running
# daemon: allow, deny and ask for vectors and scripts, the rule's user and
# timeout, refusals that reach the client at once with the rule, a policy
# edited or broken while the daemon runs, a daemon that will not start on
# a broken one, no policy at all (today's behaviour), and the admin verbs.
# Every command that must not run would create a marker in $TEST_DIR.
# run.sh limit: 420 s (a daemon without inotify, timeouts waited for)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

need_root || skip_all "runs commands as other dom0 users: needs root"
dom0_setup work other
M=$TEST_DIR/marker
err=$TEST_DIR/err
out=$TEST_DIR/out
P=$QVM_REMOTE_POLICY_DIR
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" >"$DOM0_CONF"

# A dom0 user of this file's own, and one the policy never names.
U=qvmrpol$$
U2=qvmrpox$$
UHOME=$TEST_DIR/home-$U
mkdir -p "$UHOME"
useradd -M -d "$UHOME" -s /bin/sh -U "$U" || die "useradd $U failed"
at_exit "userdel '$U' 2>/dev/null; groupdel '$U' 2>/dev/null"
useradd -M -d / -s /bin/sh -U "$U2" || die "useradd $U2 failed"
at_exit "userdel '$U2' 2>/dev/null; groupdel '$U2' 2>/dev/null"
chown "$U:$U" "$UHOME"
UID_U=$(id -u "$U")
chmod 0777 "$TEST_DIR"      # markers written by the dom0 users too
at_exit "chmod 0755 '$TEST_DIR'"

# policy NAME: writes $P/NAME from stdin, through a rename, as an editor
# that keeps a backup would; the daemon never sees half a file
policy() {
	mkdir -p "$P" && chmod 0755 "$P" || return 1
	cat >"$P/.$1.tmp" && chmod 0644 "$P/.$1.tmp" && mv -f "$P/.$1.tmp" "$P/$1"
}
rule_line() {   # FILE TEXT: the line number of the first line holding TEXT
	grep -nF -- "$2" "$P/$1" | head -n 1 | cut -d: -f1
}
last_id() {   # VM: the id of the VM's last request, from its audit.log
	sed -n 's/.* SUBMIT id=\([^ ]*\) .*/\1/p' "$SIM/vms/$1/home/.qvm-remote/audit.log" | tail -n 1
}
exec_lines() {   # CID: EXEC lines of it in dom0's log
	grep -cF "] EXEC vm=work id=$1 " "$QVM_REMOTE_LOG"
}

# ---------------------------------------------------------- no policy --

dom0_start
t "no policy directory: scripts and vectors run as root, and the log says there is no policy"
assert_eq 0 "$(in_vm work qvm-remote 'id -u' 2>&1)" "a script"
assert_eq 0 "$(in_vm work qvm-remote -x id -u 2>&1)" "a vector"
assert_contains "$(grep 'policy loaded' "$QVM_REMOTE_LOG")" 'policy=none' "the start line"
assert_eq 0 "$(grep -c '] POLICY ' "$QVM_REMOTE_LOG")" "POLICY lines without a policy"

t "no policy: --check says every request runs, exit 0, and runs nothing"
in_vm work qvm-remote --check "touch '$M.nopolicy'" >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_contains "$(cat "$out")" "decision=allow
rule=no policy
user=root" "the answer"
[[ ! -e $M.nopolicy ]] || fail "the checked script ran"
assert_eq 0 "$(exec_lines "$(last_id work)")" "EXEC lines"

t "no policy: -u runs as that user, uid, groups, home and environment its passwd entry's"
assert_eq "$UID_U" "$(in_vm work qvm-remote -u "$U" -x id -u 2>&1)" "id -u"
assert_eq "$(id -G "$U")" "$(in_vm work qvm-remote -u "$U" -x id -G 2>&1)" "id -G"
assert_eq "$UHOME" "$(in_vm work qvm-remote -u "$U" -x pwd 2>&1)" "pwd is the home"
assert_eq "$(printf '%s\n' "$UHOME" "$U" "$U" /bin/sh)" \
	"$(in_vm work qvm-remote -u "$U" -x printenv HOME USER LOGNAME SHELL 2>&1)" "the environment"
assert_eq '$HOME|' "$(in_vm work qvm-remote -u "$U" -x printf '%s|' '$HOME' 2>&1)" "no shell: no expansion"
assert_eq "$UHOME|$U|$U|/bin/sh|" \
	"$(in_vm work qvm-remote -u "$U" 'printf "%s|" "$HOME" "$USER" "$LOGNAME" "$SHELL"' 2>&1)" \
	"a script as the user: its environment"
assert_eq "$UID_U" "$(in_vm work qvm-remote -u "$U" 'id -u' 2>&1)" "a script as the user"
assert_contains "$(grep "] EXEC vm=work id=$(last_id work) " "$QVM_REMOTE_LOG")" "user=$U" \
	"the EXEC line names the user"
assert_eq / "$(in_vm work qvm-remote -u "$U2" -x pwd 2>&1)" "a user whose home is /"

t "-x: arguments with spaces, quotes, globs and empty ones arrive exactly"
assert_eq 'a b||*|' "$(in_vm work qvm-remote -x printf '%s|' 'a b' '' '*' 2>&1)" "printf"
assert_eq "it's|\"q\"|\$HOME|;|>x|" \
	"$(in_vm work qvm-remote -x printf '%s|' "it's" '"q"' '$HOME' ';' '>x' 2>&1)" "shell words"
[[ ! -e x && ! -e /root/x ]] || fail "a redirection word made a file"
assert_eq "$(printf 'a\tb\nc|')" "$(in_vm work qvm-remote -x printf '%s|' "$(printf 'a\tb\nc')" 2>&1)" \
	"tab and newline"
line=$(grep "] EXEC vm=work id=$(last_id work) " "$QVM_REMOTE_LOG")
assert_contains "$line" "form=argv" "the EXEC line's form"
assert_contains "$line" "cmd=\"printf '%s|' \$'a\\\\tb\\\\nc'\"" "the EXEC line shows the words quoted"

t "-x: a program that is not found exits 127 with a clear stderr, as a shell's"
in_vm work qvm-remote -x qvmr-no-such-program arg >"$out" 2>"$err"
assert_eq 127 "$?" "exit code"
assert_contains "$(cat "$err")" "qvmr-no-such-program: command not found" "stderr"
in_vm work qvm-remote -x /nonexistent/qvmr-prog 2>"$err"
assert_eq 127 "$?" "exit code of an absolute path"
in_vm work qvm-remote -x bin/true 2>"$err"
assert_eq 127 "$?" "a relative path is not looked up"

t "-x and -u in the VM: history and the SUBMIT line show the words, bad input is refused here"
in_vm work qvm-remote -x printf '%s|' 'a b' >/dev/null 2>&1
assert_contains "$(in_vm work qvm-remote history 1)" "printf '%s|' 'a b'" "history"
assert_contains "$(grep SUBMIT "$SIM/vms/work/home/.qvm-remote/audit.log" | tail -n 1)" \
	"form=argv" "the SUBMIT line"
in_vm work qvm-remote -u Root -x id 2>"$err"
assert_eq 125 "$?" "a bad user name"
assert_contains "$(cat "$err")" "-u needs a dom0 user name" "its message"
in_vm work qvm-remote -x '' id 2>"$err"
assert_eq 125 "$?" "an empty program"
assert_contains "$(cat "$err")" "program to run" "its message"
dom0_stop

# ------------------------------------------------------------ a policy --

policy 10-test.policy <<EOF
# a policy for test_policy.sh
work   allow                   id ...
work   allow  user=$U          id ...
work   allow  user=$U          pwd
work   allow  user=nosuch$$    id ...
work   allow                   printf ...
work   allow  timeout=2        sleep *
work   deny                    qvm-prefs ...
work   deny                    touch $M.denied
work   ask                     touch ...
work   deny                    @script
work   ask    user=$U          @script
other  allow                   @script
other  allow  user=$U          @script
EOF
dom0_start
wait_for "grep -q 'policy loaded.*rules=13' '$QVM_REMOTE_LOG'" 10 || fail "no 'policy loaded' line with 13 rules"

t "allow, a vector: it runs as the rule's user (root), and the POLICY line names the rule"
assert_eq 0 "$(in_vm work qvm-remote -x id -u 2>&1)" "id -u"
cid=$(last_id work)
assert_contains "$(grep "] POLICY vm=work id=$cid " "$QVM_REMOTE_LOG")" \
	"action=allow rule=$P/10-test.policy:$(rule_line 10-test.policy 'allow                   id') form=argv user=root" \
	"the POLICY line"

t "allow with user=: -u picks the rule of that user, which gives its uid and home"
assert_eq "$UID_U" "$(in_vm work qvm-remote -u "$U" -x id -u 2>&1)" "id -u"
assert_eq "$UHOME" "$(in_vm work qvm-remote -u "$U" -x pwd 2>&1)" "pwd"
assert_contains "$(grep "] POLICY vm=work id=$(last_id work) " "$QVM_REMOTE_LOG")" "user=$U" \
	"the POLICY line's user"

t "-u with a user no rule of the command names: denied, nothing runs"
in_vm work qvm-remote -u "$U2" -x id -u >"$out" 2>"$err"
assert_eq 126 "$?" "exit code"
assert_contains "$(cat "$err")" "denied by policy: no rule" "the reason"
assert_eq "" "$(cat "$out")" "stdout"
assert_eq 0 "$(exec_lines "$(last_id work)")" "EXEC lines"
in_vm work qvm-remote -u "$U" -x printf x 2>"$err"
assert_eq 126 "$?" "a command allowed as root only, asked as $U"

t "a user the policy allows but dom0 does not have: 126, named, nothing runs"
in_vm work qvm-remote -u "nosuch$$" -x id -u >"$out" 2>"$err"
assert_eq 126 "$?" "exit code"
assert_contains "$(cat "$err")" "no user 'nosuch$$' in dom0; nothing ran" "the reason"
assert_eq 0 "$(exec_lines "$(last_id work)")" "EXEC lines"

t "deny, a vector: at once, exit 126, the rule's full path and line in the message, nothing runs"
start=$(now_ms)
in_vm work qvm-remote -x touch "$M.denied" 2>"$err"
rc=$?
took=$(($(now_ms) - start))
assert_eq 126 "$rc" "exit code"
assert_contains "$(cat "$err")" \
	"denied by policy: $P/10-test.policy:$(rule_line 10-test.policy "touch $M.denied")" "the reason"
((took < 5000)) || fail "the refusal took $took ms"
[[ ! -e $M.denied ]] || fail "the denied command ran"
cid=$(last_id work)
assert_contains "$(grep "] POLICY vm=work id=$cid " "$QVM_REMOTE_LOG")" "action=deny" "the POLICY line"
assert_eq 0 "$(exec_lines "$cid")" "EXEC lines"
in_vm work qvm-remote -x qvm-prefs work memory 2>"$err"
assert_eq 126 "$?" "qvm-prefs"

t "no rule, a vector: denied, 'no rule' in the message and rule=none in the log"
in_vm work qvm-remote -x cat /etc/shadow >"$out" 2>"$err"
assert_eq 126 "$?" "exit code"
assert_contains "$(cat "$err")" "denied by policy: no rule" "the reason"
assert_eq "" "$(cat "$out")" "stdout"
assert_contains "$(grep "] POLICY vm=work id=$(last_id work) " "$QVM_REMOTE_LOG")" \
	"action=deny rule=none" "the POLICY line"

t "ask, a vector: it waits in dom0 with the rule; past --wait the client withdraws it, nothing runs"
in_vm work qvm-remote --wait 1 -x touch "$M.asked" 2>"$err"
assert_eq 123 "$?" "exit code"
assert_contains "$(cat "$err")" \
	"waiting for approval in dom0 (ask: $P/10-test.policy:$(rule_line 10-test.policy 'ask                     touch'))" \
	"the note"
assert_contains "$(cat "$err")" "withdrawn in dom0 before it ran" "the withdrawal"
[[ ! -e $M.asked ]] || fail "the command that needs approval ran"
assert_contains "$(grep "] POLICY vm=work " "$QVM_REMOTE_LOG" | grep -F "action=ask")" "ask=" \
	"the POLICY line"

t "scripts: deny (work), ask (work, as $U), allow (other, as root and as $U)"
in_vm work qvm-remote "touch '$M.script-denied'" 2>"$err"
assert_eq 126 "$?" "work's script"
assert_contains "$(cat "$err")" "denied by policy: $P/10-test.policy:$(rule_line 10-test.policy '@script')" \
	"the reason"
in_vm work qvm-remote --wait 1 -u "$U" "touch '$M.script-asked'" 2>"$err"
assert_eq 123 "$?" "work's script as $U, withdrawn after --wait"
assert_contains "$(cat "$err")" "waiting for approval in dom0" "the note"
[[ ! -e $M.script-denied && ! -e $M.script-asked ]] || fail "a refused script ran"
assert_eq 0 "$(in_vm other qvm-remote 'id -u' 2>&1)" "other's script"
assert_eq "$UID_U $UHOME" "$(in_vm other qvm-remote -u "$U" 'echo "$(id -u) $(pwd)"' 2>&1)" \
	"other's script as $U"
in_vm other qvm-remote -x id 2>"$err"
assert_eq 126 "$?" "a vector from other matches no script rule"

t "--check from the VM: allow, deny and ask with the rule and exit 0, 3, 4; nothing runs, one POLICY line with check=1"
in_vm work qvm-remote --check -x id -u >"$out" 2>"$err"
assert_eq 0 "$?" "allow: exit code"
assert_eq "decision=allow
rule=$P/10-test.policy:$(rule_line 10-test.policy 'allow                   id')
user=root
timeout=300" "$(cat "$out")" "allow: the answer"
cid=$(last_id work)
assert_contains "$(grep "] POLICY vm=work id=$cid " "$QVM_REMOTE_LOG")" "action=allow" "allow: the POLICY line"
assert_contains "$(grep "] POLICY vm=work id=$cid " "$QVM_REMOTE_LOG")" "check=1" "allow: check=1"
assert_eq 0 "$(exec_lines "$cid")" "allow: EXEC lines"
in_vm work qvm-remote --check -x touch "$M.denied" >"$out" 2>"$err"
assert_eq 3 "$?" "deny: exit code"
assert_contains "$(cat "$out")" "decision=deny" "deny: the decision"
assert_contains "$(cat "$out")" "reason=denied by policy: $P/10-test.policy:" "deny: the reason"
in_vm work qvm-remote --check -x touch "$M.asked" >"$out" 2>"$err"
assert_eq 4 "$?" "ask: exit code"
assert_contains "$(cat "$out")" "decision=ask" "ask: the decision"
in_vm work qvm-remote --check -x cat /etc/shadow >"$out" 2>"$err"
assert_eq 3 "$?" "no rule: exit code"
assert_contains "$(cat "$out")" "rule=none" "no rule: the rule"
in_vm work qvm-remote --check -u "$U" -x id >"$out" 2>"$err"
assert_contains "$(cat "$out")" "user=$U" "-u: the rule's user"
# allowed commands are not run either: touch is asked, printf is allowed
in_vm work qvm-remote --check -x printf x >"$out" 2>"$err"
assert_eq 0 "$?" "an allowed printf"
assert_eq "decision=allow" "$(head -n 1 "$out")" "the answer, not the printf's output"
[[ ! -e $M.denied && ! -e $M.asked ]] || fail "a checked command ran"

t "flood of checks that deny: each is answered and logged, none counts as a refusal, the VM is never paused"
start=$(now_ms)
for i in $(seq 1 40); do
	in_vm work qvm-remote --wait 20 --check -x cat /etc/shadow >/dev/null 2>&1
	rc=$?
	[[ $rc == 3 ]] || { fail "check $i: exit $rc, not 3"; break; }
done
assert_eq 0 "$(in_vm work qvm-remote --wait 20 -x id -u 2>&1)" "a command right after"
took=$(($(now_ms) - start))
((took < 30000)) || fail "40 checks and a command took $took ms (the VM was paused)"
assert_eq 0 "$(grep -c 'REJECT vm=work count=' "$QVM_REMOTE_LOG")" "aggregate refusal lines"

t "ping under a policy that denies every script of the VM: dom0 answered (exit 0), nothing ran"
in_vm work qvm-remote ping >"$out" 2>"$err"
assert_eq 0 "$?" "exit code"
assert_contains "$(cat "$out")" "dom0 answered in" "the answer"
cid=$(last_id work)
assert_contains "$(grep "] POLICY vm=work id=$cid " "$QVM_REMOTE_LOG")" "action=deny" "its POLICY line"
assert_eq 0 "$(exec_lines "$cid")" "EXEC lines"

t "a rule's timeout= lowers the command's: sleeping past it is killed (124), and -t is told so"
start=$(now_ms)
in_vm work qvm-remote -t 60 -x sleep 30 2>"$err"
assert_eq 124 "$?" "exit code"
assert_contains "$(cat "$err")" "dom0 runs it with a timeout of 2 s, not the 60 s asked (its policy rule's timeout=)" \
	"the client says the timeout it got"
took=$(($(now_ms) - start))
((took < 15000)) || fail "the command ran $took ms, not about 2 s"
assert_contains "$(grep "] POLICY vm=work id=$(last_id work) " "$QVM_REMOTE_LOG")" "timeout=2" \
	"the POLICY line's timeout"
assert_eq 0 "$(in_vm work qvm-remote -x sleep 0.1 2>&1; echo $?)" "a short sleep"

t "a policy edited on the running daemon takes effect for the next request, without a reload"
in_vm work qvm-remote -x date -u >/dev/null 2>&1
assert_eq 126 "$?" "date before the edit"
n=$(grep -c 'policy reloaded' "$QVM_REMOTE_LOG")
policy 20-more.policy <<EOF
work allow date ...
EOF
assert_eq 0 "$(in_vm work qvm-remote -x date -u >/dev/null 2>&1; echo $?)" "date after the edit"
(($(grep -c 'policy reloaded' "$QVM_REMOTE_LOG") > n)) || fail "no 'policy reloaded' line"
[[ $(dom0_log) != *action=reloaded* ]] || fail "a SIGHUP reload happened"
rm -f "$P/20-more.policy"
in_vm work qvm-remote -x date -u >/dev/null 2>&1
assert_eq 126 "$?" "date once the file is gone"

t "a malformed file on the running daemon: the old policy stays, the log names file:line"
policy 15-bad.policy <<EOF
# fine
work allow date
work alow id
EOF
wait_for "grep -q 'cannot load the policy: $P/15-bad.policy:3: unknown action' '$QVM_REMOTE_LOG'" 10 ||
	fail "no ERROR line naming 15-bad.policy:3"
assert_contains "$(grep 'cannot load the policy' "$QVM_REMOTE_LOG" | tail -n 1)" \
	"the previous policy stays in force" "the ERROR line"
assert_eq 0 "$(in_vm work qvm-remote -x id -u 2>&1)" "a command the old policy allows"
in_vm work qvm-remote -x date >/dev/null 2>&1
assert_eq 126 "$?" "the bad file's own allow is not in force"
in_vm work qvm-remote -x touch "$M.denied" 2>/dev/null
assert_eq 126 "$?" "a denied command stays denied"
[[ ! -e $M.denied ]] || fail "the denied command ran"
dom0_stop

t "the daemon refuses to start with a malformed file, naming file:line (exit 1)"
: >"$DOM0/daemon.out"
"$QVMR_DAEMON" -c "$DOM0_CONF" >"$DOM0/daemon.out" 2>&1
assert_eq 1 "$?" "the daemon's exit status"
assert_contains "$(cat "$DOM0/daemon.out")" "$P/15-bad.policy:3: unknown action 'alow'" "its message"
rm -f "$P/15-bad.policy"

t "--dry-run: the DRY line says what the policy would decide, and nothing runs"
in_vm work qvm-remote -q --wait 120 -x touch "$M.dry" >/dev/null 2>&1 &
client=$!
track_pid "$client"
wait_for "in_vm work sh -c 'ls \$HOME/.qvm-remote/queue/pending/*.auth' >/dev/null 2>&1" 10 ||
	fail "the request never appeared"
assert_exit 0 dom0 --dry-run
assert_contains "$(grep '] DRY vm=work ' "$QVM_REMOTE_LOG" | tail -n 1)" \
	"action=ask rule=$P/10-test.policy:$(rule_line 10-test.policy 'ask                     touch')" "the DRY line"
[[ ! -e $M.dry ]] || fail "the command ran in a dry run"
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null

t "a request queued for a slot when the policy changes is decided again: refused at once"
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_MAX_PER_VM=1 >"$DOM0_CONF"
policy 20-more.policy <<EOF
work allow sh -c *
work allow date ...
EOF
dom0_start
rm -f "$M".*
in_vm work qvm-remote --wait 120 -x sh -c "touch '$M.first'; while [ ! -e '$M.go' ]; do sleep 0.05; done" \
	>/dev/null 2>&1 &
first=$!
track_pid "$first"
wait_for "[ -e '$M.first' ]" 30 || fail "the first command never started"
n=$(auth_ok_count work)
in_vm work qvm-remote --wait 120 -x date >/dev/null 2>"$TEST_DIR/queued.err" &
queued=$!
track_pid "$queued"
wait_for "(( \$(auth_ok_count work) > n ))" 30 || fail "the second request was never accepted"
policy 20-more.policy <<EOF
work allow sh -c *
EOF
queued_refused "$queued" "$TEST_DIR/queued.err" "denied by policy: no rule" "$first" "$M.go"
dom0_stop
rm -f "$P/20-more.policy"
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" >"$DOM0_CONF"

t "a policy of only comments: everything is denied"
mv "$P/10-test.policy" "$TEST_DIR/10-test.policy"
policy 00-empty.policy <<EOF
# nothing allowed
EOF
dom0_start
in_vm work qvm-remote true 2>"$err"
assert_eq 126 "$?" "a script"
assert_contains "$(cat "$err")" "denied by policy: no rule" "the reason"
rm -f "$P/00-empty.policy"
wait_for "grep -q 'policy reloaded.*policy=none' '$QVM_REMOTE_LOG'" 10 || fail "no reload to no policy"
assert_eq ok "$(in_vm work qvm-remote echo ok 2>&1)" "no policy file left: today's behaviour again"
dom0_stop
mv "$TEST_DIR/10-test.policy" "$P/10-test.policy"

t "without inotify, the 1 s tick notices a policy edit"
if ! dom0_start_no_inotify; then
	skip "no C compiler to build the LD_PRELOAD shim"
else
	wait_for "grep -q 'policy loaded' '$QVM_REMOTE_LOG'" 10 || fail "no start"
	assert_eq 0 "$(find "/proc/$DOM0_PID/fd" -lname 'anon_inode:inotify' | wc -l)" \
		"inotify descriptors of the daemon"
	in_vm work qvm-remote -x date >/dev/null 2>&1
	assert_eq 126 "$?" "date before the edit"
	n=$(grep -c 'policy reloaded' "$QVM_REMOTE_LOG")
	policy 20-more.policy <<EOF
work allow date ...
EOF
	wait_for "(( \$(grep -c 'policy reloaded' '$QVM_REMOTE_LOG') > n ))" 10 || fail "no reload within 10 s"
	assert_eq 0 "$(in_vm work qvm-remote -x date >/dev/null 2>&1; echo $?)" "date after the edit"
	rm -f "$P/20-more.policy"
	dom0_stop
fi

# -------------------------------------------------------- admin verbs --

t "policy check: allow, deny and ask with the rule, and distinct exit codes"
r=$(dom0 policy check work -x id -u 2>&1)
assert_eq 0 "$?" "allow's exit code"
assert_eq "allow: $P/10-test.policy:$(rule_line 10-test.policy 'allow                   id') (as root, timeout 300 s)" \
	"$r" "allow"
r=$(dom0 policy check work -u "$U" -x pwd 2>&1)
assert_eq 0 "$?" "allow as $U"
assert_contains "$r" "(as $U, timeout 300 s)" "the user"
r=$(dom0 policy check work -x sleep 5 2>&1)
assert_contains "$r" "timeout 2 s" "a rule's timeout"
r=$(dom0 policy check work -x cat /etc/shadow 2>&1)
assert_eq 3 "$?" "deny's exit code"
assert_eq "deny: no rule" "$r" "deny without a rule"
r=$(dom0 policy check work --script 2>&1)
assert_eq 3 "$?" "a script"
assert_eq "deny: $P/10-test.policy:$(rule_line 10-test.policy '@script')" "$r" "deny with a rule"
r=$(dom0 policy check work -x touch x 2>&1)
assert_eq 4 "$?" "ask's exit code"
assert_contains "$r" "ask: $P/10-test.policy:" "ask"
r=$(dom0 policy check work -u "nosuch$$" -x id 2>&1)
assert_eq 0 "$?" "allowed for a user dom0 lacks"
assert_contains "$r" "no user 'nosuch$$' in dom0" "the warning"
assert_exit 2 dom0 policy check work
assert_exit 2 dom0 policy check 'bad name' --script
assert_exit 2 dom0 policy check work -u Root --script

t "policy list: the files and the rules, or the error that would stop a reload"
r=$(dom0 policy list 2>&1)
assert_eq 0 "$?" "exit code"
assert_contains "$r" "$P: 1 file, 13 rules" "the summary"
assert_contains "$r" "10-test.policy" "the file"
policy 15-bad.policy <<EOF
work alow id
EOF
r=$(dom0 policy list 2>&1)
assert_eq 1 "$?" "exit code with a bad file"
assert_contains "$r" "$P/15-bad.policy:1: unknown action 'alow'" "the error"
r=$(dom0 policy check work -x id 2>&1)
assert_eq 1 "$?" "check with a bad file"
assert_contains "$r" "15-bad.policy:1" "check names the error"
rm -f "$P/15-bad.policy"

t "no policy: check says every request runs as root, authorize says what that means"
mv "$P/10-test.policy" "$TEST_DIR/10-test.policy"
r=$(dom0 policy check work -x rm -rf / 2>&1)
assert_eq 0 "$?" "exit code"
assert_eq "no policy: allowed as root (every request)" "$r" "check"
assert_contains "$(dom0 policy check work -u "$U" --script 2>&1)" "allowed as $U" "check with -u"
assert_contains "$(dom0 policy list 2>&1)" "no policy" "list"
r=$(dom0 authorize --from-vm other 2>&1)
assert_contains "$r" "'other' may run any command in dom0 as root" "authorize without a policy"
assert_contains "$r" "qvm-remote-policy(5)" "its pointer"
mv "$TEST_DIR/10-test.policy" "$P/10-test.policy"
r=$(dom0 authorize --from-vm other 2>&1)
[[ $r != *"any command in dom0 as root"* ]] || fail "authorize says 'any command' with a policy"
