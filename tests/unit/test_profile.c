/* test_profile.c - sensitivity profiles (profile.c): the shipped profiles
 * load, models/default.profile says what the built-in defaults say, and
 * every kind of bad file is refused with its file, line and key named. */
#include <stdlib.h>
#include <unistd.h>

#include "../check.h"
#include "err.h"
#include "profile.h"
#include "util.h"

static char dir[64];

/* Write text to dir/name; the path into path. */
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

static const char *models(void)
{
	static char buf[4096];
	const char *src = getenv("TS_SOURCE_DIR");
	snprintf(buf, sizeof buf, "%s/models", src ? src : ".");
	return buf;
}

static void test_shipped(void)
{
	ts_profile p, d;
	char err[512] = "";
	ts_profile_defaults(&d);
	CHECK_INT(ts_profile_load("default", models(), &p, err, sizeof err), 0);
	/* the file documents the built-in values: every field the same */
	CHECK(memcmp(&p, &d, sizeof p) == 0);
	CHECK_STR(p.name, "default");
	CHECK_INT(ts_profile_load("quiet", models(), &p, err, sizeof err), 0);
	CHECK_STR(p.name, "quiet");
	CHECK(p.p_start <= d.p_start); /* quieter: a stricter start */
	CHECK_INT(ts_profile_load("sensitive", models(), &p, err, sizeof err), 0);
	CHECK_STR(p.name, "sensitive");
	CHECK(p.p_start >= d.p_start);
}

static void test_keys(void)
{
	char path[256], err[512] = "";
	ts_profile p;
	put("mine.profile",
	    "# a comment line\n"
	    "\n"
	    "p_start = 1e-9   # trailing comment\n"
	    "windows = 3, 10,32\r\n"
	    "\tcooldown\t=\t0\n"
	    "history_days = 14\n"
	    "warmup_days = 14\n"
	    "insight_minutes = 5\n"
	    "scan_min_share = 0\n"
	    "scan_min_minutes = 4\n",
	    path, sizeof path);
	CHECK_INT(ts_profile_load(path, NULL, &p, err, sizeof err), 0);
	CHECK_STR(p.name, "mine"); /* the file's base name */
	CHECK(p.p_start == 1e-9);
	CHECK_INT(p.n_windows, 3);
	CHECK_INT(p.windows[0], 3);
	CHECK_INT(p.windows[1], 10);
	CHECK_INT(p.windows[2], 32);
	CHECK_INT(p.cooldown, 0);
	CHECK_INT(p.history_days, 14);
	CHECK_INT(p.insight_minutes, 5);
	CHECK(p.scan_min_share == 0);
	CHECK_INT(p.scan_min_minutes, 4);
	/* keys not in the file keep their defaults */
	ts_profile d;
	ts_profile_defaults(&d);
	CHECK(p.min_count == d.min_count);
	CHECK_INT(p.end_after, d.end_after);
	/* by name from a folder, and a name key */
	put("named.profile", "name = other\n", path, sizeof path);
	CHECK_INT(ts_profile_load("named", dir, &p, err, sizeof err), 0);
	CHECK_STR(p.name, "other");
}

/* Loading text must fail with rc, and err must contain want. */
static void refused(const char *text, int line, const char *want)
{
	char path[256], err[512] = "", at[300];
	ts_profile p;
	put("bad.profile", text, path, sizeof path);
	int rc = ts_profile_load(path, NULL, &p, err, sizeof err);
	CHECK_INT(rc, TS_EINVAL);
	if (line)
		snprintf(at, sizeof at, "%s:%d:", path, line);
	else
		snprintf(at, sizeof at, "%s", path);
	if (!strstr(err, at) || !strstr(err, want)) {
		fprintf(stderr, "for %s: got '%s', want '%s' and '%s'\n", text, err, at, want);
		CHECK(!"message");
	}
}

static void test_refused(void)
{
	refused("p_start = 0.5\nnot_a_key = 1\n", 2, "unknown key 'not_a_key'");
	refused("p_start = 0.6\n", 1, "bad value for 'p_start'");
	refused("p_start = 0\n", 1, "bad value for 'p_start'");
	refused("p_start = lots\n", 1, "bad value for 'p_start'");
	refused("end_after = 2.5\n", 1, "bad value for 'end_after'"); /* not whole */
	refused("insight_minutes = 6\n", 1, "bad value for 'insight_minutes'");
	refused("\n\nhistory_days = 29\n", 3, "bad value for 'history_days'");
	refused("windows = 1, 33\n", 1, "bad value for 'windows'");
	refused("windows = 0\n", 1, "bad value for 'windows'");
	refused("windows = 1,2,3,4,5,6,7\n", 1, "bad value for 'windows'");
	refused("windows =\n", 1, "bad value for 'windows'");
	refused("windows = 1, x\n", 1, "bad value for 'windows'");
	refused("just words\n", 1, "expected 'key = value'");
	refused("history_days = 7\nwarmup_days = 8\n", 0, "warmup_days exceeds history_days");
	refused("max_open = -1\n", 1, "bad value for 'max_open'");
	refused("min_quiet = 1.5\n", 1, "bad value for 'min_quiet'");
	refused("scan_min_minutes = 33\n", 1, "bad value for 'scan_min_minutes'");
	refused("scan_min_minutes = 0\n", 1, "bad value for 'scan_min_minutes'");
	refused("scan_min_share = -1\n", 1, "bad value for 'scan_min_share'");
	refused("scan_min_share = 1.5\n", 1, "bad value for 'scan_min_share'");
	/* override blocks, named by line */
	refused("override = a\np_start = 1e-5\n", 0, "override 'a' (line 1) has no scope key");
	refused("override = a\nmin_count = 1\noverride = b\neventName = X\n", 3,
		"override 'a' (line 1) has no scope key");
	refused("override = a\neventName = X\noverride = b\nmin_count = 1\n", 0,
		"override 'b' (line 3) has no scope key");
	refused("override = a\neventName = X\nname = n\n", 3, "'name' is not allowed");
	refused("override = a\neventName = X\nnot_a_key = 1\n", 3, "unknown key 'not_a_key'");
	refused("override = a\neventName = X\neventName = Y\n", 3, "eventName given twice");
	refused("override = a b\n", 1, "override name 'a b'");
	refused("override = a\neventName = X\noverride = a\n", 3, "override 'a' given twice");
	refused("override = a\neventName = X\nhistory_days = 5\nwarmup_days = 6\n", 0,
		"override 'a' (line 1): warmup_days exceeds history_days");
	/* a missing file is TS_EIO, named */
	char err[512] = "";
	ts_profile p;
	CHECK_INT(ts_profile_load("nosuch", dir, &p, err, sizeof err), TS_EIO);
	CHECK(strstr(err, "nosuch.profile") != NULL);
}

