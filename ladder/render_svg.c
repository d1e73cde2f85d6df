/* render_svg.c -- draws the diagrams as one self-contained SVG picture, readable on a slide. */
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

#define SVG_W		1200
#define SVG_LANE_L	270
#define SVG_LANE_R	(SVG_W - 270)
#define SVG_LABEL_PX	17	/* font sizes: readable on a slide */
#define SVG_NOTE_PX	15
#define SVG_SMALL_PX	13
#define SVG_CHAR	0.61	/* width of a DejaVu Sans Mono character, in em */
#define SVG_FONT	"DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
#define SVG_SANS	"DejaVu Sans, Helvetica, Arial, sans-serif"

static void
xml_put(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':  sb_put(b, "&amp;"); break;
		case '<':  sb_put(b, "&lt;"); break;
		case '>':  sb_put(b, "&gt;"); break;
		case '"':  sb_put(b, "&quot;"); break;
		case '\'': sb_put(b, "&apos;"); break;
		default:   sb_add(b, s, 1); break;
		}
	}
}

/* A text element with the text cut to fit max_px. */
static void
svg_text(struct sbuf *b, double x, double y, int px, const char *anchor, const char *fill,
    const char *weight, const char *family, double max_px, const char *text)
{
	char buf[LABEL_MAX + 16];
	int maxc = (int)(max_px / (px * SVG_CHAR));

	bprintf(buf, sizeof(buf), "%s", text);
	utf8_fit(buf, sizeof(buf), maxc > 1 ? maxc : 1, "…");
	sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" "
	    "fill=\"%s\" font-weight=\"%s\" font-family=\"%s\">", x, y, px, anchor, fill, weight,
	    family);
	xml_put(b, buf);
	sb_put(b, "</text>\n");
}

static const char *
cls_color(enum cls c)
{
	switch (c) {
	case CL_TCP:		return "#5f6b7a";
	case CL_TLS:		return "#1f5fbf";
	case CL_HTTP:		return "#137333";
	case CL_ALERT:		return "#c5221f";
	case CL_CLOSE_NOTIFY:	return "#8430ce";
	default:		return "#444444";
	}
}

static int
svg_row_height(const struct row *r)
{
	if (!r->arrow)
		return 34;
	return r->sub[0] ? 58 : 42;
}

/* Time and state beside a lane: "ESTABLISHED  0.306" on the left, mirrored on the right. */
static void
svg_end(struct sbuf *b, const struct diagram *d, const struct row *r, enum side s, double y)
{
	char t[32] = "";
	double x;

	if (r->t[s] >= 0)
		bprintf(t, sizeof(t), "%.3f", rel_ms(d, r->t[s]));
	else if (r->arrow && !d->one_side)	/* one side: the legend says why there is none */
		bprintf(t, sizeof(t), "?");
	if (!t[0] && !r->state[s][0])
		return;
	x = s == CLIENT ? SVG_LANE_L - 14 : SVG_LANE_R + 14;
	sb_printf(b, "<text x=\"%d\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\" "
	    "font-family=\"%s\">", (int)x, y, SVG_NOTE_PX, s == CLIENT ? "end" : "start",
	    SVG_FONT);
	if (s == CLIENT && r->state[s][0]) {
		sb_printf(b, "<tspan fill=\"#6b7280\" font-size=\"%d\">", SVG_SMALL_PX);
		xml_put(b, r->state[s]);
		sb_put(b, "</tspan> ");
	}
	sb_printf(b, "<tspan fill=\"#111111\" font-weight=\"bold\">%s%s</tspan>", t,
	    order_mark(r->mark[s]));
	if (s == SERVER && r->state[s][0]) {
		sb_printf(b, " <tspan fill=\"#6b7280\" font-size=\"%d\">", SVG_SMALL_PX);
		xml_put(b, r->state[s]);
		sb_put(b, "</tspan>");
	}
	sb_put(b, "</text>\n");
}

static void
svg_lane_head(struct sbuf *b, double x, double y, const char *name, const char *addr)
{
	sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"240\" height=\"58\" rx=\"8\" "
	    "fill=\"#eef3fb\" stroke=\"#1f3b63\" stroke-width=\"2\"/>\n", x - 120, y);
	svg_text(b, x, y + 25, 20, "middle", "#1f3b63", "bold", SVG_SANS, 230, name);
	svg_text(b, x, y + 47, SVG_SMALL_PX + 1, "middle", "#1f3b63", "normal", SVG_FONT, 230,
	    addr);
}

