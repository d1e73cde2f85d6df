/* test_explain.c -- --explain and --lang zh: every textbook step has its names and a sentence,
 * the kernel's state events name steps only without a capture, and the printers show them. */
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "explain.h"
#include "unit.h"

static const struct {
	const char	*step, *en, *zh;
} steps[] = {
	{ "syn", "1st handshake", "第一次握手" },
	{ "syn_resent", "1st handshake, sent again", "第一次握手（重传）" },
	{ "syn_ack", "2nd handshake", "第二次握手" },
	{ "syn_ack_resent", "2nd handshake, sent again", "第二次握手（重传）" },
	{ "ack_handshake", "3rd handshake", "第三次握手" },
	{ "fin1", "1st wave", "第一次挥手" },
	{ "ack_fin1", "2nd wave", "第二次挥手" },
	{ "fin2", "3rd wave", "第三次挥手" },
	{ "fin2_ack", "2nd and 3rd wave", "第二次和第三次挥手" },
	{ "ack_fin2", "4th wave", "第四次挥手" },
	{ "data", NULL, NULL },
	{ "ack", NULL, NULL },
	{ "rst", NULL, NULL },
};

#define CHECK_ASCII(c) do { if ((unsigned char)(c) >= 0x80) { CHECK(!"ASCII why"); return; } } while (0)

/* --lang zh: a sentence is Chinese when it has CJK text and no run of 4 plain English words
 * (lower case or Capitalised: names such as ClientHello, SYN+ACK, TIME_WAIT, read() are not
 * words), the rule of tests/harness/zh.py. */
static int
english_run(const char *s)
{
	int run = 0;

	while (*s) {
		const char *w = s;
		size_t n = strcspn(s, " ");
		int word = n > 0, i;

		for (i = 0; word && i < (int)n; i++) {
			char ch = w[i];

			if (i == 0 && (ch == '(' || ch == '['))
				continue;
			if (i > 0 && i == (int)n - 1 && strchr(",.;:)]", ch) != NULL)
				continue;
			if (ch == '\'' && i > 0)
				continue;
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z' &&
			    (i == 0 || (i == 1 && (w[0] == '(' || w[0] == '['))))))
				word = 0;
		}
		run = word ? run + 1 : 0;
		if (run >= 4)
			return 1;
		s += n;
		while (*s == ' ')
			s++;
	}
	return 0;
}

static int
chinese(const char *s)
{
	const unsigned char *p;
	int cjk = 0;

	if (s == NULL)
		return 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (*p >= 0xe4 && *p <= 0xe9)	/* U+4E00..U+9FFF begin with these */
			cjk = 1;
	return cjk && !english_run(s);
}

static const char *const types[] = {
	"ClientHello", "ServerHello", "HelloRetryRequest", "EncryptedExtensions", "Certificate",
	"CertificateRequest", "CertificateVerify", "ServerKeyExchange", "ServerHelloDone",
	"ClientKeyExchange", "ChangeCipherSpec", "Finished", "NewSessionTicket", "KeyUpdate",
};

static void
segment(struct evrec *r, const char *step)
{
	evrec_begin(r, EVT_SEGMENT, 1, -1);
	evrec_str(r, "dir", "out");
	evrec_str(r, "step", step);
}

