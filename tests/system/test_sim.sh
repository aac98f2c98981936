#!/bin/bash
# The simulator itself: it must behave as qubes-facts.md says Qubes does,
# since every other system test trusts it.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
not_on_real "it tests the simulator itself, sim/qubes-sim" # issue 13

SIM_SHELL=dash sim_setup vm1       # dash VM
{ qubes-sim create vm2 --shell bash && qubes-sim start vm2; } || die "cannot make vm2"
qubes-sim create vm3 || die "cannot make vm3" # stays halted

qrx() {   # VM: qubes.VMShell with our stdin
	qrexec-client -d "$1" "$VMSHELL"
}

elapsed_ms() {   # CMD...: run it quietly, print how long it took
	local t0
	t0=$(now_ms)
	"$@" >/dev/null 2>&1 </dev/null
	echo $(($(now_ms) - t0))
}

t "qvm-run sends CMD, then '; exit' and a newline, then its stdin"
# An unclosed quote shows the bytes that follow CMD.
out=$(printf "X'\n" | qvm-run --pass-io vm1 "printf %s '")
assert_eq $'; exit\nX' "$out" "bytes after CMD"
out=$(printf 'echo extra\n' | qvm-run --pass-io vm1 'echo a')
assert_eq a "$out" "'; exit' ends the shell before stdin"
out=$(printf 'echo extra\n' | qvm-run --pass-io vm1 'echo a #comment')
assert_eq $'a\nextra' "$out" "a trailing comment swallows '; exit'"
out=$(printf 'echo extra\n' | qvm-run --pass-io vm1 $'echo a\n\n')
assert_eq a "$out" "trailing newlines of CMD are stripped"

