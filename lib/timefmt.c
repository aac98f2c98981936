/*
 * timefmt.c - human-readable times.
 */
#include "timefmt.h"

#include <stdio.h>

#include "banned.h"

void fmt_elapsed(char *out, size_t n, uint64_t ms)
{
	unsigned long long s = ms / 1000;

	if (s < 60)
		snprintf(out, n, "%llu s", s);
	else if (s < 3600)
		snprintf(out, n, "%llu min %02llu s", s / 60, s % 60);
	else
		snprintf(out, n, "%llu h %02llu min", s / 3600, s % 3600 / 60);
}

void fmt_duration(char *out, size_t n, uint64_t ms)
{
	if (ms < 1000)
		snprintf(out, n, "%llu ms", (unsigned long long)ms);
	else if (ms < 60000)
		snprintf(out, n, "%llu.%llu s", (unsigned long long)ms / 1000,
			 (unsigned long long)ms % 1000 / 100);
	else
		fmt_elapsed(out, n, ms);
}

void fmt_ago(char *out, size_t n, uint64_t s)
{
	unsigned long long v = s;

	if (s < 2)
		snprintf(out, n, "just now");
	else if (s < 120)
		snprintf(out, n, "%llu s ago", v);
	else if (s < 7200)
		snprintf(out, n, "%llu min ago", v / 60);
	else if (s < 2 * 86400)
		snprintf(out, n, "%llu h ago", v / 3600);
	else
		snprintf(out, n, "%llu days ago", v / 86400);
}
