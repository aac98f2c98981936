/*
 * call.c - feeding and reading one transport call without blocking.
 */
#include "call.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "err.h"
#include "waitset.h"
#include "banned.h"

#define FEED_CHUNK 65536

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
fail(struct call *c)
{
	c->failed = 1;
	if (!c->reaped)
		(void)kill(-c->pid, SIGKILL);
	close_fd(&c->in);
}

int
call_start(struct call *c, const struct transport *t, const char *vm,
	   const char *command, const struct buf *program,
	   struct deliver_src *src,
	   size_t reply_max, int64_t now_ms, int64_t deadline_ms)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->serial = waitset_serial();
	c->in = c->out = c->err = -1;
	buf_init(&c->pending, (size_t)FEED_CHUNK * 4 + program->len + 64);
	buf_init(&c->reply, reply_max);
	c->src = src;
	c->started_ms = now_ms;
	c->deadline_ms = deadline_ms;
	if ((r = transport_prelude(t, command, &c->pending)) != 0 ||
	    (r = buf_append(&c->pending, program->data, program->len)) != 0)
		goto fail;
	if ((r = transport_start(t, vm, command, &c->pid, &c->in, &c->out,
				 &c->err)) != 0)
		goto fail;
	return 0;
fail:
	buf_release(&c->pending);
	buf_release(&c->reply);
	return r;
}

short
call_events(const struct call *c, int fd)
{
	if (fd < 0)
		return 0;
	if (fd == c->in)
		return c->pending.len == 0 &&
		       (c->src != NULL ? program_deliver_waiting(c->src)
				       : c->keep_open) ? 0 : POLLOUT;
	return POLLIN;
}

int
call_send(struct call *c, const char *text)
{
	return c->in < 0 ? QR_ERR_SYSTEM : buf_append_str(&c->pending, text);
}

void
call_end_input(struct call *c)
{
	c->keep_open = 0;
	if (c->pending.len == 0 && c->src == NULL)
		close_fd(&c->in);
}

/* Refills pending from the generator when it runs low. */
static int
refill(struct call *c)
{
	int r;

	if (c->src == NULL || c->pending.len >= FEED_CHUNK)
		return 0;
	r = program_deliver_fill(c->src, &c->pending, FEED_CHUNK);
	if (r < 0)
		return r;
	if (r == 1)
		c->src = NULL;
	return 0;
}

static void
feed(struct call *c)
{
	ssize_t n;

	if (refill(c) != 0) {
		fail(c);
		return;
	}
	if (c->pending.len == 0) {
		if (c->src == NULL && !c->keep_open)
			close_fd(&c->in);
		return;
	}
	n = write(c->in, c->pending.data, c->pending.len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* the VM side went away early; its exit status will say why */
		close_fd(&c->in);
		return;
	}
	buf_consume(&c->pending, (size_t)n);
	if (c->pending.len == 0 && c->src == NULL && !c->keep_open)
		close_fd(&c->in);
}

static void
drain(struct call *c, int *fd, int keep)
{
	char tmp[65536];
	ssize_t n = read(*fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	if (keep && buf_append(&c->reply, tmp, (size_t)n) != 0)
		fail(c);
}

void
call_io(struct call *c, int fd, short revents)
{
	if (fd == c->in && fd >= 0) {
		if (revents & (POLLERR | POLLHUP))
			close_fd(&c->in);
		else
			feed(c);
	} else if (fd == c->out && fd >= 0) {
		drain(c, &c->out, 1);
	} else if (fd == c->err && fd >= 0) {
		drain(c, &c->err, 0);
	}
}

void
call_flush(struct call *c)
{
	if (c->in >= 0 && call_events(c, c->in) != 0)
		feed(c);
}

void
call_reaped(struct call *c, int wait_status)
{
	c->reaped = 1;
	c->status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
	/* anything the transport left behind goes with it */
	(void)kill(-c->pid, SIGKILL);
	close_fd(&c->in);
	close_fd(&c->err);
}

void
call_tick(struct call *c, int64_t now_ms)
{
	/* even a call that failed earlier (an overflow) stops reading at
	 * its deadline: an escaped descendant may hold the pipe open */
	if (now_ms >= c->deadline_ms) {
		if (!c->failed)
			fail(c);
		close_fd(&c->out);
	}
}

int
call_done(const struct call *c)
{
	return c->reaped && c->out < 0;
}

int
call_ok(const struct call *c)
{
	return call_done(c) && c->status == 0 && !c->failed;
}

void
call_free(struct call **c)
{
	if (*c == NULL)
		return;
	call_release(*c);
	free(*c);
	*c = NULL;
}

void
call_release(struct call *c)
{
	if (!c->reaped) {
		(void)kill(-c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->reaped = 1;
	}
	close_fd(&c->in);
	close_fd(&c->out);
	close_fd(&c->err);
	buf_release(&c->pending);
	buf_release(&c->reply);
}
