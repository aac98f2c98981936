/*
 * test_lib_config.c - remote.conf parsing and environment overrides.
 */
#include "config.h"
#include "configfile.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "err.h"

#include "banned.h"

static struct config *c;
static char err[CONFIG_ERR_MAX];

static const char *const env_names[] = {
	"QVM_REMOTE_VMS", "QVM_REMOTE_TRANSPORT", "QVM_REMOTE_POLL",
	"QVM_REMOTE_INTERVAL", "QVM_REMOTE_WATCH_WAIT", "QVM_REMOTE_TIMEOUT",
	"QVM_REMOTE_MAX_JOBS", "QVM_REMOTE_MAX_PER_VM", "QVM_REMOTE_MAX_OUTPUT",
	"QVM_REMOTE_MAX_AGE", "QVM_REMOTE_LEGACY_AUTH", "QVM_REMOTE_KEYS_DIR",
	"QVM_REMOTE_LOG", "QVM_REMOTE_RUNTIME_DIR", "QVM_REMOTE_STATE_DIR",
	"QVM_REMOTE_QREXEC_DIR", "QVM_REMOTE_MAX_PIDS", "QVM_REMOTE_MAX_MEMORY",
	"QVM_REMOTE_STOP_GRACE", "QVM_REMOTE_POLICY_DIR", "QVM_REMOTE_ASK_TIMEOUT",
	"QVM_REMOTE_ASK_PROMPT", "RUNTIME_DIRECTORY", "STATE_DIRECTORY",
	"QVM_REMOTE_VM", "QVM_REMOTE_ID",
};

static void clear_env(void)
{
	size_t i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
}

static int setup(void **state)
{
	clear_env();
	c = malloc(sizeof(*c));
	if (c == NULL)
		return -1;
	config_defaults(c);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	clear_env();
	free(c);
	return 0;
}

static int parse(const char *text)
{
	err[0] = '\0';
	return config_parse(text, strlen(text), c, err);
}

static void expect_error(const char *text, const char *msg)
{
	int r = parse(text);

	if (r != QR_ERR_INVALID)
		fail_msg("accepted:\n%s", text);
	if (strcmp(err, msg) != 0)
		fail_msg("error '%s', expected '%s'", err, msg);
}

static void test_defaults(void **state)
{
	assert_int_equal(c->vms.n, 0);
	assert_int_equal(c->vms_set, 0);
	assert_int_equal(c->transport, TRANSPORT_QREXEC_CLIENT);
	assert_int_equal(c->poll, POLL_WATCH);
	assert_int_equal(c->interval_s, 2);
	assert_int_equal(c->watch_wait_s, 30);
	assert_int_equal(c->timeout_s, 300);
	assert_int_equal(c->max_jobs, 8);
	assert_int_equal(c->max_per_vm, 2);
	assert_true(c->max_output == 10485760);
	assert_true(c->max_age_s == 86400);
	assert_int_equal(c->legacy.n, 0);
	assert_string_equal(c->keys_dir, "/etc/qubes/remote.d");
	assert_string_equal(c->policy_dir, "/etc/qubes/remote-policy.d");
	assert_string_equal(c->log_path, "/var/log/qubes/qvm-remote/qvm-remote.log");
	assert_string_equal(c->runtime_dir, "/run/qvm-remote");
	assert_string_equal(c->state_dir, "/var/lib/qvm-remote");
	assert_string_equal(c->qrexec_dir, "/var/run/qubes");
}

static void test_systemd_dirs(void **state)
{
	setenv("RUNTIME_DIRECTORY", "/run/x", 1);
	setenv("STATE_DIRECTORY", "/var/lib/y", 1);
	config_defaults(c);
	assert_string_equal(c->runtime_dir, "/run/x");
	assert_string_equal(c->state_dir, "/var/lib/y");
	/* unusable values fall back to the defaults */
	setenv("RUNTIME_DIRECTORY", "relative", 1);
	setenv("STATE_DIRECTORY", "/a:/b", 1);
	config_defaults(c);
	assert_string_equal(c->runtime_dir, "/run/qvm-remote");
	assert_string_equal(c->state_dir, "/var/lib/qvm-remote");
}

