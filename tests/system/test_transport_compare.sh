#!/bin/bash
# sim/ against the real qrexec, case by case (issue 13): the same transport
# calls go to a machine of sim/qubes-sim and to one of sim/qubes-real, and
# each case must give the same exit status and, where the case says so, the
# same stdout and stderr (the machine's directory and the VM's unix user
# written as DIR and USER).  A difference the simulator is meant to keep is
# named in sim/README.md and has no case here; any other one fails its
# case, so a new difference shows.  Only with QVMR_TRANSPORT=real.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
[[ ${QVMR_TRANSPORT:-sim} == real ]] ||
	skip_all "it needs the real qrexec; run with QVMR_TRANSPORT=real (make check-real)"

# machine KIND DIR: vm1 running, vm2 halted, vm3 paused, on sim/qubes-KIND
machine() {
	QUBES_SIM_SRC=$QVMR_TOP/sim/qubes-$1 sim_init "$2" || die "qubes-$1 init failed"
	local q=$2/bin/qubes-sim
	"$q" -r "$2" create vm1 && "$q" -r "$2" start vm1 &&
		"$q" -r "$2" create vm2 &&
		"$q" -r "$2" create vm3 && "$q" -r "$2" start vm3 &&
		"$q" -r "$2" pause vm3 || die "cannot make the VMs of qubes-$1"
}

# The cases.  c NAME WHAT STDIN VM REQUEST: a qrexec-client call, -d VM
# (VM may carry options after it), REQUEST with LONG replaced by 3990
# bytes, DIR by the machine's directory and a leading "user:" by the VM's
# unix user; WHAT is what must be the same
# besides the exit status: o stdout, e stderr, w "it waited for the
# connect timeout", m "the remote ran on" (its marker file appeared; the
# exit status is not compared: the real client may never exit).
names=() whats=() inputs=() vms=() requests=()
c() {
	names+=("$1") whats+=("$2") inputs+=("$3") vms+=("$4") requests+=("$5")
}
# shellcheck disable=SC2016 # expanded in the VM
{
	c 'VMShell: a script on stdin, its output and exit status' oe \
		'echo hi; echo oops >&2; exit 7' vm1 "$VMSHELL"
	c 'USER:CMD: output and exit status' oe '' vm1 'user:echo hi; echo oops >&2; exit 7'
	c 'DEFAULT:CMD is the default user' o '' vm1 'DEFAULT:id -un; exit 3'
	c 'a remote killed by signal 9' o '' vm1 'user:echo before; kill -9 $$'
	c 'NUL bytes and no final newline' o '' vm1 'user:printf "a\000b\000"'
	c 'stdin reaches the command, and its end ends it' o 'the input' vm1 'user:cat; echo; echo end'
	c 'USER:CMD runs a login bash in $HOME' o '' vm1 \
		'user:echo "$0"; pwd; echo "$HOME" "$USER" "$LOGNAME" "$SHELL" "${LANG-nolang}"'
	c 'USER:CMD: the QREXEC_ variables' o '' vm1 \
		'user:env | sed -n "s/^\(QREXEC_[A-Z_]*\)=.*/\1/p" | sort'
	c 'USER:CMD: PATH from the profile' o '' vm1 'user:echo "$PATH" | tr : "\n" | grep "^DIR"'
	c 'VMShell: sh -lc then bash, in $HOME' o \
		'echo "$0" "${BASH_VERSION%%.*}"; pwd; echo "${LANG-nolang}"' vm1 "$VMSHELL"
	c 'a background child holding stdout keeps the call open' o '' vm1 \
		'user:(sleep 1; echo late) & echo now'
	c 'a caller that closes stdout does not stop the remote' m '' vm1 \
		'user:echo first; sleep 1; echo second; echo ran >~/closed-marker'
	c 'a command line of 4000 bytes' o '' vm1 'user:echo LONG'
	c 'an unknown service: 127' '' '' vm1 'DEFAULT:QUBESRPC qubes.NoSuchService+ dom0'
	c 'an unknown user: 125' '' '' vm1 'nosuchuser:echo ran'
	c 'a request without USER: 125' '' '' vm1 'echo ran'
	c 'an unknown VM: 125' '' '' nosuch 'user:true'
	c 'a halted VM: 125' '' '' vm2 'user:true'
	c 'a paused VM: 125 after the connect wait' w '' 'vm3 -w 2' 'user:true'
}

# shown FILE DIR USER: FILE's bytes, DIR and USER replaced, as od shows them
shown() {
	sed -e "s|$2|DIR|g" -e "s|$3|USER|g" -- "$1" | od -An -c | tr -s ' \n' ' '
}

# run_cases DIR OUT: every case through DIR's qrexec-client, one line each
# into OUT: NAME<TAB>exit=N[<TAB>stdout=...][<TAB>stderr=...][...]
run_cases() {
	local dir=$1 out=$2 i what req user rc t0 ms line long
	local -a call
	long=$(printf '%03990d' 0)
	read -r user <"$dir/vms/vm1/user"
	: >"$out"
	for i in "${!names[@]}"; do
		what=${whats[i]}
		req=${requests[i]//LONG/$long}
		req=${req//DIR/$dir}
		# Qubes' VMs have a user "user"; these machines' VM users are
		# named by the machine (sim/ also takes "user", the real one not)
		[[ $req == user:* ]] && req=$user:${req#user:}
		# shellcheck disable=SC2206 # the VM, then its options
		call=(env PATH="$dir/bin:$PATH" QUBES_SIM_ROOT="$dir" qrexec-client -d ${vms[i]} "$req")
		rm -f -- "$dir/vms/vm1/home/closed-marker"
		t0=$(now_ms)
		rc=0
		if [[ $what == *m* ]]; then
			printf '%s' "${inputs[i]}" | timeout 8 "${call[@]}" 2>"$TEST_DIR/err" |
				head -n 1 >"$TEST_DIR/out"
		else
			printf '%s' "${inputs[i]}" | timeout 30 "${call[@]}" \
				>"$TEST_DIR/out" 2>"$TEST_DIR/err" || rc=$?
		fi
		ms=$(($(now_ms) - t0))
		line=${names[i]}
		[[ $what == *m* ]] || line+=$'\t'"exit=$rc"
		[[ $what == *o* ]] && line+=$'\t'"stdout=$(shown "$TEST_DIR/out" "$dir" "$user")"
		[[ $what == *e* ]] && line+=$'\t'"stderr=$(shown "$TEST_DIR/err" "$dir" "$user")"
		[[ $what == *w* ]] && line+=$'\t'"waited=$((ms >= 1800))"
		if [[ $what == *m* ]]; then
			wait_for "[[ -s '$dir/vms/vm1/home/closed-marker' ]]" 5
			line+=$'\t'"ran-on=$?"
		fi
		printf '%s\n' "$line" >>"$out"
	done
}

machine sim "$TEST_DIR/sim"
machine real "$TEST_DIR/real"
run_cases "$TEST_DIR/sim" "$TEST_DIR/sim.txt"
run_cases "$TEST_DIR/real" "$TEST_DIR/real.txt"

n=0
while IFS= read -r want <&3 && IFS= read -r got <&4; do
	t "${want%%$'\t'*}: the same on sim/ and the real qrexec"
	assert_eq "$want" "$got" "the real qrexec (expected) against sim/ (got)"
	n=$((n + 1))
done 3<"$TEST_DIR/real.txt" 4<"$TEST_DIR/sim.txt"
t "every case was compared"
assert_eq "${#names[@]}" "$n" "cases compared"
