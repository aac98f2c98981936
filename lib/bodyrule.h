/*
 * bodyrule.h - what a command body may be: the one rule the client applies
 * before writing and dom0 applies before running (docs/protocol.md s. 5).
 *
 * Both forms: at most BODY_MAX bytes, no control byte other than tab,
 * newline and carriage return (DEL counts as a control byte).
 * A script (BODY_SCRIPT): no NUL, and not empty or blank.
 * An argument vector (BODY_ARGV, lib/argvbody.h): NUL ends each argument,
 * the last one too; at least one argument, the first not empty, at most
 * ARGV_MAX of them.  Blank arguments are allowed: execve runs what it is
 * given.  Pure.
 */
#ifndef QVMR_BODYRULE_H
#define QVMR_BODYRULE_H

#include <stddef.h>
#include <stdint.h>

/* The two forms of a request (form= in <cid>.opt, opts.h). */
enum body_form {
	BODY_SCRIPT,     /* text run by bash */
	BODY_ARGV,       /* an argument vector run with execve */
};

enum body_problem {
	BODY_OK,
	BODY_EMPTY,        /* no bytes, or (a script) only blanks and line ends */
	BODY_TOO_LARGE,    /* more than BODY_MAX bytes */
	BODY_NUL,          /* a script: a NUL byte at `offset` */
	BODY_CONTROL,      /* control byte `byte` at `offset` */
	BODY_ARGV_END,     /* a vector: its last argument has no NUL after it */
	BODY_ARGV_PROGRAM, /* a vector: the first argument is empty */
	BODY_ARGV_COUNT,   /* a vector: more than ARGV_MAX arguments */
};

struct body_verdict {
	enum body_problem problem;
	size_t size;
	size_t offset;
	unsigned char byte;
};

/* 0 for a good body of that form, else QR_ERR_INVALID with *v saying
 * why (the first problem in the order above: size, bytes, shape). */
int body_check(const uint8_t *p, size_t n, enum body_form form,
	       struct body_verdict *v);

#endif