t "exec sh -s runs a program from stdin in dash and bash VMs"
# shellcheck disable=SC2016 # expanded in the VM
prog='i=1; while [ $i -le 3 ]; do printf "%s " $i; i=$((i + 1)); done; echo; basename "$(readlink /proc/$$/exe)"'
for vm in vm1:dash vm2:bash; do
	sh=${vm#*:} vm=${vm%:*}
	out=$(printf '%s\n' "$prog" | qvm-run --pass-io --no-autostart --no-gui "$vm" 'exec sh -s')
	assert_eq "1 2 3 "$'\n'"$sh" "$out" "qvm-run into $vm"
	out=$(printf 'exec sh -s; exit\n%s\n' "$prog" | qrx "$vm")
	assert_eq "1 2 3 "$'\n'"$sh" "$out" "qrexec-client into $vm"
done

t "a halted VM: qvm-run --no-autostart exits 1 silently, qrexec-client 125"
out=$(qvm-run --pass-io --no-autostart vm3 'echo x' 2>&1 </dev/null)
assert_eq 1 "$?" "qvm-run status"
assert_eq "" "$out" "qvm-run output"
assert_exit 125 qrx vm3 </dev/null
assert_exit 125 qubes-sim exec vm3 -- true
assert_eq halted "$(qubes-sim state vm3)" "nothing started vm3"
[[ ! -e $SIM/run/qrexec.vm3 ]] || fail "qrexec.vm3 exists for a halted VM"

t "qvm-run without --no-autostart starts a halted VM"
qubes-sim create vm4 || fail "create vm4"
out=$(qvm-run --pass-io vm4 'echo up' </dev/null)
assert_eq up "$out"
assert_eq running "$(qubes-sim state vm4)"
assert_file_exists "$SIM/run/qrexec.vm4"
{ qubes-sim halt vm4 && qubes-sim remove vm4; } || fail "halt and remove vm4"
[[ ! -e $SIM/run/qrexec.vm4 && ! -e $SIM/vms/vm4 ]] || fail "vm4 left traces"

t "an unknown VM: qvm-run exits 2, qrexec-client 125"
assert_exit 2 qvm-run --pass-io nosuch true </dev/null
assert_exit 125 qrx nosuch </dev/null
assert_exit 2 qvm-run --pass-io 'bad name' true </dev/null

t "the remote exit status comes back"
assert_exit 42 qvm-run --pass-io vm1 'exit 42' </dev/null
assert_exit 42 qvm-run vm1 'exit 42' </dev/null
assert_exit 42 qrx vm1 <<<'exit 42'
assert_exit 42 qrexec-client -d vm1 'user:exit 42' </dev/null

t "qrexec-client USER:CMD runs the login shell, -bash -c CMD; other services are not found"
# shellcheck disable=SC2016 # expanded in the VM
out=$(qrexec-client -d vm2 'DEFAULT:echo "$0" $((6 * 7)) "$PWD"' </dev/null)
assert_eq "-bash 42 $SIM/vms/vm2/home" "$out"
assert_exit 127 qrexec-client -d vm1 'DEFAULT:QUBESRPC qubes.NoSuchService+ dom0' </dev/null

t "qvm-run without --pass-io passes no input and no output"
out=$(printf 'echo leaked\n' | qvm-run vm1 'echo hidden #')
assert_eq "" "$out"

t "stdout and stdin are byte-exact (1 MiB of random bytes)"
head -c 1048576 /dev/urandom >"$TEST_DIR/blob"
want=$(sha256sum <"$TEST_DIR/blob")
qubes-sim exec vm1 -- sh -c 'cat > blob' <"$TEST_DIR/blob" || fail "copy into vm1"
printf 'exec cat blob\n' | qrx vm1 >"$TEST_DIR/got1"
assert_eq "$want" "$(sha256sum <"$TEST_DIR/got1")" "qrexec-client stdout"
qvm-run --pass-io vm1 'cat blob' </dev/null >"$TEST_DIR/got2"
assert_eq "$want" "$(sha256sum <"$TEST_DIR/got2")" "qvm-run stdout"
{ printf 'exec cat; exit\n'; cat "$TEST_DIR/blob"; } | qrx vm1 >"$TEST_DIR/got3"
assert_eq "$want" "$(sha256sum <"$TEST_DIR/got3")" "qrexec-client stdin to stdout"
qvm-run --pass-io vm1 'exec cat' <"$TEST_DIR/blob" >"$TEST_DIR/got4"
assert_eq "$want" "$(sha256sum <"$TEST_DIR/got4")" "qvm-run stdin to stdout"

t "a caller's stdin left open does not keep qvm-run waiting"
t0=$(now_ms)
out=$(qvm-run --pass-io vm1 'echo quick' < <(sleep 4))
took=$(($(now_ms) - t0))
assert_eq quick "$out"
((took < 3000)) || fail "qvm-run took $took ms; it must end with the remote command"

t "halt kills everything running in the VM"
pid=$(qubes-sim exec vm1 -- sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!')
proc_alive "$pid" || fail "the background sleep did not start"
printf 'echo started > mark; sleep 1000\n' | qrx vm1 >/dev/null &
call=$!
track_pid "$call"
wait_for "[ -e '$SIM/vms/vm1/home/mark' ]" 5 || fail "the call did not start"
qubes-sim halt vm1 || fail "halt failed"
proc_alive "$pid" && fail "sleep $pid survived the halt"
rc=0
wait "$call" || rc=$?
assert_ne 0 "$rc" "status of a call cut by halt"
assert_eq halted "$(qubes-sim state vm1)"
[[ ! -e $SIM/run/qrexec.vm1 ]] || fail "qrexec.vm1 still exists"
qubes-sim start vm1 || fail "restart vm1"

t "pause freezes the VM; a call waits until unpause or its -w timeout"
pid=$(qubes-sim exec vm1 -- sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!')
qubes-sim pause vm1 || fail "pause failed"
assert_eq T "$(proc_state "$pid")" "state of a process in the paused VM"
assert_file_exists "$SIM/run/qrexec.vm1" "qrexec.vm1 while paused"
assert_exit 1 qvm-run --pass-io vm1 true </dev/null
took=$(elapsed_ms qrexec-client -d vm1 -w 1 "$VMSHELL")
((took >= 1000)) || fail "a call with -w 1 gave up after $took ms"
assert_exit 125 qrexec-client -d vm1 -w 1 "$VMSHELL" </dev/null
printf 'echo hello\n' | qrexec-client -d vm1 -w 10 "$VMSHELL" >"$TEST_DIR/paused.out" &
call=$!
track_pid "$call"
qubes-sim exec vm1 -- sh -c 'echo ran > frozen' &
term=$!
track_pid "$term"
sleep 0.5
kill -0 "$call" 2>/dev/null || fail "the call did not wait for the paused VM"
assert_eq "" "$(cat "$TEST_DIR/paused.out")" "output while paused"
[[ ! -e $SIM/vms/vm1/home/frozen ]] || fail "exec ran in the paused VM"
qubes-sim unpause vm1 || fail "unpause failed"
rc=0
wait "$call" || rc=$?
assert_eq 0 "$rc" "status of the call after unpause"
assert_eq hello "$(cat "$TEST_DIR/paused.out")"
wait "$term" || fail "exec into the paused VM failed after unpause"
assert_file_exists "$SIM/vms/vm1/home/frozen" "the file exec wrote after unpause"
assert_ne T "$(proc_state "$pid")" "state after unpause"

t "transport calls are logged, calls into halted VMs too"
qubes-sim calls --reset
qrx vm1 <<<true
qvm-run --pass-io vm1 true </dev/null
qrx vm3 </dev/null 2>/dev/null
qvm-run --pass-io --no-autostart vm3 true </dev/null
qubes-sim exec vm1 -- true
qvm-check vm1 >/dev/null
qvm-ls --raw-data --fields NAME,STATE >/dev/null
assert_eq 4 "$(qubes-sim calls --count)" "all calls"
assert_eq 2 "$(qubes-sim calls --tool qvm-run --count)" "qvm-run calls"
assert_eq 2 "$(qubes-sim calls --vm vm3 --count)" "calls into vm3"
assert_eq "halted halted" "$(qubes-sim calls --vm vm3 | awk '{ printf "%s%s", s, $4; s = " " }')" \
	"state logged for vm3"
bad=$(grep -Evc '^[0-9]{13} (qrexec-client|qvm-run) [A-Za-z][A-Za-z0-9_.-]* (running|paused|halted) [0-9]+$' \
	"$SIM/calls.log")
assert_eq 0 "$bad" "malformed lines in calls.log"
qubes-sim calls --reset
assert_eq 0 "$(qubes-sim calls --count)" "after reset"

t "qvm-check: 0 all, 3 some, 1 none or unknown; paused counts as running"
assert_exit 0 qvm-check --running vm1 vm2
assert_exit 3 qvm-check --running vm1 vm3
assert_exit 1 qvm-check --running vm3
assert_exit 1 qvm-check --running vm1 nosuch
assert_exit 1 qvm-check --running 'bad name'
assert_exit 0 qvm-check vm1 vm3
assert_exit 1 qvm-check nosuch
qubes-sim pause vm2
assert_exit 0 qvm-check --running vm2
assert_exit 0 qvm-check --paused vm2
assert_exit 3 qvm-check --paused vm1 vm2
assert_eq "" "$(qvm-check -q --running vm1 vm3 2>&1)" "-q output"
qubes-sim unpause vm2

t "qvm-ls --raw-data lists dom0 first, then each VM and its state"
qubes-sim pause vm2
out=$(qvm-ls --raw-data --fields NAME,STATE)
assert_eq $'dom0|Running\nvm1|Running\nvm2|Paused\nvm3|Halted' "$out"
out=$(qvm-ls --raw-data --fields NAME,STATE --running)
assert_eq $'dom0|Running\nvm1|Running' "$out" "--running"
out=$(qvm-ls --raw-data --fields NAME)
assert_eq $'dom0\nvm1\nvm2\nvm3' "$out" "NAME only"
assert_exit 2 qvm-ls --raw-data --fields NAME,CLASS
qubes-sim unpause vm2

t "the latency is added to every transport call"
qubes-sim latency 200
took=$(elapsed_ms qrx vm1)
((took >= 200)) || fail "qrexec-client took $took ms with latency 200"
took=$(elapsed_ms qvm-run --pass-io --no-autostart vm3 true)
((took >= 200)) || fail "a failing qvm-run took $took ms with latency 200"
qubes-sim latency 0
took=$(QUBES_SIM_LATENCY_MS=200 elapsed_ms qvm-run --pass-io vm1 true)
((took >= 200)) || fail "QUBES_SIM_LATENCY_MS=200 was not applied ($took ms)"

t "a VM sees only its own environment, in its home"
out=$(qubes-sim exec vm1 -- env | LC_ALL=C sort | tr '\n' ' ')
u1=$(cat "$SIM/vms/vm1/user")
assert_eq "HOME=$SIM/vms/vm1/home LANG=C.UTF-8 LOGNAME=$u1 PATH=$SIM/vms/vm1/bin:$SIM/vmbin:/usr/local/bin:/usr/bin:/bin USER=$u1 " "$out"
assert_eq "$SIM/vms/vm1/home" "$(qubes-sim exec vm1 -- pwd)" "cwd"
assert_eq "$SIM/vms/vm1/home" "$(qrexec-client -d vm1 'user:pwd' </dev/null)" "cwd of a call"

t "inside a VM, qubesdb-read /name prints the VM's name"
assert_eq vm1 "$(qubes-sim exec vm1 -- qubesdb-read /name)" "name"
assert_exit 1 qubes-sim exec vm1 -- qubesdb-read /no-such-key

t "VM names follow the Qubes rules"
assert_exit 2 qubes-sim create dom0
assert_exit 2 qubes-sim create 1vm
assert_exit 2 qubes-sim create "a$(printf '%031d' 0)"
assert_exit 1 qubes-sim create vm1
assert_exit 0 qubes-sim create "a$(printf '%030d' 0)"
assert_exit 0 qubes-sim remove "a$(printf '%030d' 0)"

t "as root, each VM is a unix user whose home the others cannot read"
if need_root; then
	u1=$(cat "$SIM/vms/vm1/user") u2=$(cat "$SIM/vms/vm2/user")
	assert_ne "$u1" "$u2" "users of vm1 and vm2"
	assert_eq "$u1 700" "$(stat -c '%U %a' "$SIM/vms/vm1/home")" "owner and mode of vm1's home"
	assert_eq "$u2 700" "$(stat -c '%U %a' "$SIM/vms/vm2/home")" "owner and mode of vm2's home"
	assert_eq "$u1" "$(qubes-sim exec vm1 -- id -un)" "user in vm1"
	assert_eq "$u2" "$(qrx vm2 <<<'id -un')" "user of a call into vm2"
	qubes-sim exec vm2 -- sh -c 'echo secret > secret' || fail "write in vm2"
	assert_exit 1 qubes-sim exec vm1 -- cat "$SIM/vms/vm2/home/secret"
	assert_exit 1 qrexec-client -d vm1 "user:cat $SIM/vms/vm2/home/secret" </dev/null
fi

t "the VMs' PATH holds the client; destroy removes VMs, users and the machine"
m2=$TEST_DIR/m2
printf '#!/bin/sh\necho fake client\n' >"$TEST_DIR/fake-client"
chmod 0755 "$TEST_DIR/fake-client"
sim_init "$m2" --client "$TEST_DIR/fake-client" || fail "init $m2"
{ "$m2/bin/qubes-sim" -r "$m2" create x && "$m2/bin/qubes-sim" -r "$m2" start x; } || fail "make x"
assert_eq "fake client" "$(QUBES_SIM_ROOT=$m2 "$m2/bin/qubes-sim" exec x -- qvm-remote)"
assert_eq "fake client" "$(printf 'qvm-remote\n' | "$m2/bin/qrexec-client" -d x "$VMSHELL")" \
	"tools find their machine from their own path"
ux=$(cat "$m2/vms/x/user")
QUBES_SIM_ROOT=$m2 "$m2/bin/qubes-sim" exec x -- sh -c 'sleep 1000 >/dev/null 2>&1 & echo $!' >"$TEST_DIR/xpid"
"$QUBES_SIM_SRC" -r "$m2" destroy || fail "destroy failed"
[[ ! -e $m2 ]] || fail "$m2 still exists"
proc_alive "$(cat "$TEST_DIR/xpid")" && fail "a process of x survived destroy"
if ((EUID == 0)); then
	getent passwd "$ux" >/dev/null && fail "user $ux still exists"
	getent group "$ux" >/dev/null && fail "group $ux still exists"
fi

# ---- where the real qrexec differs from what the simulator was (issue 13;
# real-qrexec.md): each case is one measured behaviour of the real one.

t "a paused VM: qrexec-client fails with 125 after the connect timeout, 5 s unless set"
assert_eq 5 "$(cat "$SIM/connect_timeout")" "the machine's default -w"
qubes-sim pause vm1 || fail "pause failed"
took=$(elapsed_ms qrexec-client -d vm1 "$VMSHELL")
((took >= 5000)) || fail "a call with the default timeout gave up after $took ms"
assert_exit 125 qrexec-client -d vm1 -w 1 'user:true' </dev/null
qubes-sim connect-timeout 1 || fail "connect-timeout 1"
took=$(elapsed_ms qrexec-client -d vm1 "$VMSHELL")
((took >= 1000 && took < 5000)) || fail "with connect-timeout 1 the call gave up after $took ms"
assert_exit 125 qrexec-client -d vm1 "$VMSHELL" </dev/null
QUBES_SIM_CONNECT_TIMEOUT=0 qrexec-client -d vm1 'user:echo waited' </dev/null >"$TEST_DIR/w0.out" &
call=$!
track_pid "$call"
sleep 1.5
kill -0 "$call" 2>/dev/null || fail "a call with no timeout (0) gave up"
qubes-sim unpause vm1 || fail "unpause failed"
rc=0
wait "$call" || rc=$?
assert_eq 0 "$rc" "status of the call with no timeout"
assert_eq waited "$(cat "$TEST_DIR/w0.out")"
qubes-sim connect-timeout 5

t "USER:CMD gets the agent's environment: login profile PATH, SHELL, QREXEC_AGENT_PID, no LANG"
u1=$(cat "$SIM/vms/vm1/user")
qubes-sim exec vm1 -- sh -c 'rm -rf bin .local'
# shellcheck disable=SC2016 # expanded in the VM
out=$(qrexec-client -d vm1 'user:echo "$0|$HOME|$USER|$LOGNAME|$SHELL|${LANG-unset}|${QREXEC_AGENT_PID:+set}"; echo "$PATH"' </dev/null)
assert_eq "-bash|$SIM/vms/vm1/home|$u1|$u1|/bin/bash|unset|set" "$(head -n 1 <<<"$out")" "argv0 and environment"
path=$(sed -n 2p <<<"$out")
assert_contains "$path" "$SIM/vms/vm1/bin:$SIM/vmbin:" "PATH holds the VM's programs and packages"
[[ $path == "$SIM/vms/vm1/bin:"* ]] || fail "PATH does not start with the VM's programs: $path"
assert_contains ":$path:" ":/usr/bin:" "PATH from /etc/profile"
# the user's ~/bin and ~/.local/bin come first, as on Debian, once they exist
qubes-sim exec vm1 -- mkdir -p bin .local/bin
# shellcheck disable=SC2016 # expanded in the VM
path=$(qrexec-client -d vm1 'user:echo "$PATH"' </dev/null)
[[ $path == "$SIM/vms/vm1/home/.local/bin:$SIM/vms/vm1/home/bin:$SIM/vms/vm1/bin:"* ]] ||
	fail "the home's .local/bin and bin are not first: $path"
qubes-sim exec vm1 -- sh -c 'rm -rf bin .local'

t "qubes.VMShell runs sh -lc, then the service file's bash: login PATH, QREXEC_* set, no LANG"
for tool in qrx qvmrun; do
	# shellcheck disable=SC2016 # expanded in the VM
	script='echo "$(basename "$(readlink /proc/$$/exe)")|${LANG-unset}|$SHELL|$QREXEC_SERVICE_FULL_NAME|$QREXEC_REMOTE_DOMAIN|${QREXEC_AGENT_PID:+set}|$PATH"'
	if [[ $tool == qrx ]]; then
		out=$(printf '%s\n' "$script" | qrx vm1)
	else
		out=$(qvm-run --pass-io vm1 "$script" </dev/null)
	fi
	assert_eq "bash|unset|/bin/bash|qubes.VMShell+|dom0|set|$SIM/vms/vm1/bin:$SIM/vmbin:" \
		"${out%%"$SIM/vmbin:"*}$SIM/vmbin:" "the shell of $tool"
done
# a profile that prints shows it ran: sh -l reads .profile before the service
qubes-sim exec vm2 -- sh -c 'echo "echo profile-ran" >>.profile'
assert_eq $'profile-ran\nx' "$(printf 'echo x\n' | qrx vm2)" "the user's .profile runs in qubes.VMShell"
assert_eq $'profile-ran\nx' "$(qrexec-client -d vm2 'user:echo x' </dev/null)" "the user's .profile runs for USER:CMD"
qubes-sim exec vm2 -- sh -c 'grep -v profile-ran .profile >.p && mv .p .profile'

t "an unknown user, or no USER: part, fails with 125; root is refused and logged"
qubes-sim refused --reset
assert_exit 125 qrexec-client -d vm1 'nosuchuser:true' </dev/null
assert_exit 125 qrexec-client -d vm1 'true' </dev/null
assert_exit 125 qrexec-client -d vm1 'nosuchuser:QUBESRPC qubes.VMShell+ dom0' </dev/null
assert_exit 0 qrexec-client -d vm1 'user:true' </dev/null
assert_exit 0 qrexec-client -d vm1 "$(cat "$SIM/vms/vm1/user"):true" </dev/null
assert_exit 125 qvm-run --pass-io -u nosuchuser vm1 true </dev/null
assert_eq 0 "$(qubes-sim refused --count)" "refusals before root"
assert_exit 125 qrexec-client -d vm1 'root:true' </dev/null
assert_contains "$(qubes-sim refused)" "vm1 a call as root is not simulated" "refused.log"
qubes-sim refused --reset

t "output is relayed: a background child holding stdout keeps the call open, its output arrives"
# shellcheck disable=SC2016 # expanded in the VM
bg='(sleep 1; echo late) & echo early'
out=$(qrexec-client -d vm1 "user:$bg" </dev/null)
assert_eq $'early\nlate' "$out" "qrexec-client USER:CMD"
# into a file, so only the tool, not the pipe of $(...), can wait for the child
for tool in user qrx qvmrun; do
	# shellcheck disable=SC2016 # expanded by sh -c
	case $tool in
	user) took=$(elapsed_ms sh -c 'qrexec-client -d vm1 "user:$1" >"$2"' sh "$bg" "$TEST_DIR/bg.out") ;;
	qrx) took=$(elapsed_ms sh -c 'printf "%s\n" "$1" | qrexec-client -d vm1 "$3" >"$2"' sh "$bg" "$TEST_DIR/bg.out" "$VMSHELL") ;;
	qvmrun) took=$(elapsed_ms sh -c 'qvm-run --pass-io vm1 "$1" >"$2"' sh "$bg" "$TEST_DIR/bg.out") ;;
	esac
	((took >= 1000)) || fail "$tool: the call ended after $took ms, before the child let go of stdout"
	assert_eq $'early\nlate' "$(cat "$TEST_DIR/bg.out")" "$tool: what the file held when the call ended"
