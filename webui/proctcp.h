/*
 * proctcp.h - who owns a local TCP socket, read from the text of
 * /proc/net/tcp and /proc/net/tcp6, the way identd answers (pure: bytes
 * in, answer out, no I/O).
 *
 * The kernel writes a header line, then one line per socket:
 *
 *    sl  local_address rem_address   st tx_queue rx_queue tr tm->when
 *        retrnsmt   uid  timeout inode ...
 *     3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 00:00000000
 *        00000000  1000        0 34567 1 0000000000000000 20 4 30 10 -1
 *
 * (one line each in the file).  An IPv4 address is its 32-bit value in
 * network byte order printed as the machine reads it (%08X), an IPv6
 * address four such words, a port the port number in hex.  The uid is
 * the socket's owner as this process's user namespace sees it.
 *
 * The text is the kernel's, but it is read as untrusted all the same:
 * every field has its width or a maximum, nothing is read past the
 * length given, and a line that does not parse is skipped, never
 * repaired.  Addresses compare in one form, IPv4 as ::ffff:a.b.c.d, so a
 * socket in tcp6 with a v4-mapped address and one in tcp compare alike.
 */
#ifndef QVMR_WEBUI_PROCTCP_H
#define QVMR_WEBUI_PROCTCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PROCTCP_LINE_MAX 512u   /* a socket line is about 150 bytes */

/* TCP states the kernel prints in "st" (include/net/tcp_states.h) */
#define PROCTCP_TIME_WAIT 0x06u
#define PROCTCP_NEW_SYN_RECV 0x0cu

struct tcp_endpoint {
	unsigned char addr[16];         /* IPv4 as ::ffff:a.b.c.d */
	uint16_t port;
};

struct proctcp_entry {
	struct tcp_endpoint local, remote;
	unsigned state;
	uint32_t uid;
	uint64_t inode;
};

/*
 * One line without its '\n' (len bytes; NUL bytes are just bytes).  v6
 * says which file it came from: 32 hex digits per address, else 8.
 * 0, or QR_ERR_INVALID (the header line is invalid too); *e is written
 * only on success.
 */
int proctcp_parse_line(const char *untrusted_line, size_t len, int v6,
		       struct proctcp_entry *e);

/*
 * Looks through the complete ('\n'-terminated) lines of text for the
 * socket that is the other end of our connection: its local end is peer
 * and its remote end is self.  A socket in TIME_WAIT, a request socket
 * or one without an inode has no owner and is passed over.  *used is set
 * to the bytes of the complete lines looked at, so a reader that gets the
 * file in pieces keeps the rest for the next call; a line longer than
 * PROCTCP_LINE_MAX is looked at as invalid.
 * 0 with *uid, or QR_ERR_NOT_FOUND.
 */
int proctcp_owner(const char *untrusted_text, size_t len, int v6,
		  const struct tcp_endpoint *peer,
		  const struct tcp_endpoint *self, uint32_t *uid,
		  size_t *used);

/*
 * The endpoint of an AF_INET or AF_INET6 address (len bytes).  0, or
 * QR_ERR_INVALID for another family or a short length.
 */
int tcp_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t len,
			       struct tcp_endpoint *ep);

/* 1 when the endpoint is an IPv4 address (::ffff:a.b.c.d). */
int tcp_endpoint_is_v4(const struct tcp_endpoint *ep);

#endif
