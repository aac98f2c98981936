/*
 * bodyrule.c - the command body rule.
 */
#include "bodyrule.h"

#include <string.h>

#include "argvbody.h"
#include "bounds.h"
#include "err.h"

#include "banned.h"

/* The shape of a vector, its bytes being fine already. */
static int argv_shape(const uint8_t *p, size_t n, struct body_verdict *v)
{
	size_t argc;

	switch (argvbody_count(p, n, &argc)) {
	case 0:
		v->problem = BODY_OK;
		return 0;
	case QR_ERR_INCOMPLETE:
		v->problem = n == 0 ? BODY_EMPTY : BODY_ARGV_END;
		break;
	case QR_ERR_INVALID:
		v->problem = BODY_ARGV_PROGRAM;
		break;
	default:
		v->problem = BODY_ARGV_COUNT;
		break;
	}
	return QR_ERR_INVALID;
}

int body_check(const uint8_t *p, size_t n, enum body_form form,
	       struct body_verdict *v)
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

		if (c == '\t' || c == '\n' || c == '\r' || c == ' ' ||
		    (c == 0 && form == BODY_ARGV))
			continue;
		if (c < 0x20 || c == 0x7f) {
			v->problem = c == 0 ? BODY_NUL : BODY_CONTROL;
			v->offset = i;
			v->byte = c;
			return QR_ERR_INVALID;
		}
		blank = 0;
	}
	if (form == BODY_ARGV)
		return argv_shape(p, n, v);
	if (blank) {
		v->problem = BODY_EMPTY;
		return QR_ERR_INVALID;
	}
	v->problem = BODY_OK;
	return 0;
}
