/* intern.h - a table of byte strings, each stored once and named by a dense
 * id (0, 1, 2, ...). Used for series keys and attribution values (ARNs,
 * user agents, error codes), so the hot path compares integers.
 */
#ifndef TS_INTERN_H
#define TS_INTERN_H

#include <stdint.h>

#include "util.h"

typedef struct ts_intern ts_intern;

/* A new empty table that holds at most max_strings strings and
 * max_bytes bytes of them (0: no limit beyond memory); NULL on ENOMEM. */
ts_intern *ts_intern_new(uint32_t max_strings, size_t max_bytes);
/* NULL is a no-op. Strings returned by ts_intern_str die with the table. */
void ts_intern_free(ts_intern *t);

/* The id of s, adding it if new. Returns 0 and sets *id (and *added to 1
 * if it was new, when added != NULL), TS_ECAP when the table is full, or
 * TS_ENOMEM. */
int ts_intern_put(ts_intern *t, ts_str s, uint32_t *id, int *added);
/* The id of s if present: 0, or TS_EINVAL when absent. */
int ts_intern_find(const ts_intern *t, ts_str s, uint32_t *id);
/* The string of an id returned by this table; NUL-terminated, owned by the
 * table, stable for its lifetime. */
ts_str ts_intern_str(const ts_intern *t, uint32_t id);
uint32_t ts_intern_count(const ts_intern *t);
/* Bytes of memory the table holds (for the stats). */
size_t ts_intern_memory(const ts_intern *t);

#endif
