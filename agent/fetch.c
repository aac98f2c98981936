/*
 * fetch.c - claim requests from pending/ and send them to dom0.
 */
#include "fetch.h"
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "agentwire.h"
#include "cid.h"
#include "err.h"
#include "grow.h"
#include "frame.h"

#include "banned.h"

#define NAMES_MAX 65536u   /* tokens considered in one fetch */

/* The line lib/frame.h's writers fill before agent_emit() sends it. */
static struct buf line = BUF_INIT(FRAME_LINE_MAX + 2);

struct buf *
agent_line(void)
{
	return &line;
}

int
agent_emit(FILE *out, int r)
{
	if (r == 0 && fwrite(line.data, 1, line.len, out) != line.len)
		r = QR_ERR_SYSTEM;
	buf_reset(&line);
	return r;
}

int
fetch_args_parse(struct fetch_args *a, int argc, char **argv)
{
	struct agentwire_fetch w;

	memset(a, 0, sizeof(*a));
	a->wake_fd = -1;
	if (argc < 0 || agentwire_decode_args(&w, (size_t)argc,
					      (const char *const *)argv) != 0)
		return QR_ERR_INVALID;
	fetch_args_set(a, &w, argv + 5);
	return 0;
}

void
fetch_args_set(struct fetch_args *a, const struct agentwire_fetch *w,
	       char *const *release)
{
	a->prefix = w->prefix;
	a->wait_s = w->wait_s;
	a->max_requests = w->max_requests;
	a->max_bytes = w->max_bytes;
	a->claim = w->claim;
	a->release = release;
	a->nrelease = w->nrelease;
}

int
fetch_args_check(const struct fetch_args *a)
{
	struct agentwire_fetch w = {
		.prefix = a->prefix, .wait_s = a->wait_s,
		.max_requests = a->max_requests, .max_bytes = a->max_bytes,
		.claim = a->claim, .release = (const char *const *)a->release,
		.nrelease = a->nrelease,
	};

	return agentwire_fetch_valid(&w) ? 0 : QR_ERR_INVALID;
}

/*
 * Puts back a claim that never ran: the marker is renamed aside first, so
 * of two overlapping releases only one moves files, and the token goes
 * back last, as a client writes it.
 */
static void
release(const struct vm_layout *q, const char *cid, const char *claim)
{
	char marker[PATH_MAX], aside[PATH_MAX], to[PATH_MAX],
	     name[CID_MAX + CLAIM_MAX + 16];

	snprintf(name, sizeof(name), ".rel.%s.%s", cid, claim);
	if (queue_marker(marker, q, cid, claim) != 0 ||
	    queue_path(aside, q->running, name, "") != 0 ||
	    rename(marker, aside) != 0)
		return;
	queue_move_request(q->running, q->pending, cid);
	/* a note said what dom0 did with the claim it gave up */
	if (queue_path(to, q->running, cid, VM_NOTE) == 0)
		(void)unlink(to);
	if (queue_path(to, q->pending, cid, VM_TOKEN) == 0)
		(void)rename(aside, to);
}

/* Sends one part: its bytes when within the limit, else just its size. */
static int
send_part(FILE *out, enum part_kind k, const char *path, uint64_t *sent)
{
	char chunk[65536];
	struct stat st;
	uint64_t left;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int r = 0;

	if (fd < 0)
		return 0;          /* absent: the part is not sent */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	left = (uint64_t)st.st_size;
	if (left > part_kind_max(k)) {
		r = agent_emit(out, frame_put_big(agent_line(), k, left));
		goto out;
	}
	if ((r = agent_emit(out, frame_put_part_header(agent_line(), k,
							left))) != 0)
		goto out;
	*sent += left;
	while (left > 0) {
		ssize_t n = read(fd, chunk, left < sizeof(chunk) ? left
							       : sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {      /* it shrank under us: the reply is spoilt */
			r = QR_ERR_INCOMPLETE;
			goto out;
		}
		fwrite(chunk, 1, (size_t)n, out);
		left -= (uint64_t)n;
	}
	fputc('\n', out);
out:
	close(fd);
	return r;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files "<cid>.auth" in pending/, sorted (oldest cid first);
 * *skipped counts the "*.auth" names that are not requests. */
static void
list_tokens(DIR *d, char ***names, size_t *n, uint64_t *skipped)
{
	struct dirent *de;
	char **v = NULL, **w;
	size_t cap = 0;
	struct stat st;

	*n = 0;
	while ((de = readdir(d)) != NULL && *n < NAMES_MAX) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 ||
		    strcmp(de->d_name + len - 5, VM_TOKEN) != 0 ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (!queue_token_name(de->d_name)) {
			(*skipped)++;
			continue;
		}
		if ((w = grow_array(v, &cap, *n, sizeof(*v), 64)) == NULL)
			break;
		v = w;
		if ((v[*n] = strdup(de->d_name)) == NULL)
			break;
		(*n)++;
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), by_name);
	*names = v;
}

