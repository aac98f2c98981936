/*
 * config.c - /etc/qubes/remote.conf and QVM_REMOTE_* environment overrides.
 *
 * The file must mean the same to systemd's EnvironmentFile= and to bash, so
 * the accepted syntax is the small common subset: no expansions, no
 * commands, one assignment per line.  Bare values are limited to an
 * allowlist of characters that neither reader treats specially.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "bounds.h"
#include "reader.h"
#include "vmname.h"

#include "banned.h"

enum cfg_key {
	K_VMS, K_TRANSPORT, K_POLL, K_INTERVAL, K_WATCH_WAIT, K_TIMEOUT,
	K_MAX_JOBS, K_MAX_PER_VM, K_MAX_OUTPUT, K_MAX_AGE, K_LEGACY,
	K_KEYS_DIR, K_LOG, K_RUNTIME_DIR, K_STATE_DIR, K_QREXEC_DIR,
	K_MAX_PIDS, K_MAX_MEMORY, K_STOP_GRACE, K_POLICY_DIR, K_ASK_TIMEOUT,
	K_ASK_PROMPT, K_COUNT
};

static const char *const key_names[K_COUNT] = {
	[K_VMS] = "QVM_REMOTE_VMS",
	[K_TRANSPORT] = "QVM_REMOTE_TRANSPORT",
	[K_POLL] = "QVM_REMOTE_POLL",
	[K_INTERVAL] = "QVM_REMOTE_INTERVAL",
	[K_WATCH_WAIT] = "QVM_REMOTE_WATCH_WAIT",
	[K_TIMEOUT] = "QVM_REMOTE_TIMEOUT",
	[K_MAX_JOBS] = "QVM_REMOTE_MAX_JOBS",
	[K_MAX_PER_VM] = "QVM_REMOTE_MAX_PER_VM",
	[K_MAX_OUTPUT] = "QVM_REMOTE_MAX_OUTPUT",
	[K_MAX_AGE] = "QVM_REMOTE_MAX_AGE",
	[K_LEGACY] = "QVM_REMOTE_LEGACY_AUTH",
	[K_KEYS_DIR] = "QVM_REMOTE_KEYS_DIR",
	[K_LOG] = "QVM_REMOTE_LOG",
	[K_RUNTIME_DIR] = "QVM_REMOTE_RUNTIME_DIR",
	[K_STATE_DIR] = "QVM_REMOTE_STATE_DIR",
	[K_QREXEC_DIR] = "QVM_REMOTE_QREXEC_DIR",
	[K_MAX_PIDS] = "QVM_REMOTE_MAX_PIDS",
	[K_MAX_MEMORY] = "QVM_REMOTE_MAX_MEMORY",
	[K_STOP_GRACE] = "QVM_REMOTE_STOP_GRACE",
	[K_POLICY_DIR] = "QVM_REMOTE_POLICY_DIR",
	[K_ASK_TIMEOUT] = "QVM_REMOTE_ASK_TIMEOUT",
	[K_ASK_PROMPT] = "QVM_REMOTE_ASK_PROMPT",
};

/* Numeric keys and their ranges. */
struct range {
	uint64_t lo, hi;
};

static const struct range ranges[K_COUNT] = {
	[K_INTERVAL] = { 1, 3600 },
	[K_WATCH_WAIT] = { 1, 3600 },
	[K_TIMEOUT] = { 1, TIMEOUT_MAX },
	[K_MAX_JOBS] = { 1, 256 },
	[K_MAX_PER_VM] = { 1, 64 },
	[K_MAX_OUTPUT] = { 1, 1u << 30 },
	[K_MAX_AGE] = { 1, 30u * 86400u },
	[K_MAX_PIDS] = { 16, 1u << 22 },
	[K_MAX_MEMORY] = { 16u << 20, (uint64_t)1 << 40 },
	[K_STOP_GRACE] = { 1, 3600 },
	[K_ASK_TIMEOUT] = { 10, TIMEOUT_MAX },
};

#define DEF_KEYS_DIR "/etc/qubes/remote.d"
#define DEF_POLICY_DIR "/etc/qubes/remote-policy.d"
/* in a directory of its own, 0750: /var/log/qubes is group-writable */
#define DEF_LOG "/var/log/qubes/qvm-remote/qvm-remote.log"
#define DEF_RUNTIME_DIR "/run/qvm-remote"
#define DEF_STATE_DIR "/var/lib/qvm-remote"
#define DEF_QREXEC_DIR "/var/run/qubes"

