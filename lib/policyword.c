/*
 * policyword.c - a policy line cut into words (policyword.h).
 *
 * The quoting is sh's small core and nothing more: no expansions, so what
 * root reads in the file is what is matched.  Quoted bytes are escaped for
 * fnmatch here, once, so the matcher never has to know which bytes were
 * quoted.
 */
#include "policyword.h"

#include <string.h>

#include "err.h"

#include "banned.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9');
}

/* A word being built: its pattern bytes and its unquoted length. */
struct wb {
	char *p;        /* next free byte of the scratch */
	size_t text;    /* bytes of the word's text so far */
};

static int put(struct wb *w, char c, bool quoted, const char **why)
{
	if (w->text == POLICY_WORD_MAX) {
		*why = "a word is longer than 1024 bytes";
		return QR_ERR_TOO_LARGE;
	}
	w->text++;
	/* letters and digits are never special to fnmatch */
	if (quoted && !alnum(c))
		*w->p++ = '\\';
	*w->p++ = c;
	return 0;
}

int pline_split(const char *line, size_t n, struct pline *out,
		const char **why)
{
	struct wb w;
	size_t i = 0;
	char *start;
	int r;

	static_assert(POLICY_WORD_MAX == 1024 && POLICY_WORDS_MAX == 256,
		      "the messages spell the limits out");
	out->n = 0;
	w.p = out->scratch;
	for (;;) {
		while (i < n && blank(line[i]))
			i++;
		if (i == n || line[i] == '#')
			return 0;
		if (out->n == PLINE_WORDS_MAX) {
			*why = "more than 256 words in the command pattern";
			return QR_ERR_TOO_LARGE;
		}
		start = w.p;
		w.text = 0;
		out->word[out->n].quoted = false;
		while (i < n && !blank(line[i]) && line[i] != '#') {
			char c = line[i++];

			if (c == '\\') {
				if (i == n) {
					*why = "backslash at the end of "
					       "the line";
					return QR_ERR_INVALID;
				}
				out->word[out->n].quoted = true;
				if ((r = put(&w, line[i++], true, why)) != 0)
					return r;
			} else if (c == '\'') {
				out->word[out->n].quoted = true;
				while (i < n && line[i] != '\'') {
					r = put(&w, line[i++], true, why);
					if (r != 0)
						return r;
				}
				if (i == n) {
					*why = "unterminated single quote";
					return QR_ERR_INVALID;
				}
				i++;
			} else if (c == '"') {
				out->word[out->n].quoted = true;
				while (i < n && line[i] != '"') {
					c = line[i++];
					if (c == '\\' && i < n &&
					    (line[i] == '"' || line[i] == '\\'))
						c = line[i++];
					if ((r = put(&w, c, true, why)) != 0)
						return r;
				}
				if (i == n) {
					*why = "unterminated double quote";
					return QR_ERR_INVALID;
				}
				i++;
			} else if ((r = put(&w, c, false, why)) != 0) {
				return r;
			}
		}
		*w.p++ = '\0';
		out->word[out->n].pat = start;
		out->word[out->n].pat_len = (size_t)(w.p - start) - 1;
		out->n++;
	}
}
