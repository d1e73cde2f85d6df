/* options.c -- the ladder's flags as a table (common/flags.h): main.c reads the command line
 * with it, and --help and man/ladder.1 are written from it. Nothing else of the ladder is
 * here, so build/mkman links this file alone. */
#include "flags.h"
#include "ladder.h"

static const struct flag flags[] = {
	{ F_TEXT, "text", 0, NULL, "text with Unicode box drawing (the default)" },
	{ F_ASCII, "ascii", 0, NULL, "text with ASCII characters only" },
	{ F_SVG, "svg", 0, NULL, "a self-contained SVG picture (open it in a browser)" },
	{ F_MERMAID, "mermaid", 0, NULL, "Mermaid sequenceDiagram text" },
	{ F_LANG, "lang", 0, "en|zh", "the labels, notes and legend in English (the default) or "
	    "in Chinese (zh), as the programs' --lang; the logs' own words are drawn as they "
	    "came" },
	{ 0 }
};

static const struct flags_exit exits[] = {
	{ 0, "drawn" },
	{ 1, "no diagram (a log cannot be read, or the two share no connection) or a write "
	    "error" },
	{ 2, "usage error" },
	{ 0, NULL }
};

const struct flags_prog ladder_flags = {
	.name = "ladder",
	.options = "[--svg | --mermaid | --ascii]",
	.operands = "CLIENT_LOG SERVER_LOG",
	.summary = "draw the ladder diagram of one run from the client's and the server's event "
	    "logs",
	.description = "Draw the ladder diagram of one run from the two JSON-lines event logs: "
	    "the client's (build/client --log-format json URL 2>client.json) and the server's "
	    "(build/server --log-format json ... >server.json).\nClient on the left, server on "
	    "the right, time going down: an arrow for each TLS message, alert, close_notify, "
	    "HTTP request and response, and each TCP segment when both programs ran with "
	    "--capture; the time and the kernel's TCP state at each end. Connections are "
	    "matched by address and port, events merged on ts_us.\nEach effect is drawn below "
	    "its cause: a call above the segment it sent, a message below the segment that "
	    "carried it, read() = 0 below the peer's shutdown(); no arrow arrives before it "
	    "left. A time drawn away from its place is shown as logged and marked *, an arrival "
	    "drawn at its departure is marked ^, and a note says what moved and by how much.",
	.flags = flags,
	.notes = "Flags and logs can come in any order; after -- every word is a log. A log "
	    "name '-' reads standard input (one of the two at most). Lines that are not JSON "
	    "objects are skipped; malformed JSON lines, and those over 65535 bytes or with a "
	    "NUL byte, are skipped with a count on standard error.\nTimes count from the first "
	    "event, or from HSLAB_T0 (wall-clock microseconds since the epoch) when it is set and "
	    "lies before it: the origin make demo and make lesson give both programs, so the "
	    "diagram's times are their +ms.",
	.exits = exits,
	.see_also = "client(1), server(1)",
};
