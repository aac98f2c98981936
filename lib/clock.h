/*
 * clock.h - monotonic milliseconds, the clock everything here schedules by.
 */
#ifndef QVMR_CLOCK_H
#define QVMR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
