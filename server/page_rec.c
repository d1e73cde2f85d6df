/* page_rec.c -- a connection's record read back for its page: its events are JSON lines of
 * flat objects (the log's facts), so a small reader of one line is enough. */
#include <stdlib.h>
#include <string.h>

#include "page.h"
#include "server.h"

/* The next line of r's events from *off (without its '\n'); 0 at the end. */
int
rec_line(const struct record *r, size_t *off, const char **line, size_t *n)
{
	const char *ev, *p, *e;
	size_t len;

	/* the same JSON each time: record_events() keeps it while r is unchanged */
	if (r == NULL || (ev = record_events(r, &len)) == NULL || *off >= len)
		return 0;
	p = ev + *off;
	if ((e = memchr(p, '\n', len - *off)) == NULL)
		e = ev + len;
	*line = p;
	*n = (size_t)(e - p);
	*off = (size_t)(e - ev) + 1;
	return 1;
}

/* A JSON string at p (after its opening quote), up to its closing quote: unescaped into out
 * (cut at len - 1; \u escapes as UTF-8). Returns the position after the closing quote. */
static const char *
str(const char *p, const char *end, char *out, size_t len)
{
	size_t o = 0;
	unsigned u;
	int i;
	char c;

	while (p < end && *p != '"') {
		c = *p++;
		if (c == '\\' && p < end) {
			c = *p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				for (u = 0, i = 0; i < 4 && p < end; i++, p++)
					u = u * 16 + (unsigned)(*p >= 'a' ? *p - 'a' + 10 : *p >= 'A' ?
					    *p - 'A' + 10 : *p - '0');
				if (out != NULL && u >= 0x80 && o + 3 < len) {
					if (u < 0x800) {
						out[o++] = (char)(0xc0 | u >> 6);
					} else {
						out[o++] = (char)(0xe0 | u >> 12);
						out[o++] = (char)(0x80 | (u >> 6 & 0x3f));
					}
					out[o++] = (char)(0x80 | (u & 0x3f));
					continue;
				}
				c = (char)u;
				break;
			}
		}
		if (out != NULL && o + 1 < len)
			out[o++] = c;
	}
	if (out != NULL && len > 0)
		out[o] = '\0';
	return p < end ? p + 1 : end;
}

/* The value of key in the flat object line[0..n): a string unescaped, a number or literal as
 * written. 1 if found. */
int
rec_get(const char *line, size_t n, const char *key, char *out, size_t len)
{
	const char *p = line, *end = line + n, *v;
	char k[32];
	size_t l;

	if (p < end && *p == '{')
		p++;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p >= end || *p != '"')
			return 0;
		p = str(p + 1, end, k, sizeof(k));
		if (p >= end || *p != ':')
			return 0;
		p++;
		if (p < end && *p == '"') {
			if (strcmp(k, key) == 0) {
				str(p + 1, end, out, len);
				return 1;
			}
			p = str(p + 1, end, NULL, 0);
			continue;
		}
		for (v = p; p < end && *p != ',' && *p != '}'; p++)
			;
		if (strcmp(k, key) == 0) {
			l = (size_t)(p - v) < len ? (size_t)(p - v) : len - 1;
			memcpy(out, v, l);
			out[l] = '\0';
			return 1;
		}
	}
	return 0;
}

double
rec_num(const char *line, size_t n, const char *key, double dflt)
{
	char v[48];

	if (!rec_get(line, n, key, v, sizeof(v)) || v[0] == '\0')
		return dflt;
	if (strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "false") == 0)
		return 0;
	return strtod(v, NULL);
}

#define GET(key, field)	rec_get(l, n, key, f->field, sizeof(f->field))

void
rec_facts(const struct record *r, struct pfacts *f)
{
	const char *l;
	char ev[32], type[40], dir[8];
	size_t off = 0, n;

	memset(f, 0, sizeof(*f));
	f->rtt_ms = f->t_hs = f->t_ch = f->t_hd = f->t_req = f->t_resp = -1;
	f->syn_mss = f->syn_wscale = f->cert_len = -1;
	while (rec_line(r, &off, &l, &n)) {
		if (!rec_get(l, n, "event", ev, sizeof(ev)))
			continue;
		f->nev++;
		if (strcmp(ev, "established") == 0) {
			f->t0 = rec_num(l, n, "t_ms", 0);
			GET("local", local);
			GET("remote", remote);
			f->rtt_ms = rec_num(l, n, "rtt_ms", -1);
			if (GET("syn_from", syn_from)) {
				f->syn = 1;
				f->syn_mss = (long)rec_num(l, n, "syn_mss", -1);
				f->syn_wscale = (long)rec_num(l, n, "syn_wscale", -1);
				f->syn_sack = rec_num(l, n, "syn_sack_perm", 0) > 0;
				f->syn_ts = rec_num(l, n, "syn_timestamps", 0) > 0;
			}
		} else if (strcmp(ev, "handshake_start") == 0) {
			f->tls = 1;
			if (f->t_hs < 0)
				f->t_hs = rec_num(l, n, "t_ms", 0) - f->t0;
		} else if (strcmp(ev, "message") == 0) {
			rec_get(l, n, "type", type, sizeof(type));
			rec_get(l, n, "dir", dir, sizeof(dir));
			if (strcmp(type, "ClientHello") == 0 && f->n_ch++ == 0) {
				f->t_ch = rec_num(l, n, "t_ms", 0) - f->t0;
				f->ch_len = (long)rec_num(l, n, "len", 0);
			} else if (strcmp(type, "HelloRetryRequest") == 0) {
				f->hrr = 1;
				GET("group", hrr_group);
			} else if (strcmp(type, "Certificate") == 0 && strcmp(dir, "out") == 0)
				f->cert_len = (long)rec_num(l, n, "len", 0);
			else if (strcmp(type, "NewSessionTicket") == 0 && strcmp(dir, "out") == 0)
				f->n_nst++;
		} else if (strcmp(ev, "alpn") == 0 && !f->alpn_ev) {
			f->alpn_ev = 1;
			GET("offered", alpn_offered);
			GET("chosen", alpn_chosen);
		} else if (strcmp(ev, "key_exchange") == 0) {
			f->kx_ev = 1;
			GET("kx", kx);
			GET("group", group);
			GET("key_type", key_type);
			f->key_bits = (long)rec_num(l, n, "key_bits", 0);
			f->fs = rec_num(l, n, "forward_secrecy", 0) > 0;
		} else if (strcmp(ev, "handshake_done") == 0) {
			f->t_hd = rec_num(l, n, "t_ms", 0) - f->t0;
			GET("version", version);
			GET("cipher", cipher);
			GET("alpn", alpn);
			GET("sni", sni);
			f->resumed = rec_num(l, n, "resumed", 0) > 0;
			f->hs_ms = rec_num(l, n, "handshake_ms", 0);
		} else if (strcmp(ev, "request") == 0) {
			f->nreq++;
			f->t_req = rec_num(l, n, "t_ms", 0) - f->t0;
		} else if (strcmp(ev, "response") == 0)
			f->t_resp = rec_num(l, n, "t_ms", 0) - f->t0;
	}
}
