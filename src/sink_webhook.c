/* sink_webhook.c - the webhook:URL sink: one HTTP POST per event (libcurl),
 * and the alerting formats posted the same way (alertmanager:, pagerduty:,
 * slack:, eventbridge:).
 *
 * Each event is POSTed as its JSON, or as the payload sink_format.c makes
 * of it, with Content-Type application/json; a 2xx answer delivers it.
 * The payload is made once, at emit: the spool and the memory queue hold
 * payloads, so everything below is the same for every format. Every attempt is bounded by the connect and total
 * timeouts. A failure (no connection, timeout, 408, 425, 429, 5xx) starts
 * an exponential backoff; until it passes, new events go straight to the
 * spool without trying, so a dead endpoint costs at most one timeout per
 * backoff step. Other answers (3xx, 4xx) will not get better by retrying:
 * the event is moved to the spool's rejected/ folder and counted as dropped
 * with an error.
 *
 * The spool is a folder, SPOOL/webhook-<first 16 hex of SHA-1 of the URL>,
 * mode 0700, holding one file per event, <20-digit sequence>.json, written
 * as .tmp-<seq>, fsynced and renamed. Files [head, next) are the queue in
 * order (gaps are skipped); while it is not empty every new event joins its
 * tail, so events arrive in emit order. A restart on the same folder finds
 * the files and resends them first. A lock file (flock) keeps two sinks,
 * in one process or two, off one spool.
 *
 * When a spool file cannot be written (a full disk), the event waits in a
 * FIFO in memory behind the spool files (at most queue_max_events; past it
 * new events are dropped with their own error); the failure is logged once,
 * with the path, and the queue is moved into the spool, in order, once a
 * write succeeds after its own backoff, or POSTed straight from memory when
 * the spool is empty and the endpoint answers. Order is always: spool files
 * [head, next), then the memory queue. What is still in memory at the end
 * of the run (finish) and cannot be spooled is dropped with an error.
 *
 * alertmanager: Alertmanager resolves an alert that is not posted again
 * within its resolve_timeout, so the sink keeps a copy of each alert it has
 * fired (by sharedEventID, owned, at most ALERTS_OPEN_MAX) until the End,
 * and re-posts them all from tick every o.alert_repost_ms, once nothing is
 * held for a retry. A re-post is not an event (not in events or
 * delivered); a failed one counts in failed and starts the backoff, as any
 * failed POST.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "insight.h"
#include "sha1.h"
#include "sink_format.h"
#include "sink_kit.h"
#include "util.h"

#define SPOOL_FILE_MAX ((size_t)64 << 20) /* a spooled event larger is bad */
#define ALERTS_OPEN_MAX 10000  /* firing alerts kept for re-posting */
#define ALERTS_PER_POST 500    /* alerts in one re-post request */

/* A firing Alertmanager alert, kept until its End to be re-posted. */
typedef struct open_alert {
	char id[40]; /* sharedEventID */
	size_t len;
	char *json;  /* owned: the alert object */
} open_alert;

typedef struct webhook_sink {
	ts_sink base;
	char *url;
	CURL *h;
	struct curl_slist *hdrs;
	char cerr[CURL_ERROR_SIZE];
	char *dir;     /* the spool folder */
	int dirfd;     /* open on dir */
	int lockfd;    /* dir/lock, flocked */
	uint64_t head; /* first sequence that may be in the spool */
	uint64_t next; /* sequence of the next file */
	uint64_t nspool; /* files in the spool */
	ts_backoff bo;
	ts_buf rd;     /* a spooled event read back */
	char err[CURL_ERROR_SIZE + 64]; /* why the last attempt failed */
	/* events the spool could not take, oldest first, behind the spool */
	ts_sink_queue mq;
	ts_backoff disk_bo;  /* spool writes after a failed one */
	int disk_failing;    /* 1 between a logged spool failure and recovery */
	char derr[512];      /* why the last spool write failed */
	/* the payload format (sink_format.h) */
	ts_sink_format fmt;
	char *routing_key;   /* pagerduty: owned */
	ts_buf payload;      /* the event made into the format's payload */
	/* alertmanager: the alerts fired and not yet resolved, re-posted every
	 * o.alert_repost_ms; a linear array, at most ALERTS_OPEN_MAX */
	open_alert *open;
	size_t nopen, open_alloc;
	int open_full;       /* 1 once the cap was logged */
	int64_t repost_at;   /* when the next re-post is due */
	ts_buf repost;       /* the re-post request body */
} webhook_sink;

