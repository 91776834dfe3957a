/* redis_server.h - a private redis-server for one test.
 *
 * tr_start() makes a temporary directory, picks a free loopback port from a
 * random base in 20000-40000 and runs `redis-server --port P --bind
 * 127.0.0.1 --save "" --appendonly yes --dir DIR --daemonize no` as a child,
 * returning once PING answers. tr_kill()/tr_restart() stop it and start it
 * again on the same port and directory (the AOF keeps what was written);
 * tr_stop() ends it with SIGTERM, reaps it and removes the directory.
 * Functions return 0 or -1 with a message on stderr.
 */
#ifndef TS_TEST_REDIS_SERVER_H
#define TS_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct test_redis {
	pid_t pid; /* 0 when not running */
	int port;
	char dir[64];
} test_redis;

static inline void tr_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* 1 if redis-server is on PATH. */
static inline int tr_installed(void)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *e = strchr(path, ':');
		size_t n = e ? (size_t)(e - path) : strlen(path);
		char f[512];
		snprintf(f, sizeof f, "%.*s/redis-server", (int)n, path);
		if (access(f, X_OK) == 0)
			return 1;
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}

/* 1 if nothing listens on 127.0.0.1:port (we can bind it). */
static inline int tr_port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return ok;
}

static inline redisContext *tr_connect(const test_redis *r)
{
	struct timeval tv = {1, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

/* The server child pid was forked for r: wait for its PING, up to 10 s,
 * unless it exited. 0 (r->pid set), or -1 (killed if still running). */
static inline int tr_await(test_redis *r, pid_t pid)
{
	r->pid = pid;
	for (int i = 0; i < 500; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			r->pid = 0;
			return -1;
		}
		redisContext *c = tr_connect(r);
		if (c) {
			redisReply *rep = redisCommand(c, "PING");
			int ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
			if (rep)
				freeReplyObject(rep);
			redisFree(c);
			if (ok)
				return 0;
		}
		tr_sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	r->pid = 0;
	return -1;
}

static inline int tr_spawn(test_redis *r)
{
	char port[16], log[128];
	snprintf(port, sizeof port, "%d", r->port);
	snprintf(log, sizeof log, "%s/redis.log", r->dir);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save",
		       "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r->dir,
		       "--daemonize", "no", "--logfile", log, "--enable-debug-command", "local",
		       (char *)NULL);
		_exit(127);
	}
	return tr_await(r, pid);
}

static inline int tr_start(test_redis *r)
{
	memset(r, 0, sizeof *r);
	if (!tr_installed()) {
		fprintf(stderr, "redis-server is not installed (tools/install-deps.sh installs it)\n");
		return -1;
	}
	snprintf(r->dir, sizeof r->dir, "/tmp/ts-redis-XXXXXX");
	if (!mkdtemp(r->dir)) {
		perror("mkdtemp");
		return -1;
	}
	struct timeval now;
	gettimeofday(&now, NULL);
	unsigned base = (unsigned)(now.tv_usec ^ (getpid() * 7919)) % 20000u;
	for (unsigned i = 0; i < 200; i++) {
		r->port = 20000 + (int)((base + i * 7) % 20000u);
		if (!tr_port_free(r->port))
			continue;
		if (tr_spawn(r) == 0)
			return 0;
	}
	fprintf(stderr, "could not start redis-server (log in %s)\n", r->dir);
	return -1;
}

/* Kill the server (SIGKILL: no shutdown save) and reap it. */
static inline void tr_kill(test_redis *r, int sig)
{
	if (!r->pid)
		return;
	kill(r->pid, sig);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}

/* Start it again on the same port and directory. */
static inline int tr_restart(test_redis *r)
{
	for (int i = 0; i < 50; i++) {
		if (tr_spawn(r) == 0)
			return 0;
		tr_sleep_ms(100);
	}
	fprintf(stderr, "could not restart redis-server on port %d\n", r->port);
	return -1;
}

/* Remove a directory tree (the server's dir holds files and one level of
 * appendonlydir/). */
static inline void tr_rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char sub[1024];
			snprintf(sub, sizeof sub, "%.700s/%.255s", path, e->d_name);
			tr_rm_tree(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static inline void tr_stop(test_redis *r)
{
	tr_kill(r, SIGTERM);
	if (r->dir[0])
		tr_rm_tree(r->dir);
	r->dir[0] = '\0';
}

#endif
