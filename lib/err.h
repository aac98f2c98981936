/*
 * err.h - the one error space of qvm-remote.
 *
 * Functions return 0 on success or one of the negative codes below; call
 * sites read `if ((r = f(...)) != 0)`.  QR_ERR_SYSTEM means "look at errno",
 * which the failing function leaves set.
 */
#ifndef QVMR_ERR_H
#define QVMR_ERR_H

enum qr_err {
	QR_OK = 0,
	QR_ERR_NOMEM = -1,        /* allocation failed */
	QR_ERR_INVALID = -2,      /* input does not follow its grammar */
	QR_ERR_TOO_LARGE = -3,    /* a named maximum would be exceeded */
	QR_ERR_INCOMPLETE = -4,   /* input ended before the item did */
	QR_ERR_TRAILING = -5,     /* unexpected trailing data */
	QR_ERR_SYSTEM = -6,       /* a system call failed; see errno */
	QR_ERR_PERMISSIONS = -7,  /* a secret file is readable by others */
	QR_ERR_MISMATCH = -8,     /* authentication token does not match */
	QR_ERR_CRYPTO = -9,       /* libcrypto failed */
	QR_ERR_NOT_FOUND = -10,   /* the named item does not exist */
	QR_ERR_EXISTS = -11,      /* the named item exists already */
};

/* A static, lowercase description of `r`; never NULL. */
const char *qr_strerror(int r);

#endif
