/*
 * admin_prompt.c - `qvm-remote-dom0 prompt ID`, the desktop question the
 * service runs for a request that waits for a person (docs/protocol.md
 * section 5b): finds the person's graphical session, shows a zenity
 * question as that session's user, and writes the answer (via=desktop).
 *
 * Runs as root, started by the service; the dialog runs as the session's
 * user with only that user's credentials and a fixed environment.  Every
 * byte of the question that came from the VM is escaped first
 * (admin_ask_escape), and zenity is told --no-markup, so the VM can
 * neither move the text nor style it.  The deny button is the default:
 * a stray Enter refuses.
 */
#include "admin.h"
#include "admin_util.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "askfile.h"
#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "proc.h"
#include "banned.h"

#define TOOL_DIRS "/usr/bin:/bin"
#define LOGINCTL_TIMEOUT_MS 5000
#define SESSIONS_MAX 64u         /* sessions looked at */
#define SESSION_ID_MAX 64u
#define GROUPS_MAX 1024          /* supplementary groups of the user */
#define ZENITY_TIMEOUT_EXIT 5
#define DIALOG_GRACE_S 10        /* past its own --timeout, zenity is killed */
#define STOP_GRACE_MS 2000       /* SIGTERM to SIGKILL of the dialog */
#define TEXT_MAX (64u << 10)
#define DIALOG_STOPPED 256       /* not an exit code: it did not exit */
#define DIALOG_NO_DISPLAY 257    /* it could not open the display */
#define DIALOG_ERR_MAX 4096u     /* of its stderr, passed on to ours */
#define X_SOCKET_DIR "/tmp/.X11-unix"

/* The person's desktop: whom to show the question to, and where. */
struct desktop {
	char user[CONFIG_USER_MAX + 1];
	char display[CONFIG_DISPLAY_MAX];
};

/* ":N" or ":N.M", as QVM_REMOTE_ASK_PROMPT and loginctl give it. */
static int
display_valid(const char *s)
{
	size_t i = 1;
	int dot = 0;

	if (s[0] != ':' || s[1] < '0' || s[1] > '9' ||
	    strlen(s) >= CONFIG_DISPLAY_MAX)
		return 0;
	for (; s[i] != '\0'; i++) {
		if (s[i] == '.' && !dot && s[i + 1] >= '0' && s[i + 1] <= '9')
			dot = 1;
		else if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/* Whether d's X server has its socket, so that zenity's exit 1 means a
 * person's Deny and not a display that is not there. */
static int
display_up(const char *display)
{
	char path[sizeof(X_SOCKET_DIR) + CONFIG_DISPLAY_MAX + 2];
	size_t n = strcspn(display + 1, ".");
	struct stat st;

	snprintf(path, sizeof(path), X_SOCKET_DIR "/X%.*s", (int)n,
		 display + 1);
	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/*
 * Passes the dialog's stderr (in memfd fd) on to ours, and tells whether
 * it said it could not open the display: zenity then exits 1, as for
 * Deny.
 */
static int
dialog_err(int fd)
{
	char text[DIALOG_ERR_MAX + 1];
	size_t got = 0;

	if (pread_full(fd, text, DIALOG_ERR_MAX, 0, &got) != 0)
		return 0;
	text[got] = '\0';
	if (got > 0)
		(void)write_all(STDERR_FILENO, text, got);
	return strstr(text, "cannot open display") != NULL;
}

/* ------------------------------------------------------------ loginctl */

/* Runs loginctl ARGS into out; 0 when it ran and exited 0. */
static int
loginctl(char *const argv[], struct buf *out)
{
	char path[PATH_MAX];
	int r, status;

	if ((r = proc_find("loginctl", TOOL_DIRS, path)) != 0 ||
	    (r = admin_run_tool(path, argv, out, NULL, LOGINCTL_TIMEOUT_MS,
				&status)) != 0)
		return r;
	return status == 0 ? 0 : QR_ERR_INVALID;
}

/* The value of "KEY=value" in show-session's text, or NULL; at most max
 * bytes of it go to out. */
static const char *
prop(const char *text, const char *key, char *out, size_t max)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			len -= klen + 1;
			if (len >= max)
				return NULL;
			memcpy(out, p + klen + 1, len);
			out[len] = '\0';
			return out;
		}
		p = nl != NULL ? nl + 1 : NULL;
	}
	return NULL;
}

/* Whether session id is active, local, graphical with an X display
 * (Wayland counts through Xwayland's), and whose user it is. */
