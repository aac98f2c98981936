/*
 * progress.c - the one-line waiting indicator on a terminal.
 */
#include "progress.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#include "fileio.h"

#include "banned.h"

/* Carriage return, then "erase to end of line" (ECMA-48 EL). */
#define ERASE "\r\033[K"

static int progress_fd = -1;
static int progress_shown;

void progress_format(char *out, size_t n, int claimed, uint64_t ms)
{
	char el[32];

	fmt_elapsed(el, sizeof(el), ms);
	if (claimed)
		snprintf(out, n, "qvm-remote: running in dom0 ... %s", el);
	else
		snprintf(out, n, "qvm-remote: waiting for dom0 ... %s "
			 "(Ctrl-C withdraws)", el);
}

void progress_enable(int fd)
{
	progress_fd = fd;
}

void progress_show(int claimed, uint64_t ms)
{
	char line[PROGRESS_LINE_MAX + sizeof(ERASE)];
	size_t len;

	if (progress_fd < 0)
		return;
	/* Short enough for an 80-column terminal: a wrapped line could not be
	 * redrawn in place with "\r". */
	memcpy(line, "\r", 1);
	progress_format(line + 1, PROGRESS_LINE_MAX, claimed, ms);
	len = strlen(line);
	/* Erase after the text, so a shorter line leaves no remains. */
	memcpy(line + len, "\033[K", 4);
	if (write_all(progress_fd, line, len + 3) == 0)
		progress_shown = 1;
}

void progress_erase(void)
{
	if (!progress_shown)
		return;
	progress_shown = 0;
	(void)write_all(progress_fd, ERASE, sizeof(ERASE) - 1);
}