done
out=$(printf '%s\n' "$bg" | qrx vm1)
assert_eq $'early\nlate' "$out" "qrexec-client qubes.VMShell"
out=$(qvm-run --pass-io vm1 "$bg" </dev/null)
assert_eq $'early\nlate' "$out" "qvm-run"
out=$(qrexec-client -d vm1 'user:(sleep 1; echo late-err >&2) & echo early' 2>&1 </dev/null)
assert_eq $'early\nlate-err' "$out" "stderr held by a background child"
# once the child lets go of stdout, the call ends: only the command counts then
took=$(elapsed_ms qrexec-client -d vm1 'user:sleep 3 >/dev/null 2>&1 & echo x')
((took < 2500)) || fail "a child that holds no output kept the call open $took ms"

t "a caller that closes stdout early does not kill the remote command"
qubes-sim exec vm1 -- rm -f finished
# shellcheck disable=SC2016 # expanded in the VM
rc=$(qrexec-client -d vm1 'user:i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i + 1)); done; echo done >finished; exit 3' </dev/null |
	head -n 1 >/dev/null; echo "${PIPESTATUS[0]}")
assert_eq 3 "$rc" "status of qrexec-client: the command's, not SIGPIPE's"
assert_eq "done" "$(qubes-sim exec vm1 -- cat finished)" "the command ran to its end"
qubes-sim exec vm1 -- rm -f finished
# shellcheck disable=SC2016 # expanded in the VM
rc=$(printf 'i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i + 1)); done; echo done >finished; exit 4\n' |
	qvm-run --pass-io vm1 'exec sh -s' | head -n 1 >/dev/null; echo "${PIPESTATUS[1]}")
