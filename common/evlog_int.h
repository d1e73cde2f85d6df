/* evlog_int.h -- what the evlog*.c files share and nobody else sees: the bounded appender both
 * printers write into, the logger's state the text printer reads (evlog.c), the textbook step
 * of a record, and the compact view's test (evlog_text.c). */
#ifndef EVLOG_INT_H
#define EVLOG_INT_H

#include <stddef.h>

struct evrec;
struct explain;

#define C_RESET	"\033[0m"
#define C_DIM	"\033[2m"
#define C_BOLD	"\033[1m"

/* A bounded appender: never writes past len, always NUL-terminates, counts what it dropped. */
struct out {
	char	*buf;
	size_t	 len, pos;
};

/* evlog.c */
void	put(struct out *o, const char *s, size_t n);
void	puts_(struct out *o, const char *s);
void	putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	explained(const struct evrec *r, struct explain *x);
int	evlog_width(void);		/* the text log's terminal's columns; 0: not a terminal */
int	evlog_explain(void);		/* --explain */

/* evlog_text.c */
int	compact(void);

#endif
