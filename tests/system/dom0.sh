# tests/system/dom0.sh: a simulated dom0 running the real daemon against
# simulated VMs.  Source after lib.sh:
#
#   dom0_setup VM[:bash]...    the machine $SIM with these VMs (dash unless
#                              :bash), running, each with a key made in the
#                              VM and pulled by dom0 (authorize --from-vm)
#   dom0_start [ARGS...]       start the daemon in the background
#   dom0_stop                  SIGTERM it and wait; fails the case if the
#                              daemon did not exit 0
#   dom0_start_no_inotify      dom0_start with inotify taken away (an
#                              LD_PRELOAD shim); 1 without a C compiler
#   dom0 ARGS...               run qvm-remote-dom0 (a verb) with the config
#   in_vm VM CMD...            run CMD in VM as its user, as in its terminal
#   calls VM                   transport calls made into VM so far
#   dom0_log                   the dom0 audit log
#   auth_ok_count VM           AUTH-OK lines of VM in it so far
#   queued_refused PID ERR REASON HOLDER GO   the client PID of a request
#                              that waited for a slot ends with 126 and
#                              REASON in file ERR while HOLDER, the client
#                              of the command in the slot, still waits;
#                              then file GO releases it, and it must end 0
# Settings go in $DOM0_CONF (KEY=value lines) before dom0_start.
need_build client daemon
DOM0=$TEST_DIR/dom0
DOM0_CONF=$DOM0/remote.conf
DOM0_PID=

dom0() { "$QVMR_DAEMON" -c "$DOM0_CONF" "$@"; }
in_vm() { local vm=$1; shift; qubes-sim exec "$vm" -- "$@"; }
calls() { qubes-sim calls --vm "$1" --count; }
dom0_log() { cat "$QVM_REMOTE_LOG"; }
auth_ok_count() { grep -c "AUTH-OK vm=$1 " "$QVM_REMOTE_LOG"; }

queued_refused() {
	wait_for "! proc_alive $1" 30 || fail "the queued request's client still waits"
	wait "$1"
	assert_eq 126 "$?" "the queued request's client"
	assert_contains "$(cat "$2")" "$3" "its reason"
	[[ -e $5 ]] && fail "the command in the slot was released too early"
	touch "$5"
	wait "$4"
	assert_eq 0 "$?" "the command in the slot finishes"
}

dom0_setup() {
	local spec vm
	sim_setup 0
	mkdir -p "$DOM0"
	: >"$DOM0_CONF"
	export QVM_REMOTE_KEYS_DIR=$DOM0/keys
	# absent: no policy, every request runs as root (qvm-remote-policy(5))
	export QVM_REMOTE_POLICY_DIR=$DOM0/policy
	export QVM_REMOTE_LOG=$DOM0/qvm-remote.log
	export QVM_REMOTE_RUNTIME_DIR=$DOM0/run
	export QVM_REMOTE_STATE_DIR=$DOM0/state
	export QVM_REMOTE_QREXEC_DIR=$SIM/run
	for spec in "$@"; do
		vm=${spec%%:*}
		qubes-sim create "$vm" --shell "$([[ $spec == *:bash ]] && echo bash || echo dash)" ||
			die "cannot create VM $vm"
		qubes-sim start "$vm" || die "cannot start VM $vm"
		in_vm "$vm" qvm-remote key gen >/dev/null 2>&1 || die "key gen failed in $vm"
		dom0 authorize --from-vm "$vm" >/dev/null || die "authorize --from-vm $vm failed"
	done
}

dom0_start() {
	"$QVMR_DAEMON" -c "$DOM0_CONF" "$@" >>"$DOM0/daemon.out" 2>&1 &
	DOM0_PID=$!
	track_pid "$DOM0_PID"
}

dom0_start_no_inotify() {
	local so=$TEST_DIR/noinotify.so
	command -v cc >/dev/null || return 1
	if [[ ! -e $so ]]; then
		printf '%s\n' '#include <errno.h>' \
			'int inotify_init1(int f) { (void)f; errno = ENOSYS; return -1; }' \
			'int inotify_init(void) { errno = ENOSYS; return -1; }' >"$TEST_DIR/noinotify.c"
		cc -shared -fPIC -o "$so" "$TEST_DIR/noinotify.c" || die "cannot build the shim"
	fi
	LD_PRELOAD=$so ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 dom0_start "$@"
}

dom0_stop() {
	local rc=0
	[[ -n $DOM0_PID ]] || return 0
	kill -TERM "$DOM0_PID" 2>/dev/null
	wait "$DOM0_PID" || rc=$?
	DOM0_PID=
	assert_eq 0 "$rc" "the daemon's exit status after SIGTERM"
}

