/* series.c - the registry of partitions, APIs and metrics.
 *
 * Keys are length-prefixed byte strings interned in one table (keys), so
 * that any bytes in a field (even NUL) give distinct keys: "P" account
 * region for a partition, "A" pid data source name for an API (source and
 * name by their ids in the value table, where they are interned), "E" aid
 * code for an error metric. The key's intern id indexes kind[]/index[] which say
 * which array the object lives in. Objects live in growing arrays indexed
 * by their own dense ids. Nothing is ever removed.
 */
#include <stdlib.h>

#include "intern.h"
#include "series.h"

struct ts_registry {
	ts_intern *keys;   /* key -> key id */
	uint32_t *key_obj; /* key id -> object id */
	uint32_t key_alloc;
	ts_intern *values; /* attribution values and error codes */
	ts_partition *parts;
	uint32_t nparts, parts_alloc;
	ts_api *apis;
	uint32_t napis, apis_alloc;
	ts_metric *metrics;
	uint32_t nmetrics, metrics_alloc;
	ts_registry_caps caps;
	ts_buf key; /* scratch */
};

ts_registry *ts_registry_new(const ts_registry_caps *caps)
{
	ts_registry *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	if (caps)
		r->caps = *caps;
	if (!r->caps.max_partitions)
		r->caps.max_partitions = 100000;
	if (!r->caps.max_apis)
		r->caps.max_apis = 4000000;
	if (!r->caps.max_apis_per_partition)
		r->caps.max_apis_per_partition = 5000;
	if (!r->caps.max_codes_per_api)
		r->caps.max_codes_per_api = 50;
	if (!r->caps.max_metrics)
		r->caps.max_metrics = r->caps.max_apis > 1000000000 ? UINT32_MAX
								    : 3 * r->caps.max_apis + 1000000;
	if (!r->caps.max_values)
		r->caps.max_values = 4000000;
	r->keys = ts_intern_new(0, 0);
	r->values = ts_intern_new(r->caps.max_values, 0);
	if (!r->keys || !r->values) {
		ts_registry_free(r);
		return NULL;
	}
	return r;
}

void ts_registry_free(ts_registry *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->nparts; i++)
		free(r->parts[i].metrics);
	free(r->parts);
	free(r->apis);
	free(r->metrics);
	free(r->key_obj);
	ts_intern_free(r->keys);
	ts_intern_free(r->values);
	ts_buf_free(&r->key);
	free(r);
}

/* Grow an array of elements of size sz to hold n+1; 0 or TS_ENOMEM. */
static int grow(void **arr, uint32_t *alloc, uint32_t n, size_t sz)
{
	if (n < *alloc)
		return 0;
	uint32_t na = *alloc ? *alloc * 2 : 16;
	void *p = realloc(*arr, (size_t)na * sz);
	if (!p)
		return TS_ENOMEM;
	*arr = p;
	*alloc = na;
	return 0;
}

static int key_add(ts_buf *b, const void *p, uint32_t n)
{
	int rc = ts_buf_add(b, &n, sizeof n);
	return rc ? rc : ts_buf_add(b, p, n);
}

/* Intern the key in r->key; its object slot starts as NO_OBJ and is set by
 * the caller once the object exists. A key left at NO_OBJ (an allocation
 * failed half way) answers TS_ENOMEM from then on rather than a bad id. */
#define NO_OBJ UINT32_MAX
static int key_get(ts_registry *r, uint32_t *kid)
{
	int rc = grow((void **)&r->key_obj, &r->key_alloc, ts_intern_count(r->keys),
		      sizeof *r->key_obj);
	if (rc)
		return rc;
	if ((rc = ts_intern_put(r->keys, (ts_str){r->key.p, r->key.len}, kid, NULL)))
		return rc;
	r->key_obj[*kid] = NO_OBJ;
	return 0;
}

/* 1 and *obj if the key in r->key exists, 0 if not, TS_ENOMEM if it is a
 * half-made one. */
