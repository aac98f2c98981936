#!/bin/bash
# The desktop question of issue 15, `qvm-remote-dom0 prompt ID`, on its
# own: no simulator and no service, only an asks/ID file as the service
# writes it, an X server (Xvfb) standing in for dom0's desktop, and
# xdotool standing in for the person.  The request's command holds
# markup-like text, control bytes and a byte above 0x7f: zenity's argv
# must show them escaped, with no raw control byte.  Approve and Deny
# write answers/ID (via=desktop, by= the desktop's user); a SIGTERM ends
# the question with no answer and no zenity left; a display that is not
# there is no answer (exit 2), never a Deny.
#
# As root the dialog runs as a throwaway user, as the service's prompt
# runs it as the desktop's; otherwise as the user running the test.
# Needs xvfb, zenity and xdotool (tools/deps.sh test installs them); a
# missing one fails the file, so CI cannot pass without running it.
. "$(dirname "$0")/lib.sh"

need_build daemon

t "the tools of the desktop test are installed"
for tool in Xvfb zenity xdotool pgrep; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool is missing: apt-get install xvfb zenity xdotool (make deps-test installs them)"
done

RUN=$TEST_DIR/run
CONF=$TEST_DIR/remote.conf
mkdir -m 0700 "$RUN" || die "mkdir $RUN"
: >"$CONF"
if ((EUID == 0)); then
	U=qvmrask$$
	useradd -M -d "$TEST_DIR/home-$U" -s /bin/sh -U "$U" || die "useradd $U failed"
	at_exit "userdel '$U' 2>/dev/null; groupdel '$U' 2>/dev/null"
	mkdir -m 0700 "$TEST_DIR/home-$U" && chown "$U:" "$TEST_DIR/home-$U" ||
		die "cannot make the home of $U"
else
	U=$(id -un)
fi

# An X server on a display it picks itself (-displayfd), no TCP, no
# access control (-ac): the dialog's user has no cookie of its own.
exec 3>"$TEST_DIR/display"
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -ac \
	>"$TEST_DIR/xvfb.log" 2>&1 &
XPID=$!
exec 3>&-
track_pid "$XPID"
wait_for '[[ -s $TEST_DIR/display ]]' 10 || die "Xvfb did not start: $(cat "$TEST_DIR/xvfb.log")"
N=$(tr -dc 0-9 <"$TEST_DIR/display")
export DISPLAY=:$N
wait_for 'xdotool getdisplaygeometry >/dev/null 2>&1' 10 ||
	die "display :$N does not answer: $(cat "$TEST_DIR/xvfb.log")"
ok

export QVM_REMOTE_RUNTIME_DIR=$RUN QVM_REMOTE_ASK_PROMPT=$U@:$N
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
CID=20261128-101500-4242-abcdef01
# cmd as the ASK line carries it (escaped, as log_escape writes): an ESC
# colour, a BEL, a 0xff, markup and an ampersand
CMD_LINE='cmd="qvm-prefs work memory $'"'"'\x1b[31m<b>big</b>&amp;\x07\xff'"'"'"'

make_ask() {   # ID: writes asks/ID, a request of VM work that waits
	printf '[2026-11-28T10:15:00Z] ASK id=%s vm=work cid=%s user=root form=argv rule=/etc/qubes/remote-policy.d/50-test.policy:7 timeout=300 expires=%s bytes=40 sha256=%s %s\n' \
		"$1" "$CID" "$(($(date +%s) + 120))" "$SHA" "$CMD_LINE" >"$RUN/asks/$1"
}
mkdir -m 0700 "$RUN/asks"

PPID_=  # the prompt
ZPID=   # its zenity
WIN=    # zenity's window
start_prompt() {   # ID: runs the prompt in the background, waits for its window
	PPID_= ZPID= WIN=
	"$QVMR_DAEMON" -c "$CONF" prompt "$1" >"$TEST_DIR/prompt.out" 2>"$TEST_DIR/prompt.err" &
	PPID_=$!
	track_pid "$PPID_"
	WIN=$(timeout 20 xdotool search --sync --name 'qvm-remote' 2>/dev/null | head -n 1)
	ZPID=$(pgrep -P "$PPID_" -x zenity | head -n 1)
	[[ -n $WIN && -n $ZPID ]] || {
		fail "no zenity window within 20 s: $(cat "$TEST_DIR/prompt.err")"
		return 1
	}
}
prompt_rc() {   # the prompt's exit status, waiting at most 20 s
	local i
	for ((i = 0; i < 400; i++)); do
		proc_alive "$PPID_" || break
		sleep 0.05
	done
	wait "$PPID_"
}
press() {   # KEY...: to zenity's window
	xdotool windowfocus --sync "$WIN" && xdotool key --clearmodifiers "$@"
}

