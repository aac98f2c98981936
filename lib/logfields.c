/*
 * logfields.c - a log-grammar line of a fixed set of fields (logfields.h).
 */
#include "logfields.h"

#include <string.h>

#include "err.h"
#include "reader.h"

#include "banned.h"

int logfields_index(const char *const *keys, size_t count, const char *k)
{
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i], k) == 0)
			return (int)i;
	return -1;
}

int logfields_parse(const char *text, size_t n, const char *cat,
		    const char *const *keys, size_t count, size_t required,
		    struct log_entry *e, unsigned *seen)
{
	unsigned got = 0;
	int k;

	if (text == NULL || count > 32 || required > count ||
	    logparse_line(text, n, e) != 0 || strcmp(e->category, cat) != 0)
		return QR_ERR_INVALID;
	for (size_t i = 0; i < e->n; i++) {
		if ((k = logfields_index(keys, count, e->field[i].key)) < 0 ||
		    (got & (1u << k)))
			return QR_ERR_INVALID;
		got |= 1u << k;
	}
	if (seen != NULL)
		*seen = got;
	for (size_t i = 0; i < required; i++)
		if (!(got & (1u << i)))
			return QR_ERR_INVALID;
	return 0;
}

int logfields_copy(char *dst, size_t size, const struct log_field *f)
{
	if (f->value_len >= size || memchr(f->value, '\0', f->value_len) != NULL)
		return QR_ERR_INVALID;
	memcpy(dst, f->value, f->value_len);
	dst[f->value_len] = '\0';
	return 0;
}

int logfields_u64(const struct log_field *f, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	uint64_t x;

	if (parse_u64((const uint8_t *)f->value, f->value_len, max, &x) != 0 ||
	    x < min)
		return QR_ERR_INVALID;
	*out = x;
	return 0;
}
