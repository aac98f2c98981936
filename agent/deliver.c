/*
 * deliver.c - publish the results dom0 sends into results/.
 */
#include "deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cid.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "reader.h"

#include "banned.h"

#define RESULT_FILE_MAX ((uint64_t)1 << 40)
#define STATUS_NAME_MAX 16u
#define EXIT_TEXT_MAX 11u
#define ANCHOR_MAX (18u + 1 + 32)

static const char *const files[] = { "out", "err", "meta" };
#define NFILES (sizeof(files) / sizeof(*files))

struct item {
	char cid[CID_MAX + 1];
	char claim[CLAIM_MAX + 1];
	char exit_text[EXIT_TEXT_MAX + 1];
	char status[STATUS_NAME_MAX + 1];
	uint64_t len[NFILES];
	char anchor[ANCHOR_MAX + 1];    /* "SEQ:SEAL" of dom0's log, or "" */
};

bool
deliver_nonce_valid(const char *nonce)
{
	size_t n = strlen(nonce);

	return n > 0 && n <= CLAIM_MAX &&
	       strspn(nonce, "0123456789abcdef-") == n;
}

static bool
exit_text_valid(const char *s, size_t n)
{
	size_t d = n > 0 && s[0] == '-' ? 1 : 0;

	return n > d && n <= EXIT_TEXT_MAX &&
	       strspn(s + d, "0123456789") == n - d;
}

