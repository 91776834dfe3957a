/* source_mt.h - reads a list of inputs with worker threads reading and
 * parsing ahead, while every callback still runs on the calling thread in
 * list order, so results do not depend on the number of threads.
 */
#ifndef TS_SOURCE_MT_H
#define TS_SOURCE_MT_H

#include "source.h"

/* Read every input of the list in order, with nthreads worker threads
 * reading and parsing files ahead (nthreads <= 1: inline, no threads).
 * Callbacks always run on the calling thread, in file order, so results do
 * not depend on nthreads. At most 2 * nthreads parsed files wait in memory.
 * A list of one input with nthreads > 1 is read on two threads: one reads,
 * inflates and parses it in batches of records, the calling thread takes
 * each batch as it is done (at most 3 wait).
 * Returns 0, TS_SOURCE_STOP if the record callback asked to stop, or
 * TS_ENOMEM. */
int ts_source_read_all(const ts_pathlist *l, int nthreads, const ts_reader_opts *ropts,
		       const ts_parser_opts *popts, ts_source_stats *st, const ts_source_cb *cb);

#endif
