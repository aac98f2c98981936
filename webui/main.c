/*
 * main.c - qvm-remote-webui: a read-only live view of dom0's audit log.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "configfile.h"
#include "err.h"
#include "hub.h"
#include "route.h"
#include "server.h"
#include "tail.h"
#include "banned.h"

#define DEFAULT_PORT 8890u

static const char usage_text[] =
	"usage: qvm-remote-webui [--port PORT] [--log FILE] [--bind ADDR]\n"
	"                        [-c FILE]\n"
	"\n"
	"Serves a read-only, live view of the qvm-remote audit log on\n"
	"http://127.0.0.1:PORT/ and http://[::1]:PORT/.\n"
	"\n"
	"options:\n"
	"  --port PORT        port to listen on (default 8890)\n"
	"  --log FILE         the log (default: QVM_REMOTE_LOG, else\n"
	"                     /var/log/qubes/qvm-remote/qvm-remote.log)\n"
	"  --bind ADDR        listen on this address only; one that is not\n"
	"                     loopback exposes the log, and is warned about\n"
	"  -c, --config FILE  read QVM_REMOTE_LOG from this file too\n"
	"  -h, --help         this help\n"
	"  -V, --version      the version\n"
	"\n"
	"exit status: 0 stopped by a signal, 1 cannot start, 2 usage\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

static int
load_config(struct config *c, const char *path)
{
	char err[CONFIG_ERR_MAX];
	int r;

	config_defaults(c);
	if (path != NULL && (r = config_load_file(path, c, err)) != 0) {
		if (r == QR_ERR_NOT_FOUND)
			fprintf(stderr, "qvm-remote-webui: '%s' does not exist\n",
				path);
		else if (r == QR_ERR_SYSTEM)
			fprintf(stderr, "qvm-remote-webui: cannot read '%s': "
				"%s\n", path, strerror(errno));
		else
			fprintf(stderr, "qvm-remote-webui: %s: %s\n", path, err);
		return -1;
	}
	if (config_apply_env(c, err) != 0) {
		fprintf(stderr, "qvm-remote-webui: environment: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	static struct hub hub;
	static struct server srv;
	const char *log_path = NULL, *bind = NULL, *config_path = NULL;
	unsigned port = DEFAULT_PORT;
	sigset_t set;
	int i, sig;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--port") == 0 || strcmp(a, "--log") == 0 ||
		    strcmp(a, "--bind") == 0 || strcmp(a, "-c") == 0 ||
		    strcmp(a, "--config") == 0) {
			if (++i == argc) {
				fprintf(stderr, "qvm-remote-webui: '%s' needs a "
					"value\n", a);
				return usage(stderr, 2);
			}
			if (strcmp(a, "--port") == 0) {
				if (count_parse(argv[i], 1, 65535, &port) != 0) {
					fprintf(stderr, "qvm-remote-webui: '%s' is "
						"not a port (1-65535)\n", argv[i]);
					return 2;
				}
			} else if (strcmp(a, "--log") == 0) {
				log_path = argv[i];
			} else if (strcmp(a, "--bind") == 0) {
				bind = argv[i];
			} else {
				config_path = argv[i];
			}
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			return usage(stdout, 0);
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("qvm-remote-webui %s\n", QVMR_VERSION);
			return 0;
		} else {
			fprintf(stderr, "qvm-remote-webui: unknown option '%s'\n",
				a);
			return usage(stderr, 2);
		}
	}
	if (load_config(&cfg, config_path) != 0)
		return 1;
	if (log_path == NULL)
		log_path = cfg.log_path;
	if (log_path[0] != '/') {
		fprintf(stderr, "qvm-remote-webui: the log path '%s' is not "
			"absolute\n", log_path);
		return 2;
	}
	if (geteuid() == 0)
		fprintf(stderr, "qvm-remote-webui: warning: running as root; "
			"run it as an unprivileged user in a group that can "
			"read the log (see qvm-remote-webui(8))\n");

	/* every thread inherits this mask; only sigwait() below sees them */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		fprintf(stderr, "qvm-remote-webui: cannot block signals\n");
		return 1;
	}
	if (hub_start(&hub, log_path, TAIL_WINDOW_DEFAULT) != 0) {
		fprintf(stderr, "qvm-remote-webui: cannot start: %s\n",
			strerror(errno != 0 ? errno : ENOMEM));
		return 1;
	}
	if (server_start(&srv, &hub, port, bind) != 0) {
		hub_stop(&hub);
		return 1;
	}
	if (bind != NULL)
		fprintf(stderr, "qvm-remote-webui: serving '%s' on http://%s:%u/\n",
			log_path, srv.bind_literal, port);
	else
		fprintf(stderr, "qvm-remote-webui: serving '%s' on "
			"http://127.0.0.1:%u/%s\n", log_path, port,
			srv.daemon[1] != NULL ? " and [::1]" : "");
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP)
			continue;   /* rotation is noticed without it */
		break;
	}
	/* stop the streams first, so no connection thread waits on the hub */
	hub_quiesce(&hub);
	server_stop(&srv);
	hub_stop(&hub);
	return 0;
}
