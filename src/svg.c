/* svg.c - draws a per-minute chart as inline SVG (see svg.h).
 *
 * Layout, in viewBox units: a plot rectangle inside margins that hold the
 * y labels (left), two rows of Start/End labels and the unit (top) and two
 * rows of UTC tick labels (bottom: time, and the date where it changes).
 * The y axis is linear from 0 to a round number, or log10(1 + y) with
 * ticks 0, 1, 3, 10, 30, ... when the largest value is far above the
 * typical expected one (a spike that would flatten the baseline).
 * Paths break at NAN values (minutes without an expected rate).
 * Nothing is allocated but out's text.
 */
#include <math.h>
#include <stdlib.h>

#include "svg.h"

typedef struct frame {
	double left, top, w, h; /* plot rectangle */
	double ppm;             /* px per minute */
	int64_t t0;
	size_t n;
	int log;
	double ymax;            /* the top of the axis, in value units */
} frame;

static double fy(const frame *f, double v)
{
	return f->log ? log10(1.0 + v) : v;
}

static double ypx(const frame *f, double v)
{
	if (!(v > 0))
		v = 0;
	double r = fy(f, v) / fy(f, f->ymax);
	if (r > 1)
		r = 1;
	return f->top + f->h * (1.0 - r);
}

static double xpx(const frame *f, double t) /* t: epoch minutes */
{
	return f->left + (t - (double)f->t0) * f->ppm;
}

int ts_html_escape(ts_buf *out, const char *s, size_t n)
{
	size_t i = 0, run = 0;
	for (; i < n; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		int rc = ts_buf_add(out, s + run, i - run);
		if (!rc)
			rc = ts_buf_puts(out, rep);
		if (rc)
			return rc;
		run = i + 1;
	}
	return ts_buf_add(out, s + run, n - run);
}

