/*
 * escape.h - log text on its way into JSON and HTML.
 *
 * The page only ever puts log text into the DOM with textContent, and the
 * server escapes it again wherever it writes JSON or HTML itself, so a
 * line holding "<script>" or a quote can never become markup, whichever
 * side is wrong.  Both escapers emit printable ASCII only, whatever bytes
 * they are given (an edited log may hold anything), so their output is
 * valid UTF-8 and holds no control byte.  Pure.
 */
#ifndef QVMR_WEBUI_ESCAPE_H
#define QVMR_WEBUI_ESCAPE_H

#include <stddef.h>

#include "buf.h"

/*
 * Appends p[0..n) as a JSON string, quotes included.  '"' and '\' get
 * their short escapes; control bytes, DEL, bytes >= 0x80 (as U+0080..
 * U+00FF) and the HTML-significant < > & ' become \u00XX, so the result is
 * also inert inside an HTML document.  On failure out is as it was.
 */
int json_str(struct buf *out, const char *p, size_t n);
/* json_str of a C string. */
int json_cstr(struct buf *out, const char *s);

/*
 * Appends p[0..n) as HTML text or attribute value: & < > " ' become
 * entities; control bytes, DEL and bytes >= 0x80 become the visible text
 * \xHH, as the log itself writes them.  On failure out is as it was.
 */
int html_text(struct buf *out, const char *p, size_t n);
int html_ctext(struct buf *out, const char *s);

#endif
