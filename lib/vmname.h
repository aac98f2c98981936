/*
 * vmname.h - Qubes VM names: [A-Za-z][A-Za-z0-9_.-]*, at most 31 bytes, not
 * "dom0" and not ending in "-dm" (Qubes' own rules).  Checked before a name
 * reaches a path, an argv or a log line.
 */
#ifndef QVMR_VMNAME_H
#define QVMR_VMNAME_H

#include <stdbool.h>
#include <stddef.h>

bool vmname_valid(const char *s);

#endif