assert_eq 4 "$rc" "status of qvm-run"
assert_eq "done" "$(qubes-sim exec vm1 -- cat finished)" "the command ran to its end (qvm-run)"

t "qrexec-client: an unknown option prints the usage on stdout and exits 0; no -d or request, 1"
out=$(qrexec-client --no-such-option -d vm1 'user:echo ran' 2>/dev/null)
assert_eq 0 "$?" "status for an unknown long option"
assert_contains "$out" "usage: qrexec-client" "usage on stdout"
assert_ne ran "$out" "nothing ran"
out=$(qrexec-client -x -d vm1 'user:echo ran' 2>/dev/null)
assert_eq 0 "$?" "status for an unknown short option"
assert_contains "$out" "usage: qrexec-client" "usage on stdout (-x)"
assert_eq "" "$(qrexec-client -d vm1 2>/dev/null)" "nothing on stdout without a request"
assert_exit 1 qrexec-client -d vm1
assert_exit 1 qrexec-client 'user:true'
assert_exit 1 qrexec-client -d vm1 -w x 'user:true'
# options and the request in any order, values attached, -E
assert_eq ran "$(qrexec-client 'user:echo ran' -dvm1 -w5 </dev/null)" "getopt_long order"
assert_exit 0 qrexec-client -E -d vm1 'user:exit 9' </dev/null

