/* test_sink_disk.c - the sinks on a full disk, a real one: the test moves
 * into a private mount namespace and mounts a 256 KiB tmpfs (root or
 * CAP_SYS_ADMIN; otherwise it prints SKIP and exits 77, which ctest
 * reports as skipped), fills it with a file and deletes it to free space.
 *
 *  - dir: a failed write holds the batch and backs off; while failing at
 *    most queue_max_events wait (the rest are dropped under their own
 *    error); space back, every held event is written once; the end of the
 *    run with the disk full drops what is held, counted;
 *  - webhook: with the endpoint down and the spool full, events wait in
 *    memory (capped), go to the spool in order once space is back, and
 *    arrive once each, in order; or, with the endpoint back first, go
 *    straight from memory; the end of the run drops what is in memory.
 * A fake clock drives the backoffs.
 */
#define _GNU_SOURCE /* unshare() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "http_receiver.h"
#include "redis_server.h"

#include "../check.h"
#include "sink.h"

#define ACCT "111122223333"
#define SKIP_CODE 77

static char fsdir[64]; /* the small tmpfs */

static int64_t clock_now;
static int64_t fake_clock(void *ctx)
{
	(void)ctx;
	return clock_now;
}

static ts_sink_opts test_opts(void)
{
	ts_sink_opts o = {0};
	o.clock_ms = fake_clock;
	o.retry_first_ms = 100;
	o.retry_max_ms = 400;
	o.http_connect_timeout_ms = 1000;
	o.http_timeout_ms = 2000;
	return o;
}

static void make_event(char *out, size_t n, int k)
{
	snprintf(out, n,
		 "{\"eventVersion\":\"1.09\",\"eventTime\":\"2026-01-13T10:%02d:00Z\","
		 "\"awsRegion\":\"us-east-1\",\"eventID\":\"00000000-0000-5000-8000-%012d\","
		 "\"eventType\":\"AwsCloudTrailInsight\",\"recipientAccountId\":\"" ACCT "\","
		 "\"insightDetails\":{\"state\":\"Start\"},\"eventCategory\":\"Insight\"}",
		 k % 60, k);
}

static ts_sink_stats stats_of(const ts_sink *s)
{
	ts_sink_stats st;
	ts_sink_get_stats(s, &st);
	return st;
}

static int emit_str(ts_sink *s, const char *json) { return ts_sink_emit(s, json, strlen(json)); }

/* Fill the tmpfs with fsdir/fill until ENOSPC. 0 when it is full. */
static int fill(void)
{
	char path[96], block[4096];
	snprintf(path, sizeof path, "%s/fill", fsdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(block, 0, sizeof block);
	while (write(fd, block, sizeof block) > 0) {
	}
	int e = errno;
	close(fd);
	return e == ENOSPC ? 0 : -1;
}

static void unfill(void)
{
	char path[96];
	snprintf(path, sizeof path, "%s/fill", fsdir);
	unlink(path);
}

/* Regular files under dir (recursively) whose name ends with sfx. */
static int count_files(const char *dir, const char *sfx)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || e->d_name[1] == '.'))
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(sub, &st))
			continue;
		size_t ln = strlen(e->d_name), ls = strlen(sfx);
		if (S_ISDIR(st.st_mode))
			n += count_files(sub, sfx);
		else if (ln >= ls && strcmp(e->d_name + ln - ls, sfx) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Append the gunzipped text of every .json.gz under dir to out. */
static void gunzip_all(const char *dir, ts_buf *out)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char sub[1024];
		snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(sub, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			gunzip_all(sub, out);
			continue;
		}
		gzFile g = gzopen(sub, "rb");
		if (!g)
			continue;
		char buf[4096];
		int r;
		while ((r = gzread(g, buf, sizeof buf)) > 0)
			CHECK_INT(ts_buf_add(out, buf, (size_t)r), 0);
		gzclose(g);
	}
	closedir(d);
}

