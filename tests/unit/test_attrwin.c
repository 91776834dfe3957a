/* test_attrwin.c - a partition's attribution windows with the ring's counts
 * held in memory and with them read back from a store that keeps minutes
 * (a real redis-server): fed the same minutes (with gaps longer than the
 * ring, so stale slots stay behind, and a cap on values that drops some),
 * every window of every metric sums to the same tally, also after a save
 * and a load. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attrwin.h"
#include "../check.h"
#include "codec.h"
#include "redis_server.h"
#include "series.h"
#include "store.h"

#define NAPIS 3
#define NVALUES 6

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

typedef struct fixture {
	ts_registry *reg;
	uint32_t metric[NAPIS], value[NVALUES];
	ts_store *mem_ring, *in_store; /* the stores of the two windows */
	ts_attrwin *ring, *minutes;    /* counts in memory; in the store */
	ts_attrwin_counts cr, cm;
} fixture;

static ts_store *open_db(const test_redis *r, int db, ts_registry *reg)
{
	char spec[96], err[256] = "";
	snprintf(spec, sizeof spec, "redis://127.0.0.1:%d/%d", r->port, db);
	ts_store_opts o = {.retention_days = 10};
	ts_store *s = NULL;
	int rc = ts_store_open(spec, reg, &o, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "open %s: %s\n", spec, err);
	return rc ? NULL : s;
}

/* The tally of both windows over [from, to) of metric m must agree. */
static void same_window(fixture *f, uint32_t m, int64_t from, int64_t to, ts_attrwin *a,
			ts_attrwin *b)
{
	ts_tally ta = {0}, tb = {0};
	CHECK_INT(ts_attrwin_window(a, f->mem_ring, m, from, to, &ta), 0);
	CHECK_INT(ts_attrwin_window(b, f->in_store, m, from, to, &tb), 0);
	CHECK_INT(ta.n, tb.n);
	uint64_t k, c;
	int differ = 0;
	for (uint32_t i = 0; ts_tally_next(&ta, &i, &k, &c);)
		differ += ts_tally_get(&tb, k) != c;
	if (differ)
		fprintf(stderr, "metric %u window [%lld, %lld): %d counts differ\n", m,
			(long long)from, (long long)to, differ);
	CHECK_INT(differ, 0);
	ts_tally_free(&ta);
	ts_tally_free(&tb);
}

static void check_windows(fixture *f, int64_t newest, ts_attrwin *a, ts_attrwin *b)
{
	for (int i = 0; i < 12; i++) {
		int64_t from = newest - 700 + rnd(700), to = from + 1 + rnd(300);
		if (to > newest + 1)
			to = newest + 1;
		same_window(f, f->metric[rnd(NAPIS)], from, to, a, b);
	}
	/* a baseline's window: whole stored hours, then the partial hour */
	same_window(f, f->metric[0], newest - 3 * 1440, newest + 1, a, b);
}

/* Save a window and load it into a new one over the same store. */
static ts_attrwin *reload(fixture *f, const ts_attrwin *w, int in_store, int64_t cut)
{
	ts_enc enc;
	ts_buf blob = {0};
	ts_enc_init(&enc, f->reg);
	ts_attrwin_save(w, &enc, f->reg, cut);
	CHECK_INT(ts_enc_finish(&enc, "TSAW", &blob), 0);
	ts_attrwin *n = ts_attrwin_new(3, in_store);
	ts_dec d;
	CHECK_INT(ts_dec_open(&d, blob.p, blob.len, "TSAW", f->reg), 0);
	uint32_t mids[3 * NAPIS];
	const ts_partition *p = ts_registry_get_partition(f->reg, 0);
	for (uint32_t i = 0; i < p->nmetrics; i++)
		mids[i] = p->metrics[i];
	CHECK_INT(ts_attrwin_load(n, &d, mids, p->nmetrics, blob.len), 0);
	ts_dec_free(&d);
	ts_buf_free(&blob);
	return n;
}