static void test_full_file(void **state)
{
	assert_int_equal(parse(
		"# qvm-remote configuration\n"
		"\n"
		"   \t\n"
		"  # indented comment\n"
		"QVM_REMOTE_VMS=\"work  personal\tdev-1\"\n"
		"QVM_REMOTE_TRANSPORT=qvm-run\n"
		"QVM_REMOTE_POLL='interval'\n"
		"QVM_REMOTE_INTERVAL=5   \n"
		"  QVM_REMOTE_WATCH_WAIT=60\n"
		"QVM_REMOTE_TIMEOUT=86400\n"
		"QVM_REMOTE_MAX_JOBS=256\n"
		"QVM_REMOTE_MAX_PER_VM=64\n"
		"QVM_REMOTE_MAX_OUTPUT=1048576\n"
		"QVM_REMOTE_MAX_AGE=3600\n"
		"QVM_REMOTE_LEGACY_AUTH=old\n"
		"QVM_REMOTE_KEYS_DIR=/tmp/keys\n"
		"QVM_REMOTE_POLICY_DIR=/tmp/policy.d\n"
		"QVM_REMOTE_LOG='/tmp/log dir/q.log'\n"
		"QVM_REMOTE_RUNTIME_DIR=\"/tmp/run \\\"x\\\" \\$HOME \\` \\\\\"\n"
		"QVM_REMOTE_STATE_DIR=/tmp/state\n"
		"QVM_REMOTE_MAX_PIDS=64\n"
		"QVM_REMOTE_MAX_MEMORY=67108864\n"
		"QVM_REMOTE_STOP_GRACE=3\n"
		"QVM_REMOTE_QREXEC_DIR=/tmp/qrexec"), 0);   /* no final '\n' */
	assert_int_equal(c->vms.n, 3);
	assert_int_equal(c->vms_set, 1);
	assert_string_equal(c->vms.name[0], "work");
	assert_string_equal(c->vms.name[1], "personal");
	assert_string_equal(c->vms.name[2], "dev-1");
	assert_true(name_list_has(&c->vms, "personal"));
	assert_false(name_list_has(&c->vms, "other"));
	assert_false(name_list_has(&c->vms, NULL));
	assert_int_equal(c->transport, TRANSPORT_QVM_RUN);
	assert_int_equal(c->poll, POLL_INTERVAL);
	assert_int_equal(c->interval_s, 5);
	assert_int_equal(c->watch_wait_s, 60);
	assert_int_equal(c->timeout_s, 86400);
	assert_int_equal(c->max_jobs, 256);
	assert_int_equal(c->max_per_vm, 64);
	assert_true(c->max_output == 1048576);
	assert_true(c->max_age_s == 3600);
	assert_int_equal(c->legacy.n, 1);
	assert_true(name_list_has(&c->legacy, "old"));
	assert_string_equal(c->keys_dir, "/tmp/keys");
	assert_string_equal(c->policy_dir, "/tmp/policy.d");
	assert_string_equal(c->log_path, "/tmp/log dir/q.log");
	assert_string_equal(c->runtime_dir, "/tmp/run \"x\" $HOME ` \\");
	assert_string_equal(c->state_dir, "/tmp/state");
	assert_string_equal(c->qrexec_dir, "/tmp/qrexec");
	assert_true(c->max_pids == 64);
	assert_true(c->max_memory == 67108864);
	assert_int_equal(c->stop_grace_s, 3);
}

