/* store_view.c - a store made of two: every operation goes to one store
 * (counts), except read_attrs, which goes to another (attrs). For
 * re-detection: the engine counts into a memory store as a backfill does,
 * while the attribution hours its insight windows need are read from the
 * Redis store that kept them. The view owns neither store (both must
 * outlive it); a failed call's message is copied into the view's errstr.
 */
#include <stdlib.h>

#include "store.h"

typedef struct view {
	ts_store base;
	ts_store *counts, *attrs; /* borrowed */
} view;

static ts_store *C(ts_store *s) { return ((view *)s)->counts; }

/* The inner store's result, with its message when it failed. */
static int pass(ts_store *s, ts_store *inner, int rc)
{
	if (rc) {
		memcpy(s->errstr, inner->errstr, sizeof s->errstr);
		s->errstr[sizeof s->errstr - 1] = '\0';
	}
	return rc;
}

static int v_add_minute(ts_store *s, uint32_t p, int64_t minute, const ts_count *c, size_t n)
{
	return pass(s, C(s), C(s)->ops->add_minute(C(s), p, minute, c, n));
}

static int v_read_counts(ts_store *s, uint32_t metric, int64_t from, size_t n, uint32_t *out)
{
	return pass(s, C(s), C(s)->ops->read_counts(C(s), metric, from, n, out));
}

static int v_add_attrs(ts_store *s, uint32_t p, int64_t hour, const ts_attr_count *a, size_t n)
{
	return pass(s, C(s), C(s)->ops->add_attrs(C(s), p, hour, a, n));
}

static int v_read_attrs(ts_store *s, uint32_t metric, int64_t from, int64_t to, ts_attr_cb cb,
			void *ctx)
{
	ts_store *a = ((view *)s)->attrs;
	return pass(s, a, a->ops->read_attrs(a, metric, from, to, cb, ctx));
}

static size_t v_memory(const ts_store *s)
{
	const view *v = (const view *)s;
	return sizeof *v + v->counts->ops->memory(v->counts);
}

static size_t v_history_memory(const ts_store *s, size_t *attrs)
{
	const view *v = (const view *)s;
	if (v->counts->ops->history_memory)
		return v->counts->ops->history_memory(v->counts, attrs);
	*attrs = 0;
	return 0;
}

static void v_free(ts_store *s) { free(s); }

static int v_flush(ts_store *s) { return pass(s, C(s), C(s)->ops->flush(C(s))); }

static int v_put_state(ts_store *s, uint32_t p, const void *blob, size_t len,
		       const ts_file_id *files, size_t nfiles)
{
	return pass(s, C(s), C(s)->ops->put_state(C(s), p, blob, len, files, nfiles));
}

static int v_get_state(ts_store *s, uint32_t p, ts_buf *out)
{
	return pass(s, C(s), C(s)->ops->get_state(C(s), p, out));
}

static int v_file_done_in(ts_store *s, uint32_t p, const ts_file_id *f, int *done)
{
	return pass(s, C(s), C(s)->ops->file_done_in(C(s), p, f, done));
}

static int v_mark_files(ts_store *s, const ts_file_id *f, size_t n)
{
	return pass(s, C(s), C(s)->ops->mark_files(C(s), f, n));
}

static int v_files_done(ts_store *s, const ts_file_id *f, size_t n, uint8_t *done)
{
	return pass(s, C(s), C(s)->ops->files_done(C(s), f, n, done));
}

static int v_partitions(ts_store *s, ts_buf *out)
{
	return pass(s, C(s), C(s)->ops->partitions(C(s), out));
}

static int v_flush_due(const ts_store *s)
{
	const view *v = (const view *)s;
	return v->counts->ops->flush_due(v->counts);
}

static const ts_store_ops view_ops = {
	.name = "view",
	.add_minute = v_add_minute,
	.read_counts = v_read_counts,
	.add_attrs = v_add_attrs,
	.read_attrs = v_read_attrs,
	.memory = v_memory,
	.history_memory = v_history_memory,
	.free = v_free,
	.flush = v_flush,
	.flush_begin = NULL,
	.put_state = v_put_state,
	.get_state = v_get_state,
	.file_done_in = v_file_done_in,
	.mark_files = v_mark_files,
	.files_done = v_files_done,
	.partitions = v_partitions,
	.flush_due = v_flush_due,
};

int ts_store_view_new(ts_store *counts, ts_store *attrs, ts_store **out)
{
	view *v = calloc(1, sizeof *v);
	if (!v)
		return TS_ENOMEM;
	v->base.ops = &view_ops;
	v->base.reg = counts->reg;
	v->base.retention_days = counts->retention_days;
	v->counts = counts;
	v->attrs = attrs;
	*out = &v->base;
	return 0;
}
