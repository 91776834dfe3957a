/* fuzz_minattr.c - the packed minute attributions of the Redis store's
 * am: keys (minattr.h), read from any bytes: a key anyone with access to
 * the server may have written. Every entry delivered must be in range
 * (minute of day, kind, a value the registry names); a failure must be
 * TS_EINVAL at an offset inside the input, or TS_ECAP/TS_ENOMEM. What was
 * delivered, packed again segment by segment, must read back the same
 * entries: what trailsight reads, trailsight writes. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "minattr.h"

typedef struct got {
	ts_minattr *a;
	size_t n, alloc;
	const ts_registry *reg;
} got;

static int take(void *ctx, const ts_minattr *a)
{
	got *g = ctx;
	if (a->mod >= TS_MIN_PER_DAY || a->kind >= TS_A_KINDS)
		abort();
	if (!ts_registry_value_str(g->reg, a->value).p)
		abort();
	if (g->n == g->alloc) {
		size_t na = g->alloc ? g->alloc * 2 : 64;
		ts_minattr *nv = realloc(g->a, na * sizeof *nv);
		if (!nv)
			return TS_ENOMEM;
		g->a = nv;
		g->alloc = na;
	}
	g->a[g->n++] = *a;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	const ts_minattr *x = a, *y = b;
	if (x->mod != y->mod)
		return x->mod < y->mod ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return (x->count > y->count) - (x->count < y->count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_registry *reg = ts_registry_new(NULL);
	if (!reg)
		return 0;
	got g = {.reg = reg}, back = {.reg = reg};
	size_t at = SIZE_MAX;
	int rc = ts_minattr_parse(data, size, reg, take, &g, &at);
	if (rc == TS_EINVAL && at >= size)
		abort();
	if (rc && rc != TS_EINVAL && rc != TS_ECAP && rc != TS_ENOMEM)
		abort();
	/* pack what was read as one segment and read it again */
	ts_buf seg = {0};
	if (g.n) {
		ts_minattr *copy = malloc(g.n * sizeof *copy);
		if (copy) {
			memcpy(copy, g.a, g.n * sizeof *copy);
			if (ts_minattr_pack(copy, g.n, reg, &seg))
				abort();
			if (ts_minattr_parse(seg.p, seg.len, reg, take, &back, NULL))
				abort();
			/* entries equal but for the count may come back in
			 * either order: compare as sorted lists */
			qsort(g.a, g.n, sizeof *g.a, cmp);
			if (back.n == g.n)
				qsort(back.a, back.n, sizeof *back.a, cmp);
			if (back.n != g.n || memcmp(back.a, g.a, g.n * sizeof *g.a) != 0)
				abort();
			free(copy);
		}
	}
	ts_buf_free(&seg);
	free(g.a);
	free(back.a);
	ts_registry_free(reg);
	return 0;
}
