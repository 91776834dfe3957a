/* test_jscan_diff.c - ts_jscan() against the earlier scan (jscan_ref.c,
 * which walked every event through one handler): on the records of
 * ../shared/samples, on every input of the fuzz corpus, on the golden
 * corpora and on many random mutations of each, both give the same
 * answer and, when they vouch, the same spans and the same high-bytes
 * flag (and TS_JSCAN_PLAIN as a byte walk finds it) - for the record
 * parser's wants, a root-only want (shape.c's kind) and caps small
 * enough to be hit. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "jscan.h"
#include "jscan_ref.h"
#include "reader.h"
#include "util.h"

static const char *const ROOT_NAMES[] = {
	"eventTime", "eventSource", "eventName", "awsRegion", "recipientAccountId", "errorCode",
	"eventCategory", "eventType", "userAgent", "readOnly", "managementEvent", "userIdentity",
	"requestParameters",
};
#define NROOT ((int)TS_ARRAY_LEN(ROOT_NAMES))
#define IDENTITY 11
static const char *const SUB_NAMES[] = {"arn", "type", "invokedBy", "sessionContext"};
#define NSUB ((int)TS_ARRAY_LEN(SUB_NAMES))

static int lookup(const char *const *names, int count, const char *name, size_t n)
{
	for (int i = 0; i < count; i++)
		if (strlen(names[i]) == n && !memcmp(names[i], name, n))
			return i;
	return -1;
}

static int root_slot(const char *name, size_t n) { return lookup(ROOT_NAMES, NROOT, name, n); }
static int sub_slot(const char *name, size_t n) { return lookup(SUB_NAMES, NSUB, name, n); }

static const ts_jscan_want WANTS[] = {
	{root_slot, NROOT, IDENTITY, sub_slot, NSUB, 200000, 64},
	{root_slot, NROOT, -1, NULL, 0, 200000, 64}, /* the root's names only */
	{root_slot, NROOT, IDENTITY, sub_slot, NSUB, 40, 4}, /* caps that bite */
	{root_slot, NROOT, IDENTITY, sub_slot, NSUB, 300, 2},
	{root_slot, NROOT, IDENTITY, sub_slot, NSUB, 1000, 1},
};

static size_t compared, vouched, refused, deep;

static int same_toks(const ts_jtok *a, const ts_jtok *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i].type != b[i].type ||
		    (a[i].type != TS_JT_NONE && (a[i].start != b[i].start || a[i].end != b[i].end)))
			return 0;
	return 1;
}

/* What TS_JSCAN_PLAIN says of a well-formed text, byte by byte: no
 * backslash, and no byte below 0x20 inside a string. */
static int plain(const char *s, size_t n)
{
	int in = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || (in && c < 0x20))
			return 0;
		if (c == '"')
			in = !in;
	}
	return 1;
}

/* What may follow a record where its end is sought (ts_jscan_span):
 * the next element, the end of the array, blanks, nothing, and bytes no
 * JSON text may hold. */
static const char *const AFTER[] = {
	",{\"eventTime\":\"x\"}", "]}", "\n ,\n", "", "\\q\x01\x80\"{[", "}}}}",
};

static size_t spanned, both;
static int wide_too; /* the CPU has AVX-512: compare the two classifiers */

/* ts_jscan_span on s[0..n) followed by each of AFTER: when it vouches,
 * for the object it found what ts_jscan says of that object alone; and
 * when ts_jscan vouches for s[0..n) as a whole and s ends with its '}',
 * it finds that object whatever well-formed text follows. */
static int span_agrees(const char *s, size_t n, const ts_jscan_want *w, int whole)
{
	int ok = 1;
	ts_buf b = {0};
	for (size_t k = 0; k < TS_ARRAY_LEN(AFTER); k++) {
		ts_buf_reset(&b);
		ts_buf_add(&b, s, n);
		ts_buf_puts(&b, AFTER[k]);
		ts_jtok r1[NROOT], s1[NSUB], r2[NROOT], s2[NSUB];
		unsigned f1 = 0, f2 = 0;
		size_t len = 99;
		int a = ts_jscan_span(b.p, b.len, w, r1, s1, &f1, &len);
		if (a) {
			spanned++;
			int c = len <= b.len ? ts_jscan(b.p, len, w, r2, s2, &f2) : 0;
			if (!c || f1 != f2 || !same_toks(r1, r2, w->nroot) || !same_toks(s1, s2, w->nsub) ||
			    b.p[len - 1] != '}')
				ok = 0;
		} else if (len != 0) {
			ok = 0;
		} else if (whole && n && s[n - 1] == '}' && k < 4 && n <= w->max_tokens) {
			ok = 0; /* a well-formed record the span walk should have found */
		}
		if (!ok) {
			fprintf(stderr, "  span %d (len %zu) after %zu bytes, suffix %zu: %.*s\n", a, len,
				n, k, (int)(n < 300 ? n : 300), s);
			break;
		}
	}
	ts_buf_free(&b);
	return ok;
}

/* Both scans on s[0..n) with every want: 1 when they agree (and the
 * new one's TS_JSCAN_PLAIN is right), and the span walk agrees with
 * them. */