/* A round step (1, 2 or 5 times a power of ten) near raw. */
static double nice_step(double raw)
{
	double p = pow(10.0, floor(log10(raw)));
	double m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of the finite positive values of v[n] (0 when none); tmp
 * has room for n doubles. */
static double median_pos(const double *v, size_t n, double *tmp)
{
	size_t k = 0;
	for (size_t i = 0; v && i < n; i++)
		if (isfinite(v[i]) && v[i] > 0)
			tmp[k++] = v[i];
	if (!k)
		return 0;
	qsort(tmp, k, sizeof *tmp, cmp_double);
	return tmp[k / 2];
}

static void fold_max(const double *v, size_t n, double *m)
{
	for (size_t i = 0; v && i < n; i++)
		if (isfinite(v[i]) && v[i] > *m)
			*m = v[i];
}

/* One path through the finite points of v (at minute centers), broken at
 * NAN. Nothing is written when v has no finite value. */
static int add_line(ts_buf *out, const frame *f, const double *v, const char *cls)
{
	if (!v)
		return 0;
	size_t start = out->len;
	int rc = ts_buf_printf(out, "<path class=\"%s\" d=\"", cls);
	int pen = 0, any = 0;
	for (size_t i = 0; !rc && i < f->n; i++) {
		if (!isfinite(v[i])) {
			pen = 0;
			continue;
		}
		rc = ts_buf_printf(out, "%c%.1f %.1f", pen ? 'L' : 'M', xpx(f, (double)f->t0 + (double)i + 0.5),
				   ypx(f, v[i]));
		pen = any = 1;
	}
	if (!rc)
		rc = ts_buf_printf(out, "\" data-n=\"%zu\"/>\n", f->n);
	if (!rc && !any) {
		out->len = start;
		out->p[start] = '\0';
	}
	return rc;
}

/* The band between lo and hi as closed shapes, one per run of minutes
 * where both are finite. */
static int add_band(ts_buf *out, const frame *f, const double *lo, const double *hi)
{
	if (!lo || !hi)
		return 0;
	int rc = ts_buf_puts(out, "<path class=\"ts-band\" d=\"");
	size_t i = 0;
	while (!rc && i < f->n) {
		if (!isfinite(lo[i]) || !isfinite(hi[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < f->n && isfinite(lo[j]) && isfinite(hi[j]))
			j++;
		/* upper edge forward, lower edge back, each minute drawn across
		 * its whole width so a one-minute run still shows */
		for (size_t k = i; !rc && k < j; k++) {
			double t = (double)f->t0 + (double)k;
			rc = ts_buf_printf(out, "%c%.1f %.1fL%.1f %.1f", k == i ? 'M' : 'L', xpx(f, t),
					   ypx(f, hi[k]), xpx(f, t + 1), ypx(f, hi[k]));
		}
		for (size_t k = j; !rc && k-- > i;) {
			double t = (double)f->t0 + (double)k;
			rc = ts_buf_printf(out, "L%.1f %.1fL%.1f %.1f", xpx(f, t + 1), ypx(f, lo[k]),
					   xpx(f, t), ypx(f, lo[k]));
		}
		if (!rc)
			rc = ts_buf_puts(out, "Z");
		i = j;
	}
	if (!rc)
		rc = ts_buf_puts(out, "\"/>\n");
	return rc;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int add_x_ticks(ts_buf *out, const frame *f, int font)
{
	static const int steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080};
	double max_ticks = f->w / (font * 4.6);
	int step = steps[TS_ARRAY_LEN(steps) - 1];
	for (size_t i = 0; i < TS_ARRAY_LEN(steps); i++)
		if ((double)f->n / steps[i] <= max_ticks) {
			step = steps[i];
			break;
		}
	int64_t t = ts_floordiv(f->t0 + step - 1, step) * step;
	int64_t prev_day = INT64_MIN;
	int rc = 0;
	double ybase = f->top + f->h;
	for (; !rc && t <= f->t0 + (int64_t)f->n; t += step) {
		char iso[21];
		ts_format_minute(t, iso);
		double x = xpx(f, (double)t);
		int64_t day = ts_day_of(t);
		rc = ts_buf_printf(out,
				   "<g class=\"tick\" data-time=\"%s\"><line class=\"ts-grid\" x1=\"%.1f\" "
				   "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
				   "text-anchor=\"middle\">%.5s</text>",
				   iso, x, x, f->top, ybase + font * 0.4, x, ybase + font * 1.5, iso + 11);
		if (!rc && day != prev_day) {
			int64_t y;
			unsigned mo, d;
			ts_civil_from_days(day, &y, &mo, &d);
			rc = ts_buf_printf(out,
					   "<text class=\"ts-date\" x=\"%.1f\" y=\"%.1f\" "
					   "text-anchor=\"middle\">%s %u</text>",
					   x, ybase + font * 2.75, months[(mo - 1) % 12], d);
		}
		if (!rc)
			rc = ts_buf_puts(out, "</g>\n");
		prev_day = day;
	}
	return rc;
}

static int add_y_ticks(ts_buf *out, const frame *f, double step, int font)
{
	int rc = 0;
	double v = 0;
	for (int i = 0; !rc && i < 40 && v <= f->ymax * 1.0000001; i++) {
		double y = ypx(f, v);
		char label[32];
		if (v >= 1e6)
			snprintf(label, sizeof label, "%gM", v / 1e6);
		else if (v >= 1e4)
			snprintf(label, sizeof label, "%gk", v / 1e3);
		else
			snprintf(label, sizeof label, "%g", v);
		rc = ts_buf_printf(out,
				   "<g class=\"ytick\" data-value=\"%g\"><line class=\"ts-grid\" x1=\"%.1f\" "
				   "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
				   "text-anchor=\"end\">%s</text></g>\n",
				   v, f->left - font * 0.3, f->left + f->w, y, y, f->left - font * 0.5,
				   y + font * 0.35, label);
		if (f->log) /* 0, 1, 3, 10, 30, ... */
			v = v == 0 ? 1 : (fmod(log10(v), 1.0) < 0.01 ? v * 3 : v / 3 * 10);
		else
			v += step;
	}
	return rc;
}

static int add_marker(ts_buf *out, const frame *f, int64_t t, const char *cls, const char *word,
		      int row, int font)
{
	if (t == INT64_MIN || t < f->t0 || t > f->t0 + (int64_t)f->n)
		return 0;
	char iso[21];
	ts_format_minute(t, iso);
	double x = xpx(f, (double)t);
	int right = x > f->left + f->w * 0.8; /* label to the left near the edge */
	return ts_buf_printf(out,
			     "<g class=\"%s\" data-time=\"%s\" data-minute=\"%lld\"><line x1=\"%.1f\" "
			     "x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
			     "text-anchor=\"%s\">%s %.5s</text></g>\n",
			     cls, iso, (long long)t, x, x, f->top - font * (row ? 0.2 : 1.4),
			     f->top + f->h, right ? x - font * 0.3 : x + font * 0.3,
			     f->top - font * (row ? 0.4 : 1.6), right ? "end" : "start", word, iso + 11);
}

static int draw(const ts_chart *c, ts_buf *out)
{
	int W = c->width > 0 ? c->width : 960, H = c->height > 0 ? c->height : 340;
	int font = c->font > 0 ? c->font : 13;
	frame f = {.t0 = c->t0, .n = c->n};
	f.left = font * 3.6;
	f.top = font * 3.0;
	f.w = W - f.left - font * 1.0;
	f.h = H - f.top - font * 3.4;
	if (f.w < 10 || f.h < 10)
		return TS_EINVAL;
	f.ppm = f.w / (double)c->n;

	double ymax = 0;
	fold_max(c->observed, c->n, &ymax);
	fold_max(c->expected, c->n, &ymax);
	fold_max(c->hi, c->n, &ymax);
	fold_max(c->lastweek, c->n, &ymax);
	double *tmp = malloc(c->n * sizeof *tmp);
	if (!tmp)
		return TS_ENOMEM;
	double typical = median_pos(c->expected, c->n, tmp);
	if (typical == 0)
		typical = median_pos(c->observed, c->n, tmp);
	free(tmp);
	ymax = ymax * 1.06 < 1 ? 1 : ymax * 1.06; /* headroom above the highest point */
	f.log = ymax >= 30 && ymax > 15 * (typical > 1 ? typical : 1);
	double step = 0;
	if (f.log) {
		double top = 1;
		while (top < ymax)
			top = fmod(log10(top), 1.0) < 0.01 ? top * 3 : top / 3 * 10;
		f.ymax = top;
	} else {
		step = nice_step(ymax / 5);
		f.ymax = ceil(ymax / step - 1e-9) * step;
	}

	int rc = ts_buf_printf(out,
			       "<svg class=\"ts-chart\" viewBox=\"0 0 "
			       "%d %d\" role=\"img\" font-size=\"%d\" data-t0=\"%lld\" data-n=\"%zu\" "
			       "data-x0=\"%.4f\" data-px-per-min=\"%.6f\" data-scale=\"%s\" "
			       "aria-label=\"",
			       W, H, font, (long long)c->t0, c->n, f.left, f.ppm, f.log ? "log" : "linear");
	if (!rc && c->title)
		rc = ts_html_escape(out, c->title, strlen(c->title));
	if (!rc)
		rc = ts_buf_puts(out, "\">\n");
	if (!rc && c->start != INT64_MIN) {
		int64_t a = c->start < c->t0 ? c->t0 : c->start;
		int64_t e = c->end == INT64_MIN ? c->t0 + (int64_t)c->n : c->end;
		if (e > c->t0 + (int64_t)c->n)
			e = c->t0 + (int64_t)c->n;
		if (e > a)
			rc = ts_buf_printf(out,
					   "<rect class=\"ts-episode\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					   "height=\"%.1f\"/>\n",
					   xpx(&f, (double)a), f.top, (double)(e - a) * f.ppm, f.h);
	}
	if (!rc)
		rc = add_y_ticks(out, &f, step, font);
	if (!rc)
		rc = add_x_ticks(out, &f, font);
	if (!rc)
		rc = ts_buf_printf(out,
				   "<text class=\"ts-unit\" x=\"%.1f\" y=\"%.1f\">%s%s</text>\n",
				   f.left - font * 3.2, f.top - font * 2.2, c->unit ? c->unit : "",
				   f.log ? " (log scale)" : "");
	if (!rc)
		rc = add_band(out, &f, c->lo, c->hi);
	if (!rc)
		rc = add_line(out, &f, c->lastweek, "ts-lastweek");
	if (!rc)
		rc = add_line(out, &f, c->expected, "ts-expected");
	if (!rc)
		rc = add_line(out, &f, c->observed, "ts-observed");
	if (!rc)
		rc = ts_buf_printf(out,
				   "<rect class=\"ts-frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				   "height=\"%.1f\"/>\n",
				   f.left, f.top, f.w, f.h);
	if (!rc)
		rc = add_marker(out, &f, c->start, "ts-start", "Start", 0, font);
	if (!rc)
		rc = add_marker(out, &f, c->end, "ts-end", "End", 1, font);
	if (!rc)
		rc = ts_buf_puts(out, "</svg>\n");
	return rc;
}

int ts_svg_chart(const ts_chart *c, ts_buf *out)
{
	if (!c || !c->observed || c->n < 1 || c->n > TS_CHART_MAX_MINUTES)
		return TS_EINVAL;
	for (size_t i = 0; i < c->n; i++)
		if (!isfinite(c->observed[i]) || c->observed[i] < 0)
			return TS_EINVAL;
	size_t len = out->len;
	int rc = draw(c, out);
	if (rc && out->p) {
		out->len = len;
		out->p[len] = '\0';
	}
	return rc;
}
