/* report.c - the static HTML report (see report.h).
 *
 * Events are kept as parsed fields plus their JSON text (one item each,
 * at most max_events). At write time they are sorted by sharedEventID,
 * Starts and Ends of one episode paired into insights, filtered by the
 * Start's minute, and sorted newest first. Each insight's numbers come
 * from report_data.c and its chart from svg.c; each page is built in one
 * buffer and written whole. The report owns the items and the insights
 * array; the registry and store are borrowed for ts_report_write.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "report.h"
#include "report_data.h"
#include "report_html.h"
#include "svg.h"

#define MAX_WARN 20
#define MAX_FILTER_PAGES 1000 /* per dimension: accounts, Regions */

typedef struct item {
	ts_event ev;
	char *json;
	size_t len;
} item;

typedef struct ins {
	const item *s, *e; /* Start and End; either may be NULL, not both */
	const ts_event *ev; /* the Start's fields, else the End's */
	int64_t start, end; /* end INT64_MIN: still open */
	int drop;           /* a call-rate drop */
	double peak, peak_expected;
	int64_t peak_minute;
	char page[64];      /* "i/<id>.html" */
} ins;

struct ts_report {
	ts_report_opts o;
	char source[256];
	item *it;
	size_t n, alloc;
	size_t bad, warned;
};

ts_report *ts_report_new(const ts_report_opts *o)
{
	ts_report *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->o = *o;
	if (!r->o.max_events)
		r->o.max_events = 200000;
	if (r->o.before_minutes <= 0)
		r->o.before_minutes = 180;
	if (r->o.after_minutes <= 0)
		r->o.after_minutes = 60;
	snprintf(r->source, sizeof r->source, "%s", o->source ? o->source : "");
	r->o.source = r->source;
	return r;
}

void ts_report_free(ts_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		ts_event_clear(&r->it[i].ev);
		free(r->it[i].json);
	}
	free(r->it);
	free(r);
}

int ts_report_add_event(ts_report *r, const char *json, size_t len, char *err, size_t errlen)
{
	if (r->n == r->o.max_events) {
		snprintf(err, errlen, "more than %zu events", r->o.max_events);
		return TS_ECAP;
	}
	if (ts_grow(&r->it, &r->alloc, r->n + 1, sizeof *r->it, 64))
		return TS_ENOMEM;
	item *it = &r->it[r->n];
	int rc = ts_event_parse(json, len, &it->ev, err, errlen);
	if (rc) {
		if (rc != TS_ENOMEM)
			r->bad++;
		return rc;
	}
	if (!(it->json = malloc(len + 1))) {
		ts_event_clear(&it->ev);
		return TS_ENOMEM;
	}
	memcpy(it->json, json, len);
	it->json[len] = '\0';
	it->len = len;
	r->n++;
	return 0;
}

int ts_report_emit(void *ctx, const char *json, size_t len)
{
	char err[256];
	int rc = ts_report_add_event(ctx, json, len, err, sizeof err);
	if (rc == TS_EJSON || rc == TS_EFIELD) {
		ts_warn("report: an event of this run cannot be read back: %s", err);
		return 0;
	}
	return rc;
}

/* Read one line into line (without the newline), at most cap bytes kept:
 * 1 a line (*over set when it was longer and cut), 0 at the end, -1 on a
 * read error. */
static int read_line(FILE *f, ts_buf *line, size_t cap, int *over)
{
	char chunk[8192];
	ts_buf_reset(line);
	*over = 0;
	int any = 0;
	while (fgets(chunk, sizeof chunk, f)) {
		any = 1;
		size_t n = strlen(chunk);
		int end = n && chunk[n - 1] == '\n';
		if (end)
			n--;
		if (line->len + n > cap)
			*over = 1;
		else if (ts_buf_add(line, chunk, n))
			return -1;
		if (end)
			return 1;
	}
	return ferror(f) ? -1 : any;
}

