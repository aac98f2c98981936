/*
 * fuzz_cid.c - cid_valid(), cid_is_ping() and cid_time() on arbitrary
 * names from a VM's queue.
 *
 * The grammar is checked against a second, deliberately plain reading of
 * cid.h, so a disagreement is a finding even when nothing crashes.
 * cid_time() must accept exactly the real dates (and ping stamps that fit
 * in 64 bits) and name the same second the cid spells.  The first twelve
 * bytes also serve as a time and a pid for cid_generate(), whose output
 * must be a cid that names that time.
 */
#include "cid.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fuzz.h"

#include "banned.h"

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Skips min..max bytes that pass `ok`; false when there are fewer. */
static bool run(const char *s, size_t n, size_t *i, size_t min, size_t max,
		bool (*ok)(char))
{
	size_t k = 0;

	while (*i < n && k < max && ok(s[*i])) {
		(*i)++;
		k++;
	}
	return k >= min;
}

static bool lhex(char c)
{
	return digit(c) || (c >= 'a' && c <= 'f');
}

static bool dash(const char *s, size_t n, size_t *i)
{
	if (*i == n || s[*i] != '-')
		return false;
	(*i)++;
	return true;
}

/* cid = 8DIGIT "-" 6DIGIT "-" 1*10DIGIT "-" 8*32LHEX, whole input */
static bool ref_regular(const char *s, size_t n)
{
	size_t i = 0;

	return n <= CID_MAX && run(s, n, &i, 8, 8, digit) &&
	       dash(s, n, &i) && run(s, n, &i, 6, 6, digit) &&
	       dash(s, n, &i) && run(s, n, &i, 1, 10, digit) &&
	       dash(s, n, &i) && run(s, n, &i, 8, 32, lhex) && i == n;
}

/* ping = "ping-" 1*20DIGIT "-" 1*10DIGIT, whole input */
static bool ref_ping(const char *s, size_t n)
{
	size_t i = 5;

	return n <= CID_MAX && n >= 5 && memcmp(s, "ping-", 5) == 0 &&
	       run(s, n, &i, 1, 20, digit) && dash(s, n, &i) &&
	       run(s, n, &i, 1, 10, digit) && i == n;
}

static unsigned num(const char *s, size_t n)
{
	unsigned v = 0;

	while (n-- > 0)
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

static bool real_date(const char *s)
{
	static const unsigned mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	unsigned y = num(s, 4), mo = num(s + 4, 2), d = num(s + 6, 2);
	unsigned h = num(s + 9, 2), mi = num(s + 11, 2), sec = num(s + 13, 2);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59 || d < 1)
		return false;
	return d <= mdays[mo - 1] + (mo == 2 && leap);
}

/* The nanosecond stamp of a ping id, or false when it passes 2^64 - 1. */
static bool ping_ns(const char *s, uint64_t *ns)
{
	size_t i;

	*ns = 0;
	for (i = 5; s[i] != '-'; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		/* ns * 10 + d <= UINT64_MAX */
		if (*ns > (UINT64_MAX - d) / 10)
			return false;
		*ns = *ns * 10 + d;
	}
	return true;
}

/* "YYYYMMDD-HHMMSS" of t. */
static bool stamp(time_t t, char out[16])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return false;
	return snprintf(out, 16, "%04d%02d%02d-%02d%02d%02d",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec) == 15;
}

static void check_name(const char *s, size_t n)
{
	bool regular = ref_regular(s, n), ping = ref_ping(s, n);
	time_t t = 0;
	uint64_t ns;
	char st[16];
	int r;

	FUZZ_CHECK(cid_is_ping(s, n) == ping);
	FUZZ_CHECK(cid_valid(s, n) == (regular || ping));

	r = cid_time(s, n, &t);
	FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID);
	if (ping) {
		FUZZ_CHECK((r == 0) == ping_ns(s, &ns));
		FUZZ_CHECK(r != 0 || t == (time_t)(ns / 1000000000u));
	} else if (regular) {
		FUZZ_CHECK((r == 0) == real_date(s));
		FUZZ_CHECK(r != 0 || (stamp(t, st) && memcmp(st, s, 15) == 0));
	} else {
		FUZZ_CHECK(r == QR_ERR_INVALID);
	}
}

static void check_generate(const uint8_t *data)
{
	char out[CID_MAX + 1];
	size_t n, hex;
	int64_t when;
	int32_t pid;
	time_t t = 0;
	struct tm tm;
	bool fits;
	int r;

	memcpy(&when, data, sizeof(when));
	memcpy(&pid, data + sizeof(when), sizeof(pid));
	/* years 0 to 9999 have the four DATE digits */
	fits = gmtime_r(&(time_t){ (time_t)when }, &tm) != NULL &&
	       tm.tm_year >= -1900 && tm.tm_year <= 9999 - 1900;
	r = cid_generate(out, (time_t)when, (pid_t)pid);
	FUZZ_CHECK((r == 0) == (fits && pid > 0));
	if (r != 0)
		return;
	n = strnlen(out, sizeof(out));
	FUZZ_CHECK(n < sizeof(out) && cid_valid(out, n) && !cid_is_ping(out, n));
	hex = strlen(strrchr(out, '-') + 1);
	FUZZ_CHECK(hex == CID_HEX_NEW);
	FUZZ_CHECK(cid_time(out, n, &t) == 0 && t == (time_t)when);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_name((const char *)data, size);
	if (size >= sizeof(int64_t) + sizeof(int32_t))
		check_generate(data);
	return 0;
}
