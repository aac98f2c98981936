/*
 * test_lib_vmname.c - the VM name allowlist.
 */
#include "vmname.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "banned.h"

static void test_valid(void **state)
{
	assert_true(vmname_valid("work"));
	assert_true(vmname_valid("W"));
	assert_true(vmname_valid("sys-net"));
	assert_true(vmname_valid("my_vm.2-test"));
	assert_true(vmname_valid("dom00"));
	assert_true(vmname_valid("Dom0"));
	assert_true(vmname_valid("a-d"));
	assert_true(vmname_valid("vm-dmx"));
	assert_true(vmname_valid("abcdefghijklmnopqrstuvwxyz01234"));  /* 31 */
}

static void test_invalid(void **state)
{
	static const char *const bad[] = {
		"", "dom0", "vm-dm", "a-dm", "0vm", "-vm", "_vm", ".vm",
		"vm name", "vm/x", "../x", "vm\n", "vm$", "vm;x", "vm\x1b",
		"abcdefghijklmnopqrstuvwxyz012345",                  /* 32 */
		"v\xc3\xa9",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (vmname_valid(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	assert_false(vmname_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
