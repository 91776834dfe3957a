/* run_group.c - a backfill by one worker of a group (--group): the
 * workers share a Redis store and divide the partitions of the tree
 * between them with leases (lease.h).
 *
 * Each file's partition is read from its path (.../ACCT/CloudTrail/
 * REGION/..., ACCT twelve digits, as in AWSLogs/[ORG/]ACCT/CloudTrail/
 * REGION/). The worker claims partitions a few at a time
 * (an eighth of them at most, starting at an offset of its own, so that
 * workers started together share the tree), reads only the files of the
 * partitions it owns with an engine of their own (records of other
 * partitions are not counted), finishes that engine (its insights written
 * to the sinks, the final checkpoint stored) and only then releases those
 * leases. It goes on until every partition is done: a partition whose
 * lease another worker holds is waited for; when that lease lapses (its
 * owner died), the partition is claimed and resumed from its checkpoint
 * and saved detector state, as a restarted backfill resumes it, and the
 * insights its predecessor left open are Ended with the same IDs. A
 * partition released finished (insights written) by the worker before
 * whose files are all done for it is released again at once, finished. Leases are renewed between files and
 * every 1024 records (ts_cli_lease_tick) and while waiting.
 *
 * The per-batch engines are made and freed here; the ts_run keeps the last
 * one and the sum of the earlier ones' counters (r->prior).
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "util.h"

enum { P_WAIT = 0, P_MINE = 1, P_ELSEWHERE = 2, P_LOST = 3 };

typedef struct gpart {
	uint32_t pid;
	size_t *files; /* indices into the path list, in its order */
	size_t nfiles, alloc;
	int state;
} gpart;

