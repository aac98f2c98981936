#!/bin/bash
# mode: ka = a full request then a trickled one; body = GET with a trickled body
port=$1 mode=$2
exec 3<>/dev/tcp/127.0.0.1/$port
rm -f closed.$mode
( cat <&3 > resp.$mode; date +%s.%N > closed.$mode ) &
trap '' PIPE
start=$(date +%s.%N)
if [ $mode = ka ]; then
  printf 'GET /api/chain HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n' $port >&3
  sleep 1; start=$(date +%s.%N)
  req="GET / HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
else
  printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Length: 100\r\n\r\n' $port >&3
  req="bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
fi
for ((i=0; i<25; i++)); do
  printf '%b' "${req:i:1}" >&3 2>/dev/null || { echo "write failed at $i"; break; }
  [ -s closed.$mode ] && break
  sleep 1
done
wait
echo "$mode: start $start closed $(cat closed.$mode) resp $(grep -c HTTP resp.$mode)"
