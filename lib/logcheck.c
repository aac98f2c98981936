/*
 * logcheck.c - the keyless, keyed and anchored checks of the audit log.
 */
#include "logcheck.h"

#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auditfmt.h"
#include "err.h"
#include "banned.h"

#define ANCHOR_TAG " dom0-log="
#define RESTART_TEXT "] ERROR action=seal-restart "

void
logcheck_init(struct logcheck *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->chain, SEAL_ZERO, sizeof(SEAL_ZERO));
	memcpy(c->last_seal, SEAL_ZERO, sizeof(SEAL_ZERO));
	memcpy(c->last_chain, SEAL_ZERO, sizeof(SEAL_ZERO));
}

void
logcheck_set_key(struct logcheck *c, const struct seal_key *k)
{
	c->key = *k;
	c->key_start = k->seq;
}

void
logcheck_release(struct logcheck *c)
{
	seal_key_wipe(&c->key);
	free(c->anchors);
	c->anchors = NULL;
	c->nanchors = c->anchors_cap = 0;
}

static void
copy_name(char out[LOGCHECK_NAME_MAX], const char *name)
{
	snprintf(out, LOGCHECK_NAME_MAX, "%s", name);
}

/* ---- anchors ---------------------------------------------------------- */

/* "dom0-log=SEQ:SEAL" at p (after the tag), ending at a space or end. */
static int
parse_anchor(const char *p, size_t n, struct logcheck_anchor *a)
{
	size_t i = 0;
	uint64_t v = 0;

	while (i < n && i < 19 && p[i] >= '0' && p[i] <= '9')
		v = v * 10 + (uint64_t)(p[i++] - '0');
	if (i == 0 || i > 18 || (p[0] == '0') || v > SEAL_SEQ_MAX ||
	    n - i < 1 + SEAL_HEX || p[i] != ':' ||
	    !seal_is_hex(p + i + 1, SEAL_HEX) ||
	    (n - i > 1 + SEAL_HEX && p[i + 1 + SEAL_HEX] != ' '))
		return 0;
	a->seq = v;
	memcpy(a->seal, p + i + 1, SEAL_HEX);
	a->seal[SEAL_HEX] = '\0';
	return 1;
}

int
logcheck_add_anchors(struct logcheck *c, const char *text, size_t n,
		     const char *from)
{
	size_t off = 0, tag = sizeof(ANCHOR_TAG) - 1;
	unsigned long lineno = 0;
	unsigned file;

	if (c->nanchor_files == sizeof(c->anchor_files) /
				sizeof(c->anchor_files[0]))
		return QR_ERR_TOO_LARGE;
	file = c->nanchor_files++;
	copy_name(c->anchor_files[file], from);
	while (off < n) {
		const char *line = text + off, *nl = memchr(line, '\n', n - off);
		size_t len = nl != NULL ? (size_t)(nl - line) : n - off;
		struct logcheck_anchor a;
		const char *p;

		lineno++;
		off += len + 1;
		/* the tag may only follow a field, never sit in a value:
		 * the VM's lines quote values with spaces */
		for (p = line; (p = memmem(p, len - (size_t)(p - line),
					   ANCHOR_TAG, tag)) != NULL; p += tag) {
			if (!parse_anchor(p + tag, len - (size_t)(p - line) - tag,
					  &a))
				continue;
			if (c->nanchors == LOGCHECK_ANCHORS_MAX)
				return QR_ERR_TOO_LARGE;
			if (c->nanchors == c->anchors_cap) {
				size_t cap = c->anchors_cap == 0 ? 64
						: 2 * c->anchors_cap;
				void *m = realloc(c->anchors,
						  cap * sizeof(*c->anchors));
				if (m == NULL)
					return QR_ERR_NOMEM;
				c->anchors = m;
				c->anchors_cap = cap;
			}
			a.line = lineno;
			a.file = file;
			c->anchors[c->nanchors++] = a;
			break;
		}
	}
	c->sorted = 0;
	return 0;
}

