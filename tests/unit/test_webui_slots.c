/*
 * test_webui_slots.c - connection slots per client and the request
 * deadline: one user's flood is refused past its share while another
 * user is served, the clients nobody could name share one share, and a
 * connection that trickles its request is cut at the total deadline,
 * once, never one that sent it.
 */
#include "slots.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "banned.h"

#define PER 8u
#define DEADLINE 10000

static struct slots s;

static int
setup(void **state)
{
	return slots_init(&s, PER, DEADLINE);
}

static int
teardown(void **state)
{
	slots_stop(&s);
	slots_release(&s);
	return 0;
}

static struct slot *
open_one(int fd, int known, uint32_t uid, int64_t now, int *refused)
{
	struct slot *sl;
	int warn;

	sl = slots_open(&s, fd, known, uid, now, refused, &warn);
	assert_non_null(sl);
	return sl;
}

/* test_flood_one_uid: past its share one uid is refused, others not */
static void
test_flood_one_uid(void **state)
{
	struct slot *mine[PER], *extra, *other;
	int refused;
	unsigned i;

	for (i = 0; i < PER; i++) {
		mine[i] = open_one(-1, 1, 1000, 0, &refused);
		assert_false(refused);
	}
	assert_int_equal(slots_count(&s, 1, 1000), PER);
	extra = open_one(-1, 1, 1000, 0, &refused);
	assert_true(refused);
	/* a refused one does not count, and is not to be answered */
	assert_int_equal(slots_count(&s, 1, 1000), PER);
	assert_int_equal(slots_received(&s, extra), -1);
	slots_close(&s, extra);
	/* another user still gets in */
	other = open_one(-1, 1, 1001, 0, &refused);
	assert_false(refused);
	assert_int_equal(slots_received(&s, other), 0);
	/* one closes: room for one more, no more */
	slots_close(&s, mine[3]);
	mine[3] = open_one(-1, 1, 1000, 0, &refused);
	assert_false(refused);
	extra = open_one(-1, 1, 1000, 0, &refused);
	assert_true(refused);
	slots_close(&s, extra);
	for (i = 0; i < PER; i++)
		slots_close(&s, mine[i]);
	slots_close(&s, other);
	assert_int_equal(slots_count(&s, 1, 1000), 0);
	assert_int_equal(slots_count(&s, 1, 1001), 0);
}

/* test_flood_unknown_owner: owners not found share one share (fail
 * closed), apart from every uid, root's too */
static void
test_flood_unknown_owner(void **state)
{
	struct slot *u[PER], *extra, *root;
	int refused;
	unsigned i;

	for (i = 0; i < PER; i++) {
		/* whatever uid came with it, an unknown one is unknown */
		u[i] = open_one(-1, 0, 2000 + i, 0, &refused);
		assert_false(refused);
	}
	assert_int_equal(slots_count(&s, 0, 0), PER);
	extra = open_one(-1, 0, 9999, 0, &refused);
	assert_true(refused);
	slots_close(&s, extra);
	root = open_one(-1, 1, 0, 0, &refused);
	assert_false(refused);
	slots_close(&s, root);
	for (i = 0; i < PER; i++)
		slots_close(&s, u[i]);
}

/* Refusals are said at most once a minute. */
static void
test_warn_once_a_minute(void **state)
{
	struct slot *sl[PER + 3];
	int refused, warn;
	unsigned i;

	for (i = 0; i < PER; i++)
		sl[i] = open_one(-1, 1, 7, 0, &refused);
	sl[PER] = slots_open(&s, -1, 1, 7, 1000, &refused, &warn);
	assert_true(refused && warn);
	sl[PER + 1] = slots_open(&s, -1, 1, 7, 60999, &refused, &warn);
	assert_true(refused && !warn);
	sl[PER + 2] = slots_open(&s, -1, 1, 7, 61000, &refused, &warn);
	assert_true(refused && warn);
	for (i = 0; i < PER + 3; i++)
		slots_close(&s, sl[i]);
}

static int
peer_state(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b;

	if (poll(&p, 1, 0) != 1)
		return 0;               /* still open, nothing to read */
	return read(fd, &b, 1) == 0 ? -1 : 1;   /* -1: cut */
}

/* test_trickle_total_deadline: cut at accept + deadline however recent
 * its last byte, once; never before */
static void
test_trickle_total_deadline(void **state)
{
	struct slot *sl;
	int sv[2], refused;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	sl = open_one(sv[0], 1, 1000, 5000, &refused);
	assert_int_equal(slots_sweep(&s, 5000 + DEADLINE - 1), 0);
	assert_int_equal(peer_state(sv[1]), 0);
	assert_int_equal(slots_sweep(&s, 5000 + DEADLINE), 1);
	assert_int_equal(peer_state(sv[1]), -1);
	assert_int_equal(slots_sweep(&s, 5000 + 5 * DEADLINE), 0);
	/* what it had sent by then is not answered */
	assert_int_equal(slots_received(&s, sl), -1);
	slots_close(&s, sl);
	close(sv[0]);
	close(sv[1]);
}

/* A request that is in stops the deadline (a live stream runs on); the
 * next request is due a deadline after the response ended. */
static void
test_received_then_rearm(void **state)
{
	struct slot *sl;
	int sv[2], refused;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	sl = open_one(sv[0], 1, 1000, 0, &refused);
	assert_int_equal(slots_received(&s, sl), 0);
	assert_int_equal(slots_sweep(&s, 100 * DEADLINE), 0);
	assert_int_equal(peer_state(sv[1]), 0);
	slots_rearm(&s, sl, 100 * DEADLINE);
	assert_int_equal(slots_sweep(&s, 101 * DEADLINE - 1), 0);
	assert_int_equal(slots_sweep(&s, 101 * DEADLINE), 1);
	assert_int_equal(peer_state(sv[1]), -1);
	slots_close(&s, sl);
	close(sv[0]);
	close(sv[1]);
}

/* The sweeper thread does it on its own clock. */
static void
test_sweeper_thread(void **state)
{
	struct slots t;
	struct slot *sl;
	struct pollfd p;
	int sv[2], refused, warn;
	char b;

	assert_int_equal(slots_init(&t, PER, 200), 0);
	assert_int_equal(slots_start(&t), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	sl = slots_open(&t, sv[0], 1, 1000, mono_ms(), &refused, &warn);
	assert_non_null(sl);
	p.fd = sv[1];
	p.events = POLLIN;
	/* a generous bound: only the end of the stream matters */
	assert_int_equal(poll(&p, 1, 20000), 1);
	assert_int_equal(read(sv[1], &b, 1), 0);
	slots_close(&t, sl);
	slots_stop(&t);
	slots_release(&t);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_one_uid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flood_unknown_owner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_warn_once_a_minute, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trickle_total_deadline,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_received_then_rearm, setup,
						teardown),
		cmocka_unit_test(test_sweeper_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
