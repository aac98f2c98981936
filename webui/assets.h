/*
 * assets.h - the page's files, compiled into the binary.
 *
 * webui/embed.sh turns webui/assets/ into a C file at build time, so the
 * viewer needs no files at run time and serves nothing but these: there
 * is no path from a URL to the file system.
 */
#ifndef QVMR_WEBUI_ASSETS_H
#define QVMR_WEBUI_ASSETS_H

#include <stddef.h>

struct asset {
	const char *path;       /* the URL path: "/", "/app.js" ... */
	const char *type;       /* Content-Type */
	const unsigned char *data;
	size_t len;
};

/* The asset served at path, or NULL. */
const struct asset *asset_find(const char *path);

#endif
