/* json.c -- the ladder's JSON reader: one line of a log into a flat object. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

/* A flat JSON object of strings, numbers, booleans and null: exactly what the two programs
 * write. Anything else (nesting, trailing bytes, bad escapes, raw control characters,
 * numbers outside the grammar) rejects the whole line. Decoded strings are sanitised with
 * utf8_put() and never longer than their JSON form, so they fit in a copy of the line. */

#define NUMBER_MAX	64		/* characters of one JSON number */

static void
json_ws(struct jparse *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' ||
	    *jp->p == '\r'))
		jp->p++;
}

static int
hex4(const unsigned char *p, const unsigned char *end, uint32_t *v)
{
	int i;

	if (end - p < 4)
		return -1;
	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned c = p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			c = c - 'A' + 10;
		else
			return -1;
		*v = (*v << 4) | c;
	}
	return 0;
}

static int
json_string(struct jparse *jp, const char **res)
{
	const unsigned char *p = (const unsigned char *)jp->p;
	const unsigned char *end = (const unsigned char *)jp->end;
	char *o = jp->o;

	if (p >= end || *p != '"')
		return -1;
	p++;
	*res = o;
	for (;;) {
		uint32_t cp, lo;
		int n;

		if (p >= end || jp->oend - o < 5)
			return -1;
		if (*p == '"') {
			p++;
			break;
		}
		if (*p < 0x20)
			return -1;	/* raw control characters are not allowed in JSON */
		if (*p != '\\') {
			if ((n = utf8_decode(p, end, &cp)) == 0) {
				*o++ = '?';	/* not UTF-8: keep the line, mark the byte */
				p++;
			} else {
				o = utf8_put(o, cp);
				p += n;
			}
			continue;
		}
		if (end - p < 2)
			return -1;
		switch (p[1]) {
		case '"':  cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/':  cp = '/'; break;
		case 'b':  cp = '\b'; break;
		case 'f':  cp = '\f'; break;
		case 'n':  cp = '\n'; break;
		case 'r':  cp = '\r'; break;
		case 't':  cp = '\t'; break;
		case 'u':
			if (hex4(p + 2, end, &cp) < 0)
				return -1;
			p += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 8 && p[2] == '\\' &&
			    p[3] == 'u' && hex4(p + 4, end, &lo) == 0 && lo >= 0xDC00 &&
			    lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			} else if (cp >= 0xD800 && cp <= 0xDFFF) {
				cp = '?';	/* a lone surrogate */
			}
			break;
		default:
			return -1;
		}
		p += 2;
		o = utf8_put(o, cp);
	}
	*o++ = '\0';
	jp->o = o;
	jp->p = (const char *)p;
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
json_number(struct jparse *jp, struct jval *v)
{
	const char *s = jp->p, *p = s, *end = jp->end;
	char buf[NUMBER_MAX + 1];
	int isint = 1, neg = 0;
	uint64_t u = 0;
	size_t n, k;
	double d;

	if (p < end && *p == '-')
		p++, neg = 1;
	if (p >= end || !is_digit(*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		isint = 0;
		if (++p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		isint = 0;
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	n = (size_t)(p - s);
	if (n > NUMBER_MAX)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	d = strtod(buf, NULL);
	if (!(d == d) || d > 1.7e308 || d < -1.7e308)
		return -1;	/* NaN cannot come from the grammar; infinity (1e999) can */
	v->d = d;
	v->type = J_NUM;
	if (isint) {
		for (k = (size_t)neg; k < n; k++) {
			unsigned digit = (unsigned)(buf[k] - '0');

			if (u > (UINT64_MAX - digit) / 10)
				break;
			u = u * 10 + digit;
		}
		/* within int64 on both signs (the magnitude of INT64_MIN is left out) */
		if (k == n && u <= (uint64_t)INT64_MAX) {
			v->type = J_INT;
			v->i = neg ? -(int64_t)u : (int64_t)u;
		}
	}
	jp->p = p;
	return 0;
}

static int
json_literal(struct jparse *jp, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0)
		return -1;
	jp->p += n;
	return 0;
}

/* Parses one line as a flat object into jp->v; scratch must hold len + 1 bytes. */
int
json_object(struct jparse *jp, const char *line, size_t len, char *scratch)
{
	jp->p = line;
	jp->end = line + len;
	jp->o = scratch;
	jp->oend = scratch + len + 1;
	jp->n = 0;
	json_ws(jp);
	if (jp->p >= jp->end || *jp->p != '{')
		return -1;
	jp->p++;
	json_ws(jp);
	if (jp->p < jp->end && *jp->p == '}') {
		jp->p++;
		goto done;
	}
	for (;;) {
		struct jval *v;

		if (jp->n >= FIELDS_MAX)
			return -1;
		v = &jp->v[jp->n];
		memset(v, 0, sizeof(*v));
		if (json_string(jp, &v->key) < 0)
			return -1;
		json_ws(jp);
		if (jp->p >= jp->end || *jp->p != ':')
			return -1;
		jp->p++;
		json_ws(jp);
		if (jp->p >= jp->end)
			return -1;
		switch (*jp->p) {
		case '"':
			v->type = J_STR;
			if (json_string(jp, &v->s) < 0)
				return -1;
			break;
		case 't':
		case 'f':
			v->type = J_BOOL;
			v->i = *jp->p == 't';
			if (json_literal(jp, v->i ? "true" : "false") < 0)
				return -1;
			break;
		case 'n':
			v->type = J_NULL;
			if (json_literal(jp, "null") < 0)
				return -1;
			break;
		default:	/* objects and arrays are not ours: reject */
			if (json_number(jp, v) < 0)
				return -1;
			break;
		}
		jp->n++;
		json_ws(jp);
		if (jp->p >= jp->end)
			return -1;
		if (*jp->p == '}') {
			jp->p++;
			break;
		}
		if (*jp->p != ',')
			return -1;
		jp->p++;
		json_ws(jp);
	}
done:
	json_ws(jp);
	return jp->p == jp->end ? 0 : -1;
}

const struct jval *
json_get(const struct jparse *jp, const char *key)
{
	int i;

	for (i = 0; i < jp->n; i++)
		if (strcmp(jp->v[i].key, key) == 0)
			return &jp->v[i];
	return NULL;
}

