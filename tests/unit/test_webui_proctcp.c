/*
 * test_webui_proctcp.c - reading who owns a socket from /proc/net/tcp
 * and tcp6 text: both address forms, the v4-mapped form, the other end
 * of a loopback connection, and lines that must not parse.
 */
#include "proctcp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"
#include "banned.h"

/* The kernel prints the 32-bit words as this machine reads them; the
 * literal lines below are those of a little-endian machine (x86). */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the sample lines are little-endian: add big-endian ones"
#endif

#define V4_HEADER "  sl  local_address rem_address   st tx_queue rx_queue " \
	"tr tm->when retrnsmt   uid  timeout inode"
/* 127.0.0.2:54180 -> 127.0.0.1:8898, uid 1000, established */
#define V4_CLIENT "   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 " \
	"00:00000000 00000000  1000        0 34567 1 0000000000000000 20 4 " \
	"30 10 -1                    "
/* the server's side of the same connection, uid 0 */
#define V4_SERVER "   4: 0100007F:22C2 0200007F:D3A4 01 00000000:00000000 " \
	"00:00000000 00000000     0        0 34568 1 0000000000000000 20 4 " \
	"29 10 -1                    "
#define V4_LISTEN "   0: 0100007F:22C2 00000000:0000 0A 00000000:00000000 " \
	"00:00000000 00000000     0        0 174 1 00000000a9f420fb 100 0 " \
	"0 10 0"
/* ::1 port 40000 -> ::1 port 8898, uid 1001 */
#define V6_CLIENT "   1: 00000000000000000000000001000000:9C40 " \
	"00000000000000000000000001000000:22C2 01 00000000:00000000 " \
	"02:0000012C 00000000  1001        0 45678 2 0000000000000000 20 4 " \
	"31 10 -1"
/* an IPv6 socket of uid 1002 from ::ffff:127.0.0.3 port 40001 to
 * ::ffff:127.0.0.1 port 8898 */
#define V6_MAPPED "   2: 0000000000000000FFFF00000300007F:9C41 " \
	"0000000000000000FFFF00000100007F:22C2 01 00000000:00000000 " \
	"00:00000000 00000000  1002        0 45679 1 0000000000000000 20 4 " \
	"30 10 -1"

static void
ep4(struct tcp_endpoint *ep, const char *a, uint16_t port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &sa.sin_addr), 1);
	assert_int_equal(tcp_endpoint_from_sockaddr((struct sockaddr *)&sa,
						    sizeof(sa), ep), 0);
}

static void
ep6(struct tcp_endpoint *ep, const char *a, uint16_t port)
{
	struct sockaddr_in6 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &sa.sin6_addr), 1);
	assert_int_equal(tcp_endpoint_from_sockaddr((struct sockaddr *)&sa,
						    sizeof(sa), ep), 0);
}

static int
parse(const char *line, int v6, struct proctcp_entry *e)
{
	return proctcp_parse_line(line, strlen(line), v6, e);
}

static void
test_parse_v4(void **state)
{
	struct proctcp_entry e;
	struct tcp_endpoint want;

	assert_int_equal(parse(V4_CLIENT, 0, &e), 0);
	ep4(&want, "127.0.0.2", 54180);
	assert_memory_equal(&e.local, &want, sizeof(want));
	ep4(&want, "127.0.0.1", 8898);
	assert_memory_equal(&e.remote, &want, sizeof(want));
	assert_int_equal(e.state, 1);
	assert_int_equal(e.uid, 1000);
	assert_int_equal(e.inode, 34567);
	assert_true(tcp_endpoint_is_v4(&e.local));

	assert_int_equal(parse(V4_LISTEN, 0, &e), 0);
	assert_int_equal(e.state, 0x0a);
	assert_int_equal(e.remote.port, 0);
	/* a TIME_WAIT line is shorter: nothing after the pointer */
	assert_int_equal(parse("   7: 0100007F:22C2 0200007F:D3A5 06 00000000:"
			       "00000000 03:00001770 00000000     0        0 0 "
			       "3 0000000000000000", 0, &e), 0);
	assert_int_equal(e.state, PROCTCP_TIME_WAIT);
	assert_int_equal(e.inode, 0);
	/* nothing at all after the inode */
	assert_int_equal(parse("0: 0100007F:0001 0100007F:0002 01 0:0 0:0 0 "
			       "4294967295 0 18446744073709551615", 0, &e), 0);
	assert_int_equal(e.uid, UINT32_MAX);
	assert_int_equal(e.inode, UINT64_MAX);
}

