/*
 * fuzz_policy.c - policy_add_file() on an arbitrary policy file, then
 * policy_match() on requests cut from the same bytes (lib/policy.h).
 *
 * The input is the file.  If it parses, each of its first lines gives
 * requests: its words split at blanks (quotes and all, so a rule's own
 * pattern words come back as arguments), the same without the first two
 * words (the VM and action fields), and a script request; the VM is the
 * line's first word when that is a VM name.  The lines of the input, one
 * argument each, make one more request (arguments with spaces).
 *
 * Beyond memory safety: a refused file leaves the policy empty and names
 * the file, a line that exists and a printable reason; a decision is the
 * no-rule deny or names a line of the file, a valid user and a timeout in
 * range; adding the same text again as a second file changes no decision
 * (the first match wins); and a request that asks for the user a decision
 * named gets the same decision.
 */
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "vmname.h"

#include "banned.h"

#define FILE_A "fuzz.policy"
#define FILE_B "again.policy"
#define LINES_USED 8
#define ARGS_MAX 64
#define COPY_MAX 4096

static char copy[COPY_MAX + 1];

static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

static unsigned count_lines(const uint8_t *p, size_t n)
{
	unsigned lines = 1;
	size_t i;

	for (i = 0; i < n; i++)
		lines += p[i] == '\n';
	return lines;
}

static bool same(const struct policy_decision *a,
		 const struct policy_decision *b)
{
	return a->action == b->action && a->line == b->line &&
	       a->timeout == b->timeout && strcmp(a->file, b->file) == 0 &&
	       strcmp(a->user, b->user) == 0;
}

static void check_decision(const struct policy_decision *d, unsigned lines)
{
	FUZZ_CHECK(d->action == POLICY_ALLOW || d->action == POLICY_DENY ||
		   d->action == POLICY_ASK);
	if (d->line == 0) {
		FUZZ_CHECK(d->action == POLICY_DENY);
		FUZZ_CHECK(d->file[0] == '\0' && d->user[0] == '\0');
		FUZZ_CHECK(d->timeout == 0);
		return;
	}
	FUZZ_CHECK(d->line <= lines);
	FUZZ_CHECK(strcmp(d->file, FILE_A) == 0);
	FUZZ_CHECK(policy_user_valid(d->user));
	FUZZ_CHECK(d->timeout <= 86400);
	FUZZ_CHECK(d->timeout == 0 || d->action != POLICY_DENY);
}

static void check_request(const struct policy *one, const struct policy *two,
			  struct policy_request *req, unsigned lines)
{
	struct policy_decision d1, d2, du;
	const char *asked = req->user;

	FUZZ_CHECK(policy_match(one, req, &d1) == 0);
	check_decision(&d1, lines);
	if (two != NULL) {
		FUZZ_CHECK(policy_match(two, req, &d2) == 0);
		FUZZ_CHECK(same(&d1, &d2));
	}
	if (d1.line != 0 && asked == NULL) {
		req->user = d1.user;
		FUZZ_CHECK(policy_match(one, req, &du) == 0);
		FUZZ_CHECK(same(&d1, &du));
		req->user = NULL;
	}
	if (d1.line != 0 && asked != NULL)
		FUZZ_CHECK(strcmp(d1.user, asked) == 0);
}

/* Splits s in place at blanks (or at '\n' only) into argv. */
static size_t split(char *s, const char *seps, const char **argv)
{
	size_t n = 0;

	while (*s != '\0' && n < ARGS_MAX) {
		while (*s != '\0' && strchr(seps, *s) != NULL)
			s++;
		if (*s == '\0')
			break;
		argv[n++] = s;
		while (*s != '\0' && strchr(seps, *s) == NULL)
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return n;
}

static void requests_of_line(const struct policy *one,
			     const struct policy *two, const char *line,
			     size_t len, unsigned lines)
{
	static const char *const users[] = { NULL, "root", "builder" };
	const char *argv[ARGS_MAX];
	struct policy_request req;
	size_t argc, u;

	memcpy(copy, line, len);
	copy[len] = '\0';
	argc = split(copy, " \t", argv);
	memset(&req, 0, sizeof(req));
	req.vm = argc > 0 && vmname_valid(argv[0]) ? argv[0] : "work";
	for (u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
		req.user = users[u];
		req.kind = POLICY_SCRIPT;
		check_request(one, two, &req, lines);
		req.kind = POLICY_ARGV;
		if (argc > 0) {
			req.argv = argv;
			req.argc = argc;
			check_request(one, two, &req, lines);
		}
		if (argc > 2) {
			req.argv = argv + 2;
			req.argc = argc - 2;
			check_request(one, two, &req, lines);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *argv[ARGS_MAX];
	struct policy one, two;
	struct policy_error err;
	struct policy_request req;
	unsigned lines = count_lines(data, size), k;
	size_t off = 0, len;
	int r;

	policy_init(&one);
	memset(&err, 0, sizeof(err));
	r = policy_add_file(&one, FILE_A, text, size, &err);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE);
		FUZZ_CHECK(strcmp(err.file, FILE_A) == 0);
		FUZZ_CHECK(err.line <= lines);
		FUZZ_CHECK(err.reason[0] != '\0' && printable(err.reason));
		FUZZ_CHECK(policy_empty(&one) && one.n_rules == 0);
		policy_release(&one);
		return 0;
	}
	FUZZ_CHECK(one.n_files == 1 && one.n_rules < lines + 1);

	/* the same text again, as a second file, into a second policy */
	policy_init(&two);
	FUZZ_CHECK(policy_add_file(&two, FILE_A, text, size, &err) == 0);
	r = policy_add_file(&two, FILE_B, text, size, &err);
	FUZZ_CHECK(r == 0 || (r == QR_ERR_TOO_LARGE && two.n_files == 1));

	for (k = 0; k < LINES_USED && off < size; k++) {
		const char *nl = memchr(text + off, '\n', size - off);

		len = nl != NULL ? (size_t)(nl - (text + off)) : size - off;
		if (len <= COPY_MAX)
			requests_of_line(&one, &two, text + off, len, lines);
		off += len + 1;
	}
	if (size <= COPY_MAX) {
		memcpy(copy, text, size);
		copy[size] = '\0';
		memset(&req, 0, sizeof(req));
		req.vm = "work";
		req.kind = POLICY_ARGV;
		req.argv = argv;
		req.argc = split(copy, "\n", argv);
		if (req.argc > 0)
			check_request(&one, &two, &req, lines);
	}
	policy_release(&one);
	policy_release(&two);
	return 0;
}
