/* test_noise.c - the rule for a noisy insight (noise.c): values written as
 * patterns that match them and only what they must, and the rule text
 * read back by the rules parser, holding the insight's series and not its
 * neighbours; the caller rule, uncommented, dropping that caller's records
 * only; no caller rule for a fall or a caller with a small share.
 */
#include <stdlib.h>
#include <unistd.h>

#include "../check.h"
#include "err.h"
#include "insight.h"
#include "noise.h"
#include "rules.h"

static char dir[64];

/* ts_noise_pattern(v) read as a pattern, matched against w. */
static int pat_matches(const char *v, const char *w)
{
	ts_buf b = {0};
	CHECK_INT(ts_noise_pattern(&b, v), 0);
	CHECK_INT(ts_buf_add(&b, "", 1), 0);
	ts_pattern p = {0};
	int r = ts_pattern_set(&p, b.p) ? -1 : ts_pattern_match(&p, ts_str_c(w));
	ts_pattern_clear(&p);
	ts_buf_free(&b);
	return r;
}

static void test_patterns(void)
{
	ts_buf b = {0};
	CHECK_INT(ts_noise_pattern(&b, " a*b?c#d\x01 "), 0);
	CHECK_MEM(b.p, b.len, "?a?b?c?d??");
	ts_buf_free(&b);
	const char *vals[] = {"RunInstances", "arn:aws:iam::1:user/ci-*", "Boto3/1.2 (x; y)",
			      "tab\there", " lead", "trail ", "a#b", "q?"};
	for (size_t i = 0; i < TS_ARRAY_LEN(vals); i++)
		CHECK_INT(pat_matches(vals[i], vals[i]), 1);
	/* exact text is exact: no prefix or longer value matches */
	CHECK_INT(pat_matches("RunInstances", "RunInstancesX"), 0);
	CHECK_INT(pat_matches("RunInstances", "RunInstance"), 0);
	/* a wildcard in the value matches itself and, at worst, one other byte */
	CHECK_INT(pat_matches("arn:aws:iam::1:user/ci-*", "arn:aws:iam::1:user/ci-bot"), 0);
	CHECK_INT(pat_matches("arn:aws:iam::1:user/ci-*", "arn:aws:iam::1:user/ci-x"), 1);
	/* too long for a pattern: a prefix of it */
	char *lng = malloc(1501);
	CHECK(lng != NULL);
	if (!lng)
		return;
	memset(lng, 'u', 1500);
	lng[1500] = '\0';
	CHECK_INT(ts_noise_pattern(&b, lng), 0);
	CHECK_INT(b.len, 1000);
	CHECK(b.p[999] == '*');
	ts_buf_free(&b);
	CHECK_INT(pat_matches(lng, lng), 1);
	free(lng);
}

/* An insight of eventName name in one series, without attributions. */
static void base_insight(ts_insight *in, int type, int state, double ins, double base,
			 const char *name)
{
	memset(in, 0, sizeof *in);
	in->state = state;
	in->type = type;
	in->account = ts_str_c("111122223333");
	in->region = ts_str_c("eu-west-1");
	in->event_source = ts_str_c("ec2.amazonaws.com");
	in->event_name = ts_str_c(name);
	if (type == TS_ERROR_RATE)
		in->error_code = ts_str_c("AccessDenied");
	in->start_minute = 29470000;
	in->baseline_average = base;
	in->baseline_duration = 10000;
	in->insight_average = ins;
	in->insight_duration = 12;
	in->model = "default";
	in->expected = base;
	in->p_value = 1e-12;
}

/* in as insight.c writes it, read back into ev. 0 or the parse error. */
static int read_back(const ts_insight *in, ts_event *ev)
{
	ts_buf b = {0};
	CHECK_INT(ts_insight_write(in, &b), 0);
	char err[128] = "";
	int rc = ts_event_parse(b.p, b.len, ev, err, sizeof err);
	ts_buf_free(&b);
	return rc;
}

