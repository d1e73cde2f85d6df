/* wire.h -- --wire, the eavesdropper's view: what a captured segment's payload shows to anyone
 * on the path. Plain HTTP is readable text; HTTPS shows only TLS record headers (type, version,
 * length) around ciphertext. Pure over bytes, one state per direction of a connection. */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_PREVIEW	64	/* payload bytes shown (escaped) */
#define WIRE_MAX_RECS	8	/* TLS record headers listed per segment */

enum wire_kind {
	WIRE_UNKNOWN,		/* no payload seen yet */
	WIRE_PLAIN,		/* not TLS: the bytes are what the program wrote */
	WIRE_TLS,		/* TLS records */
	WIRE_LOST		/* TLS, but a gap or a bad header: record boundaries unknown */
};

/* One direction of one connection: where the next record header starts. */
struct wire_dir {
	int		 kind;		/* enum wire_kind */
	int		 started;	/* next_seq is set */
	int		 ccs;		/* a ChangeCipherSpec went this way: later records encrypted */
	uint32_t	 next_seq;	/* the stream position we expect next */
	uint32_t	 rec_left;	/* body bytes of the current record still to come */
	unsigned char	 hdr[5];	/* a record header cut by a segment's end */
	unsigned	 hdrlen;
};

struct wire_rec {
	unsigned	 type;		/* content type: 20 change_cipher_spec .. 23 application_data */
	unsigned	 version;	/* the record's version field (0x0303 even for TLS 1.3) */
	unsigned	 length;
	int		 hs_type;	/* a handshake record in the clear: its first message, else -1 */
	int		 cut;		/* its body goes on in a later segment */
};

struct wire_view {
	int		 kind;		/* enum wire_kind, for this segment */
	int		 retransmit;	/* bytes already seen (a retransmission): not walked */
	uint32_t	 cont;		/* bytes at the start that end a record begun earlier */
	int		 nrecs;
	int		 more;		/* records beyond WIRE_MAX_RECS, not listed */
	uint32_t	 starts;	/* records that start here, listed or not */
	uint32_t	 rec_bytes;	/* their headers and full lengths (5 + length each) */
	int		 goes_on;	/* the last of them goes on in a later segment */
	struct wire_rec	 recs[WIRE_MAX_RECS];
	uint32_t	 shown;		/* payload bytes in preview */
	char		 preview[WIRE_PREVIEW * 4 + 1];	/* escaped: printable ASCII, \r \n \t \\ \" \xHH */
};

/* wire.c */
/* Look at one segment's payload: len bytes at stream position seq, of which caplen were
 * captured (p may be NULL when caplen is 0). Updates *d, fills *v. */
void		 wire_look(struct wire_dir *d, uint32_t seq, const unsigned char *p, size_t caplen,
		    size_t len, struct wire_view *v);
/* Escape n bytes into buf (C-like, never a control byte, always NUL-terminated); returns the
 * number of input bytes that fit. */
size_t		 wire_escape(const unsigned char *p, size_t n, char *buf, size_t buflen);
const char	*wire_type_name(unsigned type);
const char	*wire_kind_name(int kind);
/* "handshake(22) ClientHello len=292, application_data(23) len=110 ..." into buf. */
const char	*wire_records_str(const struct wire_view *, char *buf, size_t buflen);

#endif
