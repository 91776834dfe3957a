/* test_store.c - the memory backend against the store conformance suite. */
#include "store_conformance.h"

static ts_registry *make_registry(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t pid, aid, v;
	CHECK_INT(ts_registry_partition(reg, ts_str_c("111122223333"), ts_str_c("us-east-1"), &pid), 0);
	CHECK_INT(ts_registry_api(reg, pid, ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"), 0, &aid), 0);
	/* values 0 and 1 are the account and region strings the registry
	 * interned first; the suite only needs two distinct ids */
	CHECK_INT(ts_registry_value(reg, ts_str_c("111122223333"), &v), 0);
	CHECK_INT(v, 0);
	return reg;
}

static void test_mem_conformance(void)
{
	ts_registry *reg = make_registry();
	ts_store *s = NULL;
	ts_store_opts o = {.retention_days = 10};
	CHECK_INT(ts_store_mem_new(reg, &o, &s), 0);
	store_conformance(s);
	store_checkpoint_conformance(s);
	ts_store_free(s);
	ts_registry_free(reg);
}

static void test_open_specs(void)
{
	ts_registry *reg = make_registry();
	ts_store *s = NULL;
	char err[256];
	CHECK_INT(ts_store_open("mem", reg, NULL, &s, err, sizeof err), 0);
	CHECK(s && strcmp(s->ops->name, "mem") == 0);
	ts_store_free(s);
	s = NULL;
	CHECK_INT(ts_store_open("bogus://x", reg, NULL, &s, err, sizeof err), TS_EINVAL);
	CHECK(strstr(err, "bogus://x") != NULL);
	ts_store_free(NULL);
	ts_registry_free(reg);
}

TS_TESTS(test_mem_conformance, test_open_specs)
