/* test_redis_chunk.c - a checkpoint chunk's compact form: what expands
 * from it, value strings stored once per chunk, the sequence number taken
 * at each expand, and the value table reused from one chunk to the next. */
#include "../check.h"
#include "store_redis_int.h"

/* The expanded call's argument i as a C string (argv is NUL-terminated
 * text but for the blob, which the tests give as a C string too). */
static const char *arg(const chunk *h, int i) { return h->argv[i]; }

static void test_expand_order(void)
{
	rs_spec s = {0};
	char *blob = malloc(6);
	memcpy(blob, "STATE", 6);
	CHECK_INT(rs_spec_str(&s, 1, "ts:{a:r}:flushseq", 17), 0);
	CHECK_INT(rs_spec_seq(&s), 0);
	CHECK_INT(rs_spec_str(&s, 1, "ts:{a:r}:state", 14), 0);
	CHECK_INT(rs_spec_num(&s, 2419200), 0);
	CHECK_INT(rs_spec_blob(&s, blob, 5), 0);
	CHECK_INT(rs_spec_str(&s, 1, "ts:{a:r}:a:20260102:m:s3:Get:calls", 34), 0);
	CHECK_INT(rs_spec_num(&s, 3), 0);
	CHECK_INT(rs_spec_attr(&s, 7, 0, 42, "arn:aws:iam::1:user/alice", 25), 0);
	CHECK_INT(rs_spec_num(&s, 5), 0);
	CHECK_INT(rs_spec_attr(&s, 9, 1, 43, "aws-cli/2", 9), 0);
	CHECK_INT(rs_spec_num(&s, 0), 0);
	CHECK_INT(rs_spec_attr(&s, 23, 0, 42, "arn:aws:iam::1:user/alice", 25), 0);
	CHECK_INT(rs_spec_num(&s, UINT64_MAX), 0);
	CHECK_INT(s.nkeys, 3);
	CHECK_INT(s.nargs, 10);
	chunk h;
	CHECK_INT(rs_spec_take(&s, 4, 17, 3, &h), 0);
	/* the ARN is stored once though two fields use it */
	size_t once = 0;
	for (size_t i = 0; i + 25 <= h.spec_len; i++)
		once += memcmp(h.spec + i, "arn:aws:iam::1:user/alice", 25) == 0;
	CHECK_INT(once, 1);
	CHECK_INT(rs_chunk_expand(&h, "EVALSHA", "0123456789012345678901234567890123456789", 40), 0);
	CHECK_INT(h.argc, 3 + 3 + 10);
	CHECK_STR(arg(&h, 0), "EVALSHA");
	CHECK_INT(h.argvlen[1], 40);
	CHECK_STR(arg(&h, 2), "3");
	CHECK_STR(arg(&h, 3), "ts:{a:r}:flushseq");
	CHECK_STR(arg(&h, 4), "ts:{a:r}:state");
	CHECK_STR(arg(&h, 5), "ts:{a:r}:a:20260102:m:s3:Get:calls");
	CHECK_STR(arg(&h, 6), "17");
	CHECK_STR(arg(&h, 7), "2419200");
	CHECK_MEM(arg(&h, 8), h.argvlen[8], "STATE");
	CHECK_STR(arg(&h, 9), "3");
	CHECK_STR(arg(&h, 10), "07:arn:arn:aws:iam::1:user/alice");
	CHECK_STR(arg(&h, 11), "5");
	CHECK_STR(arg(&h, 12), "09:agent:aws-cli/2");
	CHECK_STR(arg(&h, 13), "0");
	CHECK_STR(arg(&h, 14), "23:arn:arn:aws:iam::1:user/alice");
	CHECK_STR(arg(&h, 15), "18446744073709551615");
	for (int i = 2; i < h.argc; i++)
		CHECK_INT(h.argvlen[i], strlen(h.argv[i]));
	/* renumbered: the next expand carries the new number */
	h.seq = 1234567;
	CHECK_INT(rs_chunk_expand(&h, "EVAL", "return 1", 8), 0);
	CHECK_STR(arg(&h, 0), "EVAL");
	CHECK_STR(arg(&h, 6), "1234567");
	rs_chunk_shrink(&h);
	CHECK(h.argv == NULL && h.text == NULL);
	CHECK(h.spec != NULL);
	h.owns_blob = 1;
	rs_chunk_free(&h);
	rs_spec_free(&s);
}

/* The value table outlives a chunk; a value the last chunk stored must be
 * stored again in the next (offsets are per chunk), for many chunks. */
static void test_table_across_chunks(void)
{
	rs_spec s = {0};
	char val[32];
	for (int c = 0; c < 300; c++) {
		for (uint32_t v = 0; v < 200; v++) {
			int n = snprintf(val, sizeof val, "value-%u", (unsigned)v);
			rs_spec_attr(&s, (unsigned)(v % 24), 2, v, val, (size_t)n);
			rs_spec_num(&s, v + (uint64_t)c);
			rs_spec_attr(&s, 0, 2, v, val, (size_t)n); /* again: by offset */
			rs_spec_num(&s, 1);
		}
		chunk h;
		CHECK_INT(rs_spec_take(&s, 0, 1, 200, &h), 0);
		CHECK_INT(rs_chunk_expand(&h, "EVAL", "x", 1), 0);
		CHECK_INT(h.argc, 3 + 800);
		int bad = 0;
		for (uint32_t v = 0; v < 200; v++) {
			char want[48];
			snprintf(want, sizeof want, "%02u:code:value-%u", v % 24, (unsigned)v);
			bad += strcmp(h.argv[3 + 4 * v], want) != 0;
			snprintf(want, sizeof want, "00:code:value-%u", (unsigned)v);
			bad += strcmp(h.argv[3 + 4 * v + 2], want) != 0;
			snprintf(want, sizeof want, "%u", (unsigned)(v + (unsigned)c));
			bad += strcmp(h.argv[3 + 4 * v + 1], want) != 0;
		}
		CHECK_INT(bad, 0);
		rs_chunk_free(&h);
	}
	rs_spec_free(&s);
}

/* A spec another build wrote (an unknown item) expands to an error. */
static void test_unknown_item(void)
{
	chunk h = {0};
	unsigned char bad[2] = {0x7e, 0};
	h.spec = malloc(2);
	memcpy(h.spec, bad, 2);
	h.spec_len = 2;
	h.nargs = 1;
	CHECK_INT(rs_chunk_expand(&h, "EVAL", "x", 1), TS_EINVAL);
	CHECK(h.argv == NULL);
	rs_chunk_free(&h);
}

TS_TESTS(test_expand_order, test_table_across_chunks, test_unknown_item)