static void
test_parse_v6(void **state)
{
	struct proctcp_entry e;
	struct tcp_endpoint want;

	assert_int_equal(parse(V6_CLIENT, 1, &e), 0);
	ep6(&want, "::1", 40000);
	assert_memory_equal(&e.local, &want, sizeof(want));
	ep6(&want, "::1", 8898);
	assert_memory_equal(&e.remote, &want, sizeof(want));
	assert_int_equal(e.uid, 1001);
	assert_false(tcp_endpoint_is_v4(&e.local));
	/* the same text is not an IPv4 line, nor an IPv4 line an IPv6 one */
	assert_int_equal(parse(V6_CLIENT, 0, &e), QR_ERR_INVALID);
	assert_int_equal(parse(V4_CLIENT, 1, &e), QR_ERR_INVALID);
}

/* A v4-mapped address in tcp6 is the same endpoint as the IPv4 one. */
static void
test_parse_v4_mapped(void **state)
{
	struct proctcp_entry e;
	struct tcp_endpoint want, mapped;

	assert_int_equal(parse(V6_MAPPED, 1, &e), 0);
	ep4(&want, "127.0.0.3", 40001);
	ep6(&mapped, "::ffff:127.0.0.3", 40001);
	assert_memory_equal(&want, &mapped, sizeof(want));
	assert_memory_equal(&e.local, &want, sizeof(want));
	assert_true(tcp_endpoint_is_v4(&e.local));
	ep4(&want, "127.0.0.1", 8898);
	assert_memory_equal(&e.remote, &want, sizeof(want));
	assert_int_equal(e.uid, 1002);
}

static void
test_parse_malformed(void **state)
{
	static const char *const bad[] = {
		V4_HEADER,
		"",
		"   ",
		/* lower-case hex is not what the kernel prints */
		"   3: 0200007f:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000  1000        0 34567",
		/* an address one digit short, one digit long */
		"   3: 200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000  1000        0 34567",
		"   3: 00200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000  1000        0 34567",
		/* a port of five digits, of three */
		"   3: 0200007F:0D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000  1000        0 34567",
		"   3: 0200007F:3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000  1000        0 34567",
		/* no uid, a uid past 32 bits, a negative uid */
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000",
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 4294967296 0 34567",
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 -1 0 34567",
		/* an inode past 64 bits, none */
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 1000 0 18446744073709551616",
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 1000 0",
		/* glued to the inode, a control byte after it */
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 1000 0 34567x",
		"   3: 0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 1000 0 34567 \x1b[2J",
		/* tabs instead of spaces, no "sl:" */
		"   3:\t0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 1000 0 34567",
		"0200007F:D3A4 0100007F:22C2 01 00000000:00000000 "
		"00:00000000 00000000 1000 0 34567",
		/* a state of three digits */
		"   3: 0200007F:D3A4 0100007F:22C2 001 00000000:00000000 "
		"00:00000000 00000000 1000 0 34567",
		/* IPv6 with one word short */
		"   1: 000000000000000000000000010000:9C40 "
		"00000000000000000000000001000000:22C2 01 00000000:00000000 "
		"02:0000012C 00000000  1001        0 45678",
	};
	struct proctcp_entry e;
	char line[PROCTCP_LINE_MAX + 64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0x5a, sizeof(e));
		if (parse(bad[i], 0, &e) != QR_ERR_INVALID ||
		    parse(bad[i], 1, &e) != QR_ERR_INVALID)
			fail_msg("parsed: '%s'", bad[i]);
		/* nothing written on failure */
		assert_int_equal(((unsigned char *)&e)[0], 0x5a);
	}
	/* a NUL inside the given length is a byte like any other */
	memcpy(line, V4_CLIENT, sizeof(V4_CLIENT));
	line[20] = '\0';
	assert_int_equal(proctcp_parse_line(line, sizeof(V4_CLIENT) - 1, 0, &e),
			 QR_ERR_INVALID);
	/* the length is obeyed: a line cut short does not parse */
	assert_int_equal(proctcp_parse_line(V4_CLIENT, 40, 0, &e),
			 QR_ERR_INVALID);
	/* over PROCTCP_LINE_MAX, even if it would parse */
	memset(line, ' ', sizeof(line));
	memcpy(line, V4_CLIENT, strlen(V4_CLIENT));
	assert_int_equal(proctcp_parse_line(line, PROCTCP_LINE_MAX, 0, &e), 0);
	assert_int_equal(proctcp_parse_line(line, PROCTCP_LINE_MAX + 1, 0, &e),
			 QR_ERR_INVALID);
}

