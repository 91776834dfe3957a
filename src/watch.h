/* watch.h - follows a folder tree (an S3 sync of AWSLogs/, a log
 * shipper's output) for log files that are complete, with inotify.
 *
 * Which folders are watched and which files are logs is the folder rule
 * of folders.h, the one the walk uses. A file is complete when it is
 * renamed into place (IN_MOVED_TO), is in a folder renamed into place, or
 * is closed after writing (IN_CLOSE_WRITE). A file the rule reads by its
 * name (*.json, *.json.gz, ...) is reported in each of these cases; a file
 * it reads only by its content (a Firehose object, a .log) only when it,
 * or a folder it is in, was renamed into place: sync tools write to a
 * temporary name of that kind and rename it (aws s3 sync: NAME.xxxxxxxx),
 * and reading the temporary file would count its records twice.
 * Folders created later are watched as they appear, and
 * the files already in them are reported too (a folder can be filled before
 * its watch exists). Each path is reported once per watcher while it is
 * among the newest TS_WATCH_SEEN_CAP to 2 * TS_WATCH_SEEN_CAP paths reported
 * or marked seen: the set of paths reported is capped, so a stream that runs
 * for months holds a bounded set. Only a rescan (after the inotify queue
 * overflowed) or a file written again can report an older path again; the
 * engine then finds it done in the store's file marks and counts nothing
 * twice.
 */
#ifndef TS_WATCH_H
#define TS_WATCH_H

#include "util.h"

typedef struct ts_watch ts_watch;

#define TS_WATCH_SEEN_CAP 65536 /* paths per generation of the seen set */

/* Watch root and every folder under it. The files already there are not
 * reported: the caller lists them (ts_folders_collect), reads them, and
 * marks them with ts_watch_seen so a late event does not report them.
 * 0 and *out, TS_EIO (message in
 * errbuf: root cannot be watched, or the inotify watch limit), TS_ENOMEM. */
int ts_watch_new(const char *root, ts_watch **out, char *errbuf, size_t errlen);
/* Wait up to timeout_ms (0: do not wait) for changes and append the paths
 * of files that became complete to ready, in the order they did. Returns
 * the number appended, or TS_EIO / TS_ENOMEM. EINTR returns 0. */
int ts_watch_poll(ts_watch *w, int timeout_ms, ts_pathlist *ready);
/* Treat path as reported already (a file the caller read from a listing). */
int ts_watch_seen(ts_watch *w, const char *path);
/* Paths per generation of the seen set (tests; 0 is taken as 1). */
void ts_watch_set_seen_cap(ts_watch *w, size_t cap);
/* Paths remembered as reported now (at most 2 * the cap). */
size_t ts_watch_seen_count(const ts_watch *w);
/* The folders watched now. */
size_t ts_watch_count(const ts_watch *w);
/* Bytes held: folder names and the set of paths reported. */
size_t ts_watch_memory(const ts_watch *w);
void ts_watch_free(ts_watch *w); /* NULL is a no-op */

#endif
