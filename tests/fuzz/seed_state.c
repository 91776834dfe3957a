/* seed_state.c - writes seed inputs for fuzz_state: partition states as the
 * engine itself saves them. Usage: seed_state OUTDIR [LOG...]
 *
 * Each LOG (CloudTrail file, any shape the reader takes) is read into its
 * own engine and memory store, which checkpoints at the end; every
 * partition's state is written to OUTDIR/state-<log name>-<n>. Then one
 * synthetic API (8 days of steady calls, then a burst of calls and errors)
 * is run through an engine that checkpoints every 10 minutes, and the state
 * is written at three moments: warmed up, inside the open episode (with its
 * held Start events), and after the End: OUTDIR/state-warm, -open, -ended.
 * Exit status 0, or 1 with a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "err.h"
#include "source.h"
#include "store.h"

typedef struct world {
	ts_registry *reg;
	ts_store *store;
	ts_engine *e;
} world;

static int discard(void *ctx, const char *json, size_t len)
{
	(void)ctx;
	(void)json;
	(void)len;
	return 0;
}

static int world_new(world *w)
{
	ts_engine_opts o;
	ts_engine_opts_defaults(&o);
	o.sorted = 0;
	w->reg = ts_registry_new(NULL);
	w->store = NULL;
	if (!w->reg || ts_store_mem_new(w->reg, NULL, &w->store))
		return -1;
	w->e = ts_engine_new(&o, w->reg, w->store, discard, NULL);
	return w->e ? 0 : -1;
}

static void world_free(world *w)
{
	ts_engine_free(w->e);
	ts_store_free(w->store);
	ts_registry_free(w->reg);
}

/* Write every partition's saved state to dir/state-<tag>[-<pid>]. */
static int dump(world *w, const char *dir, const char *tag, int number)
{
	ts_buf b = {0};
	int rc = 0;
	for (uint32_t pid = 0; pid < ts_registry_npartitions(w->reg) && !rc; pid++) {
		if ((rc = w->store->ops->get_state(w->store, pid, &b)) || !b.len)
			continue;
		char path[4096];
		if (number)
			snprintf(path, sizeof path, "%s/state-%s-%u", dir, tag, pid);
		else
			snprintf(path, sizeof path, "%s/state-%s", dir, tag);
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) {
			fprintf(stderr, "seed_state: cannot write '%s'\n", path);
			rc = -1;
		}
	}
	ts_buf_free(&b);
	return rc;
}

static int on_record(void *ctx, const ts_record *r, const char *path, uint64_t off)
{
	(void)path;
	(void)off;
	int rc = ts_engine_add(ctx, r);
	return rc < 0 && rc != TS_EFIELD && rc != TS_ECAP ? 1 : 0;
}

static int from_log(const char *dir, const char *log)
{
	world w;
	if (world_new(&w))
		return -1;
	ts_source_stats st;
	memset(&st, 0, sizeof st);
	ts_source_cb cb = {.record = on_record, .ctx = w.e};
	int rc = ts_source_read(log, NULL, NULL, &st, &cb);
	if (!rc)
		rc = ts_engine_checkpoint(w.e);
	const char *base = strrchr(log, '/');
	base = base ? base + 1 : log;
	char tag[256];
	snprintf(tag, sizeof tag, "%.*s", (int)strcspn(base, "."), base);
	if (!rc)
		rc = dump(&w, dir, tag, 1);
	world_free(&w);
	return rc;
}

static ts_record rec(int64_t minute, int sec, const char *arn, const char *err)
{
	ts_record r;
	memset(&r, 0, sizeof r);
	r.time = minute * 60 + sec;
	r.event_source = ts_str_c("ec2.amazonaws.com");
	r.event_name = ts_str_c("RunInstances");
	r.aws_region = ts_str_c("us-east-1");
	r.account = ts_str_c("111122223333");
	r.arn = ts_str_c(arn);
	r.user_agent = ts_str_c(sec % 2 ? "aws-cli/2.15.0" : "Boto3/1.34.0");
	r.error_code = err ? ts_str_c(err) : TS_STR_NULL;
	r.event_category = ts_str_c("Management");
	r.event_type = ts_str_c("AwsApiCall");
	r.read_only = TS_FALSE;
	r.management = TS_TRUE;
	return r;
}

static int synthetic(const char *dir)
{
	world w;
	if (world_new(&w))
		return -1;
	const int64_t day0 = 19997 * (int64_t)TS_MIN_PER_DAY; /* 2024-10-01 */
	const int64_t spike = day0 + 8 * TS_MIN_PER_DAY + 600;
	int rc = 0;
	for (int64_t m = day0; m < spike + 60 && !rc; m++) {
		int n = 3 + (int)(m % 3);
		int burst = m >= spike && m < spike + 12;
		for (int i = 0; i < n + (burst ? 80 : 0) && !rc; i++) {
			ts_record r = rec(m, i % 60,
					  i >= n ? "arn:aws:iam::111122223333:user/x"
						 : "arn:aws:iam::111122223333:role/app",
					  burst && i % 8 == 0 ? "Client.UnauthorizedOperation" : NULL);
			rc = ts_engine_add(w.e, &r);
			rc = rc == 1 ? 0 : rc;
		}
		if (rc || m % 10)
			continue;
		rc = ts_engine_checkpoint(w.e);
		if (!rc && m == spike - 10)
			rc = dump(&w, dir, "warm", 0);
		else if (!rc && m == spike + 30)
			rc = dump(&w, dir, "open", 0);
	}
	if (!rc)
		rc = ts_engine_finish(w.e);
	if (!rc)
		rc = dump(&w, dir, "ended", 0);
	world_free(&w);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: seed_state OUTDIR [LOG...]\n");
		return 1;
	}
	for (int i = 2; i < argc; i++)
		if (from_log(argv[1], argv[i])) {
			fprintf(stderr, "seed_state: cannot make a state from '%s'\n", argv[i]);
			return 1;
		}
	if (synthetic(argv[1])) {
		fprintf(stderr, "seed_state: the synthetic run failed\n");
		return 1;
	}
	return 0;
}
