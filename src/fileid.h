/* fileid.h - an input file as checkpoints name it. Made by the command
 * line (ts_file_id_of) for each input it reads, passed on by the engine and
 * recorded as done by the stores; a plain value.
 */
#ifndef TS_FILEID_H
#define TS_FILEID_H

#include <stddef.h>
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

/* The id of the file at path: its name is the part of its real path from
 * the last "AWSLogs/" component on, or the whole real path when there is
 * none, written into name[cap] (out->name = name, so the id borrows it);
 * with its size and mtime. 0, or TS_EIO when the file cannot be resolved
 * or stat'ed (or cap is 0). */
int ts_file_id_of(const char *path, char *name, size_t cap, ts_file_id *out);

#endif