/* text in lines of at most max_px, cut at spaces; returns the y below the last line. */
static double
svg_wrap(struct sbuf *b, double x, double y, int px, const char *fill, double max_px,
    const char *text)
{
	int maxc = (int)(max_px / (px * SVG_CHAR));
	char line[LABEL_MAX * 3];

	while (*text) {
		const char *p = text, *cut = NULL;
		int w = 0;

		/* the last space within maxc columns (UTF-8: count the lead bytes only) */
		for (; *p && w <= maxc; p++) {
			if (*p == ' ')
				cut = p;
			if (((unsigned char)*p & 0xC0) != 0x80)
				w++;
		}
		if (!*p && w <= maxc)
			cut = p;
		else if (cut == NULL || cut == text)
			cut = p;
		bprintf(line, sizeof(line), "%.*s", (int)(cut - text), text);
		svg_text(b, x, y, px, "start", fill, "normal", SVG_SANS, max_px, line);
		y += px + 6;
		text = *cut == ' ' ? cut + 1 : cut;
	}
	return y;
}

static int
render_svg_one(struct sbuf *b, const struct diagram *d, int y0, int nth, int total)
{
	const char *note = capture_note(d);
	double lane[2] = { SVG_LANE_L, SVG_LANE_R }, mid = SVG_LANE_R - SVG_LANE_L;
	double y = y0, ybody, span_y[2] = { -1, -1 };
	char buf[LABEL_MAX * 2], fix[LABEL_MAX * 3];
	struct sbuf spans = { 0 }, body = { 0 };
	size_t i;
	int s, k;

	if (total > 1)
		bprintf(buf, sizeof(buf), TR("Connection %d of %d:  client %s  ⇄  server %s",
		    "连接 %d（共 %d 个）：客户端 %s  ⇄  服务器 %s"), nth, total,
		    d->c[CLIENT]->local, d->c[SERVER]->local);
	else
		bprintf(buf, sizeof(buf), TR("Client %s  ⇄  Server %s", "客户端 %s  ⇄  服务器 %s"),
		    d->c[CLIENT]->local, d->c[SERVER]->local);
	svg_text(b, 30, y + 34, 24, "start", "#111111", "bold", SVG_SANS, SVG_W - 60, buf);
	if (d->one_side)
		bprintf(buf, sizeof(buf), TR("%s  ·  the server's log alone: ms since its first "
		    "event", "%s  ·  只有服务器的日志：从它的第一个事件算起的 ms"), d->proto);
	else
		bprintf(buf, sizeof(buf), TR("%s  ·  times in ms since %s (both logs merged on the "
		    "wall clock)", "%s  ·  时间是从%s算起的 ms（两份日志按挂钟时间合并）"), d->proto,
		    d->t0_shared ? TR("HSLAB_T0, one origin for both programs",
		    " HSLAB_T0（两个程序共用的时间原点）") : TR("the first event", "第一个事件"));
	svg_text(b, 30, y + 64, 15, "start", "#374151", "normal", SVG_SANS, SVG_W - 60, buf);
	y += 84;
	if (d->skew) {
		svg_text(b, 30, y + 10, 14, "start", "#c5221f", "normal", SVG_SANS, SVG_W - 60,
		    TR("warning: some records say a message arrived over 1 ms before it was sent: "
		    "the two programs' clocks differ (drawn as it left, marked ^)", "警告：有些记录"
		    "说消息在发出前 1 ms 以上就到达了：两个程序的时钟不一致（画成发出时到达，标 ^）"));
		y += 24;
	}
	if (note != NULL) {
		/* two lines, cut after the colon */
		const char *colon = strstr(note, ": ");
		int n1 = colon != NULL ? (int)(colon - note + 1) : (int)strlen(note);

		sb_printf(b, "<rect x=\"30\" y=\"%.1f\" width=\"%d\" height=\"50\" rx=\"6\" "
		    "fill=\"#fff4ce\" stroke=\"#d4a72c\"/>\n", y, SVG_W - 60);
		bprintf(buf, sizeof(buf), "%.*s", n1, note);
		svg_text(b, 44, y + 21, 15, "start", "#5c4400", "bold", SVG_SANS, SVG_W - 88, buf);
		if (colon != NULL)
			svg_text(b, 44, y + 41, 14, "start", "#5c4400", "normal", SVG_SANS,
			    SVG_W - 88, colon + 2);
		y += 60;
	}
	/* what order.c moved to keep each cause above its effect, and by how much */
	for (k = 0; k < FIX_LAST; k++)
		if (order_note(d, (enum fix_kind)k, fix, sizeof(fix)) != NULL)
			y = svg_wrap(b, 30, y + 14, 14, "#374151", SVG_W - 60, fix) - 6;
	y += 12;
	svg_lane_head(b, lane[CLIENT], y, TR("Client", "客户端"), d->c[CLIENT]->local);
	svg_lane_head(b, lane[SERVER], y, TR("Server", "服务器"), d->c[SERVER]->local);
	svg_text(b, lane[CLIENT] - 14, y + 80, SVG_SMALL_PX, "end", "#6b7280", "normal",
	    SVG_SANS, 60, "ms");
	svg_text(b, lane[CLIENT] - 80, y + 80, SVG_SMALL_PX, "end", "#6b7280", "normal",
	    SVG_SANS, 150, "kernel state");
	svg_text(b, lane[SERVER] + 14, y + 80, SVG_SMALL_PX, "start", "#6b7280", "normal",
	    SVG_SANS, 60, "ms");
	svg_text(b, lane[SERVER] + 80, y + 80, SVG_SMALL_PX, "start", "#6b7280", "normal",
	    SVG_SANS, 150, "kernel state");
	y += 58;
	ybody = y;
	y += 32;

	for (i = 0; i < d->n; i++) {
		const struct row *r = &d->rows[i];
		int h = svg_row_height(r);

		/* the whole label as a tooltip, in case the picture had to cut it */
		sb_put(&body, "<g><title>");
		xml_put(&body, r->label);
		if (r->sub[0]) {
			sb_put(&body, " — ");
			xml_put(&body, r->sub);
		}
		sb_put(&body, "</title>\n");
		if (r->arrow) {
			int o = r->side;
			double ly = y + (r->sub[0] ? 30 : 28);
			double x1 = lane[o], x2 = lane[!o];
			double dir = o == CLIENT ? 1 : -1;
			const char *col = cls_color(r->cls);

			sb_printf(&body, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
			    "stroke=\"%s\" stroke-width=\"%s\"%s/>\n", x1 + dir * 6, ly,
			    x2 - dir * 14, ly, col, r->cls == CL_TCP ? "1.6" : "2.2",
			    r->cls == CL_TCP ? " stroke-dasharray=\"7 5\"" : "");
			sb_printf(&body, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" "
			    "fill=\"%s\"/>\n", x2 - dir * 6, ly, x2 - dir * 20, ly - 6,
			    x2 - dir * 20, ly + 6, col);
			sb_printf(&body, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
			    x1 + dir * 6, ly, col);
			/* TCP: the textbook's steps bold, plain data and ACKs not */
			svg_text(&body, (x1 + x2) / 2, ly - 8, SVG_LABEL_PX, "middle",
			    r->cls == CL_TCP ? "#374151" : col,
			    r->cls != CL_TCP || strstr(r->label, " · ") ? "bold" : "normal",
			    SVG_FONT, mid - 40, r->label);
			if (r->sub[0])
				svg_text(&body, (x1 + x2) / 2, ly + 19, SVG_SMALL_PX, "middle",
				    "#6b7280", "normal", SVG_FONT, mid - 40, r->sub);
			for (s = 0; s < 2; s++)
				svg_end(&body, d, r, (enum side)s, ly + 5);
		} else {
			double ny = y + 22, x, w;
			int maxc = (int)((mid - 60) / (SVG_NOTE_PX * SVG_CHAR));

			s = r->side;
			bprintf(buf, sizeof(buf), "%s", r->label);
			utf8_fit(buf, sizeof(buf), maxc, "…");
			w = utf8_width(buf) * SVG_NOTE_PX * SVG_CHAR + 16;
			x = s == CLIENT ? lane[s] + 16 : lane[s] - 16 - w;
			sb_printf(&body, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"24\" "
			    "rx=\"5\" fill=\"#f3f4f6\" stroke=\"#9ca3af\"/>\n", x, ny - 17, w);
			svg_text(&body, x + 8, ny, SVG_NOTE_PX, "start", "#1f2937", "normal",
			    SVG_FONT, w, buf);
			if (r->span == SP_START) {
				span_y[s] = ny - 5;
			} else if (r->span == SP_END && span_y[s] >= 0) {
				sb_printf(&spans, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" "
				    "height=\"%.1f\" fill=\"#dbe7f5\" stroke=\"#4a6fa5\" "
				    "stroke-width=\"1.5\"/>\n", lane[s] - 7, span_y[s],
				    ny - 5 - span_y[s] + 0.01);
				span_y[s] = -1;
			}
			sb_printf(&body, "<rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" "
			    "fill=\"#4a6fa5\" transform=\"rotate(45 %.1f %.1f)\"/>\n", lane[s] - 5,
			    ny - 10, lane[s], ny - 5);
			svg_end(&body, d, r, (enum side)s, ny);
		}
		sb_put(&body, "</g>\n");
		y += h;
	}
	y += 10;
	for (s = 0; s < 2; s++)
		sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		    "stroke=\"#1f3b63\" stroke-width=\"2\"/>\n", lane[s], ybody, lane[s], y);
	sb_put(b, spans.p ? spans.p : "");
	sb_put(b, body.p ? body.p : "");
	lad_free(spans.p);
	lad_free(body.p);
	return (int)y + 20;
}

