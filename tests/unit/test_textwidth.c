/* test_textwidth.c -- display widths, word wrap (ASCII and CJK), and the text log fitted to a
 * terminal: no line wider, no word split, continuation under the detail column; piped, one
 * line per event. */
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "textwidth.h"
#include "unit.h"

/* Every line of s at most width columns. */
static int
fits(const char *s, int width)
{
	const char *p = s, *nl;
	size_t n;

	for (;;) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (tw_width(p, n) > (size_t)width)
			return 0;
		if (nl == NULL)
			return 1;
		p = nl + 1;
	}
}

/* s and t hold the same characters once the spaces and line breaks are taken out. */
static int
same_text(const char *s, const char *t)
{
	for (;;) {
		while (*s == ' ' || *s == '\n')
			s++;
		while (*t == ' ' || *t == '\n')
			t++;
		if (*s != *t)
			return 0;
		if (*s == '\0')
			return 1;
		s++;
		t++;
	}
}

static int
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Every ASCII word (a run of letters and digits) of out is a whole word of in. */
static int
words_whole(const char *out, const char *in)
{
	const char *p = out, *q, *f;
	size_t n;

	while (*p) {
		if (!alnum(*p)) {
			p++;
			continue;
		}
		for (q = p; alnum(*q); q++)
			;
		n = (size_t)(q - p);
		for (f = in; *f; f++)
			if (strncmp(f, p, n) == 0 && (f == in || !alnum(f[-1])) && !alnum(f[n]))
				break;
		if (*f == '\0')
			return 0;
		p = q;
	}
	return 1;
}

static void
test_widths(void)
{
	CHECK(tw_cp_width('a') == 1);
	CHECK(tw_cp_width(0x4e2d) == 2);		/* 中 */
	CHECK(tw_cp_width(0x3010) == 2);		/* 【 */
	CHECK(tw_cp_width(0xff0c) == 2);		/* ， */
	CHECK(tw_cp_width(0xac00) == 2);		/* Hangul */
	CHECK(tw_cp_width(0x0301) == 0);		/* combining acute */
	CHECK(tw_cp_width(0x2192) == 1);		/* → */
	CHECK(tw_width("中文ab", strlen("中文ab")) == 6);
	CHECK(tw_width("\033[1;33mab\033[0m", strlen("\033[1;33mab\033[0m")) == 2);
	CHECK(tw_width("a\xff" "b", 3) == 3);	/* an invalid byte: one column */
	CHECK(tw_width("中文", 4) == 3);	/* a sequence cut short: its bytes, one each */
	CHECK(tw_columns(-1) == 0);		/* not a terminal: no wrapping */
}

static void
test_wrap(void)
{
	char out[4096];
	static const char *const samples[] = {
		"the peer's FIN arrived after ours had left; our kernel ACKed it at once; this "
		"side now holds TIME_WAIT (sock_diag shows it; the fd reads CLOSE)",
		"客户端发送 SYN 报文段，序号 seq=x，进入 SYN_SENT 状态：这是三次握手的第一次握手。"
		"服务器收到后回复 SYN+ACK（确认号 ack=x+1），随后客户端发送 ACK。",
		"why (1st handshake / 第一次握手, seen from the kernel's states): connect() makes "
		"our kernel send SYN with a random initial sequence number x",
		"\033[2mdim text that is long enough to wrap more than once at forty\033[0m",
	};
	size_t i;
	int w;

	CHECK(tw_wrap(out, sizeof(out), "the quick brown fox jumps", 0, 11, 2, 0) > 0);
	CHECK_STR(out, "the quick\n  brown fox\n  jumps");
	/* Between any two CJK characters; never before a closing mark. */
	tw_wrap(out, sizeof(out), "三次握手是建立连接", 0, 8, 0, 0);
	CHECK_STR(out, "三次握手\n是建立连\n接");
	tw_wrap(out, sizeof(out), "甲乙丙，丁", 0, 6, 0, 0);
	CHECK_STR(out, "甲乙\n丙，丁");
	tw_wrap(out, sizeof(out), "第一次（握手）", 0, 8, 0, 0);	/* "（" stays with 握 */
	CHECK_STR(out, "第一次\n（握手）");
	/* ASCII then CJK without a space: a break is allowed between them. */
	tw_wrap(out, sizeof(out), "TLS握手", 0, 4, 0, 0);
	CHECK_STR(out, "TLS\n握手");
	/* The text starts at a column (after a prefix); continuation lines hang at indent. */
	tw_wrap(out, sizeof(out), " alpha beta gamma", 6, 17, 6, 0);
	CHECK_STR(out, " alpha beta\n      gamma");
	/* A word too long for the hanging indent starts a line at min_indent... */
	tw_wrap(out, sizeof(out), "abc defgh", 0, 8, 6, 1);
	CHECK_STR(out, "abc\n defgh");
	/* ... and leading padding vanishes where the text must start a line of its own. */
	tw_wrap(out, sizeof(out), "    defghij", 4, 8, 6, 1);
	CHECK_STR(out, "\n defghij");
	/* A word wider than any line: cut, the only way it fits. */
	tw_wrap(out, sizeof(out), "abcdefghijk", 0, 5, 0, 0);
	CHECK_STR(out, "abcde\nfghij\nk");
	/* A small buffer: never overrun, NUL-terminated. */
	CHECK(tw_wrap(out, 5, "abc def ghi", 0, 80, 0, 0) == 4 && out[4] == '\0');

	/* Every width from 24 to 100: no line wider, nothing lost, no word split. */
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		for (w = 24; w <= 100; w++) {
			tw_wrap(out, sizeof(out), samples[i], 0, w, 4, 2);
			CHECK(fits(out, w));
			CHECK(same_text(out, samples[i]));
			CHECK(words_whole(out, samples[i]));
		}

	CHECK(tw_says_same("the client proposes TLS versions and cipher suites, with a fresh "
	    "random value", "the client proposes versions, cipher suites and a key share, with a "
	    "fresh random value: one round trip") == 1);
	CHECK(tw_says_same("time to first byte: 0.304 ms after the request was sent",
	    "the status line and headers; the body follows") == 0);
	CHECK(tw_says_same("客户端发送第一次握手", "第一次握手：客户端发送 SYN") == 1);
	CHECK(tw_says_same("ok", "ok") == 0);		/* too few words to judge */
}

