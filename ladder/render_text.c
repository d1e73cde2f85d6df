/* render_text.c -- draws the diagrams as text: two lanes, one line per arrow or note, in
 * Unicode box drawing or (--ascii) ASCII only. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

struct glyphs {
	const char *lane, *span, *note, *start, *end, *orig[2], *orig_span[2], *dash, *dot,
	    *head[2], *lr;
};
static const struct glyphs uni = {
	"│", "┃", "◆", "┳", "┻", { "├", "┤" }, { "┣", "┫" }, "─", "┄", { "◀", "▶" }, "⇄",
};
static const struct glyphs asc = {
	"|", "#", "*", "*", "*", { "|", "|" }, { "#", "#" }, "-", ".", { "<", ">" }, "<->",
};

#define TXT_MID		52	/* columns between the two lanes */
#define TXT_STATE	11
#define TXT_TIME	9

/* Only ASCII for --ascii: the few symbols of our own words get ASCII forms, the rest '?'. */
static void
put_text(struct sbuf *b, const char *s, int ascii)
{
	static const struct { const char *u, *a; } map[] = {
		{ "→", "->" }, { "←", "<-" }, { "⇄", "<->" }, { "·", "-" }, { "…", "..." },
		{ "—", "-" },
	};
	size_t i;

	if (!ascii) {
		sb_put(b, s);
		return;
	}
	while (*s) {
		if ((unsigned char)*s < 0x80) {
			sb_add(b, s++, 1);
			continue;
		}
		for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (strncmp(s, map[i].u, strlen(map[i].u)) == 0)
				break;
		if (i < sizeof(map) / sizeof(map[0])) {
			sb_put(b, map[i].a);
			s += strlen(map[i].u);
		} else {
			sb_put(b, "?");
			for (s++; ((unsigned char)*s & 0xC0) == 0x80; s++)
				;
		}
	}
}

/* The label as it will be printed: ASCII-only when asked, cut to max columns. */
static void
fit_label(char *out, size_t len, const char *label, int max, int ascii)
{
	struct sbuf b = { 0 };

	put_text(&b, label, ascii);
	bprintf(out, len, "%s", b.p ? b.p : "");
	lad_free(b.p);
	utf8_fit(out, len, max, ascii ? "..." : "…");
}

/* The time at one end of a row, then its mark (order.c) or, on the client's side, a space. */
static void
text_time(struct sbuf *b, const struct diagram *d, const struct row *r, enum side s)
{
	const char *mark = order_mark(r->mark[s]);

	if (r->t[s] >= 0)
		sb_printf(b, "%*.3f", TXT_TIME, rel_ms(d, r->t[s]));
	else
		sb_printf(b, "%*s", TXT_TIME, r->arrow ? "?" : "");
	sb_put(b, *mark ? mark : s == CLIENT ? " " : "");
}

static void
text_pad(struct sbuf *b, const char *s, int width, int right)
{
	char buf[STATE_MAX + 8];
	int w;

	bprintf(buf, sizeof(buf), "%s", s);
	utf8_fit(buf, sizeof(buf), width, "~");
	w = utf8_width(buf);
	if (right)
		sb_rep(b, " ", width - w);
	sb_put(b, buf);
	if (!right)
		sb_rep(b, " ", width - w);
}

static void
trim_line(struct sbuf *b)
{
	while (b->len > 0 && b->p[b->len - 1] == ' ')
		b->p[--b->len] = '\0';
	sb_put(b, "\n");
}

