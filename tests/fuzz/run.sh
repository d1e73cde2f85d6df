#!/bin/sh
# run.sh -- run each libFuzzer harness for FUZZ_SECONDS on a scratch copy of its seed corpus
# (new inputs never land in the repository); fail if any harness finds a crash, a leak, undefined
# behaviour, a timeout or a broken invariant. Usage: BUILD=build FUZZ_SECONDS=10 run.sh NAME...
set -u

BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
corpus=$(dirname "$0")/corpus
out=$BUILD/fuzz
failed=""

# The longest input worth trying: a little past each parser's own limit, so the limit itself is
# exercised, and no longer (short inputs make more runs per second).
max_len() {
	case $1 in
	http1)		echo 8300 ;;	# HTTP1_MAX_HEAD 8192: 431 beyond it
	chunked)	echo 2200 ;;	# a chunk-size or trailer line is cut at 1024
	url)		echo 4200 ;;	# URL_MAX_PATH 4096
	tls_hello)	echo 2048 ;;	# Chromium's ClientHello (ML-KEM key share): 1.9 KB
	capture)	echo 600 ;;	# headers (up to 138) and some payload for --wire
	seglog)		echo 600 ;;	# 50 segments of 12 bytes
	wire)		echo 4096 ;;	# a few segments with several TLS records each
	syn)		echo 600 ;;	# TCP_SAVED_SYN: IP header (up to 60) + TCP header (up to 60)
	json)		echo 6000 ;;	# the record's store (4096), detail and gloss (768 each), past them
	page_hello)	echo 8300 ;;	# RECORD_HELLO_MAX 8192: a longer one is never kept
	*)		echo 4096 ;;
	esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$out/artifacts" "$out/logs"

# UBSan's report is a crash here (-fno-sanitize-recover), with the stack to find it.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export UBSAN_OPTIONS

for name in "$@"; do
	bin=$out/fuzz_$name
	log=$out/logs/$name.log
	mkdir -p "$work/$name"
	if [ -d "$corpus/$name" ]; then
		cp "$corpus/$name"/* "$work/$name"/ 2>/dev/null
	fi
	seeds=$(ls "$work/$name" | wc -l)
	rm -f "$out/artifacts/$name-"*
	"$bin" -max_total_time="$FUZZ_SECONDS" -max_len="$(max_len "$name")" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
	    "$work/$name" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	found=$(ls "$work/$name" | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: ok, ${runs:-?} runs in $FUZZ_SECONDS s, corpus $seeds -> $found inputs"
		continue
	fi
	echo "fuzz $name: FAILED (exit $rc), log in $log:"
	grep -E -A 12 '^==[0-9]+==ERROR|runtime error|invariant broken|ERROR: libFuzzer' "$log" |
	    head -40 | sed 's/^/    /'
	for a in "$out/artifacts/$name-"*; do
		[ -e "$a" ] && echo "    input: $a  (replay: $bin $a)"
	done
	failed="$failed $name"
done

if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed"
	exit 1
fi
