/* noise.c - the narrowest rule for an insight called noise (noise.h). */
#include <getopt.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>

#include "err.h"
#include "noise.h"
#include "scope.h"

#define PATTERN_MAX 1000 /* scope.h: a pattern's longest text */
#define LINE_MAX_BYTES (16u << 20)
#define MAX_IDS 256

int ts_noise_pattern(ts_buf *out, const char *v)
{
	size_t n = strlen(v), keep = n > PATTERN_MAX ? PATTERN_MAX - 1 : n;
	for (size_t i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)v[i];
		int blank_end = (c == ' ' || c == '\t') && (i == 0 || i == n - 1);
		if (c < 0x20 || c == 0x7f || c == '*' || c == '?' || c == '#' || blank_end)
			c = '?';
		if (ts_buf_add(out, &c, 1))
			return TS_ENOMEM;
	}
	return keep < n ? ts_buf_puts(out, "*") : 0;
}

/* "key = pattern\n", commented out with "# " when comment. */
static int put_key(ts_buf *out, int comment, const char *key, const char *v)
{
	if (ts_buf_printf(out, "%s%s = ", comment ? "# " : "", key) ||
	    ts_noise_pattern(out, v) || ts_buf_puts(out, "\n"))
		return TS_ENOMEM;
	return 0;
}

static int put_scope(ts_buf *out, int comment, const ts_event *ev)
{
	if (put_key(out, comment, "account", ev->account) ||
	    put_key(out, comment, "region", ev->region) ||
	    put_key(out, comment, "eventSource", ev->source) ||
	    put_key(out, comment, "eventName", ev->name) ||
	    (ev->type == TS_ERROR_RATE && put_key(out, comment, "errorCode", ev->error_code)))
		return TS_ENOMEM;
	return 0;
}

static double share(double part, double whole) { return whole > 0 ? part / whole : 0; }

/* The average of the value text in the baseline list of a, or 0. */
static double baseline_of(const ts_event *ev, const ts_event_attr *a, const char *text)
{
	for (unsigned i = 0; i < a->n_baseline; i++)
		if (strcmp(ts_event_text(ev, &a->baseline[i]), text) == 0)
			return a->baseline[i].average;
	return 0;
}

/* The caller that sets the insight window most apart from the baseline:
 * the userIdentity ARN or user agent with at least TS_NOISE_CALLER_SHARE
 * of the window's events and the largest gain of share over the baseline
 * (at least a quarter; an ARN before an agent at a tie). Its attribute
 * index and value index, or -1. */
static int top_caller(const ts_event *ev, unsigned *value)
{
	int best = -1;
	double top = 0.25;
	for (unsigned k = 0; k < ev->n_attrs; k++) {
		const ts_event_attr *a = &ev->attrs[k];
		if (strcmp(a->attribute, "userIdentityArn") != 0 &&
		    strcmp(a->attribute, "userAgent") != 0)
			continue;
		for (unsigned i = 0; i < a->n_insight; i++) {
			const char *text = ts_event_text(ev, &a->insight[i]);
			double s = share(a->insight[i].average, ev->insight_average);
			double gain = s - share(baseline_of(ev, a, text), ev->baseline_average);
			if (*text && s >= TS_NOISE_CALLER_SHARE && gain > top) {
				top = gain;
				best = (int)k;
				*value = i;
			}
		}
	}
	return best;
}

/* s for a comment: at most max bytes, a control byte as '?'. */
static int put_text(ts_buf *out, const char *s, size_t max)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n && i < max; i++) {
		char c = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
		if (ts_buf_add(out, &c, 1))
			return TS_ENOMEM;
	}
	return n > max ? ts_buf_puts(out, "...") : 0;
}

