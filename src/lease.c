/* lease.c - one worker's leases on partitions (see lease.h).
 *
 * The table is indexed by partition id: each entry holds the fencing
 * token of the lease while it is ours (0 otherwise) and the entry's state,
 * which only moves forward: free -> owned -> done (released) or lost
 * (taken by another, or its checkpoint refused). A lost or done
 * partition is never claimed again by this worker, so a worker that lost
 * a lease cannot write that partition's counts again even if it ever
 * finds the lease free. Redis work (the scripts) is the store's
 * (store_redis_lease.c); this file decides what to claim, renew and
 * release, and when.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lease.h"
#include "util.h"

enum { L_FREE = 0, L_OWNED = 1, L_DONE = 2, L_LOST = 3 };

typedef struct lent {
	uint64_t token;
	uint8_t state;
} lent;

struct ts_leases {
	ts_store *store; /* borrowed */
	char holder[TS_LEASE_GROUP_MAX + 160];
	int ms;
	lent *e;
	size_t ne;
	double last_renew; /* < 0: nothing owned yet */
	ts_lease_stats st;
	uint32_t *scratch; /* pids of one call */
	uint64_t *tok;
	uint8_t *fin;
	size_t scratch_alloc, tok_alloc, fin_alloc;
};

int ts_lease_group_check(const char *group, char *err, size_t errlen)
{
	size_t n = strlen(group);
	int ok = n > 0 && n <= TS_LEASE_GROUP_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char c = group[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '.' || c == '_' || c == '-';
	}
	if (ok)
		return 0;
	snprintf(err, errlen, "--group '%s': expected 1 to %d characters of A-Z a-z 0-9 . _ -",
		 group, TS_LEASE_GROUP_MAX);
	return TS_EINVAL;
}

int ts_leases_new(ts_store *store, const char *group, const char *worker, int lease_ms,
		  ts_leases **out, char *err, size_t errlen)
{
	*out = NULL;
	if (!store->ops->lease || !store->ops->fence || !store->ops->fenced_out) {
		snprintf(err, errlen,
			 "--group: the %s store has no leases; workers of a group share a Redis "
			 "store: --store redis://host:port or redis-cluster://host:port[,...]",
			 strcmp(store->ops->name, "mem") == 0 ? "memory" : store->ops->name);
		return TS_EINVAL;
	}
	int rc = ts_lease_group_check(group, err, errlen);
	if (rc)
		return rc;
	if (lease_ms < TS_LEASE_MS_MIN || lease_ms > TS_LEASE_MS_MAX) {
		snprintf(err, errlen, "--lease-ms %d: expected %d to %d", lease_ms, TS_LEASE_MS_MIN,
			 TS_LEASE_MS_MAX);
		return TS_EINVAL;
	}
	if (!*worker || strchr(worker, '/') || strlen(worker) >= 150) {
		snprintf(err, errlen, "worker name '%s': expected 1 to 149 bytes without '/'", worker);
		return TS_EINVAL;
	}
	ts_leases *l = calloc(1, sizeof *l);
	if (!l)
		return TS_ENOMEM;
	l->store = store;
	snprintf(l->holder, sizeof l->holder, "%s/%s", group, worker);
	l->ms = lease_ms;
	l->last_renew = -1;
	*out = l;
	return 0;
}

void ts_leases_free(ts_leases *l)
{
	if (!l)
		return;
	free(l->e);
	free(l->scratch);
	free(l->tok);
	free(l->fin);
	free(l);
}

static int ensure(ts_leases *l, uint32_t pid)
{
	size_t old = l->ne;
	if (pid < old)
		return 0;
	if (ts_grow(&l->e, &l->ne, (size_t)pid + 1, sizeof *l->e, 64))
		return TS_ENOMEM;
	memset(l->e + old, 0, (l->ne - old) * sizeof *l->e);
	return 0;
}

static int scratch(ts_leases *l, size_t n)
{
	if (ts_grow(&l->scratch, &l->scratch_alloc, n ? n : 1, sizeof *l->scratch, 64) ||
	    ts_grow(&l->tok, &l->tok_alloc, n ? n : 1, sizeof *l->tok, 64) ||
	    ts_grow(&l->fin, &l->fin_alloc, n ? n : 1, sizeof *l->fin, 64))
		return TS_ENOMEM;
	return 0;
}