/* Claims one request and sends it; 1 when it was not there to claim. */
static int
send_request(FILE *out, const struct vm_layout *q, const struct fetch_args *a,
	     const char *token, unsigned index, uint64_t *sent)
{
	char cid[CID_MAX + 1], claim[CLAIM_MAX + 1], from[PATH_MAX],
	     auth[PATH_MAX];
	const char *dir = a->claim ? q->running : q->pending;
	size_t nc = strlen(token) - 5;
	int r = 0;

	memcpy(cid, token, nc);
	cid[nc] = '\0';
	snprintf(claim, sizeof(claim), "%s-%u", a->prefix, index);
	if (queue_path(from, q->pending, token, "") != 0)
		return 1;
	if (a->claim) {
		if (queue_marker(auth, q, cid, claim) != 0 ||
		    rename(from, auth) != 0)
			return 1;
		queue_move_request(q->pending, q->running, cid);
	} else {
		memcpy(auth, from, sizeof(auth));
	}
	if ((r = agent_emit(out, frame_put_request(agent_line(), cid,
						   claim))) != 0)
		return r;
	if (queue_path(from, dir, cid, "") != 0 ||
	    (r = send_part(out, PART_BODY, from, sent)) != 0 ||
	    queue_path(from, dir, cid, VM_OPTIONS) != 0 ||
	    (r = send_part(out, PART_OPT, from, sent)) != 0 ||
	    queue_path(from, dir, cid, VM_INPUT) != 0 ||
	    (r = send_part(out, PART_IN, from, sent)) != 0 ||
	    (r = send_part(out, PART_AUTH, auth, sent)) != 0)
		return r < 0 ? r : QR_ERR_TOO_LARGE;
	return agent_emit(out, frame_put_end(agent_line()));
}

/* Every claim marker in running/, so dom0 can find claims whose reply
 * was lost. */
static void
send_held(FILE *out, const struct vm_layout *q)
{
	char cid[CID_MAX + 1], claim[CLAIM_MAX + 1];
	DIR *d = opendir(q->running);
	struct dirent *de;
	struct stat st;
	unsigned h = 0;

	if (d == NULL)
		return;
	while (h < FETCH_HELD_MAX && (de = readdir(d)) != NULL)
		if (queue_marker_name(de->d_name, cid, claim) &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode)) {
			(void)agent_emit(out, frame_put_held(agent_line(),
							     cid, claim));
			h++;
		}
	closedir(d);
}

int
fetch_run(const struct vm_layout *q, const struct fetch_args *a, FILE *out)
{
	char **names = NULL;
	size_t nnames = 0;
	uint64_t skipped = 0, sent = 0;
	unsigned n = 0;
	DIR *d = NULL;
	bool woken = false;
	int r = 0;

	for (size_t i = 0; i < a->nrelease; i++)
		release(q, a->release[2 * i], a->release[2 * i + 1]);
	if (a->wait_s > 0)
		woken = wait_for_request(q, a->wait_s, a->wake_fd) ==
			WAIT_WOKEN;
	/* the header goes out after the wait: if dom0 gave up on this call
	 * meanwhile, the write fails and nothing is claimed */
	if (frame_put_fetch_header(agent_line()) != 0 ||
	    agent_emit(out, frame_put_agent(agent_line(), AGENT_LEVEL)) != 0 ||
	    fflush(out) != 0)
		return QR_ERR_SYSTEM;
	/* woken, dom0 has results to send or is gone: it fetches again
	 * after them, and a request is claimed only where it is sure to be
	 * read */
	if (woken)
		goto held;
	if ((d = opendir(q->pending)) == NULL ||
	    (a->claim && mkdir(q->running, 0700) != 0 && errno != EEXIST))
		goto done;
	list_tokens(d, &names, &nnames, &skipped);
	for (size_t i = 0; i < nnames && r == 0; i++) {
		struct stat st;
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    st.st_size < TOKEN_MIN)
			continue;
		if (n >= a->max_requests || sent >= a->max_bytes)
			break;
		r = send_request(out, q, a, names[i], n, &sent);
		if (r == 0)
			n++;
		else if (r == 1)
			r = 0;
	}
held:
	if (r == 0 && a->claim)
		send_held(out, q);
	if (r == 0 && skipped > 0)
		r = agent_emit(out, frame_put_skip(agent_line(), skipped));
done:
	if (r == 0)
		r = agent_emit(out, frame_put_done(agent_line(), n));
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (d != NULL)
		closedir(d);
	if (fflush(out) != 0 || ferror(out))
		return r != 0 ? r : QR_ERR_SYSTEM;
	return r;
}
