/*
 * vmname.c - Qubes VM name allowlist.
 */
#include "vmname.h"

#include <string.h>

#include "bounds.h"

#include "banned.h"

static bool first_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool rest_ok(char c)
{
	return first_ok(c) || (c >= '0' && c <= '9') || c == '_' ||
	       c == '.' || c == '-';
}

bool vmname_valid(const char *s)
{
	size_t n, i;

	if (s == NULL)
		return false;
	n = strnlen(s, VMNAME_MAX + 1);
	if (n == 0 || n > VMNAME_MAX || !first_ok(s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!rest_ok(s[i]))
			return false;
	if (strcmp(s, "dom0") == 0)
		return false;
	/* "-dm" names are Qubes' device-model stub domains */
	if (n >= 3 && memcmp(s + n - 3, "-dm", 3) == 0)
		return false;
	return true;
}