/* How much of an offending value an error message quotes. */
#define QUOTE_MAX 48

static void seterr(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	if (vsnprintf(err, CONFIG_ERR_MAX, fmt, ap) < 0)
		err[0] = '\0';
	va_end(ap);
}

/* A printable, bounded copy of v for an error message. */
static void quoted(const char *v, size_t n, char out[QUOTE_MAX + 4])
{
	size_t i, k = n < QUOTE_MAX ? n : QUOTE_MAX;

	for (i = 0; i < k; i++) {
		unsigned char c = (unsigned char)v[i];

		out[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	if (n > QUOTE_MAX) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

static int path_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || v[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] == 0x7f)
			return 0;
	return 1;
}

static int parse_list(const char *key, const char *v, size_t n,
		      struct name_list *out, char *msg)
{
	struct name_list l;
	char q[QUOTE_MAX + 4];
	size_t i = 0, start, len, j;

	memset(&l, 0, sizeof(l));
	while (i < n) {
		if (v[i] == ' ' || v[i] == '\t') {
			i++;
			continue;
		}
		start = i;
		while (i < n && v[i] != ' ' && v[i] != '\t')
			i++;
		len = i - start;
		quoted(v + start, len, q);
		if (l.n == CONFIG_LIST_MAX) {
			seterr(msg, "%s: more than %u VM names", key,
			       CONFIG_LIST_MAX);
			return QR_ERR_INVALID;
		}
		if (len > VMNAME_MAX) {
			seterr(msg, "%s: '%s' is not a valid VM name", key, q);
			return QR_ERR_INVALID;
		}
		memcpy(l.name[l.n], v + start, len);
		l.name[l.n][len] = '\0';
		if (!vmname_valid(l.name[l.n])) {
			seterr(msg, "%s: '%s' is not a valid VM name", key, q);
			return QR_ERR_INVALID;
		}
		for (j = 0; j < l.n; j++) {
			if (strcmp(l.name[j], l.name[l.n]) == 0) {
				seterr(msg, "%s: '%s' is listed twice", key, q);
				return QR_ERR_INVALID;
			}
		}
		l.n++;
	}
	*out = l;
	return 0;
}

static int set_path(char dst[CONFIG_PATH_MAX], const char *key,
		    const char *v, size_t n, char *msg)
{
	char q[QUOTE_MAX + 4];

	if (n >= CONFIG_PATH_MAX) {
		seterr(msg, "%s: path is longer than %u bytes", key,
		       CONFIG_PATH_MAX - 1);
		return QR_ERR_INVALID;
	}
	if (!path_ok(v, n)) {
		quoted(v, n, q);
		seterr(msg, "%s: expected an absolute path, not '%s'", key, q);
		return QR_ERR_INVALID;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

/* [a-z_][a-z0-9_-]*, as policy_user_valid() */
static int user_ok(const char *v, size_t n)
{
	if (n == 0 || n > CONFIG_USER_MAX ||
	    !((v[0] >= 'a' && v[0] <= 'z') || v[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		      v[i] == '_' || v[i] == '-'))
			return 0;
	return 1;
}

/* ":N" or ":N.M", N and M of 1 to 4 digits */
static int display_ok(const char *v, size_t n)
{
	size_t i = 1, digits;

	if (n < 2 || n >= CONFIG_DISPLAY_MAX || v[0] != ':')
		return 0;
	for (int part = 0; part < 2 && i <= n; part++) {
		for (digits = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++)
			digits++;
		if (digits == 0 || digits > 4)
			return 0;
		if (i == n)
			return 1;
		if (part == 0 && v[i] == '.')
			i++;
		else
			return 0;
	}
	return 0;
}

/* QVM_REMOTE_ASK_PROMPT: auto, none or USER@DISPLAY. */
static int set_prompt(struct config *c, const char *key, const char *v,
		      size_t n, char *msg)
{
	const char *at = memchr(v, '@', n);
	char q[QUOTE_MAX + 4];

	if (n == 4 && memcmp(v, "auto", 4) == 0) {
		c->ask_prompt = ASK_PROMPT_AUTO;
		return 0;
	}
	if (n == 4 && memcmp(v, "none", 4) == 0) {
		c->ask_prompt = ASK_PROMPT_NONE;
		return 0;
	}
	if (at != NULL && user_ok(v, (size_t)(at - v)) &&
	    display_ok(at + 1, n - (size_t)(at - v) - 1)) {
		c->ask_prompt = ASK_PROMPT_FIXED;
		memcpy(c->ask_prompt_user, v, (size_t)(at - v));
		c->ask_prompt_user[at - v] = '\0';
		memcpy(c->ask_prompt_display, at + 1, n - (size_t)(at - v) - 1);
		c->ask_prompt_display[n - (size_t)(at - v) - 1] = '\0';
		return 0;
	}
	quoted(v, n, q);
	seterr(msg, "%s: expected auto, none or USER@:DISPLAY, not '%s'", key,
	       q);
	return QR_ERR_INVALID;
}

/* Applies one already unquoted value; msg names the key, not the line. */
static int set_value(struct config *c, enum cfg_key k, const char *v,
		     size_t n, char *msg)
{
	const char *key = key_names[k];
	char q[QUOTE_MAX + 4];
	uint64_t x;
	int r;

	switch (k) {
	case K_VMS:
		if ((r = parse_list(key, v, n, &c->vms, msg)) != 0)
			return r;
		/* an empty list means "every VM with a key", as if unset */
		c->vms_set = c->vms.n > 0;
		return 0;
	case K_LEGACY:
		return parse_list(key, v, n, &c->legacy, msg);
	case K_TRANSPORT:
		if (n == 13 && memcmp(v, "qrexec-client", 13) == 0) {
			c->transport = TRANSPORT_QREXEC_CLIENT;
			return 0;
		}
		if (n == 7 && memcmp(v, "qvm-run", 7) == 0) {
			c->transport = TRANSPORT_QVM_RUN;
			return 0;
		}
		quoted(v, n, q);
		seterr(msg, "%s: expected qrexec-client or qvm-run, not '%s'",
		       key, q);
		return QR_ERR_INVALID;
	case K_POLL:
		if (n == 5 && memcmp(v, "watch", 5) == 0) {
			c->poll = POLL_WATCH;
			return 0;
		}
		if (n == 8 && memcmp(v, "interval", 8) == 0) {
			c->poll = POLL_INTERVAL;
			return 0;
		}
		quoted(v, n, q);
		seterr(msg, "%s: expected watch or interval, not '%s'", key, q);
		return QR_ERR_INVALID;
	case K_INTERVAL:
	case K_WATCH_WAIT:
	case K_TIMEOUT:
	case K_MAX_JOBS:
	case K_MAX_PER_VM:
	case K_MAX_OUTPUT:
	case K_MAX_AGE:
	case K_MAX_PIDS:
	case K_MAX_MEMORY:
	case K_STOP_GRACE:
	case K_ASK_TIMEOUT:
		if (parse_u64((const uint8_t *)v, n, ranges[k].hi, &x) != 0 ||
		    x < ranges[k].lo) {
			quoted(v, n, q);
			seterr(msg, "%s: expected a number from %llu to %llu, "
			       "not '%s'", key,
			       (unsigned long long)ranges[k].lo,
			       (unsigned long long)ranges[k].hi, q);
			return QR_ERR_INVALID;
		}
		break;
	case K_ASK_PROMPT:
		return set_prompt(c, key, v, n, msg);
	case K_KEYS_DIR:
		return set_path(c->keys_dir, key, v, n, msg);
	case K_POLICY_DIR:
		return set_path(c->policy_dir, key, v, n, msg);
	case K_LOG:
		return set_path(c->log_path, key, v, n, msg);
	case K_RUNTIME_DIR:
		return set_path(c->runtime_dir, key, v, n, msg);
	case K_STATE_DIR:
		return set_path(c->state_dir, key, v, n, msg);
	case K_QREXEC_DIR:
		return set_path(c->qrexec_dir, key, v, n, msg);
	case K_COUNT:
		return QR_ERR_INVALID;
	}
	switch (k) {
	case K_INTERVAL:
		c->interval_s = (unsigned)x;
		break;
	case K_WATCH_WAIT:
		c->watch_wait_s = (unsigned)x;
		break;
	case K_TIMEOUT:
		c->timeout_s = (unsigned)x;
		break;
	case K_MAX_JOBS:
		c->max_jobs = (unsigned)x;
		break;
	case K_MAX_PER_VM:
		c->max_per_vm = (unsigned)x;
		break;
	case K_MAX_OUTPUT:
		c->max_output = x;
		break;
	case K_MAX_AGE:
		c->max_age_s = x;
		break;
	case K_MAX_PIDS:
		c->max_pids = x;
		break;
	case K_MAX_MEMORY:
		c->max_memory = x;
		break;
	case K_STOP_GRACE:
		c->stop_grace_s = (unsigned)x;
		break;
	case K_ASK_TIMEOUT:
		c->ask_timeout_s = (unsigned)x;
		break;
	default:
		break;
	}
	return 0;
}

static int key_lookup(const char *k, size_t n)
{
	int i;

	for (i = 0; i < K_COUNT; i++)
		if (strlen(key_names[i]) == n && memcmp(key_names[i], k, n) == 0)
			return i;
	return -1;
}

/* systemd may set these; take one only if it is a usable path. */
static void env_dir(char dst[CONFIG_PATH_MAX], const char *var,
		    const char *def)
{
	const char *v = getenv(var);
	size_t n;

	if (v != NULL) {
		n = strlen(v);
		/* several directories come ':'-separated: not ours */
		if (n < CONFIG_PATH_MAX && path_ok(v, n) &&
		    memchr(v, ':', n) == NULL) {
			memcpy(dst, v, n + 1);
			return;
		}
	}
	memcpy(dst, def, strlen(def) + 1);
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->transport = TRANSPORT_QREXEC_CLIENT;
	c->poll = POLL_WATCH;
	c->interval_s = 2;
	c->watch_wait_s = 30;
	c->timeout_s = 300;
	c->max_jobs = 8;
	c->max_per_vm = 2;
	c->max_output = 10485760;
	c->max_age_s = 86400;
	c->max_pids = 1024;
	c->max_memory = (uint64_t)4 << 30;
	c->stop_grace_s = 10;
	c->ask_timeout_s = 300;
	c->ask_prompt = ASK_PROMPT_AUTO;
	memcpy(c->keys_dir, DEF_KEYS_DIR, sizeof(DEF_KEYS_DIR));
	memcpy(c->policy_dir, DEF_POLICY_DIR, sizeof(DEF_POLICY_DIR));
	memcpy(c->log_path, DEF_LOG, sizeof(DEF_LOG));
	env_dir(c->runtime_dir, "RUNTIME_DIRECTORY", DEF_RUNTIME_DIR);
	env_dir(c->state_dir, "STATE_DIRECTORY", DEF_STATE_DIR);
	memcpy(c->qrexec_dir, DEF_QREXEC_DIR, sizeof(DEF_QREXEC_DIR));
}

static int key_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int key_char(char c)
{
	return key_start(c) || (c >= '0' && c <= '9');
}

/* Characters a bare value may hold: nothing bash or systemd expands,
 * splits or interprets. */
static int bare_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("_./:,+@%=-", c) != NULL;
}

/*
 * Reads the value at line[*i..n) into val (unquoted).  Returns 0, or
 * QR_ERR_INVALID with msg set.
 */
static int read_value(const char *line, size_t n, size_t *i,
		      char val[CONFIG_VALUE_MAX], size_t *vlen,
		      const char *key, char *msg)
{
	size_t j = *i, k = 0;
	unsigned char c;
	char q;

	if (j < n && (line[j] == '\'' || line[j] == '"')) {
		q = line[j++];
		for (;;) {
			if (j == n) {
				seterr(msg, "%s: missing closing %s quote", key,
				       q == '"' ? "double" : "single");
				return QR_ERR_INVALID;
			}
			c = (unsigned char)line[j];
			if (c == (unsigned char)q) {
				j++;
				break;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				seterr(msg, "%s: control character in value",
				       key);
				return QR_ERR_INVALID;
			}
			if (q == '"' && (c == '$' || c == '`')) {
				seterr(msg, "%s: unescaped '%c' inside double "
				       "quotes; write \\%c or use single quotes",
				       key, c, c);
				return QR_ERR_INVALID;
			}
			if (q == '"' && c == '\\') {
				if (j + 1 == n ||
				    strchr("\"\\$`", line[j + 1]) == NULL) {
					seterr(msg, "%s: only \\\" \\\\ \\$ \\` "
					       "escapes are allowed", key);
					return QR_ERR_INVALID;
				}
				c = (unsigned char)line[++j];
			}
			if (k + 1 >= CONFIG_VALUE_MAX) {
				seterr(msg, "%s: value is longer than %u bytes",
				       key, CONFIG_VALUE_MAX - 1);
				return QR_ERR_INVALID;
			}
			val[k++] = (char)c;
			j++;
		}
	} else {
		while (j < n && line[j] != ' ' && line[j] != '\t') {
			if (!bare_char(line[j])) {
				seterr(msg, "%s: character '%c' needs quotes",
				       key, (line[j] >= 0x20 && line[j] < 0x7f) ?
				       line[j] : '?');
				return QR_ERR_INVALID;
			}
			if (k + 1 >= CONFIG_VALUE_MAX) {
				seterr(msg, "%s: value is longer than %u bytes",
				       key, CONFIG_VALUE_MAX - 1);
				return QR_ERR_INVALID;
			}
			val[k++] = line[j++];
		}
	}
	val[k] = '\0';
	*vlen = k;
	*i = j;
	return 0;
}

static int parse_line(struct config *c, const char *line, size_t n,
		      unsigned lineno, unsigned first_line[K_COUNT],
		      char *msg)
{
	char val[CONFIG_VALUE_MAX];
	size_t i = 0, kstart, vlen;
	int k, r;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == n || line[i] == '#')
		return 0;
	if (!key_start(line[i])) {
		seterr(msg, "expected KEY=value");
		return QR_ERR_INVALID;
	}
	kstart = i;
	while (i < n && key_char(line[i]))
		i++;
	if (i == n || line[i] != '=') {
		seterr(msg, "expected KEY=value");
		return QR_ERR_INVALID;
	}
	if ((k = key_lookup(line + kstart, i - kstart)) < 0) {
		seterr(msg, "unknown key '%.*s'",
		       (int)(i - kstart > 64 ? 64 : i - kstart), line + kstart);
		return QR_ERR_INVALID;
	}
	if (first_line[k] != 0) {
		seterr(msg, "%s is set twice (first on line %u)", key_names[k],
		       first_line[k]);
		return QR_ERR_INVALID;
	}
	first_line[k] = lineno;
	i++;
	if ((r = read_value(line, n, &i, val, &vlen, key_names[k], msg)) != 0)
		return r;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i != n) {
		seterr(msg, "%s: unexpected text after the value; quote a value "
		       "with spaces", key_names[k]);
		return QR_ERR_INVALID;
	}
	return set_value(c, (enum cfg_key)k, val, vlen, msg);
}

int config_parse(const char *text, size_t n, struct config *c,
		 char err[CONFIG_ERR_MAX])
{
	unsigned first_line[K_COUNT] = { 0 };
	char msg[CONFIG_ERR_MAX];
	const char *line, *nl;
	unsigned lineno = 0;
	size_t i = 0, len;
	int r;

	if (n > CONFIG_FILE_MAX) {
		seterr(err, "file is larger than %u bytes", CONFIG_FILE_MAX);
		return QR_ERR_TOO_LARGE;
	}
	if (text == NULL && n > 0)
		return QR_ERR_INVALID;
	while (i < n) {
		lineno++;
		line = text + i;
		nl = memchr(line, '\n', n - i);
		len = nl != NULL ? (size_t)(nl - line) : n - i;
		i += len + (nl != NULL);
		if (memchr(line, '\0', len) != NULL) {
			seterr(err, "line %u: NUL byte", lineno);
			return QR_ERR_INVALID;
		}
		msg[0] = '\0';
		if ((r = parse_line(c, line, len, lineno, first_line, msg)) != 0) {
			seterr(err, "line %u: %s", lineno, msg);
			return r;
		}
	}
	return 0;
}

int config_set(struct config *c, const char *key, const char *value,
	       char err[CONFIG_ERR_MAX])
{
	char q[QUOTE_MAX + 4];
	int k;

	if (key == NULL || value == NULL)
		return QR_ERR_INVALID;
	if ((k = key_lookup(key, strlen(key))) < 0) {
		quoted(key, strlen(key), q);
		seterr(err, "unknown key '%s'", q);
		return QR_ERR_INVALID;
	}
	return set_value(c, (enum cfg_key)k, value, strlen(value), err);
}

int config_apply_env(struct config *c, char err[CONFIG_ERR_MAX])
{
	char msg[CONFIG_ERR_MAX];
	const char *v;
	int k, r;

	for (k = 0; k < K_COUNT; k++) {
		if ((v = getenv(key_names[k])) == NULL)
			continue;
		msg[0] = '\0';
		if ((r = set_value(c, (enum cfg_key)k, v, strlen(v), msg)) != 0) {
			seterr(err, "environment: %s", msg);
			return r;
		}
	}
	return 0;
}

int name_list_has(const struct name_list *l, const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < l->n; i++)
		if (strcmp(l->name[i], name) == 0)
			return 1;
	return 0;
}
