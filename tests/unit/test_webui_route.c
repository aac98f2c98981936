/*
 * test_webui_route.c - what a request may ask for: paths, the Host
 * header rule that stops DNS rebinding, event ids, counts, --bind.
 */
#include "route.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "err.h"
#include "banned.h"

static void
test_routes(void **state)
{
	assert_int_equal(route_find("/"), ROUTE_ASSET);
	assert_int_equal(route_find("/app.js"), ROUTE_ASSET);
	assert_int_equal(route_find("/app.css"), ROUTE_ASSET);
	assert_int_equal(route_find("/events"), ROUTE_EVENTS);
	assert_int_equal(route_find("/api/summary"), ROUTE_SUMMARY);
	assert_int_equal(route_find("/api/chain"), ROUTE_CHAIN);
	assert_int_equal(route_find("/plain"), ROUTE_PLAIN);
	assert_int_equal(route_find(""), ROUTE_NONE);
	assert_int_equal(route_find("/index.html"), ROUTE_NONE);
	assert_int_equal(route_find("/../etc/passwd"), ROUTE_NONE);
	assert_int_equal(route_find("/events/"), ROUTE_NONE);
	assert_int_equal(route_find("//"), ROUTE_NONE);
	assert_int_equal(route_find("/APP.JS"), ROUTE_NONE);
	assert_int_equal(route_find(NULL), ROUTE_NONE);
}

static void
test_host_loopback_names(void **state)
{
	assert_true(host_allowed("localhost:8890", 8890, NULL));
	assert_true(host_allowed("LocalHost:8890", 8890, NULL));
	assert_true(host_allowed("127.0.0.1:8890", 8890, NULL));
	assert_true(host_allowed("[::1]:8890", 8890, NULL));
	/* without a port only when the port is the default one */
	assert_true(host_allowed("localhost", 80, NULL));
	assert_true(host_allowed("[::1]", 80, NULL));
	assert_false(host_allowed("localhost", 8890, NULL));
	assert_false(host_allowed("[::1]", 8890, NULL));
}

/* test_host_dns_rebinding: a name that resolves to us is still refused */
static void
test_host_dns_rebinding(void **state)
{
	assert_false(host_allowed("evil.example:8890", 8890, NULL));
	assert_false(host_allowed("127.0.0.1.nip.io:8890", 8890, NULL));
	assert_false(host_allowed("localhost.:8890", 8890, NULL));
	assert_false(host_allowed("localhost.evil.example:8890", 8890, NULL));
	assert_false(host_allowed("evil.localhost:8890", 8890, NULL));
	assert_false(host_allowed("user@localhost:8890", 8890, NULL));
	assert_false(host_allowed("127.0.0.2:8890", 8890, NULL));
	assert_false(host_allowed("0.0.0.0:8890", 8890, NULL));
	assert_false(host_allowed("::1:8890", 8890, NULL));
	assert_false(host_allowed("[::ffff:127.0.0.1]:8890", 8890, NULL));
	assert_false(host_allowed("", 8890, NULL));
	assert_false(host_allowed(NULL, 8890, NULL));
}

static void
test_host_port(void **state)
{
	assert_false(host_allowed("localhost:8891", 8890, NULL));
	assert_false(host_allowed("localhost:", 8890, NULL));
	assert_false(host_allowed("localhost:08890", 8890, NULL));
	assert_false(host_allowed("localhost:+8890", 8890, NULL));
	assert_false(host_allowed("localhost:8890:8890", 8890, NULL));
	assert_false(host_allowed("localhost:88900", 8890, NULL));
	assert_false(host_allowed("localhost:99999999999", 8890, NULL));
	assert_false(host_allowed("localhost:8890 ", 8890, NULL));
	assert_false(host_allowed("[::1]8890", 8890, NULL));
}

static void
test_host_bind_literal(void **state)
{
	assert_true(host_allowed("10.0.0.5:8890", 8890, "10.0.0.5"));
	assert_true(host_allowed("[fd00::5]:8890", 8890, "[fd00::5]"));
	assert_true(host_allowed("localhost:8890", 8890, "10.0.0.5"));
	assert_false(host_allowed("10.0.0.6:8890", 8890, "10.0.0.5"));
	assert_false(host_allowed("10.0.0.5:8890", 8890, ""));
}

