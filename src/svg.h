/* svg.h - a per-minute time-series chart as inline SVG text.
 *
 * One function draws one chart: the observed counts per minute, the
 * expected rate and its band, a faint comparison line (the same minutes a
 * week earlier), the Start and End of an episode, UTC time ticks and a
 * linear or (when the range is wide) log y axis. No I/O: it appends to a
 * ts_buf. Everything it reads is borrowed for the call.
 *
 * The x scale is written on the <svg> element so a reader (a test, a
 * script) can map a minute to a pixel without trusting the drawing:
 *   x(t) = data-x0 + (t - data-t0) * data-px-per-min
 * where t is in epoch minutes and minute t covers [x(t), x(t + 1)); data
 * points sit at the middle of their minute, Start and End lines on the
 * boundary of theirs. Each tick is a <g class="tick"> with data-time (ISO).
 */
#ifndef TS_SVG_H
#define TS_SVG_H

#include <stdint.h>

#include "util.h"

#define TS_CHART_MAX_MINUTES (14 * TS_MIN_PER_DAY) /* longest chart drawn */

typedef struct ts_chart {
	int64_t t0;               /* epoch minute of point 0 */
	size_t n;                 /* minutes, 1..TS_CHART_MAX_MINUTES */
	const double *observed;   /* n counts (required) */
	const double *expected;   /* n values or NULL; NAN where there is none */
	const double *lo, *hi;    /* the band, n values each or NULL; NAN: none */
	const double *lastweek;   /* n values or NULL */
	int64_t start, end;       /* marked minutes; INT64_MIN: not marked */
	int width, height;        /* viewBox size; 0: 960 x 340 */
	int font;                 /* font size in viewBox units; 0: 13 */
	const char *title;        /* aria-label text (escaped here); may be NULL */
	const char *unit;         /* y axis caption, e.g. "calls per minute" */
} ts_chart;

/* Append the chart as one <svg> element to out. 0, TS_EINVAL (n out of
 * range, NULL observed, a non-finite or negative observed count), TS_ENOMEM
 * or TS_ECAP; on failure out is put back to its length on entry. */
int ts_svg_chart(const ts_chart *c, ts_buf *out);

/* Append s with &, <, >, " and ' escaped for HTML text and attribute
 * values. 0, TS_ENOMEM or TS_ECAP (out may hold part of it). */
int ts_html_escape(ts_buf *out, const char *s, size_t n);

#endif