/* The ask keys: the time a person has, and where the prompt appears. */
static void test_ask(void **state)
{
	(void)state;
	assert_int_equal(c->ask_timeout_s, 300);
	assert_int_equal(c->ask_prompt, ASK_PROMPT_AUTO);
	assert_int_equal(parse("QVM_REMOTE_ASK_TIMEOUT=10\n"
			       "QVM_REMOTE_ASK_PROMPT=alice@:0.1\n"), 0);
	assert_int_equal(c->ask_timeout_s, 10);
	assert_int_equal(c->ask_prompt, ASK_PROMPT_FIXED);
	assert_string_equal(c->ask_prompt_user, "alice");
	assert_string_equal(c->ask_prompt_display, ":0.1");
	assert_int_equal(parse("QVM_REMOTE_ASK_PROMPT=none\n"), 0);
	assert_int_equal(c->ask_prompt, ASK_PROMPT_NONE);
	expect_error("QVM_REMOTE_ASK_TIMEOUT=9\n", "line 1: "
		     "QVM_REMOTE_ASK_TIMEOUT: expected a number from 10 to "
		     "86400, not '9'");
	static const char *const bad[] = {
		"alice", "alice@", "@:0", "Alice@:0", "alice@0", "alice@:",
		"alice@:0.", "alice@:0.1.2", "alice@:12345", "alice@host:0",
		"al ice@:0", "auto2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char line[64], msg[160];
		snprintf(line, sizeof(line), "QVM_REMOTE_ASK_PROMPT='%s'\n",
			 bad[i]);
		snprintf(msg, sizeof(msg), "line 1: QVM_REMOTE_ASK_PROMPT: "
			 "expected auto, none or USER@:DISPLAY, not '%s'",
			 bad[i]);
		expect_error(line, msg);
	}
}

static void test_empty_values(void **state)
{
	assert_int_equal(parse("QVM_REMOTE_VMS=\nQVM_REMOTE_LEGACY_AUTH=''\n"),
			 0);
	assert_int_equal(c->vms.n, 0);
	assert_int_equal(c->vms_set, 0);    /* empty: every VM with a key */
	assert_int_equal(parse("QVM_REMOTE_VMS=\"  \"\n"), 0);
	assert_int_equal(c->vms_set, 0);
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse("\n\n# only comments\n"), 0);
}

static void test_line_errors(void **state)
{
	expect_error("QVM_REMOTE_POLL=watch\nQVM_REMOTE_TIMEOUT=60\nFOO=1\n",
		     "line 3: unknown key 'FOO'");
	expect_error("qvm_remote_vms=work\n",
		     "line 1: unknown key 'qvm_remote_vms'");
	expect_error("QVM_REMOTE_TIMEOUT=5\n\nQVM_REMOTE_TIMEOUT=6\n",
		     "line 3: QVM_REMOTE_TIMEOUT is set twice (first on line 1)");
	expect_error("QVM_REMOTE_TIMEOUT\n", "line 1: expected KEY=value");
	expect_error("QVM_REMOTE_TIMEOUT =5\n", "line 1: expected KEY=value");
	expect_error("export QVM_REMOTE_TIMEOUT=5\n",
		     "line 1: expected KEY=value");
	expect_error("=5\n", "line 1: expected KEY=value");
	expect_error("1KEY=5\n", "line 1: expected KEY=value");
	expect_error("QVM_REMOTE_TIMEOUT=0\n",
		     "line 1: QVM_REMOTE_TIMEOUT: expected a number from 1 to "
		     "86400, not '0'");
	expect_error("QVM_REMOTE_TIMEOUT=86401\n",
		     "line 1: QVM_REMOTE_TIMEOUT: expected a number from 1 to "
		     "86400, not '86401'");
	expect_error("QVM_REMOTE_TIMEOUT=030\n",
		     "line 1: QVM_REMOTE_TIMEOUT: expected a number from 1 to "
		     "86400, not '030'");
	expect_error("QVM_REMOTE_TIMEOUT=\n",
		     "line 1: QVM_REMOTE_TIMEOUT: expected a number from 1 to "
		     "86400, not ''");
	expect_error("QVM_REMOTE_TRANSPORT=ssh\n",
		     "line 1: QVM_REMOTE_TRANSPORT: expected qrexec-client or "
		     "qvm-run, not 'ssh'");
	expect_error("QVM_REMOTE_POLL=often\n",
		     "line 1: QVM_REMOTE_POLL: expected watch or interval, not "
		     "'often'");
	expect_error("QVM_REMOTE_VMS=\"work dom0\"\n",
		     "line 1: QVM_REMOTE_VMS: 'dom0' is not a valid VM name");
	expect_error("QVM_REMOTE_VMS=\"work work\"\n",
		     "line 1: QVM_REMOTE_VMS: 'work' is listed twice");
	expect_error("QVM_REMOTE_LEGACY_AUTH=../x\n",
		     "line 1: QVM_REMOTE_LEGACY_AUTH: '../x' is not a valid VM "
		     "name");
	expect_error("QVM_REMOTE_VMS=abcdefghijklmnopqrstuvwxyz0123456\n",
		     "line 1: QVM_REMOTE_VMS: 'abcdefghijklmnopqrstuvwxyz0123456'"
		     " is not a valid VM name");
	expect_error("QVM_REMOTE_KEYS_DIR=relative/dir\n",
		     "line 1: QVM_REMOTE_KEYS_DIR: expected an absolute path, "
		     "not 'relative/dir'");
	expect_error("QVM_REMOTE_LOG=''\n",
		     "line 1: QVM_REMOTE_LOG: expected an absolute path, not ''");
	expect_error("QVM_REMOTE_STATE_DIR=\"/a\tb\"\n",
		     "line 1: QVM_REMOTE_STATE_DIR: expected an absolute path, "
		     "not '/a?b'");
}

