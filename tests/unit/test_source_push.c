/* test_source_push.c - an input pushed in pieces (ts_source_push) gives the
 * records, skips, offsets and counters of the same bytes read from a file,
 * held whole or streamed, whatever the pieces; a failure cuts it short
 * with an io skip and keeps what came before. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../check.h"
#include "gz_mem.h"
#include "source.h"
#include "util.h"

typedef struct got {
	ts_buf log; /* "r<offset> " per record, "s<code>@<offset> " per skip, "b" / "d" */
} got;

static int on_rec(void *ctx, const ts_record *rec, const char *path, uint64_t off)
{
	got *g = ctx;
	(void)rec, (void)path;
	ts_buf_printf(&g->log, "r%llu ", (unsigned long long)off);
	return TS_SOURCE_GO_ON;
}

static void on_skip(void *ctx, int code, const char *path, uint64_t off, const char *detail)
{
	got *g = ctx;
	(void)path, (void)detail;
	ts_buf_printf(&g->log, "s%d@%llu ", code, (unsigned long long)off);
}

static void on_begin(void *ctx, const char *path)
{
	got *g = ctx;
	(void)path;
	ts_buf_puts(&g->log, "b ");
}

static void on_done(void *ctx, const char *path, const ts_source_stats *st)
{
	got *g = ctx;
	(void)path;
	ts_buf_printf(&g->log, "d%llu ", (unsigned long long)st->records);
}

static const char text[] =
	"{\"Records\":[{\"eventTime\":\"2026-01-02T00:00:01Z\",\"eventSource\":\"s3.amazonaws.com\","
	"\"eventName\":\"PutObject\",\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111122223333\"},"
	"{\"eventTime\":\"bad\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"PutObject\"},"
	"{\"eventTime\":\"2026-01-02T00:00:03Z\",\"eventSource\":\"ec2.amazonaws.com\","
	"\"eventName\":\"RunInstances\",\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111122223333\"}]}";

/* what reading bytes[0..n) from a file gives */
static char *from_file(const unsigned char *bytes, size_t n, const ts_reader_opts *ro,
		       ts_source_stats *st)
{
	char path[] = "/tmp/ts_push_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_INT(write(fd, bytes, n), (long long)n);
	close(fd);
	got g = {0};
	ts_source_cb cb = {on_rec, on_skip, on_done, &g, on_begin, NULL, 0, NULL};
	memset(st, 0, sizeof *st);
	CHECK_INT(ts_source_read(path, ro, NULL, st, &cb), 0);
	unlink(path);
	return g.log.p;
}

static void same_as_file(const unsigned char *bytes, size_t n)
{
	for (int stream_only = 0; stream_only <= 1; stream_only++) {
		ts_reader_opts ro = {.stream_only = stream_only};
		ts_source_stats fst;
		char *want = from_file(bytes, n, &ro, &fst);
		ts_source_push *p = ts_source_push_new(&ro, NULL);
		CHECK(p != NULL);
		size_t pieces[] = {1, 7, 100, n};
		for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
			got g = {0};
			ts_source_cb cb = {on_rec, on_skip, on_done, &g, on_begin, NULL, 0, NULL};
			ts_source_stats st = {0};
			CHECK_INT(ts_source_push_begin(p, "s3://b/k", &st, &cb), 0);
			for (size_t off = 0; off < n; off += pieces[k]) {
				size_t m = n - off < pieces[k] ? n - off : pieces[k];
				CHECK_INT(ts_source_push_bytes(p, bytes + off, m), 0);
			}
			CHECK_INT(ts_source_push_end(p, NULL), 0);
			CHECK_STR(g.log.p, want);
			CHECK_INT(st.records, fst.records);
			CHECK_INT(st.skipped, fst.skipped);
			CHECK_INT(st.files, 1);
			CHECK_INT(st.bytes_in, fst.bytes_in);
			CHECK_INT(st.bytes_out, fst.bytes_out);
			ts_buf_free(&g.log);
		}
		ts_source_push_free(p);
		free(want);
	}
}

static void test_push_plain(void)
{
	same_as_file((const unsigned char *)text, strlen(text));
}

static void test_push_gzip(void)
{
	size_t n;
	unsigned char *g = gz(text, strlen(text), &n);
	same_as_file(g, n);
	same_as_file(g, n - 5); /* truncated */
	free(g);
}

static void test_push_failed(void)
{
	size_t n;
	unsigned char *z = gz(text, strlen(text), &n);
	for (int stream_only = 0; stream_only <= 1; stream_only++) {
		ts_reader_opts ro = {.stream_only = stream_only};
		ts_source_push *p = ts_source_push_new(&ro, NULL);
		got g = {0};
		ts_source_cb cb = {on_rec, on_skip, on_done, &g, on_begin, NULL, 0, NULL};
		ts_source_stats st = {0};
		CHECK_INT(ts_source_push_begin(p, "s3://b/k", &st, &cb), 0);
		CHECK_INT(ts_source_push_bytes(p, z, n / 2), 0);
		CHECK_INT(ts_source_push_end(p, "connection reset after 100 bytes"), 0);
		CHECK_INT(st.files_failed, 1);
		CHECK(strncmp(g.log.p, "b s-2@0 ", 8) == 0);
		CHECK_INT(st.by_reason[-TS_EIO], 1);
		ts_buf_free(&g.log);
		/* the push is reused for the next input */
		uint64_t before = st.records;
		CHECK_INT(ts_source_push_begin(p, "s3://b/k2", &st, &cb), 0);
		CHECK_INT(ts_source_push_bytes(p, text, strlen(text)), 0);
		CHECK_INT(ts_source_push_end(p, NULL), 0);
		CHECK_INT(st.files, 2);
		CHECK_INT(st.records - before, 2);
		CHECK_INT(st.files_failed, 1);
		ts_buf_free(&g.log);
		ts_source_push_free(p);
	}
	ts_source_push_free(NULL);
	free(z);
}

TS_TESTS(test_push_plain, test_push_gzip, test_push_failed)