/* Override blocks: each on top of the whole base, the most specific
 * matching one in force, the later one among as specific. */
static void test_overrides(void)
{
	char path[256], err[512] = "";
	ts_profile p;
	ts_overrides ov = {0};
	put("scoped.profile",
	    "name = base\n"
	    "min_count = 30\n"
	    "max_open = 3\n"
	    "override = iam\n"
	    "  eventSource = iam.amazonaws.com\n"
	    "  p_start = 1e-5\n"
	    "override = iam-users\n"
	    "  eventSource = iam.*\n"
	    "  eventName = *User*\n"
	    "  min_quiet = 60\n"
	    "override = iam-again\n"
	    "  eventSource = iam.*\n"
	    "  min_count = 7\n"
	    "override = denied\n"
	    "  errorCode = AccessDenied*\n"
	    "  min_errors = 2\n"
	    "override = one-account\n"
	    "  account = 111111111111\n"
	    "  region = eu-west-?\n"
	    "  history_days = 14\n"
	    "  warmup_days = 3\n",
	    path, sizeof path);
	CHECK_INT(ts_profile_load_scoped(path, NULL, &p, &ov, err, sizeof err), 0);
	CHECK_INT(ov.n, 5);
	CHECK_STR(p.name, "base");
	CHECK(p.min_count == 30);
	CHECK_INT(p.max_open, 3);
	CHECK_INT(p.min_quiet, 0);
	CHECK_STR(ov.v[0].p.name, "base/iam");
	CHECK(ov.v[0].p.p_start == 1e-5);
	CHECK(ov.v[0].p.min_count == 30); /* the base's keys under it */
	CHECK_INT(ov.v[0].p.max_open, 3);
	CHECK_INT(ov.v[1].p.min_quiet, 60);
	CHECK(ov.v[1].p.p_start == p.p_start);
	CHECK_INT(ov.v[4].p.history_days, 14);
	ts_str iam_user[TS_SC_N] = {ts_str_c("222222222222"), ts_str_c("us-east-1"),
				    ts_str_c("iam.amazonaws.com"), ts_str_c("CreateUser"), TS_STR_NULL};
	CHECK_INT(ts_overrides_resolve(&ov, iam_user), 1); /* two fields beat one */
	iam_user[TS_SC_NAME] = ts_str_c("AttachRolePolicy");
	CHECK_INT(ts_overrides_resolve(&ov, iam_user), 2); /* the later of two with one */
	iam_user[TS_SC_SOURCE] = ts_str_c("ec2.amazonaws.com");
	CHECK_INT(ts_overrides_resolve(&ov, iam_user), -1); /* the base */
	iam_user[TS_SC_CODE] = ts_str_c("AccessDeniedException");
	CHECK_INT(ts_overrides_resolve(&ov, iam_user), 3); /* only error-rate series */
	ts_str acct[TS_SC_N] = {ts_str_c("111111111111"), ts_str_c("eu-west-2"),
				ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"), TS_STR_NULL};
	CHECK_INT(ts_overrides_resolve(&ov, acct), 4);
	acct[TS_SC_REGION] = ts_str_c("eu-west-10");
	CHECK_INT(ts_overrides_resolve(&ov, acct), -1);
	/* ts_profile_load reads the base only */
	CHECK_INT(ts_profile_load(path, NULL, &p, err, sizeof err), 0);
	CHECK(p.min_count == 30);
	ts_overrides_free(&ov);
	CHECK_INT(ov.n, 0);
}

static void test_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/ts-profile-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void test_cleanup(void)
{
	static const char *names[] = {"mine.profile", "named.profile", "bad.profile",
				      "scoped.profile"};
	char path[256];
	for (size_t i = 0; i < TS_ARRAY_LEN(names); i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	CHECK_INT(rmdir(dir), 0);
}

TS_TESTS(test_setup, test_shipped, test_keys, test_refused, test_overrides, test_cleanup)