int ts_leases_claim(ts_leases *l, size_t n, const uint32_t *pids, double now, uint8_t *got,
		    uint8_t *finished)
{
	if (got)
		memset(got, 0, n);
	if (finished)
		memset(finished, 0, n);
	int rc = scratch(l, n);
	size_t k = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = ensure(l, pids[i])))
			break;
		if (l->e[pids[i]].state == L_FREE) {
			l->scratch[k] = pids[i];
			l->tok[k++] = 0;
		}
	}
	if (rc || !k)
		return rc;
	rc = l->store->ops->lease(l->store, TS_LEASE_CLAIM, l->holder, l->ms, k, l->scratch,
				  l->tok, l->fin);
	l->st.commands += k;
	if (rc)
		return rc;
	if (l->last_renew < 0 || !l->st.owned)
		l->last_renew = now;
	for (size_t j = 0; j < k; j++) {
		if (!l->tok[j]) {
			l->st.busy++;
			continue;
		}
		lent *e = &l->e[l->scratch[j]];
		e->token = l->tok[j];
		e->state = L_OWNED;
		l->st.claimed++;
		l->st.owned++;
		if ((rc = l->store->ops->fence(l->store, l->scratch[j], e->token)))
			return rc;
	}
	for (size_t i = 0; got && i < n; i++)
		got[i] = l->e[pids[i]].state == L_OWNED;
	for (size_t i = 0, j = 0; finished && i < n && j < k; i++)
		if (pids[i] == l->scratch[j])
			finished[i] = l->tok[j] && l->fin[j++];
	return 0;
}

double ts_leases_period(const ts_leases *l) { return l->ms / 3000.0; }

double ts_leases_due_in(const ts_leases *l, double now)
{
	if (!l->st.owned || l->last_renew < 0)
		return l->ms / 3000.0;
	double left = l->last_renew + l->ms / 3000.0 - now;
	return left > 0 ? left : 0;
}

/* Mark the partitions the store refused as lost. */
static void sync_fenced(ts_leases *l)
{
	for (size_t pid = 0; pid < l->ne; pid++)
		if (l->e[pid].state == L_OWNED &&
		    l->store->ops->fenced_out(l->store, (uint32_t)pid)) {
			l->e[pid].state = L_LOST;
			l->st.owned--;
			l->st.fenced++;
		}
}

int ts_leases_tick(ts_leases *l, double now, size_t *lost)
{
	if (lost)
		*lost = 0;
	sync_fenced(l);
	if (!l->st.owned || ts_leases_due_in(l, now) > 0)
		return 0;
	int rc = scratch(l, l->st.owned);
	size_t k = 0;
	for (size_t pid = 0; pid < l->ne && !rc; pid++)
		if (l->e[pid].state == L_OWNED) {
			l->scratch[k] = (uint32_t)pid;
			l->tok[k++] = l->e[pid].token;
		}
	if (rc)
		return rc;
	rc = l->store->ops->lease(l->store, TS_LEASE_RENEW, l->holder, l->ms, k, l->scratch,
				  l->tok, NULL);
	l->st.commands += k;
	l->st.renewals++;
	if (rc)
		return rc;
	l->last_renew = now;
	for (size_t j = 0; j < k; j++) {
		if (l->tok[j])
			continue;
		lent *e = &l->e[l->scratch[j]];
		e->state = L_LOST;
		l->st.owned--;
		l->st.lost++;
		if (lost)
			++*lost;
	}
	return 0;
}

int ts_leases_owns(const ts_leases *l, uint32_t pid)
{
	return pid < l->ne && l->e[pid].state == L_OWNED &&
	       !l->store->ops->fenced_out(l->store, pid);
}

int ts_leases_lost(const ts_leases *l, uint32_t pid)
{
	return (pid < l->ne && l->e[pid].state == L_LOST) ||
	       l->store->ops->fenced_out(l->store, pid);
}

int ts_leases_release(ts_leases *l, size_t n, const uint32_t *pids, int finished)
{
	sync_fenced(l);
	int rc = scratch(l, n);
	size_t k = 0;
	for (size_t i = 0; i < n && !rc; i++)
		if (pids[i] < l->ne && l->e[pids[i]].state == L_OWNED) {
			l->scratch[k] = pids[i];
			l->fin[k] = (uint8_t)!!finished;
			l->tok[k++] = l->e[pids[i]].token;
		}
	if (rc || !k)
		return rc;
	rc = l->store->ops->lease(l->store, TS_LEASE_RELEASE, l->holder, l->ms, k, l->scratch,
				  l->tok, l->fin);
	l->st.commands += k;
	if (rc)
		return rc;
	for (size_t j = 0; j < k; j++) {
		lent *e = &l->e[l->scratch[j]];
		e->state = L_DONE;
		e->token = 0;
		l->st.owned--;
		l->st.released++;
	}
	return 0;
}

int ts_leases_release_all(ts_leases *l)
{
	int rc = scratch(l, l->ne);
	size_t k = 0;
	for (size_t pid = 0; pid < l->ne && !rc; pid++)
		if (l->e[pid].state == L_OWNED)
			l->scratch[k++] = (uint32_t)pid;
	if (rc || !k)
		return rc;
	/* ts_leases_release reads pids while it rewrites scratch: copy */
	uint32_t *p = malloc(k * sizeof *p);
	if (!p)
		return TS_ENOMEM;
	memcpy(p, l->scratch, k * sizeof *p);
	rc = ts_leases_release(l, k, p, 0);
	free(p);
	return rc;
}

void ts_leases_get_stats(const ts_leases *l, ts_lease_stats *st) { *st = l->st; }
