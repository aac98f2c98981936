/*
 * serve.h - the daemon: one process, one thread, one event loop
 * (design.md section 6).
 */
#ifndef QVMR_SERVE_H
#define QVMR_SERVE_H

#include "config.h"

struct serve_opts {
	int once;               /* one fetch per VM, run, deliver, exit */
	int dry_run;            /* list and verify without claiming or running */
	const char *only_vm;    /* poll just this VM */
	int verbose;            /* audit lines also on stderr */
	const char *config_path;   /* re-read on SIGHUP; NULL: none */
};

/* Runs until SIGTERM (or the end of a --once pass); the exit code. */
int serve(struct config *c, const struct serve_opts *o);

#endif
