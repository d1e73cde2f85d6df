/* evlog_text.c -- the event log's text printer: one record as the lines a reader sees (the
 * compact view on a terminal, --explain's, the piped one), peer bytes made safe on the way. */
#include <stdio.h>
#include <string.h>

#include "evlog.h"
#include "evlog_int.h"
#include "explain.h"
#include "textwidth.h"

static const char *const layer_colors[] = {
	"\033[34m",	/* TCP: blue */
	"\033[32m",	/* TLS: green */
	"\033[33m",	/* CERT: yellow */
	"\033[35m",	/* HTTP: magenta */
	"\033[37m",	/* APP: white */
};
_Static_assert(sizeof(layer_colors) / sizeof(layer_colors[0]) == LAYER_LAST,
    "layer_colors must match enum evlog_layer");

/* Text that may hold peer-chosen bytes (SNI, a request target, a header, a certificate's
 * name) on its way to a terminal: a control character would drive it (ESC starts a sequence
 * that can set the window title or clear the screen; 0x9b, alone or as UTF-8 U+009B, is CSI
 * on some terminals). C0 and C1 controls, DEL, bidirectional controls and bytes that are not
 * UTF-8 are shown as \xNN; other valid UTF-8 (a name in Chinese) passes as it is. */
static int
bidi_control(const unsigned char *p, int n)
{
	/* U+200E, U+200F, U+202A..U+202E, U+2066..U+2069: they reorder what follows them on
	 * the line (a name shown backwards), as the ladder's text also refuses. */
	return n == 3 && p[0] == 0xe2 && ((p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
	    (p[2] >= 0xaa && p[2] <= 0xae))) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9));
}

static void
put_safe(struct out *o, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int n, need;

	while (p < end) {
		if (*p >= 0x20 && *p < 0x7f) {
			put(o, (const char *)p++, 1);
			continue;
		}
		/* Never look past the end: the lead byte says how long the sequence must be. */
		need = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		n = *p >= 0x80 && end - p >= need ? evlog_utf8_len(p) : 0;
		if (n > 0 && !(p[0] == 0xc2 && p[1] < 0xa0) && !bidi_control(p, n)) {
			put(o, (const char *)p, (size_t)n);
			p += n;
			continue;
		}
		putf(o, "\\x%02x", *p++);
	}
}

static void
put_text(struct out *o, const char *s)
{
	put_safe(o, s, strlen(s));
}

/* The same, into a caller's buffer (cut short, never overrun), for text printed outside the
 * log: --show-certs and the certificate warning. */
const char *
evlog_safe(const char *s, size_t n, char *buf, size_t len)
{
	struct out o = { buf, len, 0 };

	if (len > 0)
		buf[0] = '\0';
	put_safe(&o, s, n);
	return buf;
}

/* On a terminal (evlog_width() > 0) the text wraps to its width, continuation lines under the
 * detail column (nearer the left edge on a narrow terminal), and a word longer than that
 * room starts a line at WRAP_MIN_INDENT. Piped or to a file every line stays whole (one
 * event, one line, for grep). */
#define DETAIL_COL		47
#define WRAP_MIN_INDENT		8

static int
detail_col(void)
{
	return evlog_width() <= 0 || evlog_width() >= DETAIL_COL + 32 ? DETAIL_COL : evlog_width() >= 48 ? evlog_width() - 32 : 16;
}

/* s from the current column of the line that starts at line_start: wrapped to the terminal,
 * or as it is when there is none. */
static void
put_flow(struct out *o, const char *s, size_t line_start, int indent)
{
	size_t col;

	if (evlog_width() <= 0) {
		puts_(o, s);
		return;
	}
	col = tw_width(o->buf + line_start, o->pos - line_start);
	if (o->len > o->pos + 1)
		o->pos += tw_wrap(o->buf + o->pos, o->len - o->pos, s, (int)col, evlog_width(), indent,
		    WRAP_MIN_INDENT);
}

/* A line of its own under the detail column (a terminal only), in its colour. */
static void
put_under(struct out *o, const char *s, const char *on, int color)
{
	size_t start = o->pos;
	int col = detail_col();

	putf(o, "%*s%s", col, "", color ? on : "");
	put_flow(o, s, start, col);
	puts_(o, color ? C_RESET "\n" : "\n");
}

