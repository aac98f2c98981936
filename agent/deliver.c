/*
 * deliver.c - publish the results dom0 sends into results/.
 */
#include "deliver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "agentwire.h"
#include "cid.h"
#include "err.h"
#include "fetch.h"
#include "fileio.h"
#include "frame.h"
#include "incoming.h"
#include "live.h"

#include "banned.h"

static const char *const files[] = { "out", "err", "meta" };
#define NFILES (sizeof(files) / sizeof(*files))

bool
deliver_nonce_valid(const char *nonce)
{
	size_t n = strlen(nonce);

	return n > 0 && n <= CLAIM_MAX &&
	       strspn(nonce, "0123456789abcdef-") == n;
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

static int
temp_path(char out[PATH_MAX], const struct vm_layout *q,
	  const struct agentwire_item *it, const char *nonce, const char *file)
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
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
		      O_CLOEXEC, 0600), r;

	if (fd < 0)
		*bad = true;
	r = incoming_copy(in, fd, 0, 0, n, bad);
	if (fd >= 0 && close(fd) != 0)
		*bad = true;
	return r;
}

static void
remove_temps(const struct vm_layout *q, const struct agentwire_item *it,
	     const char *nonce)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < NFILES; i++)
		if (temp_path(path, q, it, nonce, files[i]) == 0)
			(void)unlink(path);
}

/* Whether an item continues the VM's live files (protocol.md 6b). */
static bool
continues(const struct agentwire_item *it)
{
	return it->from[0] != 0 || it->from[1] != 0;
}

/* Whether the claim marker of it's request exists. */
static bool
held(const struct vm_layout *q, const struct agentwire_item *it)
{
	char marker[PATH_MAX];
	struct stat st;

	return queue_marker(marker, q, it->cid, it->claim) == 0 &&
	       lstat(marker, &st) == 0;
}

/* Whether history/<day>/<cid>/exit exists. */
static bool
in_history(const struct vm_layout *q, const char *day, const char *cid)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/%s/%s/exit", q->history, day,
			 cid);

	return day[0] != '.' && n > 0 && (size_t)n < sizeof(path) &&
	       lstat(path, &st) == 0;
}

/*
 * Whether the VM has cid's result already: results/<cid>.exit, or
 * history/<day>/<cid>/exit where a client moved it.  This client names
 * the day by the cid, the original client by its clock when it took the
 * result: those days are looked at (the cid's, today's in UTC and local
 * time), and with every_day all the others too.
 */
static bool
has_result(const struct vm_layout *q, const char *cid, bool every_day)
{
	char path[PATH_MAX], day[3][16];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	struct tm tm;
	bool found = false;
	DIR *d;

	if (queue_path(path, q->results, cid, ".exit") == 0 &&
	    lstat(path, &st) == 0)
		return true;
	memset(day, 0, sizeof(day));
	if (!cid_is_ping(cid, strlen(cid)))
		snprintf(day[0], sizeof(day[0]), "%.4s-%.2s-%.2s", cid,
			 cid + 4, cid + 6);
	if (gmtime_r(&now, &tm) != NULL)
		(void)strftime(day[1], sizeof(day[1]), "%Y-%m-%d", &tm);
	if (localtime_r(&now, &tm) != NULL)
		(void)strftime(day[2], sizeof(day[2]), "%Y-%m-%d", &tm);
	for (size_t i = 0; i < 3 && !found; i++)
		found = day[i][0] != '\0' && in_history(q, day[i], cid);
	if (found || !every_day || (d = opendir(q->history)) == NULL)
		return found;
	while (!found && (de = readdir(d)) != NULL)
		found = in_history(q, de->d_name, cid);
	closedir(d);
	return found;
}

/*
 * Whether a result is delivered already: the VM has a result of its cid
 * (one per cid), whatever the claim marker says.  A marker a deliver
 * killed after publishing left behind does not publish it again; a marker
 * removed in the VM with no result there (the original client removes
 * queue files an hour old at each start, and all of them with `queue
 * clean`) does not lose it.
 */
