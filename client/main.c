/*
 * main.c - qvm-remote: run a command in dom0 from a Qubes VM.
 *
 * The command is queued in ~/.qvm-remote/queue; the dom0 daemon pulls it,
 * runs it and writes the result back.  This file only dispatches: each job
 * lives in its own module (see the headers for their contracts).
 */
#include "args.h"
#include "exitcode.h"
#include "info.h"
#include "keycmd.h"
#include "mcpserve.h"
#include "msg.h"
#include "paths.h"
#include "queuecmd.h"
#include "run.h"

#include <stdio.h>
#include <unistd.h>

#include "bounds.h"

#include "banned.h"

#ifndef QVMR_VERSION
#define QVMR_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fputs("usage: qvm-remote [-t SEC] [-i FILE | -n] [--wait SEC] "
	      "[-u USER] [--check] [-v|-q] [--json] [--] COMMAND [ARG...]\n"
	      "       qvm-remote [options] -x PROGRAM [ARG...]\n"
	      "       qvm-remote [options] < SCRIPT\n"
	      "       qvm-remote key gen [--force] | key show | "
	      "key import [--force] | key fingerprint\n"
	      "       qvm-remote ping | status | queue [status | clean "
	      "[--pending]] | log [N] | history [N]\n"
	      "       qvm-remote mcp\n"
	      "       qvm-remote --help | --version\n", f);
}

static void help(void)
{
	usage(stdout);
	printf("\n"
"Runs COMMAND in dom0 and prints its output, byte for byte on the same\n"
"streams, exiting with its exit code.  Words are joined with single spaces\n"
"and run by bash in dom0, as ssh does; with -x they are the program and its\n"
"arguments, run as they are, without a shell.  With no COMMAND and stdin not\n"
"a terminal, stdin is the script; with a COMMAND, a stdin that is not a\n"
"terminal is the command's (read whole, up to %u MiB, before the request\n"
"is sent), as ssh does: echo hello | qvm-remote cat.  dom0 must run\n"
"qvm-remote-dom0 and have authorized this VM's key; its policy may limit\n"
"what runs, and as whom.\n"
"\n"
"options:\n"
"  -t, --timeout SEC  stop the command in dom0 after SEC s (1..%u;\n"
"                     dom0's default and cap apply)\n"
"  -i, --input FILE   send FILE (up to %u bytes, any bytes; - is stdin)\n"
"                     as the command's stdin\n"
"  -n, --no-stdin     send no stdin (the command's is /dev/null) and read\n"
"                     none, as ssh -n; for loops that read a file\n"
"  -x, --exact        the words are PROGRAM and its arguments, run with\n"
"                     execve in dom0: no shell, no joining, no expansion\n"
"  -u, --user USER    run as the dom0 user USER instead of root, if dom0's\n"
"                     policy allows it\n"
"      --check        run nothing: print what dom0's policy would do with\n"
"                     the command (decision=, rule=, user=, timeout=) and\n"
"                     exit 0 (allow), 3 (deny) or 4 (ask)\n"
"      --wait SEC     withdraw the command when dom0 has not taken it\n"
"                     after SEC s (default %u)\n"
"  -v, --verbose      say what happens: id, when dom0 took it, timings\n"
"  -q, --quiet        no waiting indicator and no hints while waiting\n"
"      --json         print one JSON object with status, exit, stdout,\n"
"                     stderr (base64 when not UTF-8) and timings\n"
"  -h, --help         this text;  -V, --version  the version\n"
"\n"
"subcommands:\n"
"  key gen            make this VM's key (--force replaces one)\n"
"  key show           print the key (the only place it is shown)\n"
"  key import         read a key (64 hex characters) from stdin\n"
"  key fingerprint    print the key's fingerprint, to compare with dom0\n"
"  ping               ask dom0 a question that runs nothing (--check\n"
"                     'true') and report the round trip\n"
"  status             key, queue and when dom0 last answered\n"
"  queue status       list pending, running and uncollected requests\n"
"  queue clean        remove results older than a day and stale files;\n"
"                     --pending also withdraws pending requests\n"
"  log [N]            the last N lines of ~/.qvm-remote/audit.log (20)\n"
"  history [N]        the last N commands with exit and status (10)\n"
"  mcp                a Model Context Protocol server on stdin and stdout\n"
"                     for AI agents: tools run (an exact argv, as -x),\n"
"                     result (of an earlier run), policy_check (what\n"
"                     dom0's policy would do); see qvm-remote(1)\n"
"  To run a command with one of these names in dom0: qvm-remote -- NAME\n"
"\n"
"exit status: the command's own, or\n"
"  122  the command exited 0 but dom0 cut its output at\n"
"       QVM_REMOTE_MAX_OUTPUT (a notice says how much it kept)\n"
"  123  no answer from dom0: nothing ran, or the result has not arrived\n"
"  124  the command timed out in dom0 and was stopped\n"
"  125  a local problem: usage, key, queue\n"
"  126  dom0 rejected the command (the reason is printed), its policy\n"
"       denied it (the rule is named), or the user does not exist there\n"
"  127  with -x, dom0 found no such program\n"
"  130  interrupted here (Ctrl-C): withdrawn if dom0 had not taken it,\n"
"       else stopped in dom0\n"
"  255  dom0 stopped while the command ran; it may have run, it will\n"
"       not run again\n"
"\n"
"files: ~/.qvm-remote/{auth.key,queue/,audit.log,history/}; "
"see qvm-remote(1)\n", IN_MAX >> 20, TIMEOUT_MAX, IN_MAX,
	       CLAIM_WAIT_DEFAULT);
}

int main(int argc, char **argv)
{
	struct vm_layout p;
	struct args a;
	char err[ARGS_ERR_MAX];

	if (args_parse(argc, argv, &a, err, sizeof(err)) != 0) {
		msg("%s; see qvm-remote --help", err);
		return QX_LOCAL;
	}
	switch (a.mode) {
	case MODE_HELP:
		help();
		return fflush(stdout) == 0 ? 0 : QX_LOCAL;
	case MODE_VERSION:
		printf("qvm-remote %s\n", QVMR_VERSION);
		return fflush(stdout) == 0 ? 0 : QX_LOCAL;
	default:
		break;
	}
	msg_set_verbose(a.verbose);
	if (a.mode == MODE_RUN && a.argc == 0 && isatty(STDIN_FILENO)) {
		usage(stderr);
		msg("give a command, or pipe a script on stdin; see "
		    "qvm-remote --help");
		return QX_LOCAL;
	}
	if (paths_from_env(&p) != 0)
		return QX_LOCAL;
	switch (a.mode) {
	case MODE_KEY:
		return keycmd_run(&p, &a);
	case MODE_PING:
		return run_ping(&p, &a);
	case MODE_STATUS:
		return status_run(&p);
	case MODE_QUEUE:
		return queuecmd_run(&p, &a);
	case MODE_LOG:
		return log_run(&p, a.count);
	case MODE_HISTORY:
		return history_run(&p, a.count);
	case MODE_MCP:
		return mcp_serve(&p);
	default:
		return run_command(&p, &a);
	}
}
