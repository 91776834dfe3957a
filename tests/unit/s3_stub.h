/* s3_stub.h - a stand-in S3 server for one test, in a thread: it listens on
 * 127.0.0.1 (an ephemeral port), reads one request per connection (GET:
 * headers only; connections read side by side), keeps its head, and answers from a table of routes by
 * the start of the request target: the first fail_n requests of a route
 * get fail (a whole HTTP answer), the rest ok. "Connection: close" on
 * every answer. Requests past the table get a 404.
 */
#ifndef TS_TEST_S3_STUB_H
#define TS_TEST_S3_STUB_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct stub_route {
	const char *target; /* the start of the request target ("/b/k", "/b/?") */
	int fail_n;
	const char *fail;
	const char *ok;
	int hits;
} stub_route;

#define STUB_HEADS 64
typedef struct stub {
	int port, lfd;
	atomic_int stop;
	pthread_t th;
	pthread_mutex_t mu;
	stub_route *routes;
	size_t nroutes;
	char *heads[STUB_HEADS]; /* request heads in order of arrival */
	int nheads;
} stub;

/* Answer the request head in buf (NUL-ended) on connection c, close it. */
static inline void stub_answer(stub *s, int c, const char *buf)
{
	char target[2048] = "";
	sscanf(buf, "%*s %2047s", target);
	const char *ans = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	pthread_mutex_lock(&s->mu);
	if (s->nheads < STUB_HEADS)
		s->heads[s->nheads++] = strdup(buf);
	for (size_t i = 0; i < s->nroutes; i++) {
		stub_route *r = &s->routes[i];
		if (strncmp(target, r->target, strlen(r->target)) == 0) {
			ans = r->hits < r->fail_n ? r->fail : r->ok;
			r->hits++;
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	size_t len = strlen(ans), off = 0;
	while (off < len) {
		ssize_t k = write(c, ans + off, len - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	shutdown(c, SHUT_WR);
	close(c);
}

/* Connections are read side by side (a client may open one and send its
 * request only after another answer, or after a request elsewhere), each
 * answered once its head is whole, in the order heads complete. */
#define STUB_CONNS 32
typedef struct stub_conn {
	int fd;
	size_t n;
	char buf[16384];
} stub_conn;

static inline void *stub_loop(void *arg)
{
	stub *s = arg;
	stub_conn *conns = calloc(STUB_CONNS, sizeof *conns);
	size_t nc = 0;
	while (conns && !atomic_load(&s->stop)) {
		struct pollfd p[STUB_CONNS + 1];
		p[0] = (struct pollfd){.fd = s->lfd, .events = nc < STUB_CONNS ? POLLIN : 0};
		for (size_t i = 0; i < nc; i++)
			p[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
		if (poll(p, nc + 1, 50) <= 0)
			continue;
		size_t w = 0;
		for (size_t i = 0; i < nc; i++) {
			stub_conn *c = &conns[i];
			if (p[i + 1].revents) {
				ssize_t k = read(c->fd, c->buf + c->n, sizeof c->buf - 1 - c->n);
				if (k > 0)
					c->n += (size_t)k;
				c->buf[c->n] = 0;
				if (k <= 0 || strstr(c->buf, "\r\n\r\n") || c->n + 1 >= sizeof c->buf) {
					stub_answer(s, c->fd, c->buf);
					continue;
				}
			}
			if (w != i)
				conns[w] = *c;
			w++;
		}
		nc = w;
		if (p[0].revents & POLLIN) {
			int c = accept(s->lfd, NULL, NULL);
			if (c >= 0) {
				conns[nc].fd = c;
				conns[nc++].n = 0;
			}
		}
	}
	for (size_t i = 0; i < nc; i++)
		close(conns[i].fd);
	free(conns);
	return NULL;
}

static inline int stub_start(stub *s, stub_route *routes, size_t n)
{
	memset(s, 0, sizeof *s);
	s->routes = routes;
	s->nroutes = n;
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(s->lfd, 64) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->th, NULL, stub_loop, s) == 0 ? 0 : -1;
}

static inline void stub_stop(stub *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->th, NULL);
	close(s->lfd);
	for (int i = 0; i < s->nheads; i++)
		free(s->heads[i]);
	pthread_mutex_destroy(&s->mu);
}

#endif
