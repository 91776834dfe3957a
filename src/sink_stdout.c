/* sink_stdout.c - the "-" sink: one line of NDJSON per event on stdout
 * (or opts.stdout_fp), flushed per event. It holds nothing: a broken
 * stdout does not come back, so a failed write is a drop (logged once per
 * run of failures). The FILE is borrowed, never closed.
 */
#include <errno.h>
#include <stdlib.h>

#include "sink_kit.h"
#include "util.h"

typedef struct stdout_sink {
	ts_sink base;
	FILE *fp;
} stdout_sink;

static int stdout_emit(ts_sink *s, const char *json, size_t len, int64_t now)
{
	(void)now;
	stdout_sink *ss = (stdout_sink *)s;
	s->st.events++;
	errno = 0;
	if ((len && fwrite(json, 1, len, ss->fp) != len) || fputc('\n', ss->fp) == EOF ||
	    fflush(ss->fp) != 0) {
		int e = errno;
		clearerr(ss->fp);
		s->st.failed++;
		/* a broken stdout does not come back: nothing to hold it for */
		ts_sink_drop_once(s, 1, "cannot write: %s", e ? strerror(e) : "write error");
		return 0;
	}
	s->st.delivered++;
	ts_sink_ok(s);
	return 0;
}

static void stdout_tick(ts_sink *s, int64_t now)
{
	(void)s;
	(void)now;
}

static void stdout_finish(ts_sink *s, int64_t now)
{
	(void)now;
	fflush(((stdout_sink *)s)->fp);
}

static void stdout_close(ts_sink *s, int64_t now)
{
	(void)now;
	free(s);
}

static const ts_sink_ops stdout_ops = {"stdout", stdout_emit, stdout_tick, stdout_finish,
				       stdout_close};

int ts_sink_stdout_new(const ts_sink_opts *o, ts_sink **out, char *errbuf, size_t errlen)
{
	stdout_sink *ss = calloc(1, sizeof *ss);
	if (!ss) {
		snprintf(errbuf, errlen, "sink -: out of memory");
		return TS_ENOMEM;
	}
	ss->base.ops = &stdout_ops;
	ss->base.o = *o;
	snprintf(ss->base.name, sizeof ss->base.name, "-");
	ss->fp = o->stdout_fp ? o->stdout_fp : stdout;
	*out = &ss->base;
	return 0;
}
