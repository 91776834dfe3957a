/* series.h - the registry of what trailsight counts.
 *
 * A partition is one (recipientAccountId, awsRegion). An API is one
 * (partition, eventSource, eventName, category) where category is
 * management or data events. Each API has metrics, the unit of storage and
 * of detection: its write calls, its read calls, and one error metric per
 * errorCode seen. Ids are dense and assigned in order of first sight.
 *
 * Attribution values (ARNs, user agents, error codes) are interned in the
 * registry's value table; ts_registry_value() names them.
 */
#ifndef TS_SERIES_H
#define TS_SERIES_H

#include <stdint.h>

#include "util.h"

enum ts_metric_kind { TS_M_CALLS = 0, TS_M_READS = 1, TS_M_ERRORS = 2 };
/* Attribute kinds, in the order CloudTrail lists them. */
enum ts_attr_kind { TS_A_ARN = 0, TS_A_AGENT = 1, TS_A_ERRCODE = 2, TS_A_KINDS = 3 };

typedef struct ts_metric {
	uint32_t id;
	uint32_t api;
	uint32_t partition;
	uint32_t code;  /* value id of the errorCode (TS_M_ERRORS only) */
	uint32_t local; /* index in its partition's metrics[] */
	uint8_t kind;   /* enum ts_metric_kind */
} ts_metric;

typedef struct ts_api {
	uint32_t id;
	uint32_t partition;
	ts_str source, name; /* owned by the registry */
	uint32_t calls, reads; /* metric ids */
	int64_t first_minute;  /* earliest eventTime minute counted */
	uint32_t ncodes;       /* error metrics (distinct errorCodes) */
	uint8_t data;        /* 1: data events, 0: management events */
} ts_api;

typedef struct ts_partition {
	uint32_t id;
	ts_str account, region; /* owned by the registry */
	uint32_t *metrics;      /* ids of this partition's metrics, in id order */
	uint32_t nmetrics, metrics_alloc;
	uint32_t napis;         /* APIs (series) in the partition */
} ts_partition;

typedef struct ts_registry ts_registry;

/* Cardinality caps. The defaults fit an organization of 500 accounts in
 * 17 Regions with a few hundred APIs each; a flood of invented names stops
 * at them. */
typedef struct ts_registry_caps {
	uint32_t max_partitions; /* 0: 100000 */
	uint32_t max_apis;       /* series in all; 0: 4000000 */
	uint32_t max_apis_per_partition; /* series per account and Region; 0: 5000 */
	uint32_t max_codes_per_api; /* error metrics (errorCodes) per series; 0: 50 */
	uint32_t max_metrics;    /* 0: 3 x max_apis + 1000000 */
	uint32_t max_values;     /* distinct attribution values; 0: 4000000 */
} ts_registry_caps;

/* A new empty registry, or NULL on ENOMEM. caps may be NULL. */
ts_registry *ts_registry_new(const ts_registry_caps *caps);
void ts_registry_free(ts_registry *reg); /* NULL is a no-op */

/* Find or add. Each returns 0 and the id, TS_ECAP when the matching cap is
 * reached (nothing added), or TS_ENOMEM. ts_registry_api and
 * ts_registry_error_metric check their caps before interning anything, so
 * a name turned away costs no memory. */
int ts_registry_partition(ts_registry *reg, ts_str account, ts_str region, uint32_t *pid);
int ts_registry_api(ts_registry *reg, uint32_t pid, ts_str source, ts_str name, int data,
		    uint32_t *aid);
int ts_registry_error_metric(ts_registry *reg, uint32_t aid, uint32_t code, uint32_t *mid);
int ts_registry_value(ts_registry *reg, ts_str value, uint32_t *vid);

/* Lookups by id; the pointers are owned by the registry and valid until
 * the next call that adds to it (ids stay valid forever). */
ts_partition *ts_registry_get_partition(ts_registry *reg, uint32_t pid);
ts_api *ts_registry_get_api(ts_registry *reg, uint32_t aid);
/* API aid was seen at minute (epoch minutes): its first_minute becomes
 * the earlier of the two. */
void ts_registry_api_seen(ts_registry *reg, uint32_t aid, int64_t minute);
const ts_metric *ts_registry_get_metric(const ts_registry *reg, uint32_t mid);
ts_str ts_registry_value_str(const ts_registry *reg, uint32_t vid);
uint32_t ts_registry_npartitions(const ts_registry *reg);
uint32_t ts_registry_napis(const ts_registry *reg);
uint32_t ts_registry_nmetrics(const ts_registry *reg);
size_t ts_registry_memory(const ts_registry *reg);
/* The caps in force (defaults filled in). */
const ts_registry_caps *ts_registry_get_caps(const ts_registry *reg);

#endif