int ts_cli_path_partition(const char *path, ts_str *acct, ts_str *region)
{
	const char *ct = NULL;
	for (const char *p = path; (p = strstr(p, "/CloudTrail/")); p++)
		ct = p;
	if (!ct)
		return -1;
	const char *acct_start = ct;
	while (acct_start > path && acct_start[-1] != '/')
		acct_start--;
	const char *reg = ct + strlen("/CloudTrail/");
	const char *reg_end = strchr(reg, '/');
	if (ct - acct_start != 12 || !reg_end || reg_end == reg)
		return -1;
	for (const char *c = acct_start; c < ct; c++)
		if (*c < '0' || *c > '9')
			return -1;
	*acct = (ts_str){acct_start, 12};
	*region = (ts_str){reg, (size_t)(reg_end - reg)};
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

int ts_cli_lease_tick(ts_run *r)
{
	if (!r->leases || r->fatal)
		return r->fatal;
	double now = ts_cli_now();
	if (ts_leases_due_in(r->leases, now) > 0)
		return 0;
	size_t lost = 0;
	int rc = ts_leases_tick(r->leases, now, &lost);
	if (rc) {
		r->fatal = rc;
		return rc;
	}
	if (lost && !r->quiet) {
		ts_cli_progress_clear(r);
		ts_warn("%zu partition lease(s) found held by another worker (or lapsed) at "
			"renewal: this worker writes nothing more of them", lost);
	}
	return 0;
}

void ts_cli_stats_add(ts_engine_stats *acc, const ts_engine_stats *s)
{
#define ADD(f) acc->f += s->f;
	ADD(counted) ADD(late) ADD(read_only) ADD(errors) ADD(ignored_data) ADD(ignored_insight)
	ADD(ignored_category) ADD(skipped_fields) ADD(skipped_cap) ADD(overflow_series)
	ADD(overflow_codes) ADD(attr_dropped) ADD(starts) ADD(ends) ADD(suppressed) ADD(marked)
	ADD(capped) ADD(early_starts) ADD(open_at_end) ADD(minutes_closed) ADD(cells)
	ADD(attr_cells) ADD(fits) ADD(already_counted) ADD(future_time) ADD(restored)
	ADD(checkpoints) ADD(not_owned) ADD(events_dropped)
#undef ADD
	acc->held_peak = s->held_peak > acc->held_peak ? s->held_peak : acc->held_peak;
	acc->held_bytes = s->held_bytes > acc->held_bytes ? s->held_bytes : acc->held_bytes;
}

/* *done = 1 when every file of g is done for its partition in the store. */
static int part_done(ts_store *store, const gpart *g, const ts_pathlist *paths, int *done)
{
	*done = 1;
	for (size_t i = 0; i < g->nfiles && *done; i++) {
		char name[4096];
		ts_file_id id;
		if (ts_file_id_of(paths->paths[g->files[i]], name, sizeof name, &id)) {
			*done = 0;
			break;
		}
		int rc = store->ops->file_done_in(store, g->pid, &id, done);
		if (rc)
			return rc;
	}
	return 0;
}

/* Group the paths by the partition their path names; the others are
 * passed over. 0 or an error. */
static int group_paths(ts_run *r, const ts_pathlist *paths, gpart **out, size_t *nout)
{
	gpart *g = NULL;
	size_t n = 0, alloc = 0;
	uint32_t *at = NULL; /* pid -> index + 1 */
	size_t at_n = 0;
	int rc = 0;
	for (size_t i = 0; i < paths->n && !rc; i++) {
		ts_str acct, region;
		uint32_t pid;
		if (ts_cli_path_partition(paths->paths[i], &acct, &region)) {
			r->src.files_ignored++;
			ts_cli_on_passed(r, paths->paths[i],
					 "--group: not under <acct>/CloudTrail/<region>/ "
					 "(AWSLogs' layout), no partition to own");
			continue;
		}
		if ((rc = ts_registry_partition(r->reg, acct, region, &pid))) {
			ts_cli_on_passed(r, paths->paths[i], "--group: partition cap reached");
			r->src.files_ignored++;
			rc = rc == TS_ECAP ? 0 : rc;
			continue;
		}
		size_t old = at_n;
		if (pid >= at_n) {
			if ((rc = ts_grow(&at, &at_n, (size_t)pid + 1, sizeof *at, 64)))
				break;
			memset(at + old, 0, (at_n - old) * sizeof *at);
		}
		if (!at[pid]) {
			if ((rc = ts_grow(&g, &alloc, n + 1, sizeof *g, 16)))
				break;
			g[n] = (gpart){.pid = pid};
			at[pid] = (uint32_t)++n;
		}
		gpart *p = &g[at[pid] - 1];
		if ((rc = ts_grow(&p->files, &p->alloc, p->nfiles + 1, sizeof *p->files, 8)))
			break;
		p->files[p->nfiles++] = i;
	}
	free(at);
	*out = g;
	*nout = n;
	return rc;
}

static void free_parts(gpart *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].files);
	free(g);
}

/* Claim up to batch of the waiting partitions, in order from start;
 * mine[] gets the indices claimed and found with work to do. */
static int claim_batch(ts_run *r, ts_store *store, gpart *g, size_t n, size_t start, size_t batch,
		       const ts_pathlist *paths, size_t *mine, size_t *nmine)
{
	*nmine = 0;
	size_t tried = 0;
	while (tried < n && *nmine < batch) {
		uint32_t pids[64];
		size_t idx[64], k = 0;
		for (; tried < n && k < batch - *nmine && k < 64; tried++) {
			size_t j = (start + tried) % n;
			if (g[j].state == P_WAIT && !ts_leases_lost(r->leases, g[j].pid)) {
				idx[k] = j;
				pids[k++] = g[j].pid;
			}
		}
		if (!k)
			continue;
		uint8_t got[64], fin[64];
		int rc = ts_leases_claim(r->leases, k, pids, ts_cli_now(), got, fin);
		if (rc)
			return rc;
		for (size_t x = 0; x < k; x++) {
			if (!got[x])
				continue;
			int done = 0;
			if (fin[x] && (rc = part_done(store, &g[idx[x]], paths, &done)))
				return rc;
			if (!done) {
				mine[(*nmine)++] = idx[x];
				continue;
			}
			/* finished by another worker, no file new: give it back,
			 * finished still */
			g[idx[x]].state = P_ELSEWHERE;
			if ((rc = ts_leases_release(r->leases, 1, &pids[x], 1)))
				return rc;
		}
	}
	return 0;
}

