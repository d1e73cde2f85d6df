/* tls_tap.c -- where the TLS record headers OpenSSL reads and writes, and each ClientHello
 * received, go besides the log: the server keeps them for the visitor's page (what the path
 * saw of the connection, what the client offered). */
#include <stddef.h>

#include "tls.h"

static tls_record_tap_fn record_tap;
static tls_hello_tap_fn hello_tap;

void
tls_set_record_tap(tls_record_tap_fn fn)
{
	record_tap = fn;
}

/* From the message callback: one record's header (5 bytes: type, version, length). */
void
tls_record_tapped(struct conn *c, int out, const unsigned char *hdr)
{
	if (record_tap != NULL)
		record_tap(c, out, hdr);
}

void
tls_set_hello_tap(tls_hello_tap_fn fn)
{
	hello_tap = fn;
}

/* From the message callback: a ClientHello, the whole handshake message. */
void
tls_hello_tapped(struct conn *c, const unsigned char *msg, size_t len)
{
	if (hello_tap != NULL)
		hello_tap(c, msg, len);
}
