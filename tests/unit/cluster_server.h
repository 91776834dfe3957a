/* cluster_server.h - a private Redis Cluster for one test, of real
 * redis-server processes on loopback ports.
 *
 * tc_start(tc, masters, replicas) starts masters * (1 + replicas) nodes
 * (`redis-server --cluster-enabled yes`, each with its own directory and
 * cluster-config-file under /tmp, on free ports P whose bus port P+10000
 * is free too), joins them with `redis-cli --cluster create ...
 * --cluster-replicas R --cluster-yes` and returns once every node reports
 * cluster_state:ok with all 16384 slots and every replica's link is up.
 * It fails (never skips) when redis-server or redis-cli lacks cluster
 * support. tc_stop() ends every node and removes the directories.
 * The other helpers speak to one node at a time over plain hiredis, as an
 * operator would: CLUSTER SETSLOT, MIGRATE, CLUSTER FAILOVER.
 * Functions return 0 or -1 with a message on stderr.
 */
#ifndef TS_TEST_CLUSTER_SERVER_H
#define TS_TEST_CLUSTER_SERVER_H

#include <stdarg.h>

#include "redis_server.h"

#define TC_MAX 9

typedef struct test_cluster {
	int n; /* nodes */
	test_redis node[TC_MAX];
} test_cluster;

/* Run argv (NULL-terminated) with output into log; its exit status, or -1. */
static inline int tc_exec(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (nul >= 0)
			dup2(nul, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void tc_show_log(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	fprintf(stderr, "--- %s\n", path);
	while (f && fgets(line, sizeof line, f))
		fputs(line, stderr);
	if (f)
		fclose(f);
}

/* A command on node i over a fresh connection; the reply (caller frees)
 * or NULL. */
static inline redisReply *tc_cmd(const test_cluster *tc, int i, const char *fmt, ...)
{
	redisContext *c = tr_connect(&tc->node[i]);
	if (!c)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	return r;
}

/* 1 if node i answers fmt with a status or string reply containing want. */
static inline int tc_says(const test_cluster *tc, int i, const char *want, const char *fmt, ...)
{
	redisContext *c = tr_connect(&tc->node[i]);
	if (!c)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	int ok = r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
		 strstr(r->str, want) != NULL;
	if (r)
		freeReplyObject(r);
	return ok;
}

static inline int tc_spawn(test_redis *r)
{
	char port[16], log[128], conf[128];
	snprintf(port, sizeof port, "%d", r->port);
	snprintf(log, sizeof log, "%s/redis.log", r->dir);
	snprintf(conf, sizeof conf, "%s/nodes.conf", r->dir);
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
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", r->dir, "--daemonize", "no",
		       "--logfile", log, "--cluster-enabled", "yes", "--cluster-config-file", conf,
		       "--cluster-node-timeout", "2000", "--cluster-replica-validity-factor", "0",
		       (char *)NULL);
		_exit(127);
	}
	return tr_await(r, pid);
}

static inline void tc_stop(test_cluster *tc)
{
	for (int i = 0; i < tc->n; i++)
		tr_stop(&tc->node[i]);
	tc->n = 0;
}

/* 1 when every live node says cluster_state:ok with every slot assigned
 * and ok, and every live replica's link to its master is up. */
static inline int tc_settled(const test_cluster *tc)
{
	for (int i = 0; i < tc->n; i++) {
		if (!tc->node[i].pid)
			continue;
		redisReply *r = tc_cmd(tc, i, "CLUSTER INFO");
		int ok = r && r->type != REDIS_REPLY_ERROR && r->str &&
			 strstr(r->str, "cluster_state:ok") &&
			 strstr(r->str, "cluster_slots_ok:16384");
		if (r)
			freeReplyObject(r);
		if (!ok)
			return 0;
		if (tc_says(tc, i, "role:slave", "INFO replication") &&
		    !tc_says(tc, i, "master_link_status:up", "INFO replication"))
			return 0;
	}
	return 1;
}

