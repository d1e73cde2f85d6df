/* tls_tap.c -- where the TLS record headers OpenSSL reads and writes go, besides the log:
 * the server keeps them for the visitor's page (what the path saw of the connection). */
#include <stddef.h>

#include "tls.h"

static tls_record_tap_fn record_tap;

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
