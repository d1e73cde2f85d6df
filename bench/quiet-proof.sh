#!/usr/bin/env bash
# quiet-proof.sh -- run the server with -q under callgrind (HTTP keep-alive, new HTTPS
# connections, HTTPS keep-alive, a few seconds each) and check that no event-log formatting
# and no kernel probe for the log ran: only evrec_begin / evlog_on (which return at once).
# Usage: BUILD=build bench/quiet-proof.sh     (needs valgrind and wrk; about 20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
tmp=$(mktemp -d /tmp/hl-quiet-proof.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# -q prints no listen event: take two ports the kernel says are free
read -r http https < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$BUILD/server" -q \
    --bind 127.0.0.1 --http-port "$http" --https-port "$https" --selfsigned-port off \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$http/" && break
	sleep 0.1
done
wrk -t1 -c10 -d3s "http://127.0.0.1:$http/" | grep "requests in"
wrk -t1 -c10 -d3s -H "Connection: close" "https://127.0.0.1:$https/" | grep "requests in"
wrk -t1 -c10 -d3s "https://127.0.0.1:$https/" | grep "requests in"
kill -TERM "$pid"
wait "$pid" || true
pid=
echo "functions of the log layer that ran (inclusive instructions):"
callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg.out" 2>/dev/null |
    grep -E "(evlog|tcpinfo|tcpwatch|sockdiag|seglog)\.c:[a-z_]+ " | grep -v "=>" |
    sed 's#/[^ ]*/common/#common/#; s# \[.*##' | tee "$tmp/ran"
# tcpinfo_get and tcpinfo_state are not in the list: the server reads TCP_INFO for its own work
# too (send_pending()'s bytes_acked for the slow-reader timer, the close's kernel states), with
# or without the log. What only the log asks for: the state's name on an event
# (tcpinfo_state_name, from evrec_begin), the records' fields, the close watch (sock_diag).
bad=$(grep -E "evrec_(str|strf|int|bool|float|label|detail|gloss|emit|format_text|format_json)\b|tcpinfo_state_name|sockdiag_lookup|watch_cb" "$tmp/ran" || true)
if [ -n "$bad" ]; then
	echo "FAIL: per-event formatting or probes ran with -q:"
	echo "$bad"
	exit 1
fi
echo "PASS: with -q no event text was formatted and no TCP_INFO / sock_diag call was made for the log (only the reads the server makes for its own work)"
