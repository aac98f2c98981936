#!/bin/bash
# Floods against qvm-remote-webui (issue 12, item 5), on the real binary:
# one user's connections from 127.0.0.2 ... 127.0.0.40 get that user's
# share of slots only (the owner of the peer's socket is the client, not
# its address), while another user is still served; and a request sent a
# byte a second is closed at the total deadline, while the live stream,
# a response in progress, runs past it.
. "$(dirname "$0")/lib.sh"

WEBUI=$QVMR_BUILD/qvm-remote-webui
PER=8           # SERVER_PER_CLIENT_MAX
DEADLINE=10     # SERVER_REQUEST_S
FLOOD_FIRST=2
FLOOD_LAST=40

[[ -x $WEBUI ]] || skip_all "no $WEBUI (libmicrohttpd-dev missing?); run make"
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed (make deps-test)"

d=$TEST_DIR
: >"$d/log"

get() {   # URL [CURL ARGS...]: the status code (000 for none)
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}

webui_up() {   # PORT: answers at all
	[[ $(get "http://127.0.0.1:$1/api/chain") == 200 ]]
}

server_conns() {   # the viewer's connections not yet closed on its side
	local hex n=0 f
	hex=$(printf '%04X' "$port")
	for f in /proc/net/tcp /proc/net/tcp6; do
		# local port ours, state neither LISTEN (0A) nor TIME_WAIT (06)
		n=$((n + $(awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p &&
			$4 != "0A" && $4 != "06"' "$f" 2>/dev/null | wc -l)))
	done
	echo "$n"
}

t "the viewer starts"
port=
for _ in 1 2 3 4 5; do
	p=$((20000 + RANDOM % 20000))
	"$WEBUI" --port "$p" --log "$d/log" 2>>"$d/webui.err" &
	pid=$!
	track_pid "$pid"
	if wait_for "webui_up $p || ! proc_alive $pid" 10 && proc_alive "$pid"; then
		port=$p
		break
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
done
[[ -n $port ]] || die "qvm-remote-webui did not start: $(tail -n 3 "$d/webui.err")"
base=http://127.0.0.1:$port

# ------------------------------------------------------------- trickle --

# TAG: connects, then sends a request a byte a second without ever
# finishing it; writes $d/TAG.start, .last (the last byte sent) and
# .closed (when the server closed), in ms, and what came back to .got.
trickle() {
	local tag=$1 i=0 req reader
	req="GET / HTTP/1.1"$'\r\n'"Host: 127.0.0.1:$port"$'\r\n'"X-Pad: "
	req+=$(printf 'a%.0s' {1..120})
	exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
	now_ms >"$d/$tag.start"
	(
		cat <&3 >"$d/$tag.got" &
		trap 'kill $! 2>/dev/null; exit 1' TERM
		wait $! && now_ms >"$d/$tag.closed"
	) &
	reader=$!
	trap '' PIPE
	trap 'kill $reader 2>/dev/null; exit 1' TERM
	while [[ ! -s $d/$tag.closed ]] && ((i < ${#req})); do
		printf '%s' "${req:i:1}" >&3 2>/dev/null || break
		now_ms >"$d/$tag.last"
		((i++))
		sleep 1
	done
	exec 3>&-
	wait
}

t "trickle: a request sent a byte a second is closed at the total deadline"
trickle slow &
trickler=$!
track_pid "$trickler"
# a live page opened at the same time, for the next case
curl -s -N --max-time 120 -o "$d/live.out" "$base/events" &
live=$!
track_pid "$live"
if ! wait_for "[[ -s $d/slow.closed ]]" $((DEADLINE + 20)); then
	fail "still open $((DEADLINE + 20)) s after its accept, its bytes coming every second"
else
	start=$(<"$d/slow.start") closed=$(<"$d/slow.closed") last=$(<"$d/slow.last")
	took=$((closed - start))
	printf '#   closed %d ms after connecting, %d ms after its last byte\n' \
		"$took" $((closed - last))
	((took >= (DEADLINE - 1) * 1000)) ||
		fail "closed after $took ms: before the deadline of $DEADLINE s"
	((took <= (DEADLINE + 10) * 1000)) ||
		fail "closed after $took ms: long after the deadline of $DEADLINE s"
	# not an idle close: it was sending all along
	((closed - last <= 5000)) ||
		fail "its last byte came $((closed - last)) ms before the close"
	assert_eq "" "$(head -c 200 "$d/slow.got")" "an answer to a request never finished"
fi
kill "$trickler" 2>/dev/null
wait "$trickler" 2>/dev/null

t "the live stream is a response in progress: it runs past the deadline"
if ! proc_alive "$live"; then
	fail "the live stream ended: $(head -c 300 "$d/live.out")"
else
	assert_contains "$(cat "$d/live.out")" "event: hello" "the stream's start"
fi
kill "$live" 2>/dev/null
wait "$live" 2>/dev/null

# --------------------------------------------------------------- flood --

flood=()
t "flood: one uid connecting from 127.0.0.$FLOOD_FIRST to .$FLOOD_LAST holds $PER connections"
# each a live stream: a connection that holds its slot for as long as it
# likes; first the earlier cases' connections must be gone
wait_for "(( \$(server_conns) == 0 ))" 20 || fail "$(server_conns) connections left from before"
for ((i = FLOOD_FIRST; i <= FLOOD_LAST; i++)); do
	curl -s -N --max-time 120 --interface "127.0.0.$i" -D "$d/flood.$i.hdr" \
		-o "$d/flood.$i.out" "$base/events" 2>/dev/null &
	flood[i]=$!
	track_pid "${flood[i]}"
done
total=$((FLOOD_LAST - FLOOD_FIRST + 1))
alive() {   # the flood's curls still running
	local n=0 p
	for p in "${flood[@]}"; do
		proc_alive "$p" && n=$((n + 1))
	done
	echo "$n"
}
served() {   # the flood's connections that got their stream
	local n=0 i
	for ((i = FLOOD_FIRST; i <= FLOOD_LAST; i++)); do
		grep -qs '^HTTP/1.1 200' "$d/flood.$i.hdr" && n=$((n + 1))
	done
	echo "$n"
}
wait_for "(( \$(alive) <= $PER && \$(served) >= $PER ))" 60 ||
	fail "after 60 s: $(alive) of $total still connected, $(served) served (want $PER)"
assert_eq "$PER" "$(alive)" "connections the flood holds"
assert_eq "$PER" "$(served)" "connections the flood was served"
refused=0
for ((i = FLOOD_FIRST; i <= FLOOD_LAST; i++)); do
	proc_alive "${flood[i]}" && continue
	# closed before any answer: no status line at all
	grep -qs '^HTTP' "$d/flood.$i.hdr" && fail "127.0.0.$i was answered: $(head -n 1 "$d/flood.$i.hdr")"
	refused=$((refused + 1))
done
assert_eq $((total - PER)) "$refused" "connections refused"
grep -q "refusing connections from uid 0" "$d/webui.err" ||
	fail "no word of it in the viewer's log"

t "flood: the same uid from yet another address, or over [::1], is refused"
assert_eq 000 "$(get "$base/" --interface 127.0.0.41)" "127.0.0.41"
assert_eq 000 "$(get "http://[::1]:$port/" -g)" "[::1] (one share over both listeners)"

t "flood: another uid still gets the page"
if need_root; then
	page=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		curl -s --max-time 10 --interface 127.0.0.41 "$base/")
	assert_contains "$page" "qvm-remote" "the page, for uid 65534"
	code=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$base/api/chain")
	assert_eq 200 "$code" "/api/chain from 127.0.0.1, for uid 65534"
fi

t "flood: a connection that ends gives its slot back"
for ((i = FLOOD_FIRST; i <= FLOOD_LAST; i++)); do
	if proc_alive "${flood[i]}"; then
		kill "${flood[i]}"
		break
	fi
done
# the stream notices its page went within a second or so
wait_for "[[ \$(get $base/api/chain --interface 127.0.0.42) == 200 ]]" 20 ||
	fail "still refused 20 s after one of the $PER closed"
for p in "${flood[@]}"; do
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
