/*
 * configfile.h - the configuration read from its file (the syntax is
 * config.h's).
 */
#ifndef QVMR_CONFIGFILE_H
#define QVMR_CONFIGFILE_H

#include "config.h"

/* Reads and applies a file (at most CONFIG_FILE_MAX bytes).  A missing
 * file is QR_ERR_NOT_FOUND, which callers may accept for the default path.
 * err does not name the file; callers prefix it. */
int config_load_file(const char *path, struct config *c,
		     char err[CONFIG_ERR_MAX]);

#endif