t "a USER:CMD longer than the agent's 4 KiB control channel is refused loudly and logged"
qubes-sim refused --reset
cmd4087="user:: $(printf '%04080d' 0)"   # ':' is sh's no-op
assert_eq 4087 "${#cmd4087}" "length of the longest request that fits"
assert_exit 0 qrexec-client -d vm1 "$cmd4087" </dev/null
assert_exit 125 qrexec-client -d vm1 "${cmd4087}0" </dev/null
# DEFAULT: goes to the agent as the default user's name, 3 bytes shorter
assert_exit 0 qrexec-client -d vm1 "DEFAULT:: $(printf '%04080d' 0)" </dev/null
assert_exit 125 qrexec-client -d vm1 "DEFAULT:: $(printf '%04081d' 0)" </dev/null
assert_eq 2 "$(qubes-sim refused --count)" "refusals logged"
assert_contains "$(qubes-sim refused)" "vm1 a request of 4088 bytes" "refused.log"
qubes-sim refused --reset

t "calls open at once into one VM are capped below the real qrexec-daemon's limit, refused and logged"
assert_eq 250 "$(cat "$SIM/max_calls")" "the machine's default"
qubes-sim max-calls 3 || fail "max-calls 3"
pids=()
for i in 1 2 3; do
	qrexec-client -d vm2 'user:sleep 3' </dev/null &
	pids+=("$!")
	track_pid "$!"
