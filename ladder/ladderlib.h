/* ladderlib.h -- the ladder diagram of one connection for the server's own page: the same
 * reader, model, order and SVG renderer as build/ladder (the files of ladder/), called on the
 * server's events for that connection held in memory.
 *
 * ladder_svg() takes the JSON lines the server logs with --log-format json (one event a line,
 * exactly as written, side "server", all of one connection; lines that are not JSON objects,
 * such as plain messages, are skipped) and draws the server's side alone: the server's lane
 * with its events (accept(), the FINs, close(), state changes), an arrow for each TLS
 * message, alert, close_notify, HTTP request and response the server sent or read (and each
 * TCP segment when it ran with --capture), at the server's times in ms since its first event
 * for the connection; the client's end of each arrow has no time (the legend says why). It
 * returns 0 and a NUL-terminated <svg> element in *svg, ready to go inline in HTML
 * (build/ladder --svg's document without its <?xml?> line; malloc'd, the caller frees it;
 * its length in *svglen), or -1 with *svg NULL: input empty or over LADDER_SVG_IN_MAX bytes,
 * a malformed JSON line or one with a NUL byte, not exactly one server connection in it, an
 * output over LADDER_SVG_OUT_MAX bytes, or an allocation that failed (everything allocated is
 * freed: the ladder never exits the server). lang_zh: 1 for the labels, notes and legend in
 * Chinese (the server's --lang zh: evlog_zh()). It writes nothing to standard output or
 * error and reads no file or environment. Only the events of enum kind (ladder/ladder.h) and
 * the fields model.c reads are used: a compact record may keep just those (the recorded test
 * connection: 7.8 KB instead of 17 KB, the same picture). It is not reentrant or thread-safe
 * (one static line buffer, one list of blocks): the server calls it from its one event loop.
 *
 *	char *svg;
 *	size_t n;
 *
 *	if (ladder_svg(rec, reclen, evlog_zh(), &svg, &n) == 0) {
 *		evbuffer_add(out, svg, n);	(inline in the page: 1200 px wide, a viewBox)
 *		free(svg);
 *	}
 */
#ifndef LADDERLIB_H
#define LADDERLIB_H

#include <stddef.h>

#define LADDER_SVG_IN_MAX	(64 * 1024)	/* the events of one connection, JSON lines */
#define LADDER_SVG_OUT_MAX	(2 * 1024 * 1024)	/* the SVG drawn from them */

int	 ladder_svg(const char *jsonl, size_t len, int lang_zh, char **svg, size_t *svglen);

#endif
