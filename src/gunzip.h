/* gunzip.h - whole-buffer gzip decoding (libdeflate), the fast path for
 * log files that fit in memory. libdeflate lives here and nowhere else.
 *
 * The streaming reader (reader.h, zlib) stays the path for everything
 * else: standard input, pipes, files too large for the buffers, and any
 * buffer this module does not decode completely. ts_gunzip_all() succeeds
 * only when the whole input is one or more well-formed gzip members back
 * to back, each with a correct CRC-32 and length; anything else (a
 * truncated member, a bad CRC, trailing garbage) is TS_EGZIP, and the
 * caller reads the input again through the reader, which reports the
 * fault with its offset exactly as it would have without this module.
 */
#ifndef TS_GUNZIP_H
#define TS_GUNZIP_H

#include <stddef.h>

typedef struct ts_gunzip ts_gunzip;

/* A decoder with its own reused output buffer, or NULL when out of
 * memory. One per thread. */
ts_gunzip *ts_gunzip_new(void);
/* NULL is a no-op. */
void ts_gunzip_free(ts_gunzip *g);

/* Decode every gzip member of in[0..n) into g's buffer.
 * 0 with *text and *len the decompressed text (owned by g, valid until the
 * next call on g or its free); TS_EGZIP when in is not whole, valid gzip
 * members; TS_ECAP when the text would be longer than max_out bytes;
 * TS_ENOMEM. The buffer is kept for the next call, and given back to the
 * system when a large input made it grow past a few MiB. */
int ts_gunzip_all(ts_gunzip *g, const void *in, size_t n, size_t max_out, const char **text,
		  size_t *len);

#endif
