/* fileid.h - an input file as checkpoints name it. Shared by the sources
 * (which make them), the engine (which passes them on) and the stores
 * (which record them as done); a plain value, no functions.
 */
#ifndef TS_FILEID_H
#define TS_FILEID_H

#include <stdint.h>

/* name is the path from its "AWSLogs/" component on when it has one (so a
 * synced folder may move), else the real path; with the size in bytes and
 * the mtime in seconds. The name is borrowed from whoever made the id. A
 * file is "done" for a partition once every record it holds for that
 * partition is counted in the store. */
typedef struct ts_file_id {
	const char *name;
	uint64_t size;
	int64_t mtime;
} ts_file_id;

#endif
