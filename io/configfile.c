/*
 * configfile.c - the configuration read from its file (config.h parses).
 */
#include "configfile.h"

#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "fileio.h"
#include "banned.h"

int config_load_file(const char *path, struct config *c,
		     char err[CONFIG_ERR_MAX])
{
	struct buf b = BUF_INIT(CONFIG_FILE_MAX);
	int r;

	if ((r = read_file(path, &b)) != 0) {
		if (err == NULL)
			goto out;
		if (r == QR_ERR_NOT_FOUND)
			snprintf(err, CONFIG_ERR_MAX, "no such file");
		else if (r == QR_ERR_TOO_LARGE)
			snprintf(err, CONFIG_ERR_MAX, "file is larger than %u bytes",
				 CONFIG_FILE_MAX);
		else if (r == QR_ERR_INVALID)
			snprintf(err, CONFIG_ERR_MAX, "not a regular file");
		else
			snprintf(err, CONFIG_ERR_MAX, "cannot read the file");
		goto out;
	}
	r = config_parse(buf_str(&b), b.len, c, err);
out:
	buf_release(&b);
	return r;
}
