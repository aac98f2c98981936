/*
 * peer.h - the unix user at the other end of a local TCP connection.
 *
 * Every client of the viewer is a process on this machine, and to
 * libmicrohttpd every address in 127.0.0.0/8 is a different client: one
 * process that connects from 127.0.0.2, .3 ... looks like many.  The uid
 * that owns the peer's socket is what one client is.  It is found the
 * way identd finds it: the peer's socket is the one whose local end is
 * our connection's remote end and whose remote end is our local end, in
 * /proc/self/net/tcp or tcp6 (proctcp.h), whatever loopback address
 * either side uses.  /proc/self/net, not /proc/net, because it stays
 * visible with the unit's ProcSubset=pid.
 */
#ifndef QVMR_WEBUI_PEER_H
#define QVMR_WEBUI_PEER_H

#include <stdint.h>

/* The most of each file read; past it the owner counts as not found. */
#define PEER_PROC_MAX (32u << 20)
#define PEER_NETDIR "/proc/self/net"

/*
 * The uid owning the other end of the connected TCP socket fd, from
 * netdir/tcp and netdir/tcp6 (PEER_NETDIR; another directory for the
 * tests).  An IPv4 peer is looked for in both files (a client's IPv6
 * socket may connect to a v4-mapped address), an IPv6 one in tcp6.
 * 0 with *uid; QR_ERR_NOT_FOUND when no local socket owns the peer (a
 * peer on another machine, or one that closed at once); QR_ERR_SYSTEM
 * when a file could not be read (errno set); QR_ERR_INVALID when fd is
 * not a TCP/IP socket.  Blocks only on reading the files.
 */
int peer_uid(int fd, const char *netdir, uint32_t *uid);

#endif
