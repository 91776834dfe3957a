/* sniff.h - a look at the first bytes of a file, for the folder walk,
 * which reads files by content whatever their names (Firehose objects,
 * .log, bare .gz). zlib is used here as in reader.c, to look inside gzip.
 */
#ifndef TS_SNIFF_H
#define TS_SNIFF_H

#include <stddef.h>

/* Whether the first n bytes of an input (gzip or not; of a gzip input, the
 * first 16 KiB of text) look like JSON text: a line that starts with '{'
 * or '[' (after blanks or a UTF-8 byte order mark), or UTF-16 (which the
 * reader then reports as such). 1 or 0. */
int ts_sniff_json(const void *buf, size_t n);

#endif
