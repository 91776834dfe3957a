/* test_series.c - interning and the registry of partitions, APIs, metrics. */
#include "../check.h"
#include "intern.h"
#include "series.h"

static void test_intern(void)
{
	ts_intern *t = ts_intern_new(3, 0);
	uint32_t a, b, c;
	int added;
	CHECK_INT(ts_intern_put(t, ts_str_c("alpha"), &a, &added), 0);
	CHECK_INT(added, 1);
	CHECK_INT(ts_intern_put(t, ts_str_c("alpha"), &b, &added), 0);
	CHECK_INT(added, 0);
	CHECK_INT(a, b);
	/* embedded NUL bytes are part of the string */
	CHECK_INT(ts_intern_put(t, (ts_str){"a\0b", 3}, &c, NULL), 0);
	CHECK(c != a);
	CHECK_INT(ts_intern_str(t, c).n, 3);
	CHECK_INT(ts_intern_put(t, ts_str_c("x"), &c, NULL), 0);
	CHECK_INT(ts_intern_put(t, ts_str_c("y"), &c, NULL), TS_ECAP);
	CHECK_INT(ts_intern_find(t, ts_str_c("y"), &c), TS_EINVAL);
	CHECK_INT(ts_intern_count(t), 3);
	ts_intern_free(t);
	ts_intern_free(NULL);
}

static void test_intern_many(void)
{
	ts_intern *t = ts_intern_new(0, 0);
	char buf[32];
	for (int i = 0; i < 100000; i++) {
		uint32_t id;
		snprintf(buf, sizeof buf, "value-%d", i);
		if (ts_intern_put(t, ts_str_c(buf), &id, NULL) || id != (uint32_t)i) {
			CHECK(!"intern ids are dense and in order");
			break;
		}
	}
	uint32_t id;
	CHECK_INT(ts_intern_find(t, ts_str_c("value-77777"), &id), 0);
	CHECK_INT(id, 77777);
	CHECK_MEM(ts_intern_str(t, 123).p, ts_intern_str(t, 123).n, "value-123");
	ts_intern_free(t);
}

static void test_registry(void)
{
	ts_registry_caps caps = {.max_apis = 2};
	ts_registry *r = ts_registry_new(&caps);
	uint32_t p1, p2, p3, a1, a2, a3, e1, e2, v;
	CHECK_INT(ts_registry_partition(r, ts_str_c("1"), ts_str_c("us-east-1"), &p1), 0);
	CHECK_INT(ts_registry_partition(r, ts_str_c("1"), ts_str_c("eu-west-1"), &p2), 0);
	CHECK_INT(ts_registry_partition(r, ts_str_c("1"), ts_str_c("us-east-1"), &p3), 0);
	CHECK(p1 != p2);
	CHECK_INT(p1, p3);
	/* field splits must not collide: ("ab","c") vs ("a","bc") */
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("ab"), ts_str_c("c"), 0, &a1), 0);
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("a"), ts_str_c("bc"), 0, &a2), 0);
	CHECK(a1 != a2);
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("ab"), ts_str_c("c"), 0, &a3), 0);
	CHECK_INT(a1, a3);
	CHECK_INT(ts_registry_api(r, p2, ts_str_c("x"), ts_str_c("y"), 0, &a3), TS_ECAP);
	ts_api *api = ts_registry_get_api(r, a1);
	CHECK_MEM(api->source.p, api->source.n, "ab");
	const ts_metric *mc = ts_registry_get_metric(r, api->calls);
	CHECK_INT(mc->kind, TS_M_CALLS);
	CHECK_INT(mc->api, a1);
	CHECK_INT(ts_registry_value(r, ts_str_c("AccessDenied"), &v), 0);
	CHECK_INT(ts_registry_error_metric(r, a1, v, &e1), 0);
	CHECK_INT(ts_registry_error_metric(r, a1, v, &e2), 0);
	CHECK_INT(e1, e2);
	const ts_metric *me = ts_registry_get_metric(r, e1);
	CHECK_INT(me->kind, TS_M_ERRORS);
	CHECK_INT(me->code, v);
	ts_partition *p = ts_registry_get_partition(r, p1);
	CHECK_INT(p->nmetrics, 5); /* two APIs x (calls, reads) + one error metric */
	CHECK_INT(p->metrics[me->local], e1);
	CHECK_INT(ts_registry_nmetrics(r), 5);
	ts_registry_free(r);
}

/* Caps per partition and on error codes per series: past them TS_ECAP,
 * while what exists is still found. */
static void test_registry_caps(void)
{
	ts_registry_caps caps = {.max_apis_per_partition = 2, .max_codes_per_api = 1};
	ts_registry *r = ts_registry_new(&caps);
	uint32_t p1, p2, a, b, c, v1, v2, e;
	CHECK_INT(ts_registry_partition(r, ts_str_c("1"), ts_str_c("us-east-1"), &p1), 0);
	CHECK_INT(ts_registry_partition(r, ts_str_c("1"), ts_str_c("eu-west-1"), &p2), 0);
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("s"), ts_str_c("A"), 0, &a), 0);
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("s"), ts_str_c("B"), 0, &b), 0);
	uint32_t nvalues_before;
	CHECK_INT(ts_registry_value(r, ts_str_c("probe"), &nvalues_before), 0);
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("s"), ts_str_c("C"), 0, &c), TS_ECAP);
	/* nothing of the refused name was interned */
	uint32_t probe2;
	CHECK_INT(ts_registry_value(r, ts_str_c("probe2"), &probe2), 0);
	CHECK_INT(probe2, nvalues_before + 1);
	CHECK_INT(ts_registry_api(r, p1, ts_str_c("s"), ts_str_c("A"), 0, &c), 0);
	CHECK_INT(c, a);
	CHECK_INT(ts_registry_api(r, p2, ts_str_c("s"), ts_str_c("C"), 0, &c), 0);
	CHECK_INT(ts_registry_get_partition(r, p1)->napis, 2);
	CHECK_INT(ts_registry_value(r, ts_str_c("E1"), &v1), 0);
	CHECK_INT(ts_registry_value(r, ts_str_c("E2"), &v2), 0);
	CHECK_INT(ts_registry_error_metric(r, a, v1, &e), 0);
	CHECK_INT(ts_registry_error_metric(r, a, v2, &e), TS_ECAP);
	CHECK_INT(ts_registry_error_metric(r, b, v2, &e), 0);
	CHECK_INT(ts_registry_get_caps(r)->max_apis, 4000000);
	ts_registry_free(r);
}

TS_TESTS(test_intern, test_intern_many, test_registry, test_registry_caps)