static void test_ranges(void **state)
{
	static const struct {
		const char *key;
		const char *lo_bad, *lo, *hi, *hi_bad;
	} r[] = {
		{ "QVM_REMOTE_INTERVAL", "0", "1", "3600", "3601" },
		{ "QVM_REMOTE_WATCH_WAIT", "0", "1", "3600", "3601" },
		{ "QVM_REMOTE_TIMEOUT", "0", "1", "86400", "86401" },
		{ "QVM_REMOTE_MAX_JOBS", "0", "1", "256", "257" },
		{ "QVM_REMOTE_MAX_PER_VM", "0", "1", "64", "65" },
		{ "QVM_REMOTE_MAX_OUTPUT", "0", "1", "1073741824",
		  "1073741825" },
		{ "QVM_REMOTE_MAX_AGE", "0", "1", "2592000", "2592001" },
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		assert_int_equal(config_set(c, r[i].key, r[i].lo, err), 0);
		assert_int_equal(config_set(c, r[i].key, r[i].hi, err), 0);
		assert_int_equal(config_set(c, r[i].key, r[i].lo_bad, err),
				 QR_ERR_INVALID);
		assert_non_null(strstr(err, r[i].key));
		assert_int_equal(config_set(c, r[i].key, r[i].hi_bad, err),
				 QR_ERR_INVALID);
		assert_int_equal(config_set(c, r[i].key, "-1", err),
				 QR_ERR_INVALID);
		assert_int_equal(config_set(c, r[i].key, " 5", err),
				 QR_ERR_INVALID);
	}
}

static void test_quoting_errors(void **state)
{
	expect_error("QVM_REMOTE_LOG='/tmp/x\n",
		     "line 1: QVM_REMOTE_LOG: missing closing single quote");
	expect_error("QVM_REMOTE_LOG=\"/tmp/x\n",
		     "line 1: QVM_REMOTE_LOG: missing closing double quote");
	expect_error("QVM_REMOTE_LOG=\"/tmp/$HOME\"\n",
		     "line 1: QVM_REMOTE_LOG: unescaped '$' inside double quotes;"
		     " write \\$ or use single quotes");
	expect_error("QVM_REMOTE_LOG=\"/tmp/`id`\"\n",
		     "line 1: QVM_REMOTE_LOG: unescaped '`' inside double quotes;"
		     " write \\` or use single quotes");
	expect_error("QVM_REMOTE_LOG=\"/tmp/\\n\"\n",
		     "line 1: QVM_REMOTE_LOG: only \\\" \\\\ \\$ \\` escapes are "
		     "allowed");
	expect_error("QVM_REMOTE_VMS=work personal\n",
		     "line 1: QVM_REMOTE_VMS: unexpected text after the value; "
		     "quote a value with spaces");
	expect_error("QVM_REMOTE_LOG='/tmp/x'y\n",
		     "line 1: QVM_REMOTE_LOG: unexpected text after the value; "
		     "quote a value with spaces");
	expect_error("QVM_REMOTE_LOG='/tmp/x' # comment\n",
		     "line 1: QVM_REMOTE_LOG: unexpected text after the value; "
		     "quote a value with spaces");
	/* bare values: nothing a shell would expand or run */
	expect_error("QVM_REMOTE_LOG=/tmp/$HOME\n",
		     "line 1: QVM_REMOTE_LOG: character '$' needs quotes");
	expect_error("QVM_REMOTE_LOG=/tmp/x;id\n",
		     "line 1: QVM_REMOTE_LOG: character ';' needs quotes");
	expect_error("QVM_REMOTE_LOG=~/x\n",
		     "line 1: QVM_REMOTE_LOG: character '~' needs quotes");
	expect_error("QVM_REMOTE_LOG=/tmp/a\\b\n",
		     "line 1: QVM_REMOTE_LOG: character '\\' needs quotes");
	expect_error("QVM_REMOTE_LOG=/tmp/x\"y\"\n",
		     "line 1: QVM_REMOTE_LOG: character '\"' needs quotes");
	expect_error("QVM_REMOTE_LOG=/tmp/`id`\n",
		     "line 1: QVM_REMOTE_LOG: character '`' needs quotes");
	expect_error("QVM_REMOTE_LOG=/tmp/x\r\n",
		     "line 1: QVM_REMOTE_LOG: character '?' needs quotes");
	expect_error("QVM_REMOTE_LOG='/tmp/\x1b[31m'\n",
		     "line 1: QVM_REMOTE_LOG: control character in value");
	/* a NUL anywhere */
	err[0] = '\0';
	assert_int_equal(config_parse("QVM_REMOTE_LOG=/x\0y\n", 19, c, err),
			 QR_ERR_INVALID);
	assert_string_equal(err, "line 1: NUL byte");
}

