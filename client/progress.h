/*
 * progress.h - the one-line waiting indicator on a terminal.
 *
 * Shown on stderr only when stderr is a terminal and -q was not given,
 * after the first couple of seconds, redrawn in place ("\r" + text +
 * erase-to-end-of-line) once a second, and erased before anything else is
 * written to the terminal.  The formatting helpers are pure.
 */
#ifndef QVMR_CLIENT_PROGRESS_H
#define QVMR_CLIENT_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#define PROGRESS_LINE_MAX 96

/* The indicator text (without "\r" or escape sequences). */
void progress_format(char *out, size_t n, int claimed, uint64_t ms);

/* Allows drawing on fd (stderr); without this call nothing is drawn. */
void progress_enable(int fd);
/* Draws or redraws the indicator. */
void progress_show(int claimed, uint64_t ms);
/* Erases the indicator if it is on the screen; otherwise does nothing. */
void progress_erase(void);

#endif
