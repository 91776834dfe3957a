/* test_episode.c - an episode saves and loads itself, the basis of its
 * expected rate (trailsightContext.expectedFrom) included, and reads the
 * states written before the basis was saved. */
#include <string.h>

#include "../check.h"
#include "episode.h"
#include "err.h"

static const char magic[4] = {'T', 'E', 'P', 'I'};

/* Save ep, load it back into *out. 0 or the load's error. */
static int round_trip(const ts_episode *ep, ts_episode *out)
{
	ts_registry *reg = ts_registry_new(NULL);
	ts_enc e;
	ts_enc_init(&e, reg);
	ts_episode_save(ep, &e);
	ts_buf blob = {0};
	CHECK_INT(ts_enc_finish(&e, magic, &blob), 0);
	ts_dec d;
	CHECK_INT(ts_dec_open(&d, blob.p, blob.len, magic, reg), 0);
	memset(out, 0xff, sizeof *out);
	int rc = ts_episode_load(out, &d);
	ts_dec_free(&d);
	ts_buf_free(&blob);
	ts_registry_free(reg);
	return rc;
}

static void test_basis_round_trip(void)
{
	ts_episode ep = {.start = 29000000, .baseline_average = 3.5, .baseline_duration = 10080,
			 .p_value = 1e-9, .expected = 2.25, .start_written = 1, .early = 1};
	ep.basis = (ts_basis){.day_class = TS_DAY_WEEKEND_RATIO, .weekend_days = 8, .regular = 1,
			      .ratio_e4 = TS_BASIS_RATIO_MAX, .ratio_raw_e4 = 1667,
			      .ratio_sd_e3 = TS_BASIS_SD_MAX};
	ts_episode got;
	CHECK_INT(round_trip(&ep, &got), 0);
	CHECK_INT(got.start_written, 1);
	CHECK_INT(got.early, 1);
	CHECK(memcmp(&got.basis, &ep.basis, sizeof ep.basis) == 0);
	CHECK(got.expected == 2.25 && got.start == ep.start);
	/* no basis (an error rate): all zero, and the flags alone */
	ep.basis = (ts_basis){0};
	ep.early = 0;
	CHECK_INT(round_trip(&ep, &got), 0);
	CHECK_INT(got.basis.day_class, TS_DAY_NONE);
	CHECK_INT(got.early, 0);
	CHECK_INT(got.start_written, 1);
	CHECK_INT(got.basis.ratio_e4, 0);
}

static void test_bad_day_class_refused(void)
{
	ts_episode ep = {.start = 29000000, .basis = {.day_class = 7}};
	ts_episode got;
	CHECK_INT(round_trip(&ep, &got), TS_EINVAL);
}

TS_TESTS(test_basis_round_trip, test_bad_day_class_refused)