static void test_sizes(void **state)
{
	char *big = malloc(CONFIG_FILE_MAX + 2);
	char line[CONFIG_PATH_MAX + 40];
	size_t n;

	assert_non_null(big);
	memset(big, '\n', CONFIG_FILE_MAX + 1);
	assert_int_equal(config_parse(big, CONFIG_FILE_MAX, c, err), 0);
	assert_int_equal(config_parse(big, CONFIG_FILE_MAX + 1, c, err),
			 QR_ERR_TOO_LARGE);
	assert_string_equal(err, "file is larger than 65536 bytes");
	free(big);

	/* a path of CONFIG_PATH_MAX - 1 bytes fits, one more does not */
	n = (size_t)snprintf(line, sizeof(line), "QVM_REMOTE_LOG=/");
	memset(line + n, 'a', CONFIG_PATH_MAX - 2);
	line[n + CONFIG_PATH_MAX - 2] = '\0';
	assert_int_equal(parse(line), 0);
	assert_int_equal(strlen(c->log_path), CONFIG_PATH_MAX - 1);
	line[n + CONFIG_PATH_MAX - 2] = 'a';
	line[n + CONFIG_PATH_MAX - 1] = '\0';
	assert_int_equal(parse(line), QR_ERR_INVALID);
	assert_string_equal(err, "line 1: QVM_REMOTE_LOG: path is longer than "
			    "1023 bytes");
}

static void test_list_limit(void **state)
{
	char v[CONFIG_LIST_MAX * 8 + 16];
	size_t i, n = 0;

	for (i = 0; i < CONFIG_LIST_MAX; i++)
		n += (size_t)snprintf(v + n, sizeof(v) - n, "vm%zu ", i);
	assert_int_equal(config_set(c, "QVM_REMOTE_VMS", v, err), 0);
	assert_int_equal(c->vms.n, CONFIG_LIST_MAX);
	snprintf(v + n, sizeof(v) - n, "one-more");
	assert_int_equal(config_set(c, "QVM_REMOTE_VMS", v, err),
			 QR_ERR_INVALID);
	assert_string_equal(err, "QVM_REMOTE_VMS: more than 256 VM names");
	assert_int_equal(c->vms.n, CONFIG_LIST_MAX);    /* unchanged */
}

