/*
 * peer.c - the uid at the other end of a local TCP connection.
 */
#include "peer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "proctcp.h"
#include "banned.h"

/* Room for a few lines; a line longer than the parser takes never fits. */
#define PEER_CHUNK (4 * PROCTCP_LINE_MAX)

/* One file, read in pieces with the partial last line kept. */
static int
scan_file(const char *netdir, const char *name, int v6,
	  const struct tcp_endpoint *peer, const struct tcp_endpoint *self,
	  uint32_t *uid)
{
	char path[256], chunk[PEER_CHUNK];
	size_t have = 0, used, total = 0;
	int fd, r = QR_ERR_NOT_FOUND, skipping = 0;
	ssize_t got;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", netdir, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return QR_ERR_SYSTEM;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return QR_ERR_SYSTEM;
	for (;;) {
		got = read(fd, chunk + have, sizeof(chunk) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = QR_ERR_SYSTEM;
			break;
		}
		if (got == 0)
			break;      /* a last line without '\n' is not whole */
		have += (size_t)got;
		total += (size_t)got;
		if (skipping) {
			/* the rest of an overlong line, up to its end */
			const char *nl = memchr(chunk, '\n', have);

			if (nl == NULL) {
				have = 0;
				goto next;
			}
			used = (size_t)(nl - chunk) + 1;
			memmove(chunk, chunk + used, have - used);
			have -= used;
			skipping = 0;
		}
		if (proctcp_owner(chunk, have, v6, peer, self, uid, &used) == 0) {
			r = 0;
			break;
		}
		memmove(chunk, chunk + used, have - used);
		have -= used;
		if (have == sizeof(chunk)) {
			/* no line ends in a full chunk: not one of the kernel's */
			have = 0;
			skipping = 1;
		}
next:
		if (total > PEER_PROC_MAX)
			break;
	}
	(void)close(fd);
	return r;
}

int
peer_uid(int fd, const char *netdir, uint32_t *uid)
{
	struct sockaddr_storage ss_peer, ss_self;
	socklen_t lp = sizeof(ss_peer), ls = sizeof(ss_self);
	struct tcp_endpoint peer, self;
	int r;

	if (getpeername(fd, (struct sockaddr *)&ss_peer, &lp) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss_self, &ls) != 0)
		return QR_ERR_SYSTEM;
	if (tcp_endpoint_from_sockaddr((struct sockaddr *)&ss_peer, lp,
				       &peer) != 0 ||
	    tcp_endpoint_from_sockaddr((struct sockaddr *)&ss_self, ls,
				       &self) != 0)
		return QR_ERR_INVALID;
	if (tcp_endpoint_is_v4(&peer)) {
		r = scan_file(netdir, "tcp", 0, &peer, &self, uid);
		if (r != QR_ERR_NOT_FOUND)
			return r;
	}
	return scan_file(netdir, "tcp6", 1, &peer, &self, uid);
}
