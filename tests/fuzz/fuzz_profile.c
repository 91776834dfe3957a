/* fuzz_profile.c - the sensitivity profile reader, with its override
 * blocks, and the rules file reader on any file content (--model PATH and
 * --rules PATH take a user's file). The input is written to an
 * in-memory file and loaded by its path, as --model does. On success every
 * setting must be in the range the detector and model rely on and the name
 * a NUL-terminated string; on failure the message must name the file.
 * Loading twice must give the same profile. Any breach aborts. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "profile.h"
#include "rules.h"

static int memfd = -1;
static char path[64];

static void check(const ts_profile *p)
{
	if (!memchr(p->name, '\0', sizeof p->name))
		abort();
	if (p->n_windows < 1 || p->n_windows > TS_MAX_WINDOWS)
		abort();
	for (int i = 0; i < p->n_windows; i++)
		if (p->windows[i] < 1 || p->windows[i] > TS_WINDOW_MAX)
			abort();
	if (!(p->p_start > 0 && p->p_start <= 0.5) || !(p->p_continue > 0 && p->p_continue <= 0.5))
		abort();
	if (p->min_duration < 1 || p->end_after < 1 || p->cooldown < 0)
		abort();
	if (!(p->min_count >= 0) || !(p->min_ratio >= 1) || !(p->drop_min_rate >= 0) ||
	    !(p->drop_max_ratio >= 0 && p->drop_max_ratio <= 1) || !(p->min_errors >= 0) ||
	    !(p->error_min_fraction >= 0 && p->error_min_fraction <= 1) ||
	    !(p->error_min_ratio >= 1) || !(p->shrink >= 0))
		abort();
	if (p->warmup_days < 1 || p->history_days > 28 || p->warmup_days > p->history_days)
		abort();
	if (p->insight_minutes < 1 || p->insight_minutes > 5)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz_profile", 0);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	ts_profile p, q;
	char err[512] = "", err2[512] = "";
	int rc = ts_profile_load(path, NULL, &p, err, sizeof err);
	if (rc == 0) {
		check(&p);
	} else if (rc == TS_EINVAL) {
		if (!memchr(err, '\0', sizeof err) || !strstr(err, path))
			abort();
	} else {
		abort();
	}
	int rc2 = ts_profile_load(path, NULL, &q, err2, sizeof err2);
	if (rc2 != rc || (rc == 0 && memcmp(&p, &q, sizeof p) != 0) || strcmp(err, err2) != 0)
		abort();
	/* the overrides: each a whole profile, with a scope */
	ts_overrides ov = {0};
	rc2 = ts_profile_load_scoped(path, NULL, &q, &ov, err2, sizeof err2);
	if (rc2 != rc || (rc == 0 && memcmp(&p, &q, sizeof p) != 0) ||
	    (rc == TS_EINVAL && ov.n && !strstr(err2, path)) || ov.n > TS_MAX_OVERRIDES)
		abort();
	for (size_t i = 0; i < ov.n; i++) {
		check(&ov.v[i].p);
		if (!ts_scope_fields(&ov.v[i].scope))
			abort();
	}
	ts_overrides_free(&ov);
	/* the same bytes as a rules file */
	ts_rules *rs = NULL;
	rc = ts_rules_load(path, &rs, err, sizeof err);
	if (rc == 0) {
		if (!rs || !ts_rules_count(rs) || ts_rules_count(rs) > TS_MAX_RULES)
			abort();
		for (size_t i = 0; i < ts_rules_count(rs); i++)
			if (ts_rules_action(rs, i) < TS_RULE_DROP || ts_rules_action(rs, i) > TS_RULE_MARK)
				abort();
	} else if (rc != TS_EINVAL || rs || !strstr(err, path)) {
		abort();
	}
	ts_rules_free(rs);
	return 0;
}