static int agree(const char *s, size_t n)
{
	int ok = 1;
	static int asked;
	if (!asked++)
		wide_too = ts_jscan_wide(-1);
	for (size_t wi = 0; wi < TS_ARRAY_LEN(WANTS); wi++) {
		const ts_jscan_want *w = &WANTS[wi];
		ts_jtok r1[NROOT], s1[NSUB], r2[NROOT], s2[NSUB];
		unsigned f1 = 0;
		int h2 = -1;
		int a = ts_jscan(s, n, w, r1, s1, &f1);
		int b = ts_jscan_ref(s, n, w, r2, s2, &h2);
		compared++;
		if (wide_too) {
			/* the other block classifier gives the same answer */
			ts_jtok r3[NROOT], s3[NSUB];
			unsigned f3 = 0;
			ts_jscan_wide(0);
			int c = ts_jscan(s, n, w, r3, s3, &f3);
			ts_jscan_wide(1);
			both++;
			if (c != a || (a && (f3 != f1 || !same_toks(r1, r3, w->nroot) ||
					     !same_toks(s1, s3, w->nsub)))) {
				fprintf(stderr, "  want %zu: wide %d, narrow %d\n", wi, a, c);
				ok = 0;
			}
		}
		int h1 = (f1 & TS_JSCAN_HIGH) != 0;
		if (a != b || (a && (h1 != h2 || !same_toks(r1, r2, w->nroot) ||
				     !same_toks(s1, s2, w->nsub) ||
				     !(f1 & TS_JSCAN_PLAIN) != !plain(s, n)))) {
			fprintf(stderr, "  want %zu: new %d, old %d on: %.*s\n", wi, a, b,
				(int)(n < 300 ? n : 300), s);
			ok = 0;
		}
		if (wi != 1 && !span_agrees(s, n, w, a == 1))
			ok = 0;
		if (wi == 0) {
			vouched += a == 1;
			refused += a == 0;
			/* reached past depth 2: a cold subtree inside a cold one */
			deep += a == 1 && b == 1 && ts_jscan(s, n, &WANTS[3], r1, s1, &f1) == 0;
		}
	}
	return ok;
}

/* Significant bytes to put in: brackets, separators, quotes, escapes,
 * blanks, literal bytes, a NUL, a high byte. */
static const char SIG[] = "{}[]:,\"\\ \n0-e.tfnu\x80\x01";

static uint32_t rnd(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

/* iters mutations of s[0..n) (1 to 3 edits each), each held to agree(). */
static size_t mutate(const char *s, size_t n, int iters, uint32_t *x)
{
	size_t bad = 0;
	ts_buf b = {0};
	for (int it = 0; it < iters; it++) {
		ts_buf_reset(&b);
		ts_buf_add(&b, s, n);
		for (int m = 0; m < 1 + it % 3 && b.len > 1; m++) {
			size_t at = rnd(x) % b.len;
			char c = SIG[rnd(x) % (sizeof SIG - 1)];
			switch (rnd(x) % 5) {
			case 0: b.p[at] = c; break;
			case 1: b.p[at] ^= (char)(1u << (rnd(x) % 8)); break;
			case 2: memmove(b.p + at, b.p + at + 1, b.len - at - 1); b.len--; break;
			case 3: ts_buf_add(&b, "", 1); memmove(b.p + at + 1, b.p + at, b.len - at - 1); b.p[at] = c; break;
			case 4: b.len = at + 1; break; /* cut */
			}
		}
		bad += !agree(b.p, b.len);
	}
	ts_buf_free(&b);
	return bad;
}

static int read_all(const char *path, char **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	ts_buf b = {0};
	char tmp[65536];
	size_t got;
	while ((got = fread(tmp, 1, sizeof tmp, f)) > 0)
		ts_buf_add(&b, tmp, got);
	fclose(f);
	if (!b.p)
		ts_buf_add(&b, "", 0);
	*out = b.p;
	*n = b.len;
	return 0;
}

/* Every record the reader finds in data[0..n) (gzip or not), each held to
 * agree() and mutated iters times. Returns the records seen. */
static size_t records_of(const char *data, size_t n, int iters, uint32_t *x, size_t *bad)
{
	ts_reader *r = ts_reader_new(NULL);
	if (!r)
		abort();
	size_t recs = 0;
	ts_reader_item it;
	int rc;
	CHECK_INT(ts_reader_feed(r, data, n), 0);
	CHECK_INT(ts_reader_finish(r), 0);
	while ((rc = ts_reader_next(r, &it)) != 0) {
		if (rc != 1)
			continue;
		recs++;
		*bad += !agree(it.text, it.len);
		*bad += mutate(it.text, it.len, iters, x);
	}
	ts_reader_free(r);
	return recs;
}

/* Each regular file of dir: the whole file as one text, then its records;
 * each mutated iters times. Returns the files read. */
static size_t walk_dir(const char *dir, int iters, uint32_t *x, size_t *recs, size_t *bad)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t files = 0;
	struct dirent *e;
	char path[8192];
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char *data;
		size_t n;
		if (read_all(path, &data, &n) != 0)
			continue; /* a folder */
		files++;
		*bad += !agree(data, n);
		*bad += mutate(data, n, iters, x);
		*recs += records_of(data, n, iters / 4, x, bad);
		free(data);
	}
	closedir(d);
	return files;
}

