/* explain.h -- --explain and --lang zh: for an event record, the textbook step it is (in
 * English and in the Chinese textbook's words) and one sentence of what happens and why. */
#ifndef EXPLAIN_H
#define EXPLAIN_H

struct evrec;

struct explain {
	const char	*step_en;	/* "1st handshake", or NULL */
	const char	*step_zh;	/* "第一次握手", or NULL */
	int		 kernel;	/* the step is seen from the kernel's states, not segments */
	const char	*why;		/* one sentence, or NULL */
	const char	*why_zh;	/* the same sentence in Chinese (set whenever why is) */
};

/* explain.c */
/* Look the record up; segments: --capture is on, so the TCP steps belong to the segment
 * events and the kernel's state events get none. Returns 0 if nothing is known. */
int	explain_event(const struct evrec *, int segments, struct explain *);

#endif