static void test_more_paths(void **state)
{
	char longq[CONFIG_VALUE_MAX + 40];
	size_t n;

	/* the default transport can be named */
	assert_int_equal(parse("QVM_REMOTE_TRANSPORT=qrexec-client\n"), 0);
	assert_int_equal(c->transport, TRANSPORT_QREXEC_CLIENT);
	/* long offending values are cut in the message */
	expect_error("QVM_REMOTE_POLL=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		     "line 1: QVM_REMOTE_POLL: expected watch or interval, not "
		     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	/* a quoted value longer than the limit */
	n = (size_t)snprintf(longq, sizeof(longq), "QVM_REMOTE_LOG='/");
	memset(longq + n, 'a', CONFIG_VALUE_MAX);
	memcpy(longq + n + CONFIG_VALUE_MAX, "'", 2);
	assert_int_equal(parse(longq), QR_ERR_INVALID);
	assert_string_equal(err, "line 1: QVM_REMOTE_LOG: value is longer than "
			    "8191 bytes");
	/* err may be NULL */
	assert_int_equal(config_parse("FOO=1\n", 6, c, NULL), QR_ERR_INVALID);
	assert_int_equal(config_parse(NULL, 1, c, err), QR_ERR_INVALID);
}

static void test_config_set(void **state)
{
	assert_int_equal(config_set(c, "QVM_REMOTE_LOG", "/tmp/a b$c", err), 0);
	assert_string_equal(c->log_path, "/tmp/a b$c");   /* raw, unquoted */
	assert_int_equal(config_set(c, "QVM_REMOTE_NOPE", "1", err),
			 QR_ERR_INVALID);
	assert_string_equal(err, "unknown key 'QVM_REMOTE_NOPE'");
	assert_int_equal(config_set(c, "QVM_REMOTE_VMS", "a\nb", err),
			 QR_ERR_INVALID);
	assert_int_equal(config_set(c, NULL, "1", err), QR_ERR_INVALID);
	assert_int_equal(config_set(c, "QVM_REMOTE_LOG", NULL, err),
			 QR_ERR_INVALID);
	/* err may be NULL */
	assert_int_equal(config_set(c, "QVM_REMOTE_TIMEOUT", "x", NULL),
			 QR_ERR_INVALID);
}

static void test_env(void **state)
{
	assert_int_equal(parse("QVM_REMOTE_TIMEOUT=60\nQVM_REMOTE_VMS=a\n"), 0);
	setenv("QVM_REMOTE_TIMEOUT", "120", 1);
	setenv("QVM_REMOTE_VMS", "b c", 1);
	/* set for commands dom0 runs; not configuration */
	setenv("QVM_REMOTE_VM", "work", 1);
	setenv("QVM_REMOTE_ID", "x", 1);
	assert_int_equal(config_apply_env(c, err), 0);
	assert_int_equal(c->timeout_s, 120);      /* environment wins */
	assert_int_equal(c->vms.n, 2);
	assert_string_equal(c->vms.name[1], "c");
	setenv("QVM_REMOTE_MAX_JOBS", "0", 1);
	assert_int_equal(config_apply_env(c, err), QR_ERR_INVALID);
	assert_string_equal(err, "environment: QVM_REMOTE_MAX_JOBS: expected a "
			    "number from 1 to 256, not '0'");
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/qvmr-config-XXXXXX", path[128];
	static const char text[] = "QVM_REMOTE_POLL=interval\nBAD=1\n";
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/remote.conf", dir);
	assert_int_equal(config_load_file(path, c, err), QR_ERR_NOT_FOUND);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, 25), 25);
	assert_int_equal(config_load_file(path, c, err), 0);
	assert_int_equal(c->poll, POLL_INTERVAL);
	assert_int_equal(write(fd, text + 25, sizeof(text) - 26),
			 (ssize_t)sizeof(text) - 26);
	close(fd);
	config_defaults(c);
	assert_int_equal(config_load_file(path, c, err), QR_ERR_INVALID);
	assert_string_equal(err, "line 2: unknown key 'BAD'");
	assert_int_equal(config_load_file(dir, c, err), QR_ERR_INVALID);
	assert_string_equal(err, "not a regular file");
	/* larger than CONFIG_FILE_MAX */
	assert_int_equal(truncate(path, CONFIG_FILE_MAX + 1), 0);
	assert_int_equal(config_load_file(path, c, err), QR_ERR_TOO_LARGE);
	assert_string_equal(err, "file is larger than 65536 bytes");
	/* unreadable for another reason */
	snprintf(path + strlen(dir), sizeof(path) - strlen(dir),
		 "/remote.conf/x");
	assert_int_equal(config_load_file(path, c, err), QR_ERR_SYSTEM);
	assert_string_equal(err, "cannot read the file");
	snprintf(path, sizeof(path), "%s/remote.conf", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_systemd_dirs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoting_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_more_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
