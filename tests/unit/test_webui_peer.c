/*
 * test_webui_peer.c - the uid at the other end of real loopback
 * connections: from 127.0.0.2 as from 127.0.0.1, from an IPv6 socket to
 * a v4-mapped address, over ::1, from another user; and a /proc that
 * cannot be read, or whose lines are cut across reads.
 */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"
#include "tmptree.h"
#include "banned.h"

struct conn {
	int lfd, cfd, afd;      /* listener, client, accepted */
};

static int
listener(int family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		int on = 1;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
		if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			return -1;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		goto bound;
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
bound:
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 8) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A client socket of family cfam from src (NULL: any) to the listener. */
static int
client(int lfd, int cfam, const char *src)
{
	struct sockaddr_storage to, from;
	socklen_t len = sizeof(to);
	int fd;

	assert_int_equal(getsockname(lfd, (struct sockaddr *)&to, &len), 0);
	if (cfam == AF_INET6 && to.ss_family == AF_INET) {
		/* an IPv6 socket to ::ffff:127.0.0.1 */
		struct sockaddr_in v4;
		struct sockaddr_in6 *m = (struct sockaddr_in6 *)&to;

		memcpy(&v4, &to, sizeof(v4));
		memset(m, 0, sizeof(*m));
		m->sin6_family = AF_INET6;
		m->sin6_port = v4.sin_port;
		m->sin6_addr.s6_addr[10] = 0xff;
		m->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
		len = sizeof(*m);
	}
	if ((fd = socket(cfam, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (src != NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&from;

		memset(&from, 0, sizeof(from));
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, src, &s4->sin_addr), 1);
		assert_int_equal(bind(fd, (struct sockaddr *)s4, sizeof(*s4)), 0);
	}
	if (connect(fd, (struct sockaddr *)&to, len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
conn_open(struct conn *c, int lfam, int cfam, const char *src)
{
	c->lfd = listener(lfam);
	assert_true(c->lfd >= 0);
	c->cfd = client(c->lfd, cfam, src);
	assert_true(c->cfd >= 0);
	c->afd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->afd >= 0);
}

static void
conn_close(struct conn *c)
{
	close(c->afd);
	close(c->cfd);
	close(c->lfd);
}

static void
test_v4_any_loopback_address(void **state)
{
	static const char *const src[] = { NULL, "127.0.0.2", "127.0.0.40",
					   "127.255.0.9" };
	struct conn c;
	uint32_t uid;
	size_t i;

	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		conn_open(&c, AF_INET, AF_INET, src[i]);
		uid = 12345;
		assert_int_equal(peer_uid(c.afd, PEER_NETDIR, &uid), 0);
		assert_int_equal(uid, (uint32_t)geteuid());
		conn_close(&c);
	}
}

/* An IPv6 client socket to 127.0.0.1 is found in tcp6, v4-mapped. */
static void
test_v4_mapped_client(void **state)
{
	struct conn c;
	uint32_t uid = 12345;

	conn_open(&c, AF_INET, AF_INET6, NULL);
	assert_int_equal(peer_uid(c.afd, PEER_NETDIR, &uid), 0);
	assert_int_equal(uid, (uint32_t)geteuid());
	conn_close(&c);
}

static void
test_v6_loopback(void **state)
{
	struct conn c;
	uint32_t uid = 12345;

	if ((c.lfd = listener(AF_INET6)) < 0) {
		skip();
		return;
	}
	close(c.lfd);
	conn_open(&c, AF_INET6, AF_INET6, NULL);
	assert_int_equal(peer_uid(c.afd, PEER_NETDIR, &uid), 0);
	assert_int_equal(uid, (uint32_t)geteuid());
	conn_close(&c);
}

/* The owner is the other end's user, not ours. */
static void
test_other_user(void **state)
{
	int lfd, afd, go[2], ready[2], st;
	uint32_t uid = 12345;
	pid_t pid;
	char b;

	if (geteuid() != 0) {
		skip();         /* it takes root to be another user */
		return;
	}
	assert_true((lfd = listener(AF_INET)) >= 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		int fd;

		/* a failed parent ends this child: read() sees the pipe end */
		close(go[1]);
		close(ready[0]);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		/* the socket is made as that user, which is what counts */
		if ((fd = client(lfd, AF_INET, "127.0.0.5")) < 0)
			_exit(3);
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &b, 1);
		_exit(0);
	}
	assert_true(pid > 0);
	close(go[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &b, 1), 1);
	assert_true((afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	assert_int_equal(peer_uid(afd, PEER_NETDIR, &uid), 0);
	assert_int_equal(uid, 65534);
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(afd);
	close(lfd);
	close(go[1]);
	close(ready[0]);
}

/* /proc/net/tcp as the kernel writes the line of fd's other end. */
static int
kernel_line(char *out, size_t n, int fd, unsigned uid)
{
	struct sockaddr_in peer, self;
	socklen_t a = sizeof(peer), b = sizeof(self);
	uint32_t pa, sa;

	if (getpeername(fd, (struct sockaddr *)&peer, &a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &b) != 0)
		return -1;
	memcpy(&pa, &peer.sin_addr, 4);
	memcpy(&sa, &self.sin_addr, 4);
	return snprintf(out, n, "%4d: %08X:%04X %08X:%04X 01 00000000:00000000 "
			"00:00000000 00000000 %5u        0 99999 1 "
			"0000000000000000 20 4 30 10 -1\n", 9, pa,
			ntohs(peer.sin_port), sa, ntohs(self.sin_port), uid);
}

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/*
 * The file is read in pieces: the line sought comes after many others,
 * cut across reads, and after one line longer than any read.  It is the
 * file that speaks: the uid there is the one returned.
 */
static void
test_pieces_and_overlong(void **state)
{
	static char text[64 << 10];
	char dir[64], line[256];
	struct conn c;
	size_t len = 0;
	uint32_t uid = 0;
	int i;

	assert_int_equal(tmptree_make(dir, sizeof(dir), "qvmr-peer"), 0);
	conn_open(&c, AF_INET, AF_INET, "127.0.0.7");
	len += (size_t)snprintf(text, sizeof(text), "  sl  local_address "
				"rem_address ...\n");
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
			"%4d: 0100007F:%04X 0100007F:22C2 01 00000000:00000000 "
			"00:00000000 00000000  1000        0 %d 1 "
			"0000000000000000 20 4 30 10 -1\n", i, 1000 + i,
			5000 + i);
	memset(text + len, 'x', 9000);
	len += 9000;
	text[len++] = '\n';
	assert_true(kernel_line(line, sizeof(line), c.afd, 4242) > 0);
	memcpy(text + len, line, strlen(line));
	len += strlen(line);
	write_file(dir, "tcp", text, len);
	write_file(dir, "tcp6", "", 0);
	assert_int_equal(peer_uid(c.afd, dir, &uid), 0);
	assert_int_equal(uid, 4242);

	/* the line without its '\n' at the end of the file: not whole */
	write_file(dir, "tcp", text, len - 1);
	assert_int_equal(peer_uid(c.afd, dir, &uid), QR_ERR_NOT_FOUND);
	conn_close(&c);
	tmptree_remove(dir);
}

/* /proc that cannot be read: an error, which the server counts as
 * the shared unknown client. */
static void
test_unreadable(void **state)
{
	char dir[64];
	struct conn c;
	uint32_t uid = 7;
	int sv[2];

	assert_int_equal(tmptree_make(dir, sizeof(dir), "qvmr-peer"), 0);
	conn_open(&c, AF_INET, AF_INET, NULL);
	assert_int_equal(peer_uid(c.afd, dir, &uid), QR_ERR_SYSTEM);
	assert_int_equal(uid, 7);
	/* tcp there but no tcp6, and the peer not in tcp: still an error */
	write_file(dir, "tcp", "", 0);
	assert_int_equal(peer_uid(c.afd, dir, &uid), QR_ERR_SYSTEM);
	/* both there, the peer in neither */
	write_file(dir, "tcp6", "", 0);
	assert_int_equal(peer_uid(c.afd, dir, &uid), QR_ERR_NOT_FOUND);
	conn_close(&c);
	/* not a TCP/IP socket */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(peer_uid(sv[0], PEER_NETDIR, &uid), QR_ERR_INVALID);
	close(sv[0]);
	close(sv[1]);
	tmptree_remove(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_any_loopback_address),
		cmocka_unit_test(test_v4_mapped_client),
		cmocka_unit_test(test_v6_loopback),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_pieces_and_overlong),
		cmocka_unit_test(test_unreadable),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
