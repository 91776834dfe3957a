/* rstream.h - CloudTrail records from a Redis Stream, through a consumer
 * group (XREADGROUP), acknowledged (XACK) only once the caller has stored
 * what they counted.
 *
 * Each stream entry holds one record: the value of its field "record", or
 * of its only field. A consumer first reads the entries delivered to it
 * before and not acknowledged (a restart), then new ones. Entry IDs are
 * "MS-SEQ"; ts_rstream_entry gives them as two numbers, in the order the
 * stream has them.
 */
#ifndef TS_RSTREAM_H
#define TS_RSTREAM_H

#include <stdint.h>

#include "util.h"

typedef struct ts_rstream ts_rstream;

typedef struct ts_rstream_entry {
	uint64_t ms, seq; /* the entry ID */
	ts_str record;    /* the record's JSON; empty when the entry has none */
} ts_rstream_entry;

/* spec: "redis://[user:pass@]host:port[/db]#KEY". Creates the group (at
 * the stream's start, MKSTREAM) if missing. 0 and *out; TS_EINVAL (bad
 * spec, message in errbuf); TS_ESTORE (Redis refuses or is unreachable). */
int ts_rstream_open(const char *spec, const char *group, const char *consumer,
		    ts_rstream **out, char *errbuf, size_t errlen);
/* Read up to max entries, waiting at most block_ms for new ones. *n gets
 * the count; entries are valid until the next read. 0 or TS_ESTORE
 * (reconnects are tried first; errstr says why). */
int ts_rstream_read(ts_rstream *s, size_t max, int block_ms, const ts_rstream_entry **entries,
		    size_t *n);
/* The pure part of ts_rstream_read: the entries of r, a parsed
 * XREADGROUP reply for one key. Each entry with an ID "MS-SEQ" goes into
 * (*entries)[] (grown as needed; *ealloc is its allocated length; the
 * caller frees *entries), with its record slice pointing into r, and its ID
 * string is pushed on ids (to acknowledge later); entries of another shape
 * are passed over. *n gets the entries decoded, *listed the entries the
 * reply listed. 0 or TS_ENOMEM (then *n entries were decoded). */
struct redisReply;
struct ts_pathlist;
int ts_rstream_decode(const struct redisReply *r, ts_rstream_entry **entries, size_t *ealloc,
		      struct ts_pathlist *ids, size_t *n, size_t *listed);
/* Leave the last k entries of the latest read unacknowledged (they were not
 * processed: a stop came mid-batch); they stay pending in the group and are
 * read again by the next start (not by later reads of this consumer). k
 * larger than that read is clamped. */
void ts_rstream_unread(ts_rstream *s, size_t k);
/* Acknowledge every entry read so far (less those unread). 0 or TS_ESTORE. */
int ts_rstream_ack(ts_rstream *s);
/* "redis://host:port#KEY" (no credentials), for messages. */
const char *ts_rstream_name(const ts_rstream *s);
const char *ts_rstream_error(const ts_rstream *s);
void ts_rstream_free(ts_rstream *s); /* NULL is a no-op */

#endif