int ts_noise_rule(const ts_event *ev, ts_buf *out)
{
	int err = ev->type == TS_ERROR_RATE;
	if (!ev->account[0] || !ev->region[0] || !ev->source[0] || !ev->name[0] ||
	    (err && !ev->error_code[0]))
		return TS_EFIELD;
	char start[21];
	ts_format_minute(ev->time, start);
	char name[16] = "noise-";
	for (size_t i = 0; i < 8 && ev->shared_id[i]; i++) {
		char c = ev->shared_id[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_' || c == '.';
		name[6 + i] = ok ? c : '_';
	}
	int drop = ev->insight_average < ev->baseline_average;
	if (ts_buf_printf(out, "# %s (%s), Start %s, sharedEventID ",
			  err ? "ApiErrorRateInsight" : "ApiCallRateInsight", drop ? "a fall" : "a rise",
			  start) ||
	    put_text(out, ev->shared_id, 64) ||
	    ts_buf_printf(out,
			  ":\n# %.4g a minute against a baseline of %.4g.\n"
			  "# Holds this series alone: its insights would carry the rule and go to\n"
			  "# no sink (--marked-out PATH keeps them)%s.\n",
			  ev->insight_average, ev->baseline_average,
			  err ? "" : "; the API's error-rate insights too") ||
	    ts_buf_printf(out, "rule = %s\naction = mark\n", name) || put_scope(out, 0, ev))
		return TS_ENOMEM;
	if (drop) /* no caller's calls made a fall */
		return ts_buf_puts(out, "\n");
	unsigned vi = 0;
	int k = top_caller(ev, &vi);
	if (k < 0)
		return ts_buf_puts(out, "\n");
	const ts_event_attr *a = &ev->attrs[k];
	const char *text = ts_event_text(ev, &a->insight[vi]);
	double s = share(a->insight[vi].average, ev->insight_average);
	int arn = strcmp(a->attribute, "userIdentityArn") == 0;
	double b = share(baseline_of(ev, a, text), ev->baseline_average);
	double rest = ev->insight_average - a->insight[vi].average;
	if (ts_buf_printf(out, "# Narrower, if the noise is one caller's: %s\n#   ",
			  arn ? "userIdentity.arn" : "userAgent") ||
	    put_text(out, text, 200) ||
	    ts_buf_printf(out,
			  "\n# made %.0f %% of the insight window's events (%.0f %% of the baseline's);\n"
			  "# without them the window averages %.4g a minute. Whether that is still\n"
			  "# unusual only a backfill with this rule can tell:\n"
			  "# rule = %s-caller\n# action = drop\n",
			  100 * s, 100 * b, rest > 0 ? rest : 0, name) ||
	    put_scope(out, 1, ev) ||
	    put_key(out, 1, arn ? "userIdentity.arn" : "userAgent", text) || ts_buf_puts(out, "\n"))
		return TS_ENOMEM;
	return 0;
}

static const char usage[] =
	"usage: trailsight noise --events FILE [--events FILE...] ID...\n"
	"\n"
	"For each insight ID (an eventID or a sharedEventID) found in the events\n"
	"files (NDJSON, as a run writes them), prints the narrowest rule that would\n"
	"have kept it from the sinks: a mark rule whose scope is the insight's\n"
	"series (account, Region, eventSource, eventName, errorCode for an error\n"
	"rate), and, when one caller (a userIdentity ARN or a user agent) made at\n"
	"least half of the insight window's events and much less of the baseline's,\n"
	"a narrower drop rule for that caller, commented out. Append the\n"
	"output to a rules file and run with --rules PATH (see models/README.md).\n"
	"Exit status: 0 every ID found, 1 an ID not found or bad usage.\n";

typedef struct found {
	const char *id;
	int have;
	ts_event ev;
} found;

/* Read one events file, keeping for each ID its End (else its Start). */
static int scan_file(const char *path, found *f, size_t nf)
{
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!in) {
		ts_error("noise: cannot open '%s': %s", path, strerror(errno));
		return 1;
	}
	char *line = NULL, err[256];
	size_t cap = 0, lineno = 0, bad = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (n <= 1 || (size_t)n > LINE_MAX_BYTES)
			continue;
		ts_event ev;
		int prc = ts_event_parse(line, (size_t)n, &ev, err, sizeof err);
		if (prc == TS_ENOMEM) {
			rc = 2;
			break;
		}
		if (prc) {
			if (!bad++)
				ts_warn("noise: %s:%zu: not an insight event (%s), passed over", path,
					lineno, err);
			continue;
		}
		int kept = 0;
		for (size_t i = 0; i < nf; i++) {
			if (strcmp(f[i].id, ev.event_id) != 0 && strcmp(f[i].id, ev.shared_id) != 0)
				continue;
			if (f[i].have && f[i].ev.state == TS_STATE_END)
				continue;
			if (f[i].have)
				ts_event_clear(&f[i].ev);
			if (kept) { /* a second ID names the same event: parse it again */
				if (ts_event_parse(line, (size_t)n, &f[i].ev, err, sizeof err)) {
					rc = 2;
					break;
				}
			} else {
				f[i].ev = ev;
				kept = 1;
			}
			f[i].have = 1;
		}
		if (!kept)
			ts_event_clear(&ev);
		if (rc)
			break;
	}
	if (ferror(in)) {
		ts_error("noise: cannot read '%s': %s", path, strerror(errno));
		rc = rc ? rc : 1;
	}
	if (bad > 1)
		ts_warn("noise: %s: %zu lines in all were not insight events", path, bad);
	free(line);
	if (in != stdin)
		fclose(in);
	return rc;
}

