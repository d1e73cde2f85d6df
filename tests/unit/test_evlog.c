/* test_evlog.c -- the event record's two printers: exact JSON, escaping, and the text line. */
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "unit.h"

void
test_evlog(void)
{
	struct evrec r;
	char buf[8192];
	size_t n;
	FILE *devnull = fopen("/dev/null", "w");

	evlog_init(EVLOG_CLIENT, EVLOG_JSON, 0, 0, devnull);

	/* Every event has a name and a layer; names are unique. */
	for (int i = 0; i < EVT_LAST; i++) {
		CHECK(evlog_event_name(i)[0] != '?');
		for (int j = i + 1; j < EVT_LAST; j++)
			CHECK(strcmp(evlog_event_name(i), evlog_event_name(j)) != 0);
	}
	CHECK_STR(evlog_event_name(EVT_FIN_SENT), "fin_sent");
	CHECK_STR(evlog_layer_name(evlog_event_layer(EVT_VERIFY)), "CERT");
	CHECK_STR(evlog_layer_name(evlog_event_layer(EVT_MESSAGE)), "TLS");
	CHECK_STR(evlog_layer_name(evlog_event_layer(EVT_REQUEST)), "HTTP");
	CHECK_STR(evlog_layer_name(evlog_event_layer(EVT_CONNECT)), "TCP");

	/* JSON: fixed fields first, then the event's, all escaped; one line. */
	CHECK(evrec_begin(&r, EVT_MESSAGE, 3, -1) == 1);
	r.t_us = 1500;
	r.ts_us = 1700000000000001LL;
	evrec_str(&r, "dir", "out");
	evrec_str(&r, "type", "Client\"Hello\\\n\x01");
	evrec_int(&r, "len", 312);
	evrec_bool(&r, "aead", 1);
	n = evrec_format_json(&r, buf, sizeof(buf));
	CHECK(n == strlen(buf));
	CHECK_STR(buf, "{\"t_ms\":1.500,\"ts_us\":1700000000000001,\"side\":\"client\",\"conn\":3,"
	    "\"layer\":\"TLS\",\"event\":\"message\",\"dir\":\"out\","
	    "\"type\":\"Client\\\"Hello\\\\\\n\\u0001\",\"len\":312,\"aead\":true}\n");

	/* evrec_set_time: an earlier time (taken before the system call) moves both clocks by
	 * the same amount; a later one, or none, changes nothing. */
	r.t_us = 5000;
	r.ts_us = 1700000000005000LL;
	evrec_set_time(&r, 4200);
	CHECK(r.t_us == 4200 && r.ts_us == 1700000000004200LL);
	evrec_set_time(&r, 4300);
	CHECK(r.t_us == 4200 && r.ts_us == 1700000000004200LL);
	evrec_set_time(&r, 0);
	CHECK(r.t_us == 4200);

	/* tcp_state appears only when a socket was given; a non-socket fd gives none. */
	CHECK(strstr(buf, "tcp_state") == NULL);
	CHECK(evrec_begin(&r, EVT_CLOSED, 1, 0) == 1);
	CHECK(r.tcp_state == NULL);

	/* Non-ASCII bytes from the network are escaped, so the line stays valid JSON. */
	evrec_begin(&r, EVT_REQUEST, 1, -1);
	evrec_str(&r, "target", "/\xff\xfe");
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"target\":\"/\\u00ff\\u00fe\"") != NULL);

	/* Strict UTF-8 (RFC 3629): valid sequences pass as they are; a surrogate, an overlong
	 * form, a code point above U+10FFFF, a cut sequence are escaped byte by byte. */
	evrec_begin(&r, EVT_REQUEST, 1, -1);
	evrec_str(&r, "host", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\xf4\x8f\xbf\xbf");
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"host\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\xf4\x8f\xbf\xbf\"") != NULL);
	evrec_begin(&r, EVT_REQUEST, 1, -1);
	evrec_str(&r, "host", "\xed\xa0\x80\xe0\x80\x80\xf4\x90\x80\x80\xc0\xaf\xe2\x82");
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"host\":\"\\u00ed\\u00a0\\u0080\\u00e0\\u0080\\u0080"
	    "\\u00f4\\u0090\\u0080\\u0080\\u00c0\\u00af\\u00e2\\u0082\"") != NULL);

	/* Valid but dangerous on a terminal: the C1 controls (U+009B is a CSI) and the
	 * bidirectional controls are written \uXXXX (same string, nothing raw). */
	evrec_begin(&r, EVT_REQUEST, 1, -1);
	evrec_str(&r, "host", "a\xc2\x9b" "2J\xe2\x80\xae" "b\xc3\xa9");
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"host\":\"a\\u009b2J\\u202e" "b\xc3\xa9\"") != NULL);

	/* A small buffer is never overrun and stays NUL-terminated. */
	n = evrec_format_json(&r, buf, 10);
	CHECK(n == 9 && buf[9] == '\0');

	/* Text: time, side and id, layer, label, detail, state, gloss; no colour codes. */
	evrec_begin(&r, EVT_CONNECT, 1, -1);
	r.t_us = 52;
	r.tcp_state = "ESTABLISHED";
	evrec_detail(&r, "127.0.0.1:40312 -> 127.0.0.1:8443");
	evrec_gloss(&r, "kernel sent SYN (1st handshake)");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "+0.052 ms") != NULL);
	CHECK(strstr(buf, "client #1") != NULL);
	CHECK(strstr(buf, "TCP  connect") != NULL);
	CHECK(strstr(buf, "127.0.0.1:40312 -> 127.0.0.1:8443  [ESTABLISHED]  -- kernel sent SYN")
	    != NULL);
	CHECK(strchr(buf, '\033') == NULL);
	CHECK(buf[strlen(buf) - 1] == '\n');
	evrec_format_text(&r, buf, sizeof(buf), 1);
	CHECK(strchr(buf, '\033') != NULL);

	/* A label replaces the event name in the text form only. */
	evrec_begin(&r, EVT_MESSAGE, 2, -1);
	evrec_label(&r, "> %s", "ClientHello");
	evrec_format_text(&r, buf, sizeof(buf), 0);
	CHECK(strstr(buf, "> ClientHello") != NULL);
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"event\":\"message\"") != NULL);

	/* A peer's bytes on their way to a terminal: C0, C1 (raw or as UTF-8), DEL and bytes
	 * that are not UTF-8 as \xNN; valid UTF-8 as it is; never a byte past n. */
	{
		char safe[128];

		CHECK_STR(evlog_safe("a\x1b]0;T\x07\xc2\x9b\x9b\x7f\xe4\xb8\xad\xff\xc2\xa0z", 18,
		    safe, sizeof(safe)),
		    "a\\x1b]0;T\\x07\\xc2\\x9b\\x9b\\x7f\xe4\xb8\xad\\xff\xc2\xa0z");
		CHECK_STR(evlog_safe("x\xe4\xb8\xad", 3, safe, sizeof(safe)), "x\\xe4\\xb8");
		CHECK_STR(evlog_safe("a\0b", 3, safe, sizeof(safe)), "a\\x00b");
		CHECK_STR(evlog_safe("moc.\xe2\x80\xaeknab", 11, safe, sizeof(safe)),
		    "moc.\\xe2\\x80\\xaeknab");
		CHECK_STR(evlog_safe("\xe2\x81\xa6\xe2\x80\x93", 6, safe, sizeof(safe)),
		    "\\xe2\\x81\\xa6\xe2\x80\x93");
		CHECK_STR(evlog_safe("\x1b\x1b", 2, safe, 6), "\\x1b\\");
		evrec_begin(&r, EVT_RESPONSE, 1, -1);
		evrec_label(&r, "< 200 OK\xc2\x9b" "2J");
		evrec_detail(&r, "HTTP/1.1 \x9b");
		evrec_gloss(&r, "g\x1b");
		evrec_format_text(&r, buf, sizeof(buf), 0);
		CHECK(strstr(buf, "< 200 OK\\xc2\\x9b2J HTTP/1.1 \\x9b  -- g\\x1b\n") != NULL);
		CHECK(strchr(buf, '\033') == NULL && strchr(buf, '\x9b') == NULL);
	}

	/* Quiet: records are off and nothing is formatted. */
	evlog_init(EVLOG_SERVER, EVLOG_JSON, 1, 0, devnull);
	CHECK(evrec_begin(&r, EVT_LISTEN, 0, -1) == 0);
	CHECK(r.off == 1);
	CHECK(evlog_on() == 0);
	evlog_init(EVLOG_SERVER, EVLOG_JSON, 0, 0, devnull);
	evrec_begin(&r, EVT_LISTEN, 0, -1);
	evrec_format_json(&r, buf, sizeof(buf));
	CHECK(strstr(buf, "\"side\":\"server\"") != NULL);
	evlog_init(EVLOG_CLIENT, EVLOG_TEXT, 0, 0, devnull);
	fclose(devnull);
}
