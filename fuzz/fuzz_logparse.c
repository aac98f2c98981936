/*
 * fuzz_logparse.c - logparse_line() on arbitrary audit log lines.
 *
 * A log may hold lines anyone with write access edited, and status and
 * the viewer read it back.  Beyond memory safety: a line that parses has
 * a category and keys of their grammar inside their limits, values that
 * are NUL-terminated inside the entry, and a timestamp that
 * iso8601_utc() writes back unchanged; and writing the entry again with
 * lib/logline.h (when its keys are ones logline accepts) parses to the
 * same fields, so the two sides agree on every escape.
 */
#include "logparse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "fuzz.h"
#include "logline.h"

#include "banned.h"

/* Each over 32 KiB: off the stack. */
static struct log_entry first, again;

static bool in_store(const struct log_entry *e, const char *p, size_t n)
{
	const char *lo = e->store, *hi = e->store + sizeof(e->store);

	return p >= lo && p < hi && n < (size_t)(hi - p);
}

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* The keys logline_kv() writes: [a-z0-9_]+. */
static bool logline_key(const char *k)
{
	if (*k == '\0')
		return false;
	for (; *k != '\0'; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
		      *k == '_'))
			return false;
	return true;
}

static void check_entry(const struct log_entry *e)
{
	const struct log_field *f;
	size_t n, i, k;
	char ts[21];

	n = strnlen(e->category, sizeof(e->category));
	FUZZ_CHECK(n > 0 && n <= LOGPARSE_CATEGORY_MAX);
	FUZZ_CHECK(e->category[0] >= 'A' && e->category[0] <= 'Z');
	for (i = 0; i < n; i++) {
		char c = e->category[i];

		FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '-');
	}
	FUZZ_CHECK(strnlen(e->ts, sizeof(e->ts)) == LOGPARSE_TS_LEN);
	iso8601_utc(e->when, ts);
	FUZZ_CHECK(memcmp(ts, e->ts, sizeof(ts)) == 0);

	FUZZ_CHECK(e->n <= LOGPARSE_FIELDS_MAX);
	for (i = 0; i < e->n; i++) {
		f = &e->field[i];
		FUZZ_CHECK(in_store(e, f->key, 0));
		n = strnlen(f->key, (size_t)(e->store + sizeof(e->store) -
					     f->key));
		FUZZ_CHECK(n > 0 && n <= LOGPARSE_KEY_MAX);
		for (k = 0; k < n; k++)
			FUZZ_CHECK(key_char(f->key[k]));
		FUZZ_CHECK(in_store(e, f->value, f->value_len));
		FUZZ_CHECK(f->value[f->value_len] == '\0');
	}
}

/* Writes e back as logline would; false when a key is not its kind. */
static bool write_back(struct buf *b, const struct log_entry *e)
{
	const struct log_field *f;
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!logline_key(e->field[i].key))
			return false;
	FUZZ_CHECK(logline_begin(b, e->when, e->category) == 0);
	for (i = 0; i < e->n; i++) {
		f = &e->field[i];
		FUZZ_CHECK(logline_kv(b, f->key, f->value, f->value_len,
				      f->value_len) == 0);
	}
	FUZZ_CHECK(logline_end(b) == 0);
	return true;
}

static bool same_entry(const struct log_entry *a, const struct log_entry *b)
{
	const struct log_field *x, *y;
	size_t i;

	if (a->when != b->when || strcmp(a->ts, b->ts) != 0 ||
	    strcmp(a->category, b->category) != 0 || a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		x = &a->field[i];
		y = &b->field[i];
		if (strcmp(x->key, y->key) != 0 ||
		    x->value_len != y->value_len ||
		    memcmp(x->value, y->value, x->value_len) != 0)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an escape never makes a value longer than its text, nor does
	 * dropping runs of spaces: the line written back is no longer */
	struct buf b = BUF_INIT(LOGPARSE_LINE_MAX + 1);
	int r;

	r = logparse_line((const char *)data, size, &first);
	FUZZ_CHECK(r == 0 || r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE);
	if (r != 0)
		return 0;
	check_entry(&first);

	if (write_back(&b, &first)) {
		r = logparse_line(b.data, b.len, &again);
		if (r != 0)
			fprintf(stderr, "written back as: %s", b.data);
		FUZZ_CHECK(r == 0);
		FUZZ_CHECK(same_entry(&first, &again));
	}
	buf_release(&b);
	return 0;
}