int ts_report_add_file(ts_report *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		return TS_EIO;
	}
	ts_buf line = {0};
	size_t lineno = 0;
	int rc = 0, over, got;
	while (!rc && (got = read_line(f, &line, TS_REPORT_MAX_EVENT, &over)) > 0) {
		lineno++;
		size_t len = line.len;
		while (len > 0 && (line.p[len - 1] == '\r' || line.p[len - 1] == ' '))
			len--;
		if (len == 0 && !over)
			continue;
		char why[256];
		if (over) {
			r->bad++;
			snprintf(why, sizeof why, "longer than %u bytes", TS_REPORT_MAX_EVENT);
		} else {
			rc = ts_report_add_event(r, line.p, len, why, sizeof why);
			if (rc == TS_ECAP)
				snprintf(err, errlen, "'%s': line %zu: %s", path, lineno, why);
			if (rc != TS_EJSON && rc != TS_EFIELD)
				continue;
			rc = 0;
		}
		if (r->warned++ < MAX_WARN)
			ts_warn("'%s': line %zu: not an insight event (%s), skipped", path, lineno, why);
	}
	if (!rc && got < 0) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 ferror(f) ? strerror(errno) : "out of memory");
		rc = ferror(f) ? TS_EIO : TS_ENOMEM;
	}
	ts_buf_free(&line);
	fclose(f);
	return rc;
}

/* ---- pairing ---- */

static int cmp_item(const void *a, const void *b)
{
	const item *x = a, *y = b;
	int c = strcmp(x->ev.shared_id, y->ev.shared_id);
	if (c)
		return c;
	if (x->ev.state != y->ev.state)
		return x->ev.state - y->ev.state;
	return (x->ev.time > y->ev.time) - (x->ev.time < y->ev.time);
}

static int cmp_ins(const void *a, const void *b)
{
	const ins *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? 1 : -1; /* newest first */
	int c = strcmp(x->ev->account, y->ev->account);
	if (!c)
		c = strcmp(x->ev->region, y->ev->region);
	if (!c)
		c = strcmp(x->ev->source, y->ev->source);
	if (!c)
		c = strcmp(x->ev->name, y->ev->name);
	if (!c)
		c = strcmp(x->ev->error_code, y->ev->error_code);
	return c;
}

static size_t pair_up(ts_report *r, ins *out)
{
	qsort(r->it, r->n, sizeof *r->it, cmp_item);
	size_t k = 0;
	for (size_t i = 0; i < r->n;) {
		size_t j = i;
		while (j < r->n && strcmp(r->it[j].ev.shared_id, r->it[i].ev.shared_id) == 0)
			j++;
		ins x = {0};
		for (size_t a = i; a < j; a++) { /* a repeated event (a re-run) counts once */
			if (r->it[a].ev.state == TS_STATE_START && !x.s)
				x.s = &r->it[a];
			if (r->it[a].ev.state == TS_STATE_END && !x.e)
				x.e = &r->it[a];
		}
		i = j;
		x.ev = x.s ? &x.s->ev : &x.e->ev;
		x.start = x.s ? x.s->ev.time : x.e->ev.time - x.e->ev.insight_duration;
		x.end = x.e ? x.e->ev.time : INT64_MIN;
		if (x.start < r->o.since || x.start >= r->o.until)
			continue;
		x.drop = x.ev->type == TS_CALL_RATE && x.s && x.s->ev.has_context &&
			 x.s->ev.insight_average < x.s->ev.expected;
		char id[40];
		ts_rh_safe_name(x.ev->shared_id, id, sizeof id);
		snprintf(x.page, sizeof x.page, "i/%s.html", id);
		out[k++] = x;
	}
	qsort(out, k, sizeof *out, cmp_ins);
	return k;
}

static const char *kind_of(const ins *x)
{
	return x->ev->type == TS_ERROR_RATE ? "error" : x->drop ? "drop" : "spike";
}

