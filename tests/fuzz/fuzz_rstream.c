/* fuzz_rstream.c - Redis Stream entries as `trailsight stream
 * --redis-stream` takes them. The input is what a server would send (RESP
 * bytes, as many replies as it holds); hiredis' reply reader, the one the
 * connection uses, turns it into replies, and each reply goes through
 * ts_rstream_decode (the part of ts_rstream_read after the command) and
 * every entry's record through the record parser, as the stream loop does.
 * Entries decoded must not outnumber those listed, each must have its ID
 * kept for XACK, and its ID's numbers must be those of the ID string. Any
 * breach aborts. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "record.h"
#include "rstream.h"
#include "util.h"

/* hiredis 0.14 allocates an array's element table before reading any of
 * it, with no cap: a reply announcing millions of elements is the client
 * library's concern (and a server's to never send), not the decoder's.
 * Inputs announcing more than this many are passed over. */
#define MAX_ELEMENTS 4096

static int too_many_elements(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] != '*' && d[i] != '%' && d[i] != '~' && d[i] != '>')
			continue;
		uint64_t v = 0;
		for (size_t j = i + 1; j < n && d[j] >= '0' && d[j] <= '9'; j++)
			if ((v = v * 10 + (uint64_t)(d[j] - '0')) > MAX_ELEMENTS)
				return 1;
	}
	return 0;
}

/* The numbers of an ID string "MS-SEQ", or -1. */
static int id_numbers(const char *s, uint64_t *ms, uint64_t *seq)
{
	const char *dash = strchr(s, '-');
	if (!dash)
		return -1;
	uint64_t v[2] = {0, 0};
	for (const char *p = s; *p; p++) {
		if (p == dash)
			continue;
		if (*p < '0' || *p > '9')
			return -1;
		uint64_t *x = &v[p > dash];
		*x = *x * 10 + (uint64_t)(*p - '0');
	}
	*ms = v[0];
	*seq = v[1];
	return 0;
}

static void decode(const redisReply *r, ts_parser *p)
{
	ts_rstream_entry *e = NULL;
	size_t ealloc = 0, n, listed;
	ts_pathlist ids = {0};
	int rc = ts_rstream_decode(r, &e, &ealloc, &ids, &n, &listed);
	if (rc != 0 && rc != TS_ENOMEM)
		abort();
	if (n > listed || ids.n != n || (n && ealloc < n))
		abort();
	for (size_t i = 0; i < n; i++) {
		uint64_t ms, seq;
		if (id_numbers(ids.paths[i], &ms, &seq) || ms != e[i].ms || seq != e[i].seq)
			abort();
		if (!e[i].record.p)
			abort();
		if (!e[i].record.n)
			continue;
		ts_record rec;
		int pr = ts_parse_record(p, e[i].record.p, e[i].record.n, &rec);
		if (pr > 0)
			abort();
	}
	ts_pathlist_free(&ids);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (too_many_elements(data, size))
		return 0;
	redisReader *rd = redisReaderCreate();
	ts_parser *p = ts_parser_new(NULL);
	if (!rd || !p)
		abort();
	if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
		abort();
	for (int k = 0; k < 64; k++) {
		void *reply = NULL;
		if (redisReaderGetReply(rd, &reply) != REDIS_OK || !reply)
			break; /* a protocol error, or the rest is incomplete */
		decode(reply, p);
		freeReplyObject(reply);
	}
	ts_parser_free(p);
	redisReaderFree(rd);
	return 0;
}