/* Copies a field of n bytes at p to out (size max + 1) if it fits. */
static bool
take(char *out, size_t max, const char *p, size_t n)
{
	if (n == 0 || n > max)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* Reads one line (without its '\n') into line; QR_ERR_INCOMPLETE at EOF. */
static int
read_line(FILE *in, char line[FRAME_LINE_MAX + 2], size_t *n)
{
	if (fgets(line, FRAME_LINE_MAX + 2, in) == NULL)
		return QR_ERR_INCOMPLETE;
	*n = strlen(line);
	if (*n == 0 || line[*n - 1] != '\n')
		return QR_ERR_INVALID;
	line[--*n] = '\0';
	return 0;
}

/* "SEQ:SEAL": 1-18 digits, ':', 32 lowercase hex (lib/frame.h level 3). */
static bool
anchor_valid(const char *s, size_t n)
{
	size_t d = strspn(s, "0123456789");

	return d >= 1 && d <= 18 && d < n && s[d] == ':' &&
	       n - d - 1 == 32 && strspn(s + d + 1, "0123456789abcdef") >= 32;
}

/* "item CID CLAIM EXIT STATUS OUTLEN ERRLEN METALEN [SEQ:SEAL]" */
static int
parse_item(const char *line, struct item *it)
{
	const char *f[10];
	size_t len[10], k = 0;
	const char *p = line;

	it->anchor[0] = '\0';
	while (k < 10) {
		const char *sp = strchr(p, ' ');
		f[k] = p;
		len[k] = sp != NULL ? (size_t)(sp - p) : strlen(p);
		k++;
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	if (k == 9 && (!anchor_valid(f[8], len[8]) ||
		       !take(it->anchor, ANCHOR_MAX, f[8], len[8])))
		return QR_ERR_INVALID;
	if ((k != 8 && k != 9) || len[0] != 4 || memcmp(f[0], "item", 4) != 0 ||
	    !cid_valid(f[1], len[1]) || !claim_valid(f[2], len[2]) ||
	    !exit_text_valid(f[3], len[3]) ||
	    strspn(f[4], "abcdefghijklmnopqrstuvwxyz") < len[4] ||
	    !take(it->cid, CID_MAX, f[1], len[1]) ||
	    !take(it->claim, CLAIM_MAX, f[2], len[2]) ||
	    !take(it->exit_text, EXIT_TEXT_MAX, f[3], len[3]) ||
	    !take(it->status, STATUS_NAME_MAX, f[4], len[4]))
		return QR_ERR_INVALID;
	for (size_t i = 0; i < NFILES; i++)
		if (parse_u64((const uint8_t *)f[5 + i], len[5 + i],
			      RESULT_FILE_MAX, &it->len[i]) != 0)
			return QR_ERR_INVALID;
	return 0;
}

static int
temp_path(char out[PATH_MAX], const struct vm_layout *q,
	  const struct item *it, const char *nonce, const char *file)
{
	int n = snprintf(out, PATH_MAX, "%s/.%s.%s.%s.%s", q->results, it->cid,
			 it->claim, nonce, file);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

/*
 * Copies n bytes of `in` into a new file at path.  A file that cannot be
 * written (a full disk) sets *bad and the bytes are still read, so the
 * stream stays in step.  QR_ERR_INCOMPLETE when the input ends early.
 */
static int
receive(FILE *in, const char *path, uint64_t n, bool *bad)
{
	char chunk[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		      O_CLOEXEC, 0600);

	if (fd < 0)
		*bad = true;
	while (n > 0) {
		size_t want = n < sizeof(chunk) ? (size_t)n : sizeof(chunk);
		size_t got = fread(chunk, 1, want, in);
		if (got == 0) {
			if (fd >= 0)
				close(fd);
			return QR_ERR_INCOMPLETE;
		}
		if (fd >= 0 && !*bad && write_all(fd, chunk, got) != 0)
			*bad = true;
		n -= got;
	}
	if (fd >= 0 && close(fd) != 0)
		*bad = true;
	return 0;
}

static void
remove_temps(const struct vm_layout *q, const struct item *it,
	     const char *nonce)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < NFILES; i++)
		if (temp_path(path, q, it, nonce, files[i]) == 0)
			(void)unlink(path);
}

static void
audit(const struct vm_layout *q, const struct item *it, const char *now)
{
	char line[FRAME_LINE_MAX * 2];
	int fd, n;

	n = snprintf(line, sizeof(line), "[%s] RESULT id=%s status=%s exit=%s%s%s\n",
		     now, it->cid, it->status, it->exit_text,
		     it->anchor[0] != '\0' ? " dom0-log=" : "", it->anchor);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	fd = open(q->audit, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
		  O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	(void)write_all(fd, line, (size_t)n);
	close(fd);
}

/* Publishes one received result; the word to answer with. */
static const char *
publish(const struct vm_layout *q, const struct item *it, const char *nonce,
	bool bad, const char *now)
{
	char marker[PATH_MAX], from[PATH_MAX], to[PATH_MAX],
	     exit_line[EXIT_TEXT_MAX + 2];
	struct stat st;
	int fd;

	if (queue_marker(marker, q, it->cid, it->claim) != 0)
		bad = true;
	if (bad || lstat(marker, &st) != 0) {
		remove_temps(q, it, nonce);
		return bad ? "fail" : "gone";
	}
	snprintf(exit_line, sizeof(exit_line), "%s\n", it->exit_text);
	if (temp_path(from, q, it, nonce, "exit") != 0 ||
	    (fd = open(from, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		       O_CLOEXEC, 0600)) < 0)
		goto fail;
	if (write_all(fd, exit_line, strlen(exit_line)) != 0) {
		close(fd);
		goto fail;
	}
	close(fd);
	/* .exit last: the client takes a result once its .exit is there */
	for (size_t i = 0; i <= NFILES; i++) {
		const char *f = i < NFILES ? files[i] : "exit";
		char ext[8];
		snprintf(ext, sizeof(ext), ".%s", f);
		if (temp_path(from, q, it, nonce, f) != 0 ||
		    queue_path(to, q->results, it->cid, ext) != 0 ||
		    rename(from, to) != 0)
			goto fail;
	}
	for (size_t i = 0; i < VM_REQUEST_FILES; i++)
		if (queue_path(from, q->running, it->cid,
			       vm_request_suffix[i]) == 0)
			(void)unlink(from);
	audit(q, it, now);
	(void)unlink(marker);
	return "ok";
fail:
	remove_temps(q, it, nonce);
	if (temp_path(from, q, it, nonce, "exit") == 0)
		(void)unlink(from);
	return "fail";
}

int
deliver_run(const struct vm_layout *q, const char *nonce, FILE *in,
	    FILE *out)
{
	char line[FRAME_LINE_MAX + 2], path[PATH_MAX], now[32];
	time_t t = time(NULL);
	struct tm tm;
	size_t n, count = 0;
	int r;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return QR_ERR_SYSTEM;
	(void)mkdir_p(q->results, 0700);
	fputs("qvmr-deliver 1\n", out);
	for (;;) {
		struct item it;
		uint64_t want;
		bool bad = false;

		if ((r = read_line(in, line, &n)) != 0)
			return r;
		if (strncmp(line, "end ", 4) == 0) {
			if (parse_u64((const uint8_t *)line + 4, n - 4,
				      FETCH_REQ_MAX, &want) != 0 || want != count)
				return QR_ERR_INVALID;
			break;
		}
		if (count == FETCH_REQ_MAX || (r = parse_item(line, &it)) != 0)
			return QR_ERR_INVALID;
		for (size_t i = 0; i < NFILES; i++) {
			if ((r = temp_path(path, q, &it, nonce, files[i])) != 0 ||
			    (r = receive(in, path, it.len[i], &bad)) != 0) {
				remove_temps(q, &it, nonce);
				return r;
			}
		}
		fprintf(out, "%s %s\n", publish(q, &it, nonce, bad, now), it.cid);
		count++;
	}
	fprintf(out, "done %zu\n", count);
	return fflush(out) != 0 ? QR_ERR_SYSTEM : 0;
}
