/* folders.h - which folders and files of a tree are logs to read, and the
 * walk that lists them in reading order.
 *
 * One rule, ts_folders_pick (with ts_folders_look for the names it cannot
 * decide), serves both the walk below (backfill, and the first listing of
 * `stream --watch`) and the folder watcher (watch.c), so the two cannot
 * disagree on a path:
 *   - a hidden name (".x": temporary names of writers and syncs) is passed
 *     over, folder or file;
 *   - a folder is walked into unless it is named CloudTrail-Digest or
 *     CloudTrail-Insight;
 *   - anything neither a folder nor a regular file is passed over;
 *   - a file named *.json, *.jsonl or *.ndjson, each optionally .gz, is a
 *     log by its name, unless the name holds CloudTrail-Digest or
 *     CloudTrail-Insight: then it is passed over;
 *   - any other file (Firehose objects, .log, bare .gz, .JSON) is read when
 *     its first bytes look like JSON text (ts_sniff_json), else passed over.
 * The watcher takes a file of the last kind only once it was renamed into
 * place (watch.h says why).
 *
 * A folder is walked in name order (bytewise), depth first, so the S3
 * layout AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/ is read in time
 * order per region. Everything passed over is counted and named through
 * cb->passed, except hidden names, which are neither. A path named on the
 * command line is read whatever its name; "-" is standard input.
 */
#ifndef TS_FOLDERS_H
#define TS_FOLDERS_H

#include "source.h"

/* What the rule makes of a name in a folder. */
typedef enum ts_folders_verdict {
	TS_FOLDERS_PASS = 0, /* passed over (*why says why) */
	TS_FOLDERS_DESCEND,  /* a folder to walk into */
	TS_FOLDERS_LOG,      /* a file read by its name */
	TS_FOLDERS_LOOK,     /* a file read when ts_folders_look says so */
} ts_folders_verdict;

/* The verdict on an entry called name (no folder part) of type mode (the
 * S_IFMT bits of st_mode, as stat() gives them). With TS_FOLDERS_PASS,
 * *why (when why is not NULL) is set to a static phrase: "hidden",
 * "digest or insight folder", "not a regular file" or "digest or insight
 * file". */
ts_folders_verdict ts_folders_pick(const char *name, unsigned mode, const char **why);

/* For a TS_FOLDERS_LOOK file: NULL when it is to be read (its first 4 KiB
 * look like JSON text, or it cannot be opened or read: reading it then
 * says why), else why it is passed over, "empty" or "not JSON text" (a
 * static string). */
const char *ts_folders_look(const char *path);

/* 1 if a file called name is read without a look at its content:
 * ts_folders_pick gives TS_FOLDERS_LOG for a regular file of that name. */
int ts_folders_is_log_name(const char *name);

/* The names in folder dir, hidden ones (".x") left out, sorted bytewise,
 * appended to names. 0, TS_EIO (cannot open it; errno says why) or
 * TS_ENOMEM. */
int ts_folders_list_dir(const char *dir, ts_pathlist *names);

/* Expand the arguments (files, folders, "-") into the files to read, in
 * order, appended to out (the caller frees it). Trailing slashes of a
 * folder argument are cut in place. Missing paths, entries that cannot be
 * stat'ed and unreadable folders are reported through cb->skip with TS_EIO
 * (TS_EDEPTH for a folder deeper than 64 levels, not walked) and counted
 * in st as failed; what the rule passes over through cb->passed and
 * st->files_ignored. Returns 0 or TS_ENOMEM. */
int ts_folders_collect(char *const *args, size_t nargs, ts_pathlist *out, ts_source_stats *st,
		       const ts_source_cb *cb);

#endif
