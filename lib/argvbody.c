/*
 * argvbody.c - the argument vector of an exact-argv request (argvbody.h).
 */
#include "argvbody.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#include "banned.h"

int argvbody_encode(struct buf *out, size_t argc, const char *const *argv)
{
	size_t total = 0, len, i, start = out->len;
	int r;

	if (argc == 0 || argv == NULL || argv[0] == NULL || argv[0][0] == '\0')
		return QR_ERR_INVALID;
	if (argc > ARGV_MAX)
		return QR_ERR_TOO_LARGE;
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL)
			return QR_ERR_INVALID;
		len = strlen(argv[i]);
		if (__builtin_add_overflow(total, len + 1, &total) ||
		    total > BODY_MAX)
			return QR_ERR_TOO_LARGE;
	}
	if (total > out->max - out->len)
		return QR_ERR_TOO_LARGE;
	for (i = 0; i < argc; i++) {
		/* the NUL that ends each C string is the separator */
		if ((r = buf_append(out, argv[i], strlen(argv[i]) + 1)) != 0) {
			out->len = start;
			return r;
		}
	}
	return 0;
}

int argvbody_count(const uint8_t *untrusted, size_t n, size_t *argc)
{
	const uint8_t *p = untrusted, *nul;
	size_t k = 0, off = 0;

	if (n > BODY_MAX)
		return QR_ERR_TOO_LARGE;
	if (n == 0 || p == NULL || p[n - 1] != '\0')
		return QR_ERR_INCOMPLETE;
	if (p[0] == '\0')
		return QR_ERR_INVALID;
	while (off < n) {
		if (k == ARGV_MAX)
			return QR_ERR_TOO_LARGE;
		/* found: the last byte is a NUL */
		nul = memchr(p + off, '\0', n - off);
		off = (size_t)(nul - p) + 1;
		k++;
	}
	*argc = k;
	return 0;
}

int argvbody_decode(const uint8_t *untrusted, size_t n, struct argvbody *out)
{
	size_t argc, i, off = 0, head;
	char **v, *bytes;
	int r;

	out->argv = NULL;
	out->argc = 0;
	if ((r = argvbody_count(untrusted, n, &argc)) != 0)
		return r;
	/* argc + 1 pointers, then the bytes: bounded by BODY_MAX above */
	head = (argc + 1) * sizeof(*v);
	if ((v = malloc(head + n)) == NULL)
		return QR_ERR_NOMEM;
	bytes = (char *)v + head;
	memcpy(bytes, untrusted, n);
	for (i = 0; i < argc; i++) {
		v[i] = bytes + off;
		off += strlen(bytes + off) + 1;
	}
	v[argc] = NULL;
	out->argv = v;
	out->argc = argc;
	return 0;
}

void argvbody_release(struct argvbody *a)
{
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}

static bool plain_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || memchr("_@%+=:,./-", c, 10) != NULL;
}

enum quoting { Q_NONE, Q_SINGLE, Q_ANSI };

static enum quoting quoting_of(const uint8_t *w, size_t n)
{
	enum quoting q = n == 0 ? Q_SINGLE : Q_NONE;
	size_t i;

	for (i = 0; i < n; i++) {
		if (w[i] < 0x20 || w[i] == 0x7f)
			return Q_ANSI;
		if (!plain_byte(w[i]))
			q = Q_SINGLE;
	}
	return q;
}

/* One byte of a word in quoting q. */
static int quote_byte(struct buf *out, enum quoting q, uint8_t c)
{
	switch (c) {
	case '\'':
		return buf_append_str(out, q == Q_ANSI ? "\\'" : "'\\''");
	case '\\':
		return buf_append_str(out, q == Q_ANSI ? "\\\\" : "\\");
	case '\n':
		return buf_append_str(out, "\\n");
	case '\t':
		return buf_append_str(out, "\\t");
	case '\r':
		return buf_append_str(out, "\\r");
	default:
		if (c < 0x20 || c == 0x7f)
			return buf_printf(out, "\\x%02x", c);
		return buf_append(out, &c, 1);
	}
}

int argvbody_quote(struct buf *out, const uint8_t *p, size_t n, size_t limit)
{
	static const char *const open[] = { "", "'", "$'" };
	size_t start = out->len, off = 0, len, i;
	const uint8_t *nul;
	enum quoting q;
	int r;

	while (off < n) {
		nul = memchr(p + off, '\0', n - off);
		len = nul != NULL ? (size_t)(nul - (p + off)) : n - off;
		q = quoting_of(p + off, len);
		if ((off > 0 && (r = buf_append(out, " ", 1)) != 0) ||
		    (r = buf_append_str(out, open[q])) != 0)
			return r;
		for (i = 0; i < len; i++) {
			if (out->len - start >= limit)
				return 0;
			if ((r = quote_byte(out, q, p[off + i])) != 0)
				return r;
		}
		if (q != Q_NONE && (r = buf_append(out, "'", 1)) != 0)
			return r;
		off += len + (nul != NULL);
		if (out->len - start >= limit)
			return 0;
	}
	return 0;
}