/* --dissect: one field of a handshake message, on its own lines under the message event:
 * the field name (label, already indented by depth) in a column, the value beside it, on a
 * terminal wrapped under the value column so a long key or list stays readable. */
#define DISSECT_VALUE_COL	52
#define DISSECT_NARROW		110	/* a terminal narrower: the fields nearer the left edge */

static void
format_dissect_text(const struct evrec *r, struct out *o, const char *who, int color)
{
	/* Escaped before it is wrapped, so a peer's bytes cannot widen a line past the width. */
	char esc[4 * sizeof(r->detail) + 64];
	size_t col, start = o->pos;
	int narrow = evlog_width() > 0 && evlog_width() < DISSECT_NARROW;
	int lead = narrow ? 2 : 14, gap = narrow ? 2 : 6, vcol = narrow ? 32 : DISSECT_VALUE_COL;

	if (color)
		putf(o, "%*s%s%-10s%s%*s%s", lead, "", C_DIM, who, C_RESET, gap, "",
		    r->label ? r->label : "");
	else
		putf(o, "%*s%-10s%*s%s", lead, "", who, gap, "", r->label ? r->label : "");
	col = (size_t)(lead + 10 + gap) + (r->label ? tw_width(r->label, strlen(r->label)) : 0);
	/* Onto the value column (or one space past a long label): the padding goes into the
	 * wrapped text, so it vanishes where the value starts a line of its own. */
	snprintf(esc, sizeof(esc), "%*s", col + 1 < (size_t)vcol ? (int)(vcol - col) : 1, "");
	evlog_safe(r->detail, strlen(r->detail), esc + strlen(esc), sizeof(esc) - strlen(esc));
	put_flow(o, esc, start, vcol);
	puts_(o, "\n");
}

/* --explain: "why (1st handshake / 第一次握手): ..." */
static void
why_text(struct out *o, const struct explain *x)
{
	if (x->step_en != NULL || x->step_zh != NULL) {
		puts_(o, TR("why (", "原因（"));
		if (x->step_en != NULL && x->step_zh == NULL)
			puts_(o, x->step_en);
		if (x->step_zh != NULL)
			puts_(o, x->step_zh);
		if (x->kernel)
			puts_(o, TR(", seen from the kernel's states", "，由内核状态得知"));
		puts_(o, TR("): ", "）："));
	} else
		puts_(o, TR("why: ", "原因："));
	puts_(o, x->why);
}

#define C_WHY	"\033[3;36m"
#define C_STEP	"\033[1;33m"

/* The compact view (a terminal, no --explain): one line per event, at most the terminal's
 * width. Narrower than COMPACT_FULL_WIDTH the prefix is shorter: no side (one program's log
 * is one side), no layer column (the label takes the layer's colour), the time to 0.1 ms. */
#define COMPACT_FULL_WIDTH	100

int
compact(void)
{
	return evlog_width() > 0 && !evlog_explain();
}

/* Events a reader acts on or reads whole (an error, a warning, the commands the server
 * suggests, the timings): wrapped under the detail column even in the compact view. */
static int
kept_whole(enum evlog_event ev)
{
	return ev == EVT_ERROR || ev == EVT_WARNING || ev == EVT_START || ev == EVT_TIMING ||
	    ev == EVT_SUMMARY;
}

/* The time, who, the layer and the label: the full prefix (the detail at column 48), or the
 * compact view's narrow one on a terminal under COMPACT_FULL_WIDTH columns. */
static void
put_prefix(struct out *o, const struct evrec *r, const char *who, const char *label, int color,
    int narrow)
{
	enum evlog_layer layer = evlog_event_layer(r->ev);
	int server = evlog_side() == EVLOG_SERVER;
	char conn[16];

	if (narrow) {
		putf(o, "%+7.1f ms ", (double)r->t_us / 1000.0);
		if (r->conn)
			snprintf(conn, sizeof(conn), "#%u", r->conn);
		else
			conn[0] = '\0';
		if (color)
			putf(o, "%s%-3s%s %s%s%-15s%s ", server ? "\033[1;35m" : "\033[1;36m", conn,
			    C_RESET, C_BOLD, layer_colors[layer], label, C_RESET);
		else
			putf(o, "%-3s %-15s ", conn, label);
		return;
	}
	putf(o, "%+10.3f ms  ", (double)r->t_us / 1000.0);
	if (color)
		putf(o, "%s%-10s%s ", server ? "\033[1;35m" : "\033[1;36m", who, C_RESET);
	else
		putf(o, "%-10s ", who);
	if (color)
		putf(o, "%s%-4s%s ", layer_colors[layer], evlog_layer_name(layer), C_RESET);
	else
		putf(o, "%-4s ", evlog_layer_name(layer));
	if (color)
		putf(o, "%s%-16s%s", C_BOLD, label, C_RESET);
	else
		putf(o, "%-16s", label);
}

