/*
 * main.c - qvm-remote-agent: the VM half of the protocol, run by dom0.
 *
 *   qvm-remote-agent fetch PREFIX WAIT MAX_REQUESTS MAX_BYTES CLAIM
 *                          [CID CLAIM]... qvmr-end
 *   qvm-remote-agent deliver NONCE qvmr-end
 *   qvm-remote-agent session PREFIX WAIT MAX_REQUESTS MAX_BYTES CLAIM
 *                            [CID CLAIM]... qvmr-end        (session.h)
 *
 * dom0 starts it through the transport, never a user.  The last argument
 * must be "qvmr-end": a command line cut short in transit is refused
 * instead of run with fewer arguments.  Exit status: 0, 1 when the reply
 * could not be made whole, 2 for arguments it does not accept (dom0 then
 * falls back to its sh programs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver.h"
#include "fetch.h"
#include "queue.h"
#include "session.h"

#include "banned.h"

#define END_MARK "qvmr-end"

static int
usage(void)
{
	fputs("usage: qvm-remote-agent fetch PREFIX WAIT MAX_REQUESTS "
	      "MAX_BYTES CLAIM [CID CLAIM]... " END_MARK "\n"
	      "       qvm-remote-agent deliver NONCE " END_MARK "\n"
	      "       qvm-remote-agent session PREFIX WAIT MAX_REQUESTS "
	      "MAX_BYTES CLAIM [CID CLAIM]... " END_MARK "\n"
	      "qvm-remote-agent is run by qvm-remote-dom0, not by hand\n",
	      stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	struct vm_layout q;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("qvm-remote-agent %s\n", QVMR_VERSION);
		return 0;
	}
	/* the end mark goes; what is left is the command and its arguments */
	if (argc < 3 || strcmp(argv[argc - 1], END_MARK) != 0)
		return usage();
	argv[--argc] = NULL;
	umask(077);
	if (queue_init(&q) != 0) {
		fputs("qvm-remote-agent: no home directory\n", stderr);
		return 1;
	}
	setvbuf(stdout, NULL, _IOFBF, 1u << 16);
	if (strcmp(argv[1], "fetch") == 0 || strcmp(argv[1], "session") == 0) {
		struct fetch_args a;
		if (fetch_args_parse(&a, argc - 2, argv + 2) != 0)
			return usage();
		if (argv[1][0] == 'f')
			return fetch_run(&q, &a, stdout) == 0 ? 0 : 1;
		/* unbuffered: the fetch's wait polls stdin's descriptor, which
		 * must not leave bytes unseen in a buffer */
		setvbuf(stdin, NULL, _IONBF, 0);
		return session_run(&q, &a, stdin, stdout);
	}
	if (strcmp(argv[1], "deliver") == 0 && argc == 3 &&
	    deliver_nonce_valid(argv[2]))
		return deliver_run(&q, argv[2], stdin, stdout) == 0 ? 0 : 1;
	return usage();
}
