/*
 * vmid.h - the name of the VM the client runs in, for the hint that tells
 * the administrator what to type in dom0.
 */
#ifndef QVMR_CLIENT_VMID_H
#define QVMR_CLIENT_VMID_H

#include "bounds.h"

/*
 * The output of `qubesdb-read /name` when that program is on PATH (run by
 * its absolute path, stdin and stderr on /dev/null, a 2 s deadline), else the
 * host name.  Only a valid Qubes VM name is returned; QR_ERR_NOT_FOUND when
 * there is none.
 */
int vm_name(char out[VMNAME_MAX + 1]);
/* vm_name for a hint: the name, or THIS-VM when there is none; out. */
const char *vm_name_for_hint(char out[VMNAME_MAX + 1]);

#endif