static const char *kind_label(const ins *x)
{
	return x->ev->type == TS_ERROR_RATE ? "error burst" : x->drop ? "drop" : "spike";
}

static void fmt_duration(const ins *x, char *out, size_t cap)
{
	if (x->end == INT64_MIN) {
		snprintf(out, cap, "open");
		return;
	}
	long long d = (long long)(x->end - x->start);
	if (d < 60)
		snprintf(out, cap, "%lld min", d);
	else
		snprintf(out, cap, "%lld h %02lld min", d / 60, d % 60);
}

/* ---- the index pages ---- */

enum { F_ALL, F_ACCOUNT, F_REGION, F_TYPE };

static int matches(const ins *x, int kind, const char *val)
{
	switch (kind) {
	case F_ACCOUNT: return strcmp(x->ev->account, val) == 0;
	case F_REGION: return strcmp(x->ev->region, val) == 0;
	case F_TYPE: return strcmp(val, x->ev->type == TS_ERROR_RATE ? "error" : "call") == 0;
	default: return 1;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct accounts (F_ACCOUNT) or Regions of xs, sorted, into out
 * (at most cap). */
static size_t distinct(const ins *xs, size_t n, int kind, const char **out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *v = kind == F_ACCOUNT ? xs[i].ev->account : xs[i].ev->region;
		size_t j = 0;
		while (j < k && strcmp(out[j], v) != 0)
			j++;
		if (j == k && k < cap)
			out[k++] = v;
	}
	qsort(out, k, sizeof *out, cmp_str);
	return k;
}

static int filter_links(ts_buf *b, const char *label, int kind, const char *const *vals, size_t n,
			int cur_kind, const char *cur)
{
	int rc = ts_buf_printf(b, "<div><b>%s</b>", label);
	for (size_t i = 0; !rc && i < n; i++) {
		char name[160];
		ts_rh_safe_name(vals[i], name, sizeof name);
		int on = cur_kind == kind && strcmp(cur, vals[i]) == 0;
		const char *shown = kind == F_TYPE ? (strcmp(vals[i], "call") ? "ApiErrorRateInsight"
									     : "ApiCallRateInsight")
						   : vals[i];
		rc = ts_buf_printf(b, "<a href=\"%s-%s.html\"%s>",
				   kind == F_ACCOUNT ? "account" : kind == F_REGION ? "region" : "type",
				   name, on ? " class=\"on\"" : "");
		if (!rc)
			rc = ts_rh_esc(b, shown);
		if (!rc)
			rc = ts_buf_puts(b, "</a>");
	}
	if (!rc)
		rc = ts_buf_puts(b, "</div>\n");
	return rc;
}

static int index_page(ts_report *r, const ins *xs, size_t n, int kind, const char *val,
		      const char *const *accts, size_t nacct, const char *const *regs, size_t nreg,
		      ts_buf *b)
{
	ts_buf_reset(b);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++)
		shown += matches(&xs[i], kind, val);
	char title[256];
	snprintf(title, sizeof title, "Insights%s%s", kind == F_ALL ? "" : ": ",
		 kind == F_ALL ? "" : kind == F_TYPE ? (strcmp(val, "call") ? "ApiErrorRateInsight"
									: "ApiCallRateInsight")
							     : val);
	int rc = ts_rh_head(b, title, "");
	if (!rc)
		rc = ts_buf_puts(b, "<h1>");
	if (!rc)
		rc = ts_rh_esc(b, title);
	if (!rc && n) {
		char a[24], z[24];
		ts_rh_time(xs[n - 1].start, a);
		ts_rh_time(xs[0].start, z);
		rc = ts_buf_printf(b, "</h1>\n<p class=\"sub\">%zu of %zu insights, Starts from %s to "
				      "%s UTC, newest first.</p>\n",
				   shown, n, a, z);
	} else if (!rc) {
		rc = ts_buf_puts(b, "</h1>\n<p class=\"sub\">No insights in this range.</p>\n");
	}
	static const char *const types[] = {"call", "error"};
	if (!rc)
		rc = ts_buf_printf(b, "<nav class=\"filters\"><div><b>Filter</b><a href=\"index.html\"%s>all "
				      "insights</a></div>\n",
				   kind == F_ALL ? " class=\"on\"" : "");
	if (!rc)
		rc = filter_links(b, "Type", F_TYPE, types, 2, kind, val);
	if (!rc)
		rc = filter_links(b, "Account", F_ACCOUNT, accts, nacct, kind, val);
	if (!rc)
		rc = filter_links(b, "Region", F_REGION, regs, nreg, kind, val);
	if (!rc)
		rc = ts_buf_puts(b, "</nav>\n<div class=\"scroll\"><table>\n<thead><tr><th>Start "
				    "(UTC)</th><th>Type</th><th>API &middot; error code</th><th>Account "
				    "&middot; Region</th><th class=\"n\">Duration</th><th class=\"n\">Per minute: "
				    "observed vs expected</th><th class=\"n\">p-value &middot; profile</th></tr>"
				    "</thead>\n<tbody>\n");
	for (size_t i = 0; !rc && i < n; i++) {
		const ins *x = &xs[i];
		if (!matches(x, kind, val))
			continue;
		char t[24], dur[32], pk[32], ex[32], pv[32];
		ts_rh_time(x->start, t);
		fmt_duration(x, dur, sizeof dur);
		ts_rh_num(x->peak, pk, sizeof pk);
		ts_rh_num(isnan(x->peak_expected) && x->s && x->s->ev.has_context ? x->s->ev.expected
										 : x->peak_expected,
			ex, sizeof ex);
		const ts_event *ctx = x->s && x->s->ev.has_context ? &x->s->ev : NULL;
		if (ctx)
			snprintf(pv, sizeof pv, "%.2g", ctx->p_value);
		else
			snprintf(pv, sizeof pv, "&ndash;");
		rc = ts_buf_printf(b, "<tr><td class=\"n\"><a href=\"%s\">%s</a></td><td><span "
				      "class=\"tag %s\">%s</span><br><span class=\"muted\">%s</span></td><td>",
				   x->page, t, kind_of(x), kind_label(x),
				   x->ev->type == TS_ERROR_RATE ? "ApiErrorRateInsight" : "ApiCallRateInsight");
		if (!rc)
			rc = ts_rh_esc(b, x->ev->source);
		if (!rc)
			rc = ts_buf_puts(b, "<br><b>");
		if (!rc)
			rc = ts_rh_esc(b, x->ev->name);
		if (!rc)
			rc = ts_buf_puts(b, "</b>");
		if (!rc && x->ev->type == TS_ERROR_RATE) {
			rc = ts_buf_puts(b, "<br><span class=\"code\">");
			if (!rc)
				rc = ts_rh_esc(b, x->ev->error_code);
			if (!rc)
				rc = ts_buf_puts(b, "</span>");
		}
		if (!rc)
			rc = ts_buf_puts(b, "</td><td>");
		if (!rc)
			rc = ts_rh_esc(b, x->ev->account);
		if (!rc)
			rc = ts_buf_puts(b, "<br><span class=\"muted\">");
		if (!rc)
			rc = ts_rh_esc(b, x->ev->region);
		if (!rc)
			rc = ts_buf_printf(b, "</span></td><td class=\"n\">%s</td><td class=\"n\">%s %s vs %s</td><td "
					   "class=\"n\">%s<br><span class=\"muted\">",
					   dur, x->drop ? "low" : "peak", pk, ex, pv);
		if (!rc)
			rc = ts_rh_esc(b, ctx ? ctx->model : "");
		if (!rc)
			rc = ts_buf_puts(b, "</span></td></tr>\n");
	}
	if (!rc)
		rc = ts_buf_puts(b, "</tbody>\n</table></div>\n");
	if (!rc)
		rc = ts_rh_foot(b, r->source, r->o.profile.name);
	return rc;
}

