/* test_store_cluster.c - the Redis store on a real 3-master Redis Cluster
 * (redis-cluster://): the shared conformance suite; a partition's chunks
 * of one flush as one MULTI/EXEC on the node of its slot; EVALSHA after
 * every node's script cache was flushed (NOSCRIPT, loaded again); a
 * redis-cluster:// URL to a server without cluster support refused. */
#include "cluster_server.h"
#include "redis_cluster.h"
#include "store_conformance.h"

#define ACCT "111122223333"
#define REGION "us-east-1"
#define TAG "{" ACCT ":" REGION "}"
#define DAY 20000 /* 2024-10-04 */

static ts_registry *make_registry(void)
{
	ts_registry *reg = ts_registry_new(NULL);
	uint32_t pid, aid, v;
	CHECK_INT(ts_registry_partition(reg, ts_str_c(ACCT), ts_str_c(REGION), &pid), 0);
	CHECK_INT(ts_registry_api(reg, pid, ts_str_c("ec2.amazonaws.com"), ts_str_c("RunInstances"), 0,
				  &aid),
		  0);
	CHECK_INT(ts_registry_value(reg, ts_str_c(ACCT), &v), 0);
	CHECK_INT(v, 0);
	return reg;
}

static ts_store *open_cluster(const test_cluster *tc, int node, ts_registry *reg)
{
	char spec[128], err[512] = "";
	snprintf(spec, sizeof spec, "redis-cluster://127.0.0.1:%d", tc->node[node].port);
	ts_store *s = NULL;
	int rc = ts_store_open(spec, reg, NULL, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "open %s: %d %s\n", spec, rc, err);
	CHECK_INT(rc, 0);
	return rc ? NULL : s;
}

/* calls of one command in node i's INFO commandstats, or -1. */
static long long calls_of(const test_cluster *tc, int i, const char *cmd)
{
	redisReply *r = tc_cmd(tc, i, "INFO commandstats");
	long long v = -1;
	char want[64];
	snprintf(want, sizeof want, "cmdstat_%s:calls=", cmd);
	if (r && r->type == REDIS_REPLY_STRING) {
		const char *p = strstr(r->str, want);
		v = p ? strtoll(p + strlen(want), NULL, 10) : 0;
	}
	if (r)
		freeReplyObject(r);
	return v;
}

static void test_conformance(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	ts_registry *reg = make_registry();
	ts_store *s = open_cluster(&tc, 2, reg);
	if (s) {
		CHECK_STR(s->ops->name, "redis");
		store_conformance(s);
		store_checkpoint_conformance(s);
		CHECK_INT(s->ops->flush(s), 0);
		ts_store_free(s);
	}
	/* the partition's keys are on the master serving its tag's slot */
	int owner = tc_owner(&tc, 0, ts_rcluster_keyslot(TAG, strlen(TAG)));
	CHECK(owner >= 0);
	if (owner >= 0) {
		redisReply *r = tc_cmd(&tc, owner, "EXISTS ts:" TAG ":flushseq");
		CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
		if (r)
			freeReplyObject(r);
	}
	ts_registry_free(reg);
	tc_stop(&tc);
}

/* 3000 keys of one partition: two chunks, one MULTI/EXEC on the owner of
 * the partition's slot; then every node's scripts flushed, and a flush of
 * one chunk (EVALSHA) still applies once. */
static void test_group_and_noscript(void)
{
	test_cluster tc;
	if (tc_start(&tc, 3, 0)) {
		CHECK(!"the Redis Cluster did not start");
		return;
	}
	ts_registry *reg = make_registry();
	enum { NAPI = 1500 };
	static uint32_t metrics[2 * NAPI];
	for (int i = 0; i < NAPI; i++) {
		char name[32];
		snprintf(name, sizeof name, "Api%d", i);
		uint32_t aid;
		CHECK_INT(ts_registry_api(reg, 0, ts_str_c("svc.amazonaws.com"), ts_str_c(name), 0, &aid),
			  0);
		metrics[2 * i] = ts_registry_get_api(reg, aid)->calls;
		metrics[2 * i + 1] = ts_registry_get_api(reg, aid)->reads;
	}
	int owner = tc_owner(&tc, 0, ts_rcluster_keyslot(TAG, strlen(TAG)));
	CHECK(owner >= 0);
	ts_store *s = open_cluster(&tc, (owner + 1) % 3, reg);
	if (!s || owner < 0)
		goto out;
	long long m0[3], e0 = calls_of(&tc, owner, "eval");
	for (int i = 0; i < 3; i++)
		m0[i] = calls_of(&tc, i, "multi");
	int64_t t = (int64_t)DAY * TS_MIN_PER_DAY + 7;
	for (int i = 0; i < 2 * NAPI; i++) {
		ts_count cnt = {metrics[i], (uint32_t)i + 1};
		CHECK_INT(s->ops->add_minute(s, 0, t, &cnt, 1), 0);
	}
	CHECK_INT(s->ops->flush(s), 0);
	CHECK_INT(calls_of(&tc, owner, "multi") - m0[owner], 1);
	CHECK_INT(calls_of(&tc, owner, "eval") - e0, 2); /* 2000 + 1000 keys */
	for (int i = 0; i < 3; i++)
		if (i != owner)
			CHECK_INT(calls_of(&tc, i, "multi") - m0[i], 0);
	CHECK(tc_says(&tc, owner, "2", "GET ts:" TAG ":flushseq"));
	uint64_t bad = 0;
	for (int i = 0; i < 2 * NAPI; i++) {
		uint32_t out[1];
		CHECK_INT(s->ops->read_counts(s, metrics[i], t, 1, out), 0);
		bad += out[0] != (uint32_t)i + 1;
	}
	CHECK_INT(bad, 0);
	/* every node forgets the script: the next single chunk's EVALSHA
	 * meets NOSCRIPT, the node's connection is made again (loading it) */
	for (int i = 0; i < 3; i++)
		CHECK(tc_says(&tc, i, "OK", "SCRIPT FLUSH"));
	ts_count one = {metrics[0], 10};
	CHECK_INT(s->ops->add_minute(s, 0, t, &one, 1), 0);
	CHECK_INT(s->ops->flush(s), 0);
	CHECK(tc_says(&tc, owner, "3", "GET ts:" TAG ":flushseq"));
	CHECK(s->reconnects >= 1); /* the owner's connection, after NOSCRIPT */
	uint32_t out[1];
	CHECK_INT(s->ops->read_counts(s, metrics[0], t, 1, out), 0);
	CHECK_INT(out[0], 11);
out:
	ts_store_free(s);
	ts_registry_free(reg);
	tc_stop(&tc);
}

/* A redis-cluster:// URL to a plain server fails at open with a hint. */
static void test_not_a_cluster(void)
{
	test_redis r;
	if (tr_start(&r)) {
		CHECK(!"redis-server did not start");
		return;
	}
	ts_registry *reg = make_registry();
	char spec[128], err[512] = "";
	snprintf(spec, sizeof spec, "redis-cluster://127.0.0.1:%d", r.port);
	ts_store *s = NULL;
	CHECK_INT(ts_store_open(spec, reg, NULL, &s, err, sizeof err), TS_ESTORE);
	CHECK(s == NULL);
	CHECK(strstr(err, "not a Redis Cluster node: use a redis:// URL") != NULL);
	CHECK(strstr(err, "127.0.0.1") != NULL);
	ts_store_free(s);
	ts_registry_free(reg);
	tr_stop(&r);
}

TS_TESTS(test_conformance, test_group_and_noscript, test_not_a_cluster)