/* Occurrences of needle in hay. */
static int count_in(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* The eventID of one of make_event()'s events into id[37]. */
static const char *event_id(const char *ev, char *id)
{
	const char *p = strstr(ev, "00000000-0000-5000");
	snprintf(id, 37, "%.36s", p ? p : "");
	return id;
}

/* First: the private mount namespace and the tmpfs, before any thread. */
static void test_mount(void)
{
	snprintf(fsdir, sizeof fsdir, "/tmp/ts-diskfull-XXXXXX");
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		printf("SKIP: cannot make a private mount namespace: %s (run as root)\n",
		       strerror(errno));
		exit(SKIP_CODE);
	}
	if (!mkdtemp(fsdir) || mount("tmpfs", fsdir, "tmpfs", 0, "size=256k,mode=0755")) {
		printf("SKIP: cannot mount a tmpfs on %s: %s\n", fsdir, strerror(errno));
		exit(SKIP_CODE);
	}
	CHECK_INT(fill(), 0);
	char path[96];
	snprintf(path, sizeof path, "%s/probe", fsdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) < 0 && errno == ENOSPC);
	if (fd >= 0)
		close(fd);
	unlink(path);
	unfill();
}

static void test_dir_full(void)
{
	char root[128], spec[160], err[256];
	snprintf(root, sizeof root, "%s/out", fsdir);
	snprintf(spec, sizeof spec, "dir:%s", root);
	ts_sink_opts o = test_opts();
	o.dir_max_events = 1; /* each emit tries a write */
	o.queue_max_events = 3;
	clock_now = 0;
	ts_sink *s = NULL;
	CHECK_INT(ts_sink_open(spec, &o, &s, err, sizeof err), 0);
	if (!s)
		return;
	char ev[8][512];
	for (int i = 0; i < 8; i++)
		make_event(ev[i], sizeof ev[i], i);
	CHECK_INT(fill(), 0);
	CHECK_INT(emit_str(s, ev[0]), 0);
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.pending, 1);
	CHECK_INT(st.dropped, 0);
	CHECK_INT(emit_str(s, ev[1]), 0); /* in backoff: held, not tried */
	CHECK_INT(emit_str(s, ev[2]), 0);
	CHECK_INT(emit_str(s, ev[3]), 0); /* over the cap of 3 */
	CHECK_INT(emit_str(s, ev[4]), 0);
	st = stats_of(s);
	CHECK_INT(st.failed, 1);
	CHECK_INT(st.pending, 3);
	CHECK_INT(st.dropped, 2);
	clock_now += 150; /* still full: one more failure, nothing lost */
	ts_sink_tick(s);
	st = stats_of(s);
	CHECK_INT(st.failed, 2);
	CHECK_INT(st.pending, 3);
	CHECK_INT(count_files(root, ".gz"), 0);
	CHECK_INT(count_files(root, ".tmp"), 0); /* the partial write is gone */
	unfill();
	clock_now += 1000;
	ts_sink_tick(s);
	st = stats_of(s);
	CHECK_INT(st.delivered, 3);
	CHECK_INT(st.pending, 0);
	CHECK_INT(st.dropped, 2);
	ts_buf text = {0};
	gunzip_all(root, &text);
	char id[37];
	for (int i = 0; i < 5; i++)
		CHECK_INT(count_in(text.p, event_id(ev[i], id)), i < 3 ? 1 : 0);
	ts_buf_free(&text);
	/* full again at the end of the run: what is held is dropped, counted */
	CHECK_INT(fill(), 0);
	CHECK_INT(emit_str(s, ev[5]), 0);
	CHECK_INT(emit_str(s, ev[6]), 0);
	CHECK_INT(stats_of(s).pending, 2);
	ts_sink_finish(s);
	st = stats_of(s);
	CHECK_INT(st.events, 7);
	CHECK_INT(st.delivered, 3);
	CHECK_INT(st.dropped, 4);
	CHECK_INT(st.pending, 0);
	ts_sink_close(s);
	unfill();
	tr_rm_tree(root);
}

static ts_sink *open_webhook(int port, const char *spool, size_t qmax)
{
	char spec[128], err[256] = "";
	snprintf(spec, sizeof spec, "webhook:http://127.0.0.1:%d/hook", port);
	ts_sink_opts o = test_opts();
	o.spool_dir = spool;
	o.queue_max_events = qmax;
	ts_sink *s = NULL;
	int rc = ts_sink_open(spec, &o, &s, err, sizeof err);
	if (rc)
		fprintf(stderr, "  open %s: %s\n", spec, err);
	CHECK_INT(rc, 0);
	return s;
}

static void check_bodies(http_rx *rx, char (*ev)[512], size_t n)
{
	CHECK_INT(hr_bodies(rx), n);
	for (size_t i = 0; i < n && i < rx->nbody; i++)
		CHECK_STR(rx->body[i], ev[i]);
}

/* Endpoint down, spool full; space back (events go to the spool), then the
 * endpoint back: each arrives once, in order. */
