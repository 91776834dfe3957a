/* http_receiver.h - a small HTTP server for one test, in a thread.
 *
 * hr_start() listens on 127.0.0.1 (port 0: an ephemeral one, kept in
 * r->port; else that port, for a restart) and serves one request per
 * connection: it reads the headers and a Content-Length body, answers
 * "Connection: close" with status 200, or fail_status for the first
 * fail_first requests, and keeps the bodies it answered 2xx in order.
 * hr_stop() stops listening (connections are then refused) and joins the
 * thread; what was received stays until hr_free(). Counters are read with
 * hr_bodies()/hr_requests(), under the mutex.
 */
#ifndef TS_TEST_HTTP_RECEIVER_H
#define TS_TEST_HTTP_RECEIVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct http_rx {
	int port;
	int lfd;
	int running;
	atomic_int stop;
	pthread_t th;
	pthread_mutex_t mu;
	/* under mu */
	int fail_first;  /* answer fail_status to this many requests first */
	int fail_status;
	int requests;    /* requests answered, any status */
	char **body;     /* bodies answered 2xx, NUL-terminated */
	size_t nbody, abody;
	char content_type[64]; /* of the last request */
	char path[128];        /* of the last request */
} http_rx;

/* Find header name (with the colon, lower case) in hdr[0..n); its value
 * trimmed into out. 1 if found. */
static inline int hr_header(const char *hdr, size_t n, const char *name, char *out, size_t outn)
{
	size_t k = strlen(name);
	for (size_t i = 0; i + k < n; i++) {
		if ((i == 0 || hdr[i - 1] == '\n') && strncasecmp(hdr + i, name, k) == 0) {
			size_t j = i + k;
			while (j < n && hdr[j] == ' ')
				j++;
			size_t e = j;
			while (e < n && hdr[e] != '\r' && hdr[e] != '\n')
				e++;
			snprintf(out, outn, "%.*s", (int)(e - j), hdr + j);
			return 1;
		}
	}
	return 0;
}

static inline void hr_serve(http_rx *r, int c)
{
	struct timeval tv = {2, 0};
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	size_t cap = 1 << 20, len = 0, hend = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return;
	/* headers */
	while (!hend) {
		if (len == cap)
			goto out;
		ssize_t n = read(c, buf + len, cap - len);
		if (n <= 0)
			goto out;
		len += (size_t)n;
		buf[len] = '\0';
		char *e = strstr(buf, "\r\n\r\n");
		if (e)
			hend = (size_t)(e - buf) + 4;
	}
	char v[128];
	size_t clen = 0;
	if (hr_header(buf, hend, "content-length:", v, sizeof v))
		clen = (size_t)strtoul(v, NULL, 10);
	if (clen > cap - hend)
		goto out;
	while (len < hend + clen) {
		ssize_t n = read(c, buf + len, cap - len);
		if (n <= 0)
			goto out;
		len += (size_t)n;
	}
	pthread_mutex_lock(&r->mu);
	r->requests++;
	int status = r->requests <= r->fail_first ? r->fail_status : 200;
	hr_header(buf, hend, "content-type:", r->content_type, sizeof r->content_type);
	const char *sp = memchr(buf, ' ', hend);
	if (sp) {
		const char *sp2 = memchr(sp + 1, ' ', hend - (size_t)(sp + 1 - buf));
		if (sp2)
			snprintf(r->path, sizeof r->path, "%.*s", (int)(sp2 - sp - 1), sp + 1);
	}
	if (status >= 200 && status < 300) {
		if (r->nbody == r->abody) {
			size_t na = r->abody ? r->abody * 2 : 16;
			char **p = realloc(r->body, na * sizeof *p);
			if (p) {
				r->body = p;
				r->abody = na;
			}
		}
		char *b = malloc(clen + 1);
		if (b && r->nbody < r->abody) {
			memcpy(b, buf + hend, clen);
			b[clen] = '\0';
			r->body[r->nbody++] = b;
		} else {
			free(b);
		}
	}
	pthread_mutex_unlock(&r->mu);
	char resp[160];
	int n = snprintf(resp, sizeof resp,
			 "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
			 status == 200 ? "OK" : "Test");
	if (write(c, resp, (size_t)n) < 0) {
		/* the client went away: nothing to do */
	}
out:
	free(buf);
}

static inline void *hr_loop(void *arg)
{
	http_rx *r = arg;
	while (!atomic_load(&r->stop)) {
		struct pollfd p = {r->lfd, POLLIN, 0};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(r->lfd, NULL, NULL);
		if (c < 0)
			continue;
		hr_serve(r, c);
		close(c);
	}
	return NULL;
}

/* First start: zero r and call with port 0. Restart: same r, its port.
 * 0 or -1. */
static inline int hr_start(http_rx *r, int port)
{
	if (port == 0) {
		memset(r, 0, sizeof *r);
		pthread_mutex_init(&r->mu, NULL);
	}
	r->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (r->lfd < 0)
		return -1;
	int one = 1;
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	if (bind(r->lfd, (struct sockaddr *)&a, sizeof a) || listen(r->lfd, 16) ||
	    getsockname(r->lfd, (struct sockaddr *)&a, &al)) {
		close(r->lfd);
		return -1;
	}
	r->port = ntohs(a.sin_port);
	atomic_store(&r->stop, 0);
	if (pthread_create(&r->th, NULL, hr_loop, r)) {
		close(r->lfd);
		return -1;
	}
	r->running = 1;
	return 0;
}

static inline void hr_stop(http_rx *r)
{
	if (!r->running)
		return;
	atomic_store(&r->stop, 1);
	pthread_join(r->th, NULL);
	close(r->lfd);
	r->running = 0;
}

static inline void hr_free(http_rx *r)
{
	hr_stop(r);
	for (size_t i = 0; i < r->nbody; i++)
		free(r->body[i]);
	free(r->body);
	r->body = NULL;
	r->nbody = r->abody = 0;
	pthread_mutex_destroy(&r->mu);
}

static inline size_t hr_bodies(http_rx *r)
{
	pthread_mutex_lock(&r->mu);
	size_t n = r->nbody;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static inline int hr_requests(http_rx *r)
{
	pthread_mutex_lock(&r->mu);
	int n = r->requests;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* Set the failure script (under the mutex). */
static inline void hr_script(http_rx *r, int fail_first, int fail_status)
{
	pthread_mutex_lock(&r->mu);
	r->fail_first = r->requests + fail_first;
	r->fail_status = fail_status;
	pthread_mutex_unlock(&r->mu);
}

#endif
