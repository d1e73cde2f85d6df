/* clock.c -- the monotonic clock every time in the log is measured on, its origin, and timer
 * delays. */
#include <sys/time.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

int64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Where the log's times count from, on the monotonic clock. By default the moment of the call
 * (the program's start). With HSLAB_T0 set to a wall-clock time in microseconds since the
 * Unix epoch (`date +%s%6N`), the monotonic time that stood for it: a script that starts the
 * server and the client with the same HSLAB_T0 (make demo, make lesson) gets both programs'
 * +ms on one clock, so lines merged from both sides never go back in time. A value that is
 * not a number, lies in the future or more than a day back is ignored. */
int64_t
clock_origin_us(void)
{
	int64_t mono = clock_mono_us(), wall, t0;
	const char *v = getenv("HSLAB_T0");
	struct timeval tv;
	char *end;
	long long n;

	if (v == NULL || *v < '0' || *v > '9')
		return mono;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return mono;
	t0 = n;
	gettimeofday(&tv, NULL);
	wall = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	if (t0 > wall || wall - t0 > 86400LL * 1000000)
		return mono;
	return mono - (wall - t0);
}

struct timeval
clock_tv_ms(long ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}
