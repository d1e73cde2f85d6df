/* dissect.h -- every field of one TLS handshake message, decoded from its bytes (--dissect):
 * a pure function over the message as OpenSSL's message callback hands it over. */
#ifndef DISSECT_H
#define DISSECT_H

#include <stddef.h>

/* What the bytes alone do not say: the negotiated version (the Certificate and
 * NewSessionTicket formats differ between TLS 1.2 and 1.3) and the key exchange (the
 * ServerKeyExchange and ClientKeyExchange formats differ between ECDHE, DHE and RSA). */
enum { DISSECT_KX_UNKNOWN, DISSECT_KX_ECDHE, DISSECT_KX_DHE, DISSECT_KX_RSA };

struct dissect_ctx {
	int	version;	/* 0x0303, 0x0304; 0: unknown */
	int	kx;		/* DISSECT_KX_* */
};

/* One decoded field. Strings from the peer are made printable (\xNN) in value. */
struct dissect_item {
	int			 depth;		/* 0: a field of the message; 1, 2: inside one */
	const char		*field;		/* "cipher_suite", "key_share", ... (a literal) */
	long			 code;		/* its number on the wire; -1: none */
	const unsigned char	*bytes;		/* raw bytes worth showing (inside the message) */
	size_t			 nbytes;
	char			 value[1024];	/* in words */
};

typedef void (*dissect_cb)(const struct dissect_item *, void *arg);

/* dissect.c */
int		 dissect_message(const unsigned char *msg, size_t len, const struct dissect_ctx *,
		    dissect_cb, void *arg);
int		 dissect_is_hrr(const unsigned char *msg, size_t len);
const char	*dissect_suite_name(unsigned id);
const char	*dissect_group_name(unsigned id);
const char	*dissect_ext_name(unsigned id);
const char	*dissect_sigalg_name(unsigned id);
const char	*dissect_version_name(unsigned v);
size_t		 dissect_hex(const unsigned char *, size_t n, char *out, size_t outlen);

#endif