/* Read the files of the partitions mine[n] with an engine of their own,
 * finish it, release their leases. */
static int run_batch(ts_run *r, const ts_cli_opts *o, ts_store *store, ts_engine_opts *eo,
		     ts_emit_fn emit, void *ectx, gpart *g, const size_t *mine, size_t n,
		     const ts_pathlist *paths, const ts_source_cb *cb)
{
	ts_pathlist batch = {0};
	uint32_t *pids = malloc((n ? n : 1) * sizeof *pids);
	size_t *order = NULL, norder = 0, oalloc = 0;
	int rc = pids ? 0 : TS_ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		pids[i] = g[mine[i]].pid;
		for (size_t f = 0; f < g[mine[i]].nfiles && !rc; f++)
			if (!(rc = ts_grow(&order, &oalloc, norder + 1, sizeof *order, 64)))
				order[norder++] = g[mine[i]].files[f];
	}
	/* the files in the order of the tree's list */
	for (size_t i = 1; i < norder && !rc; i++)
		for (size_t j = i; j > 0 && order[j - 1] > order[j]; j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t i = 0; i < norder && !rc; i++)
		rc = ts_pathlist_push(&batch, paths->paths[order[i]]);
	if (rc)
		goto out;
	if (r->engine) {
		ts_engine_stats st;
		ts_engine_get_stats(r->engine, &st);
		ts_cli_stats_add(&r->prior, &st);
		ts_engine_free(r->engine);
	}
	if (!(r->engine = ts_engine_new(eo, r->reg, store, emit, ectx))) {
		rc = TS_ENOMEM;
		goto out;
	}
	r->files_total += batch.n;
	rc = ts_source_read_all(&batch, o->threads, &o->ro, &o->po, &r->src, cb);
	if (rc < 0 && !r->fatal)
		r->fatal = rc;
	if (!r->fatal)
		ts_cli_lease_tick(r);
	if (!r->fatal)
		r->fatal = ts_engine_finish(r->engine);
	if (!r->fatal)
		ts_cli_lease_tick(r);
	rc = r->fatal;
	for (size_t i = 0; i < n; i++)
		g[mine[i]].state = ts_leases_owns(r->leases, pids[i]) ? P_MINE : P_LOST;
	/* the insights are written: the partitions go back */
	if (!rc && (rc = ts_leases_release(r->leases, n, pids, 1)))
		r->fatal = rc;
out:
	ts_pathlist_free(&batch);
	free(pids);
	free(order);
	return rc;
}

