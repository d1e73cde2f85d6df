/* lib.c -- ladder_svg() (ladderlib.h): the server's own side of one connection, drawn from its
 * events in memory by the ladder's reader, model and SVG renderer; an allocation that fails
 * comes back here (die_oom's longjmp) and every block is freed, so the server never exits. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "ladderlib.h"

int ladder_zh;		/* --lang zh (main.c) or ladder_svg()'s lang_zh */

/* The one server connection of the events read; NULL if there is none or more than one. */
static const struct conn *
the_server_conn(const struct conn *conns, size_t nconn)
{
	const struct conn *sc = NULL;
	size_t i;

	for (i = 0; i < nconn; i++) {
		if (conns[i].side != SERVER)
			continue;	/* a client's record: not the server's to draw */
		if (sc != NULL)
			return NULL;
		sc = &conns[i];
	}
	return sc;
}

int
ladder_svg(const char *jsonl, size_t len, int lang_zh, char **svg, size_t *svglen)
{
	static const char xml_decl_end[] = "?>\n";
	FILE *volatile f = NULL;
	int volatile zh_was = ladder_zh;
	struct logset ls;
	struct readstat st;
	struct conn *conns, peer;
	const struct conn *sc;
	struct diagram d;
	struct sbuf out = { 0 };
	const char *p;
	size_t nconn, n;
	jmp_buf oom;

	if (svg != NULL)
		*svg = NULL;
	if (svglen != NULL)
		*svglen = 0;
	/* not while another call runs (no threads in the server; a signal handler must not) */
	if (jsonl == NULL || svg == NULL || svglen == NULL || len == 0 ||
	    len > LADDER_SVG_IN_MAX || ladder_oom_jmp != NULL)
		return -1;
	memset(&ls, 0, sizeof(ls));
	memset(&d, 0, sizeof(d));
	ladder_zh = lang_zh != 0;
	if (setjmp(oom) != 0)
		goto err;		/* die_oom(): every block is freed below */
	ladder_oom_jmp = &oom;
	if ((f = fmemopen((void *)(uintptr_t)jsonl, len, "r")) == NULL)
		goto err;
	if (read_log_stream(&ls, 0, f, "memory", &st) < 0 || st.malformed > 0 || st.toolong > 0)
		goto err;
	fclose(f);
	f = NULL;
	conns = group_conns(&ls, &nconn);
	if ((sc = the_server_conn(conns, nconn)) == NULL)
		goto err;
	one_side_diagram(&d, &peer, sc);
	render_svg(&out, &d, 1);
	/* inline in HTML: no XML declaration */
	p = out.p;
	if (strncmp(p, "<?xml", 5) == 0 && (p = strstr(p, xml_decl_end)) != NULL)
		p += sizeof(xml_decl_end) - 1;
	else
		p = out.p;
	n = out.len - (size_t)(p - out.p);
	if (n > LADDER_SVG_OUT_MAX || (*svg = malloc(n + 1)) == NULL)
		goto err;
	memcpy(*svg, p, n + 1);
	*svglen = n;
	ladder_oom_jmp = NULL;
	lad_free_all();		/* the model, the rows and out: nothing of it outlives the call */
	ladder_zh = zh_was;
	return 0;
err:
	ladder_oom_jmp = NULL;
	if (f != NULL)
		fclose(f);
	lad_free_all();
	ladder_zh = zh_was;
	return -1;
}
