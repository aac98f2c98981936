/*
 * pace.h - how fast dom0 starts transport calls, over all VMs.
 *
 * Each call is a qrexec-client process in dom0 and a process in the VM.
 * A start with many VMs (every fetch due at once), or many VMs coming up
 * together, would fork them all in one turn of the loop; the pace lets
 * PACE_BURST start at once and then PACE_PER_S a second, so 200 VMs are
 * all called within some 4 s and no more than PACE_BURST processes start
 * together.  Ordinary work never meets it: a session costs no call per
 * command.  Pure: the caller gives the time (a generic cell rate: the
 * theoretical time of the next start, and a tolerance of PACE_BURST).
 */
#ifndef QVMR_PACE_H
#define QVMR_PACE_H

#include <stdint.h>

#define PACE_BURST 16u
#define PACE_PER_S 50u

struct pace {
	int64_t next_ms;        /* the theoretical time of the next start */
};

/* 1: a call may start at now_ms (and is counted); 0: not before
 * pace_due(). */
int pace_take(struct pace *p, int64_t now_ms);
/* When pace_take can next say 1. */
int64_t pace_due(const struct pace *p);

#endif
