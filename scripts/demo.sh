#!/usr/bin/env bash
# demo.sh -- the guided demo behind 'make demo': one server on free loopback ports, then the
# client for HTTP, HTTPS with a trusted CA, and HTTPS to the self-signed port; at the end one
# more HTTPS exchange logged in JSON on both sides, drawn by build/ladder.
#
# One clock: both programs get the same origin (HSLAB_T0, wall-clock µs since the epoch, see
# common/clock.c), and each step's lines of both sides are printed merged in time order by
# scripts/mergelog.py once the step is over, so the times never go backwards (printed live, the
# two programs' lines race). --explain is on; as root the client also captures its segments
# (--capture: SYN, SYN+ACK, ACK and the FINs with their seq/ack), otherwise the demo says why not.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
certs=${CERTS:-certs/out}
python=${PYTHON:-python3}
tmp=$(mktemp -d)
spid=""
lpid=""

cleanup() {
	local p
	for p in "$spid" "$lpid"; do
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then
	color=always; bold=$'\033[1m'; off=$'\033[0m'
else
	color=never; bold=""; off=""
fi

# The demo's own sentences, wrapped to the terminal like the logs (one paragraph per argument).
note() { printf '%s\n' "$@" | "$python" scripts/mergelog.py --text; }
say() { printf '\n'; note "$bold== $1 ==$off"; }

for f in ca.crt server.crt server.key selfsigned.crt selfsigned.key; do
	if [ ! -r "$certs/$f" ]; then
		echo "demo: $certs/$f is missing: run 'make certs' first" >&2
		exit 1
	fi
done

# One origin for both programs' +ms: the moment the demo starts.
HSLAB_T0=$(date +%s%6N)
export HSLAB_T0

# The client captures its own segments when it can (root: libpcap on lo); the server's capture
# would log the same segments a second time, so only one side captures.
if [ "$(id -u)" = 0 ]; then
	capture=--capture
	capnote="As root: the client captures its segments (--capture): SYN, SYN+ACK, ACK and the FINs with their seq/ack. A segment's line is shown at the capture's time (when it crossed loopback), not when the client read it from the capture (a little later): so it comes before what it caused, e.g. the server's accept()."
else
	capture=""
	capnote="Not root: no capture (libpcap needs root); seq+N/ack+N come from TCP_INFO, relative to each side's ISN."
fi

# The server's log goes to a file; each step prints its new lines merged with the client's.
"$build/server" --certs "$certs" --http-port 0 --https-port 0 --selfsigned-port 0 --explain \
	--color "$color" > "$tmp/server.log" 2>&1 &
spid=$!
shown=0	# lines of the server's log printed so far

plain() { sed 's/\x1b\[[0-9;]*m//g' "$tmp/server.log"; }
# Read back the ports the kernel picked (the listen events).
port_of() {
	plain | awk -v k="$1" '$5 == "listen" && $6 == k { n = split($7, a, ":"); print a[n]; exit }'
}
closed_count() {
	plain | awk '$6 == "closed"' | wc -l
}
wait_for() {	# wait_for N: until the server has logged N closed connections (5 s at most)
	local i
	for i in $(seq 100); do
		[ "$(closed_count)" -ge "$1" ] && return 0
		kill -0 "$spid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 0
}
# show [CLIENT_LOG]: the server's lines since the last call and the client's, in time order.
show() {
	"$python" scripts/mergelog.py --from-line "$tmp/server.log:$shown" "$tmp/server.log" "$@"
	shown=$(wc -l < "$tmp/server.log")
}
http="" https="" self=""
for i in $(seq 200); do
	http=$(port_of http); https=$(port_of https); self=$(port_of selfsigned)
	[ -n "$http" ] && [ -n "$https" ] && [ -n "$self" ] && break
	if ! kill -0 "$spid" 2>/dev/null; then
		cat "$tmp/server.log" >&2
		echo "demo: the server did not start (see above)" >&2
		exit 1
	fi
	sleep 0.05
done
if [ -z "$self" ]; then
	echo "demo: the server did not report its ports in time" >&2
	exit 1
fi
for i in $(seq 20); do	# the start lines come just after the listen events
	plain | awk '$5 == "start"' | grep -q . && break
	sleep 0.05
done
show

note "" "The server listens on loopback: HTTP $http, HTTPS (CA-signed) $https, HTTPS (self-signed) $self. Its lines say 'server #N', the client's 'client #N'; each side numbers its own connections." \
     "Both programs count their +ms from one origin (HSLAB_T0): the lines of each step are merged in time order once it is over. $capnote"

# client N ARGS...: one client run, its log to a file, its body to another; then both sides.
client() {
	local n=$1 rc
	shift
	set +e
	# the same records as JSON lines too: the captured segments' own stamps (cap_ts_us)
	HSLAB_JSON_COPY="$tmp/client$n.json" "$build/client" --color "$color" --explain "$@" \
		2> "$tmp/client$n.log" > "$tmp/body$n"
	rc=$?
	set -e
	wait_for "$n" || true
	show "$tmp/client$n.log" --stamps "$tmp/client$n.log:$tmp/client$n.json"
	if [ -s "$tmp/body$n" ]; then
		note "" "The page the client received (its standard output):"
		# its first lines, framed and wrapped to the terminal (the page's lines are long)
		head -n 12 "$tmp/body$n" | sed 's/^/| /' | "$python" scripts/mergelog.py --text
		lines=$(wc -l < "$tmp/body$n")
		[ "$lines" -gt 12 ] && note "| ... $((lines - 12)) more lines (a browser at the same URL without ?text shows the whole page, with the ladder)"
	fi
	return $rc
}

say "1. HTTP: the three-way handshake, a request in clear text, the four-way close"
note "Look for: connect/established (SYN, SYN+ACK, ACK), GET and 200, then fin_sent and fin_received on both sides: the client closes first (FIN_WAIT), the server answers (CLOSE_WAIT)."
client 1 $capture "http://localhost:$http/?text" || true

say "2. HTTPS with the demo CA trusted (--cacert): TLS 1.3, no warning"
note "Look for: ClientHello/ServerHello, the certificate checked at depth 1 (the CA) and depth 0 (the server), the key exchange (ECDHE, not the textbook's RSA), close_notify before the FIN."
client 2 $capture --cacert "$certs/ca.crt" "https://localhost:$https/?text" || true

say "3. HTTPS to the self-signed certificate: the trust warning"
note "The client's log goes to a file here (to merge it with the server's), so it does not ask: it refuses, as curl does, and exits 60. To be asked: build/client https://localhost:PORT/ on a terminal, PORT being a server's self-signed port."
rc=0
client 3 --cacert "$certs/ca.crt" "https://localhost:$self/?text" || rc=$?
note "" "client exit status: $rc$([ "$rc" = 60 ] && echo ' (60 = certificate not trusted, as curl)')"

say "4. Stopping the server (SIGTERM)"
kill -TERM "$spid"
wait "$spid" || true
spid=""
show

say "5. The HTTPS exchange as a ladder diagram (build/ladder)"
note "One more HTTPS exchange, this time with both programs logging JSON lines to files; build/ladder merges the two logs on their wall-clock time (ts_us): client left, server right."
# A second server with its JSON log in a file; the first one's text log stays as it was.
"$build/server" --log-format json --certs "$certs" --http-port off --https-port 0 \
	--selfsigned-port off $capture > "$tmp/server.json" 2> "$tmp/server.err" &
lpid=$!
lport=""
for i in $(seq 200); do
	lport=$(sed -n 's/.*"event":"listen".*"kind":"https".*"port":\([0-9]*\).*/\1/p' \
	    "$tmp/server.json" | head -n 1)
	[ -n "$lport" ] && break
	kill -0 "$lpid" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$lport" ]; then
	echo "demo: the second server did not start: $(cat "$tmp/server.err")" >&2
	exit 1
fi
"$build/client" --log-format json $capture --cacert "$certs/ca.crt" "https://localhost:$lport/" \
	2> "$tmp/client.json" > /dev/null || true
# the server's side of the close is logged a moment after the client has exited (1 s at most)
for i in $(seq 20); do
	grep -q '"event":"closed"' "$tmp/server.json" && break
	sleep 0.05
done
kill -TERM "$lpid"
wait "$lpid" || true
lpid=""
echo
"$build/ladder" "$tmp/client.json" "$tmp/server.json" > "$tmp/ladder.txt" || true
# The ladder is as wide as its notes: on a narrower terminal it goes to a file instead.
cols=0
if [ -t 1 ]; then
	cols=$(tput cols 2>/dev/null || echo "${COLUMNS:-0}")
fi
wide=$("$python" -c 'import sys, unicodedata as u
print(max([sum(2 if u.east_asian_width(c) in "WF" else 1 for c in l.rstrip("\n")) for l in open(sys.argv[1], encoding="utf-8")] or [0]))' "$tmp/ladder.txt")
if [ "$cols" -gt 0 ] && [ "$wide" -gt "$cols" ]; then
	mkdir -p lesson-out
	cp "$tmp/ladder.txt" lesson-out/demo-ladder.txt
	"$build/ladder" --svg "$tmp/client.json" "$tmp/server.json" > lesson-out/demo-ladder.svg || true
	note "The ladder is $wide columns wide and this terminal $cols: it is in lesson-out/demo-ladder.txt (less -S) and lesson-out/demo-ladder.svg (a browser)."
else
	cat "$tmp/ladder.txt"
fi
note "" "For a slide: build/ladder --svg client.json server.json > ladder.svg (or --mermaid), from build/client --log-format json URL 2>client.json and build/server --log-format json >server.json; with --capture on both sides (as root) the SYN, ACK and FIN segments are arrows too. For a whole lesson with a handout: make lesson."

note "" "Done. Try the steps by hand: build/server, then build/client --help."