static void
test_explain_table(void)
{
	struct evrec r;
	struct explain x;
	size_t i;

	/* Every step seglog_label gives has a sentence; the handshake and the waves have both
	 * names, with or without a capture (they are the segments themselves). */
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		segment(&r, steps[i].step);
		CHECK(explain_event(&r, 1, &x) == 1 && x.why != NULL && x.why[0] != '\0');
		CHECK(x.kernel == 0);
		if (steps[i].en != NULL) {
			CHECK_STR(x.step_en, steps[i].en);
			CHECK_STR(x.step_zh, steps[i].zh);
		} else
			CHECK(x.step_en == NULL && x.step_zh == NULL);
	}
	/* The sentences are English only (the Chinese names are separate): --lang en stays
	 * ASCII. */
	for (i = 0; i < EVT_LAST; i++) {
		const char *p;

		evrec_begin(&r, (enum evlog_event)i, 1, -1);
		evrec_int(&r, "wave", 3);
		evrec_str(&r, "to", "TIME_WAIT");
		if (explain_event(&r, 0, &x) && x.why != NULL)
			for (p = x.why; *p; p++)
				CHECK_ASCII(*p);
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const char *p;

		evrec_begin(&r, EVT_MESSAGE, 1, -1);
		evrec_str(&r, "type", types[i]);
		CHECK(explain_event(&r, 0, &x) == 1 && x.step_zh != NULL);
		for (p = x.why; *p; p++)
			CHECK_ASCII(*p);
	}
	/* A TLS message by its type; an unknown one gets the generic sentence, no step. */
	evrec_begin(&r, EVT_MESSAGE, 1, -1);
	evrec_str(&r, "type", "CertificateVerify");
	CHECK(explain_event(&r, 0, &x) == 1);
	/* Its name in English, the Chinese beside it, saying what it proves (not 校验证书链, the
	 * certificate check, which is another step). */
	CHECK_STR(x.step_zh, "CertificateVerify 证明持有私钥");
	CHECK(strstr(x.step_en, "private key") != NULL);
	CHECK(strstr(x.why, "private key") != NULL);
	evrec_begin(&r, EVT_MESSAGE, 1, -1);
	evrec_str(&r, "dir", "in");
	evrec_str(&r, "type", "Certificate");
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK_STR(x.step_zh, "Certificate 服务器证书");		/* the client's log: it came in */
	evrec_begin(&r, EVT_MESSAGE, 1, -1);
	evrec_str(&r, "dir", "out");
	evrec_str(&r, "type", "Certificate");
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK_STR(x.step_zh, "Certificate 客户端证书");		/* mutual TLS: the client sends one */
	evrec_begin(&r, EVT_MESSAGE, 1, -1);
	evrec_str(&r, "type", "Unknown");
	CHECK(explain_event(&r, 0, &x) == 1 && x.step_en == NULL && x.why != NULL);

	/* Without a capture, the kernel's events carry the TCP steps, marked as such... */
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	CHECK(explain_event(&r, 0, &x) == 1 && x.kernel == 1);
	CHECK_STR(x.step_zh, "第一次握手");
	evrec_begin(&r, EVT_FIN_SENT, 1, -1);
	evrec_int(&r, "wave", 1);
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK_STR(x.step_zh, "第一次挥手");
	evrec_begin(&r, EVT_FIN_SENT, 1, -1);
	evrec_int(&r, "wave", 3);
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK_STR(x.step_zh, "第三次挥手");
	evrec_begin(&r, EVT_FIN_RECEIVED, 1, -1);
	evrec_int(&r, "wave", 1);
	evrec_detail(&r, "read() returned 0: the peer's FIN arrived");
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK_STR(x.step_zh, "第一次挥手（确认随后）");
	/* Linux may delay that ACK to ride on our FIN: never claim it already went out. */
	CHECK(x.why != NULL && strstr(x.why, "already") == NULL &&
	    strstr(x.why, "together with our own FIN") != NULL);
	evrec_begin(&r, EVT_STATE_CHANGE, 1, -1);
	evrec_str(&r, "to", "CLOSE_WAIT");
	CHECK(explain_event(&r, 0, &x) == 1 && strstr(x.why, "ACKed") == NULL);
	CHECK_STR(x.step_en, "1st wave (its ACK follows)");
	evrec_begin(&r, EVT_FIN_RECEIVED, 1, -1);
	evrec_int(&r, "wave", 3);
	evrec_bool(&r, "after_ours_known", 1);
	evrec_detail(&r, "read() returned 0: the peer's FIN arrived");
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK_STR(x.step_zh, "第三次和第四次挥手");
	CHECK(x.why != NULL && strstr(x.why, "read() returning 0") != NULL);
	/* After ours, but this side did not see ours arrive first: no 3rd-wave claim. */
	evrec_begin(&r, EVT_FIN_RECEIVED, 1, -1);
	evrec_int(&r, "wave", 3);
	evrec_bool(&r, "after_ours_known", 0);
	evrec_detail(&r, "read() returned 0: the peer's FIN arrived");
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK(x.step_zh != NULL && strstr(x.step_zh, "第三次和第四次挥手") == NULL);
	CHECK(x.step_en != NULL && strstr(x.step_en, "or a crossing") != NULL);
	/* The FIN seen behind unread bytes: read() has not returned 0. */
	evrec_begin(&r, EVT_FIN_RECEIVED, 1, -1);
	evrec_int(&r, "wave", 1);
	evrec_bool(&r, "unread", 1);
	evrec_detail(&r, "the peer's FIN is in (the kernel shows CLOSE_WAIT), behind bytes not "
	    "yet read");
	CHECK(explain_event(&r, 0, &x) == 1);
	CHECK(x.why != NULL && strstr(x.why, "read() returning 0") == NULL &&
	    strstr(x.why, "not read yet") != NULL);
	evrec_begin(&r, EVT_STATE_CHANGE, 1, -1);
	evrec_str(&r, "to", "TIME_WAIT");
	CHECK(explain_event(&r, 0, &x) == 1 && strstr(x.why, "2MSL") != NULL);
	CHECK(x.step_zh != NULL && strstr(x.step_zh, "2MSL") != NULL);
	/* ... and with one they do not (the segments do), but keep their sentence. */
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	CHECK(explain_event(&r, 1, &x) == 1 && x.step_en == NULL && x.step_zh == NULL);
	CHECK(x.why != NULL);
	evrec_begin(&r, EVT_FIN_SENT, 1, -1);
	evrec_int(&r, "wave", 1);
	CHECK(explain_event(&r, 1, &x) == 1 && x.step_zh == NULL);
	/* An event with nothing to say. */
	evrec_begin(&r, EVT_START, 0, -1);
	CHECK(explain_event(&r, 0, &x) == 0 && x.why == NULL && x.step_zh == NULL);
}

