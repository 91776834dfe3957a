/* test_minattr.c - the packed minute attributions of the Redis store's
 * am: keys: round trips through several segments, the size an entry
 * takes, and damaged input (every truncation, every flipped byte) that
 * must deliver whole segments or nothing, never crash. */
#include <stdlib.h>

#include "../check.h"
#include "err.h"
#include "minattr.h"

typedef struct seen {
	ts_minattr a[4096];
	size_t n;
} seen;

static int collect(void *ctx, const ts_minattr *a)
{
	seen *s = ctx;
	if (s->n < 4096)
		s->a[s->n] = *a;
	s->n++;
	return 0;
}

static int stop_at_3(void *ctx, const ts_minattr *a)
{
	(void)a;
	size_t *n = ctx;
	return ++*n == 3 ? 42 : 0;
}

static void test_round_trip(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t v[3];
	CHECK_INT(ts_registry_value(reg, ts_str_c("arn:aws:iam::1:user/a"), &v[0]), 0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("aws-cli/2"), &v[1]), 0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("AccessDenied"), &v[2]), 0);
	/* out of order, as a write buffer holds them */
	ts_minattr in[] = {{1439, TS_A_ERRCODE, v[2], 1}, {0, TS_A_ARN, v[0], 7},
			   {600, TS_A_AGENT, v[1], UINT64_MAX}, {0, TS_A_AGENT, v[1], 7},
			   {600, TS_A_ARN, v[0], 2}};
	ts_buf seg = {0}, all = {0};
	CHECK_INT(ts_minattr_pack(in, 5, reg, &seg), 0);
	CHECK_INT(ts_buf_add(&all, seg.p, seg.len), 0);
	ts_minattr in2[] = {{600, TS_A_ARN, v[0], 5}};
	CHECK_INT(ts_minattr_pack(in2, 1, reg, &seg), 0);
	CHECK_INT(ts_buf_add(&all, seg.p, seg.len), 0);

	/* read into a fresh registry: values come from the segments */
	ts_registry *reg2 = ts_registry_new(NULL);
	seen *s = calloc(1, sizeof *s);
	CHECK_INT(ts_minattr_parse(all.p, all.len, reg2, collect, s, NULL), 0);
	CHECK_INT(s->n, 6);
	CHECK_INT(s->a[0].mod, 0);
	CHECK_INT(s->a[0].kind, TS_A_ARN);
	CHECK(ts_str_eq(ts_registry_value_str(reg2, s->a[0].value), ts_str_c("arn:aws:iam::1:user/a")));
	CHECK(s->a[0].count == 7);
	CHECK_INT(s->a[1].kind, TS_A_AGENT);
	CHECK(s->a[2].mod == 600 && s->a[2].kind == TS_A_ARN && s->a[2].count == 2);
	CHECK(s->a[3].mod == 600 && s->a[3].count == UINT64_MAX);
	CHECK(ts_str_eq(ts_registry_value_str(reg2, s->a[3].value), ts_str_c("aws-cli/2")));
	CHECK(s->a[4].mod == 1439 && s->a[4].kind == TS_A_ERRCODE && s->a[4].count == 1);
	CHECK(s->a[5].mod == 600 && s->a[5].count == 5);

	/* the callback's error stops the parse and is returned */
	size_t k = 0;
	CHECK_INT(ts_minattr_parse(all.p, all.len, reg2, stop_at_3, &k, NULL), 42);
	CHECK_INT(k, 3);

	/* out of range entries are refused */
	ts_minattr bad[] = {{1440, TS_A_ARN, v[0], 1}};
	CHECK_INT(ts_minattr_pack(bad, 1, reg, &seg), TS_EINVAL);
	ts_minattr bad2[] = {{0, TS_A_KINDS, v[0], 1}};
	CHECK_INT(ts_minattr_pack(bad2, 1, reg, &seg), TS_EINVAL);
	/* nothing at all is nothing */
	s->n = 0;
	CHECK_INT(ts_minattr_parse("", 0, reg2, collect, s, NULL), 0);
	CHECK_INT(s->n, 0);
	free(s);
	ts_buf_free(&seg);
	ts_buf_free(&all);
	ts_registry_free(reg);
	ts_registry_free(reg2);
}

