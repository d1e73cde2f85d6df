/* http1.h -- a small HTTP/1.1 message parser, pure over bytes, with hard limits. */
#ifndef HTTP1_H
#define HTTP1_H

#include <stddef.h>
#include <stdint.h>

#define HTTP1_MAX_HEAD        8192   /* whole head: start line + header lines + blank line */
#define HTTP1_MAX_START_LINE  4096   /* request line / status line (longer request line: 414) */
#define HTTP1_MAX_HEADERS     100    /* header lines (more: 431) */
#define HTTP1_MAX_METHOD      16

enum http1_kind { HTTP1_REQUEST, HTTP1_RESPONSE };

/* How the body that follows the head is delimited. */
enum http1_body {
	HTTP1_BODY_NONE,     /* no body (GET without length, HEAD response, 1xx/204/304) */
	HTTP1_BODY_LENGTH,   /* Content-Length bytes */
	HTTP1_BODY_CHUNKED,  /* Transfer-Encoding: chunked */
	HTTP1_BODY_CLOSE     /* response only: until the server closes */
};

struct http1_header {
	const char *name;    /* points into http1_msg.head, NUL-terminated, as received */
	const char *value;   /* NUL-terminated, leading/trailing blanks removed */
};

struct http1_msg {
	enum http1_kind kind;
	char head[HTTP1_MAX_HEAD + 1];   /* private copy of the head; names/values point here */
	size_t head_len;                 /* bytes of input the head took, blank line included */
	int version_minor;               /* HTTP/1.x: 0 or 1, as we read and answer it */
	int minor_received;              /* x as sent: a request's HTTP/1.2 is 2 (read as 1.1) */
	/* request line */
	const char *method;              /* "GET" */
	const char *target;              /* "/path?query" as received */
	/* status line */
	int status;                      /* 200 */
	const char *reason;              /* "OK" (may be empty) */
	/* headers */
	struct http1_header headers[HTTP1_MAX_HEADERS];
	int nheaders;
	/* framing, derived from the headers */
	enum http1_body body;
	uint64_t content_length;         /* when body == HTTP1_BODY_LENGTH */
	int keep_alive;                  /* 1 if the connection may carry another message */
	int expect_continue;             /* request: "Expect: 100-continue" was sent */
	/* on error */
	int error_status;                /* 400, 414, 431, 501 ... (for a request: the status to answer) */
	const char *error_text;          /* static string: why, in plain words */
};

/* Parse the head of a message from buf[0..len). Returns 1 when the head is complete (m filled,
 * m->head_len bytes consumed), 0 when more bytes are needed, -1 on a violation (m->error_status,
 * m->error_text set). Never reads past len; never allocates. For a response, `to_head` says the
 * request was HEAD (no body) -- it matters for the framing only. */
int http1_parse(struct http1_msg *m, enum http1_kind kind, const char *buf, size_t len, int to_head);

/* Case-insensitive header lookup; NULL if absent (the first one if repeated). */
const char *http1_header(const struct http1_msg *m, const char *name);

/* Incremental chunked-body decoder. */
struct http1_chunked {
	int state;                /* private */
	uint64_t remaining;       /* bytes left in the current chunk (private) */
	size_t line_len;          /* private: length of the size/trailer line so far */
	int trailer_lines;        /* private */
	uint64_t total;           /* decoded body bytes so far */
};

void http1_chunked_init(struct http1_chunked *ch);
/* Decode from in[0..inlen). Writes decoded body bytes to out (capacity *outlen; on return *outlen
 * holds the number written) and sets *consumed to the input bytes used. Returns 1 when the final
 * chunk and trailers have been read (the message is complete), 0 when more input is needed (or out
 * is full), -1 on a malformed chunk (size line over 1 KiB, bad hex, missing CRLF, size overflow). */
int http1_chunked_decode(struct http1_chunked *ch, const char *in, size_t inlen,
    char *out, size_t *outlen, size_t *consumed);

/* The standard reason phrase for a status code ("Not Found"); "" if unknown. */
const char *http1_reason(int status);

#endif
