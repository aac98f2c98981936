/*
 * admin_audit.c - the verbs that check and key the audit log:
 * audit verify, audit setup-key.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "logverify.h"
#include "seal.h"
#include "banned.h"

/* audit verify's exit codes (qvm-remote-dom0(8)) */
#define VERIFY_OK 0             /* every check made passed */
#define VERIFY_BROKEN 1         /* a break, named by file and line */
#define VERIFY_CANNOT 3         /* a file or the key could not be read */

#define VERIFY_FILES_MAX 64
#define ANCHOR_FILE_MAX (64u << 20)

#define VERIFY_USAGE "audit verify [--key FILE|-] [--anchors FILE]... " \
		     "[LOGFILE...]\n       " PROG " audit setup-key"

static int
read_key(const char *path, struct seal_key *k)
{
	struct buf b = BUF_INIT(SEAL_KEY_TEXT_MAX + 2);
	char line[SEAL_KEY_TEXT_MAX + 2];
	int r;

	if (strcmp(path, "-") == 0) {
		r = fgets(line, sizeof(line), stdin) == NULL ? QR_ERR_INCOMPLETE
			: buf_append_str(&b, line);
		OPENSSL_cleanse(line, sizeof(line));
	} else {
		r = read_file(path, &b);
	}
	if (r == 0)
		r = seal_key_parse(b.data, b.len, k);
	if (b.data != NULL)
		OPENSSL_cleanse(b.data, b.cap);
	buf_release(&b);
	return r;
}

static int
add_anchor_file(struct logcheck *c, const char *path)
{
	struct buf b = BUF_INIT(ANCHOR_FILE_MAX);
	int r, e;

	r = strcmp(path, "-") == 0 ? QR_ERR_INVALID : read_file(path, &b);
	e = errno;
	if (r == 0)
		r = logcheck_add_anchors(c, b.data != NULL ? b.data : "", b.len,
					 path);
	if (r != 0)
		complain("cannot read the anchors in %s: %s", path,
			 admin_why(r, e));
	buf_release(&b);
	return r;
}

static void
report_ok(const struct logcheck *c, unsigned nfiles, int keyed)
{
	printf("verified %lu line%s", c->lines, c->lines == 1 ? "" : "s");
	if (nfiles > 1)
		printf(" in %u files", nfiles);
	if (c->seen)
		printf(", seq %" PRIu64 " to %" PRIu64, c->first_seq,
		       c->last_seq);
	printf("\n");
	if (c->unsealed > 0)
		printf("%lu line%s from before the log was sealed: checked "
		       "by the hash chain only\n", c->unsealed,
		       c->unsealed == 1 ? "" : "s");
	if (keyed) {
		/* a cut tail leaves a log that proves: anchors find it */
		printf("the key proves %lu line%s unchanged, in order, none "
		       "missing between them (lines cut from the end: check "
		       "with --anchors)", c->proven, c->proven == 1 ? "" : "s");
		if (c->uncovered > 0)
			printf("; %lu line%s before the key's seq %" PRIu64
			       " are not covered by it", c->uncovered,
			       c->uncovered == 1 ? "" : "s", c->key_start);
		printf("\n");
	} else {
		printf("without the key this checks the hash chain and the "
		       "seal sequence only: it finds damage, but cannot prove "
		       "that no line was rewritten (root in dom0 can recompute "
		       "the chain); use --key\n");
	}
	if (c->restarts > 0 && !keyed)
		printf("note: the seal was restarted %d time%s (a lost seal "
		       "state): see the action=seal-restart lines\n",
		       c->restarts, c->restarts == 1 ? "" : "s");
	if (c->nanchors > 0) {
		printf("%lu anchor%s from the VMs match", c->anchors_ok,
		       c->anchors_ok == 1 ? "" : "s");
		if (c->anchors_older > 0)
			printf(", %lu are of older files not given",
			       c->anchors_older);
		printf(": the log is not shorter than any\n");
	}
	fflush(stdout);
}