static void test_webhook_spool_full(void)
{
	char spool[128];
	snprintf(spool, sizeof spool, "%s/spool", fsdir);
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	hr_stop(&rx); /* down: connections refused */
	clock_now = 0;
	ts_sink *s = open_webhook(rx.port, spool, 3);
	if (!s) {
		hr_free(&rx);
		return;
	}
	char ev[6][512];
	for (int i = 0; i < 6; i++)
		make_event(ev[i], sizeof ev[i], 10 + i);
	CHECK_INT(fill(), 0);
	for (int i = 0; i < 5; i++)
		CHECK_INT(emit_str(s, ev[i]), 0);
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.failed, 1);  /* one POST tried, then held */
	CHECK_INT(st.pending, 3); /* the memory queue's cap */
	CHECK_INT(st.dropped, 2); /* ev[3], ev[4]: over it */
	CHECK_INT(count_files(spool, ".json"), 0);
	unfill();
	clock_now += 1000;
	ts_sink_tick(s); /* the POST fails again; the queue goes to the spool */
	st = stats_of(s);
	CHECK_INT(st.failed, 2);
	CHECK_INT(st.pending, 3);
	CHECK_INT(count_files(spool, ".json"), 3);
	CHECK_INT(hr_start(&rx, rx.port), 0);
	clock_now += 1000;
	CHECK_INT(emit_str(s, ev[5]), 0); /* behind the spooled ones */
	for (int i = 0; i < 20 && stats_of(s).pending; i++) {
		clock_now += 1000;
		ts_sink_tick(s);
	}
	st = stats_of(s);
	CHECK_INT(st.events, 6);
	CHECK_INT(st.delivered, 4);
	CHECK_INT(st.dropped, 2);
	CHECK_INT(st.pending, 0);
	char want[4][512];
	memcpy(want[0], ev[0], sizeof want[0]);
	memcpy(want[1], ev[1], sizeof want[1]);
	memcpy(want[2], ev[2], sizeof want[2]);
	memcpy(want[3], ev[5], sizeof want[3]);
	check_bodies(&rx, want, 4);
	CHECK_INT(count_files(spool, ".json"), 0);
	ts_sink_close(s);
	hr_free(&rx);
	tr_rm_tree(spool);
}

/* Spool full throughout; the endpoint comes back: the events go straight
 * from memory. Then the endpoint goes, and the run ends while the disk is
 * full: what is in memory is dropped, counted. */
static void test_webhook_memory(void)
{
	char spool[128];
	snprintf(spool, sizeof spool, "%s/spool2", fsdir);
	http_rx rx;
	CHECK_INT(hr_start(&rx, 0), 0);
	hr_stop(&rx);
	clock_now = 0;
	ts_sink *s = open_webhook(rx.port, spool, 0);
	if (!s) {
		hr_free(&rx);
		return;
	}
	char ev[5][512];
	for (int i = 0; i < 5; i++)
		make_event(ev[i], sizeof ev[i], 20 + i);
	CHECK_INT(fill(), 0);
	CHECK_INT(emit_str(s, ev[0]), 0);
	CHECK_INT(emit_str(s, ev[1]), 0);
	CHECK_INT(stats_of(s).pending, 2);
	CHECK_INT(hr_start(&rx, rx.port), 0);
	clock_now += 1000;
	ts_sink_tick(s);
	ts_sink_stats st = stats_of(s);
	CHECK_INT(st.delivered, 2);
	CHECK_INT(st.pending, 0);
	check_bodies(&rx, ev, 2);
	CHECK_INT(count_files(spool, ".json"), 0);
	CHECK_INT(emit_str(s, ev[2]), 0); /* straight through */
	CHECK_INT(stats_of(s).delivered, 3);
	hr_stop(&rx);
	CHECK_INT(emit_str(s, ev[3]), 0);
	CHECK_INT(emit_str(s, ev[4]), 0);
	CHECK_INT(stats_of(s).pending, 2);
	ts_sink_finish(s);
	st = stats_of(s);
	CHECK_INT(st.events, 5);
	CHECK_INT(st.delivered, 3);
	CHECK_INT(st.dropped, 2);
	CHECK_INT(st.pending, 0);
	ts_sink_close(s);
	unfill();
	hr_free(&rx);
	tr_rm_tree(spool);
}

/* Last: unmount and remove the mount point. */
static void test_unmount(void)
{
	CHECK_INT(umount(fsdir), 0);
	CHECK_INT(rmdir(fsdir), 0);
}

TS_TESTS(test_mount, test_dir_full, test_webhook_spool_full, test_webhook_memory, test_unmount)