static void test_hand_made(void)
{
	static const char *const texts[] = {
		"{\"a\":1}", "{}", "{\"userIdentity\":{\"arn\":\"x\",\"sessionContext\":{\"k\":[1,{}]}}}",
		"{\"x\":[[[[[[1]]]]]],\"eventTime\":\"t\"}", "{\"x\":{\"y\":{\"z\":[true,false,null,-1.5e3]}}}",
		"{\"eventName\":[1,2],\"requestParameters\":{\"a\":\"b\\\"c\"}}",
		"{\"userIdentity\":[{\"arn\":1}],\"eventName\":{\"arn\":2}}",
		"{\"x\":[1,]}", "{\"x\":{\"a\"}}", "{\"x\":{\"a\":}}", "{\"x\":[1 2]}", "{\"x\":{,}}",
		"{\"x\":[}", "{\"x\":{]}", "{\"x\":[{\"a\":1,}]}", "{\"x\":[01]}", "{\"x\":{\"a\":tru}}",
		"{\"x\":[\"a\":1]}", "{\"x\":{\"a\":1 \"b\":2}}", "{\"x\":[[]]]}", "{\"x\":{}}}",
		"{\"x\":[1],\"eventTime\":\"a\",\"eventTime\":\"b\"}", "{\"readOnly\":true}x",
		"{\"a\":1,,\"b\":2}", "{\"a\"::1}", "{\"a\":,1}", "{,\"a\":1}", "{\"a\":1:2}",
		"{\"a\":\"x\ty\",\"eventName\":\"n\\u0041\"}", "{\"a\" : [ 1 , 2 ] ,\n\"b\" :{}}",
	};
	uint32_t x = 7;
	for (size_t i = 0; i < TS_ARRAY_LEN(texts); i++) {
		CHECK(agree(texts[i], strlen(texts[i])));
		CHECK_INT(mutate(texts[i], strlen(texts[i]), 2000, &x), 0);
	}
	/* a deep cold subtree, at and past the depth cap */
	for (int depth = 60; depth < 70; depth++) {
		ts_buf b = {0};
		ts_buf_puts(&b, "{\"x\":");
		for (int i = 0; i < depth; i++)
			ts_buf_puts(&b, i % 2 ? "{\"k\":" : "[");
		ts_buf_puts(&b, "1");
		for (int i = depth - 1; i >= 0; i--)
			ts_buf_puts(&b, i % 2 ? "}" : "]");
		ts_buf_puts(&b, "}");
		CHECK(agree(b.p, b.len));
		ts_buf_free(&b);
	}
}

static void test_samples(void)
{
	const char *shared = getenv("TS_SHARED_DIR");
	if (!shared) {
		TS_SKIP("test_samples: TS_SHARED_DIR not set");
		return;
	}
	static const char *const dirs[] = {"samples/aws-cpl", "samples/otrf"};
	uint32_t x = 99;
	size_t files = 0, recs = 0, bad = 0;
	char path[4096];
	for (size_t i = 0; i < TS_ARRAY_LEN(dirs); i++) {
		snprintf(path, sizeof path, "%s/%s", shared, dirs[i]);
		files += walk_dir(path, 400, &x, &recs, &bad);
	}
	if (files == 0) {
		TS_SKIP("test_samples: no samples under '%s/samples'", shared);
		return;
	}
	CHECK_INT(bad, 0);
	CHECK(files >= 14);
	CHECK(recs >= 130); /* the 30 of aws-cpl and otrf's 103 */
}

static void test_corpora(void)
{
	const char *src = getenv("TS_SOURCE_DIR");
	CHECK(src != NULL);
	if (!src)
		return;
	uint32_t x = 4242;
	size_t files = 0, recs = 0, bad = 0;
	compared = vouched = refused = deep = both = 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/fuzz/corpus", src);
	DIR *d = opendir(path);
	CHECK(d != NULL);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4400];
		snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
		files += walk_dir(sub, 40, &x, &recs, &bad);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof path, "%s/tests/golden", src);
	files += walk_dir(path, 40, &x, &recs, &bad);
	CHECK_INT(bad, 0);
	/* what it reached: both answers, and subtrees past a depth cap */
	fprintf(stderr,
		"  %zu files, %zu records: %zu scans, %zu vouched, %zu refused, %zu deep, %zu spans, "
		"%zu also narrow\n",
		files, recs, compared, vouched, refused, deep, spanned, both);
	CHECK(files > 1000);
	CHECK(recs > 500);
	CHECK(vouched > 2000);
	CHECK(refused > 10000);
	CHECK(deep > 100);
	CHECK(spanned > 2000);
	if (wide_too)
		CHECK(both == compared);
	else
		fprintf(stderr, "  no AVX-512 here: the wide classifier is not compared\n");
}

TS_TESTS(test_hand_made, test_samples, test_corpora)