static void
render_text_one(struct sbuf *out, const struct diagram *d, int ascii, int nth, int total)
{
	const struct glyphs *g = ascii ? &asc : &uni;
	const char *note = capture_note(d);
	int active[2] = { 0, 0 }, k, moved = 0;
	const char *unseen;
	char buf[LABEL_MAX + 16], fix[3 * LABEL_MAX];
	size_t i;
	int s, lanecol = TXT_TIME + 2 + TXT_STATE + 1;

	if (total > 1)
		sb_printf(out, TR("connection %d of %d\n", "连接 %d（共 %d 个）\n"), nth, total);
	bprintf(buf, sizeof(buf), TR("Client %s (client #%" PRId64 ")  %s  Server %s (server #%"
	    PRId64 ")", "客户端 %s（client #%" PRId64 "）  %s  服务器 %s（server #%" PRId64 "）"),
	    d->c[CLIENT]->local, d->c[CLIENT]->id, g->lr, d->c[SERVER]->local,
	    d->c[SERVER]->id);
	put_text(out, buf, ascii);
	sb_put(out, "\n");
	put_text(out, d->proto, ascii);
	sb_put(out, d->t0_shared ? TR(";  times in ms since HSLAB_T0 (the origin both programs "
	    "counted from), both logs merged on the wall clock\n", "；时间是从 HSLAB_T0（两个程序"
	    "共用的时间原点）算起的 ms，两份日志按挂钟时间合并\n") : TR(";  times in ms since "
	    "the first event, both logs merged on the wall clock\n", "；时间是从第一个事件算起的 "
	    "ms，两份日志按挂钟时间合并\n"));
	if (d->skew)
		sb_put(out, TR("warning: some records say a message arrived over 1 ms before it "
		    "was sent: the two programs' clocks differ (drawn as it left, marked ^)\n",
		    "警告：有些记录说消息在发出前 1 ms 以上就到达了：两个程序的时钟不一致（画成发出"
		    "时到达，标 ^）\n"));
	if (note != NULL) {
		sb_put(out, TR("note: ", "注："));
		put_text(out, note, ascii);
		sb_put(out, "\n");
	}
	for (k = 0; k < FIX_LAST; k++)
		if (order_note(d, (enum fix_kind)k, fix, sizeof(fix)) != NULL) {
			sb_put(out, TR("note: ", "注："));
			put_text(out, fix, ascii);
			sb_put(out, "\n");
			moved = 1;
		}
	sb_put(out, "\n");
	/* the names over their lanes */
	sb_rep(out, " ", lanecol);
	sb_put(out, TR("Client", "客户端"));
	sb_rep(out, " ", TXT_MID + 1 - 6 - 5);
	sb_put(out, TR("Server\n", "服务器\n"));
	sb_printf(out, "%*s  %*s %s", TXT_TIME, "ms", TXT_STATE, "state", g->lane);
	sb_rep(out, " ", TXT_MID);
	sb_printf(out, "%s %-*s  %*s\n", g->lane, TXT_STATE, "state", TXT_TIME, "ms");

	for (i = 0; i < d->n; i++) {
		const struct row *r = &d->rows[i];
		const char *lane[2];
		struct sbuf mid = { 0 };
		int w, left, right;

		for (s = 0; s < 2; s++)
			lane[s] = active[s] ? g->span : g->lane;
		if (r->arrow) {
			int o = r->side;
			const char *dash = r->cls == CL_TCP ? g->dot : g->dash;

			lane[o] = active[o] ? g->orig_span[o] : g->orig[o];
			fit_label(buf, sizeof(buf), r->label, TXT_MID - 8, ascii);
			w = utf8_width(buf);
			left = (TXT_MID - 1 - (w + 2)) / 2;
			right = TXT_MID - 1 - (w + 2) - left;
			if (o == SERVER)
				sb_put(&mid, g->head[0]);
			sb_rep(&mid, dash, left);
			sb_put(&mid, " ");
			sb_put(&mid, buf);
			sb_put(&mid, " ");
			sb_rep(&mid, dash, right);
			if (o == CLIENT)
				sb_put(&mid, g->head[1]);
		} else {
			s = r->side;
			if (r->span == SP_START) {
				lane[s] = g->start;
				active[s] = 1;
			} else if (r->span == SP_END) {
				lane[s] = g->end;
				active[s] = 0;
			} else {
				lane[s] = g->note;
			}
			fit_label(buf, sizeof(buf), r->label, TXT_MID - 2, ascii);
			w = utf8_width(buf);
			if (s == CLIENT) {
				sb_put(&mid, " ");
				sb_put(&mid, buf);
				sb_rep(&mid, " ", TXT_MID - 1 - w);
			} else {
				sb_rep(&mid, " ", TXT_MID - 1 - w);
				sb_put(&mid, buf);
				sb_put(&mid, " ");
			}
		}
		text_time(out, d, r, CLIENT);
		sb_put(out, " ");
		text_pad(out, r->state[CLIENT], TXT_STATE, 1);
		sb_put(out, " ");
		sb_put(out, lane[CLIENT]);
		sb_put(out, mid.p ? mid.p : "");
		sb_put(out, lane[SERVER]);
		sb_put(out, " ");
		text_pad(out, r->state[SERVER], TXT_STATE, 0);
		sb_put(out, "  ");
		text_time(out, d, r, SERVER);
		trim_line(out);
		lad_free(mid.p);
	}
	sb_put(out, "\n");
	if (ascii)
		sb_put(out, TR("legend: ---> TLS or HTTP message   ...> TCP segment (--capture)   "
		    "* event on one side   # inside connect() or the close\n", "图例：---> TLS 或 "
		    "HTTP 消息   ...> TCP 报文段（--capture）   * 一侧的事件   # 在 connect() 或"
		    "关闭过程之中\n"));
	else
		sb_put(out, TR("legend: ──▶ TLS or HTTP message   ┄┄▶ TCP segment (--capture)   "
		    "◆ event on one side   ┳┃┻ inside connect() or the close\n", "图例：──▶ TLS 或 "
		    "HTTP 消息   ┄┄▶ TCP 报文段（--capture）   ◆ 一侧的事件   ┳┃┻ 在 connect() 或"
		    "关闭过程之中\n"));
	sb_put(out, TR("        the time and the kernel's TCP state (TCP_INFO) are shown at "
	    "each end\n", "      两端各显示时间和内核的 TCP 状态（TCP_INFO）\n"));
	if ((unseen = order_unseen(d)) != NULL) {
		sb_put(out, TR("        ", "      "));
		put_text(out, unseen, ascii);
		sb_put(out, "\n");
	}
	if (moved)
		sb_put(out, TR("        * a time as logged, drawn elsewhere to keep each cause "
		    "above its effect   ^ an arrival drawn at the time it left (the notes above say "
		    "why and by how much)\n", "      * 按日志记录的时间，为了让原因画在结果上方而画在"
		    "别处   ^ 到达画在发出的时刻（上面的注说明原因和差多少）\n"));
}

void
render_text(struct sbuf *out, const struct diagram *d, size_t n, int ascii)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_put(out, "\n");
		render_text_one(out, &d[i], ascii, (int)i + 1, (int)n);
	}
}
