/* sha1.h - SHA-1 (FIPS 180-4): a digest of bytes, at once or streamed.
 * Used for names (insight IDs, spool and file names), not for security.
 */
#ifndef TS_SHA1_H
#define TS_SHA1_H

#include <stddef.h>
#include <stdint.h>

typedef struct ts_sha1_ctx {
	uint32_t h[5];
	uint64_t len; /* bytes fed so far */
	uint8_t block[64];
	size_t used;  /* bytes of block filled, always < 64 between calls */
} ts_sha1_ctx;

void ts_sha1_init(ts_sha1_ctx *s);
void ts_sha1_update(ts_sha1_ctx *s, const void *data, size_t n);
/* The digest of what was fed; the context must be initialised again to
 * be reused. */
void ts_sha1_final(ts_sha1_ctx *s, uint8_t out[20]);
/* SHA-1 digest of p[0..n). */
void ts_sha1(const void *p, size_t n, uint8_t out[20]);

#endif