/* The other end of our connection, not our own end nor the listener. */
static void
test_owner_other_end(void **state)
{
	const char text[] = V4_HEADER "\n" V4_LISTEN "\n" V4_SERVER "\n"
			    V4_CLIENT "\n";
	struct tcp_endpoint peer, self;
	uint32_t uid = 77;
	size_t used;

	ep4(&peer, "127.0.0.2", 54180);
	ep4(&self, "127.0.0.1", 8898);
	assert_int_equal(proctcp_owner(text, strlen(text), 0, &peer, &self,
				       &uid, &used), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(used, strlen(text));
	/* seen from the client: the server's socket, uid 0 */
	assert_int_equal(proctcp_owner(text, strlen(text), 0, &self, &peer,
				       &uid, &used), 0);
	assert_int_equal(uid, 0);
	/* another port of the same address is another socket */
	ep4(&peer, "127.0.0.2", 54181);
	assert_int_equal(proctcp_owner(text, strlen(text), 0, &peer, &self,
				       &uid, &used), QR_ERR_NOT_FOUND);
	assert_int_equal(used, strlen(text));
	/* and another loopback address with the same port too */
	ep4(&peer, "127.0.0.3", 54180);
	assert_int_equal(proctcp_owner(text, strlen(text), 0, &peer, &self,
				       &uid, &used), QR_ERR_NOT_FOUND);
}

static void
test_owner_v6_and_mapped(void **state)
{
	const char text[] = "  sl  local_address ...\n" V6_CLIENT "\n"
			    V6_MAPPED "\n";
	struct tcp_endpoint peer, self;
	uint32_t uid;
	size_t used;

	ep6(&peer, "::1", 40000);
	ep6(&self, "::1", 8898);
	assert_int_equal(proctcp_owner(text, strlen(text), 1, &peer, &self,
				       &uid, &used), 0);
	assert_int_equal(uid, 1001);
	/* our IPv4 listener saw 127.0.0.3; the client's socket is IPv6 */
	ep4(&peer, "127.0.0.3", 40001);
	ep4(&self, "127.0.0.1", 8898);
	assert_int_equal(proctcp_owner(text, strlen(text), 1, &peer, &self,
				       &uid, &used), 0);
	assert_int_equal(uid, 1002);
}

/* TIME_WAIT and request sockets print uid 0: they own nothing. */
static void
test_owner_not_time_wait(void **state)
{
	const char text[] =
		"   7: 0200007F:D3A4 0100007F:22C2 06 00000000:00000000 "
		"03:00001770 00000000     0        0 0 3 0000000000000000\n"
		"   8: 0200007F:D3A4 0100007F:22C2 0C 00000000:00000000 "
		"02:00000064 00000000     0        0 0 1 0000000000000000\n"
		"   9: 0200007F:D3A4 0100007F:22C2 04 00000000:00000000 "
		"00:00000000 00000000     0        0 0 1 0000000000000000\n";
	struct tcp_endpoint peer, self;
	uint32_t uid;
	size_t used;

	ep4(&peer, "127.0.0.2", 54180);
	ep4(&self, "127.0.0.1", 8898);
	assert_int_equal(proctcp_owner(text, strlen(text), 0, &peer, &self,
				       &uid, &used), QR_ERR_NOT_FOUND);
}

/* Only whole lines are looked at; *used says where the rest begins. */
static void
test_owner_pieces(void **state)
{
	const char text[] = V4_SERVER "\n" V4_CLIENT "\n";
	struct tcp_endpoint peer, self;
	size_t cut = strlen(V4_SERVER) + 1 + 30, used;
	uint32_t uid = 5;

	ep4(&peer, "127.0.0.2", 54180);
	ep4(&self, "127.0.0.1", 8898);
	assert_int_equal(proctcp_owner(text, cut, 0, &peer, &self, &uid, &used),
			 QR_ERR_NOT_FOUND);
	assert_int_equal(used, strlen(V4_SERVER) + 1);
	assert_int_equal(uid, 5);
	/* the client line without its '\n' is not whole either */
	assert_int_equal(proctcp_owner(text, strlen(text) - 1, 0, &peer, &self,
				       &uid, &used), QR_ERR_NOT_FOUND);
	assert_int_equal(proctcp_owner(text + used, strlen(text) - used, 0,
				       &peer, &self, &uid, &used), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(proctcp_owner("", 0, 0, &peer, &self, &uid, &used),
			 QR_ERR_NOT_FOUND);
	assert_int_equal(used, 0);
}

static void
test_endpoint_from_sockaddr(void **state)
{
	struct sockaddr_in sa4;
	struct sockaddr_storage un;
	struct tcp_endpoint ep;

	memset(&sa4, 0, sizeof(sa4));
	sa4.sin_family = AF_INET;
	assert_int_equal(tcp_endpoint_from_sockaddr((struct sockaddr *)&sa4,
						    sizeof(sa4) - 1, &ep),
			 QR_ERR_INVALID);
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	assert_int_equal(tcp_endpoint_from_sockaddr((struct sockaddr *)&un,
						    sizeof(un), &ep),
			 QR_ERR_INVALID);
	ep6(&ep, "::", 1);
	assert_false(tcp_endpoint_is_v4(&ep));
	ep6(&ep, "::ffff:10.1.2.3", 1);
	assert_true(tcp_endpoint_is_v4(&ep));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_v4_mapped),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_owner_other_end),
		cmocka_unit_test(test_owner_v6_and_mapped),
		cmocka_unit_test(test_owner_not_time_wait),
		cmocka_unit_test(test_owner_pieces),
		cmocka_unit_test(test_endpoint_from_sockaddr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
