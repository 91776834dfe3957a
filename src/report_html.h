/* report_html.h - HTML pieces shared by the report's pages (report.c).
 * Each appends to a ts_buf and returns 0, TS_ENOMEM or TS_ECAP unless
 * said otherwise; nothing is kept between calls.
 */
#ifndef TS_REPORT_HTML_H
#define TS_REPORT_HTML_H

#include <stdint.h>

#include "util.h"

/* The doctype, head (title, inline style) and header bar; root is the
 * path from the page to the report folder ("" or "../"). */
int ts_rh_head(ts_buf *b, const char *title, const char *root);
/* The footer (where the counts come from, the band's profile) and the
 * closing tags. */
int ts_rh_foot(ts_buf *b, const char *source, const char *profile);
/* s HTML-escaped. */
int ts_rh_esc(ts_buf *b, const char *s);
/* JSON text s[0..n) indented two spaces per level, HTML-escaped. */
int ts_rh_pretty_json(ts_buf *b, const char *s, size_t n);
/* "YYYY-MM-DD HH:MM" of minute m. */
void ts_rh_time(int64_t m, char out[24]);
/* A count or rate for reading: "&ndash;" for NAN, else 2-3 figures. */
void ts_rh_num(double v, char *out, size_t cap);
/* s with characters other than [A-Za-z0-9._-] made '_', into out[cap]. */
void ts_rh_safe_name(const char *s, char *out, size_t cap);
/* Write b to dir/name whole. 0 or TS_EIO (err names the file). */
int ts_rh_write(const char *dir, const char *name, const ts_buf *b, char *err, size_t errlen);

#endif
