/*
 * argvbody.h - the body of an exact-argv request (issue 15): the argument
 * vector dom0 runs with execve(2), no shell, each argument followed by one
 * NUL byte:
 *
 *     "qvm-prefs\0work\0memory\0"
 *
 * A request is of this form when its <cid>.opt says form=argv (opts.h);
 * without that line its body is a script.  The vector has at least one
 * argument, the first (the program) not empty; later arguments may be
 * empty.  At most ARGV_MAX arguments, and the body's BODY_MAX bytes.
 * Which bytes an argument may hold is lib/bodyrule.h's rule, the one a
 * script follows, with NUL as the separator.
 *
 * Pure: bytes in, struct out, no I/O.
 */
#ifndef QVMR_ARGVBODY_H
#define QVMR_ARGVBODY_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "bounds.h"
#include "buf.h"

#define ARGV_MAX 4096u      /* arguments of one vector */

/* each argument takes at least its NUL, so the count bounds the body */
static_assert(ARGV_MAX < BODY_MAX, "a vector of ARGV_MAX arguments fits");

/*
 * Appends argv[0..argc) to out, each argument and a NUL.  QR_ERR_INVALID
 * when argc is 0, an argument is NULL or the first is empty;
 * QR_ERR_TOO_LARGE past ARGV_MAX arguments, BODY_MAX bytes or out->max.
 * On failure out is as it was.
 */
int argvbody_encode(struct buf *out, size_t argc, const char *const *argv);

/*
 * The shape of p[0..n), before any decoding: 0 and *argc set for a vector
 * as above; QR_ERR_INCOMPLETE when n is 0 or the last argument has no NUL
 * after it; QR_ERR_INVALID when the program is empty; QR_ERR_TOO_LARGE
 * past ARGV_MAX arguments or BODY_MAX bytes.  *argc is written only on
 * success.  Linear in n.
 */
int argvbody_count(const uint8_t *untrusted, size_t n, size_t *argc);

/* A decoded vector: argv[0..argc) and a NULL after them, for execve. */
struct argvbody {
	char **argv;
	size_t argc;
};

/*
 * Decodes p[0..n) into *out: one allocation holds the pointers and a copy
 * of the bytes, so nothing points into p.  Fails as argvbody_count does,
 * or with QR_ERR_NOMEM, and then leaves *out empty (argv NULL, argc 0).
 * The caller frees with argvbody_release.
 */
int argvbody_decode(const uint8_t *untrusted, size_t n, struct argvbody *out);

/* Frees a decoded vector and leaves it empty; safe on an empty one. */
void argvbody_release(struct argvbody *a);

/*
 * Appends the arguments of p[0..n) as a person reads and a shell takes
 * them back: separated by one space, each as it is when it holds only
 * [A-Za-z0-9_@%+=:,./-] (and is not empty), else in single quotes ('a b',
 * '' for the empty one, '\'' for a quote), or, when it holds a control
 * byte, in bash's $'...' with \n \t \r \' \\ and \xHH.  Other bytes
 * (UTF-8) stay as they are, for the caller's own escaping.  A NUL ends an
 * argument; bytes after the last NUL count as one more argument.  Stops
 * once it appended limit bytes or more (a preview), else appends all.
 * 0, or QR_ERR_TOO_LARGE / QR_ERR_NOMEM when out could not take it.
 */
int argvbody_quote(struct buf *out, const uint8_t *p, size_t n, size_t limit);

#endif