static int write_indexes(ts_report *r, const char *dir, const ins *xs, size_t n, ts_buf *b,
			 ts_report_stats *st, char *err, size_t errlen)
{
	const char **accts = malloc(MAX_FILTER_PAGES * sizeof *accts);
	const char **regs = malloc(MAX_FILTER_PAGES * sizeof *regs);
	int rc = TS_ENOMEM;
	if (!accts || !regs)
		goto out_free;
	size_t na = distinct(xs, n, F_ACCOUNT, accts, MAX_FILTER_PAGES);
	size_t nr = distinct(xs, n, F_REGION, regs, MAX_FILTER_PAGES);
	static const char *const types[] = {"call", "error"};
	struct {
		int kind;
		const char *const *vals;
		size_t n;
		const char *prefix;
	} dims[] = {{F_ALL, types, 1, NULL},
		    {F_TYPE, types, 2, "type"},
		    {F_ACCOUNT, accts, na, "account"},
		    {F_REGION, regs, nr, "region"}};
	rc = 0;
	for (size_t d = 0; !rc && d < TS_ARRAY_LEN(dims); d++) {
		for (size_t i = 0; !rc && i < dims[d].n; i++) {
			char name[200], safe[160];
			if (dims[d].kind == F_ALL) {
				snprintf(name, sizeof name, "index.html");
			} else {
				ts_rh_safe_name(dims[d].vals[i], safe, sizeof safe);
				snprintf(name, sizeof name, "%s-%s.html", dims[d].prefix, safe);
			}
			rc = index_page(r, xs, n, dims[d].kind, dims[d].vals[i], accts, na, regs, nr, b);
			if (!rc)
				rc = ts_rh_write(dir, name, b, err, errlen);
			if (!rc)
				st->pages++;
		}
	}
out_free:
	free(accts);
	free(regs);
	return rc;
}

