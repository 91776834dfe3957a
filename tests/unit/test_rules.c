/* test_rules.c - name patterns and scopes (scope.c), rules files
 * (rules.c) and the cached matching of drop rules (rulematch.c): every
 * kind of pattern, the first matching rule taking a record, errors named
 * by file and line, and the caller patterns run once per distinct case. */
#include <stdlib.h>
#include <unistd.h>

#include "../check.h"
#include "err.h"
#include "rulematch.h"
#include "rules.h"
#include "util.h"

static char dir[64];

static void put(const char *name, const char *text, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static int m(const char *pat, const char *v)
{
	ts_pattern p = {0};
	if (ts_pattern_set(&p, pat))
		return -1;
	int r = ts_pattern_match(&p, ts_str_c(v));
	ts_pattern_clear(&p);
	return r;
}

static void test_patterns(void)
{
	CHECK_INT(m("CreateTags", "CreateTags"), 1);
	CHECK_INT(m("CreateTags", "CreateTag"), 0);
	CHECK_INT(m("CreateTags", "CreateTagsX"), 0);
	CHECK_INT(m("Create*", "Create"), 1); /* a prefix */
	CHECK_INT(m("Create*", "CreateUser"), 1);
	CHECK_INT(m("Create*", "Creat"), 0);
	CHECK_INT(m("*", ""), 1);
	CHECK_INT(m("arn:aws:iam::*:role/aws-service-role/*",
		    "arn:aws:iam::123456789012:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX"), 1);
	CHECK_INT(m("arn:aws:iam::*:role/aws-service-role/*", "arn:aws:iam::1:role/other/x"), 0);
	CHECK_INT(m("*Tags", "CreateTags"), 1);
	CHECK_INT(m("*Tags", "CreateTagsNow"), 0);
	CHECK_INT(m("a*b*c", "aXbYbZc"), 1);
	CHECK_INT(m("a*b*c", "aXbYbZ"), 0);
	CHECK_INT(m("eu-west-?", "eu-west-1"), 1);
	CHECK_INT(m("eu-west-?", "eu-west-10"), 0);
	CHECK_INT(m("a**", "abc"), 1);
	CHECK_INT(m("", "x"), -1); /* an empty pattern is refused */
	/* an absent value matches nothing, not even "*" */
	ts_pattern p = {0};
	CHECK_INT(ts_pattern_set(&p, "*"), 0);
	CHECK_INT(ts_pattern_match(&p, TS_STR_NULL), 0);
	ts_pattern_clear(&p);
}

static void test_load_and_match(void)
{
	char path[256], err[512] = "";
	ts_rules *rs = NULL;
	put("ok.rules",
	    "# services\n"
	    "rule = invoked\n"
	    "action = drop\n"
	    "userIdentity.invokedBy = *\n"
	    "\n"
	    "rule = bob-errors\n"
	    "action = drop\n"
	    "userIdentity.arn = arn:aws:iam::*:user/bob\n"
	    "errorCode = AccessDenied*\n"
	    "rule = terraform-in-dev\n"
	    "action = drop\n"
	    "account = 222222222222\n"
	    "userAgent = Terraform/*\n"
	    "rule = quiet-kms\n"
	    "action = unjudged\n"
	    "eventSource = kms.amazonaws.com\n"
	    "rule = mark-sts\n"
	    "action = mark\n"
	    "eventSource = sts.amazonaws.com\n"
	    "errorCode = *\n",
	    path, sizeof path);
	CHECK_INT(ts_rules_load(path, &rs, err, sizeof err), 0);
	if (!rs)
		return;
	CHECK_INT(ts_rules_count(rs), 5);
	CHECK_STR(ts_rules_name(rs, 2), "terraform-in-dev");
	CHECK_INT(ts_rules_action(rs, 3), TS_RULE_UNJUDGED);
	CHECK_INT(ts_rules_drop_mask(rs), 7);

	ts_str v[TS_SC_N] = {ts_str_c("111111111111"), ts_str_c("us-east-1"),
			     ts_str_c("kms.amazonaws.com"), ts_str_c("Decrypt"), TS_STR_NULL};
	CHECK_INT(ts_rules_series(rs, v), 3);
	v[TS_SC_SOURCE] = ts_str_c("sts.amazonaws.com");
	CHECK_INT(ts_rules_series(rs, v), -1); /* the call rate: no errorCode */
	v[TS_SC_CODE] = ts_str_c("AccessDenied");
	CHECK_INT(ts_rules_series(rs, v), 4);
	/* the scope part of drop rules, per API: the dev account adds one */
	CHECK_INT(ts_rules_candidates(rs, v), 3);
	v[TS_SC_ACCOUNT] = ts_str_c("222222222222");
	CHECK_INT(ts_rules_candidates(rs, v), 7);

	uint64_t evals = 0;
	ts_str user[TS_CALLER_N] = {ts_str_c("arn:aws:iam::1:user/bob"), ts_str_c("IAMUser"),
				    TS_STR_NULL, ts_str_c("Terraform/1.7")};
	CHECK_INT(ts_rules_record(rs, 7, TS_STR_NULL, user, &evals), 2);
	CHECK_INT(evals, 3);
	CHECK_INT(ts_rules_record(rs, 3, TS_STR_NULL, user, &evals), -1); /* not an error */
	CHECK_INT(ts_rules_record(rs, 3, ts_str_c("AccessDeniedException"), user, &evals), 1);
	user[TS_CALLER_INVOKED] = ts_str_c("cloudformation.amazonaws.com");
	CHECK_INT(ts_rules_record(rs, 7, ts_str_c("AccessDeniedException"), user, &evals), 0);
	CHECK_INT(ts_rules_record(rs, 6, ts_str_c("Throttling"), user, &evals), 2);
	ts_rules_free(rs);
}

/* Loading text must fail with TS_EINVAL and an err containing want and
 * "PATH:LINE:" (line 0: "PATH:"). */
static void refused(const char *text, int line, const char *want)
{
	char path[256], err[512] = "", at[300];
	ts_rules *rs = (ts_rules *)1;
	put("bad.rules", text, path, sizeof path);
	CHECK_INT(ts_rules_load(path, &rs, err, sizeof err), TS_EINVAL);
	CHECK(rs == NULL);
	if (line)
		snprintf(at, sizeof at, "%s:%d: ", path, line);
	else
		snprintf(at, sizeof at, "%s: ", path);
	if (!strstr(err, at) || !strstr(err, want)) {
		fprintf(stderr, "for %s: got '%s', want '%s' and '%s'\n", text, err, at, want);
		CHECK(!"message");
	}
}

static void test_refused(void)
{
	refused("rule = a\naction = drop\nuserIdentity.ar = x\n", 3, "unknown key 'userIdentity.ar'");
	refused("action = drop\n", 1, "'action' before the first 'rule = NAME' line");
	refused("rule = a\naction = delete\n", 2, "action 'delete': expected drop, unjudged or mark");
	refused("rule = a\naction = drop\n\nrule = b\naction = drop\neventName = X\n", 4,
		"rule 'a' (line 1): matches everything");
	refused("rule = a\neventName = X\n", 0, "rule 'a' (line 1): no action");
	refused("rule = a\naction = unjudged\nuserAgent = x*\n", 0,
		"rule 'a' (line 1): caller keys (userIdentity.*, userAgent) need action = drop");
	refused("rule = a\naction = drop\neventName =\n", 3, "bad value for 'eventName'");
	refused("rule = a\naction = drop\neventName = X\neventName = Y\n", 4, "eventName given twice");
	refused("rule = a\naction = drop\neventName = X\nrule = a\n", 4, "rule 'a' given twice");
	refused("rule = a/b\n", 1, "rule name 'a/b'");
	refused("# nothing\n", 0, "no rules");
	refused("rule = a\naction drop\n", 2, "expected 'key = value'");
	/* a missing file: TS_EIO, named */
	char err[512] = "";
	ts_rules *rs = NULL;
	CHECK_INT(ts_rules_load("/nonexistent/x.rules", &rs, err, sizeof err), TS_EIO);
	CHECK(strstr(err, "cannot read rules file '/nonexistent/x.rules'") != NULL);
}

/* The matcher gives what the rules say, and runs the caller patterns once
 * per distinct case: 10000 records of 4 callers over 2 APIs. */
static void test_cached(void)
{
	char path[256], err[512] = "";
	ts_rules *rs = NULL;
	put("svc.rules",
	    "rule = invoked\naction = drop\nuserIdentity.invokedBy = *\n"
	    "rule = service\naction = drop\nuserIdentity.type = AWSService\n"
	    "rule = ec2-bob\naction = drop\neventSource = ec2.amazonaws.com\n"
	    "userIdentity.arn = *:user/bob\n",
	    path, sizeof path);
	CHECK_INT(ts_rules_load(path, &rs, err, sizeof err), 0);
	if (!rs)
		return;
	ts_rulematch *mt = ts_rulematch_new(rs);
	CHECK(mt != NULL);
	if (!mt) {
		ts_rules_free(rs);
		return;
	}
	ts_str ec2[TS_SC_N] = {ts_str_c("1"), ts_str_c("us-east-1"), ts_str_c("ec2.amazonaws.com"),
			       ts_str_c("RunInstances"), TS_STR_NULL};
	ts_str iam[TS_SC_N] = {ts_str_c("1"), ts_str_c("us-east-1"), ts_str_c("iam.amazonaws.com"),
			       ts_str_c("CreateUser"), TS_STR_NULL};
	struct {
		ts_str c[TS_CALLER_N];
		uint32_t arn_id;
	} who[4] = {
		{{ts_str_c("arn:aws:iam::1:user/alice"), ts_str_c("IAMUser"), TS_STR_NULL,
		  ts_str_c("aws-cli")}, 1},
		{{ts_str_c("arn:aws:iam::1:user/bob"), ts_str_c("IAMUser"), TS_STR_NULL,
		  ts_str_c("aws-cli")}, 2},
		{{TS_STR_NULL, ts_str_c("AWSService"), ts_str_c("ec2.amazonaws.com"),
		  ts_str_c("ec2.amazonaws.com")}, UINT32_MAX},
		{{ts_str_c("arn:aws:sts::1:assumed-role/R/s"), ts_str_c("AssumedRole"),
		  TS_STR_NULL, ts_str_c("aws-cli")}, 3},
	};
	/* expected rule: per API (ec2, iam) and caller */
	static const int want[2][4] = {{-1, 2, 0, -1}, {-1, -1, 0, -1}};
	int ok = 1, firsts = 0;
	for (int i = 0; i < 10000; i++) {
		int api = i % 2, c = (i / 2) % 4;
		ts_rule_rec r = {api ? iam : ec2, TS_STR_NULL, who[c].c, UINT32_MAX, who[c].arn_id, 7};
		int rule, first;
		CHECK_INT(ts_rulematch_record(mt, (uint32_t)api, &r, &rule, &first), 0);
		ok &= rule == want[api][c];
		firsts += first;
	}
	CHECK(ok);
	CHECK_INT(firsts, 3); /* (ec2, invoked), (ec2, ec2-bob), (iam, invoked) */
	ts_rulematch_stats st;
	ts_rulematch_get_stats(mt, &st);
	CHECK_INT(st.records, 10000);
	CHECK_INT(st.scope_evals, 2 * 3); /* once per API */
	CHECK_INT(st.cached, 10000 - 8);  /* 2 APIs x 4 callers */
	CHECK(st.evals <= 8 * 3);
	CHECK(ts_rulematch_memory(mt) > 0);
	ts_rulematch_free(mt);
	ts_rules_free(rs);
}

static void test_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/ts-rules-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void test_cleanup(void)
{
	static const char *names[] = {"ok.rules", "bad.rules", "svc.rules"};
	char path[256];
	for (size_t i = 0; i < TS_ARRAY_LEN(names); i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	CHECK_INT(rmdir(dir), 0);
}

/* The shipped starter file loads, and takes what it documents. */
static void test_starter(void)
{
	char path[4096], err[512] = "";
	const char *src = getenv("TS_SOURCE_DIR");
	snprintf(path, sizeof path, "%s/models/rules/aws-services.rules", src ? src : ".");
	ts_rules *rs = NULL;
	CHECK_INT(ts_rules_load(path, &rs, err, sizeof err), 0);
	if (!rs) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	uint64_t evals = 0;
	ts_str c[TS_CALLER_N] = {TS_STR_NULL, ts_str_c("AWSService"), TS_STR_NULL, TS_STR_NULL};
	CHECK_INT(ts_rules_record(rs, ts_rules_drop_mask(rs), TS_STR_NULL, c, &evals), 1);
	c[TS_CALLER_TYPE] = ts_str_c("AssumedRole");
	c[TS_CALLER_ARN] = ts_str_c("arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling");
	CHECK_INT(ts_rules_record(rs, ts_rules_drop_mask(rs), TS_STR_NULL, c, &evals), 2);
	c[TS_CALLER_ARN] = ts_str_c("arn:aws:iam::123456789012:role/aws-service-role/ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway");
	CHECK_INT(ts_rules_record(rs, ts_rules_drop_mask(rs), TS_STR_NULL, c, &evals), 3);
	c[TS_CALLER_INVOKED] = ts_str_c("AWS Internal");
	CHECK_INT(ts_rules_record(rs, ts_rules_drop_mask(rs), TS_STR_NULL, c, &evals), 0);
	ts_str user[TS_CALLER_N] = {ts_str_c("arn:aws:iam::123456789012:user/alice"),
				    ts_str_c("IAMUser"), TS_STR_NULL, ts_str_c("aws-cli/2")};
	CHECK_INT(ts_rules_record(rs, ts_rules_drop_mask(rs), TS_STR_NULL, user, &evals), -1);
	ts_rules_free(rs);
}

TS_TESTS(test_setup, test_patterns, test_load_and_match, test_refused, test_cached, test_starter,
	 test_cleanup)
