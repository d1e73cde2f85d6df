#!/usr/bin/env bash
# lesson.sh -- the lesson behind 'make lesson': five steps, each a real exchange between our
# server and our client on loopback, both logging JSON lines on one clock (HSLAB_T0), drawn by
# build/ladder; on a terminal it pauses between steps, without one it runs through. At the end
# it writes one self-contained HTML handout (scripts/lesson.py) and prints its path, alone, as
# its last line.
#
#   1 三次握手 the three-way handshake with real seq/ack (--capture as root, else TCP_INFO)
#   2 四次挥手 the four-way close, FIN_WAIT2 / CLOSE_WAIT held open (--hold-close), TIME_WAIT
#   3 HTTPS with TLS 1.3
#   4 the textbook's model, TLS 1.2 RSA key transport, beside TLS 1.2 ECDHE (and step 3's 1.3)
#   5 trust: CA-signed against self-signed
set -eu

usage() {
	cat <<'EOF'
usage: scripts/lesson.sh [--lang en|zh] [--out DIR] [--no-pause] [--hold-close MS]
Run the five steps of the lesson and write the handout DIR/lesson-LANG.html (default DIR
lesson-out). LESSON_LANG=zh (or --lang zh) writes it in Chinese, with the programs' logs
from --lang zh. On a terminal it pauses between steps (Enter: next, q: the remaining steps
run without being shown, then the handout); --no-pause runs through. --hold-close MS: how
long the server holds its FIN in step 2 (default 1500). The logs of every step stay in
DIR/work-LANG/.
EOF
}

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD:-build}
certs=${CERTS:-certs/out}
python=${PYTHON:-python3}
lang=${LESSON_LANG:-en}
out=lesson-out
pause=1
hold=1500
while [ $# -gt 0 ]; do
	case $1 in
	--lang) [ $# -ge 2 ] || { usage >&2; exit 2; }; lang=$2; shift 2 ;;
	--out) [ $# -ge 2 ] || { usage >&2; exit 2; }; out=$2; shift 2 ;;
	--no-pause) pause=0; shift ;;
	--hold-close) [ $# -ge 2 ] || { usage >&2; exit 2; }; hold=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "lesson: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
case $lang in
en|zh) ;;
*) echo "lesson: --lang (LESSON_LANG) is en or zh, not '$lang'" >&2; exit 2 ;;
esac
case $hold in
''|*[!0-9]*) echo "lesson: --hold-close wants milliseconds (0-60000), not '$hold'" >&2; exit 2 ;;
esac
for p in server client ladder; do
	if [ ! -x "$build/$p" ]; then
		echo "lesson: $build/$p is missing: run 'make' first (or make lesson)" >&2
		exit 1
	fi
done
for f in ca.crt server.crt server.key selfsigned.crt selfsigned.key server-rsa.crt server-rsa.key; do
	if [ ! -e "$certs/$f" ]; then
		echo "lesson: $certs/$f is missing: run 'make certs' first" >&2
		exit 1
	elif [ ! -r "$certs/$f" ]; then
		echo "lesson: $certs/$f cannot be read by $(id -un) (the keys are mode 0600: run as" \
		    "their owner, or CERTS=DIR with a copy of your own)" >&2
		exit 1
	fi
done
[ -t 0 ] && [ -t 1 ] || pause=0