static int key_find(ts_registry *r, uint32_t *obj)
{
	uint32_t kid;
	if (ts_intern_find(r->keys, (ts_str){r->key.p, r->key.len}, &kid) != 0)
		return 0;
	if (r->key_obj[kid] == NO_OBJ)
		return TS_ENOMEM;
	*obj = r->key_obj[kid];
	return 1;
}

int ts_registry_partition(ts_registry *r, ts_str account, ts_str region, uint32_t *pid)
{
	ts_buf_reset(&r->key);
	int rc = ts_buf_add(&r->key, "P", 1);
	if (!rc)
		rc = key_add(&r->key, account.p, (uint32_t)account.n);
	if (!rc)
		rc = key_add(&r->key, region.p, (uint32_t)region.n);
	if (rc)
		return rc;
	uint32_t kid;
	if ((rc = key_find(r, pid)) != 0)
		return rc < 0 ? rc : 0;
	if (r->nparts >= r->caps.max_partitions)
		return TS_ECAP;
	if ((rc = grow((void **)&r->parts, &r->parts_alloc, r->nparts, sizeof *r->parts)))
		return rc;
	uint32_t a, g;
	if ((rc = ts_registry_value(r, account, &a)) || (rc = ts_registry_value(r, region, &g)))
		return rc;
	if ((rc = key_get(r, &kid)))
		return rc;
	ts_partition *p = &r->parts[r->nparts];
	memset(p, 0, sizeof *p);
	p->id = r->nparts;
	p->account = ts_intern_str(r->values, a);
	p->region = ts_intern_str(r->values, g);
	r->key_obj[kid] = p->id;
	*pid = r->nparts++;
	return 0;
}

static int new_metric(ts_registry *r, uint32_t aid, uint8_t kind, uint32_t code, uint32_t *mid)
{
	int rc;
	if (r->nmetrics >= r->caps.max_metrics)
		return TS_ECAP;
	if ((rc = grow((void **)&r->metrics, &r->metrics_alloc, r->nmetrics, sizeof *r->metrics)))
		return rc;
	ts_partition *p = &r->parts[r->apis[aid].partition];
	if ((rc = grow((void **)&p->metrics, &p->metrics_alloc, p->nmetrics, sizeof *p->metrics)))
		return rc;
	ts_metric *m = &r->metrics[r->nmetrics];
	m->id = r->nmetrics;
	m->api = aid;
	m->partition = p->id;
	m->kind = kind;
	m->code = code;
	m->local = p->nmetrics;
	p->metrics[p->nmetrics++] = m->id;
	*mid = r->nmetrics++;
	return 0;
}

/* The key of an API in r->key: partition, category and the value ids of
 * its eventSource and eventName (interned once, in the value table). */
static int api_key(ts_registry *r, uint32_t pid, uint8_t d, uint32_t s, uint32_t n)
{
	ts_buf_reset(&r->key);
	int rc = ts_buf_add(&r->key, "A", 1);
	if (!rc)
		rc = ts_buf_add(&r->key, &pid, sizeof pid);
	if (!rc)
		rc = ts_buf_add(&r->key, &d, 1);
	if (!rc)
		rc = ts_buf_add(&r->key, &s, sizeof s);
	if (!rc)
		rc = ts_buf_add(&r->key, &n, sizeof n);
	return rc;
}