/* ---- one insight's page ---- */

static const char *attr_title(const char *a)
{
	return strcmp(a, "userIdentityArn") == 0 ? "Who: userIdentity ARN"
	       : strcmp(a, "userAgent") == 0	 ? "With: user agent"
	       : strcmp(a, "errorCode") == 0	 ? "Result: error code"
						 : a;
}

static int attr_table(ts_buf *b, const ts_event *ev, const ts_event_value *v, unsigned n,
		      const char *caption)
{
	int rc = ts_buf_printf(b, "<table><thead><tr><th>%s</th><th class=\"n\">avg /min</th></tr>"
				  "</thead><tbody>\n",
			       caption);
	for (unsigned i = 0; !rc && i < n; i++) {
		char num[32];
		snprintf(num, sizeof num, "%.3g", v[i].average);
		rc = ts_buf_puts(b, "<tr><td class=\"val\">");
		if (!rc)
			rc = ts_rh_esc(b, ts_event_text(ev, &v[i]));
		if (!rc)
			rc = ts_buf_printf(b, "</td><td class=\"n\">%s</td></tr>\n", num);
	}
	if (!rc && !n)
		rc = ts_buf_puts(b, "<tr><td class=\"muted\">none</td><td></td></tr>\n");
	if (!rc)
		rc = ts_buf_puts(b, "</tbody></table>\n");
	return rc;
}

