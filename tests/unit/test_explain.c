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

	/* --explain: a second line, indented, with the step; JSON fields. */
	evlog_set_explain(1, EVLOG_LANG_EN);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "\n                                               why (1st handshake): "
	    "the connecting side") != NULL);
	CHECK(strstr(buf, "第") == NULL);
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"explain_step\":\"1st handshake\",\"explain\":\"the connecting") !=
	    NULL);
	CHECK(strchr(buf, '\n') == buf + strlen(buf) - 1);	/* still one JSON line */

	/* Both, in colour: the why line is coloured and reset before its newline. */
	evlog_set_explain(1, EVLOG_LANG_ZH);
	evrec_format_text(&r, buf, sizeof(buf), 1);
	CHECK(strstr(buf, "why (1st handshake / 第一次握手): ") != NULL);
	CHECK(strstr(buf, "\033[0m\n") != NULL);
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "【第一次握手, seen from the kernel's states】") != NULL);
	CHECK(strstr(buf, "why (1st handshake / 第一次握手, seen from the kernel's states): ") != NULL);

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
	test_explain_printers(devnull);
	evlog_set_explain(0, EVLOG_LANG_EN);
	fclose(devnull);
}