static void test_same_sums(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	fixture f = {0};
	f.reg = ts_registry_new(NULL);
	uint32_t pid, aid;
	CHECK_INT(ts_registry_partition(f.reg, ts_str_c("111122223333"), ts_str_c("us-east-1"), &pid),
		  0);
	const char *names[NAPIS] = {"RunInstances", "PutObject", "Decrypt"};
	for (int i = 0; i < NAPIS; i++) {
		CHECK_INT(ts_registry_api(f.reg, pid, ts_str_c("x.amazonaws.com"), ts_str_c(names[i]),
					  0, &aid),
			  0);
		f.metric[i] = ts_registry_get_api(f.reg, aid)->calls;
	}
	for (int i = 0; i < NVALUES; i++) {
		char v[48];
		snprintf(v, sizeof v, "arn:aws:iam::1:user/u%d", i);
		CHECK_INT(ts_registry_value(f.reg, ts_str_c(v), &f.value[i]), 0);
	}
	f.mem_ring = open_db(&r, 1, f.reg);
	f.in_store = open_db(&r, 2, f.reg);
	f.ring = ts_attrwin_new(3, 0);
	f.minutes = ts_attrwin_new(3, 1);
	CHECK(f.mem_ring && f.in_store && f.ring && f.minutes);
	if (!f.mem_ring || !f.in_store || !f.ring || !f.minutes)
		goto out;

	int64_t minute = (int64_t)20000 * 1440 + 7;
	ts_attr_count a[8];
	for (int step = 0; step < 3000; step++) {
		/* mostly the next minute; now and then a gap, some longer than the ring */
		uint32_t g = rnd(40);
		minute += g < 34 ? 1 : g < 38 ? 1 + rnd(90) : 200 + rnd(300);
		size_t n = rnd(6);
		for (size_t i = 0; i < n; i++)
			a[i] = (ts_attr_count){f.metric[rnd(NAPIS)], f.value[rnd(NVALUES)], 1 + rnd(5),
					       (uint8_t)rnd(TS_A_KINDS)};
		CHECK_INT(ts_attrwin_minute(f.ring, f.mem_ring, pid, minute, a, n, &f.cr), 0);
		CHECK_INT(ts_attrwin_minute(f.minutes, f.in_store, pid, minute, a, n, &f.cm), 0);
		CHECK_INT(ts_attrwin_minute_done(f.ring, f.mem_ring, pid, minute, &f.cr), 0);
		CHECK_INT(ts_attrwin_minute_done(f.minutes, f.in_store, pid, minute, &f.cm), 0);
		if (step % 97 == 0) { /* a checkpoint */
			CHECK_INT(f.mem_ring->ops->flush(f.mem_ring), 0);
			CHECK_INT(f.in_store->ops->flush(f.in_store), 0);
		}
		if (step % 150 == 149)
			check_windows(&f, minute, f.ring, f.minutes);
	}
	CHECK_INT(f.cr.dropped, f.cm.dropped);
	CHECK(f.cr.dropped > 0);
	CHECK(ts_attrwin_memory(f.minutes) * 4 < ts_attrwin_memory(f.ring));

	/* saved and loaded from a cut, as a checkpoint's state does */
	CHECK_INT(f.mem_ring->ops->flush(f.mem_ring), 0);
	CHECK_INT(f.in_store->ops->flush(f.in_store), 0);
	int64_t cut = (minute - 180) / 60 * 60;
	ts_attrwin *r2 = reload(&f, f.ring, 0, cut), *m2 = reload(&f, f.minutes, 1, cut);
	check_windows(&f, minute, r2, m2);
	ts_attrwin_free(r2);
	ts_attrwin_free(m2);
out:
	ts_attrwin_free(f.ring);
	ts_attrwin_free(f.minutes);
	ts_store_free(f.mem_ring);
	ts_store_free(f.in_store);
	ts_registry_free(f.reg);
	tr_stop(&r);
}

TS_TESTS(test_same_sums)