static int chart(ts_buf *b, const ins *x, const ts_rdata *d, int narrow)
{
	char title[1024];
	snprintf(title, sizeof title, "%s per minute of %s %s%s%s, %s, %s",
		 x->ev->type == TS_ERROR_RATE ? "Errors" : "Calls", x->ev->source, x->ev->name,
		 x->ev->type == TS_ERROR_RATE ? " " : "", x->ev->error_code, x->ev->account,
		 x->ev->region);
	ts_chart c = {.t0 = d->t0, .n = d->n, .observed = d->observed,
		      .expected = d->judged ? d->expected : NULL, .lo = d->judged ? d->lo : NULL,
		      .hi = d->judged ? d->hi : NULL, .lastweek = d->lastweek,
		      .start = x->start, .end = x->end, .title = title,
		      .unit = x->ev->type == TS_ERROR_RATE ? "errors per minute" : "calls per minute"};
	if (narrow) {
		c.width = 400;
		c.height = 300;
		c.font = 12;
	} else {
		c.width = 1040;
		c.height = 360;
		c.font = 13;
	}
	int rc = ts_buf_printf(b, "<div class=\"chart %s\">\n", narrow ? "narrow" : "wide");
	if (!rc)
		rc = ts_svg_chart(&c, b);
	if (!rc)
		rc = ts_buf_puts(b, "</div>\n");
	return rc;
}

