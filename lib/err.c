/*
 * err.c - descriptions of the qr_err codes.
 */
#include "err.h"

#include "banned.h"

const char *qr_strerror(int r)
{
	switch (r) {
	case QR_OK:
		return "success";
	case QR_ERR_NOMEM:
		return "out of memory";
	case QR_ERR_INVALID:
		return "invalid input";
	case QR_ERR_TOO_LARGE:
		return "input exceeds its size limit";
	case QR_ERR_INCOMPLETE:
		return "input ended early";
	case QR_ERR_TRAILING:
		return "unexpected trailing data";
	case QR_ERR_SYSTEM:
		return "system call failed";
	case QR_ERR_PERMISSIONS:
		return "secret file is accessible by group or others";
	case QR_ERR_MISMATCH:
		return "authentication token does not match";
	case QR_ERR_CRYPTO:
		return "cryptographic library failed";
	case QR_ERR_NOT_FOUND:
		return "not found";
	case QR_ERR_EXISTS:
		return "already exists";
	}
	return "unknown error";
}
