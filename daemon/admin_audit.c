/*
 * admin_audit.c - the verb that checks the audit log: audit verify.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "err.h"
#include "banned.h"

int
admin_audit(const struct config *c, int argc, char **argv)
{
	const char *path;
	unsigned long lines = 0, bad = 0;
	int r, e;

	if (argc < 2 || argc > 3 || strcmp(argv[1], "verify") != 0)
		return admin_usage("audit verify [FILE]");
	path = argc == 3 ? argv[2] : c->log_path;
	r = audit_verify(path, &lines, &bad);
	e = errno;
	if (r == 0) {
		printf("verified %lu line%s\n", lines, lines == 1 ? "" : "s");
		fflush(stdout);
		return ADMIN_OK;
	}
	if (r == QR_ERR_MISMATCH)
		complain("%s: line %lu: chain broken (edited, inserted or "
			 "deleted line before it)", path, bad);
	else if (r == QR_ERR_NOT_FOUND)
		complain("%s does not exist", path);
	else
		complain("cannot verify %s: %s", path, admin_why(r, e));
	return ADMIN_FAIL;
}
