/* test_codec.c - the saved-state encoding: round trips, the value table,
 * and the range checks that keep an untrusted blob from reaching the
 * engine with values it could overflow on. */
#include "../check.h"
#include "codec.h"
#include "err.h"

static const char magic[4] = {'T', 'E', 'S', 'T'};

static void test_round_trip(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t a, b;
	CHECK_INT(ts_registry_value(reg, ts_str_c("arn:aws:iam::1:user/x"), &a), 0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("aws-cli/2"), &b), 0);
	ts_enc e;
	ts_enc_init(&e, reg);
	ts_enc_u64(&e, 300);
	ts_enc_i64(&e, -5);
	ts_enc_i64(&e, INT64_MIN);
	ts_enc_f64(&e, 0.25);
	ts_enc_f32(&e, 1.5f);
	ts_enc_str(&e, ts_str_c("us-east-1"));
	ts_enc_value(&e, b);
	ts_enc_value(&e, a);
	ts_enc_value(&e, b);
	ts_buf blob = {0};
	CHECK_INT(ts_enc_finish(&e, magic, &blob), 0);

	ts_registry *reg2 = ts_registry_new(NULL);
	ts_dec d;
	CHECK_INT(ts_dec_open(&d, blob.p, blob.len, magic, reg2), 0);
	CHECK_INT(d.nvalues, 2); /* each value once in the table */
	CHECK_INT(ts_dec_u64(&d), 300);
	CHECK_INT(ts_dec_i64(&d), -5);
	CHECK(ts_dec_minute(&d) == INT64_MIN); /* none is a minute */
	CHECK(ts_dec_f64(&d) == 0.25);
	CHECK(ts_dec_f32(&d) == 1.5f);
	ts_str s = ts_dec_str(&d);
	CHECK_MEM(s.p, s.n, "us-east-1");
	ts_str v1 = ts_registry_value_str(reg2, ts_dec_value(&d));
	ts_str v2 = ts_registry_value_str(reg2, ts_dec_value(&d));
	ts_str v3 = ts_registry_value_str(reg2, ts_dec_value(&d));
	CHECK_MEM(v1.p, v1.n, "aws-cli/2");
	CHECK_MEM(v2.p, v2.n, "arn:aws:iam::1:user/x");
	CHECK_MEM(v3.p, v3.n, "aws-cli/2");
	CHECK(ts_dec_ok(&d, 1));
	ts_dec_free(&d);
	/* another magic is refused */
	CHECK_INT(ts_dec_open(&d, blob.p, blob.len, "XXXX", reg2), TS_EINVAL);
	ts_dec_free(&d);
	ts_buf_free(&blob);
	ts_registry_free(reg2);
	ts_registry_free(reg);
}

/* Decode the i64s vals[n] (as minutes, or in [lo, hi]), expecting the decoder to be
 * good after each of the first ok of them and failed from then on. */
static void check_ranges(const int64_t *vals, int n, int ok, int minute, int64_t lo, int64_t hi)
{
	ts_registry *reg = ts_registry_new(NULL);
	ts_enc e;
	ts_enc_init(&e, reg);
	for (int i = 0; i < n; i++)
		ts_enc_i64(&e, vals[i]);
	ts_enc_u64(&e, 7);
	ts_buf blob = {0};
	CHECK_INT(ts_enc_finish(&e, magic, &blob), 0);
	ts_dec d;
	CHECK_INT(ts_dec_open(&d, blob.p, blob.len, magic, reg), 0);
	for (int i = 0; i < n; i++) {
		int64_t v = minute ? ts_dec_minute(&d) : ts_dec_i64_in(&d, lo, hi);
		CHECK_INT(ts_dec_ok(&d, 0), i < ok);
		if (i < ok)
			CHECK(v == vals[i]);
	}
	/* the failure is sticky: later reads give zeros */
	CHECK_INT(ts_dec_u64(&d), ok == n ? 7 : 0);
	ts_dec_free(&d);
	ts_buf_free(&blob);
	ts_registry_free(reg);
}

static void test_ranges(void)
{
	/* the end of the minutes is that of the years eventTime may have */
	CHECK(TS_DEC_MINUTE_END == ts_days_from_civil(10000, 1, 1) * TS_MIN_PER_DAY);
	const int64_t minutes[] = {0, 28800000, TS_DEC_MINUTE_MIN, TS_DEC_MINUTE_END - 1, INT64_MIN,
				   TS_DEC_MINUTE_END, 5};
	check_ranges(minutes, 7, 5, 1, 0, 0);
	const int64_t below[] = {TS_DEC_MINUTE_MIN - 1};
	check_ranges(below, 1, 0, 1, 0, 0);
	const int64_t near_max[] = {INT64_MAX - 3};
	check_ranges(near_max, 1, 0, 1, 0, 0);
	const int64_t flags[] = {0, 1, -1, 1};
	check_ranges(flags, 4, 2, 0, 0, 1);
	const int64_t dirs[] = {-1, 0, 1, 2};
	check_ranges(dirs, 4, 3, 0, -1, 1);
}

TS_TESTS(test_round_trip, test_ranges)