/* An insight whose window's caller who made who_avg a minute, read back. */
static void make_event(ts_event *ev, int type, int state, double ins, double base,
		       const char *who, double who_avg)
{
	ts_insight in;
	base_insight(&in, type, state, ins, base, "RunInstances");
	in.n_attrs = 2;
	in.attrs[0].attribute = "userIdentityArn";
	in.attrs[0].n_insight = 2;
	in.attrs[0].insight[0] = (ts_attr_value){ts_str_c(who), who_avg};
	in.attrs[0].insight[1] = (ts_attr_value){ts_str_c("arn:aws:iam::111122223333:user/b"), 1};
	in.attrs[0].n_baseline = 1;
	in.attrs[0].baseline[0] = (ts_attr_value){ts_str_c("arn:aws:iam::111122223333:user/b"), base};
	in.attrs[1].attribute = "userAgent";
	in.attrs[1].n_insight = 1;
	in.attrs[1].insight[0] = (ts_attr_value){ts_str_c("cli"), ins};
	in.attrs[1].n_baseline = 1; /* everyone's agent: sets nothing apart */
	in.attrs[1].baseline[0] = (ts_attr_value){ts_str_c("cli"), base};
	CHECK_INT(read_back(&in, ev), 0);
}

/* Write the rule text of ev to a file, uncommenting the caller rule when
 * caller; load it. NULL when it does not load. */
static ts_rules *load_rule(const ts_event *ev, int caller, ts_buf *text)
{
	ts_buf_reset(text);
	CHECK_INT(ts_noise_rule(ev, text), 0);
	CHECK_INT(ts_buf_add(text, "", 1), 0);
	char path[128];
	snprintf(path, sizeof path, "%s/noise.rules", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return NULL;
	const char *at = caller ? strstr(text->p, "# rule = ") : text->p;
	CHECK(at != NULL);
	for (const char *l = at ? at : ""; *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l + 1) : strlen(l);
		if (caller && n > 2 && l[0] == '#' && l[1] == ' ')
			fwrite(l + 2, 1, n - 2, f);
		else
			fwrite(l, 1, n, f);
		l += n;
	}
	fclose(f);
	ts_rules *rs = NULL;
	char err[256] = "";
	int rc = ts_rules_load(path, &rs, err, sizeof err);
	if (rc)
		fprintf(stderr, "rules did not load: %s\n%s", err, text->p);
	CHECK_INT(rc, 0);
	return rs;
}

static void series(ts_str v[TS_SC_N], const char *name, const char *code)
{
	v[TS_SC_ACCOUNT] = ts_str_c("111122223333");
	v[TS_SC_REGION] = ts_str_c("eu-west-1");
	v[TS_SC_SOURCE] = ts_str_c("ec2.amazonaws.com");
	v[TS_SC_NAME] = ts_str_c(name);
	v[TS_SC_CODE] = code ? ts_str_c(code) : TS_STR_NULL;
}

static void test_series_rule(void)
{
	ts_event ev;
	ts_buf text = {0};
	ts_str v[TS_SC_N];
	/* a call-rate rise: the series of the API, call and error rates */
	make_event(&ev, TS_CALL_RATE, TS_STATE_END, 40, 2, "arn:aws:iam::111122223333:role/ci", 38);
	ts_rules *rs = load_rule(&ev, 0, &text);
	if (rs) {
		CHECK_INT(ts_rules_count(rs), 1);
		CHECK_INT(ts_rules_action(rs, 0), TS_RULE_MARK);
		series(v, "RunInstances", NULL);
		CHECK_INT(ts_rules_series(rs, v), 0);
		series(v, "RunInstancesX", NULL);
		CHECK_INT(ts_rules_series(rs, v), -1);
		series(v, "RunInstances", NULL);
		v[TS_SC_REGION] = ts_str_c("eu-west-2");
		CHECK_INT(ts_rules_series(rs, v), -1);
		series(v, "RunInstances", NULL);
		v[TS_SC_ACCOUNT] = ts_str_c("111122223334");
		CHECK_INT(ts_rules_series(rs, v), -1);
	}
	ts_rules_free(rs);
	CHECK(strstr(text.p, "rule = noise-") != NULL);
	CHECK(strstr(text.p, "95 % of the insight window") != NULL);
	ts_event_clear(&ev);

	/* an error-rate rise: that error code's series only */
	make_event(&ev, TS_ERROR_RATE, TS_STATE_START, 10, 0.1, "arn:aws:iam::111122223333:role/ci",
		   9);
	rs = load_rule(&ev, 0, &text);
	if (rs) {
		series(v, "RunInstances", "AccessDenied");
		CHECK_INT(ts_rules_series(rs, v), 0);
		series(v, "RunInstances", "Throttling");
		CHECK_INT(ts_rules_series(rs, v), -1);
		series(v, "RunInstances", NULL);
		CHECK_INT(ts_rules_series(rs, v), -1);
	}
	ts_rules_free(rs);
	ts_event_clear(&ev);
	ts_buf_free(&text);
}