static bool
delivered(const struct vm_layout *q, const struct agentwire_item *it)
{
	/* every day only for a claim gone: the original client's case,
	 * not the path of each result */
	return has_result(q, it->cid, !held(q, it));
}

/*
 * Receives an item's files into their temporaries: out and err from the
 * live files when it continues them, else whole.  A result that continues
 * live files and was delivered already is only read: the live files went
 * with its first publishing, and nothing is touched (*gone).  Live files
 * removed in the VM are a gap: "fail", and dom0 sends the result whole.
 */
static int
receive_item(FILE *in, const struct vm_layout *q,
	     const struct agentwire_item *it, const char *nonce, bool *bad,
	     bool *gone)
{
	char path[PATH_MAX];
	int r = 0;

	*gone = continues(it) && delivered(q, it);
	for (size_t i = 0; i < NFILES && r == 0; i++) {
		if (*gone)
			r = incoming_copy(in, -1, 0, 0, it->len[i], bad);
		else if ((r = temp_path(path, q, it, nonce, files[i])) != 0)
			break;
		else if (i < 2 && it->from[i] > 0)
			r = live_finish(in, q, it->cid, (int)i, it->from[i],
					it->len[i], path, bad);
		else
			r = receive(in, path, it->len[i], bad);
	}
	if (r != 0)
		remove_temps(q, it, nonce);
	return r;
}

static void
audit(const struct vm_layout *q, const struct agentwire_item *it, const char *now)
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

/* A note (docs/protocol.md section 5b): what dom0 says of a request it
 * still holds, not its result. */
static bool
is_note(const struct agentwire_item *it)
{
	return strcmp(it->status, "asking") == 0 ||
	       strcmp(it->status, "approved") == 0 ||
	       strcmp(it->status, "started") == 0;
}

/*
 * Writes a received note to running/<cid>.note, only while the claim is
 * held: its .meta temporary is renamed there (the same file system, the
 * queue's); the marker, results/ and audit.log are left alone.  A note
 * with output is not one dom0 makes: refused.
 */
static enum deliver_status
publish_note(const struct vm_layout *q, const struct agentwire_item *it,
	     const char *nonce, bool bad)
{
	char marker[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	struct stat st;
	enum deliver_status s = DELIVER_OK;

	if (it->len[0] != 0 || it->len[1] != 0 || continues(it) ||
	    queue_marker(marker, q, it->cid, it->claim) != 0)
		bad = true;
	if (bad)
		s = DELIVER_FAIL;
	else if (lstat(marker, &st) != 0)
		s = DELIVER_GONE;
	else if (temp_path(from, q, it, nonce, "meta") != 0 ||
		 queue_path(to, q->running, it->cid, VM_NOTE) != 0 ||
		 rename(from, to) != 0)
		s = DELIVER_FAIL;
	remove_temps(q, it, nonce);
	return s;
}

/* The request's files in running/ go, its RESULT line is logged (now
 * not NULL), and its claim marker goes last. */
static void
unclaim(const struct vm_layout *q, const struct agentwire_item *it,
	const char *marker, const char *now)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < VM_REQUEST_FILES; i++)
		if (queue_path(path, q->running, it->cid,
			       vm_request_suffix[i]) == 0)
			(void)unlink(path);
	if (queue_path(path, q->running, it->cid, VM_NOTE) == 0)
		(void)unlink(path);
	live_remove(q, it->cid);
	if (now != NULL)
		audit(q, it, now);
	(void)unlink(marker);
}

/* A result the VM has already: a claim left behind (a deliver killed
 * after its .exit, a replayed id) goes, without a second RESULT line. */
static enum deliver_status
forget_claim(const struct vm_layout *q, const struct agentwire_item *it)
{
	char marker[PATH_MAX];
	struct stat st;

	if (queue_marker(marker, q, it->cid, it->claim) == 0 &&
	    lstat(marker, &st) == 0)
		unclaim(q, it, marker, NULL);
	return DELIVER_GONE;
}

/* A refused ping (status "dropped", lib/frame.h level 6): its claim goes
 * and no result is written, so the original client's ping, which looks
 * only for results/<cid>.exit, reads "NOT responding". */