/* The kernel's state, on every event that has one (JSON's tcp_state): "[STATE seq+N ack+M]"
 * on a TCP event that has them, else "[STATE]". */
static void
put_state(struct out *o, const struct evrec *r, const char *sep)
{
	if (r->tcp_state != NULL && r->has_rel && evlog_event_layer(r->ev) == LAYER_TCP)
		putf(o, "%s[%s seq+%llu ack+%llu]", sep, r->tcp_state,
		    (unsigned long long)r->rel_seq, (unsigned long long)r->rel_ack);
	else if (r->tcp_state != NULL)
		putf(o, "%s[%s]", sep, r->tcp_state);
}

/* The compact view's line after the prefix (o holds the prefix, from the line's start): the
 * detail, the Chinese step (--lang zh) and the kernel's state, in the terminal's width. The
 * state is an observation: always whole. The detail fills the rest, cut at a word (or between
 * CJK characters) with "…" when longer. Where even "…" has no room the separators narrow, then
 * the detail goes, then the step; a terminal too narrow for the prefix and the state (under
 * some 60 columns) gets the line cut. */
static void
put_compact(struct out *o, const struct evrec *r, const char *step, int color)
{
	static char det[4 * sizeof(r->detail) + 8], cut[4 * sizeof(r->detail) + 8];
	char tag[256], state[128];
	struct out t = { tag, sizeof(tag), 0 }, st = { state, sizeof(state), 0 };
	int pre = (int)tw_width(o->buf, o->pos), room, level, sep, with_step, wt, ws, d;

	tag[0] = state[0] = '\0';
	evlog_safe(r->detail, strlen(r->detail), det, sizeof(det));
	d = det[0] != '\0';
	if (step != NULL)
		putf(&t, "%s【%s】%s", color ? C_STEP : "", step, color ? C_RESET : "");
	wt = (int)tw_width(tag, t.pos);
	put_state(&st, r, "");
	ws = (int)tw_width(state, st.pos);
	/* Levels 0-2 with the step, 3-5 without: "  " between the parts, then " ", then the
	 * detail a lone "…" glued to what follows (or nothing, if there is no detail). */
	for (level = 0; level < 6; level++) {
		if (step == NULL && level >= 3)
			break;
		with_step = step != NULL && level < 3;
		sep = level % 3 == 0 ? 2 : 1;
		if (level % 3 == 2) {
			room = evlog_width() - pre - d - (with_step ? wt : 0) -
			    (ws ? ws + (d || with_step) : 0);
			if (room < 0)
				continue;
			if (d)
				put(o, "\xe2\x80\xa6", 3);
			if (with_step)
				puts_(o, tag);
			if (ws)
				putf(o, "%s%s", d || with_step ? " " : "", state);
			return;
		}
		room = evlog_width() - pre - (with_step ? wt + (d ? sep : 0) : 0) -
		    (ws ? ws + (d || with_step ? sep : 0) : 0);
		if (room < d)
			continue;
		tw_cut(cut, sizeof(cut), det, room, 1);
		puts_(o, cut);
		if (with_step)
			putf(o, "%*s%s", d ? sep : 0, "", tag);
		if (ws)
			putf(o, "%*s%s", d || with_step ? sep : 0, "", state);
		return;
	}
	/* Too narrow for the prefix and the state: the line cut at the terminal's edge. */
	puts_(o, state);
	tw_cut(cut, sizeof(cut), o->buf, evlog_width(), 0);
	o->pos = 0;
	o->buf[0] = '\0';
	puts_(o, cut);
	if (color)
		puts_(o, C_RESET);
}

