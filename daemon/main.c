/*
 * main.c - qvm-remote-dom0: the daemon and its admin verbs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "config.h"
#include "configfile.h"
#include "err.h"
#include "serve.h"
#include "vmname.h"
#include "banned.h"

#define DEFAULT_CONFIG "/etc/qubes/remote.conf"

static const char usage_text[] =
	"usage: qvm-remote-dom0 [-c FILE] [-v] [--once] [--dry-run] [--vm VM]\n"
	"       qvm-remote-dom0 [-c FILE] VERB [ARGS...]\n"
	"\n"
	"Runs commands that authorized VMs queue with qvm-remote, pulling them\n"
	"through the Qubes transport: dom0 initiates every I/O operation.\n"
	"\n"
	"options:\n"
	"  -c, --config FILE  configuration file (default " DEFAULT_CONFIG ")\n"
	"  -v, --verbose      also print audit lines on stderr\n"
	"  --once             one fetch per VM, run, deliver, exit\n"
	"  --dry-run          show what would run, claiming and running nothing\n"
	"  --vm VM            poll only VM\n"
	"  -h, --help         this help\n"
	"  -V, --version      the version\n"
	"\n"
	"verbs:\n"
	"  authorize VM             authorize VM with the key read from stdin\n"
	"  authorize --from-vm VM   pull VM's key through the transport\n"
	"  revoke VM                remove VM's key\n"
	"  keys                     list authorized VMs and key fingerprints\n"
	"  status                   service, transport and per-VM activity\n"
	"  log [-n N] [-f] [--vm VM] [--category CATS]\n"
	"                           the last N audit log lines, -f: and on\n"
	"  audit verify [FILE]      check the audit log's hash chain\n"
	"  enable [--yes]           start at every boot (asks first)\n"
	"  disable                  stop now and do not start at boot\n"
	"  policy check VM [-u USER] (-x PROGRAM [ARG...] | --script)\n"
	"                           what the policy does with that request\n"
	"  policy list              the policy files and rules, or their error\n"	"  pending [ID]             requests waiting for approval, or one in full\n"
	"  approve ID               approve a waiting request\n"
	"  deny ID                  deny a waiting request\n"
	"  ps                       what runs, waits for a slot or for approval\n"
	"  stop ID                  stop a running command, or refuse a waiting one\n"

	"\n"
	"The service is installed but not enabled: start it for this boot with\n"
	"  systemctl start qvm-remote-dom0\n";

static int
usage(FILE *f, int code)
{
	fputs(usage_text, f);
	return code;
}

static int
load_config(struct config *c, const char *path, int explicit_path)
{
	char err[CONFIG_ERR_MAX];
	int r;

	config_defaults(c);
	r = config_load_file(path, c, err);
	if (r == QR_ERR_NOT_FOUND && !explicit_path)
		r = 0;
	if (r != 0) {
		if (r == QR_ERR_NOT_FOUND)
			fprintf(stderr, "qvm-remote-dom0: '%s' does not exist\n",
				path);
		else
			fprintf(stderr, "qvm-remote-dom0: %s: %s\n", path, err);
		return -1;
	}
	if (config_apply_env(c, err) != 0) {
		fprintf(stderr, "qvm-remote-dom0: %s\n", err);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	struct serve_opts o = { 0 };
	const char *config_path = DEFAULT_CONFIG;
	int explicit_path = 0, i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc)
				return usage(stderr, 2);
			config_path = argv[i];
			explicit_path = 1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			o.verbose = 1;
		} else if (strcmp(a, "--once") == 0) {
			o.once = 1;
		} else if (strcmp(a, "--dry-run") == 0) {
			o.dry_run = 1;
		} else if (strcmp(a, "--vm") == 0) {
			if (++i == argc)
				return usage(stderr, 2);
			if (!vmname_valid(argv[i])) {
				fprintf(stderr, "qvm-remote-dom0: '%s' is not a "
					"valid VM name\n", argv[i]);
				return 2;
			}
			o.only_vm = argv[i];
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			return usage(stdout, 0);
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("qvm-remote-dom0 %s\n", QVMR_VERSION);
			return 0;
		} else {
			fprintf(stderr, "qvm-remote-dom0: unknown option '%s'\n", a);
			return usage(stderr, 2);
		}
	}
	if (load_config(&cfg, config_path, explicit_path) != 0)
		return 1;
	if (i < argc) {
		admin_verb_fn fn = admin_lookup(argv[i]);
		if (fn != NULL)
			return fn(&cfg, argc - i, argv + i);
		fprintf(stderr, "qvm-remote-dom0: unknown verb '%s'\n", argv[i]);
		return usage(stderr, 2);
	}
	o.config_path = config_path;
	return serve(&cfg, &o);
}
