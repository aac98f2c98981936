/*
 * bounds.h - every size the protocol bounds, in one place.
 */
#ifndef QVMR_BOUNDS_H
#define QVMR_BOUNDS_H

#include <assert.h>

#define BODY_MAX        (1u << 20)          /* command body, bytes */
#define IN_MAX          (8u << 20)          /* the command's stdin, bytes */
#define OPT_MAX         4096u               /* options file, bytes */
#define AUTH_MAX        80u                 /* token file, bytes */
#define CLAIM_MAX       40u                 /* claim id, bytes */
#define VMNAME_MAX      31u                 /* Qubes limits names to 31 */
#define FETCH_REQ_MAX   32u                 /* requests in one fetch reply */
#define FETCH_HELD_MAX  64u                 /* claims listed in one reply */
#define FETCH_REPLY_MAX (24u << 20)         /* bytes of one fetch reply */
#define DELIVER_REPLY_MAX (64u << 10)       /* bytes of one deliver reply */
#define FRAME_LINE_MAX  256u                /* a header line of a reply */
#define TIMEOUT_MAX     86400u              /* seconds, any command */
#define REASON_MAX      200u                /* a rejection reason, bytes */

static_assert(BODY_MAX + IN_MAX + OPT_MAX + AUTH_MAX < FETCH_REPLY_MAX,
	      "one request of maximal size must fit a fetch reply");
static_assert(FETCH_REQ_MAX * (FRAME_LINE_MAX + 2) < DELIVER_REPLY_MAX,
	      "the deliver reply must hold a line per request");

#endif