/* One line, cut at a word (or between CJK characters) with "…". */
static void
test_cut(void)
{
	char out[4096], in[512];
	static const char *const samples[] = {
		"127.0.0.1:45706 -> 127.0.0.1:33675  connect() completed; our SYN: MSS 65495, SACK "
		"permitted, timestamps, window scale 10; agreed: SACK, timestamps",
		"证书链校验通过：由我们信任的 CA 签发，在有效期内，且是这个名字的证书：没有警告",
		"shutdown(SHUT_WR)：我方的 TCP FIN，在我方 TLS close_notify 之后；响应已完整",
	};
	size_t i, n;
	int w;

	CHECK(tw_cut(out, sizeof(out), "alpha beta gamma", 11, 1) == strlen("alpha beta…"));
	CHECK_STR(out, "alpha beta…");
	tw_cut(out, sizeof(out), "alpha beta gamma", 10, 1);
	CHECK_STR(out, "alpha…");
	tw_cut(out, sizeof(out), "alpha", 5, 1);		/* it fits: whole, no mark */
	CHECK_STR(out, "alpha");
	tw_cut(out, sizeof(out), "one, two three", 9, 1);
	CHECK_STR(out, "one, two…");
	tw_cut(out, sizeof(out), "one, two three", 8, 1);	/* the comma left at the cut goes */
	CHECK_STR(out, "one…");
	tw_cut(out, sizeof(out), "三次握手是建立连接", 9, 1);	/* between two CJK characters */
	CHECK_STR(out, "三次握手…");
	tw_cut(out, sizeof(out), "甲乙丙，丁", 7, 1);	/* "，" stays with 丙, and goes with it */
	CHECK_STR(out, "甲乙…");
	tw_cut(out, sizeof(out), "甲乙丙，丁戊", 9, 1);	/* a "，" at the cut is left out */
	CHECK_STR(out, "甲乙丙…");
	tw_cut(out, sizeof(out), "abcdefgh ij", 5, 1);	/* no word fits: the mark alone */
	CHECK_STR(out, "…");
	tw_cut(out, sizeof(out), "abcdefgh ij", 5, 0);	/* between characters, if asked */
	CHECK_STR(out, "abcd…");
	tw_cut(out, sizeof(out), "\033[1mab cd\033[0m", 4, 1);	/* escapes take no room */
	CHECK_STR(out, "\033[1mab…");
	CHECK(tw_cut(out, sizeof(out), "abc", 0, 1) == 0 && out[0] == '\0');
	CHECK(tw_cut(out, 4, "abc def", 5, 1) == 3 && out[3] == '\0');	/* never overrun */

	/* Every width from 1 to 100: one line, no wider, every word whole, the text's head. */
	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		for (w = 1; w <= 100; w++) {
			n = tw_cut(out, sizeof(out), samples[i], w, 1);
			CHECK(strchr(out, '\n') == NULL && fits(out, w) && words_whole(out, samples[i]));
			if (strcmp(out, samples[i]) != 0) {
				CHECK(n >= 3 && strcmp(out + n - 3, "…") == 0);
				snprintf(in, sizeof(in), "%.*s", (int)(n - 3), out);
				CHECK(strncmp(samples[i], in, strlen(in)) == 0);
			}
		}
}