work=$out/work-$lang
rm -rf "$work"
mkdir -p "$work"
spid=""
cleanup() {
	if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One origin for every time of the lesson: both programs of every step count from here.
HSLAB_T0=$(date +%s%6N)
export HSLAB_T0
langflag=""
[ "$lang" = zh ] && langflag="--lang zh"
ladderlang=""
if [ "$lang" = zh ] && "$build/ladder" --help 2>&1 | grep -q -- '--lang'; then
	ladderlang="--lang zh"
fi
# Both sides capture their segments when they can (root), so the ladder draws SYN, ACK and FIN
# as arrows with their seq/ack; otherwise the numbers come from TCP_INFO, and the handout says so.
capture=""
[ "$(id -u)" = 0 ] && capture=--capture
echo "capture=${capture:-none}" > "$work/meta"
echo "lang=$lang" >> "$work/meta"

# run STEP NAME KIND [--server ARGS... --] CLIENT_ARGS... PATH: one server on ports 0, one client
# to its KIND port (http, https, selfsigned, rsa), both logging JSON to STEP/NAME/; then the
# ladder of the two logs (SVG and text).
run() {
	local step=$1 name=$2 kind=$3 dir port="" i rc sargs=()
	shift 3
	if [ "${1:-}" = --server ]; then
		shift
		while [ "$1" != -- ]; do sargs+=("$1"); shift; done
		shift
	fi
	dir=$work/step$step/$name
	mkdir -p "$dir"
	"$build/server" --log-format json --explain $langflag $capture --certs "$certs" \
		--http-port 0 --https-port 0 --selfsigned-port 0 --rsa-port 0 "${sargs[@]}" \
		> "$dir/server.json" 2> "$dir/server.err" &
	spid=$!
	for i in $(seq 200); do
		port=$(sed -n "s/.*\"event\":\"listen\".*\"kind\":\"$kind\".*\"port\":\([0-9]*\).*/\1/p" \
		    "$dir/server.json" | head -n 1)
		[ -n "$port" ] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		echo "lesson: step $step: the server did not start: $(cat "$dir/server.err")" >&2
		exit 1
	fi
	local url=${!#}
	set -- "${@:1:$(($# - 1))}"
	rc=0
	"$build/client" --log-format json --explain $langflag $capture "$@" \
		"${url/PORT/$port}" 2> "$dir/client.json" > "$dir/body" < /dev/null || rc=$?
	echo "$rc" > "$dir/rc"
	for i in $(seq 100); do	# the server's side of the close ends a moment later
		grep -q '"event":"closed"' "$dir/server.json" && break
		sleep 0.05
	done
	kill -TERM "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	spid=""
	"$build/ladder" $ladderlang --svg "$dir/client.json" "$dir/server.json" > "$dir/ladder.svg" \
		2> "$dir/ladder.err" || true
	"$build/ladder" $ladderlang "$dir/client.json" "$dir/server.json" > "$dir/ladder.txt" \
		2>> "$dir/ladder.err" || true
}

# show STEP: the step's words, the key lines of both logs in time order, its ladder (not after
# a q: the remaining steps still run, for the handout, without being shown).
skip=0
show() {
	[ "$skip" = 0 ] || return 0
	"$python" scripts/lesson.py show --lang "$lang" --dir "$work" --step "$1"
}

# wait_key: on a terminal, Enter goes on and q jumps to the handout.
wait_key() {
	local a=""
	[ "$pause" = 1 ] && [ "$skip" = 0 ] || return 0
	if [ "$lang" = zh ]; then
		printf '\n-- 回车：下一步；q：直接生成讲义 -- '
	else
		printf '\n-- Enter: next step; q: straight to the handout -- '
	fi
	read -r a || a=q
	if [ "$a" = q ]; then
		skip=1
		if [ "$lang" = zh ]; then
			echo "其余各步照常运行（讲义需要它们），但不再显示；最后一行是讲义的路径。" |
				"$python" scripts/mergelog.py --text
		else
			echo "The remaining steps run (the handout needs them) without being shown; the last line is the handout's path." |
				"$python" scripts/mergelog.py --text
		fi
	fi
	return 0
}

"$python" scripts/lesson.py show --lang "$lang" --dir "$work" --step 0

run 1 handshake http "http://localhost:PORT/"
show 1
wait_key

run 2 close http --server --hold-close "$hold" -- --linger-watch 1 "http://localhost:PORT/"
show 2
wait_key

run 3 tls13 https --cacert "$certs/ca.crt" "https://localhost:PORT/"
show 3
wait_key

run 4 rsa rsa --cacert "$certs/ca.crt" --kx rsa "https://localhost:PORT/"
run 4 ecdhe rsa --cacert "$certs/ca.crt" --kx ecdhe "https://localhost:PORT/"
show 4
wait_key

run 5 ca https --cacert "$certs/ca.crt" "https://localhost:PORT/"
run 5 selfsigned selfsigned --cacert "$certs/ca.crt" "https://localhost:PORT/"
show 5

handout=$out/lesson-$lang.html
"$python" scripts/lesson.py html --lang "$lang" --dir "$work" --out "$handout"
echo "$handout"
