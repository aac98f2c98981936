/*
 * session.c - one transport call that fetches and delivers in turns.
 */
#include "session.h"

#include <string.h>

#include "deliver.h"
#include "err.h"
#include "frame.h"

#include "banned.h"

#define END_MARK "qvmr-end"
/* "fetch", the five arguments, the releases, and the end mark */
#define WORDS_MAX (7 + 2 * FETCH_HELD_MAX)

/*
 * Reads the next turn's line into line and a: 1 at end of input, 0 for a
 * turn, QR_ERR_INVALID for anything else.
 */
static int
next_turn(FILE *in, char line[AGENT_LINE_MAX + 2], struct fetch_args *a)
{
	char *words[WORDS_MAX + 1], *save = NULL, *w;
	size_t n, count = 0;

	if (fgets(line, AGENT_LINE_MAX + 2, in) == NULL)
		return feof(in) && !ferror(in) ? 1 : QR_ERR_INVALID;
	n = strlen(line);
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\0', n) != NULL)
		return QR_ERR_INVALID;
	line[n - 1] = '\0';
	for (w = strtok_r(line, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save)) {
		if (count == WORDS_MAX)
			return QR_ERR_INVALID;
		words[count++] = w;
	}
	if (count < 2 || strcmp(words[0], "fetch") != 0 ||
	    strcmp(words[count - 1], END_MARK) != 0)
		return QR_ERR_INVALID;
	return fetch_args_parse(a, (int)count - 2, words + 1);
}

int
session_run(const struct vm_layout *q, struct fetch_args *a, FILE *in,
	    FILE *out)
{
	char line[AGENT_LINE_MAX + 2], nonce[CLAIM_MAX + 1];
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
		if ((r = next_turn(in, line, a)) == 1)
			return 0;
		if (r != 0)
			return 2;
	}
}