static int
session_fits(const char *id, struct desktop *d, struct buf *why)
{
	char *argv[] = {
		"loginctl", "show-session", (char *)id, "-p", "Active",
		"-p", "Remote", "-p", "Type", "-p", "Name", "-p", "Display",
		NULL
	};
	struct buf out = BUF_INIT(4096);
	char active[8], remote[8], type[16], name[CONFIG_USER_MAX + 1],
	     display[CONFIG_DISPLAY_MAX];
	const char *text;
	int ok = 0;

	if (loginctl(argv, &out) != 0)
		goto out;
	text = buf_str(&out);
	if (prop(text, "Active", active, sizeof(active)) == NULL ||
	    strcmp(active, "yes") != 0 ||
	    prop(text, "Remote", remote, sizeof(remote)) == NULL ||
	    strcmp(remote, "no") != 0 ||
	    prop(text, "Type", type, sizeof(type)) == NULL ||
	    (strcmp(type, "x11") != 0 && strcmp(type, "wayland") != 0))
		goto out;
	if (prop(text, "Display", display, sizeof(display)) == NULL ||
	    !display_valid(display)) {
		(void)buf_printf(why, "; session %s is %s without an X "
				 "display", id, type);
		goto out;
	}
	if (prop(text, "Name", name, sizeof(name)) == NULL ||
	    !policy_user_valid(name))
		goto out;
	snprintf(d->user, sizeof(d->user), "%s", name);
	snprintf(d->display, sizeof(d->display), "%s", display);
	ok = 1;
out:
	buf_release(&out);
	return ok;
}

static int
session_id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

/* The first session of `loginctl list-sessions` that fits, into *d. */
static int
find_session(struct desktop *d, struct buf *why)
{
	char *argv[] = { "loginctl", "list-sessions", "--no-legend", NULL };
	struct buf out = BUF_INIT(64 << 10);
	const char *p;
	unsigned seen = 0;
	int found = 0, r;

	if ((r = loginctl(argv, &out)) != 0) {
		(void)buf_printf(why, "loginctl list-sessions failed (%s)",
				 r == QR_ERR_NOT_FOUND ? "no loginctl in "
				 TOOL_DIRS : qr_strerror(r));
		goto out;
	}
	for (p = buf_str(&out); *p != '\0' && !found && seen < SESSIONS_MAX;) {
		char id[SESSION_ID_MAX + 1];
		size_t n = 0;

		while (*p == ' ')
			p++;
		while (session_id_char(p[n]) && n < SESSION_ID_MAX)
			n++;
		if (n > 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
			memcpy(id, p, n);
			id[n] = '\0';
			seen++;
			found = session_fits(id, d, why);
		}
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	if (!found)
		(void)buf_printf(why, "%sno active local graphical session "
				 "(of %u)", why->len > 0 ? "; " : "", seen);
out:
	buf_release(&out);
	return found;
}

/* --------------------------------------------------------- the dialog */

/* The question: the VM, the request, whom it runs as, the rule, the
 * time; every byte of the VM's escaped. */
static int
question_text(struct buf *t, const struct ask_record *a, long left)
{
	int r;

	if ((r = buf_append_str(t, "The VM ")) != 0 ||
	    (r = admin_ask_escape(t, a->vm, strlen(a->vm))) != 0 ||
	    (r = buf_append_str(t, " asks to run in dom0:\n\n")) != 0)
		return r;
	if (a->form == BODY_SCRIPT)
		r = buf_printf(t, "  a script of %llu bytes, SHA-256 %s\n"
			       "  whose first lines are:\n\n",
			       (unsigned long long)a->bytes, a->sha256);
	if (r == 0)
		r = admin_ask_cmd_lines(t, a, "    ");
	if (r == 0 && a->form == BODY_ARGV)
		r = buf_printf(t, "\n  (the exact program and arguments, "
			       "run with no shell)\n");
	if (r == 0)
		r = buf_append_str(t, "\nas user: ");
	if (r == 0)
		r = admin_ask_escape(t, a->user, strlen(a->user));
	if (r == 0)
		r = buf_append_str(t, "\nallowed to ask by the rule: ");
	if (r == 0)
		r = admin_ask_escape(t, a->rule, strlen(a->rule));
	if (r == 0)
		r = buf_printf(t, "\n\nTime left: %ld s; no answer denies it. "
			       "Approve runs it; Deny refuses it.", left);
	return r;
}

/* The user's ids and groups into *u (groups into g), and home. */
static int
lookup_user(const char *name, struct proc_user *u, gid_t *g, int *ng,
	    char home[PATH_MAX])
{
	const struct passwd *pw = getpwnam(name);

	if (pw == NULL || pw->pw_dir == NULL ||
	    strlen(pw->pw_dir) >= PATH_MAX)
		return QR_ERR_NOT_FOUND;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(home, PATH_MAX, "%s", pw->pw_dir);
	*ng = GROUPS_MAX;
	if (getgrouplist(name, pw->pw_gid, g, ng) < 0)
		return QR_ERR_TOO_LARGE;
	u->groups = g;
	u->ngroups = (size_t)*ng;
	return 0;
}

/* Kills the dialog's group (SIGTERM, then SIGKILL after a grace) and
 * reaps it. */
static void
stop_dialog(pid_t pid)
{
	struct timespec slice = { 0, 50 * 1000000L };
	int i, status;

	(void)kill(-pid, SIGTERM);
	for (i = 0; i < STOP_GRACE_MS / 50; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			goto done;
		nanosleep(&slice, NULL);
	}
	(void)kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
done:
	(void)kill(-pid, SIGKILL);   /* what it left behind */
}

/*
 * Waits for the dialog with the signals of `set` blocked: its exit code
 * (0..255), or DIALOG_STOPPED when it did not exit by itself (a signal to
 * us, a signal to it, our deadline).
 */
static int
await_dialog(pid_t pid, const sigset_t *set, long limit_s)
{
	time_t deadline = time(NULL) + limit_s;
	int status;

	for (;;) {
		struct timespec ts = { 1, 0 };
		siginfo_t info;
		int sig = sigtimedwait(set, &info, &ts);
		pid_t w;

		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			complain("stopped by signal %d: the question is "
				 "withdrawn, nothing was answered", sig);
			stop_dialog(pid);
			return DIALOG_STOPPED;
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			(void)kill(-pid, SIGKILL);
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : DIALOG_STOPPED;
		}
		if (w < 0 && errno != EINTR)
			return DIALOG_STOPPED;
		if (time(NULL) >= deadline) {
			complain("the question outlived its time; it is "
				 "withdrawn");
			stop_dialog(pid);
			return DIALOG_STOPPED;
		}
	}
}