# ----------------------------------------------- attacks, by hand --
# For tests that act as an attacker in a VM: request files written into
# the VM's own queue with sh, tokens computed with openssl as
# docs/protocol.md section 2 says.
#
#   vm_queue VM                the VM's queue directory, as dom0 sees it
#   vm_keyhex VM               the 64 hex characters of the VM's auth.key
#   make_cid [EPOCH]           a new cid for EPOCH (now by default), UTC
#   v2_token KEY CID BODY [OPT [IN]]   "v2 HEX" over these files; an empty
#                              or missing name hashes as the empty string
#   v1_token KEY CID           the legacy token, HMAC(KEY, CID) in hex
#   plant VM CID BODY OPT IN AUTH      a process in VM writes the request
#                              (OPT, IN: files or ""), AUTH text last
#   plant_cancel VM CID TARGET [KEYHEX]  a cancel of TARGET (protocol.md 5b),
#                              signed with the VM's key or the one given
#   forged_cancels VM TARGET OTHER   the three forgeries a cancel of VM's
#                              TARGET must survive: signed with OTHER's
#                              key, without a valid token (both rejected),
#                              and OTHER's own cancel (not-held)
#   wait_result VM CID [SEC]   until results/CID.exit exists (20 s)
#   meta_field VM CID KEY      KEY's value in results/CID.meta
vm_queue() { printf '%s/vms/%s/home/.qvm-remote/queue\n' "$SIM" "$1"; }
vm_keyhex() { head -c 64 "$SIM/vms/$1/home/.qvm-remote/auth.key"; }

make_cid() {
	printf '%s-%s-%s\n' "$(date -u -d "@${1:-$(date +%s)}" +%Y%m%d-%H%M%S)" \
		"$((RANDOM + 1))" "$(openssl rand -hex 16)"
}

_sha_raw() {   # FILE or "": its SHA-256, 32 raw bytes
	if [[ -n $1 && -e $1 ]]; then openssl dgst -sha256 -binary <"$1"
	else openssl dgst -sha256 -binary </dev/null; fi
}

v2_token() {
	local mac
	mac=$({ printf 'qvm-remote-v2\0%s\0' "$2"; _sha_raw "$3"; _sha_raw "${4:-}"; _sha_raw "${5:-}"; } |
		openssl dgst -sha256 -hmac "$1") || return 1
	printf 'v2 %s\n' "${mac##* }"
}

v1_token() {
	local mac
	mac=$(printf '%s' "$2" | openssl dgst -sha256 -hmac "$1") || return 1
	printf '%s\n' "${mac##* }"
}

_plants=0
plant() {
	local s=$TEST_DIR/plant.$((++_plants))
	mkdir -m 0755 "$s" && cp -- "$3" "$s/body" || return 1
	[[ -z $4 ]] || cp -- "$4" "$s/opt" || return 1
	[[ -z $5 ]] || cp -- "$5" "$s/in" || return 1
	printf '%s\n' "$6" >"$s/auth"
	chmod 0644 "$s"/*
	# shellcheck disable=SC2016 # expanded by the VM's sh
	in_vm "$1" sh -c '
		q=$HOME/.qvm-remote/queue/pending; s=$1; c=$2
		mkdir -p "$q" || exit 1
		for x in "" .opt .in .auth; do
			f=$s/${x#.}; [ -n "$x" ] || f=$s/body
			[ ! -e "$f" ] || { cp "$f" "$q/.plant" && mv "$q/.plant" "$q/$c$x"; } || exit 1
		done' sh "$s" "$2"
}

plant_cancel() {
	local key=${4:-$(vm_keyhex "$1")}
	: >"$TEST_DIR/body.$2"
	printf 'cancel=%s\n' "$3" >"$TEST_DIR/opt.$2"
	plant "$1" "$2" "$TEST_DIR/body.$2" "$TEST_DIR/opt.$2" "" \
		"$(v2_token "$key" "$2" "$TEST_DIR/body.$2" "$TEST_DIR/opt.$2")"
}

forged_cancels() {
	local c
	c=$(make_cid)
	plant_cancel "$1" "$c" "$2" "$(vm_keyhex "$3")"
	wait_result "$1" "$c" || fail "no answer to the cancel signed with $3's key"
	assert_eq rejected "$(meta_field "$1" "$c" status)" "a cancel signed with $3's key"
	c=$(make_cid)
	: >"$TEST_DIR/body.$c"
	printf 'cancel=%s\n' "$2" >"$TEST_DIR/opt.$c"
	plant "$1" "$c" "$TEST_DIR/body.$c" "$TEST_DIR/opt.$c" "" "v2 $(printf '0%.0s' {1..64})"
	wait_result "$1" "$c" || fail "no answer to the unsigned cancel"
	assert_eq rejected "$(meta_field "$1" "$c" status)" "a cancel without a valid token"
	c=$(make_cid)
	plant_cancel "$3" "$c" "$2"
	wait_result "$3" "$c" || fail "no answer to $3's cancel"
	assert_eq not-held "$(cat "$(vm_queue "$3")/results/$c.out")" "$3's cancel of $1's request"
	assert_eq 1 "$(cat "$(vm_queue "$3")/results/$c.exit")" "its exit"
}

wait_result() { wait_for "[[ -e \$(vm_queue '$1')/results/'$2'.exit ]]" "${3:-20}"; }

meta_field() {
	sed -n "s/^$3=//p" "$(vm_queue "$1")/results/$2.meta" 2>/dev/null | head -n 1
}
