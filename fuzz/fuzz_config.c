/*
 * fuzz_config.c - config_parse() on arbitrary remote.conf text.
 *
 * The file is root's, but a bad edit must still be refused with a message
 * fit for a terminal, never half-read.  Beyond memory safety: an error is
 * a NUL-terminated line of printable ASCII; a success leaves every number
 * in its documented range, every VM name valid and listed once and every
 * path absolute; and writing the result back as KEY="value" lines (the
 * double-quoted form, with its four escapes) parses to the same config.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounds.h"
#include "buf.h"
#include "err.h"
#include "fuzz.h"
#include "vmname.h"

#include "banned.h"

/* Each about 10 KiB: off the stack.  base holds the defaults, read once. */
static struct config base, c, back;
static bool have_base;

static bool printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

static void check_list(const struct name_list *l)
{
	size_t i, j;

	FUZZ_CHECK(l->n <= CONFIG_LIST_MAX);
	for (i = 0; i < l->n; i++) {
		FUZZ_CHECK(memchr(l->name[i], '\0', sizeof(l->name[i])) !=
			   NULL);
		FUZZ_CHECK(vmname_valid(l->name[i]));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(l->name[i], l->name[j]) != 0);
	}
}

static void check_path(const char *p)
{
	size_t n = strnlen(p, CONFIG_PATH_MAX), i;

	FUZZ_CHECK(n > 0 && n < CONFIG_PATH_MAX && p[0] == '/');
	for (i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)p[i] >= 0x20 &&
			   (unsigned char)p[i] != 0x7f);
}

static void check_ranges(const struct config *k)
{
	FUZZ_CHECK(k->interval_s >= 1 && k->interval_s <= 3600);
	FUZZ_CHECK(k->watch_wait_s >= 1 && k->watch_wait_s <= 3600);
	FUZZ_CHECK(k->timeout_s >= 1 && k->timeout_s <= TIMEOUT_MAX);
	FUZZ_CHECK(k->max_jobs >= 1 && k->max_jobs <= 256);
	FUZZ_CHECK(k->max_per_vm >= 1 && k->max_per_vm <= 64);
	FUZZ_CHECK(k->max_output >= 1 && k->max_output <= (1u << 30));
	FUZZ_CHECK(k->max_age_s >= 1 && k->max_age_s <= 30u * 86400u);
	FUZZ_CHECK(k->transport == TRANSPORT_QREXEC_CLIENT ||
		   k->transport == TRANSPORT_QVM_RUN);
	FUZZ_CHECK(k->poll == POLL_WATCH || k->poll == POLL_INTERVAL);
	check_list(&k->vms);
	check_list(&k->legacy);
	FUZZ_CHECK(k->vms_set == (k->vms.n > 0));
	check_path(k->keys_dir);
	check_path(k->policy_dir);
	check_path(k->log_path);
	check_path(k->runtime_dir);
	check_path(k->state_dir);
	check_path(k->qrexec_dir);
}

/* KEY="value" with \" \\ \$ \` escaped, as the header documents. */
static void put_quoted(struct buf *b, const char *key, const char *v)
{
	FUZZ_CHECK(buf_printf(b, "%s=\"", key) == 0);
	for (; *v != '\0'; v++) {
		if (strchr("\"\\$`", *v) != NULL)
			FUZZ_CHECK(buf_append(b, "\\", 1) == 0);
		FUZZ_CHECK(buf_append(b, v, 1) == 0);
	}
	FUZZ_CHECK(buf_append_str(b, "\"\n") == 0);
}

static void put_list(struct buf *b, const char *key,
		     const struct name_list *l)
{
	size_t i;

	FUZZ_CHECK(buf_printf(b, "%s=\"", key) == 0);
	for (i = 0; i < l->n; i++)
		FUZZ_CHECK(buf_printf(b, "%s%s", i > 0 ? " " : "",
				      l->name[i]) == 0);
	FUZZ_CHECK(buf_append_str(b, "\"\n") == 0);
}