static bool
is_dropped(const struct agentwire_item *it)
{
	return strcmp(it->status, DELIVER_DROPPED) == 0;
}

static enum deliver_status
drop_claim(const struct vm_layout *q, const struct agentwire_item *it,
	   const char *nonce, const char *now)
{
	char marker[PATH_MAX];
	struct stat st;

	remove_temps(q, it, nonce);
	if (queue_marker(marker, q, it->cid, it->claim) != 0)
		return DELIVER_FAIL;
	if (lstat(marker, &st) != 0)
		return DELIVER_GONE;
	unclaim(q, it, marker, now);
	return DELIVER_OK;
}

/* Publishes one received result; what to answer. */
static enum deliver_status
publish(const struct vm_layout *q, const struct agentwire_item *it, const char *nonce,
	bool bad, const char *now)
{
	char marker[PATH_MAX], from[PATH_MAX], to[PATH_MAX],
	     exit_line[AGENTWIRE_EXIT_MAX + 2];
	int fd;

	if (queue_marker(marker, q, it->cid, it->claim) != 0)
		bad = true;
	if (bad || delivered(q, it)) {
		remove_temps(q, it, nonce);
		return bad ? DELIVER_FAIL : forget_claim(q, it);
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
	/* .exit last: the client takes a result once its .exit is there,
	 * and no note says otherwise by then */
	for (size_t i = 0; i <= NFILES; i++) {
		const char *f = i < NFILES ? files[i] : "exit";
		char ext[8];
		snprintf(ext, sizeof(ext), ".%s", f);
		if (i == NFILES &&
		    queue_path(to, q->running, it->cid, VM_NOTE) == 0)
			(void)unlink(to);
		if (temp_path(from, q, it, nonce, f) != 0 ||
		    queue_path(to, q->results, it->cid, ext) != 0 ||
		    rename(from, to) != 0)
			goto fail;
	}
	unclaim(q, it, marker, now);
	return DELIVER_OK;
fail:
	remove_temps(q, it, nonce);
	if (temp_path(from, q, it, nonce, "exit") == 0)
		(void)unlink(from);
	return DELIVER_FAIL;
}

int
deliver_run(const struct vm_layout *q, const char *nonce, FILE *in,
	    FILE *out)
{
	char line[FRAME_LINE_MAX + 2], now[32];
	time_t t = time(NULL);
	struct tm tm;
	size_t n, count = 0;
	int r;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return QR_ERR_SYSTEM;
	(void)mkdir_p(q->results, 0700);
	if (agent_emit(out, frame_put_deliver_header(agent_line())) != 0)
		return QR_ERR_SYSTEM;
	for (;;) {
		struct agentwire_item it;
		struct agentwire_live live;
		enum deliver_status st;
		uint64_t want;
		bool bad = false, gone;
		int kind;

		if ((r = read_line(in, line, &n)) != 0)
			return r;
		if ((kind = agentwire_decode_deliver(line, n, &it, &live,
						     &want)) < 0)
			return QR_ERR_INVALID;
		if (kind == AGENTWIRE_ENDS) {
			if (want != count)
				return QR_ERR_INVALID;
			break;
		}
		if (count == FETCH_REQ_MAX)
			return QR_ERR_INVALID;
		if (kind == AGENTWIRE_LIVE) {
			st = live_part(in, q, &live, &r);
		} else {
			if ((r = receive_item(in, q, &it, nonce, &bad,
					      &gone)) != 0)
				return r;
			st = gone ? forget_claim(q, &it)
			     : is_dropped(&it) ? drop_claim(q, &it, nonce, now)
			     : is_note(&it) ? publish_note(q, &it, nonce, bad)
					    : publish(q, &it, nonce, bad, now);
		}
		if (r != 0)
			return r;
		if (agent_emit(out, frame_put_status(agent_line(), st,
						     kind == AGENTWIRE_LIVE
						     ? live.cid : it.cid)) != 0)
			return QR_ERR_SYSTEM;
		count++;
	}
	if (agent_emit(out, frame_put_done(agent_line(), count)) != 0)
		return QR_ERR_SYSTEM;
	return fflush(out) != 0 ? QR_ERR_SYSTEM : 0;
}