/* The legend; moved: a '*' or '^' was drawn; unseen: the words for '?', or NULL. */
static void
svg_legend(struct sbuf *b, double y, int moved, const char *unseen)
{
	struct { enum cls c; const char *words; } items[] = {
		{ CL_TCP, TR("TCP segment (--capture)", "TCP 报文段（--capture）") },
		{ CL_TLS, TR("TLS handshake message", "TLS 握手消息") },
		{ CL_HTTP, TR("HTTP request / response", "HTTP 请求 / 响应") },
		{ CL_CLOSE_NOTIFY, "close_notify" }, { CL_ALERT, TR("TLS alert", "TLS 告警") },
	};
	double x = 30;
	size_t i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		const char *col = cls_color(items[i].c);

		sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		    "stroke-width=\"2\"%s/>\n", x, y - 5, x + 30, y - 5, col,
		    items[i].c == CL_TCP ? " stroke-dasharray=\"7 5\"" : "");
		sb_printf(b, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n",
		    x + 38, y - 5, x + 28, y - 10, x + 28, y, col);
		svg_text(b, x + 46, y, SVG_SMALL_PX, "start", "#374151", "normal", SVG_SANS, 200,
		    items[i].words);
		x += 46 + strlen(items[i].words) * SVG_SMALL_PX * 0.56 + 26;
	}
	svg_text(b, 30, y + 22, SVG_SMALL_PX, "start", "#374151", "normal", SVG_SANS,
	    SVG_W - 60, TR("Grey boxes: events of one program (connect(), accept(), the FINs, "
	    "state changes); a bar on a lane: inside connect() or the close.", "灰框：一个程序"
	    "的事件（connect()、accept()、FIN、状态变化）；泳道上的竖条：在 connect() 或关闭过程"
	    "之中。"));
	if (moved)
		svg_text(b, 30, y + 44, SVG_SMALL_PX, "start", "#374151", "normal", SVG_SANS,
		    SVG_W - 60, TR("* a time as logged, drawn elsewhere to keep each cause above "
		    "its effect;  ^ an arrival drawn at the time it left (see the notes).",
		    "* 按日志记录的时间，为了让原因画在结果上方而画在别处；  ^ 到达画在发出的时刻"
		    "（见各条注）。"));
	if (unseen != NULL)
		svg_text(b, 30, y + (moved ? 66 : 44), SVG_SMALL_PX, "start", "#374151", "normal",
		    SVG_SANS, SVG_W - 60, unseen);
}

void
render_svg(struct sbuf *out, const struct diagram *d, size_t n)
{
	struct sbuf b = { 0 };
	int y = 10, moved = 0, k;
	const char *unseen = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		y = render_svg_one(&b, &d[i], y, (int)i + 1, (int)n) + 20;
		for (k = 0; k < FIX_LAST; k++)
			moved |= d[i].fix[k].n > 0;
		if (unseen == NULL)
			unseen = order_unseen(&d[i]);
	}
	svg_legend(&b, y + 10, moved, unseen);
	y += (moved ? 72 : 50) + (unseen != NULL ? 22 : 0);
	sb_put(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\">\n", SVG_W, y, SVG_W, y);
	sb_put(out, TR("<title>handshake-lab ladder diagram</title>\n",
	    "<title>handshake-lab 时序图（梯形图）</title>\n"));
	sb_printf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
	    SVG_W, y);
	sb_put(out, b.p ? b.p : "");
	sb_put(out, "</svg>\n");
	lad_free(b.p);
}

