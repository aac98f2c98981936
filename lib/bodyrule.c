/*
 * bodyrule.c - the command body rule.
 */
#include "bodyrule.h"

#include <string.h>

#include "bounds.h"
#include "err.h"

#include "banned.h"

int body_check(const uint8_t *p, size_t n, struct body_verdict *v)
{
	int blank = 1;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->size = n;
	if (n > BODY_MAX) {
		v->problem = BODY_TOO_LARGE;
		return QR_ERR_INVALID;
	}
	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '\t' || c == '\n' || c == '\r' || c == ' ')
			continue;
		if (c == 0 || c < 0x20 || c == 0x7f) {
			v->problem = c == 0 ? BODY_NUL : BODY_CONTROL;
			v->offset = i;
			v->byte = c;
			return QR_ERR_INVALID;
		}
		blank = 0;
	}
	if (blank) {
		v->problem = BODY_EMPTY;
		return QR_ERR_INVALID;
	}
	v->problem = BODY_OK;
	return 0;
}