/* The events with no textbook step: the program's own (start, phase ...), not the protocol's. */
static int
no_step(int ev)
{
	return ev == EVT_START || ev == EVT_PHASE || ev == EVT_SUMMARY || ev == EVT_WARNING ||
	    ev == EVT_ERROR || ev == EVT_STOP || ev == EVT_DISSECT;
}

/* One record's explanation in both languages: a why has its why_zh, a step its step_zh, and
 * the Chinese has no English sentence left in it; the English stays ASCII. */
static int
both(const struct evrec *r, int segments)
{
	struct explain x;
	const char *p;
	int ok = 1;

	if (!explain_event(r, segments, &x))
		return 0;
	if (x.why != NULL) {
		ok &= chinese(x.why_zh);
		for (p = x.why; *p; p++)
			ok &= (unsigned char)*p < 0x80;
	} else
		ok &= x.why_zh == NULL;
	if (x.step_en != NULL)
		ok &= chinese(x.step_zh);
	if (!ok)
		fprintf(stderr, "  event %s: why \"%s\" / \"%s\", step %s / %s\n",
		    evlog_event_name(r->ev), x.why ? x.why : "-", x.why_zh ? x.why_zh : "-",
		    x.step_en ? x.step_en : "-", x.step_zh ? x.step_zh : "-");
	return ok;
}

