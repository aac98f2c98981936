/*
 * event.c - log lines rendered for the page, escaped on the way.
 */
#include "event.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "escape.h"
#include "logline.h"
#include "banned.h"

#define CHAIN_TAG " chain="
#define CHAIN_HEX 32u           /* AUDIT_CHAIN_HEX */

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

void
event_msg_span(const char *line, size_t n, const struct log_entry *e,
	       size_t *start, size_t *len)
{
	size_t tag = sizeof(CHAIN_TAG) - 1, i, s, end = n;

	if (end > 0 && line[end - 1] == '\n')
		end--;
	/* "[" TS "] " CATEGORY, then spaces: logparse checked the shape */
	s = 1 + LOGPARSE_TS_LEN + 2 + strlen(e->category);
	while (s < end && line[s] == ' ')
		s++;
	if (s > end)
		s = end;
	if (end - s >= tag + CHAIN_HEX &&
	    memcmp(line + end - CHAIN_HEX - tag, CHAIN_TAG, tag) == 0) {
		for (i = end - CHAIN_HEX; i < end && is_hex(line[i]); i++)
			;
		if (i == end)
			end -= CHAIN_HEX + tag;
	} else if (end - s == tag - 1 + CHAIN_HEX &&
		   memcmp(line + s, CHAIN_TAG + 1, tag - 1) == 0) {
		/* a line holding nothing but its chain value */
		for (i = end - CHAIN_HEX; i < end && is_hex(line[i]); i++)
			;
		if (i == end)
			end = s;
	}
	*start = s;
	*len = end - s;
}

/* A field's value when it holds no NUL (which no daemon line does). */
static const struct log_field *
text_field(const struct log_entry *e, const char *key)
{
	const struct log_field *f = logparse_get(e, key);

	if (f == NULL || memchr(f->value, '\0', f->value_len) != NULL)
		return NULL;
	return f;
}

