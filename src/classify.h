/* classify.h - what the engine does with one parsed record, decided from
 * the record alone.
 *
 * A pure function of the record and two options: no state, no I/O, no
 * allocation. The engine counts a TS_CLASS_COUNT record, counts the others
 * as ignored or skipped under the reason the class names, and keeps its
 * partition and series bookkeeping to itself.
 */
#ifndef TS_CLASSIFY_H
#define TS_CLASSIFY_H

#include "record.h"
#include "util.h"

typedef enum ts_class {
	TS_CLASS_COUNT = 0,   /* a management event (or a data event, when
				 data events are included): counted */
	TS_CLASS_INSIGHT,     /* eventType AwsCloudTrailInsight: ignored */
	TS_CLASS_CATEGORY,    /* an eventCategory other than Management or
				 Data: ignored */
	TS_CLASS_DATA,        /* a data event, data events not included:
				 ignored */
	TS_CLASS_BAD_PARTITION /* no account or Region, or one with ':',
				 braces or control characters: skipped
				 (TS_EFIELD) */
} ts_class;

/* How a record of class TS_CLASS_COUNT is counted. */
typedef struct ts_record_kind {
	int data;      /* a data event: counted as its own series */
	int read_only; /* a read-only call (readOnly, or the eventName's verb
			  when readOnly is absent) */
} ts_record_kind;

/* The class of r; for TS_CLASS_COUNT (and only then) *k says how it is
 * counted. Checked in this order: insight event, category, data events
 * (when !include_data), partition names. Cannot fail; r is only read. */
ts_class ts_classify(const ts_record *r, int include_data, ts_record_kind *k);

/* 1 when an eventName reads by its verb: Get, Describe, List, Head,
 * Lookup, Search, Scan, Query, BatchGet or Select followed by an upper
 * case letter ("GetObject", not "Getaway" nor "Get"). */
int ts_name_is_read(ts_str name);

/* 1 when an account or Region may name a partition: not empty, free of
 * ':' (the store lists partitions as "ACCOUNT:REGION", split at the last
 * ':'; keys carry "{ACCOUNT:REGION}"), of braces (the hash tag) and of
 * control characters (NUL ends a listed name). */
int ts_partition_name_ok(ts_str s);

#endif