static void write_back(struct buf *b, const struct config *k)
{
	put_list(b, "QVM_REMOTE_VMS", &k->vms);
	FUZZ_CHECK(buf_printf(b, "QVM_REMOTE_TRANSPORT=%s\n",
			      k->transport == TRANSPORT_QVM_RUN ?
			      "qvm-run" : "qrexec-client") == 0);
	FUZZ_CHECK(buf_printf(b, "QVM_REMOTE_POLL=%s\n",
			      k->poll == POLL_INTERVAL ?
			      "interval" : "watch") == 0);
	FUZZ_CHECK(buf_printf(b, "QVM_REMOTE_INTERVAL=%u\n"
			      "QVM_REMOTE_WATCH_WAIT=%u\n"
			      "QVM_REMOTE_TIMEOUT=%u\n"
			      "QVM_REMOTE_MAX_JOBS=%u\n"
			      "QVM_REMOTE_MAX_PER_VM=%u\n"
			      "QVM_REMOTE_MAX_OUTPUT=%llu\n"
			      "QVM_REMOTE_MAX_AGE=%llu\n",
			      k->interval_s, k->watch_wait_s, k->timeout_s,
			      k->max_jobs, k->max_per_vm,
			      (unsigned long long)k->max_output,
			      (unsigned long long)k->max_age_s) == 0);
	put_list(b, "QVM_REMOTE_LEGACY_AUTH", &k->legacy);
	put_quoted(b, "QVM_REMOTE_KEYS_DIR", k->keys_dir);
	put_quoted(b, "QVM_REMOTE_POLICY_DIR", k->policy_dir);
	put_quoted(b, "QVM_REMOTE_LOG", k->log_path);
	put_quoted(b, "QVM_REMOTE_RUNTIME_DIR", k->runtime_dir);
	put_quoted(b, "QVM_REMOTE_STATE_DIR", k->state_dir);
	put_quoted(b, "QVM_REMOTE_QREXEC_DIR", k->qrexec_dir);
}

static bool same_list(const struct name_list *a, const struct name_list *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->name[i], b->name[i]) != 0)
			return false;
	return true;
}

static bool same_config(const struct config *a, const struct config *b)
{
	return same_list(&a->vms, &b->vms) && a->vms_set == b->vms_set &&
	       a->transport == b->transport && a->poll == b->poll &&
	       a->interval_s == b->interval_s &&
	       a->watch_wait_s == b->watch_wait_s &&
	       a->timeout_s == b->timeout_s && a->max_jobs == b->max_jobs &&
	       a->max_per_vm == b->max_per_vm &&
	       a->max_output == b->max_output &&
	       a->max_age_s == b->max_age_s &&
	       same_list(&a->legacy, &b->legacy) &&
	       strcmp(a->keys_dir, b->keys_dir) == 0 &&
	       strcmp(a->policy_dir, b->policy_dir) == 0 &&
	       strcmp(a->log_path, b->log_path) == 0 &&
	       strcmp(a->runtime_dir, b->runtime_dir) == 0 &&
	       strcmp(a->state_dir, b->state_dir) == 0 &&
	       strcmp(a->qrexec_dir, b->qrexec_dir) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b = BUF_INIT(CONFIG_FILE_MAX);
	char err[CONFIG_ERR_MAX];
	const char *end;
	int r;

	if (!have_base) {
		config_defaults(&base);
		have_base = true;
	}
	c = base;
	err[0] = '\0';
	r = config_parse((const char *)data, size, &c, err);
	if (r != 0) {
		FUZZ_CHECK(r == QR_ERR_INVALID || r == QR_ERR_TOO_LARGE);
		end = memchr(err, '\0', sizeof(err));
		FUZZ_CHECK(end != NULL && end > err);
		FUZZ_CHECK(printable(err, (size_t)(end - err)));
		return 0;
	}
	check_ranges(&c);

	write_back(&b, &c);
	back = base;
	err[0] = '\0';
	r = config_parse(b.data, b.len, &back, err);
	if (r != 0)
		fprintf(stderr, "written back as:\n%s\nrefused: %s\n",
			b.data, err);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(same_config(&c, &back));
	buf_release(&b);
	return 0;
}
