/* writeout.c -- curl's -w/--write-out: the format (or @FILE, read as curl reads it), its
 * variables in curl's names and forms, written on standard output after the transfer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "evlog.h"
#include "url.h"

/* -w's variables: curl's names, curl's forms (times in seconds, 6 decimals). */
enum { W_CODE, W_CONNECT, W_APPCONNECT, W_STARTTRANSFER, W_TOTAL, W_SIZE, W_IP, W_PORT,
	W_VERIFY, W_CONNECTS, W_URL, W_REDIRECTS, W_HEADER };

static const char *const w_names[] = {
	"http_code", "time_connect", "time_appconnect", "time_starttransfer", "time_total",
	"size_download", "remote_ip", "remote_port", "ssl_verify_result", "num_connects",
	"url_effective", "num_redirects", "size_header"
};

static double
w_seconds(const struct client *cl, int64_t t)
{
	return t != 0 ? (t - cl->t0) / 1e6 : 0.0;
}

static void
w_var(const struct client *cl, int v, FILE *f)
{
	char host[URL_MAX_HOST + 16];

	switch (v) {
	case W_CODE: fprintf(f, "%03d", cl->w_status); break;
	/* no request went (a refused certificate): the connection's own times */
	case W_CONNECT: fprintf(f, "%.6f", cl->w_hop_timed ? cl->w_connect_us / 1e6 :
	    w_seconds(cl, cl->t_tcp)); break;
	case W_APPCONNECT: fprintf(f, "%.6f", cl->w_hop_timed ? cl->w_appconnect_us / 1e6 :
	    w_seconds(cl, cl->u.tls ? cl->t_tls : 0)); break;
	case W_STARTTRANSFER: fprintf(f, "%.6f", cl->w_starttransfer_us / 1e6); break;
	/* curl's total ends with the transfer (its last body whole), not with the close */
	case W_TOTAL: fprintf(f, "%.6f", w_seconds(cl, cl->exit_code == 0 && cl->w_t_done ?
	    cl->w_t_done : cl->t_end)); break;
	/* -L: the last response's body, as curl (a redirect's body is not counted) */
	case W_SIZE: fprintf(f, "%llu", (unsigned long long)(cl->body_bytes - cl->w_body_start));
		break;
	case W_IP: fputs(cl->w_ip, f); break;
	case W_PORT: fprintf(f, "%d", cl->w_port); break;
	case W_VERIFY: fprintf(f, "%ld", cl->w_verify); break;
	case W_CONNECTS: fprintf(f, "%d", cl->w_connects); break;
	case W_URL:
		url_host_header(&cl->u, host, sizeof(host));
		fprintf(f, "%s://%s%s", cl->u.scheme, host, cl->u.path);
		break;
	case W_REDIRECTS: fprintf(f, "%d", cl->hops); break;
	/* every head received, 1xx and the redirects' included, as curl */
	case W_HEADER: fprintf(f, "%llu", (unsigned long long)cl->w_header_bytes); break;
	}
}

/* -w FORMAT (or @FILE) on standard output, as curl: %{name}, %%, \n \r \t; an unknown
 * variable is said on standard error and left out. */
void
write_out(struct client *cl, const char *fmt)
{
	static char buf[64 * 1024];
	char line[256];
	const char *p, *end;
	size_t n, v;
	FILE *f;

	if (fmt[0] == '@') {
		if ((f = strcmp(fmt + 1, "-") == 0 ? stdin : fopen(fmt + 1, "r")) == NULL) {
			if (!cl->opt->silent)	/* curl -s says nothing */
				fprintf(stderr, TR("client: cannot read the -w format from "
				    "'%s': %s\n", "client：无法从 '%s' 读取 -w 的格式：%s\n"),
				    fmt + 1, strerror(errno));
			return;
		}
		/* curl's file2string(): read in pieces of 255 bytes, each cut at its first CR,
		 * then at its first LF, and joined: the file's line ends are not in the format. */
		n = 0;
		while (n < sizeof(buf) - 1 && fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\r")] = '\0';
			line[strcspn(line, "\n")] = '\0';
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", line);
			if (n > sizeof(buf) - 1)
				n = sizeof(buf) - 1;
		}
		buf[n] = '\0';
		if (f != stdin)
			fclose(f);
		fmt = buf;
	}
	for (p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == '%') {
			putchar('%');
			p++;
		} else if (p[0] == '%' && p[1] == '{' && (end = strchr(p + 2, '}')) != NULL) {
			n = (size_t)(end - p - 2);
			for (v = 0; v < sizeof(w_names) / sizeof(w_names[0]); v++)
				if (strlen(w_names[v]) == n && strncmp(p + 2, w_names[v], n) == 0)
					break;
			if (v < sizeof(w_names) / sizeof(w_names[0]))
				w_var(cl, (int)v, stdout);
			else
				fprintf(stderr, TR("client: unknown --write-out variable: '%.*s'\n",
				    "client：未知的 --write-out 变量：'%.*s'\n"), (int)n, p + 2);
			p = end;
		} else if (p[0] == '\\' && (p[1] == 'n' || p[1] == 'r' || p[1] == 't')) {
			putchar(p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : '\t');
			p++;
		} else
			putchar(*p);
	}
	fflush(stdout);
}