/* ms= as decimal digits that fit 64 bits, else -1. */
static long long
ms_value(const struct log_entry *e)
{
	const struct log_field *f = text_field(e, "ms");
	unsigned long long v = 0;
	size_t i;

	if (f == NULL || f->value_len == 0 || f->value_len > 15)
		return -1;
	for (i = 0; i < f->value_len; i++) {
		if (f->value[i] < '0' || f->value[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(f->value[i] - '0');
	}
	return (long long)v;
}

static int
opt_field(struct buf *out, const struct log_entry *e, const char *key,
	  const char *name)
{
	const struct log_field *f = text_field(e, key);
	int r;

	if (f == NULL)
		return 0;
	if ((r = buf_printf(out, ",\"%s\":", name)) != 0)
		return r;
	return json_str(out, f->value, f->value_len);
}

int
event_line(struct buf *out, uint64_t instance, uint64_t seq,
	   uint64_t lineno, const char *line, size_t n,
	   struct log_entry *scratch)
{
	struct buf esc = BUF_INIT(4 * LOGPARSE_LINE_MAX + 8);
	size_t orig = out->len, s, len;
	long long ms;
	int r;

	if ((r = buf_printf(out, "id: %llx-%llu\nevent: line\ndata: "
			    "{\"seq\":%llu,\"n\":%llu,",
			    (unsigned long long)instance,
			    (unsigned long long)seq, (unsigned long long)seq,
			    (unsigned long long)lineno)) != 0)
		goto out;
	if (logparse_line(line, n, scratch) != 0) {
		/* not a line the daemon wrote: shown whole, made printable */
		if ((r = log_escape(&esc, line, n, LOGPARSE_LINE_MAX)) != 0 ||
		    (r = buf_append_str(out, "\"ok\":false,\"cat\":\"\","
					"\"msg\":")) != 0 ||
		    (r = json_str(out, esc.data != NULL ? esc.data : "",
				  esc.len)) != 0)
			goto out;
	} else {
		event_msg_span(line, n, scratch, &s, &len);
		if ((r = buf_printf(out, "\"ok\":true,\"ts\":\"%s\",\"t\":%lld,"
				    "\"cat\":\"%s\"", scratch->ts,
				    (long long)scratch->when,
				    scratch->category)) != 0 ||
		    (r = opt_field(out, scratch, "vm", "vm")) != 0 ||
		    (r = opt_field(out, scratch, "id", "cid")) != 0)
			goto out;
		if ((ms = ms_value(scratch)) >= 0 &&
		    (r = buf_printf(out, ",\"ms\":%lld", ms)) != 0)
			goto out;
		if ((r = buf_append_str(out, ",\"msg\":")) != 0 ||
		    (r = json_str(out, line + s, len)) != 0)
			goto out;
	}
	r = buf_append_str(out, "}\n\n");
out:
	buf_release(&esc);
	if (r != 0) {
		buf_truncate(out, orig);
	}
	return r;
}

int
event_mark(struct buf *out, uint64_t instance, uint64_t seq,
	   const char *text)
{
	size_t orig = out->len;
	int r;

	if ((r = buf_printf(out, "id: %llx-%llu\nevent: mark\ndata: "
			    "{\"seq\":%llu,\"text\":",
			    (unsigned long long)instance,
			    (unsigned long long)seq,
			    (unsigned long long)seq)) != 0 ||
	    (r = json_cstr(out, text)) != 0 ||
	    (r = buf_append_str(out, "}\n\n")) != 0) {
		buf_truncate(out, orig);
	}
	return r;
}

int
event_named(struct buf *out, const char *name, const char *json)
{
	return buf_printf(out, "event: %s\ndata: %s\n\n", name, json);
}

static int
cell(struct buf *out, const char *cls, const char *p, size_t n)
{
	int r;

	if ((r = buf_printf(out, "<td class=\"%s\">", cls)) != 0 ||
	    (r = html_text(out, p, n)) != 0)
		return r;
	return buf_append_str(out, "</td>");
}

int
event_html_row(struct buf *out, uint64_t lineno, const char *line,
	       size_t n, struct log_entry *scratch)
{
	struct buf esc = BUF_INIT(4 * LOGPARSE_LINE_MAX + 8);
	const struct log_field *vm;
	char num[24];
	size_t orig = out->len, s, len;
	int r;

	if (lineno > 0)
		snprintf(num, sizeof(num), "%llu", (unsigned long long)lineno);
	else
		num[0] = '\0';
	if (logparse_line(line, n, scratch) != 0) {
		if ((r = log_escape(&esc, line, n, LOGPARSE_LINE_MAX)) != 0 ||
		    (r = buf_append_str(out, "<tr class=\"bad\">")) != 0 ||
		    (r = cell(out, "n", num, strlen(num))) != 0 ||
		    (r = buf_append_str(out, "<td class=\"ts\"></td><td class="
					"\"cat\">?</td><td class=\"vm\"></td>"))
		    != 0 ||
		    (r = cell(out, "msg", esc.data != NULL ? esc.data : "",
			      esc.len)) != 0)
			goto out;
	} else {
		event_msg_span(line, n, scratch, &s, &len);
		vm = text_field(scratch, "vm");
		if ((r = buf_append_str(out, "<tr class=\"cat-")) != 0 ||
		    (r = html_ctext(out, scratch->category)) != 0 ||
		    (r = buf_append_str(out, "\">")) != 0 ||
		    (r = cell(out, "n", num, strlen(num))) != 0 ||
		    (r = cell(out, "ts", scratch->ts,
			      strlen(scratch->ts))) != 0 ||
		    (r = cell(out, "cat", scratch->category,
			      strlen(scratch->category))) != 0 ||
		    (r = cell(out, "vm", vm != NULL ? vm->value : "",
			      vm != NULL ? vm->value_len : 0)) != 0 ||
		    (r = cell(out, "msg", line + s, len)) != 0)
			goto out;
	}
	r = buf_append_str(out, "</tr>\n");
out:
	buf_release(&esc);
	if (r != 0) {
		buf_truncate(out, orig);
	}
	return r;
}