static int insight_page(ts_report *r, const ins *x, const ts_rdata *d, ts_buf *b)
{
	ts_buf_reset(b);
	const ts_event *ev = x->ev;
	char title[1024], t0[24], t1[24], dur[32];
	snprintf(title, sizeof title, "%s %s %s%s%s", ev->source, ev->name,
		 ev->type == TS_ERROR_RATE ? "ApiErrorRateInsight" : "ApiCallRateInsight",
		 ev->type == TS_ERROR_RATE ? " " : "", ev->error_code);
	ts_rh_time(x->start, t0);
	if (x->end != INT64_MIN)
		ts_rh_time(x->end, t1);
	fmt_duration(x, dur, sizeof dur);
	int rc = ts_rh_head(b, title, "../");
	if (!rc)
		rc = ts_buf_printf(b, "<p class=\"sub\"><span class=\"tag %s\">%s</span> %s</p>\n<h1>",
				   kind_of(x), kind_label(x),
				   ev->type == TS_ERROR_RATE ? "ApiErrorRateInsight" : "ApiCallRateInsight");
	if (!rc)
		rc = ts_rh_esc(b, ev->source);
	if (!rc)
		rc = ts_buf_puts(b, " <b>");
	if (!rc)
		rc = ts_rh_esc(b, ev->name);
	if (!rc)
		rc = ts_buf_puts(b, "</b>");
	if (!rc && ev->type == TS_ERROR_RATE) {
		rc = ts_buf_puts(b, " &middot; ");
		if (!rc)
			rc = ts_rh_esc(b, ev->error_code);
	}
	if (!rc)
		rc = ts_buf_puts(b, "</h1>\n<p class=\"sub\">Account ");
	if (!rc)
		rc = ts_rh_esc(b, ev->account);
	if (!rc)
		rc = ts_buf_puts(b, " &middot; ");
	if (!rc)
		rc = ts_rh_esc(b, ev->region);
	if (!rc)
		rc = ts_buf_printf(b, " &middot; %s UTC &rarr; %s (%s)</p>\n", t0,
				   x->end != INT64_MIN ? t1 : "still open at the end of the run", dur);

	/* the cards */
	const ts_event *sc = x->s && x->s->ev.has_context ? &x->s->ev : NULL;
	char pk[32], ex[32], lo[32], hi[32], pv[32], avg[32];
	ts_rh_num(x->peak, pk, sizeof pk);
	ts_rh_num(x->peak_expected, ex, sizeof ex);
	size_t pi = (size_t)(x->peak_minute - d->t0);
	ts_rh_num(pi < d->n ? d->lo[pi] : NAN, lo, sizeof lo);
	ts_rh_num(pi < d->n ? d->hi[pi] : NAN, hi, sizeof hi);
	if (sc)
		snprintf(pv, sizeof pv, "%.3g", sc->p_value);
	else
		snprintf(pv, sizeof pv, "&ndash;");
	const ts_event *last = x->e ? &x->e->ev : ev;
	ts_rh_num(last->insight_average, avg, sizeof avg);
	char pt[24];
	ts_rh_time(x->peak_minute, pt);
	if (!rc)
		rc = ts_buf_printf(b,
				   "<div class=\"cards\"><div class=\"card\"><span>%s minute (%s)</span><b>%s</b>"
				   "</div><div class=\"card\"><span>expected then (band)</span><b>%s <small>"
				   "(%s&ndash;%s)</small></b></div><div class=\"card\"><span>%s average "
				   "/min</span><b>%s</b></div><div class=\"card\"><span>tail probability"
				   "</span><b>%s</b></div><div class=\"card\"><span>duration</span><b>%s</b>"
				   "</div></div>\n",
				   x->drop ? "lowest" : "busiest", pt + 11, pk, ex, lo, hi,
				   x->e ? "episode" : "first minute", avg, pv, dur);

	/* the chart, wide and narrow */
	if (!rc)
		rc = chart(b, x, d, 0);
	if (!rc)
		rc = chart(b, x, d, 1);
	if (!rc)
		rc = ts_buf_printf(b,
				   "<div class=\"legend\"><span><i style=\"border-color:#1f4e9c\"></i>"
				   "observed</span><span><i style=\"border-color:#1b7f73;border-top-style:"
				   "dashed\"></i>expected</span><span><i class=\"band\"></i>%g&ndash;%g %% "
				   "band</span><span><i style=\"border-color:#8a93a6\"></i>same minutes a "
				   "week before</span><span><i class=\"ep\"></i>episode (Start&ndash;End)"
				   "</span></div>\n",
				   TS_BAND_LO * 100, TS_BAND_HI * 100);
	if (!rc && !d->judged)
		rc = ts_buf_puts(b, "<p class=\"muted\">No expected rate: the series was still "
				    "warming up (too few days of history in the store).</p>\n");

	/* attributions: the End's (the whole episode) or the Start's */
	const ts_event *aev = x->e ? &x->e->ev : ev;
	if (!rc)
		rc = ts_buf_printf(b, "<h2>Attributions</h2>\n<p class=\"muted\">Top 5 of the insight "
				      "window (%s) beside the baseline window (the week before the "
				      "Start), in events per minute.</p>\n",
				   x->e ? "the whole episode" : "the Start's first minutes");
	for (unsigned k = 0; !rc && k < aev->n_attrs; k++) {
		const ts_event_attr *a = &aev->attrs[k];
		rc = ts_buf_printf(b, "<h3>%s</h3>\n<div class=\"attrs\"><div>", attr_title(a->attribute));
		if (!rc)
			rc = attr_table(b, aev, a->insight, a->n_insight, "Insight window");
		if (!rc)
			rc = ts_buf_puts(b, "</div><div>");
		if (!rc)
			rc = attr_table(b, aev, a->baseline, a->n_baseline, "Baseline window");
		if (!rc)
			rc = ts_buf_puts(b, "</div></div>\n");
	}

	/* the decision */
	if (!rc)
		rc = ts_buf_puts(b, "<h2>Decision</h2>\n<dl>\n");
	if (!rc && sc) {
		char e1[32];
		ts_rh_num(sc->expected, e1, sizeof e1);
		rc = ts_buf_printf(b, "<dt>expected average at the Start</dt><dd>%s per minute "
				      "(trailsightContext.expectedAverage)</dd>\n<dt>tail probability</dt>"
				      "<dd>%.3g (pValue)</dd>\n<dt>profile</dt><dd>",
				   e1, sc->p_value);
		if (!rc)
			rc = ts_rh_esc(b, sc->model);
		if (!rc && strcmp(sc->model, r->o.profile.name) != 0) {
			rc = ts_buf_puts(b, " (the band on this page is drawn with &ldquo;");
			if (!rc)
				rc = ts_rh_esc(b, r->o.profile.name);
			if (!rc)
				rc = ts_buf_puts(b, "&rdquo;)");
		}
		if (!rc)
			rc = ts_buf_puts(b, "</dd>\n");
	} else if (!rc) {
		rc = ts_buf_puts(b, "<dt>trailsightContext</dt><dd>not in the event</dd>\n");
	}
	if (!rc) {
		char dt[24];
		if (d->decided != INT64_MIN) {
			ts_rh_time(d->decided, dt);
			rc = ts_buf_printf(b, "<dt>decision time</dt><dd>%s UTC (event time), when that "
					      "minute closed, %lld min after the onset; "
					      "replayed tail probability %.3g</dd>\n",
					   dt + 11, (long long)(d->decided - x->start), d->replay_p);
		} else {
			rc = ts_buf_puts(b, "<dt>decision time</dt><dd>not reproduced by replaying the "
					    "detector over the minutes shown</dd>\n");
		}
	}
	if (!rc) {
		char ba[32];
		ts_rh_num(ev->baseline_average, ba, sizeof ba);
		rc = ts_buf_printf(b, "<dt>baseline average</dt><dd>%s per minute over %lld minutes</dd>\n"
				      "</dl>\n",
				   ba, (long long)ev->baseline_duration);
	}

	/* the events */
	if (!rc)
		rc = ts_buf_puts(b, "<h2>Events</h2>\n");
	const item *evs[2] = {x->s, x->e};
	for (int k = 0; !rc && k < 2; k++) {
		if (!evs[k])
			continue;
		rc = ts_buf_printf(b, "<h3>%s</h3>\n<pre>", k ? "End" : "Start");
		if (!rc)
			rc = ts_rh_pretty_json(b, evs[k]->json, evs[k]->len);
		if (!rc)
			rc = ts_buf_puts(b, "</pre>\n");
	}
	if (!rc)
		rc = ts_rh_foot(b, r->source, r->o.profile.name);
	return rc;
}