/* The text log on a terminal of 80 columns and piped. */
static void
test_fitted_log(FILE *devnull)
{
	struct evrec r;
	char buf[16384], *nl;
	int w;

	evlog_init(EVLOG_CLIENT, EVLOG_TEXT, 0, 0, devnull);
	evlog_set_width(80);
	evlog_set_explain(0, EVLOG_LANG_EN);
	evrec_begin(&r, EVT_ESTABLISHED, 1, -1);
	r.t_us = 52;
	r.tcp_state = "ESTABLISHED";
	r.has_rel = 1;
	r.rel_seq = r.rel_ack = 1;
	evrec_detail(&r, "127.0.0.1:45706 -> 127.0.0.1:33675  connect() completed; our SYN: MSS "
	    "65495, SACK permitted, timestamps, window scale 10; agreed: SACK, timestamps");
	evrec_gloss(&r, "SYN+ACK received and ACK sent (2nd and 3rd handshake): both sides "
	    "ESTABLISHED; our SYN's options are our kernel's choices");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	/* Compact: one line, no gloss; the narrow prefix (no side, no layer column) keeps the
	 * connection and the label; the TCP state whole at its end; the detail cut at a word. */
	CHECK(fits(buf, 80) && strchr(buf, '\n') == buf + strlen(buf) - 1);
	CHECK(strstr(buf, "SYN+ACK received") == NULL);
	CHECK(strstr(buf, "client") == NULL && strstr(buf, "TCP ") == NULL);
	CHECK(strncmp(buf, "   +0.1 ms #1  established     127.0.0.1:45706 -> ", 49) == 0);
	nl = strstr(buf, "…  [ESTABLISHED seq+1 ack+1]\n");
	CHECK(nl != NULL && nl[strlen(nl) - 1] == '\n' && nl + strlen(nl) == buf + strlen(buf));
	CHECK(words_whole(buf, "+0.1 ms #1 established [ESTABLISHED seq+1 ack+1] "
	    "127.0.0.1:45706 -> 127.0.0.1:33675  connect() completed; our SYN: MSS 65495, SACK "
	    "permitted, timestamps, window scale 10; agreed: SACK, timestamps"));
	/* In colour too: the escapes take no room. */
	evrec_format_text(&r, buf, sizeof(buf), 1);
	CHECK(fits(buf, 80) && strchr(buf, '\033') != NULL &&
	    strchr(buf, '\n') == buf + strlen(buf) - 1);
	/* 120 columns: the full prefix, still one line. */
	evlog_set_width(120);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(fits(buf, 120) && strchr(buf, '\n') == buf + strlen(buf) - 1);
	CHECK(strncmp(buf, "    +0.052 ms  client #1  TCP  established      127.0.0.1:45706", 63) == 0);
	CHECK(strstr(buf, "[ESTABLISHED seq+1 ack+1]\n") != NULL && strstr(buf, "…") != NULL);
	/* A detail that fits: whole, no mark; a state on any event that has one. */
	evlog_set_width(80);
	evrec_begin(&r, EVT_MESSAGE, 1, -1);
	r.tcp_state = "ESTABLISHED";
	evrec_label(&r, "< Finished");
	evrec_detail(&r, "52 B");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "< Finished      52 B  [ESTABLISHED]\n") != NULL &&
	    strstr(buf, "…") == NULL);
	/* --lang zh: the Chinese step kept, the detail cut between CJK characters. */
	evlog_set_explain(0, EVLOG_LANG_ZH);
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	r.t_us = 52;
	r.tcp_state = "FIN_WAIT1";
	r.has_rel = 1;
	r.rel_seq = 499;
	r.rel_ack = 2461;
	evrec_detail(&r, "shutdown(SHUT_WR)：我方的 TCP FIN，在我方 TLS close_notify 之后；响应已完整");
	for (w = 60; w <= 140; w += 5) {
		evlog_set_width(w);
		evrec_format_text(&r, buf, sizeof(buf), w % 20 == 0);
		CHECK(fits(buf, w) && strchr(buf, '\n') == buf + strlen(buf) - 1);
		CHECK(strstr(buf, "[FIN_WAIT1 seq+499 ack+2461]") != NULL);
		CHECK(w < 80 || strstr(buf, "【第一次握手】") != NULL);
		CHECK(w % 20 == 0 || words_whole(buf, "+0.1 +0.052 ms #1 client TCP connect [FIN_WAIT1 seq+499 "
		    "ack+2461] shutdown(SHUT_WR)：我方的 TCP FIN，在我方 TLS close_notify 之后；响应已完整"));
	}
	evlog_set_explain(0, EVLOG_LANG_EN);
	/* An error is read whole: wrapped under the detail, not cut. */
	evlog_set_width(80);
	evrec_begin(&r, EVT_ERROR, 0, -1);
	evrec_detail(&r, "cannot connect to 127.0.0.1 port 1 (connect to 127.0.0.1:1: Connection "
	    "refused) (exit 7)");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(fits(buf, 80) && strstr(buf, "…") == NULL && strstr(buf, "(exit 7)") != NULL);
	CHECK(strchr(buf, '\n') != buf + strlen(buf) - 1);
	evrec_begin(&r, EVT_ESTABLISHED, 1, -1);
	r.t_us = 52;
	r.tcp_state = "ESTABLISHED";
	r.has_rel = 1;
	r.rel_seq = r.rel_ack = 1;
	evrec_detail(&r, "127.0.0.1:45706 -> 127.0.0.1:33675  connect() completed; our SYN: MSS "
	    "65495, SACK permitted, timestamps, window scale 10; agreed: SACK, timestamps");
	evrec_gloss(&r, "SYN+ACK received and ACK sent (2nd and 3rd handshake): both sides "
	    "ESTABLISHED; our SYN's options are our kernel's choices");

	/* --explain: the gloss and the why on lines of their own, each under the detail column. */
	evlog_set_explain(1, EVLOG_LANG_EN);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(fits(buf, 80));
	CHECK(strstr(buf, "\n                                               SYN+ACK received") != NULL);
	CHECK(strstr(buf, "\n                                               why (2nd and 3rd") != NULL);
	CHECK(strstr(buf, "  -- ") == NULL);

	/* A gloss that the why says again is left out (a sentence is printed once). */
	evlog_set_width(0);
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	evrec_detail(&r, "127.0.0.1:45706 -> 127.0.0.1:33675");
	evrec_gloss(&r, "connect() makes our kernel send SYN with a random initial sequence");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	nl = strstr(buf, "random initial");
	CHECK(nl != NULL && strstr(nl + 1, "random initial") == NULL && strstr(buf, " -- ") == NULL);

	/* Piped (no terminal): one line per event, the why at its end, nothing wrapped. */
	evlog_set_width(0);
	evrec_begin(&r, EVT_ESTABLISHED, 1, -1);
	r.tcp_state = "ESTABLISHED";
	evrec_detail(&r, "a detail long enough to need two lines on any terminal of eighty "
	    "columns, which piped output never wraps");
	evrec_gloss(&r, "SYN+ACK received and ACK sent (2nd and 3rd handshake)");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
	CHECK(strstr(buf, "  [ESTABLISHED]  -- SYN+ACK received and ACK sent (2nd and 3rd "
	    "handshake)  why (2nd and 3rd handshake, seen from the kernel's states): ") != NULL);
	evlog_set_explain(0, EVLOG_LANG_EN);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1 && strstr(buf, "why") == NULL);

	/* --dissect on a terminal of 80: fields under the value column, nothing wider. */
	evlog_set_width(80);
	evrec_begin(&r, EVT_DISSECT, 1, -1);
	evrec_label(&r, "  cipher_suite");
	evrec_detail(&r, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 (0xcca9)");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(fits(buf, 80) && strstr(buf, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256") != NULL);
	evrec_begin(&r, EVT_DISSECT, 1, -1);
	evrec_label(&r, "random");
	evrec_detail(&r, "32 bytes  0c1ecfb9a104346f b57fa841d1d145b9 3264f0d8d109d12a "
	    "4e5205b26359c20c");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(fits(buf, 80) && strchr(buf, '\n') != buf + strlen(buf) - 1);
	CHECK(words_whole(buf, "client #1 random 32 bytes  0c1ecfb9a104346f b57fa841d1d145b9 "
	    "3264f0d8d109d12a 4e5205b26359c20c"));
	evlog_set_width(0);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
}

void
test_textwidth(void)
{
	FILE *devnull = fopen("/dev/null", "w");

	test_widths();
	test_wrap();
	test_cut();
	test_fitted_log(devnull);
	evlog_set_width(0);
	evlog_set_explain(0, EVLOG_LANG_EN);
	evlog_init(EVLOG_CLIENT, EVLOG_JSON, 0, 0, devnull);
	fclose(devnull);
}
