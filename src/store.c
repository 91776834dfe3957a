/* store.c - opens the store backend a spec names. */
#include <stdarg.h>
#include <stdlib.h>

#include "store.h"

int ts_store_open(const char *spec, ts_registry *reg, const ts_store_opts *opts,
		  ts_store **out, char *errbuf, size_t errlen)
{
	if (!spec || !*spec || strcmp(spec, "mem") == 0) {
		int rc = ts_store_mem_new(reg, opts, out);
		if (rc)
			snprintf(errbuf, errlen, "store 'mem': %s", ts_strerror(rc));
		return rc;
	}
	if (strncmp(spec, "redis://", 8) == 0 || strncmp(spec, "redis-cluster://", 16) == 0)
		return ts_store_redis_new(spec, reg, opts, out, errbuf, errlen);
	snprintf(errbuf, errlen,
		 "store '%s': expected 'mem', 'redis://host:port[/db]' or "
		 "'redis-cluster://host:port[,host:port...]'",
		 spec);
	return TS_EINVAL;
}

void ts_store_free(ts_store *s)
{
	if (s)
		s->ops->free(s);
}

void ts_store_errorf(ts_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errstr, sizeof s->errstr, fmt, ap);
	va_end(ap);
}
