/* clock.h -- the one clock of both programs and the one milliseconds-to-timeval helper. */
#ifndef CLOCK_H
#define CLOCK_H

#include <sys/time.h>
#include <stdint.h>

/* clock.c */
/* Microseconds on the monotonic clock (CLOCK_MONOTONIC): for times and deadlines, never for
 * dates. */
int64_t		 clock_mono_us(void);
/* The origin of the log's times on that clock: now, or the moment HSLAB_T0 names (wall-clock
 * µs since the epoch) when a script gives both programs one origin. */
int64_t		 clock_origin_us(void);
/* A delay of ms milliseconds as the struct timeval that libevent's timers take. */
struct timeval	 clock_tv_ms(long ms);

#endif
