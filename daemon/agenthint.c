/*
 * agenthint.c - STATE_DIR/agents/NAME: the agent level a VM last said.
 */
#include "agenthint.h"

#include <errno.h>
#include <linux/limits.h>  /* PATH_MAX: lib/limits.h shadows <limits.h> */
#include <stdio.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "frame.h"
#include "reader.h"
#include "vmname.h"

#include "banned.h"

#define HINT_DIR "agents"
#define HINT_TEXT_MAX 8             /* "99\n" and room to spare */

static int
hint_dir(char out[PATH_MAX], const char *state_dir)
{
	int n = snprintf(out, PATH_MAX, "%s/" HINT_DIR, state_dir);

	return n < 0 || n >= PATH_MAX ? QR_ERR_TOO_LARGE : 0;
}

unsigned
agenthint_load(const char *state_dir, const char *vm)
{
	char path[PATH_MAX];
	struct buf b = BUF_INIT(HINT_TEXT_MAX);
	uint64_t level = 0;
	int n;

	if (!vmname_valid(vm))
		return 0;
	n = snprintf(path, sizeof(path), "%s/" HINT_DIR "/%s", state_dir, vm);
	if (n > 0 && n < (int)sizeof(path) && read_file(path, &b) == 0 &&
	    b.len > 1 && b.data[b.len - 1] == '\n' &&
	    parse_u64((const uint8_t *)b.data, b.len - 1, AGENT_LEVEL_MAX,
		      &level) != 0)
		level = 0;
	buf_release(&b);
	return (unsigned)level;
}

int
agenthint_save(const char *state_dir, const char *vm, unsigned level)
{
	char dir[PATH_MAX], text[HINT_TEXT_MAX];
	int r, n;

	if (!vmname_valid(vm) || level > AGENT_LEVEL_MAX)
		return QR_ERR_INVALID;
	if ((r = hint_dir(dir, state_dir)) != 0)
		return r;
	if (level == 0) {
		char path[PATH_MAX];

		n = snprintf(path, sizeof(path), "%s/%s", dir, vm);
		if (n < 0 || n >= (int)sizeof(path))
			return QR_ERR_TOO_LARGE;
		return unlink(path) == 0 || errno == ENOENT ? 0 : QR_ERR_SYSTEM;
	}
	if ((r = mkdir_p(dir, 0700)) != 0)
		return r;
	n = snprintf(text, sizeof(text), "%u\n", level);
	return write_file_atomic(dir, vm, text, (size_t)n, 0600, 0);
}