/* One event. Compact on a terminal (the default there): one line, see put_compact; a --wire
 * note on one more line under the detail; an error, a warning, the start hints and timings
 * wrapped instead of cut. With --explain on a terminal the event's line wrapped, then the
 * gloss and the why under it, each on lines of their own. Piped or to a file: one line with
 * everything, the why at its end. The gloss is left out where the why says the same (a
 * sentence is printed once). */
size_t
evrec_format_text(const struct evrec *r, char *buf, size_t len, int color)
{
	static char flow[16384], esc[4 * 1024 + 8];
	struct out o = { buf, len, 0 }, f = { flow, sizeof(flow), 0 };
	const char *name = r->label ? r->label : evlog_event_name(r->ev);
	struct explain x;
	int server = evlog_side() == EVLOG_SERVER, ex = explained(r, &x), term = evlog_width() > 0;
	int full = !term || evlog_explain(), why = ex && x.why != NULL, gloss, indent = detail_col();
	int narrow = compact() && evlog_width() < COMPACT_FULL_WIDTH;
	char who[32], safe[4 * 128 + 8];
	const char *tag;

	if (len > 0)
		buf[0] = '\0';
	/* the step's tag, but where the detail already names it (a captured segment's) */
	tag = ex && x.step_zh != NULL && strstr(r->detail, x.step_zh) == NULL ? x.step_zh : NULL;
	gloss = r->gloss[0] && full && !(why && tw_says_same(r->gloss, x.why));
	if (r->conn)
		snprintf(who, sizeof(who), "%s #%u", server ? "server" : "client", r->conn);
	else
		snprintf(who, sizeof(who), "%s", server ? "server" : "client");
	if (r->ev == EVT_DISSECT) {
		format_dissect_text(r, &o, who, color);
		return o.pos;
	}
	/* A label can hold a peer's words ("< GET /target"): escaped, then padded. */
	evlog_safe(name, strlen(name), safe, sizeof(safe));
	put_prefix(&o, r, who, safe, color, narrow);
	if (compact()) {
		if (narrow)
			indent = (int)tw_width(buf, o.pos);
		if (!kept_whole(r->ev)) {
			if (!narrow)
				put(&o, " ", 1);
			put_compact(&o, r, tag, color);
			puts_(&o, "\n");
			if (r->note != NULL) {
				/* --wire's line: one line too, under the detail */
				putf(&o, "%*s%s", indent, "", color ? r->note_tone ==
				    EVREC_NOTE_EXPOSED ? "\033[31m" : r->note_tone ==
				    EVREC_NOTE_PROTECTED ? "\033[32m" : C_DIM : "");
				evlog_safe(r->note, strlen(r->note), esc, sizeof(esc));
				tw_cut(flow, sizeof(flow), esc, evlog_width() - indent, 1);
				puts_(&o, flow);
				puts_(&o, color ? C_RESET "\n" : "\n");
			}
			return o.pos;
		}
	}
	if (r->detail[0]) {
		if (!narrow)
			put(&f, " ", 1);
		put_text(&f, r->detail);
	}
	if (tag != NULL)
		putf(&f, "  %s【%s%s】%s", color ? C_STEP : "", tag,
		    x.kernel ? TR(", seen from the kernel's states", "，由内核状态得知") : "",
		    color ? C_RESET : "");
	put_state(&f, r, "  ");
	if (gloss && !term) {
		puts_(&f, color ? "  " C_DIM : "  -- ");
		put_text(&f, r->gloss);
		if (color)
			puts_(&f, C_RESET);
	}
	if (why && !term) {
		puts_(&f, color ? "  " C_WHY : "  ");
		why_text(&f, &x);
		if (color)
			puts_(&f, C_RESET);
	}
	put_flow(&o, flow, 0, indent);
	puts_(&o, "\n");
	if (gloss && term)
		put_under(&o, evlog_safe(r->gloss, strlen(r->gloss), esc, sizeof(esc)), C_DIM, color);
	if (r->note != NULL)
		put_under(&o, evlog_safe(r->note, strlen(r->note), esc, sizeof(esc)),
		    r->note_tone == EVREC_NOTE_EXPOSED ? "\033[31m" :
		    r->note_tone == EVREC_NOTE_PROTECTED ? "\033[32m" : C_DIM, color);
	if (why && term) {
		f.pos = 0;
		why_text(&f, &x);
		put_under(&o, flow, C_WHY, color);
	}
	return o.pos;
}
