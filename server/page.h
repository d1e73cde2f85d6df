/* page.h -- the connection page's parts (server/page*.c): an output that grows and escapes,
 * the facts read back from a connection's record, and the section each file writes. */
#ifndef PAGE_H
#define PAGE_H

#include <stddef.h>

struct record;
struct listener;
struct options;

#define PAGE_MAX	(512 * 1024)	/* a page larger than this is refused (500) */

/* The page being written: HTML, or plain text (text != 0). Whatever came from the network
 * goes through the escaping calls (pb_esc and the ones that take a format); only pb_raw
 * writes markup, and only the program's own literals. */
struct pbuf {
	char	*p;
	size_t	 len, cap;
	int	 text;
	int	 err;		/* out of memory, or past PAGE_MAX */
	int	 depth;		/* lists open (text: the indent) */
};

/* page_out.c */
void	pb_put(struct pbuf *, const char *, size_t);	/* as it is: ours only */
void	pb_raw(struct pbuf *, const char *markup);	/* HTML only; nothing in text */
void	pb_esc(struct pbuf *, const char *s, size_t n);	/* escaped for the form */
void	pb_escf(struct pbuf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	pb_h2(struct pbuf *, const char *title);
void	pb_p(struct pbuf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	pb_table(struct pbuf *);			/* rows follow; pb_end_table */
void	pb_row(struct pbuf *, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	pb_end_table(struct pbuf *);
void	pb_ul(struct pbuf *);
void	pb_li(struct pbuf *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	pb_end_ul(struct pbuf *);
void	pb_bytes(struct pbuf *, const unsigned char *, size_t);	/* raw bytes, in a <pre> */

/* page_rec.c: a record's JSON lines, read back (flat objects, one a line). */
struct pfacts {
	double	t0;				/* the established event's t_ms: the accept */
	char	local[72], remote[72];
	int	syn;				/* the SYN options are known */
	char	syn_from[16];
	long	syn_mss, syn_wscale;		/* -1: not sent */
	int	syn_sack, syn_ts;
	double	rtt_ms;				/* < 0: unknown */
	int	tls;				/* a handshake_start event */
	double	t_hs;				/* handshake_start (-1: none) */
	double	t_ch;				/* the first ClientHello (-1: none) */
	long	ch_len;
	int	n_ch;				/* ClientHellos (2 after a HelloRetryRequest) */
	int	hrr;
	char	hrr_group[48];
	double	t_hd;				/* handshake_done (-1: none) */
	char	version[24], cipher[96], alpn[64], sni[256];
	int	resumed;
	double	hs_ms;
	int	alpn_ev;			/* an alpn event */
	char	alpn_offered[256], alpn_chosen[64];
	int	kx_ev;
	char	kx[24], group[48], key_type[24];
	long	key_bits;
	int	fs;
	long	cert_len;			/* the Certificate sent (-1: none) */
	int	n_nst;				/* NewSessionTickets sent */
	int	nreq;				/* request events */
	double	t_req;				/* the last request's time (-1: none) */
	double	t_resp;				/* the last response's time (-1: none) */
	int	nev;
};
int	rec_line(const struct record *, size_t *off, const char **line, size_t *n);
int	rec_get(const char *line, size_t n, const char *key, char *out, size_t len);
double	rec_num(const char *line, size_t n, const char *key, double dflt);
void	rec_facts(const struct record *, struct pfacts *);

/* page_hello.c: the ClientHello as the client sent it, and what the server chose and why. */
void	page_hello(struct pbuf *, const struct record *, const struct pfacts *,
	    const struct options *);
int	page_hello_ngroups(const struct record *);	/* supported_groups offered; -1: no hello */

/* page_cert.c: the certificate the listener sends, and the demo CA's name constraints. */
void	page_cert(struct pbuf *, const struct listener *, const struct pfacts *,
	    const struct options *);

#endif
