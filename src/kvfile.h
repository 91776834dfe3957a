/* kvfile.h - the plain text format of profiles and rules files: one
 * "key = value" per line, '#' starting a comment, blank lines ignored,
 * blanks around keys and values trimmed. A line is at most 1023 bytes.
 *
 * ts_kv_read walks a file and hands each pair to a callback; every error
 * names the file and the line. It keeps nothing: the callback copies what
 * it keeps.
 */
#ifndef TS_KVFILE_H
#define TS_KVFILE_H

#include <stddef.h>

/* What a callback says of one pair. */
enum ts_kv_verdict {
	TS_KV_OK = 0,
	TS_KV_BAD_VALUE = -1,   /* "bad value for 'key'" */
	TS_KV_UNKNOWN_KEY = -2, /* "unknown key 'key'" */
	TS_KV_WHY = -3,         /* the callback wrote its own reason into why */
	TS_KV_NOMEM = -4        /* out of memory: stop, TS_ENOMEM */
};

/* Called for each pair, in file order, with its line number. key and value
 * are NUL-terminated and valid during the call only. */
typedef int (*ts_kv_fn)(void *ctx, const char *key, const char *value, int line, char *why,
			size_t whylen);

/* Read path, calling fn for each pair. what names the kind of file in
 * "cannot read" messages ("profile", "rules file"). Returns 0; TS_EIO
 * (cannot open or read; err says why); TS_EINVAL (a line without '=' or a
 * verdict from fn; err is "PATH:LINE: ..."); TS_ENOMEM. Stops at the first
 * error. */
int ts_kv_read(const char *path, const char *what, ts_kv_fn fn, void *ctx, char *err,
	       size_t errlen);

/* 1 if v is a name a block may take (a profile override, a rule): 1 to
 * max bytes of letters, digits, '-', '_' and '.'; else 0. */
int ts_kv_name_ok(const char *v, size_t max);

#endif