/*
 * Shows the question to d's user on d's display.  The dialog's exit code
 * (0 Approve, 1 Deny, 5 timed out, ...), DIALOG_STOPPED,
 * DIALOG_NO_DISPLAY after a message, or a negative qr_err after a
 * message when it could not be shown.
 */
static int
ask_person(const struct desktop *d, const struct ask_record *a, long left)
{
	char zenity[PATH_MAX], home[PATH_MAX], xauth[PATH_MAX + 16],
	     env_display[CONFIG_DISPLAY_MAX + 16], env_home[PATH_MAX + 8],
	     env_user[CONFIG_USER_MAX + 8], env_logname[CONFIG_USER_MAX + 16],
	     env_xauth[PATH_MAX + 32], title[VMNAME_MAX * 4 + 64],
	     timeout[24];
	struct buf text = BUF_INIT(TEXT_MAX), t = BUF_INIT(sizeof(title));
	gid_t groups[GROUPS_MAX];
	struct proc_user u;
	struct stat st;
	sigset_t set, old;
	char *env[8];
	size_t ne = 0;
	pid_t pid;
	int ng, r, code = QR_ERR_INVALID, errfd = -1;

	if ((r = proc_find("zenity", TOOL_DIRS, zenity)) != 0) {
		complain("no zenity in " TOOL_DIRS ", so no desktop question; "
			 "install it with: qubes-dom0-update zenity");
		return QR_ERR_NOT_FOUND;
	}
	if ((r = lookup_user(d->user, &u, groups, &ng, home)) != 0) {
		complain("the desktop's user '%s' %s", d->user,
			 r == QR_ERR_NOT_FOUND ? "does not exist"
					       : "has too many groups");
		return r;
	}
	if (!display_up(d->display)) {
		complain("the display %s of '%s' is not there (no "
			 X_SOCKET_DIR "/X socket)", d->display, d->user);
		return DIALOG_NO_DISPLAY;
	}
	if (u.uid != geteuid() && geteuid() != 0) {
		complain("only root can show the question as '%s'", d->user);
		return QR_ERR_PERMISSIONS;
	}
	if ((r = question_text(&text, a, left)) != 0 ||
	    (r = buf_append_str(&t, "qvm-remote: ")) != 0 ||
	    (r = admin_ask_escape(&t, a->vm, strlen(a->vm))) != 0 ||
	    (r = buf_append_str(&t, " asks to run a command in dom0")) != 0) {
		complain("cannot write the question: %s", qr_strerror(r));
		goto out;
	}
	snprintf(title, sizeof(title), "%s", buf_str(&t));
	snprintf(timeout, sizeof(timeout), "%ld", left);
	snprintf(env_display, sizeof(env_display), "DISPLAY=%s", d->display);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	snprintf(env_user, sizeof(env_user), "USER=%s", d->user);
	snprintf(env_logname, sizeof(env_logname), "LOGNAME=%s", d->user);
	env[ne++] = env_display;
	snprintf(xauth, sizeof(xauth), "%s/.Xauthority", home);
	if (stat(xauth, &st) == 0 && S_ISREG(st.st_mode)) {
		snprintf(env_xauth, sizeof(env_xauth), "XAUTHORITY=%s", xauth);
		env[ne++] = env_xauth;
	}
	env[ne++] = env_home;
	env[ne++] = env_user;
	env[ne++] = env_logname;
	env[ne++] = "PATH=" TOOL_DIRS;
	env[ne] = NULL;
	{
		char *argv[] = {
			"zenity", "--question", "--no-markup", "--default-cancel",
			"--title", title, "--text", text.data,
			"--ok-label", "Approve", "--cancel-label", "Deny",
			"--timeout", timeout, "--width", "600", NULL
		};
		struct proc_opts o = {
			.path = zenity, .argv = argv, .envp = env,
			.in = PROC_NULL, .out = PROC_NULL, .err = PROC_FD,
			.cwd = home,
			.group = PROC_GROUP_NEW,
			.user = u.uid == geteuid() ? NULL : &u,
		};

		/* the signals that end the wait stay blocked while we wait
		 * for them; the dialog starts with none blocked (proc.h) */
		sigemptyset(&set);
		sigaddset(&set, SIGCHLD);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGHUP);
		if ((errfd = memfd_create("zenity-stderr", MFD_CLOEXEC)) < 0) {
			complain("cannot make a file for zenity's stderr: %s",
				 strerror(errno));
			code = QR_ERR_SYSTEM;
			goto out;
		}
		o.err_fd = errfd;
		sigprocmask(SIG_BLOCK, &set, &old);
		if ((r = proc_spawn(&o, &pid, NULL, NULL, NULL)) != 0) {
			int e = errno;

			sigprocmask(SIG_SETMASK, &old, NULL);
			complain("cannot start %s as '%s': %s", zenity, d->user,
				 admin_why(r, e));
			code = r;
			goto out;
		}
		code = await_dialog(pid, &set, left + DIALOG_GRACE_S);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (dialog_err(errfd) && code != 0) {
			complain("zenity could not open the display %s as '%s'",
				 d->display, d->user);
			code = DIALOG_NO_DISPLAY;
		}
	}
