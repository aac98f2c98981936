#!/bin/bash
# shellcheck disable=SC2016 # the $ in command bodies is for dom0's bash
# Attacks on what runs and as whom (issue 15), by a process in a VM that
# writes request files by hand (with or without the key) or by a local
# user in dom0 who can touch the policy directory: the options file of a
# signed request changed (user= added or removed, form= flipped), form=
# and user= under a legacy v1 token, argv[0] dressed as another program,
# a script matched against a vector's rule, a policy file others may
# write, a symlink in the policy directory.  Every command that must not
# run would create a marker in $TEST_DIR.  docs/threat-model.md maps the
# cases to their layer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/dom0.sh"

need_root || skip_all "runs commands as another dom0 user: needs root"
dom0_setup work
cd "$TEST_DIR" || die "cannot enter $TEST_DIR"
M=$TEST_DIR/marker
P=$QVM_REMOTE_POLICY_DIR
printf '%s\n' QVM_REMOTE_POLICY_DIR="$P" QVM_REMOTE_LEGACY_AUTH=work >"$DOM0_CONF"
U=qvmratk$$
useradd -M -d / -s /bin/sh -U "$U" || die "useradd $U failed"
at_exit "userdel '$U' 2>/dev/null; groupdel '$U' 2>/dev/null"
chmod 0777 "$TEST_DIR"
at_exit "chmod 0755 '$TEST_DIR'"
key=$(vm_keyhex work)

mkdir -m 0755 "$P"
cat >"$P/10-attack.policy" <<EOF
work  allow  user=$U  touch ...
work  allow           id ...
work  allow           sh -c 'true'
EOF
chmod 0644 "$P/10-attack.policy"
dom0_start

argv_file() {   # NAME WORD...: a body file of a vector, printed path
	local f=$TEST_DIR/argv.$1
	shift
	printf '%s\0' "$@" >"$f"
	printf '%s\n' "$f"
}
opt_file() {   # NAME TEXT: an options file, printed path
	printf '%s' "$2" >"$TEST_DIR/opt.$1"
	printf '%s\n' "$TEST_DIR/opt.$1"
}
expect_rejected() {   # CID CATEGORY REASON MARKER
	local q
	q=$(vm_queue work)
	wait_result work "$1" || { fail "no result for $1 within 20 s"; return 1; }
	assert_eq 126 "$(cat "$q/results/$1.exit")" "exit code in results/"
	assert_eq rejected "$(meta_field work "$1" status)" "status in .meta"
	assert_contains "$(meta_field work "$1" reason)" "$3" "reason in .meta"
	assert_contains "$(grep -F " id=$1 " "$QVM_REMOTE_LOG")" "] $2 vm=work id=$1 " \
		"the $2 line in dom0's log"
	[[ ! -e $4 ]] || fail "the command ran: $4 exists"
	assert_eq 0 "$(grep -cF "] EXEC vm=work id=$1 " "$QVM_REMOTE_LOG")" "EXEC lines for $1"
}