enum { POST_OK, POST_RETRY, POST_REJECT };

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

static int post(webhook_sink *ws, const char *json, size_t len)
{
	curl_easy_setopt(ws->h, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(ws->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	ws->cerr[0] = '\0';
	CURLcode rc = curl_easy_perform(ws->h);
	if (rc != CURLE_OK) {
		snprintf(ws->err, sizeof ws->err, "POST: %s",
			 ws->cerr[0] ? ws->cerr : curl_easy_strerror(rc));
		return POST_RETRY;
	}
	long code = 0;
	curl_easy_getinfo(ws->h, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return POST_OK;
	snprintf(ws->err, sizeof ws->err, "POST: HTTP status %ld", code);
	if (code == 408 || code == 425 || code == 429 || code >= 500)
		return POST_RETRY;
	return POST_REJECT;
}

static void seq_name(char *out, size_t n, const char *pfx, uint64_t seq, const char *sfx)
{
	snprintf(out, n, "%s%020" PRIu64 "%s", pfx, seq, sfx);
}

/* Write data as file name (relative to the spool) through a temporary
 * file and a rename. 0, or -1 with errno. */
static int spool_write(webhook_sink *ws, const char *name, uint64_t seq, const char *data,
		       size_t len)
{
	char tmp[64];
	seq_name(tmp, sizeof tmp, ".tmp-", seq, "");
	int fd = openat(ws->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = ts_sink_write_all(fd, data, len) || fsync(fd) ? -1 : 0;
	int e = errno;
	if (close(fd) && !rc) {
		e = errno;
		rc = -1;
	}
	if (!rc && renameat(ws->dirfd, tmp, ws->dirfd, name)) {
		e = errno;
		rc = -1;
	}
	if (rc)
		unlinkat(ws->dirfd, tmp, 0);
	else
		(void)fsync(ws->dirfd); /* best effort: make the rename durable */
	errno = e;
	return rc;
}

/* Read spool file seq into ws->rd. 0, 1 when it is not there, -1 with
 * ws->err set. */
static int spool_read(webhook_sink *ws, uint64_t seq)
{
	char name[64];
	seq_name(name, sizeof name, "", seq, ".json");
	int fd = openat(ws->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(ws->err, sizeof ws->err, "cannot open spool file %s: %s", name,
			 strerror(errno));
		return -1;
	}
	ts_buf_reset(&ws->rd);
	int rc = 0;
	for (;;) {
		if (ws->rd.len >= SPOOL_FILE_MAX) {
			snprintf(ws->err, sizeof ws->err, "spool file %s is over %zu bytes", name,
				 SPOOL_FILE_MAX);
			rc = -1;
			break;
		}
		if (ts_buf_grow(&ws->rd, 65536)) {
			snprintf(ws->err, sizeof ws->err, "reading spool file %s: out of memory", name);
			rc = -1;
			break;
		}
		ssize_t r = read(fd, ws->rd.p + ws->rd.len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(ws->err, sizeof ws->err, "cannot read spool file %s: %s", name,
				 strerror(errno));
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		ws->rd.len += (size_t)r;
		ws->rd.p[ws->rd.len] = '\0';
	}
	close(fd);
	return rc;
}

/* Move spool file seq to rejected/ (best effort: it stays put otherwise,
 * and is not retried this run). */
static void spool_reject(webhook_sink *ws, uint64_t seq)
{
	char name[64], dst[80];
	seq_name(name, sizeof name, "", seq, ".json");
	seq_name(dst, sizeof dst, "rejected/", seq, ".json");
	if (mkdirat(ws->dirfd, "rejected", 0700) && errno != EEXIST)
		return;
	(void)renameat(ws->dirfd, name, ws->dirfd, dst);
}

static void delivered(webhook_sink *ws)
{
	ws->base.st.delivered++;
	ts_backoff_ok(&ws->bo);
	ts_sink_ok(&ws->base);
}

static void retry_later(webhook_sink *ws, int64_t now)
{
	ws->base.st.failed++;
	ts_backoff_fail(&ws->bo, now);
	ts_sink_fail(&ws->base, "%s", ws->err);
}

static void unqueue(webhook_sink *ws)
{
	ws->head++;
	ws->nspool--;
	ws->base.st.pending--;
}

/* A spool write failed (errno set) on name: log it once, back off. */
static void disk_fail(webhook_sink *ws, int64_t now, const char *name)
{
	snprintf(ws->derr, sizeof ws->derr, "cannot write spool file '%s/%s': %s", ws->dir, name,
		 strerror(errno));
	ts_backoff_fail(&ws->disk_bo, now);
	if (ws->disk_failing)
		return;
	ws->disk_failing = 1;
	ts_warn("sink %s: %s (holding events in memory and retrying)", ws->base.name, ws->derr);
}

static void disk_ok(webhook_sink *ws)
{
	ts_backoff_ok(&ws->disk_bo);
	if (!ws->disk_failing)
		return;
	ws->disk_failing = 0;
	ts_warn("sink %s: spool '%s' written again", ws->base.name, ws->dir);
}

/* Append an event to the spool as file next. 0, or -1 (logged, disk
 * backoff started). */
static int spool_append(webhook_sink *ws, const char *json, size_t len, int64_t now)
{
	char name[64];
	seq_name(name, sizeof name, "", ws->next, ".json");
	if (spool_write(ws, name, ws->next, json, len)) {
		disk_fail(ws, now, name);
		return -1;
	}
	disk_ok(ws);
	if (!ws->nspool)
		ws->head = ws->next;
	ws->next++;
	ws->nspool++;
	return 0;
}

/* Keep an event answered 3xx/4xx in rejected/ and count it as dropped. */
static void reject(webhook_sink *ws, const char *json, size_t len)
{
	char name[80];
	uint64_t seq = ws->next++;
	if (!ws->nspool)
		ws->head = ws->next;
	seq_name(name, sizeof name, "rejected/", seq, ".json");
	if ((mkdirat(ws->dirfd, "rejected", 0700) && errno != EEXIST) ||
	    spool_write(ws, name, seq, json, len))
		ts_sink_drop(&ws->base, 1, "%s; cannot keep it in %s/rejected/: %s", ws->err,
			     ws->dir, strerror(errno));
	else
		ts_sink_drop(&ws->base, 1, "%s; kept in %s/%s", ws->err, ws->dir, name);
}

/* Move the memory queue into the spool, in order, until a write fails. */
static void spill(webhook_sink *ws, int64_t now)
{
	while (ws->mq.head && ts_backoff_ready(&ws->disk_bo, now)) {
		if (spool_append(ws, ws->mq.head->data, ws->mq.head->len, now))
			return;
		ts_sink_queue_pop(&ws->mq);
	}
}

/* Resend held events in order (the spool, then the memory queue), at most
 * limit, until one fails. */
static void drain(webhook_sink *ws, int64_t now, size_t limit)
{
	size_t done = 0;
	while (ws->nspool && ws->head < ws->next && done < limit &&
	       ts_backoff_ready(&ws->bo, now)) {
		int rc = spool_read(ws, ws->head);
		if (rc == 1) { /* a gap: taken away by hand, or a rejected event */
			ws->head++;
			continue;
		}
		if (rc < 0) {
			spool_reject(ws, ws->head);
			unqueue(ws);
			ts_sink_drop(&ws->base, 1, "%s (moved to rejected/)", ws->err);
			continue;
		}
		done++;
		int pr = post(ws, ws->rd.p, ws->rd.len);
		if (pr == POST_RETRY) {
			retry_later(ws, now);
			return;
		}
		if (pr == POST_OK) {
			char name[64];
			seq_name(name, sizeof name, "", ws->head, ".json");
			unlinkat(ws->dirfd, name, 0);
			unqueue(ws);
			delivered(ws);
		} else {
			ws->base.st.failed++;
			spool_reject(ws, ws->head);
			unqueue(ws);
			ts_sink_drop(&ws->base, 1, "%s; kept in %s/rejected/", ws->err, ws->dir);
		}
	}
	if (!ws->nspool)
		ws->head = ws->next; /* nothing left: skip any gaps */
	while (!ws->nspool && ws->mq.head && done < limit && ts_backoff_ready(&ws->bo, now)) {
		done++;
		int pr = post(ws, ws->mq.head->data, ws->mq.head->len);
		if (pr == POST_RETRY) {
			retry_later(ws, now);
			return;
		}
		ws->base.st.pending--;
		if (pr == POST_OK) {
			delivered(ws);
		} else {
			ws->base.st.failed++;
			reject(ws, ws->mq.head->data, ws->mq.head->len);
		}
		ts_sink_queue_pop(&ws->mq);
	}
}

/* alertmanager: remember a fired alert (replacing one of the same
 * sharedEventID), forget a resolved one. 0 or TS_ENOMEM. */
static int track_alert(webhook_sink *ws, const ts_fmt_info *fi, int64_t now)
{
	size_t i = 0;
	while (i < ws->nopen && strcmp(ws->open[i].id, fi->shared_id) != 0)
		i++;
	if (fi->state == TS_STATE_END) {
		if (i < ws->nopen) {
			free(ws->open[i].json);
			ws->open[i] = ws->open[--ws->nopen];
		}
		return 0;
	}
	if (i == ws->nopen && ws->nopen >= ALERTS_OPEN_MAX) {
		if (!ws->open_full)
			ts_warn("sink %s: %d alerts are firing, the cap of those re-posted; "
				"alerts past it are posted once and expire after Alertmanager's "
				"resolve_timeout",
				ws->base.name, ALERTS_OPEN_MAX);
		ws->open_full = 1;
		return 0;
	}
	char *copy = malloc(fi->alert_len + 1);
	if (!copy)
		return TS_ENOMEM;
	memcpy(copy, ws->payload.p + fi->alert_off, fi->alert_len);
	copy[fi->alert_len] = '\0';
	if (i < ws->nopen) {
		free(ws->open[i].json);
	} else {
		if (ts_grow(&ws->open, &ws->open_alloc, ws->nopen + 1, sizeof *ws->open, 16)) {
			free(copy);
			return TS_ENOMEM;
		}
		if (!ws->nopen)
			ws->repost_at = now + ws->base.o.alert_repost_ms;
		ws->nopen++;
		snprintf(ws->open[i].id, sizeof ws->open[i].id, "%s", fi->shared_id);
	}
	ws->open[i].json = copy;
	ws->open[i].len = fi->alert_len;
	return 0;
}

/* Make the event into the sink's payload (ws->payload). 0, 1 when the
 * event is not an insight event (dropped, logged), TS_ENOMEM. */
static int make_payload(webhook_sink *ws, const char *json, size_t len, int64_t now)
{
	char err[256];
	ts_fmt_info fi;
	ts_buf_reset(&ws->payload);
	int rc = ts_fmt_payload(ws->fmt, ws->routing_key, json, len, &ws->payload, &fi, err,
				sizeof err);
	if (rc == TS_ENOMEM)
		return rc;
	if (rc) {
		ts_sink_drop(&ws->base, 1, "not an insight event (%s): %s", ts_strerror(rc), err);
		return 1;
	}
	if (ws->fmt == TS_PAYLOAD_ALERTMANAGER && track_alert(ws, &fi, now))
		return TS_ENOMEM;
	return 0;
}

/* alertmanager: re-post the firing alerts once o.alert_repost_ms has
 * passed since the last time, after what is held (so a Start is not
 * re-posted ahead of its spooled End), in requests of ALERTS_PER_POST. */
static void repost(webhook_sink *ws, int64_t now)
{
	if (ws->fmt != TS_PAYLOAD_ALERTMANAGER || !ws->nopen || now < ws->repost_at ||
	    ws->nspool || ws->mq.head || !ts_backoff_ready(&ws->bo, now))
		return;
	ws->repost_at = now + ws->base.o.alert_repost_ms;
	for (size_t i = 0; i < ws->nopen; i += ALERTS_PER_POST) {
		ts_buf_reset(&ws->repost);
		int rc = ts_buf_puts(&ws->repost, "[");
		for (size_t j = i; !rc && j < ws->nopen && j < i + ALERTS_PER_POST; j++) {
			if (j > i)
				rc = ts_buf_puts(&ws->repost, ",");
			if (!rc)
				rc = ts_buf_add(&ws->repost, ws->open[j].json, ws->open[j].len);
		}
		if (!rc)
			rc = ts_buf_puts(&ws->repost, "]");
		if (rc) {
			ts_warn("sink %s: cannot re-post firing alerts: out of memory", ws->base.name);
			return;
		}
		int pr = post(ws, ws->repost.p, ws->repost.len);
		if (pr == POST_RETRY) {
			retry_later(ws, now);
			return;
		}
		if (pr == POST_REJECT) {
			ts_sink_fail(&ws->base, "re-post of firing alerts: %s", ws->err);
			return;
		}
		ts_backoff_ok(&ws->bo);
		ts_sink_ok(&ws->base);
	}
}

static int webhook_emit(ts_sink *s, const char *json, size_t len, int64_t now)
{
	webhook_sink *ws = (webhook_sink *)s;
	s->st.events++;
	if (ws->fmt != TS_PAYLOAD_RAW) {
		int mr = make_payload(ws, json, len, now);
		if (mr)
			return mr == 1 ? 0 : mr;
		json = ws->payload.p;
		len = ws->payload.len;
	}
	if (!ws->nspool && !ws->mq.head && ts_backoff_ready(&ws->bo, now)) {
		int pr = post(ws, json, len);
		if (pr == POST_OK) {
			delivered(ws);
			return 0;
		}
		if (pr == POST_REJECT) {
			s->st.failed++;
			reject(ws, json, len);
			return 0;
		}
		retry_later(ws, now);
	}
	if (ws->nspool + ws->mq.n >= s->o.spool_max_events) {
		ts_sink_drop_once(s, 1, "spool %s holds %zu events, its cap", ws->dir,
				 s->o.spool_max_events);
		return 0;
	}
	/* behind the memory queue, or while the disk backs off: memory */
	if (ws->mq.head || !ts_backoff_ready(&ws->disk_bo, now) ||
	    spool_append(ws, json, len, now)) {
		if (ws->mq.n >= s->o.queue_max_events) {
			ts_sink_drop_once(s, 1, "%zu events wait in memory for spool '%s', its cap (%s)",
					 ws->mq.n, ws->dir, ws->derr);
			return 0;
		}
		if (ts_sink_queue_push(&ws->mq, json, len)) {
			ts_sink_drop(s, 1, "out of memory");
			return TS_ENOMEM;
		}
	}
	s->st.spooled++;
	s->st.pending++;
	if (ts_backoff_ready(&ws->bo, now))
		drain(ws, now, s->o.retry_batch);
	return 0;
}

static void webhook_tick(ts_sink *s, int64_t now)
{
	webhook_sink *ws = (webhook_sink *)s;
	if ((ws->nspool || ws->mq.head) && ts_backoff_ready(&ws->bo, now))
		drain(ws, now, s->o.retry_batch);
	spill(ws, now);
	repost(ws, now);
}

static void webhook_finish(ts_sink *s, int64_t now)
{
	webhook_sink *ws = (webhook_sink *)s;
	webhook_tick(s, now);
	if (ws->mq.head) {
		ts_backoff_ok(&ws->disk_bo); /* one last try */
		spill(ws, now);
	}
	if (ws->mq.head) {
		uint64_t n = ws->mq.n;
		ts_sink_queue_clear(&ws->mq);
		s->st.pending -= n;
		ts_sink_drop(s, n, "still in memory at the end of the run (%s)", ws->derr);
	}
	if (ws->nspool)
		ts_warn("sink %s: %" PRIu64 " event%s left in spool %s, to be resent at the next "
			"start",
			s->name, ws->nspool, ws->nspool == 1 ? "" : "s", ws->dir);
}

static void webhook_free(webhook_sink *ws)
{
	if (ws->h)
		curl_easy_cleanup(ws->h);
	curl_slist_free_all(ws->hdrs);
	if (ws->lockfd >= 0)
		close(ws->lockfd); /* releases the lock */
	if (ws->dirfd >= 0)
		close(ws->dirfd);
	ts_buf_free(&ws->rd);
	ts_sink_queue_clear(&ws->mq);
	for (size_t i = 0; i < ws->nopen; i++)
		free(ws->open[i].json);
	free(ws->open);
	ts_buf_free(&ws->payload);
	ts_buf_free(&ws->repost);
	free(ws->routing_key);
	free(ws->dir);
	free(ws->url);
	free(ws);
	curl_global_cleanup();
}

static void webhook_close(ts_sink *s, int64_t now)
{
	(void)now;
	webhook_free((webhook_sink *)s);
}

/* one table per format, for ts_sink_kind(); indexed by ts_sink_format */
static const ts_sink_ops webhook_ops[] = {
	{"webhook", webhook_emit, webhook_tick, webhook_finish, webhook_close},
	{"alertmanager", webhook_emit, webhook_tick, webhook_finish, webhook_close},
	{"pagerduty", webhook_emit, webhook_tick, webhook_finish, webhook_close},
	{"slack", webhook_emit, webhook_tick, webhook_finish, webhook_close},
	{"eventbridge", webhook_emit, webhook_tick, webhook_finish, webhook_close},
};

/* "scheme://host[:port]" of url, userinfo left out, plus "/…" when a path
 * or query follows (it may hold a token). */
static void display_url(const char *url, char *out, size_t n)
{
	const char *auth = strstr(url, "://");
	auth = auth ? auth + 3 : url;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	const char *host = at ? at + 1 : auth;
	size_t hlen = (size_t)(auth + alen - host);
	snprintf(out, n, "%.*s%.*s%s", (int)(auth - url), url, (int)hlen, host,
		 auth[alen] ? "/…" : "");
}

/* Open the spool: make it, lock it, find the files already there. 0 or
 * TS_EIO / TS_ENOMEM with errbuf set. */
static int spool_open(webhook_sink *ws, char *errbuf, size_t errlen)
{
	if (ts_sink_mkdirs(ws->dir, 1)) {
		snprintf(errbuf, errlen, "sink %s: cannot make spool folder '%s': %s", ws->base.name,
			 ws->dir, strerror(errno));
		return TS_EIO;
	}
	ws->dirfd = open(ws->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ws->dirfd >= 0)
		ws->lockfd = openat(ws->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ws->dirfd < 0 || ws->lockfd < 0) {
		snprintf(errbuf, errlen, "sink %s: cannot open spool folder '%s': %s",
			 ws->base.name, ws->dir, strerror(errno));
		return TS_EIO;
	}
	if (flock(ws->lockfd, LOCK_EX | LOCK_NB)) {
		snprintf(errbuf, errlen, "sink %s: spool folder '%s' is in use by another sink (%s)",
			 ws->base.name, ws->dir, strerror(errno));
		return TS_EIO;
	}
	int fd = dup(ws->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		snprintf(errbuf, errlen, "sink %s: cannot list spool folder '%s': %s",
			 ws->base.name, ws->dir, strerror(errno));
		return TS_EIO;
	}
	uint64_t lo = UINT64_MAX, hi = 0, n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *nm = e->d_name;
		if (strncmp(nm, ".tmp-", 5) == 0) {
			unlinkat(ws->dirfd, nm, 0); /* a write cut short */
			continue;
		}
		size_t k = strspn(nm, "0123456789");
		if (k != 20 || strcmp(nm + 20, ".json") != 0)
			continue;
		uint64_t seq = 0;
		for (size_t i = 0; i < 20; i++)
			seq = seq * 10 + (uint64_t)(nm[i] - '0');
		if (seq == UINT64_MAX)
			continue;
		lo = seq < lo ? seq : lo;
		hi = seq > hi ? seq : hi;
		n++;
	}
	closedir(d);
	ws->nspool = n;
	ws->head = n ? lo : 1;
	ws->next = n ? hi + 1 : 1;
	ws->base.st.pending = n;
	if (n)
		ts_info("sink %s: %" PRIu64 " event%s in spool %s from an earlier run, resending",
			ws->base.name, n, n == 1 ? "" : "s", ws->dir);
	return 0;
}

#define PAGERDUTY_URL "https://events.pagerduty.com/v2/enqueue"
#define PAGERDUTY_KEY_ENV "TRAILSIGHT_PAGERDUTY_KEY"
#define ALERTMANAGER_PATH "/api/v2/alerts"

/* The URL (and PagerDuty routing key) a spec names, into ws->url and
 * ws->routing_key. 0, TS_EINVAL (errbuf set) or TS_ENOMEM. */
static int parse_target(webhook_sink *ws, const char *kind, const char *spec, char *errbuf,
			size_t errlen)
{
	ts_buf u = {0};
	int rc = 0;
	const char *url = spec;
	if (ws->fmt == TS_PAYLOAD_PAGERDUTY) {
		const char *key = NULL;
		size_t klen = 0;
		if (strncmp(spec, "http://", 7) == 0 || strncmp(spec, "https://", 8) == 0) {
			key = getenv(PAGERDUTY_KEY_ENV);
			klen = key ? strlen(key) : 0;
		} else {
			const char *at = strchr(spec, '@');
			key = spec;
			klen = at ? (size_t)(at - spec) : strlen(spec);
			url = at ? at + 1 : PAGERDUTY_URL;
		}
		if (!klen || klen > 256) {
			snprintf(errbuf, errlen,
				 "sink 'pagerduty:…': no routing key: give pagerduty:KEY[@URL], or "
				 "pagerduty:URL with %s set",
				 PAGERDUTY_KEY_ENV);
			return TS_EINVAL;
		}
		for (size_t i = 0; i < klen; i++)
			if ((unsigned char)key[i] <= ' ' || key[i] == 0x7f || key[i] == '"' ||
			    key[i] == '\\') {
				snprintf(errbuf, errlen, "sink 'pagerduty:…': blank, quote or control "
							 "character in the routing key");
				return TS_EINVAL;
			}
		if (!(ws->routing_key = malloc(klen + 1)))
			return TS_ENOMEM;
		memcpy(ws->routing_key, key, klen);
		ws->routing_key[klen] = '\0';
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(errbuf, errlen, "sink '%s:…': the URL must start with http:// or https://",
			 kind);
		return TS_EINVAL;
	}
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(errbuf, errlen, "sink '%s:…': blank or control character in the URL",
				 kind);
			return TS_EINVAL;
		}
	size_t n = strlen(url);
	if (ws->fmt == TS_PAYLOAD_ALERTMANAGER) {
		size_t pl = strlen(ALERTMANAGER_PATH);
		while (n > 0 && url[n - 1] == '/')
			n--;
		if (n < pl || memcmp(url + n - pl, ALERTMANAGER_PATH, pl) != 0)
			rc = ts_buf_printf(&u, "%.*s%s", (int)n, url, ALERTMANAGER_PATH);
		else
			rc = ts_buf_add(&u, url, n);
	} else {
		rc = ts_buf_add(&u, url, n);
	}
	if (rc) {
		ts_buf_free(&u);
		return TS_ENOMEM;
	}
	ws->url = u.p;
	return 0;
}

/* The spool folder: SPOOL/webhook-<hash of the URL> for raw events (as
 * before formats came), SPOOL/<kind>-<hash of kind, URL and key> for the
 * others, so two formats to one URL never share a spool. */
static int spool_path(webhook_sink *ws, const char *kind, const char *spool_base)
{
	ts_buf id = {0}, dir = {0};
	int rc = ws->fmt == TS_PAYLOAD_RAW
			 ? ts_buf_puts(&id, ws->url)
			 : ts_buf_printf(&id, "%s:%s\n%s", kind, ws->url,
					 ws->routing_key ? ws->routing_key : "");
	uint8_t sha[20];
	if (!rc)
		ts_sha1(id.p, id.len, sha);
	if (!rc)
		rc = ts_buf_printf(&dir, "%s/%s-", spool_base, kind);
	for (int i = 0; i < 8 && !rc; i++)
		rc = ts_buf_printf(&dir, "%02x", sha[i]);
	ts_buf_free(&id);
	if (rc) {
		ts_buf_free(&dir);
		return TS_ENOMEM;
	}
	ws->dir = dir.p;
	return 0;
}

int ts_sink_webhook_new(ts_sink_format fmt, const char *spec, const ts_sink_opts *o,
			const char *spool_base, ts_sink **out, char *errbuf, size_t errlen)
{
	int rc = TS_ENOMEM;
	if ((unsigned)fmt >= TS_ARRAY_LEN(webhook_ops))
		return TS_EINVAL;
	const char *kind = webhook_ops[fmt].kind;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(errbuf, errlen, "sink '%s:…': libcurl did not start", kind);
		return TS_ENOMEM;
	}
	webhook_sink *ws = calloc(1, sizeof *ws);
	if (!ws) {
		curl_global_cleanup();
		goto out_nomem;
	}
	ws->dirfd = ws->lockfd = -1;
	ws->fmt = fmt;
	ws->base.ops = &webhook_ops[fmt];
	ws->base.o = *o;
	snprintf(ws->base.name, sizeof ws->base.name, "%s:…", kind);
	ts_sink_backoff_init(&ws->bo, o);
	ts_sink_backoff_init(&ws->disk_bo, o);
	if ((rc = parse_target(ws, kind, spec, errbuf, errlen))) {
		if (rc == TS_EINVAL)
			goto out_free_msg;
		goto out_free;
	}
	char shown[160];
	display_url(ws->url, shown, sizeof shown);
	snprintf(ws->base.name, sizeof ws->base.name, "%s:%s", kind, shown);
	rc = TS_ENOMEM;
	if (spool_path(ws, kind, spool_base))
		goto out_free;
	if ((rc = spool_open(ws, errbuf, errlen)))
		goto out_free_msg;
	rc = TS_ENOMEM;
	ws->h = curl_easy_init();
	struct curl_slist *h1 = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *h2 = h1 ? curl_slist_append(h1, "Expect:") : NULL;
	ws->hdrs = h2 ? h2 : h1;
	if (!ws->h || !h2)
		goto out_free;
	curl_easy_setopt(ws->h, CURLOPT_URL, ws->url);
	curl_easy_setopt(ws->h, CURLOPT_HTTPHEADER, ws->hdrs);
	curl_easy_setopt(ws->h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->http_connect_timeout_ms);
	curl_easy_setopt(ws->h, CURLOPT_TIMEOUT_MS, (long)o->http_timeout_ms);
	curl_easy_setopt(ws->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(ws->h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(ws->h, CURLOPT_ERRORBUFFER, ws->cerr);
	curl_easy_setopt(ws->h, CURLOPT_USERAGENT, "trailsight");
	*out = &ws->base;
	return 0;
out_free:
	snprintf(errbuf, errlen, "sink %s: out of memory", ws->base.name);
out_free_msg:
	webhook_free(ws);
	return rc;
out_nomem:
	snprintf(errbuf, errlen, "sink '%s:…': out of memory", kind);
	return rc;
}
