/* source_int.h - the private header of the input reader, shared by its two
 * files and nothing else:
 *   source.c     reading one input through a src_ctx;
 *   source_mt.c  reading a list of inputs on worker threads, each with a
 *                src_ctx of its own.
 * A src_ctx belongs to one thread at a time; src_ctx_free frees all it
 * holds.
 */
#ifndef TS_SOURCE_INT_H
#define TS_SOURCE_INT_H

#include "gunzip.h"
#include "shape.h"
#include "source.h"

/* What one thread reuses from input to input: the record parser, the
 * wrapper parser, the whole-file decoder and the buffer a whole file is
 * read into (kept up to 16 MiB between files). */
typedef struct src_ctx {
	ts_parser *parser;
	ts_shape *shape;
	ts_gunzip *gz;
	unsigned char *raw;
	size_t raw_alloc;
	/* the record the parser read while the reader looked for its end
	 * (ts_reader_set_span): the item at span_text, span_len is parsed */
	const char *span_text;
	size_t span_len;
	int span_rc;
	ts_record span_rec;
} src_ctx;

/* 0, or TS_ENOMEM with nothing held. ropts and popts may be NULL. */
int src_ctx_init(src_ctx *x, const ts_reader_opts *ropts, const ts_parser_opts *popts);
void src_ctx_free(src_ctx *x);

/* Read one input through x, with ts_source_read's callbacks, counters and
 * returns. */
int src_read_input(src_ctx *x, const char *path, const ts_reader_opts *ropts,
		   ts_source_stats *st, const ts_source_cb *cb);

#endif