int ts_registry_api(ts_registry *r, uint32_t pid, ts_str source, ts_str name, int data,
		    uint32_t *aid)
{
	uint8_t d = (uint8_t)(data != 0);
	uint32_t s = 0, n = 0, kid;
	/* names already interned may name an API already there */
	int known = !ts_intern_find(r->values, source, &s) && !ts_intern_find(r->values, name, &n);
	int rc;
	if (known) {
		if ((rc = api_key(r, pid, d, s, n)))
			return rc;
		if ((rc = key_find(r, aid)) != 0)
			return rc < 0 ? rc : 0;
	}
	/* an API brings two metrics: check every cap before adding anything */
	if (r->napis >= r->caps.max_apis || r->nmetrics + 2 > r->caps.max_metrics ||
	    r->parts[pid].napis >= r->caps.max_apis_per_partition)
		return TS_ECAP;
	if ((rc = grow((void **)&r->apis, &r->apis_alloc, r->napis, sizeof *r->apis)))
		return rc;
	if ((rc = ts_registry_value(r, source, &s)) || (rc = ts_registry_value(r, name, &n)) ||
	    (!known && (rc = api_key(r, pid, d, s, n))))
		return rc;
	if ((rc = key_get(r, &kid)))
		return rc;
	ts_api *a = &r->apis[r->napis];
	memset(a, 0, sizeof *a);
	a->id = r->napis;
	a->partition = pid;
	a->source = ts_intern_str(r->values, s);
	a->name = ts_intern_str(r->values, n);
	a->data = d;
	a->first_minute = INT64_MAX;
	r->napis++;
	r->parts[pid].napis++;
	if ((rc = new_metric(r, a->id, TS_M_CALLS, 0, &a->calls)) ||
	    (rc = new_metric(r, a->id, TS_M_READS, 0, &a->reads)))
		return rc;
	r->key_obj[kid] = a->id;
	*aid = a->id;
	return 0;
}

void ts_registry_api_seen(ts_registry *r, uint32_t aid, int64_t minute)
{
	ts_api *a = ts_registry_get_api(r, aid);
	if (minute < a->first_minute)
		a->first_minute = minute;
}

int ts_registry_error_metric(ts_registry *r, uint32_t aid, uint32_t code, uint32_t *mid)
{
	ts_buf_reset(&r->key);
	int rc = ts_buf_add(&r->key, "E", 1);
	if (!rc)
		rc = ts_buf_add(&r->key, &aid, sizeof aid);
	if (!rc)
		rc = ts_buf_add(&r->key, &code, sizeof code);
	if (rc)
		return rc;
	uint32_t kid;
	if ((rc = key_find(r, mid)) != 0)
		return rc < 0 ? rc : 0;
	if (r->nmetrics >= r->caps.max_metrics || r->apis[aid].ncodes >= r->caps.max_codes_per_api)
		return TS_ECAP;
	if ((rc = key_get(r, &kid)))
		return rc;
	if ((rc = new_metric(r, aid, TS_M_ERRORS, code, mid)))
		return rc;
	r->apis[aid].ncodes++;
	r->key_obj[kid] = *mid;
	return 0;
}

int ts_registry_value(ts_registry *r, ts_str value, uint32_t *vid)
{
	return ts_intern_put(r->values, value, vid, NULL);
}

ts_partition *ts_registry_get_partition(ts_registry *r, uint32_t pid) { return &r->parts[pid]; }
ts_api *ts_registry_get_api(ts_registry *r, uint32_t aid) { return &r->apis[aid]; }
const ts_metric *ts_registry_get_metric(const ts_registry *r, uint32_t mid)
{
	return &r->metrics[mid];
}
ts_str ts_registry_value_str(const ts_registry *r, uint32_t vid)
{
	return ts_intern_str(r->values, vid);
}
uint32_t ts_registry_npartitions(const ts_registry *r) { return r->nparts; }
const ts_registry_caps *ts_registry_get_caps(const ts_registry *r) { return &r->caps; }
uint32_t ts_registry_napis(const ts_registry *r) { return r->napis; }
uint32_t ts_registry_nmetrics(const ts_registry *r) { return r->nmetrics; }

size_t ts_registry_memory(const ts_registry *r)
{
	size_t m = ts_intern_memory(r->keys) + ts_intern_memory(r->values);
	m += (size_t)r->parts_alloc * sizeof *r->parts + (size_t)r->apis_alloc * sizeof *r->apis +
	     (size_t)r->metrics_alloc * sizeof *r->metrics + (size_t)r->key_alloc * 4;
	for (uint32_t i = 0; i < r->nparts; i++)
		m += (size_t)r->parts[i].metrics_alloc * 4;
	return m;
}