static int
verify(const struct config *c, int argc, char **argv)
{
	struct logcheck *lc = NULL;
	const char *files[VERIFY_FILES_MAX], *key_path = NULL;
	unsigned nfiles = 0;
	struct seal_key k;
	int i, r, e, ret = VERIFY_CANNOT;

	if ((lc = malloc(sizeof(*lc))) == NULL) {
		complain("out of memory");
		return VERIFY_CANNOT;
	}
	logcheck_init(lc);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--key") == 0 && i + 1 < argc &&
		    key_path == NULL) {
			key_path = argv[++i];
		} else if (strcmp(argv[i], "--anchors") == 0 && i + 1 < argc) {
			if (add_anchor_file(lc, argv[++i]) != 0)
				goto out;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			ret = admin_usage(VERIFY_USAGE);
			goto out;
		} else if (nfiles == VERIFY_FILES_MAX) {
			complain("at most %d files at once", VERIFY_FILES_MAX);
			ret = ADMIN_USAGE;
			goto out;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	if (nfiles == 0)
		files[nfiles++] = c->log_path;
	if (key_path != NULL) {
		r = read_key(key_path, &k);
		e = errno;
		if (r != 0) {
			complain("cannot read the verification key from %s: %s",
				 strcmp(key_path, "-") == 0 ? "stdin" : key_path,
				 r == QR_ERR_INVALID ? "not a key audit "
				 "setup-key printed (qvmr-seal1-SEQ-HEX)"
				 : admin_why(r, e));
			goto out;
		}
		logcheck_set_key(lc, &k);
		seal_key_wipe(&k);
	}
	for (unsigned f = 0; f < nfiles; f++) {
		r = logcheck_file(lc, files[f]);
		e = errno;
		if (r == QR_ERR_MISMATCH)
			break;
		if (r == QR_ERR_NOT_FOUND) {
			complain("%s does not exist", files[f]);
			goto out;
		}
		if (r != 0) {
			complain("cannot verify %s: %s", files[f],
				 r == QR_ERR_INVALID ? "not a regular file"
				 : admin_why(r, e));
			goto out;
		}
	}
	if (lc->bad_line == 0)
		(void)logcheck_finish(lc);
	if (lc->bad_line != 0) {
		complain("%s: line %lu: %s", lc->bad_file, lc->bad_line,
			 lc->why);
		if (key_path == NULL && !lc->bad_anchor)
			complain("checked without the key: give --key to know "
				 "whether sealed lines before it were changed "
				 "as well");
		ret = VERIFY_BROKEN;
		goto out;
	}
	report_ok(lc, nfiles, key_path != NULL);
	ret = VERIFY_OK;
out:
	logcheck_release(lc);
	free(lc);
	return ret;
}

static int
setup_key(const struct config *c)
{
	struct audit a = { .fd = -1 };
	char key[SEAL_KEY_TEXT_MAX];
	int r, e, ret = ADMIN_FAIL;

	if (admin_open_audit(c, &a) != 0)
		return ADMIN_FAIL;
	r = audit_setup_key(&a, key);
	e = errno;
	if (r == QR_ERR_EXISTS) {
		complain("the log %s is sealed already and its verification "
			 "key was shown when the seal began; it is not kept in "
			 "dom0.  To start a new log with a new key: stop "
			 "the service, move %s and %s/" AUDIT_SEAL_FILE
			 " away, then run " PROG " audit setup-key again",
			 c->log_path, c->log_path, c->state_dir);
		goto out;
	}
	if (r != 0) {
		complain("cannot set up the seal key: %s",
			 a.why[0] != '\0' ? a.why : admin_why(r, e));
		goto out;
	}
	/* the key alone on stdout, so `setup-key > FILE` keeps just it */
	printf("%s\n", key);
	fflush(stdout);
	complain("this is the verification key of the audit log %s; it is not kept "
	    "in dom0", c->log_path);
	complain("keep it outside dom0 (write it down, or store it on another "
	    "machine); with it, " PROG " audit verify --key FILE (or - for "
	    "stdin) proves that no line sealed before an attacker took dom0 "
	    "was changed");
	ret = ADMIN_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	audit_close(&a);
	return ret;
}

int
admin_audit(const struct config *c, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify(c, argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "setup-key") == 0)
		return setup_key(c);
	return admin_usage(VERIFY_USAGE);
}
