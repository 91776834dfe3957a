/* fuzz_spec.c - the Redis URL parser behind --store, --redis-stream and
 * redis-stream: sinks (ts_redis_parse), and ts_store_open for specs that
 * are neither redis:// nor redis-cluster:// (those would connect). The input is the spec, cut
 * at its first NUL as a command-line argument would be. On success the
 * host, user and password must be NUL-terminated within their fields, the
 * host non-empty and free of separators, the port 1..65535 and the db
 * 0..1000000 (a cluster: 1 to 16 such hosts); on failure the reason must
 * be a non-empty string and the parsed spec cleared. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "redis_cluster.h"
#include "redis_conn.h"
#include "series.h"
#include "store.h"

static void check_ok(const ts_redis_spec *sp)
{
	if (!memchr(sp->host, '\0', sizeof sp->host) || !memchr(sp->user, '\0', sizeof sp->user) ||
	    !memchr(sp->pass, '\0', sizeof sp->pass))
		abort();
	if (!sp->host[0] || strpbrk(sp->host, "@/ \t\r\n"))
		abort();
	if (sp->port < 1 || sp->port > 65535 || sp->db < 0 || sp->db > 1000000)
		abort();
	if (sp->user[0] && !sp->pass[0])
		abort();
}

static void check_cluster(const char *spec)
{
	static ts_rcluster_spec cs, czero;
	const char *why = NULL;
	int rc = ts_rcluster_parse(spec, &cs, &why);
	if (rc == TS_EINVAL) {
		if (!why || !why[0] || memcmp(&cs, &czero, sizeof cs) != 0)
			abort();
		return;
	}
	if (rc != 0 || cs.nseeds < 1 || cs.nseeds > TS_RCLUSTER_MAX_SEEDS)
		abort();
	if (!memchr(cs.user, '\0', sizeof cs.user) || !memchr(cs.pass, '\0', sizeof cs.pass) ||
	    (cs.user[0] && !cs.pass[0]))
		abort();
	for (int i = 0; i < cs.nseeds; i++)
		if (!memchr(cs.seed[i].host, '\0', sizeof cs.seed[i].host) || !cs.seed[i].host[0] ||
		    strpbrk(cs.seed[i].host, "@/, \t\r\n") || cs.seed[i].port < 1 ||
		    cs.seed[i].port > 65535)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = malloc(size + 1);
	if (!spec)
		abort();
	memcpy(spec, data, size);
	spec[size] = '\0';
	ts_redis_spec sp, zero;
	memset(&zero, 0, sizeof zero);
	char err[256];
	memset(err, 'x', sizeof err);
	const char *why = NULL;
	int rc = ts_redis_parse(spec, &sp, &why);
	check_cluster(spec);
	if (rc == 0) {
		check_ok(&sp);
	} else if (rc == TS_EINVAL) {
		if (!why || !why[0] || memcmp(&sp, &zero, sizeof sp) != 0)
			abort();
	} else {
		abort();
	}
	if (strncmp(spec, "redis://", 8) != 0 && strncmp(spec, "redis-cluster://", 16) != 0) {
		ts_registry *reg = ts_registry_new(NULL);
		ts_store *st = NULL;
		if (!reg)
			abort();
		int orc = ts_store_open(spec, reg, NULL, &st, err, sizeof err);
		int is_mem = !*spec || strcmp(spec, "mem") == 0;
		if (is_mem ? orc != 0 || !st : orc != TS_EINVAL || st)
			abort();
		ts_store_free(st);
		ts_registry_free(reg);
	}
	free(spec);
	return 0;
}