static int
cmp_anchor(const void *x, const void *y)
{
	const struct logcheck_anchor *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- lines ------------------------------------------------------------- */

static int
broken(struct logcheck *c, int anchor, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
broken(struct logcheck *c, int anchor, const char *fmt, ...)
{
	va_list ap;

	copy_name(c->bad_file, c->file);
	c->bad_line = c->lines_file;
	c->bad_anchor = anchor;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return QR_ERR_MISMATCH;
}

void
logcheck_begin_file(struct logcheck *c, const char *name)
{
	copy_name(c->file, name);
	c->lines_file = 0;
	c->file_sealed = 0;
	memcpy(c->chain, SEAL_ZERO, sizeof(SEAL_ZERO));
	if (c->anchors != NULL && !c->sorted) {
		qsort(c->anchors, c->nanchors, sizeof(*c->anchors), cmp_anchor);
		c->sorted = 1;
	}
}

static const char *
anchor_where(const struct logcheck *c, const struct logcheck_anchor *a,
	     char buf[LOGCHECK_NAME_MAX + 24])
{
	snprintf(buf, LOGCHECK_NAME_MAX + 24, "%s:%lu",
		 c->anchor_files[a->file], a->line);
	return buf;
}

/* The anchors at seq (every line from first_seq on is in order). */
static int
check_anchors(struct logcheck *c, uint64_t seq, const char *seal)
{
	char where[LOGCHECK_NAME_MAX + 24];

	if (!c->sorted && c->anchors != NULL) {
		qsort(c->anchors, c->nanchors, sizeof(*c->anchors), cmp_anchor);
		c->sorted = 1;
	}
	while (c->next_anchor < c->nanchors &&
	       c->anchors[c->next_anchor].seq <= seq) {
		const struct logcheck_anchor *a = &c->anchors[c->next_anchor];
		if (a->seq < c->first_seq) {
			c->anchors_older++;
		} else if (a->seq == seq) {
			if (CRYPTO_memcmp(a->seal, seal, SEAL_HEX) != 0)
				return broken(c, 1, "the line with seq %" PRIu64
					      " has seal %s, but the anchor "
					      "at %s says %s: one of them was "
					      "rewritten%s", seq, seal,
					      anchor_where(c, a, where), a->seal,
					      c->key.seq != 0 && seq >=
					      c->key_start ? " (the key proves "
					      "the log's line: the anchor is "
					      "false)" : "");
			c->anchors_ok++;
		}
		c->next_anchor++;
	}
	return 0;
}

static int
check_seal(struct logcheck *c, const char *line, const struct audit_line *l,
	   const char *prev)
{
	char want[SEAL_HEX + 1];
	int r;

	if (l->seq < c->key_start) {
		c->uncovered++;
		return 0;
	}
	if (l->seq < c->key.seq)
		return broken(c, 0, "seq %" PRIu64 " comes after %" PRIu64,
			      l->seq, c->key.seq);
	if ((r = seal_advance(&c->key, l->seq)) != 0 ||
	    (r = seal_line(&c->key, prev, line, l->body_len, want)) != 0)
		return r == QR_ERR_INVALID ? broken(c, 0, "bad seq") : r;
	if (CRYPTO_memcmp(want, l->seal, SEAL_HEX) != 0) {
		if (memmem(line, l->body_len, RESTART_TEXT,
			   sizeof(RESTART_TEXT) - 1) != NULL)
			return broken(c, 0, "a new seal starts here (seq %"
				      PRIu64 ": dom0's seal state was lost or "
				      "removed); this key does not cover it "
				      "or the lines after it, the key shown "
				      "after it does", l->seq);
		return broken(c, 0, "the seal of seq %" PRIu64 " does not "
			      "verify: the line was changed, or written "
			      "without the seal key", l->seq);
	}
	c->proven++;
	return 0;
}

int
logcheck_torn(struct logcheck *c, int too_long)
{
	if (c->bad_line != 0)
		return QR_ERR_MISMATCH;
	c->lines_file++;
	c->lines++;
	return broken(c, 0, "%s", too_long ? "a line longer than any written"
		      : "the last line has no newline: a write was cut short");
}

int
logcheck_line(struct logcheck *c, const char *line, size_t n)
{
	struct audit_line l;
	char want[SEAL_CHAIN_HEX + 1];
	const char *prev;
	int r;

	if (c->bad_line != 0)
		return QR_ERR_MISMATCH;
	c->lines_file++;
	c->lines++;
	if (n + 1 > AUDIT_LINE_MAX || audit_parse(line, n, &l) != 0)
		return broken(c, 0, "no chain value: the line was not written "
			      "by qvm-remote-dom0, or was cut");
	if ((r = audit_chain_next(c->chain, line, l.content_len, want)) != 0)
		return r;
	if (memcmp(want, l.chain, SEAL_CHAIN_HEX) != 0)
		return broken(c, 0, "the hash chain breaks here: this line "
			      "was changed, or a line before it was "
			      "removed, moved or added");
	memcpy(c->chain, l.chain, sizeof(l.chain));
	if (!l.sealed) {
		if (c->file_sealed)
			return broken(c, 0, "a line without a seal after "
				      "sealed lines: it was added by hand");
		c->unsealed++;
		return 0;
	}
	if (c->file_sealed) {
		if (l.seq <= c->last_seq)
			return broken(c, 0, "seq %" PRIu64 " after seq %" PRIu64
				      ": a line was moved or repeated", l.seq,
				      c->last_seq);
		if (l.seq != c->last_seq + 1)
			return broken(c, 0, "seq jumps from %" PRIu64 " to %"
				      PRIu64 ": the lines between were cut "
				      "or removed", c->last_seq, l.seq);
		prev = c->last_seal;
	} else if (l.cont) {
		if (l.seq != l.prev_seq + 1)
			return broken(c, 0, "a continued file's first seq is "
				      "%" PRIu64 ", not %" PRIu64, l.seq,
				      l.prev_seq + 1);
		if (c->seen && (l.prev_seq != c->last_seq ||
				memcmp(l.prev_seal, c->last_seal, SEAL_HEX) ||
				memcmp(l.prev_chain, c->last_chain,
				       SEAL_CHAIN_HEX)))
			return broken(c, 0, "this file does not continue the "
				      "one before it (that ends at seq %"
				      PRIu64 ", this one says %" PRIu64 "): "
				      "a file between them is missing, or "
				      "one was changed", c->last_seq,
				      l.prev_seq);
		prev = l.prev_seal;
	} else if (c->seen) {
		return broken(c, 0, "this file does not continue the one "
			      "before it: its first sealed line is not an "
			      "action=log-continue line");
	} else if (l.seq != 1) {
		return broken(c, 0, "the first sealed line has seq %" PRIu64
			      " but says nothing of what came before it: "
			      "lines were cut from the start, or give the "
			      "older files first", l.seq);
	} else {
		prev = SEAL_ZERO;
	}
	if (!c->seen)
		c->first_seq = l.seq;
	if (memmem(line, l.body_len, RESTART_TEXT, sizeof(RESTART_TEXT) - 1))
		c->restarts++;
	if (c->key.seq != 0 && (r = check_seal(c, line, &l, prev)) != 0)
		return r;
	c->file_sealed = c->seen = 1;
	c->last_seq = l.seq;
	memcpy(c->last_seal, l.seal, sizeof(l.seal));
	memcpy(c->last_chain, l.chain, sizeof(l.chain));
	return check_anchors(c, l.seq, l.seal);
}

int
logcheck_finish(struct logcheck *c)
{
	char where[LOGCHECK_NAME_MAX + 24];

	if (c->bad_line != 0)
		return QR_ERR_MISMATCH;
	if (!c->sorted && c->anchors != NULL) {
		qsort(c->anchors, c->nanchors, sizeof(*c->anchors), cmp_anchor);
		c->sorted = 1;
	}
	for (; c->next_anchor < c->nanchors; c->next_anchor++) {
		const struct logcheck_anchor *a = &c->anchors[c->next_anchor];
		if (c->seen && a->seq <= c->last_seq)
			continue;
		c->lines_file++;        /* the line that is not there */
		return broken(c, 1, "the log ends at seq %" PRIu64 ", but "
			      "the anchor at %s shows seq %" PRIu64 " was "
			      "written: lines were cut from its end",
			      c->last_seq, anchor_where(c, a, where), a->seq);
	}
	return 0;
}

