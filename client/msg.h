/*
 * msg.h - the client's own messages on stderr.
 *
 * Every message is one line "qvm-remote: TEXT\n": lowercase, no trailing full
 * stop, saying what to do next when there is something to do.  A waiting
 * indicator on the terminal is erased first, so a message never lands in the
 * middle of it.
 */
#ifndef QVMR_CLIENT_MSG_H
#define QVMR_CLIENT_MSG_H

#define MSG_PREFIX "qvm-remote: "

void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only after msg_set_verbose(1) (-v). */
void msg_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void msg_set_verbose(int on);

struct buf;
/* While b is not NULL, each message's text (without the prefix) is also
 * appended to b, one line each, as far as b->max allows: the mcp server
 * hands the agent what the client would have printed.  The caller owns b. */
void msg_capture(struct buf *b);

#endif