/* A busy minute's worth for a day: one value per kind repeated in every
 * minute costs about three bytes an entry plus the values once. */
static void test_compact(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t arn, agent;
	CHECK_INT(ts_registry_value(reg, ts_str_c("arn:aws:sts::123456789012:assumed-role/app/i-0abc"),
				    &arn),
		  0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("aws-sdk-go/1.44.0 (go1.20; linux; amd64)"), &agent),
		  0);
	ts_minattr *v = malloc(2 * TS_MIN_PER_DAY * sizeof *v);
	for (uint32_t m = 0; m < TS_MIN_PER_DAY; m++) {
		v[2 * m] = (ts_minattr){m, TS_A_ARN, arn, 20 + m % 7};
		v[2 * m + 1] = (ts_minattr){m, TS_A_AGENT, agent, 20 + m % 7};
	}
	ts_buf seg = {0};
	CHECK_INT(ts_minattr_pack(v, 2 * TS_MIN_PER_DAY, reg, &seg), 0);
	CHECK(seg.len <= 3 * 2 * TS_MIN_PER_DAY + 120);
	seen *s = calloc(1, sizeof *s);
	CHECK_INT(ts_minattr_parse(seg.p, seg.len, reg, collect, s, NULL), 0);
	CHECK_INT(s->n, 2 * TS_MIN_PER_DAY);
	CHECK(s->a[2 * 700 + 1].mod == 700 && s->a[2 * 700 + 1].value == agent);
	free(s);
	free(v);
	ts_buf_free(&seg);
	ts_registry_free(reg);
}

/* Every truncation and every single-byte change of two segments: whole
 * segments or nothing, the first segment's entries whenever its bytes are
 * intact, and no crash. */
static void test_damage(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t a, b;
	CHECK_INT(ts_registry_value(reg, ts_str_c("arn:x"), &a), 0);
	CHECK_INT(ts_registry_value(reg, ts_str_c("agent-y"), &b), 0);
	ts_minattr in[] = {{5, TS_A_ARN, a, 1}, {6, TS_A_AGENT, b, 300}, {900, TS_A_ARN, b, 2}};
	ts_minattr in2[] = {{7, TS_A_ERRCODE, a, 9}};
	ts_buf seg = {0}, all = {0};
	CHECK_INT(ts_minattr_pack(in, 3, reg, &seg), 0);
	size_t first = seg.len;
	CHECK_INT(ts_buf_add(&all, seg.p, seg.len), 0);
	CHECK_INT(ts_minattr_pack(in2, 1, reg, &seg), 0);
	CHECK_INT(ts_buf_add(&all, seg.p, seg.len), 0);
	seen *s = calloc(1, sizeof *s);
	char *copy = malloc(all.len);
	int bad_trunc = 0, bad_flip = 0;
	for (size_t cut = 0; cut < all.len; cut++) {
		s->n = 0;
		size_t at = SIZE_MAX;
		int rc = ts_minattr_parse(all.p, cut, reg, collect, s, &at);
		size_t want = cut >= first ? 3 : 0;
		if (s->n != want || (cut && cut != first && (rc != TS_EINVAL || at > cut)) ||
		    ((!cut || cut == first) && rc != 0))
			bad_trunc++;
	}
	for (size_t i = 0; i < all.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(copy, all.p, all.len);
			copy[i] = (char)(copy[i] ^ (1 << bit));
			s->n = 0;
			int rc = ts_minattr_parse(copy, all.len, reg, collect, s, NULL);
			/* a change in the second segment leaves the first whole */
			if (i >= first && s->n < 3)
				bad_flip++;
			if (s->n != 0 && s->n != 3 && s->n != 4)
				bad_flip++;
			if (rc != 0 && rc != TS_EINVAL && rc != TS_ECAP)
				bad_flip++;
		}
	CHECK_INT(bad_trunc, 0);
	CHECK_INT(bad_flip, 0);
	free(copy);
	free(s);
	ts_buf_free(&seg);
	ts_buf_free(&all);
	ts_registry_free(reg);
}

TS_TESTS(test_round_trip, test_compact, test_damage)
