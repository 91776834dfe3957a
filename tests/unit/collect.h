/* collect.h - an insight sink for the engine's tests: the first
 * COLLECT_MAX events kept as JSON lines, every event counted. */
#ifndef TS_TEST_COLLECT_H
#define TS_TEST_COLLECT_H

#include <string.h>

#define COLLECT_MAX 16

typedef struct out {
	char lines[COLLECT_MAX][8192];
	int n;
} out_t;

static int collect(void *ctx, const char *json, size_t len)
{
	out_t *o = ctx;
	if (o->n < COLLECT_MAX && len < sizeof o->lines[0]) {
		memcpy(o->lines[o->n], json, len);
		o->lines[o->n][len] = '\0';
	}
	o->n++;
	return 0;
}

#endif