t "prompt shows the request with the VM's bytes escaped, and Approve answers approve"
make_ask 0a1b2c
if start_prompt 0a1b2c; then
	argv=$(tr '\0' '\n' <"/proc/$ZPID/cmdline")
	assert_contains "$argv" "--no-markup" "zenity's argv"
	assert_contains "$argv" 'The VM work asks to run in dom0' "the question"
	assert_contains "$argv" "qvm-prefs work memory \$'\\x1b[31m<b>big</b>&amp;\\x07\\xff'" \
		"the command, escaped"
	assert_contains "$argv" "as user: root" "the user"
	assert_contains "$argv" "50-test.policy:7" "the rule"
	assert_contains "$argv" "qvm-remote: work asks to run a command in dom0" "the title"
	# newlines part its arguments; nothing else below 0x20, nothing above 0x7e
	if tr -d '\n\0' <"/proc/$ZPID/cmdline" | LC_ALL=C grep -q '[^ -~]'; then
		fail "a raw control or high byte reached zenity: $(_show "$argv")"
	fi
	assert_eq "$U" "$(ps -o user= -p "$ZPID" | tr -d ' ')" "zenity's user"
	[[ $U == "$(id -un)" ]] || assert_eq "" "$(tr '\0' '\n' <"/proc/$ZPID/environ" | grep -v -E '^(DISPLAY|HOME|USER|LOGNAME|PATH)=')" \
		"zenity's environment beyond DISPLAY HOME USER LOGNAME PATH"
	press Tab Return   # Deny is the default; Tab moves to Approve
	prompt_rc
	assert_eq 0 "$?" "the prompt's exit status (answered)"
	ans=$(cat "$RUN/answers/0a1b2c" 2>/dev/null)
	assert_contains "$ans" "] ANSWER id=0a1b2c cid=$CID action=approve by=$U via=desktop" "answers/0a1b2c"
	assert_eq 600 "$(stat -c %a "$RUN/answers/0a1b2c" 2>/dev/null)" "the answer's mode"
	assert_eq 700 "$(stat -c %a "$RUN/answers" 2>/dev/null)" "answers/'s mode"
	proc_alive "$ZPID" && fail "zenity still runs"
fi

t "Deny (the default button) answers deny"
make_ask 0d0d0d
if start_prompt 0d0d0d; then
	press Return
	prompt_rc
	assert_eq 0 "$?" "the prompt's exit status (answered)"
	assert_contains "$(cat "$RUN/answers/0d0d0d" 2>/dev/null)" \
		"] ANSWER id=0d0d0d cid=$CID action=deny by=$U via=desktop" "answers/0d0d0d"
fi

t "a SIGTERM (the request stopped waiting) ends the question: no answer, no zenity left"
make_ask 0e0e0e
if start_prompt 0e0e0e; then
	kill -TERM "$PPID_"
	prompt_rc
	assert_eq 2 "$?" "the prompt's exit status (no answer)"
	[[ -e $RUN/answers/0e0e0e ]] && fail "an answer was written: $(cat "$RUN/answers/0e0e0e")"
	wait_for '! proc_alive "$ZPID"' 5 || fail "zenity $ZPID still runs"
	assert_contains "$(cat "$TEST_DIR/prompt.err")" "nothing was answered" "the prompt's message"
fi

t "no display to ask on: exit 2 with the reason, and no answer"
make_ask 0f0f0f
# a display number nobody serves
free=$((N + 1))
while [[ -e /tmp/.X11-unix/X$free || -e /tmp/.X$free-lock ]]; do free=$((free + 1)); done
QVM_REMOTE_ASK_PROMPT=$U@:$free timeout 20 "$QVMR_DAEMON" -c "$CONF" prompt 0f0f0f \
	>"$TEST_DIR/prompt.out" 2>"$TEST_DIR/prompt.err"
assert_eq 2 "$?" "the prompt's exit status (no answer)"
assert_contains "$(cat "$TEST_DIR/prompt.err")" "display :$free" "the prompt's message"
[[ -e $RUN/answers/0f0f0f ]] && fail "an answer was written: $(cat "$RUN/answers/0f0f0f")"

t "prompts turned off: exit 2 at once"
QVM_REMOTE_ASK_PROMPT=none timeout 20 "$QVMR_DAEMON" -c "$CONF" prompt 0f0f0f \
	>"$TEST_DIR/prompt.out" 2>"$TEST_DIR/prompt.err"
assert_eq 2 "$?" "the prompt's exit status"
assert_contains "$(cat "$TEST_DIR/prompt.err")" "QVM_REMOTE_ASK_PROMPT=none" "the prompt's message"

t "a request that does not wait: exit 1"
timeout 20 "$QVMR_DAEMON" -c "$CONF" prompt 012345 >"$TEST_DIR/prompt.out" 2>"$TEST_DIR/prompt.err"
assert_eq 1 "$?" "the prompt's exit status"
assert_contains "$(cat "$TEST_DIR/prompt.err")" "no request 012345" "the prompt's message"