int ts_cli_backfill_group(ts_run *r, const ts_cli_opts *o, ts_store *store,
			  const ts_pathlist *paths, const ts_source_cb *cb,
			  const ts_engine_opts *eo_in, ts_emit_fn emit, void *ectx)
{
	ts_engine_opts eo = *eo_in;
	eo.owns = ts_cli_owns;
	eo.owns_ctx = r->leases;
	gpart *g = NULL;
	size_t n = 0;
	size_t *mine = NULL;
	int rc = group_paths(r, paths, &g, &n);
	if (rc)
		goto out;
	if (!(mine = malloc((n ? n : 1) * sizeof *mine))) {
		rc = TS_ENOMEM;
		goto out;
	}
	size_t batch = (n + 7) / 8;
	size_t start = n ? (size_t)getpid() % n : 0;
	double wait = o->lease_ms / 6000.0;
	wait = wait < 0.05 ? 0.05 : wait > 1.0 ? 1.0 : wait;
	for (;;) {
		size_t waiting = 0, nmine;
		for (size_t i = 0; i < n; i++)
			waiting += g[i].state == P_WAIT && !ts_leases_lost(r->leases, g[i].pid);
		if (!waiting || r->fatal)
			break;
		if ((rc = ts_cli_lease_tick(r)))
			break;
		if ((rc = claim_batch(r, store, g, n, start, batch ? batch : 1, paths, mine, &nmine)))
			break;
		if (!nmine) { /* the rest is another's: wait for it to finish or lapse */
			sleep_s(wait);
			continue;
		}
		if ((rc = run_batch(r, o, store, &eo, emit, ectx, g, mine, nmine, paths, cb)))
			break;
		start = (start + batch) % (n ? n : 1);
	}
	if (!rc && !r->engine && !(r->engine = ts_engine_new(&eo, r->reg, store, emit, ectx)))
		rc = TS_ENOMEM;
	size_t lost = 0, mine_n = 0;
	for (size_t i = 0; i < n; i++) {
		lost += g[i].state == P_LOST || (g[i].state == P_WAIT &&
						  ts_leases_lost(r->leases, g[i].pid));
		mine_n += g[i].state == P_MINE;
	}
	r->group_parts = n;
	r->group_mine = mine_n;
	if (lost && !r->quiet)
		ts_warn("%zu of %zu partitions were lost to other workers of the group (their "
			"leases lapsed or were taken): the workers that took them finish them",
			lost, n);
out:
	if (rc && !r->fatal)
		r->fatal = rc;
	if (r->leases) { /* a clean exit gives back what is still held */
		int rrc = ts_leases_release_all(r->leases);
		if (rrc && !r->fatal)
			r->fatal = rrc;
	}
	free(mine);
	free_parts(g, n);
	return r->fatal;
}

/* --- stream --watch --group --------------------------------------------
 * Each file goes to the worker owning its partition: read at once when
 * this worker owns it or claims it now; kept in the deferred list while
 * another worker holds the lease (that worker reads it); read when the
 * lease lapses and this worker claims the partition (files already done
 * for it passed over). Files of a partition this worker lost are left to
 * its new owner. A partition's files are read in the order they came: a
 * new file of a partition some of whose files still wait joins them, and
 * the list is gone through at once. The deferred list is capped
 * (TS_GROUP_MAX_DEFERRED); files the owner finished leave it at each poll. */

#define TS_GROUP_MAX_DEFERRED 200000

typedef struct deferred {
	char *path;
	uint32_t pid;
} deferred;

typedef struct dpart {
	uint32_t waiting; /* its files in the list */
	uint8_t busy;     /* held by another at the last try (not tried
			     again before the next poll) */
} dpart;

struct ts_group_defer {
	deferred *d;
	size_t n, alloc;
	uint64_t dropped; /* past the cap */
	double last_poll;
	int due;          /* poll at once: files of an owned partition wait */
	dpart *p;         /* by partition id */
	size_t np;
};

void ts_cli_group_defer_free(ts_group_defer *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->d[i].path);
	free(g->d);
	free(g->p);
	free(g);
}

int ts_cli_owns(void *ctx, uint32_t pid) { return ts_leases_owns(ctx, pid); }

/* *done = 1 when path is done for partition pid in the store. */
static int file_done(ts_store *store, uint32_t pid, const char *path, int *done)
{
	char name[4096];
	ts_file_id id;
	*done = 0;
	if (ts_file_id_of(path, name, sizeof name, &id))
		return 0;
	return store->ops->file_done_in(store, pid, &id, done);
}