done
wait_for "[ \$(ls '$SIM/vms/vm2/calls' | wc -l) -ge 3 ]" 10 || fail "the 3 calls did not open"
assert_exit 125 qrexec-client -d vm2 'user:true' </dev/null
assert_exit 125 qvm-run --pass-io vm2 true </dev/null
assert_exit 0 qrexec-client -d vm1 'user:true' </dev/null   # another VM is not affected
assert_contains "$(qubes-sim refused)" "vm2 call 4 open at once into 'vm2' (at most 3)" "refused.log"
for p in "${pids[@]}"; do wait "$p" || fail "a call under the cap failed"; done
assert_exit 0 qrexec-client -d vm2 'user:true' </dev/null
qubes-sim max-calls 250
qubes-sim refused --reset

t "the VMs run copies of the client and agent, not the files given to init"
m3=$TEST_DIR/m3
cp "$TEST_DIR/fake-client" "$TEST_DIR/fake-client2"
sim_init "$m3" --client "$TEST_DIR/fake-client2" --agent "$TEST_DIR/fake-client2" || fail "init $m3"
[[ -f $m3/vmbin/qvm-remote && ! -L $m3/vmbin/qvm-remote ]] || fail "vmbin/qvm-remote is not a file of its own"
[[ -f $m3/vmbin/qvm-remote-agent && ! -L $m3/vmbin/qvm-remote-agent ]] || fail "vmbin/qvm-remote-agent is not a file of its own"
rm -f "$TEST_DIR/fake-client2"
{ "$m3/bin/qubes-sim" -r "$m3" create y && "$m3/bin/qubes-sim" -r "$m3" start y; } || fail "make y"
assert_eq "fake client" "$(QUBES_SIM_ROOT=$m3 "$m3/bin/qubes-sim" exec y -- qvm-remote)" "with the original gone"
"$QUBES_SIM_SRC" -r "$m3" destroy || fail "destroy $m3"
