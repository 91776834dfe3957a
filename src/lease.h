/* lease.h - one worker's leases on partitions ((account, Region)), for the
 * workers of one group (--group) sharing a Redis store.
 *
 * A worker writes a partition only while it holds the partition's lease:
 * claimed when free (the store gives it a new fencing token), renewed
 * every third of the lease time by ts_leases_tick, released when the
 * worker is done with it. The store checks the token in the script call
 * that writes each checkpoint (store.h: fence), so a worker whose lease
 * lapsed (paused, cut off) and was taken by another can never write the
 * partition again: a lease found lost at renewal, or a checkpoint
 * refused, marks the partition lost here for good.
 *
 * A ts_leases borrows its store (which must outlive it) and owns its
 * table (one entry per partition id ever claimed, capped by the registry's
 * partition cap). No wall clock: callers pass monotonic seconds.
 */
#ifndef TS_LEASE_H
#define TS_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define TS_LEASE_MS_DEFAULT 30000
#define TS_LEASE_MS_MIN 100
#define TS_LEASE_MS_MAX 3600000
#define TS_LEASE_GROUP_MAX 64 /* bytes of a group name */

typedef struct ts_leases ts_leases;

typedef struct ts_lease_stats {
	uint64_t claimed;  /* leases taken */
	uint64_t busy;     /* claims that found the lease held by another */
	uint64_t renewals; /* renewal rounds */
	uint64_t lost;     /* leases found held by another (or lapsed) at renewal */
	uint64_t fenced;   /* partitions whose checkpoint the store refused */
	uint64_t released; /* leases given back */
	uint64_t commands; /* lease script calls sent */
	uint64_t owned;    /* held now */
} ts_lease_stats;

/* Check a group name: 1 to TS_LEASE_GROUP_MAX bytes of [A-Za-z0-9._-].
 * 0, or TS_EINVAL with the reason in err. */
int ts_lease_group_check(const char *group, char *err, size_t errlen);

/* A worker of group (checked as above) named worker (host:pid, say; no
 * '/'), leases of lease_ms (TS_LEASE_MS_MIN to TS_LEASE_MS_MAX) on store.
 * 0 and *out; TS_EINVAL with err set when the store has no leases (the
 * memory store) or an argument is out of range; TS_ENOMEM. */
int ts_leases_new(ts_store *store, const char *group, const char *worker, int lease_ms,
		  ts_leases **out, char *err, size_t errlen);
void ts_leases_free(ts_leases *l); /* NULL is a no-op; releases nothing */

/* Try to claim each of pids[n] neither owned nor lost nor done; got[i]
 * (may be NULL) 1 for each claimed now, finished[i] (may be NULL) 1 for
 * each claimed now whose previous holder released it finished (no claim
 * between). The renewal clock starts at now if nothing was owned. 0,
 * TS_ESTORE (the store's errstr), TS_ENOMEM. */
int ts_leases_claim(ts_leases *l, size_t n, const uint32_t *pids, double now, uint8_t *got,
		    uint8_t *finished);
/* Renew every owned lease if a third of the lease time passed since the
 * last renewal; a lease found no longer ours becomes lost. *lost (may be
 * NULL) gets the number lost now. 0, TS_ESTORE, TS_ENOMEM. */
int ts_leases_tick(ts_leases *l, double now, size_t *lost);
/* Seconds between renewals: a third of the lease time. */
double ts_leases_period(const ts_leases *l);
/* Seconds until the next renewal is due (0: now). */
double ts_leases_due_in(const ts_leases *l, double now);
/* 1 while pid's lease is ours and the store has not refused its
 * checkpoint; else 0. */
int ts_leases_owns(const ts_leases *l, uint32_t pid);
/* 1 once pid's lease was lost or its checkpoint refused. */
int ts_leases_lost(const ts_leases *l, uint32_t pid);
/* Give back the leases of pids[n] that are ours (they become done:
 * never claimed again by this worker); finished: mark them finished (all
 * their files read and their insights written), for the next claimer.
 * 0, TS_ESTORE, TS_ENOMEM. */
int ts_leases_release(ts_leases *l, size_t n, const uint32_t *pids, int finished);
/* Give back every lease held (not finished). */
int ts_leases_release_all(ts_leases *l);
void ts_leases_get_stats(const ts_leases *l, ts_lease_stats *st);

#endif
