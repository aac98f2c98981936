/*
 * session.c - one transport call that fetches and delivers in turns.
 */
#include "session.h"

#include <string.h>

#include "agentwire.h"
#include "deliver.h"
#include "err.h"
#include "frame.h"

#include "banned.h"

/*
 * Reads the next turn's line into line and a: 1 at end of input, 0 for a
 * turn, QR_ERR_INVALID for anything else.
 */
static int
next_turn(FILE *in, char line[AGENT_LINE_MAX + 2],
	  char *words[AGENTWIRE_TURN_WORDS], struct fetch_args *a)
{
	struct agentwire_fetch w;
	size_t n;

	if (fgets(line, AGENT_LINE_MAX + 2, in) == NULL)
		return feof(in) && !ferror(in) ? 1 : QR_ERR_INVALID;
	n = strlen(line);
	if (n == 0 || line[n - 1] != '\n')
		return QR_ERR_INVALID;
	if (agentwire_decode_turn(line, n - 1, words, &w) != 0)
		return QR_ERR_INVALID;
	/* the words are "fetch", the five arguments, then the releases */
	fetch_args_set(a, &w, words + 6);
	return 0;
}

int
session_run(const struct vm_layout *q, struct fetch_args *a, FILE *in,
	    FILE *out)
{
	char line[AGENT_LINE_MAX + 2], nonce[CLAIM_MAX + 1],
	     *words[AGENTWIRE_TURN_WORDS];
	int r, c;

	for (;;) {
		a->wake_fd = fileno(in);
		if (fetch_run(q, a, out) != 0)
			return 1;
		/* the claims' prefix names this turn's temporaries too: dom0
		 * chose it, new for every turn */
		if (!deliver_nonce_valid(a->prefix))
			return 2;
		memcpy(nonce, a->prefix, strlen(a->prefix) + 1);
		/* input that ends here ends the session: dom0 is gone, or
		 * wants this reply to be the last */
		if ((c = fgetc(in)) == EOF)
			return feof(in) ? 0 : 1;
		if (ungetc(c, in) == EOF || deliver_run(q, nonce, in, out) != 0)
			return 1;
		if ((r = next_turn(in, line, words, a)) == 1)
			return 0;
		if (r != 0)
			return 2;
	}
}