static void
test_explain_zh(void)
{
	static const char *const tos[] = { "FIN_WAIT2", "TIME_WAIT", "LAST_ACK", "CLOSE_WAIT",
	    "FIN_WAIT1", "SYN_SENT", "CLOSED" };
	static const char *const versions[] = { "TLSv1.3", "TLSv1.2" };
	static const char *const sums[] = { "offers TLS 1.3, 1.2; 31 cipher suites",
	    "offers up to TLS 1.2 (legacy_version 0x0303)", "offers TLS 1.2; offers a session "
	    "ticket", "resumes the session" };
	struct evrec r;
	struct explain x;
	size_t i, j, k;
	int ev, side;

	/* Every event kind, on either side, with and without a capture: a textbook step has
	 * both languages (step and why), and only the program's own events have none. */
	for (side = 0; side < 2; side++) {
		evlog_init(side ? EVLOG_SERVER : EVLOG_CLIENT, EVLOG_JSON, 0, 0, stderr);
		for (ev = 0; ev < EVT_LAST; ev++) {
			evrec_begin(&r, (enum evlog_event)ev, 1, -1);
			if (no_step(ev)) {
				CHECK(explain_event(&r, 0, &x) == 0);
				continue;
			}
			if (ev == EVT_SEGMENT)
				evrec_str(&r, "step", "data");
			if (ev == EVT_STATE_CHANGE)
				evrec_str(&r, "to", "FIN_WAIT2");
			CHECK(both(&r, 0) && both(&r, 1));
		}
	}
	evlog_init(EVLOG_CLIENT, EVLOG_JSON, 0, 0, stderr);
	/* Each variant a row or a function picks by the record's fields. */
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		segment(&r, steps[i].step);
		CHECK(both(&r, 1));
		evrec_int(&r, "len", 24);	/* ack_fin1 with data */
		CHECK(both(&r, 1));
	}
	for (i = 0; i < sizeof(tos) / sizeof(tos[0]); i++) {
		evrec_begin(&r, EVT_STATE_CHANGE, 1, -1);
		evrec_str(&r, "to", tos[i]);
		CHECK(both(&r, 0));
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		for (j = 0; j < 2; j++)
			for (k = 0; k < sizeof(sums) / sizeof(sums[0]); k++) {
				evrec_begin(&r, EVT_MESSAGE, 1, -1);
				evrec_str(&r, "type", types[i]);
				evrec_str(&r, "dir", j ? "in" : "out");
				evrec_str(&r, "version", versions[j]);
				evrec_str(&r, "summary", sums[k]);
				CHECK(both(&r, 0));
			}
	for (i = 0; i < 4; i++) {
		evrec_begin(&r, EVT_KEY_EXCHANGE, 1, -1);
		evrec_bool(&r, "resumed", i & 1);
		evrec_bool(&r, "forward_secrecy", i >> 1);
		CHECK(both(&r, 0));
	}
	evrec_begin(&r, EVT_TLS_ERROR, 1, -1);
	evrec_str(&r, "what", "TLS handshake failed");
	CHECK(both(&r, 0));
	/* The close, every branch: FIN sent first or third; the peer's FIN first, after ours
	 * (known or not), simultaneous, behind unread bytes, or not read() = 0. */
	for (i = 0; i < 2 * 2 * 2 * 2 * 3; i++) {
		evrec_begin(&r, i & 1 ? EVT_FIN_RECEIVED : EVT_FIN_SENT, 1, -1);
		evrec_int(&r, "wave", i & 2 ? 3 : 1);
		evrec_bool(&r, "simultaneous", (i >> 2) & 1);
		evrec_bool(&r, "after_ours_known", (i >> 3) & 1);
		evrec_bool(&r, "unread", i / 16 == 1);
		evrec_detail(&r, i / 16 == 2 ? "a RST after the FIN" : "read() returned 0");
		CHECK(both(&r, 0));
	}
	/* CertificateVerify in Chinese says what it proves: holding the private key, which is
	 * not the certificate-chain check (校验证书链). */
	evrec_begin(&r, EVT_MESSAGE, 1, -1);
	evrec_str(&r, "type", "CertificateVerify");
	CHECK(explain_event(&r, 0, &x) == 1 && strstr(x.why_zh, "持有私钥") != NULL);
	CHECK(strstr(x.step_zh, "校验证书链") == NULL && strstr(x.why_zh, "校验证书链") != NULL);
	/* The checker itself: an English sentence is caught, names and short phrases are not. */
	CHECK(!chinese("the peer sent a FIN"));
	CHECK(!chinese("对方 the peer sent a FIN"));
	CHECK(chinese("收到 EncryptedExtensions, Certificate, CertificateVerify, Finished"));
	CHECK(chinese("read() 返回 0，TIME_WAIT 持续 2MSL"));
}