static void
test_last_id(void **state)
{
	uint64_t inst = 0, seq = 0;

	assert_int_equal(last_id_parse("5cf75aa34bcc-1", &inst, &seq), 0);
	assert_int_equal(inst, 0x5cf75aa34bccull);
	assert_int_equal(seq, 1);
	assert_int_equal(last_id_parse("0-18446744073709551615", &inst, &seq),
			 0);
	assert_int_equal(seq, UINT64_MAX);
	assert_int_equal(last_id_parse("0-18446744073709551616", &inst, &seq),
			 QR_ERR_INVALID);
	assert_int_equal(last_id_parse("", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("-1", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("ab-", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("AB-1", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("ab-1-2", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("ab-1x", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("ab- 1", &inst, &seq), QR_ERR_INVALID);
	assert_int_equal(last_id_parse("10000000000000000-1", &inst, &seq),
			 QR_ERR_INVALID);
	assert_int_equal(last_id_parse(NULL, &inst, &seq), QR_ERR_INVALID);
}

static void
test_count(void **state)
{
	unsigned v = 0;

	assert_int_equal(count_parse("200", 1, 2000, &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(count_parse("2000", 1, 2000, &v), 0);
	assert_int_equal(count_parse("1", 1, 2000, &v), 0);
	assert_int_equal(count_parse("0", 1, 2000, &v), QR_ERR_INVALID);
	assert_int_equal(count_parse("2001", 1, 2000, &v), QR_ERR_INVALID);
	assert_int_equal(count_parse("010", 1, 2000, &v), QR_ERR_INVALID);
	assert_int_equal(count_parse("-1", 1, 2000, &v), QR_ERR_INVALID);
	assert_int_equal(count_parse("1e3", 1, 2000, &v), QR_ERR_INVALID);
	assert_int_equal(count_parse("", 1, 2000, &v), QR_ERR_INVALID);
	assert_int_equal(count_parse("99999999999", 1, 2000, &v),
			 QR_ERR_INVALID);
	assert_int_equal(count_parse(NULL, 1, 2000, &v), QR_ERR_INVALID);
}

static void
test_bind(void **state)
{
	struct sockaddr_storage sa;
	socklen_t len = 0;
	int lo = -1;
	char host[HOST_LITERAL_MAX];

	assert_int_equal(bind_parse("127.0.0.1", 8890, &sa, &len, &lo, host), 0);
	assert_int_equal(sa.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&sa)->sin_port), 8890);
	assert_true(lo);
	assert_string_equal(host, "127.0.0.1");

	assert_int_equal(bind_parse("127.1.2.3", 1, &sa, &len, &lo, host), 0);
	assert_true(lo);

	assert_int_equal(bind_parse("[::1]", 8890, &sa, &len, &lo, host), 0);
	assert_int_equal(sa.ss_family, AF_INET6);
	assert_true(lo);
	assert_string_equal(host, "[::1]");
	assert_int_equal(bind_parse("0:0::1", 8890, &sa, &len, &lo, host), 0);
	assert_string_equal(host, "[::1]");

	assert_int_equal(bind_parse("10.0.0.5", 8890, &sa, &len, &lo, host), 0);
	assert_false(lo);
	assert_int_equal(bind_parse("0.0.0.0", 8890, &sa, &len, &lo, host), 0);
	assert_false(lo);
	assert_int_equal(bind_parse("::", 8890, &sa, &len, &lo, host), 0);
	assert_false(lo);
	assert_string_equal(host, "[::]");

	assert_int_equal(bind_parse("localhost", 8890, &sa, &len, &lo, host),
			 QR_ERR_INVALID);
	assert_int_equal(bind_parse("", 8890, &sa, &len, &lo, host),
			 QR_ERR_INVALID);
	assert_int_equal(bind_parse("[]", 8890, &sa, &len, &lo, host),
			 QR_ERR_INVALID);
	assert_int_equal(bind_parse("1.2.3", 8890, &sa, &len, &lo, host),
			 QR_ERR_INVALID);
	assert_int_equal(bind_parse("127.0.0.1:80", 8890, &sa, &len, &lo,
				    host), QR_ERR_INVALID);
	assert_int_equal(bind_parse("127.0.0.1", 0, &sa, &len, &lo, host),
			 QR_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_host_loopback_names),
		cmocka_unit_test(test_host_dns_rebinding),
		cmocka_unit_test(test_host_port),
		cmocka_unit_test(test_host_bind_literal),
		cmocka_unit_test(test_last_id),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_bind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
