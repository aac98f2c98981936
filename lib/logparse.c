/*
 * logparse.c - one audit log line back into its fields.
 */
#include "logparse.h"

#include <stdint.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "banned.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_key_char(char c)
{
	return is_digit(c) || is_upper(c) || (c >= 'a' && c <= 'z') ||
	       c == '_' || c == '.' || c == '-';
}

/* Reads exactly n digits at s. */
static int
digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return QR_ERR_INVALID;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y). */
static int64_t
leaps_before(unsigned y)
{
	int64_t p = (int64_t)y - 1;

	return p / 4 - p / 100 + p / 400;
}

int
logparse_time(const char *s, size_t n, time_t *out)
{
	static const unsigned mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	unsigned y, mo, d, h, mi, sec, i, dim;
	int64_t days;

	if (n != LOGPARSE_TS_LEN || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return QR_ERR_INVALID;
	if (digits(s, 4, &y) != 0 || digits(s + 5, 2, &mo) != 0 ||
	    digits(s + 8, 2, &d) != 0 || digits(s + 11, 2, &h) != 0 ||
	    digits(s + 14, 2, &mi) != 0 || digits(s + 17, 2, &sec) != 0)
		return QR_ERR_INVALID;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return QR_ERR_INVALID;
	dim = mdays[mo - 1] + (mo == 2 && leap(y));
	if (d < 1 || d > dim)
		return QR_ERR_INVALID;
	days = (int64_t)365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
	for (i = 1; i < mo; i++)
		days += mdays[i - 1] + (i == 2 && leap(y));
	days += d - 1;
	*out = (time_t)(days * 86400 + h * 3600 + mi * 60 + sec);
	return 0;
}

/*
 * Unescapes one value starting at line[*pos]: bare up to a space or the
 * end, or quoted.  Writes it NUL-terminated at *dst and advances both.
 */
static int
parse_value(const char *line, size_t n, size_t *pos, char **dst,
	    size_t *out_len)
{
	size_t i = *pos;
	char *o = *dst, *start = *dst;
	int quoted = i < n && line[i] == '"';

	if (quoted)
		i++;
	for (;;) {
		char c;

		if (i == n) {
			if (quoted)
				return QR_ERR_INVALID;   /* unclosed quote */
			break;
		}
		c = line[i];
		if (quoted && c == '"') {
			i++;
			break;
		}
		if (!quoted && c == ' ')
			break;
		if (!quoted && (c == '"' || c == '='))
			return QR_ERR_INVALID;
		if (c != '\\') {
			*o++ = c;
			i++;
			continue;
		}
		if (i + 1 >= n)
			return QR_ERR_INVALID;
		switch (line[i + 1]) {
		case 'n': *o++ = '\n'; i += 2; break;
		case 'r': *o++ = '\r'; i += 2; break;
		case 't': *o++ = '\t'; i += 2; break;
		case '"': *o++ = '"'; i += 2; break;
		case '\\': *o++ = '\\'; i += 2; break;
		case 'x': {
			int hi, lo;

			if (i + 3 >= n || (hi = hex_value(line[i + 2])) < 0 ||
			    (lo = hex_value(line[i + 3])) < 0)
				return QR_ERR_INVALID;
			*o++ = (char)(hi << 4 | lo);
			i += 4;
			break;
		}
		default:
			return QR_ERR_INVALID;
		}
	}
	/* a quoted value ends the field: a space or the line must follow;
	 * logline writes an empty value quoted, never bare */
	if ((quoted && i < n && line[i] != ' ') || (!quoted && o == start))
		return QR_ERR_INVALID;
	*out_len = (size_t)(o - start);
	*o++ = '\0';
	*dst = o;
	*pos = i;
	return 0;
}

int
logparse_line(const char *line, size_t n, struct log_entry *out)
{
	char *dst = out->store;
	size_t i, pos, len;

	out->n = 0;
	out->when = 0;
	out->ts[0] = '\0';
	out->category[0] = '\0';
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > LOGPARSE_LINE_MAX)
		return QR_ERR_TOO_LARGE;
	/* every byte is printable ASCII: escaping guarantees it for our
	 * own lines, and anything else was not written by us */
	for (i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e)
			return QR_ERR_INVALID;
	if (n < LOGPARSE_TS_LEN + 3 || line[0] != '[' ||
	    line[LOGPARSE_TS_LEN + 1] != ']' || line[LOGPARSE_TS_LEN + 2] != ' ')
		return QR_ERR_INVALID;
	if (logparse_time(line + 1, LOGPARSE_TS_LEN, &out->when) != 0)
		return QR_ERR_INVALID;
	memcpy(out->ts, line + 1, LOGPARSE_TS_LEN);
	out->ts[LOGPARSE_TS_LEN] = '\0';

	pos = LOGPARSE_TS_LEN + 3;
	for (len = 0; pos + len < n && line[pos + len] != ' '; len++) {
		char c = line[pos + len];
		if (!(is_upper(c) || is_digit(c) || c == '-'))
			return QR_ERR_INVALID;
	}
	if (len == 0 || !is_upper(line[pos]))
		return QR_ERR_INVALID;
	if (len > LOGPARSE_CATEGORY_MAX)
		return QR_ERR_TOO_LARGE;
	memcpy(out->category, line + pos, len);
	out->category[len] = '\0';
	pos += len;

	while (pos < n) {
		struct log_field *f;
		size_t start;
		int r;

		/* one or more spaces, and never at the end */
		while (pos < n && line[pos] == ' ')
			pos++;
		if (pos == n)
			return QR_ERR_INVALID;
		if (out->n == LOGPARSE_FIELDS_MAX)
			return QR_ERR_TOO_LARGE;
		for (start = pos; pos < n && is_key_char(line[pos]); pos++)
			;
		len = pos - start;
		if (len == 0 || pos == n || line[pos] != '=')
			return QR_ERR_INVALID;
		if (len > LOGPARSE_KEY_MAX)
			return QR_ERR_TOO_LARGE;
		f = &out->field[out->n];
		memcpy(dst, line + start, len);
		dst[len] = '\0';
		f->key = dst;
		dst += len + 1;
		pos++;
		f->value = dst;
		if ((r = parse_value(line, n, &pos, &dst, &f->value_len)) != 0)
			return r;
		out->n++;
	}
	return 0;
}

const struct log_field *
logparse_get(const struct log_entry *e, const char *key)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->field[i].key, key) == 0)
			return &e->field[i];
	return NULL;
}
