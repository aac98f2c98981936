/*
 * loggen.c - appends daemon-format lines to an audit log, for the browser
 * tests: the same lib/logline.h escaping and daemon/audit.c hash chain the
 * daemon uses, so the viewer sees exactly what dom0 writes.
 *
 *   webui-loggen LOG < SPEC
 *
 * SPEC has one line per log line, fields separated by tabs:
 *   WHEN<TAB>CATEGORY[<TAB>key=value]...
 * WHEN is seconds since the epoch, or "-N" for N seconds ago.  Values are
 * raw (a tab or newline cannot occur in them; everything else can) and are
 * escaped as the daemon escapes VM-supplied text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "logline.h"
#include "banned.h"

#define SPEC_LINE_MAX 8192

static int
parse_when(const char *s, time_t *out)
{
	char *end;
	long long v;

	/* "-N" is N seconds ago, "-0" included */
	int ago = s[0] == '-';

	errno = 0;
	v = strtoll(s + ago, &end, 10);
	if (errno != 0 || end == s + ago || *end != '\0' || v < 0 ||
	    s[ago] == '-' || s[ago] == '+')
		return -1;
	*out = ago ? time(NULL) - (time_t)v : (time_t)v;
	return 0;
}

static int
one_line(struct audit *a, struct buf *line, char *spec, unsigned long nr)
{
	char *fields[40];
	size_t n = 0, i;
	time_t when;
	char *p = spec;

	for (;;) {
		char *tab = strchr(p, '\t');

		if (n == sizeof(fields) / sizeof(fields[0])) {
			fprintf(stderr, "webui-loggen: spec line %lu: too many "
				"fields\n", nr);
			return -1;
		}
		fields[n++] = p;
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (n < 2 || parse_when(fields[0], &when) != 0) {
		fprintf(stderr, "webui-loggen: spec line %lu: want WHEN<TAB>"
			"CATEGORY[<TAB>key=value]...\n", nr);
		return -1;
	}
	buf_reset(line);
	if (logline_begin(line, when, fields[1]) != 0)
		return -1;
	for (i = 2; i < n; i++) {
		char *eq = strchr(fields[i], '=');

		if (eq == NULL) {
			fprintf(stderr, "webui-loggen: spec line %lu: '%s' has "
				"no '='\n", nr, fields[i]);
			return -1;
		}
		*eq = '\0';
		if (logline_kv(line, fields[i], eq + 1, strlen(eq + 1),
			       4096) != 0)
			return -1;
	}
	if (audit_write(a, line) != 0) {
		fprintf(stderr, "webui-loggen: cannot write line %lu: %s\n", nr,
			strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf line = BUF_INIT(AUDIT_LINE_MAX);
	struct audit a;
	char spec[SPEC_LINE_MAX], state[4200];
	unsigned long nr = 0;
	int r, rc = 0;

	if (argc != 2) {
		fputs("usage: webui-loggen LOG < SPEC\n", stderr);
		return 2;
	}
	/* the seal state beside the log, as a test keeps it */
	snprintf(state, sizeof(state), "%s.state", argv[1]);
	if ((r = audit_open(&a, argv[1], state)) != 0) {
		fprintf(stderr, "webui-loggen: cannot open '%s': %s\n", argv[1],
			qr_strerror(r));
		return 1;
	}
	while (fgets(spec, sizeof(spec), stdin) != NULL) {
		size_t len = strlen(spec);

		nr++;
		if (len > 0 && spec[len - 1] == '\n')
			spec[--len] = '\0';
		if (len == 0)
			continue;
		if (one_line(&a, &line, spec, nr) != 0) {
			rc = 1;
			break;
		}
	}
	audit_close(&a);
	buf_release(&line);
	return rc;
}