out:
	if (errfd >= 0)
		close(errfd);
	buf_release(&text);
	buf_release(&t);
	return code;
}

/* ------------------------------------------------------------ the verb */

static int
find_desktop(const struct config *c, struct desktop *d)
{
	struct buf why = BUF_INIT(1024);
	int found;

	if (c->ask_prompt == ASK_PROMPT_FIXED) {
		snprintf(d->user, sizeof(d->user), "%s", c->ask_prompt_user);
		snprintf(d->display, sizeof(d->display), "%s",
			 c->ask_prompt_display);
		return 1;
	}
	found = find_session(d, &why);
	if (!found)
		complain("no desktop to ask on: %s; answer in a terminal with: "
			 PROG " pending", buf_str(&why));
	buf_release(&why);
	return found;
}

int
admin_prompt(const struct config *c, int argc, char **argv)
{
	struct ask_record a, now;
	struct desktop d;
	long left;
	int code, r;

	if (argc != 2)
		return admin_usage("prompt ID");
	if (c->ask_prompt == ASK_PROMPT_NONE) {
		complain("desktop questions are off (QVM_REMOTE_ASK_PROMPT="
			 "none)");
		return PROMPT_NO_ANSWER;
	}
	if ((r = admin_ask_load(c, argv[1], &a)) != 0) {
		complain("no request %s to ask about (%s)", argv[1],
			 r == QR_ERR_NOT_FOUND ? "it does not wait"
					       : qr_strerror(r));
		return ADMIN_FAIL;
	}
	if ((left = admin_ask_left(&a)) == 0) {
		complain("request %s has expired", a.id);
		return PROMPT_NO_ANSWER;
	}
	if (!find_desktop(c, &d))
		return PROMPT_NO_ANSWER;
	code = ask_person(&d, &a, left);
	if (code < 0)
		return ADMIN_FAIL;
	if (code != 0 && code != 1) {
		if (code == ZENITY_TIMEOUT_EXIT)
			complain("no answer on %s's desktop within %ld s",
				 d.user, left);
		return PROMPT_NO_ANSWER;
	}
	/* the request may have stopped waiting while the dialog was up */
	if (admin_ask_load(c, a.id, &now) != 0 || strcmp(now.cid, a.cid) != 0) {
		complain("request %s stopped waiting before %s answered",
			 a.id, d.user);
		return PROMPT_NO_ANSWER;
	}
	if (admin_ask_answer(c, &a, code == 0, d.user, ASK_VIA_DESKTOP) != 0)
		return ADMIN_FAIL;
	say("%s %s %s's request %s on the desktop", d.user,
	    code == 0 ? "approved" : "denied", a.vm, a.id);
	return PROMPT_ANSWERED;
}