int ts_noise_cli(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"events", required_argument, 0, 'e'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *events[16];
	size_t nevents = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			if (nevents == TS_ARRAY_LEN(events)) {
				ts_error("noise: at most %zu --events files", TS_ARRAY_LEN(events));
				return 1;
			}
			events[nevents++] = optarg;
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 1;
		}
	}
	size_t nf = (size_t)(argc - optind);
	if (!nevents || !nf || nf > MAX_IDS) {
		ts_error("noise: %s", !nevents ? "give the events of a run with --events FILE"
				      : nf ? "at most 256 IDs at once"
					   : "give the eventID or sharedEventID of an insight");
		fputs(usage, stderr);
		return 1;
	}
	found *f = calloc(nf, sizeof *f);
	if (!f) {
		ts_error("out of memory");
		return 2;
	}
	for (size_t i = 0; i < nf; i++)
		f[i].id = argv[optind + (int)i];
	int code = 0;
	for (size_t i = 0; i < nevents && !code; i++)
		code = scan_file(events[i], f, nf);
	ts_buf out = {0};
	for (size_t i = 0; i < nf && code != 2; i++) {
		if (!f[i].have) {
			ts_error("noise: no insight with eventID or sharedEventID '%s' in the events "
				 "given", f[i].id);
			code = 1;
			continue;
		}
		int dup = 0; /* two IDs of one insight: one rule */
		for (size_t j = 0; j < i && !dup; j++)
			dup = f[j].have && strcmp(f[j].ev.shared_id, f[i].ev.shared_id) == 0;
		int rc = dup ? 0 : ts_noise_rule(&f[i].ev, &out);
		if (rc == TS_EFIELD) {
			ts_error("noise: insight '%s' has an empty account, Region, eventSource, "
				 "eventName or errorCode: no rule can hold it alone", f[i].id);
			code = 1;
		} else if (rc) {
			code = 2;
		}
	}
	if (code == 2)
		ts_error("out of memory");
	else if (out.len && (fwrite(out.p, 1, out.len, stdout) != out.len || fflush(stdout))) {
		ts_error("noise: cannot write the rules: %s", strerror(errno));
		code = 2;
	}
	ts_buf_free(&out);
	for (size_t i = 0; i < nf; i++)
		if (f[i].have)
			ts_event_clear(&f[i].ev);
	free(f);
	return code;
}
