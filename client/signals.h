/*
 * signals.h - Ctrl-C and friends, through a self-pipe.
 *
 * After signals_install(), SIGINT, SIGTERM and SIGHUP no longer end the
 * process: each writes one byte to a pipe whose read end (signals_fd()) the
 * wait loop polls, so the client can withdraw its request first.  SIGPIPE is
 * ignored: a closed stdout shows up as EPIPE from write(2).  The handler only
 * writes to the pipe and sets a flag.
 */
#ifndef QVMR_CLIENT_SIGNALS_H
#define QVMR_CLIENT_SIGNALS_H

int signals_install(void);
/* The read end of the self-pipe (non-blocking), or -1 before install. */
int signals_fd(void);
/* The first signal caught so far, 0 if none.  Drains the pipe. */
int signals_caught(void);
/* Forgets the signals caught so far: the next one is "the first" again
 * (a second Ctrl-C while a request is withdrawn in dom0). */
void signals_reset(void);

#endif