/* Values a rules file cannot hold as they are: the rule still loads and
 * holds the series; an empty value gets no rule. */
static void test_awkward_values(void)
{
	ts_insight in;
	base_insight(&in, TS_CALL_RATE, TS_STATE_START, 30, 1, "Run\nrule = x # *");
	in.n_attrs = 1;
	in.attrs[0].attribute = "userAgent";
	in.attrs[0].n_insight = 1;
	char agent[3000];
	memset(agent, 'z', sizeof agent - 1);
	agent[0] = '\n';
	agent[sizeof agent - 1] = '\0';
	in.attrs[0].insight[0] = (ts_attr_value){ts_str_c(agent), 30};
	ts_event ev;
	CHECK_INT(read_back(&in, &ev), 0);
	ts_buf text = {0};
	for (int caller = 0; caller < 2; caller++) {
		ts_rules *rs = load_rule(&ev, caller, &text);
		if (rs) {
			ts_str v[TS_SC_N];
			series(v, "Run\nrule = x # *", NULL);
			if (caller)
				CHECK(ts_rules_candidates(rs, v) == 1);
			else
				CHECK_INT(ts_rules_series(rs, v), 0);
			CHECK_INT(ts_rules_count(rs), 1);
		}
		ts_rules_free(rs);
	}
	ts_event_clear(&ev);
	/* an empty eventName: no rule */
	in.event_name = ts_str_c("");
	if (read_back(&in, &ev) == 0) {
		ts_buf_reset(&text);
		CHECK_INT(ts_noise_rule(&ev, &text), TS_EFIELD);
		CHECK_INT(text.len, 0);
		ts_event_clear(&ev);
	}
	ts_buf_free(&text);
}

/* A call-rate insight (ins against base, the caller who at who_avg) gets
 * no caller rule, and its text says what. */
static void no_caller_rule(const char *who, double ins, double base, double who_avg,
			   const char *what)
{
	ts_event ev;
	ts_buf text = {0};
	make_event(&ev, TS_CALL_RATE, TS_STATE_END, ins, base, who, who_avg);
	CHECK_INT(ts_noise_rule(&ev, &text), 0);
	CHECK_INT(ts_buf_add(&text, "", 1), 0);
	CHECK(strstr(text.p, "-caller") == NULL);
	CHECK(strstr(text.p, what) != NULL);
	ts_event_clear(&ev);
	ts_buf_free(&text);
}

static void test_caller_rule(void)
{
	ts_event ev;
	ts_buf text = {0};
	const char *ci = "arn:aws:iam::111122223333:role/ci";
	make_event(&ev, TS_ERROR_RATE, TS_STATE_END, 10, 0.1, ci, 9);
	ts_rules *rs = load_rule(&ev, 1, &text);
	if (rs) {
		CHECK_INT(ts_rules_count(rs), 1);
		CHECK_INT(ts_rules_action(rs, 0), TS_RULE_DROP);
		ts_str v[TS_SC_N];
		series(v, "RunInstances", NULL);
		uint64_t mask = ts_rules_candidates(rs, v), evals = 0;
		CHECK(mask == 1);
		ts_str c[TS_CALLER_N] = {ts_str_c(ci), ts_str_c("IAMUser"), TS_STR_NULL,
					 ts_str_c("cli")};
		/* that caller's AccessDenied records, and nothing else */
		CHECK_INT(ts_rules_record(rs, mask, ts_str_c("AccessDenied"), c, &evals), 0);
		CHECK_INT(ts_rules_record(rs, mask, ts_str_c("Throttling"), c, &evals), -1);
		CHECK_INT(ts_rules_record(rs, mask, TS_STR_NULL, c, &evals), -1);
		c[TS_CALLER_ARN] = ts_str_c("arn:aws:iam::111122223333:role/cia");
		CHECK_INT(ts_rules_record(rs, mask, ts_str_c("AccessDenied"), c, &evals), -1);
	}
	ts_rules_free(rs);
	ts_event_clear(&ev);

	/* a caller with under half of the window, or a fall: no caller rule */
	no_caller_rule(ci, 40, 2, 10, "action = mark");
	no_caller_rule(ci, 1, 20, 1, "(a fall)");
	ts_buf_free(&text);
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/ts-noise-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/noise.rules", dir);
	unlink(path);
	rmdir(dir);
}

static void test_all(void)
{
	setup();
	test_patterns();
	test_series_rule();
	test_caller_rule();
	test_awkward_values();
	teardown();
}

TS_TESTS(test_all)
