#!/usr/bin/env bash
# demo.sh -- the guided demo behind 'make demo': one server on free loopback ports, then the
# client for HTTP, HTTPS with a trusted CA, and HTTPS to the self-signed port; at the end one
# more HTTPS exchange logged in JSON on both sides, drawn by build/ladder.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
certs=${CERTS:-certs/out}
tmp=$(mktemp -d)
spid=""
tpid=""
lpid=""

cleanup() {
	if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
	if [ -n "$tpid" ]; then
		wait "$tpid" 2>/dev/null || true
	fi
	if [ -n "$lpid" ] && kill -0 "$lpid" 2>/dev/null; then
		kill -TERM "$lpid" 2>/dev/null || true
		wait "$lpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then
	color=always; bold=$'\033[1m'; off=$'\033[0m'
else
	color=never; bold=""; off=""
fi

say() { printf '\n%s== %s ==%s\n' "$bold" "$1" "$off"; }
note() { printf '%s\n' "$@"; }

for f in ca.crt server.crt server.key selfsigned.crt selfsigned.key; do
	if [ ! -r "$certs/$f" ]; then
		echo "demo: $certs/$f is missing: run 'make certs' first" >&2
		exit 1
	fi
done

# The server's log goes to this terminal as it happens, and to a file we read the ports from.
mkfifo "$tmp/log.fifo"
tee "$tmp/server.log" < "$tmp/log.fifo" &
tpid=$!
"$build/server" --certs "$certs" --http-port 0 --https-port 0 --selfsigned-port 0 \
	--color "$color" > "$tmp/log.fifo" &
spid=$!

# Read back the ports the kernel picked (the listen events), waiting at most 10 s.
port_of() {
	sed 's/\x1b\[[0-9;]*m//g' "$tmp/server.log" |
	    awk -v k="$1" '$5 == "listen" && $6 == k { n = split($7, a, ":"); print a[n]; exit }'
}
closed_count() {
	sed 's/\x1b\[[0-9;]*m//g' "$tmp/server.log" | awk '$6 == "closed"' | wc -l
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
http="" https="" self=""
for i in $(seq 200); do
	http=$(port_of http); https=$(port_of https); self=$(port_of selfsigned)
	[ -n "$http" ] && [ -n "$https" ] && [ -n "$self" ] && break
	if ! kill -0 "$spid" 2>/dev/null; then
		echo "demo: the server did not start (see above)" >&2
		exit 1
	fi
	sleep 0.05
done
if [ -z "$self" ]; then
	echo "demo: the server did not report its ports in time" >&2
	exit 1
fi

note "" "The server listens on loopback: HTTP $http, HTTPS (CA-signed) $https, HTTPS (self-signed) $self." \
     "Its lines say 'server #N', the client's 'client #N'; each side numbers its own connections."

say "1. HTTP: the three-way handshake, a request in clear text, the four-way close"
note "Look for: connect/established (SYN, SYN+ACK, ACK), GET and 200, then fin_sent and" \
     "fin_received on both sides: the client closes first (FIN_WAIT), the server answers (CLOSE_WAIT)."
"$build/client" --color "$color" "http://localhost:$http/?text" || true
wait_for 1 || true

say "2. HTTPS with the demo CA trusted (--cacert): TLS 1.3, no warning"
note "Look for: ClientHello/ServerHello, the certificate checked at depth 1 (the CA) and depth 0" \
     "(the server), the key exchange (ECDHE, not the textbook's RSA), close_notify before the FIN."
"$build/client" --color "$color" --cacert "$certs/ca.crt" "https://localhost:$https/?text" || true
wait_for 2 || true

say "3. HTTPS to the self-signed certificate: the trust warning"
if [ -t 0 ] && [ -t 2 ]; then
	note "The client will ask whether to proceed, as a browser would. Answer y or n."
else
	note "Not on a terminal: the client refuses by itself (as curl does) and exits 60."
fi
set +e
"$build/client" --color "$color" --cacert "$certs/ca.crt" "https://localhost:$self/?text"
rc=$?
set -e
wait_for 3 || true
note "" "client exit status: $rc$([ "$rc" = 60 ] && echo ' (60 = certificate not trusted, as curl)')"

say "4. Stopping the server (SIGTERM)"
kill -TERM "$spid"
wait "$spid" || true
spid=""
wait "$tpid" 2>/dev/null || true
tpid=""
say "5. The HTTPS exchange as a ladder diagram (build/ladder)"
note "One more HTTPS exchange, this time with both programs logging JSON lines to files;" \
     "build/ladder merges the two logs on their wall-clock time: client left, server right."
# A second server with its JSON log in a file; the first one's text log stays as it was.
"$build/server" --log-format json --certs "$certs" --http-port off --https-port 0 \
	--selfsigned-port off > "$tmp/server.json" 2> "$tmp/server.err" &
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
"$build/client" --log-format json --cacert "$certs/ca.crt" "https://localhost:$lport/" \
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
"$build/ladder" "$tmp/client.json" "$tmp/server.json" || true
note "" "For a slide: build/ladder --svg client.json server.json > ladder.svg (or --mermaid)," \
     "from build/client --log-format json URL 2>client.json and build/server --log-format json >server.json;" \
     "with --capture on both sides (as root) the SYN, ACK and FIN segments are arrows too."

note "" "Done. Try the steps by hand: build/server, then build/client --help."
