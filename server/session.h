/* session.h -- what session.c (a connection: reading requests, the close) and route.c (which
 * answer a request gets) share; the rest of the server sees neither. */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>
#include <stdint.h>

struct conn;

/* One served connection: the parser state of the request being read. Small on purpose: one
 * per idle keep-alive connection. */
struct session {
	struct listener		*li;
	struct http1_msg	*req;		/* the request being read; NULL while idle */
	struct http1_chunked	*ch;		/* only while a chunked body is read */
	uint64_t		 body_left;
	uint64_t		 acked;		/* the kernel's bytes_acked when last looked at */
	uint64_t		 pad_left;	/* ?pad= filler still to produce (as output drains) */
	uint64_t		 body_got;	/* the request body's bytes (read, not kept) */
	struct conn		*c;
	struct event		*hold;		/* --hold-close timer */
	struct event		*head_timer;	/* --header-timeout: the request head's deadline */
	int			 requests;
	unsigned		 in_body:1;	/* reading (and dropping) a request body */
	unsigned		 chunked:1;
	unsigned		 keep_alive:1;
	unsigned		 got_bytes:1;	/* some bytes of the current head arrived */
	unsigned		 bp_paused:1;	/* not reading until our responses leave */
	unsigned		 close_after_pad:1; /* close once the filler has gone */
	unsigned		 peer_closed_pad:1; /* the client closed: answer once it has gone */
	unsigned		 post:1;	/* answering a POST: its body's size in the log */
	unsigned		 live:1;	/* a /live/events viewer: live.c writes to it */
};

/* session.c */
/* The answer: its head and body (head_only: the head alone, for HEAD), extra header lines,
 * pad filler bytes after the body (produced as the output drains); logs the response. */
void	session_respond(struct conn *, struct session *, int status, const char *ctype,
	    const char *body, size_t blen, int head_only, const char *extra, size_t pad);
/* An error answer: "STATUS Reason: why" as plain text. */
void	session_error(struct conn *, struct session *, int status, const char *why);
const struct options *session_options(void);

/* route.c */
/* The request s->req is whole (its body read and dropped): answer it. */
void	route(struct conn *, struct session *);

#endif