int ts_report_write(ts_report *r, const char *dir, ts_registry *reg, ts_store *store,
		    ts_report_stats *st, char *err, size_t errlen)
{
	ts_report_stats dummy;
	if (errlen)
		err[0] = '\0';
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof *st);
	st->events = r->n;
	st->bad = r->bad;
	char sub[4096];
	snprintf(sub, sizeof sub, "%s/i", dir);
	if ((mkdir(dir, 0777) && errno != EEXIST) || (mkdir(sub, 0777) && errno != EEXIST)) {
		snprintf(err, errlen, "cannot create '%s': %s", sub, strerror(errno));
		return TS_EIO;
	}
	ins *xs = calloc(r->n ? r->n : 1, sizeof *xs);
	if (!xs)
		return TS_ENOMEM;
	size_t n = pair_up(r, xs);
	st->insights = n;
	ts_buf b = {0};
	ts_rdata d = {0};
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		ins *x = &xs[i];
		rc = ts_rdata_fill(&d, x->ev, x->start, x->end, x->drop, r->o.before_minutes,
				   r->o.after_minutes, &r->o.profile, reg, store);
		if (rc == TS_ESTORE)
			snprintf(err, errlen, "%s", store->errstr);
		else if (rc)
			snprintf(err, errlen, "%s", ts_strerror(rc));
		if (rc)
			break;
		x->peak = d.peak;
		x->peak_minute = d.peak_minute;
		x->peak_expected = d.peak_expected;
		st->not_reproduced += d.decided == INT64_MIN;
		if (!(rc = insight_page(r, x, &d, &b)) && !(rc = ts_rh_write(dir, x->page, &b, err, errlen)))
			st->pages++;
	}
	if (!rc)
		rc = write_indexes(r, dir, xs, n, &b, st, err, errlen);
	if (rc && !err[0])
		snprintf(err, errlen, "%s", ts_strerror(rc));
	ts_rdata_clear(&d);
	ts_buf_free(&b);
	free(xs);
	return rc;
}