t "the control: a signed vector with user= runs as that user"
cid=$(make_cid)
b=$(argv_file control touch "$M.control")
o=$(opt_file control "form=argv
user=$U
")
plant work "$cid" "$b" "$o" "" "$(v2_token "$key" "$cid" "$b" "$o")"
wait_result work "$cid" || fail "no result"
assert_eq 0 "$(cat "$(vm_queue work)/results/$cid.exit" 2>/dev/null)" "exit code"
assert_eq "$U" "$(stat -c %U "$M.control" 2>/dev/null)" "the marker's owner"

t "user=root added to the .opt of a queued request: the token refuses it (AUTH-FAIL)"
cid=$(make_cid)
b=$(argv_file root-added id -u)
o=$(opt_file root-added-signed "form=argv
")
o2=$(opt_file root-added "form=argv
user=root
")
plant work "$cid" "$b" "$o2" "" "$(v2_token "$key" "$cid" "$b" "$o")"
expect_rejected "$cid" AUTH-FAIL "token mismatch" /nonexistent

t "user= removed from the .opt (to run as root, not as the user): AUTH-FAIL, nothing runs"
cid=$(make_cid)
b=$(argv_file user-removed touch "$M.user-removed")
o=$(opt_file user-removed-signed "form=argv
user=$U
")
o2=$(opt_file user-removed "form=argv
")
plant work "$cid" "$b" "$o2" "" "$(v2_token "$key" "$cid" "$b" "$o")"
expect_rejected "$cid" AUTH-FAIL "token mismatch" "$M.user-removed"

t "user= changed to another user: AUTH-FAIL, nothing runs"
cid=$(make_cid)
o2=$(opt_file user-changed "form=argv
user=root
")
b=$(argv_file user-changed touch "$M.user-changed")
plant work "$cid" "$b" "$o2" "" "$(v2_token "$key" "$cid" "$b" "$o")"
expect_rejected "$cid" AUTH-FAIL "token mismatch" "$M.user-changed"

t "check=1 removed from a signed question (substitute: a check turned into a run): AUTH-FAIL, nothing runs"
cid=$(make_cid)
b=$(argv_file check-removed touch "$M.check-removed")
o=$(opt_file check-removed-signed "form=argv
check=1
")
o2=$(opt_file check-removed "form=argv
")
plant work "$cid" "$b" "$o2" "" "$(v2_token "$key" "$cid" "$b" "$o")"
expect_rejected "$cid" AUTH-FAIL "token mismatch" "$M.check-removed"

t "form=argv removed from the .opt: the vector is no script (REJECT), nothing runs"
cid=$(make_cid)
b=$(argv_file form-removed sh -c 'true')
o=$(opt_file form-removed-signed "form=argv
")
plant work "$cid" "$b" "" "" "$(v2_token "$key" "$cid" "$b" "$o")"
expect_rejected "$cid" REJECT "NUL or control bytes" /nonexistent

t "form=argv added to a signed script's .opt: refused (by the body rule or the token), nothing runs"
cid=$(make_cid)
printf 'touch %s\n' "$M.form-added" >"$TEST_DIR/body.form-added"
b=$TEST_DIR/body.form-added
o2=$(opt_file form-added "form=argv
")
plant work "$cid" "$b" "$o2" "" "$(v2_token "$key" "$cid" "$b")"
expect_rejected "$cid" REJECT "does not end in a NUL" "$M.form-added"
# a vector body under a script's token: the token catches what L2 passes
cid=$(make_cid)
b=$(argv_file form-added2 touch "$M.form-added2")
plant work "$cid" "$b" "$o2" "" "$(v2_token "$key" "$cid" "$b")"
expect_rejected "$cid" AUTH-FAIL "token mismatch" "$M.form-added2"

t "legacy v1 token with user=, form= or check=: REJECT, nothing runs"
cid=$(make_cid)
printf 'touch %s\n' "$M.v1-user" >"$TEST_DIR/body.v1-user"
o=$(opt_file v1-user "user=$U
")
plant work "$cid" "$TEST_DIR/body.v1-user" "$o" "" "$(v1_token "$key" "$cid")"
expect_rejected "$cid" REJECT "need a v2 token" "$M.v1-user"
cid=$(make_cid)
b=$(argv_file v1-form touch "$M.v1-form")
o=$(opt_file v1-form "form=argv
")
plant work "$cid" "$b" "$o" "" "$(v1_token "$key" "$cid")"
expect_rejected "$cid" REJECT "need a v2 token" "$M.v1-form"
cid=$(make_cid)
printf 'touch %s\n' "$M.v1-check" >"$TEST_DIR/body.v1-check"
o=$(opt_file v1-check "check=1
")
plant work "$cid" "$TEST_DIR/body.v1-check" "$o" "" "$(v1_token "$key" "$cid")"
expect_rejected "$cid" REJECT "need a v2 token" "$M.v1-check"

t "a user name that is a path or an option, signed: REJECT before anything"
for bad in ../root -root 'Root' 'a b'; do
	cid=$(make_cid)
	b=$(argv_file badname id)
	o=$(opt_file badname "form=argv
user=$bad
")
	plant work "$cid" "$b" "$o" "" "$(v2_token "$key" "$cid" "$b" "$o")"
	expect_rejected "$cid" REJECT "user must be a dom0 user name" /nonexistent
done

t "argv[0] dressed as the allowed program (a path, ./id): no rule matches, denied"
for prog in /tmp/id ./id /usr/bin/id; do
	in_vm work qvm-remote -x "$prog" >/dev/null 2>"$TEST_DIR/err"
	assert_eq 126 "$?" "$prog"
	assert_contains "$(cat "$TEST_DIR/err")" "denied by policy: no rule" "$prog's reason"
done
assert_eq 0 "$(in_vm work qvm-remote -x id -u 2>&1)" "id itself runs"

t "a script whose text is an allowed vector: scripts match only @script rules"
in_vm work qvm-remote "sh -c 'true'; touch '$M.script'" 2>"$TEST_DIR/err"
assert_eq 126 "$?" "exit code"
[[ ! -e $M.script ]] || fail "the script ran"
in_vm work qvm-remote id 2>/dev/null
assert_eq 126 "$?" "a one-word script 'id'"
in_vm work qvm-remote -x sh -c "true; touch $M.sh-c" 2>/dev/null
assert_eq 126 "$?" "sh -c with other text: the pattern's quoted word is exact"
[[ ! -e $M.sh-c ]] || fail "sh -c ran"

t "a policy file others may write is not used: the old policy stays, the log says why"
chmod 0666 "$P/10-attack.policy"
wait_for "grep -q 'cannot load the policy: $P/10-attack.policy: .*writable by group or others' '$QVM_REMOTE_LOG'" 10 ||
	fail "no ERROR line for the writable file"
cat >>"$P/10-attack.policy" <<EOF
work allow cat ...
EOF
sleep 1
in_vm work qvm-remote -x cat /etc/shadow >"$TEST_DIR/out" 2>/dev/null
assert_eq 126 "$?" "the rule a local user added"
assert_eq "" "$(cat "$TEST_DIR/out")" "nothing read"
chmod 0644 "$P/10-attack.policy"
wait_for "in_vm work qvm-remote -x cat /dev/null 2>/dev/null" 10 || fail "the fixed file was not loaded"
sed -i '$d' "$P/10-attack.policy"

t "a symlink named .policy refuses the policy (it could point anywhere)"
printf 'work allow cat ...\n' >"$TEST_DIR/elsewhere.policy"
chmod 0644 "$TEST_DIR/elsewhere.policy"
ln -s "$TEST_DIR/elsewhere.policy" "$P/20-link.policy"
wait_for "grep -q '20-link.policy: a symlink' '$QVM_REMOTE_LOG'" 10 || fail "no ERROR line for the link"
in_vm work qvm-remote -x cat /etc/shadow >/dev/null 2>&1
assert_eq 126 "$?" "the linked file's rule"
rm -f "$P/20-link.policy"
dom0_stop
