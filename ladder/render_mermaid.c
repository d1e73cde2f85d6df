/* render_mermaid.c -- writes the diagrams as Mermaid sequenceDiagram text. */
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

/* Mermaid message text: ';' ends a statement and '#' starts an entity, so both (and the
 * angle brackets, read as HTML) become entity codes. */
static void
mermaid_put(struct sbuf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case ';': sb_put(b, "#59;"); break;
		case '#': sb_put(b, "#35;"); break;
		case '<': sb_put(b, "#60;"); break;
		case '>': sb_put(b, "#62;"); break;
		default:  sb_add(b, s, 1); break;
		}
	}
}

static void
mermaid_end(struct sbuf *b, const struct diagram *d, const struct row *r, enum side s)
{
	if (r->t[s] >= 0)
		sb_printf(b, "%.3f%s", rel_ms(d, r->t[s]), order_mark(r->mark[s]));
	else
		sb_put(b, "?");
	if (r->state[s][0]) {
		sb_put(b, " ");
		mermaid_put(b, r->state[s]);
	}
}

void
render_mermaid(struct sbuf *out, const struct diagram *dd, size_t n)
{
	size_t k, i;

	sb_put(out, "sequenceDiagram\n");
	sb_put(out, "    participant Client\n");
	sb_put(out, "    participant Server\n");
	for (k = 0; k < n; k++) {
		const struct diagram *d = &dd[k];
		const char *note = capture_note(d);
		char fix[3 * LABEL_MAX];
		const char *unseen;
		int active[2] = { 0, 0 }, s, f;

		sb_put(out, "    Note over Client,Server: ");
		if (n > 1)
			sb_printf(out, TR("connection %zu of %zu: ", "连接 %zu（共 %zu 个）："), k + 1,
			    n);
		sb_put(out, TR("client ", "客户端 "));
		mermaid_put(out, d->c[CLIENT]->local);
		sb_put(out, TR(" ⇄ server ", " ⇄ 服务器 "));
		mermaid_put(out, d->c[SERVER]->local);
		sb_put(out, "<br/>");
		mermaid_put(out, d->proto);
		sb_put(out, d->t0_shared ? TR("<br/>times in ms since HSLAB_T0 (wall clock)\n",
		    "<br/>时间是从 HSLAB_T0 算起的 ms（挂钟时间）\n") :
		    TR("<br/>times in ms since the first event (wall clock)\n",
		    "<br/>时间是从第一个事件算起的 ms（挂钟时间）\n"));
		if (note != NULL) {
			/* two lines, cut after the colon */
			const char *colon = strstr(note, ": ");
			struct sbuf first = { 0 };

			sb_add(&first, note, colon ? (size_t)(colon - note + 1) : strlen(note));
			sb_put(out, "    Note over Client,Server: ");
			mermaid_put(out, first.p);
			if (colon != NULL) {
				sb_put(out, "<br/>");
				mermaid_put(out, colon + 2);
			}
			sb_put(out, "\n");
			lad_free(first.p);
		}
		for (f = 0; f < FIX_LAST; f++)
			if (order_note(d, (enum fix_kind)f, fix, sizeof(fix)) != NULL) {
				sb_put(out, "    Note over Client,Server: ");
				mermaid_put(out, fix);
				sb_put(out, "\n");
			}
		if ((unseen = order_unseen(d)) != NULL) {
			sb_put(out, "    Note over Client,Server: ");
			mermaid_put(out, unseen);
			sb_put(out, "\n");
		}
		for (i = 0; i < d->n; i++) {
			const struct row *r = &d->rows[i];

			if (r->arrow) {
				int o = r->side;

				sb_printf(out, "    %s->>%s: ", o == CLIENT ? "Client" : "Server",
				    o == CLIENT ? "Server" : "Client");
				mermaid_put(out, r->label);
				sb_put(out, " (");
				mermaid_end(out, d, r, (enum side)o);
				sb_put(out, " → ");
				mermaid_end(out, d, r, (enum side)!o);
				sb_put(out, ")\n");
				continue;
			}
			s = r->side;
			sb_printf(out, "    Note %s: ", s == CLIENT ? "left of Client" :
			    "right of Server");
			mermaid_end(out, d, r, (enum side)s);
			sb_put(out, " ");
			mermaid_put(out, r->label);
			sb_put(out, "\n");
			if (r->span == SP_START && !active[s]) {
				sb_printf(out, "    activate %s\n", s == CLIENT ? "Client" : "Server");
				active[s] = 1;
			} else if (r->span == SP_END && active[s]) {
				sb_printf(out, "    deactivate %s\n", s == CLIENT ? "Client" :
				    "Server");
				active[s] = 0;
			}
		}
		for (s = 0; s < 2; s++)
			if (active[s])
				sb_printf(out, "    deactivate %s\n", s == CLIENT ? "Client" :
				    "Server");
	}
}