int ts_cli_group_file(ts_run *r, const char *path, int *read_now)
{
	*read_now = 0;
	ts_str acct, region;
	uint32_t pid;
	if (ts_cli_path_partition(path, &acct, &region)) {
		r->src.files_ignored++;
		ts_cli_on_passed(r, path, "--group: not under <acct>/CloudTrail/<region>/ "
					  "(AWSLogs' layout), no partition to own");
		return 0;
	}
	int rc = ts_registry_partition(r->reg, acct, region, &pid);
	if (rc == TS_ECAP) {
		r->src.files_ignored++;
		ts_cli_on_passed(r, path, "--group: partition cap reached");
		return 0;
	}
	if (rc)
		return rc;
	ts_group_defer *g = r->defer;
	if (!g && !(g = r->defer = calloc(1, sizeof *g)))
		return TS_ENOMEM;
	if (pid >= g->np) {
		size_t old = g->np;
		if (ts_grow(&g->p, &g->np, (size_t)pid + 1, sizeof *g->p, 64))
			return TS_ENOMEM;
		memset(g->p + old, 0, (g->np - old) * sizeof *g->p);
	}
	if (ts_leases_lost(r->leases, pid))
		return 0; /* its new owner reads it */
	uint8_t got = ts_leases_owns(r->leases, pid);
	if (!got && !g->p[pid].busy &&
	    (rc = ts_leases_claim(r->leases, 1, &pid, ts_cli_now(), &got, NULL)))
		return rc;
	if (got && (!g->p[pid].waiting || g->n >= TS_GROUP_MAX_DEFERRED)) {
		*read_now = 1; /* (a full list: now rather than never) */
		return 0;
	}
	if (got)
		g->due = 1; /* after the files of it that wait */
	else
		g->p[pid].busy = 1;
	if (g->n >= TS_GROUP_MAX_DEFERRED) {
		if (!g->dropped++ && !r->quiet)
			ts_warn("--group: more than %d files wait for partitions other workers hold; "
				"further ones are left to those workers",
				TS_GROUP_MAX_DEFERRED);
		return 0;
	}
	if (ts_grow(&g->d, &g->alloc, g->n + 1, sizeof *g->d, 64))
		return TS_ENOMEM;
	if (!(g->d[g->n].path = strdup(path)))
		return TS_ENOMEM;
	g->d[g->n++].pid = pid;
	g->p[pid].waiting++;
	return 0;
}

int ts_cli_group_poll(ts_run *r, ts_store *store, ts_pathlist *ready)
{
	ts_group_defer *g = r->defer;
	double now = ts_cli_now();
	if (!g || !g->n || (!g->due && now - g->last_poll < ts_leases_period(r->leases)))
		return 0;
	g->last_poll = now;
	g->due = 0;
	/* claim what lapsed: one try per partition */
	uint32_t *pids = malloc(g->n * sizeof *pids);
	size_t np = 0;
	int rc = pids ? 0 : TS_ENOMEM;
	for (size_t i = 0; i < g->n && !rc; i++) {
		size_t j = 0;
		while (j < np && pids[j] != g->d[i].pid)
			j++;
		if (j == np)
			pids[np++] = g->d[i].pid;
	}
	if (!rc && np)
		rc = ts_leases_claim(r->leases, np, pids, now, NULL, NULL);
	free(pids);
	for (size_t i = 0; i < g->np; i++) /* tried just now: new files may try again */
		g->p[i].busy = 0;
	size_t w = 0;
	for (size_t i = 0; i < g->n; i++) {
		deferred *d = &g->d[i];
		int keep = 0, done = 0;
		if (!rc && !ts_leases_lost(r->leases, d->pid))
			rc = file_done(store, d->pid, d->path, &done);
		if (!rc && !done && ts_leases_owns(r->leases, d->pid))
			rc = ts_pathlist_push(ready, d->path);
		else if (!rc && !done && !ts_leases_lost(r->leases, d->pid))
			keep = 1;
		if (keep || rc) {
			g->d[w++] = *d;
		} else {
			g->p[d->pid].waiting--;
			free(d->path);
		}
	}
	g->n = w;
	return rc;
}
