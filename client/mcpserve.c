/*
 * mcpserve.c - the MCP server's loop: stdin's lines to mcp_handle, its
 * replies to stdout.
 */
#include "mcpserve.h"
#include "exitcode.h"
#include "mcp.h"
#include "mcpline.h"
#include "mcptool.h"
#include "msg.h"
#include "signals.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"

#include "banned.h"

#ifndef QVMR_VERSION
#define QVMR_VERSION "unknown"
#endif

#define MCP_READ_CHUNK (64u << 10)

/* Answers one event of the line reader; 0, or QX_LOCAL when stdout
 * failed. */
static int answer(struct mcp_server *s, struct mcp_lines *l,
		  enum mcp_line_ev ev, struct buf *reply)
{
	int r = 0;

	buf_reset(reply);
	if (ev == MCP_LINE_READY)
		r = mcp_handle(s, buf_str(&l->line), l->line.len, reply);
	else if (ev == MCP_LINE_TOO_LONG)
		r = mcp_reply_too_long(reply);
	if (r != 0) {
		msg("cannot make a reply: %s", qr_strerror(r));
		return 0;    /* the next message may fare better */
	}
	if (reply->len == 0)
		return 0;
	if (buf_append(reply, "\n", 1) != 0 ||
	    write_all(STDOUT_FILENO, reply->data, reply->len) != 0) {
		msg("cannot write a reply to stdout: %s", strerror(errno));
		return QX_LOCAL;
	}
	return 0;
}

/* Waits for stdin or a signal: 1 readable, 0 a signal came, <0 error. */
static int wait_input(void)
{
	struct pollfd pfd[2];

	for (;;) {
		if (signals_caught())
			return 0;
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = signals_fd();
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return QR_ERR_SYSTEM;
		}
		if (pfd[0].revents)
			return 1;
	}
}

int mcp_serve(const struct vm_layout *p)
{
	static uint8_t in[MCP_READ_CHUNK];
	struct buf reply = BUF_INIT(MCP_REPLY_MAX + 1);
	struct mcp_backend be;
	struct mcp_server s;
	struct mcp_lines l;
	enum mcp_line_ev ev;
	size_t off, used;
	ssize_t n;
	int code = 0, w;

	if (signals_install() != 0) {
		msg("cannot set up signal handling: %s", strerror(errno));
		return QX_LOCAL;
	}
	mcptool_backend(&be, p);
	mcp_server_init(&s, &be, QVMR_VERSION);
	mcp_lines_init(&l, MCP_LINE_MAX);
	msg_verbose("mcp server on stdin and stdout, MCP %s",
		    MCP_PROTOCOL_LATEST);
	while (code == 0) {
		if ((w = wait_input()) <= 0) {
			if (w < 0)
				msg("cannot wait for stdin: %s",
				    strerror(errno));
			code = w < 0 ? QX_LOCAL : QX_SIGINT;
			break;
		}
		n = read(STDIN_FILENO, in, sizeof(in));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			msg("cannot read stdin: %s", strerror(errno));
			code = QX_LOCAL;
			break;
		}
		if (n == 0) {
			code = answer(&s, &l, mcp_lines_end(&l), &reply);
			break;
		}
		for (off = 0; off < (size_t)n && code == 0; off += used) {
			if (mcp_lines_feed(&l, in + off, (size_t)n - off,
					   &used, &ev) != 0) {
				msg("out of memory reading a message");
				code = QX_LOCAL;
				break;
			}
			code = answer(&s, &l, ev, &reply);
		}
		/* a signal during a tool call ends the server after it */
		if (code == 0 && signals_caught())
			code = QX_SIGINT;
	}
	mcp_lines_release(&l);
	buf_release(&reply);
	return code;
}