static void
test_explain_printers(FILE *devnull)
{
	struct evrec r;
	char buf[8192];

	CHECK(evlog_parse_lang("en") == EVLOG_LANG_EN);
	CHECK(evlog_parse_lang("zh") == EVLOG_LANG_ZH);
	CHECK(evlog_parse_lang("ZH") == -1 && evlog_parse_lang("") == -1);
	evlog_init(EVLOG_CLIENT, EVLOG_TEXT, 0, 0, devnull);

	/* Off: nothing added. */
	evlog_set_explain(0, EVLOG_LANG_EN);
	segment(&r, "syn");
	evrec_detail(&r, "SYN seq=x  1st handshake");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "why") == NULL && strchr(buf, '\n') == strrchr(buf, '\n'));
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "explain") == NULL && strstr(buf, "step_zh") == NULL);

	/* --lang zh alone: the Chinese name beside the English one, no why line. */
	evlog_set_explain(0, EVLOG_LANG_ZH);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "1st handshake  【第一次握手】") != NULL);
	CHECK(strstr(buf, "why") == NULL);
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"step_zh\":\"第一次握手\"}") != NULL);	/* UTF-8 as it is */
	CHECK(strstr(buf, "explain") == NULL);

	/* --explain: the step and the why at the end of the event's line (not a terminal: one
	 * line per event); JSON fields. */
	evlog_set_explain(1, EVLOG_LANG_EN);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "  why (1st handshake): the connecting side") != NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);
	CHECK(strstr(buf, "第") == NULL);
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"explain_step\":\"1st handshake\",\"explain\":\"the connecting") !=
	    NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);	/* still one JSON line */

	/* Both, in colour: the why line is coloured and reset before its newline. */
	evlog_set_explain(1, EVLOG_LANG_ZH);
	evrec_format_text(&r, buf, sizeof(buf), 1);
	/* --lang zh: the why line all in Chinese (the step's Chinese name alone), the tags too. */
	CHECK(strstr(buf, "原因（第一次握手）：发起连接一方的内核发出 SYN") != NULL);
	CHECK(strstr(buf, "why") == NULL && strstr(buf, "【第一次握手】") != NULL);
	CHECK(strstr(buf, "\033[0m\n") != NULL);
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"explain\":\"发起连接一方的内核发出 SYN") != NULL);
	CHECK(strstr(buf, ",\"explain_step\":\"1st handshake\"") != NULL);
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "【第一次握手，由内核状态得知】") != NULL);
	CHECK(strstr(buf, "原因（第一次握手，由内核状态得知）：connect() 让我方内核发出 SYN") != NULL);
	CHECK(strstr(buf, "seen from") == NULL);
	/* --explain alone (English): the step's English name, as before. */
	evlog_set_explain(1, EVLOG_LANG_EN);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "why (1st handshake, seen from the kernel's states): connect()") != NULL);

	/* --wire's note line, under the event, control bytes escaped. */
	evlog_set_explain(0, EVLOG_LANG_EN);
	segment(&r, "data");
	evrec_note(&r, EVREC_NOTE_EXPOSED, "wire  5 B  \"a\001" "b\"");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "\n                                               wire  5 B  \"a\\x01b\"\n") !=
	    NULL);
}

void
test_explain(void)
{
	FILE *devnull = fopen("/dev/null", "w");

	evlog_init(EVLOG_CLIENT, EVLOG_JSON, 0, 0, devnull);
	test_explain_table();
	test_explain_zh();
	evlog_init(EVLOG_CLIENT, EVLOG_JSON, 0, 0, devnull);
	test_explain_printers(devnull);
	evlog_set_explain(0, EVLOG_LANG_EN);
	fclose(devnull);
}
