/* fuzz_state.c - a partition's saved state, as the engine reads it back
 * from the store (from Redis: bytes anyone with access to the server may
 * have written). The input is stored, in a memory store, as the state of
 * the partition it names (or of a fixed one when it names none the engine
 * would make), and an engine made as the CLI makes it restores it at
 * finish, closes its open minutes, runs the detectors on the restored
 * state and writes the events it holds. The engine must either refuse
 * the state (TS_ESTORE, naming the key) or go on; nothing may crash, leak
 * or trip a sanitizer. A state the engine accepted and saved again must
 * then load in a fresh engine: what trailsight writes, trailsight reads.
 * Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "engine.h"
#include "err.h"
#include "series.h"
#include "store.h"

/* the engine's state magic, part of the stored format */
static const char state_magic[4] = {'T', 'S', 'P', '1'};

static int emit(void *ctx, const char *json, size_t len)
{
	size_t *n = ctx;
	if (!json || !len)
		abort();
	(*n)++;
	return 0;
}

/* A name the engine gives a partition (ts_engine_add skips records with
 * others): no ':', braces or control characters. */
static int name_ok(ts_str s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c < 0x20 || c == ':' || c == '{' || c == '}' || c == 0x7f)
			return 0;
	}
	return s.n > 0;
}

/* The partition a state names (its first two strings after the table),
 * read with a scratch registry, when the engine could have made it; 0 and
 * the names copied into a/r, or -1. */
static int state_partition(const uint8_t *d, size_t n, char *a, char *r, size_t cap)
{
	ts_registry *tmp = ts_registry_new(NULL);
	if (!tmp)
		abort();
	ts_dec dec;
	int rc = ts_dec_open(&dec, d, n, state_magic, tmp);
	ts_str acct = {"", 0}, region = {"", 0};
	if (!rc) {
		acct = ts_dec_str(&dec);
		region = ts_dec_str(&dec);
	}
	int ok = !rc && ts_dec_ok(&dec, 0) && name_ok(acct) && name_ok(region) && acct.n < cap &&
		 region.n < cap;
	if (ok) {
		memcpy(a, acct.p, acct.n);
		a[acct.n] = '\0';
		memcpy(r, region.p, region.n);
		r[region.n] = '\0';
	}
	ts_dec_free(&dec);
	ts_registry_free(tmp);
	return ok ? 0 : -1;
}

/* Store blob as the state of partition (a, r) and finish an engine over
 * it. Returns the engine's finish code; *saved gets the state it left for
 * that partition (reset first). */
static int run(const void *blob, size_t len, ts_str a, ts_str r, ts_buf *saved)
{
	ts_registry *reg = ts_registry_new(NULL);
	ts_store_opts so = {.retention_days = 30};
	ts_store *store = NULL;
	uint32_t pid;
	if (!reg || ts_store_mem_new(reg, &so, &store) || ts_registry_partition(reg, a, r, &pid) ||
	    store->ops->put_state(store, pid, blob, len, NULL, 0) || store->ops->flush(store))
		abort();
	ts_engine_opts eo;
	ts_engine_opts_defaults(&eo);
	eo.sorted = 0; /* as `trailsight stream` runs it */
	size_t events = 0;
	ts_engine *e = ts_engine_new(&eo, reg, store, emit, &events);
	if (!e)
		abort();
	int rc = ts_engine_finish(e);
	ts_buf_reset(saved);
	if (!rc && store->ops->get_state(store, pid, saved))
		abort();
	ts_engine_stats st;
	ts_engine_get_stats(e, &st);
	if (!rc && st.restored != 1)
		abort();
	ts_engine_free(e);
	ts_store_free(store);
	ts_registry_free(reg);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0; /* an empty state is no state */
	char acct[128] = "111122223333", region[128] = "us-east-1";
	state_partition(data, size, acct, region, sizeof acct);
	ts_str a = ts_str_c(acct), r = ts_str_c(region);
	ts_buf saved = {0}, again = {0};
	int rc = run(data, size, a, r, &saved);
	switch (rc) {
	case 0:
		break;
	case TS_ESTORE: case TS_ENOMEM: case TS_ECAP:
		goto done;
	default:
		abort();
	}
	/* the engine accepted the state; what it saved must load */
	if (saved.len && run(saved.p, saved.len, a, r, &again) != 0)
		abort();
done:
	ts_buf_free(&saved);
	ts_buf_free(&again);
	return 0;
}
