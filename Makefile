# handshake-lab -- build the server and the client from one shared common/ layer.

CC      ?= cc
# C11 with POSIX and GNU extensions (getaddrinfo flags, accept4, secure_getenv)
STD      = -std=c11 -D_GNU_SOURCE
# strict warnings; CI adds -Werror with WERROR=1
WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
# libevent (+ its OpenSSL glue), OpenSSL and libpcap (--capture), from pkg-config
PKGS     = libevent libevent_openssl openssl libpcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
# optimisation and debug info
OPT     ?= -O2 -g
# SAN=1: AddressSanitizer + UndefinedBehaviorSanitizer
ifeq ($(SAN),1)
OPT      = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
BUILD   ?= build-san
endif
ifeq ($(WERROR),1)
WARN    += -Werror
endif
# where everything is built
BUILD   ?= build
CFLAGS  += $(STD) $(WARN) $(OPT) -Icommon $(PKG_CFLAGS)
LDFLAGS += $(OPT)

# the shared layer, linked into both programs
COMMON_SRCS = $(sort $(wildcard common/*.c))
# the server's own files
SERVER_SRCS = server/main.c server/options.c server/listen.c server/session.c server/route.c server/page.c \
	      server/gallery.c server/record.c server/record_pack.c server/page_ladder.c \
	      server/page_out.c server/page_rec.c server/page_hello.c server/page_cert.c \
	      server/live.c
# the client's own files
CLIENT_SRCS = client/main.c client/options.c client/connect.c client/fetch.c client/trust.c \
              client/redirect.c \
	      client/repeat.c client/writeout.c
# the ladder's reader, model, order and SVG renderer, linked into build/ladder and into the
# server too (ladder_svg(), ladder/ladderlib.h: the ladder of a connection on its own page):
# the same files, libc only; their external names must not clash with the server's
LADDER_LIB_SRCS = ladder/lib.c ladder/json.c ladder/events.c ladder/model.c ladder/order.c \
	      ladder/render_svg.c ladder/sbuf.c ladder/utf8.c
# the ladder diagram drawer: its own JSON reader, libc only (ladder/ladder.h lists the parts);
# its flag table is ladder/options.c, read with common/flags.c (libc only too)
LADDER_SRCS = ladder/main.c ladder/options.c ladder/render_text.c ladder/render_mermaid.c \
	      $(LADDER_LIB_SRCS)
# the man page writer (make man): each program's flag table, written as roff
MKMAN_SRCS  = man/mkman.c
# the programs whose man page make man writes into man/NAME.1
MAN_PAGES   = server client ladder
# the benchmark's idle-connection driver (make bench): libc + OpenSSL only
BENCH_SRCS  = bench/idleconns.c
# unit tests of the pure functions
UNIT_SRCS   = $(sort $(wildcard tests/unit/*.c))

COMMON_OBJS = $(COMMON_SRCS:%.c=$(BUILD)/obj/%.o)
SERVER_OBJS = $(SERVER_SRCS:%.c=$(BUILD)/obj/%.o)
CLIENT_OBJS = $(CLIENT_SRCS:%.c=$(BUILD)/obj/%.o)
LADDER_LIB_OBJS = $(LADDER_LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_OBJS   = $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
HEADERS     = $(wildcard common/*.h server/*.h client/*.h ladder/*.h tests/unit/*.h)

.PHONY: all certs demo lesson compare test unit valgrind bench clean man shots

all: $(BUILD)/server $(BUILD)/client $(BUILD)/ladder $(MAN_PAGES:%=$(BUILD)/mkman-%)

$(BUILD)/server: $(SERVER_OBJS) $(COMMON_OBJS) $(LADDER_LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/client: $(CLIENT_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/ladder: $(LADDER_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/common/flags.o
	$(CC) $(LDFLAGS) -o $@ $^

# one man page writer per program: mkman.c linked with that program's options.c (its object
# is kept: make would delete it as an intermediate of the pattern rule, and say so last)
.SECONDARY: $(MKMAN_SRCS:%.c=$(BUILD)/obj/%.o)
# one man page writer per program: mkman.c linked with that program's options.c
$(BUILD)/mkman-%: $(MKMAN_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/%/options.o $(COMMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/unit: $(UNIT_OBJS) $(COMMON_OBJS) $(LADDER_LIB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

certs:
	certs/make-certs.sh

# the man pages, from the flag tables (commit them; tests/test_man.py checks they are current)
man: $(MAN_PAGES:%=$(BUILD)/mkman-%)
	@for p in $(MAN_PAGES); do $(BUILD)/mkman-$$p > man/$$p.1 || exit 1; echo "man/$$p.1"; done

demo: all
	@[ -f certs/out/ca.crt ] && [ -f certs/out/server.crt ] && [ -f certs/out/selfsigned.crt ] \
	    || certs/make-certs.sh
	@BUILD=$(BUILD) scripts/demo.sh

# the lesson in five steps (scripts/lesson.sh): pauses between steps on a terminal, runs through
# without one, and writes one self-contained HTML handout; its last line is the handout's path
# (lesson-out/, git-ignored)
# the handout's language: en or zh (LESSON_LANG, not LANG: that is the locale)
LESSON_LANG ?= en
lesson: all
	@[ -f certs/out/ca.crt ] && [ -f certs/out/server-rsa.crt ] && [ -f certs/out/selfsigned.crt ] \
	    || certs/make-certs.sh
	@BUILD=$(BUILD) LESSON_LANG=$(LESSON_LANG) scripts/lesson.sh

# TLS 1.2 RSA key transport, TLS 1.2 ECDHE and TLS 1.3 side by side, from real runs
compare: all
	@[ -f certs/out/ca.crt ] && [ -f certs/out/server-rsa.crt ] || certs/make-certs.sh
	@python3 scripts/compare.py --build $(BUILD)

# the docs' screenshots (scripts/shots.py: the HTTPS page and /live in headless Chromium, demo CA
# trusted in a scratch HOME) -> docs/img/page-https.png, page-hello.png, live.png
shots: all
	@[ -f certs/out/ca.crt ] || certs/make-certs.sh
	BUILD=$(BUILD) $(PYTHON) scripts/shots.py docs/img

unit: $(BUILD)/unit
	$(BUILD)/unit

# the Python that has pytest (Debian's python3-pytest): the `python3` first on PATH may be another
PYTHON  ?= /usr/bin/python3
# more pytest arguments, e.g. PYTEST_ARGS="-x -k http" (-rfEs: the summary says why each skip)
PYTEST_ARGS ?=

# make test: every test under pytest (tests/test_*.py; the unit suites are tests/test_unit.py)
test: all $(BUILD)/unit $(BUILD)/idleconns
	BUILD=$(BUILD) SAN=$(SAN) $(PYTHON) -m pytest -rfEs tests $(PYTEST_ARGS)

# make valgrind: the end-to-end tests with the server and the client under valgrind memcheck
# (zero errors, no definite leaks, no fd left open); VALGRIND_K="-k NAME" picks a subset
# (pytest -k: a name or an expression, e.g. -k 'park or http')
VALGRIND_K ?=
valgrind: all $(BUILD)/unit
	BUILD=$(BUILD) VALGRIND=1 $(PYTHON) -m pytest -rfEs tests $(VALGRIND_K)

# make bench: our server against nginx with wrk, our client against curl (not a test: figures,
# see docs/BENCHMARKS.md)
bench: all $(BUILD)/idleconns
	@[ -f certs/out/server.crt ] || certs/make-certs.sh
	BUILD=$(BUILD) python3 bench/bench.py $(BENCH_ARGS)

$(BUILD)/idleconns: $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs openssl)

clean:
	rm -rf build build-san

# make samelog: the same-log check of issue 10: the logs of a fixed set of runs against the
# recording of the code before the restructure (tests/golden/samelog); BEFORE=REV compares
# with REV, built in a temporary git worktree, instead
BEFORE ?=
# make limits: every C file's lines and every main()'s length against issue 10's limits, and
# no option numbered by a bare integer (scripts/limits.py)
.PHONY: samelog limits

samelog: all
	scripts/samelog.py --build $(BUILD) \
	    $(if $(BEFORE),--before $(BEFORE),--check tests/golden/samelog)

limits:
	scripts/limits.py

# make fuzz: libFuzzer harnesses (tests/fuzz/fuzz_NAME.c, seeds in tests/fuzz/corpus/NAME/)
FUZZ_CC      ?= clang
# how long each harness runs
FUZZ_SECONDS ?= 10
# the harnesses, one per parser the programs feed with bytes from the network or a capture
FUZZ_NAMES    = $(sort $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
# ASan + UBSan, any finding fatal; the whole common/ layer gets libFuzzer's coverage hooks
FUZZ_OPT      = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		-fno-sanitize-recover=undefined
FUZZ_CFLAGS   = $(STD) $(WARN) $(FUZZ_OPT) -fsanitize=fuzzer-no-link -Icommon $(PKG_CFLAGS)
FUZZ_OBJS     = $(COMMON_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_BINS     = $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: fuzz

fuzz: $(FUZZ_BINS)
	BUILD=$(BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_NAMES)

# the page's ClientHello section (server/page_hello.c) is fuzzed with the page's output buffer
$(BUILD)/fuzz/fuzz_page_hello: $(BUILD)/fuzz/obj/server/page_hello.o $(BUILD)/fuzz/obj/server/page_out.o
$(FUZZ_BINS): $(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_OPT) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS)

$(BUILD)/fuzz/obj/%.o: %.c $(HEADERS) tests/fuzz/fuzz.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
