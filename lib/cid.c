/*
 * cid.c - command ids: grammar, generation and the time they name.
 */
#include "cid.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "err.h"
#include "hex.h"

#include "banned.h"

#define CID_RANDOM_BYTES (CID_HEX_NEW / 2)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lhex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* Length of the run of digits at s[0..n), at most n. */
static size_t digit_run(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_digit(s[i]))
		i++;
	return i;
}

/* Value of exactly n digits (n small enough for unsigned). */
static unsigned small_num(const char *s, size_t n)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

bool cid_is_ping(const char *s, size_t n)
{
	size_t a, b;

	if (s == NULL || n > CID_MAX || n < 5 || memcmp(s, "ping-", 5) != 0)
		return false;
	s += 5;
	n -= 5;
	a = digit_run(s, n);
	if (a < 1 || a > 20 || a == n || s[a] != '-')
		return false;
	s += a + 1;
	n -= a + 1;
	b = digit_run(s, n);
	return b >= 1 && b <= 10 && b == n;
}

static bool cid_is_regular(const char *s, size_t n)
{
	size_t pid, hex;

	/* DATE "-" TIME "-": 16 bytes */
	if (s == NULL || n > CID_MAX || n < 16)
		return false;
	if (digit_run(s, 8) != 8 || s[8] != '-' ||
	    digit_run(s + 9, 6) != 6 || s[15] != '-')
		return false;
	s += 16;
	n -= 16;
	pid = digit_run(s, n);
	if (pid < 1 || pid > 10 || pid == n || s[pid] != '-')
		return false;
	s += pid + 1;
	n -= pid + 1;
	for (hex = 0; hex < n; hex++)
		if (!is_lhex(s[hex]))
			return false;
	return hex >= 8 && hex <= 32;
}

bool cid_valid(const char *s, size_t n)
{
	return cid_is_regular(s, n) || cid_is_ping(s, n);
}

int cid_generate(char out[CID_MAX + 1], time_t now, pid_t pid)
{
	uint8_t rnd[CID_RANDOM_BYTES];
	size_t got = 0;
	struct tm tm;
	ssize_t k;
	int len;

	if (pid <= 0 || gmtime_r(&now, &tm) == NULL)
		return QR_ERR_INVALID;
	/* DATE has exactly four year digits */
	if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return QR_ERR_INVALID;
	while (got < sizeof(rnd)) {
		k = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return QR_ERR_SYSTEM;
		}
		got += (size_t)k;
	}
	len = snprintf(out, CID_MAX + 1, "%04d%02d%02d-%02d%02d%02d-%ld-",
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		       tm.tm_hour, tm.tm_min, tm.tm_sec, (long)pid);
	if (len < 0 || (size_t)len + CID_HEX_NEW > CID_MAX)
		return QR_ERR_INVALID;
	hex_encode(rnd, sizeof(rnd), out + len);
	len += 2 * (int)sizeof(rnd);
	out[len] = '\0';
	return cid_valid(out, (size_t)len) ? 0 : QR_ERR_INVALID;
}

int cid_time(const char *s, size_t n, time_t *out)
{
	struct tm tm, back;
	uint64_t ns = 0;
	time_t t;
	size_t i;

	if (cid_is_ping(s, n)) {
		/* "ping-" NS "-" PID: NS is the sender's nanosecond clock */
		for (i = 5; s[i] != '-'; i++)
			if (__builtin_mul_overflow(ns, (uint64_t)10, &ns) ||
			    __builtin_add_overflow(ns, (uint64_t)(s[i] - '0'),
						   &ns))
				return QR_ERR_INVALID;
		*out = (time_t)(ns / 1000000000u);
		return 0;
	}
	if (!cid_is_regular(s, n))
		return QR_ERR_INVALID;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)small_num(s, 4) - 1900;
	tm.tm_mon = (int)small_num(s + 4, 2) - 1;
	tm.tm_mday = (int)small_num(s + 6, 2);
	tm.tm_hour = (int)small_num(s + 9, 2);
	tm.tm_min = (int)small_num(s + 11, 2);
	tm.tm_sec = (int)small_num(s + 13, 2);
	back = tm;
	/* timegm normalises month 13 or Feb 30 silently (and returns -1,
	 * 1969-12-31T23:59:59, on failure); the round trip rejects both */
	t = timegm(&tm);
	if (gmtime_r(&t, &tm) == NULL)
		return QR_ERR_INVALID;
	if (tm.tm_year != back.tm_year || tm.tm_mon != back.tm_mon ||
	    tm.tm_mday != back.tm_mday || tm.tm_hour != back.tm_hour ||
	    tm.tm_min != back.tm_min || tm.tm_sec != back.tm_sec)
		return QR_ERR_INVALID;
	*out = t;
	return 0;
}