/* Wait up to ms for tc_settled. 0 or -1. */
static inline int tc_wait_settled(const test_cluster *tc, int ms)
{
	for (int t = 0; t < ms; t += 100) {
		if (tc_settled(tc))
			return 0;
		tr_sleep_ms(100);
	}
	fprintf(stderr, "the cluster did not settle in %d ms\n", ms);
	return -1;
}

static inline int tc_start(test_cluster *tc, int masters, int replicas)
{
	memset(tc, 0, sizeof *tc);
	int n = masters * (1 + replicas);
	if (n > TC_MAX || masters < 3) {
		fprintf(stderr, "tc_start: 3 to %d nodes\n", TC_MAX);
		return -1;
	}
	if (!tr_installed()) {
		fprintf(stderr, "redis-server is not installed (tools/install-deps.sh installs it)\n");
		return -1;
	}
	struct timeval now;
	gettimeofday(&now, NULL);
	unsigned base = (unsigned)(now.tv_usec ^ (getpid() * 7919)) % 10000u;
	unsigned probe = 0;
	for (int i = 0; i < n; i++) {
		test_redis *r = &tc->node[i];
		snprintf(r->dir, sizeof r->dir, "/tmp/ts-cluster-XXXXXX");
		if (!mkdtemp(r->dir)) {
			perror("mkdtemp");
			r->dir[0] = '\0';
			goto fail;
		}
		tc->n = i + 1;
		int up = 0;
		for (; probe < 400 && !up; probe++) {
			r->port = 20000 + (int)((base + probe * 13) % 10000u);
			if (tr_port_free(r->port) && tr_port_free(r->port + 10000))
				up = tc_spawn(r) == 0;
		}
		if (!up) {
			fprintf(stderr, "could not start a cluster node (log in %s)\n", r->dir);
			goto fail;
		}
	}
	char *argv[TC_MAX + 8], addr[TC_MAX][32], reps[8], log[128];
	int a = 0;
	argv[a++] = "redis-cli";
	argv[a++] = "--cluster";
	argv[a++] = "create";
	for (int i = 0; i < n; i++) {
		snprintf(addr[i], sizeof addr[i], "127.0.0.1:%d", tc->node[i].port);
		argv[a++] = addr[i];
	}
	snprintf(reps, sizeof reps, "%d", replicas);
	argv[a++] = "--cluster-replicas";
	argv[a++] = reps;
	argv[a++] = "--cluster-yes";
	argv[a] = NULL;
	snprintf(log, sizeof log, "%s/create.log", tc->node[0].dir);
	int st = tc_exec(argv, log);
	if (st != 0) {
		fprintf(stderr, "redis-cli --cluster create failed (status %d)\n", st);
		tc_show_log(log);
		goto fail;
	}
	if (tc_wait_settled(tc, 30000))
		goto fail;
	return 0;
fail:
	tc_stop(tc);
	return -1;
}

/* The node index of port, or -1. */
static inline int tc_index(const test_cluster *tc, int port)
{
	for (int i = 0; i < tc->n; i++)
		if (tc->node[i].port == port)
			return i;
	return -1;
}

/* Node i's cluster id into id[41]. 0 or -1. */
static inline int tc_id(const test_cluster *tc, int i, char *id)
{
	redisReply *r = tc_cmd(tc, i, "CLUSTER MYID");
	int ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
	if (ok)
		memcpy(id, r->str, 41);
	if (r)
		freeReplyObject(r);
	return ok ? 0 : -1;
}

/* 1 if node i is a master (ROLE). */
static inline int tc_is_master(const test_cluster *tc, int i)
{
	redisReply *r = tc_cmd(tc, i, "ROLE");
	int m = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
	if (r)
		freeReplyObject(r);
	return m;
}

/* The index of the master of replica i (ROLE), or -1. */
static inline int tc_master_of(const test_cluster *tc, int i)
{
	redisReply *r = tc_cmd(tc, i, "ROLE");
	int m = -1;
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 3 &&
	    r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "slave") == 0 &&
	    r->element[2]->type == REDIS_REPLY_INTEGER)
		m = tc_index(tc, (int)r->element[2]->integer);
	if (r)
		freeReplyObject(r);
	return m;
}

