/*
 * signals.c - Ctrl-C and friends, through a self-pipe.
 */
#include "signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

#include "banned.h"

static int pipe_fd[2] = { -1, -1 };
static volatile sig_atomic_t first_signal;

static void on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (!first_signal)
		first_signal = sig;
	/* Non-blocking: a full pipe already says "a signal came". */
	(void)!write(pipe_fd[1], &c, 1);
	errno = saved;
}

int signals_install(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	if (pipe_fd[0] < 0 && pipe2(pipe_fd, O_CLOEXEC | O_NONBLOCK) != 0)
		return QR_ERR_SYSTEM;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking call returns EINTR and the loop checks. */
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return QR_ERR_SYSTEM;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return QR_ERR_SYSTEM;
	return 0;
}

int signals_fd(void)
{
	return pipe_fd[0];
}

void signals_reset(void)
{
	(void)signals_caught();
	first_signal = 0;
}

int signals_caught(void)
{
	char drain[64];

	if (pipe_fd[0] >= 0)
		while (read(pipe_fd[0], drain, sizeof(drain)) > 0)
			;
	return first_signal;
}
