/*
 * msg.c - the client's own messages on stderr.
 */
#include "msg.h"
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"

#include "banned.h"

static int verbose;
static struct buf *captured;

void msg_capture(struct buf *b)
{
	captured = b;
}

void msg_set_verbose(int on)
{
	verbose = on;
}

static void vmsg(const char *fmt, va_list ap)
{
	char line[2048];
	size_t pre = sizeof(MSG_PREFIX) - 1;
	int n;

	progress_erase();
	memcpy(line, MSG_PREFIX, pre);
	n = vsnprintf(line + pre, sizeof(line) - pre - 1, fmt, ap);
	if (n < 0)
		return;
	/* A message longer than the line is cut; it still ends the line. */
	if ((size_t)n > sizeof(line) - pre - 2)
		n = (int)(sizeof(line) - pre - 2);
	line[pre + (size_t)n] = '\n';
	if (captured)
		(void)buf_append(captured, line + pre, (size_t)n + 1);
	(void)write_all(STDERR_FILENO, line, pre + (size_t)n + 1);
}

void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void msg_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}