/* The index of the master serving slot, as node `ask` sees it (CLUSTER
 * SLOTS), or -1. */
static inline int tc_owner(const test_cluster *tc, int ask, int slot)
{
	redisReply *r = tc_cmd(tc, ask, "CLUSTER SLOTS");
	int owner = -1;
	for (size_t e = 0; r && r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
		redisReply *en = r->element[e];
		if (en->elements >= 3 && en->element[0]->integer <= slot &&
		    slot <= en->element[1]->integer)
			owner = tc_index(tc, (int)en->element[2]->element[1]->integer);
	}
	if (r)
		freeReplyObject(r);
	return owner;
}

/* The slot of key by the server's own CLUSTER KEYSLOT, or -1. */
static inline int tc_keyslot(const test_cluster *tc, int i, const char *key)
{
	redisReply *r = tc_cmd(tc, i, "CLUSTER KEYSLOT %s", key);
	int s = r && r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -1;
	if (r)
		freeReplyObject(r);
	return s;
}

/* 1 if node i answers fmt with the status OK. */
static inline int tc_ok(const test_cluster *tc, int i, const char *fmt, ...)
{
	redisContext *c = tr_connect(&tc->node[i]);
	if (!c)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	redisFree(c);
	int ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
	if (r && !ok)
		fprintf(stderr, "node %d: %s\n", i, r->str ? r->str : "(not a status)");
	if (r)
		freeReplyObject(r);
	return ok;
}
#define TC_OK tc_ok

/* Start moving slot from node src to node dst (IMPORTING on dst, then
 * MIGRATING on src). 0 or -1. */
static inline int tc_migrate_begin(const test_cluster *tc, int slot, int src, int dst)
{
	char sid[41], did[41];
	if (tc_id(tc, src, sid) || tc_id(tc, dst, did))
		return -1;
	if (!TC_OK(tc, dst, "CLUSTER SETSLOT %d IMPORTING %s", slot, sid) ||
	    !TC_OK(tc, src, "CLUSTER SETSLOT %d MIGRATING %s", slot, did)) {
		fprintf(stderr, "CLUSTER SETSLOT %d IMPORTING/MIGRATING failed\n", slot);
		return -1;
	}
	return 0;
}

/* MIGRATE key from node src to node dst. 0 or -1. */
static inline int tc_migrate_key(const test_cluster *tc, int src, int dst, const char *key)
{
	if (!TC_OK(tc, src, "MIGRATE 127.0.0.1 %d %s 0 5000", tc->node[dst].port, key)) {
		fprintf(stderr, "MIGRATE %s failed\n", key);
		return -1;
	}
	return 0;
}

/* Finish the move: the keys of slot still on src migrated, then CLUSTER
 * SETSLOT slot NODE dst on dst, src and every other master. 0 or -1. */
static inline int tc_migrate_end(const test_cluster *tc, int slot, int src, int dst)
{
	char did[41];
	if (tc_id(tc, dst, did))
		return -1;
	for (;;) {
		redisReply *r = tc_cmd(tc, src, "CLUSTER GETKEYSINSLOT %d 100", slot);
		if (!r || r->type != REDIS_REPLY_ARRAY) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		size_t k = r->elements;
		for (size_t j = 0; j < k; j++)
			if (tc_migrate_key(tc, src, dst, r->element[j]->str)) {
				freeReplyObject(r);
				return -1;
			}
		freeReplyObject(r);
		if (!k)
			break;
	}
	int order[TC_MAX], m = 0;
	order[m++] = dst;
	order[m++] = src;
	for (int i = 0; i < tc->n; i++)
		if (i != dst && i != src && tc->node[i].pid && tc_is_master(tc, i))
			order[m++] = i;
	for (int j = 0; j < m; j++)
		if (!TC_OK(tc, order[j], "CLUSTER SETSLOT %d NODE %s", slot, did)) {
			fprintf(stderr, "CLUSTER SETSLOT %d NODE failed on node %d\n", slot, order[j]);
			return -1;
		}
	return 0;
}

#endif
