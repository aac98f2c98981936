/*
 * bodyrule.h - what a command body may be: the one rule the client applies
 * before writing and dom0 applies before running (docs/protocol.md s. 5).
 *
 * At most BODY_MAX bytes, no NUL, no control byte other than tab, newline
 * and carriage return (DEL counts as a control byte), and not empty or
 * blank.  Pure.
 */
#ifndef QVMR_BODYRULE_H
#define QVMR_BODYRULE_H

#include <stddef.h>
#include <stdint.h>

enum body_problem {
	BODY_OK,
	BODY_EMPTY,      /* no bytes, or only spaces, tabs and line ends */
	BODY_TOO_LARGE,  /* more than BODY_MAX bytes */
	BODY_NUL,        /* a NUL byte at `offset` */
	BODY_CONTROL,    /* control byte `byte` at `offset` */
};

struct body_verdict {
	enum body_problem problem;
	size_t size;
	size_t offset;
	unsigned char byte;
};

/* 0 for a good body, else QR_ERR_INVALID with *v saying why. */
int body_check(const uint8_t *p, size_t n, struct body_verdict *v);

#endif
