/* watch.c - inotify over a folder tree.
 *
 * Owns the inotify descriptor, a table from watch descriptor to folder
 * path (wd -> dirs[wd], grown as needed) and the paths already reported:
 * 64-bit hashes in two ts_tally generations, the current one (at most
 * seen_cap) and the one before. When the current one is full the older
 * is freed and the current becomes it, so the set holds between seen_cap
 * and 2 * seen_cap of the newest paths (two tallies of 16-byte slots,
 * at most half full: 4 MB at the default cap), whatever the run's length.
 * Everything is freed by ts_watch_free.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folders.h"
#include "tally.h"
#include "watch.h"

#define DIR_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR)
#define MAX_DEPTH 64

struct ts_watch {
	int fd;
	char **dirs; /* by watch descriptor; NULL where none */
	size_t ndirs, alloc;
	size_t watched;
	ts_tally seen, seen_old; /* hash of path -> 1: this generation, the last */
	size_t seen_cap;         /* paths in a generation */
};

static uint64_t path_hash(const char *path) { return ts_hash(path, strlen(path), 7) >> 1; }

static int seen_has(const ts_watch *w, uint64_t h)
{
	return ts_tally_get(&w->seen, h) || ts_tally_get(&w->seen_old, h);
}

/* Remember h, starting a generation when this one is full. */
static int seen_add(ts_watch *w, uint64_t h)
{
	if (seen_has(w, h))
		return 0;
	if (w->seen.n >= w->seen_cap) {
		ts_tally_free(&w->seen_old);
		w->seen_old = w->seen;
		memset(&w->seen, 0, sizeof w->seen);
	}
	return ts_tally_add(&w->seen, h, 1);
}

/* Report path unless it was reported before. */
static int report(ts_watch *w, const char *path, ts_pathlist *ready, int *n)
{
	uint64_t h = path_hash(path);
	if (seen_has(w, h))
		return 0;
	int rc = seen_add(w, h);
	if (!rc)
		rc = ts_pathlist_push(ready, path);
	if (!rc)
		++*n;
	return rc;
}

/* Report the complete file at path, called name, when the folder rule
 * (folders.h) reads it: a file read by its name always; a file read by its
 * content only when placed (renamed into place, itself or a folder it is
 * in), since a closed file of a name that says nothing may be a sync
 * tool's temporary one, renamed next (aws s3 sync writes NAME.xxxxxxxx). A
 * path that cannot be stat'ed is taken as a regular file: reading it says
 * why it cannot be read. */
static int take_file(ts_watch *w, const char *path, const char *name, unsigned mode, int placed,
		     ts_pathlist *ready, int *n)
{
	switch (ts_folders_pick(name, mode, NULL)) {
	case TS_FOLDERS_LOG:
		return report(w, path, ready, n);
	case TS_FOLDERS_LOOK:
		return placed && !ts_folders_look(path) ? report(w, path, ready, n) : 0;
	default:
		return 0;
	}
}

/* Watch dir and, recursively, the folders the rule walks into; with
 * ready, report the files found in them (sorted by name, as the walk
 * lists them). placed: dir was renamed into place, so its files are
 * complete (take_file). */
static int add_tree(ts_watch *w, const char *dir, ts_pathlist *ready, int *n, int depth,
		    int placed)
{
	if (depth > MAX_DEPTH)
		return 0;
	int wd = inotify_add_watch(w->fd, dir, DIR_MASK);
	if (wd < 0)
		return errno == ENOSPC ? TS_ECAP : (errno == ENOENT ? 0 : TS_EIO);
	if (ts_grow(&w->dirs, &w->alloc, (size_t)wd + 1, sizeof *w->dirs, 64))
		return TS_ENOMEM;
	if (!w->dirs[wd]) {
		size_t l = strlen(dir);
		if (!(w->dirs[wd] = malloc(l + 1)))
			return TS_ENOMEM;
		memcpy(w->dirs[wd], dir, l + 1);
		w->watched++;
	}
	if ((size_t)wd >= w->ndirs)
		w->ndirs = (size_t)wd + 1;
	/* what is already there: folders to watch, files to report */
	ts_pathlist names = {0};
	int rc = ts_folders_list_dir(dir, &names);
	if (rc) {
		ts_pathlist_free(&names);
		return rc == TS_EIO ? 0 : rc; /* TS_EIO: gone again */
	}
	ts_buf path = {0};
	for (size_t i = 0; i < names.n && !rc; i++) {
		ts_buf_reset(&path);
		if ((rc = ts_buf_printf(&path, "%s/%s", dir, names.paths[i])))
			break;
		struct stat sb;
		if (stat(path.p, &sb) != 0)
			continue;
		if (ts_folders_pick(names.paths[i], (unsigned)sb.st_mode, NULL) == TS_FOLDERS_DESCEND)
			rc = add_tree(w, path.p, ready, n, depth + 1, placed);
		else if (ready)
			rc = take_file(w, path.p, names.paths[i], (unsigned)sb.st_mode, placed, ready, n);
	}
	ts_buf_free(&path);
	ts_pathlist_free(&names);
	return rc;
}

int ts_watch_new(const char *root, ts_watch **out, char *errbuf, size_t errlen)
{
	ts_watch *w = calloc(1, sizeof *w);
	if (!w)
		return TS_ENOMEM;
	w->seen_cap = TS_WATCH_SEEN_CAP;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct stat sb;
	int rc = 0;
	if (w->fd < 0 || stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(errbuf, errlen, "cannot watch '%s': %s", root,
			 w->fd < 0 ? strerror(errno) : "not a folder");
		rc = TS_EIO;
	} else {
		int n = 0;
		/* the files already there are the caller's to list and mark
		 * seen (ts_watch_seen); here only their folders are watched */
		rc = add_tree(w, root, NULL, &n, 0, 0);
		if (rc)
			snprintf(errbuf, errlen, "cannot watch '%s': %s", root,
				 rc == TS_ECAP ? "inotify watch limit reached "
						 "(fs.inotify.max_user_watches)"
					       : ts_strerror(rc));
	}
	if (rc) {
		ts_watch_free(w);
		return rc == TS_ECAP ? TS_EIO : rc;
	}
	*out = w;
	return 0;
}

int ts_watch_poll(ts_watch *w, int timeout_ms, ts_pathlist *ready)
{
	struct pollfd p = {.fd = w->fd, .events = POLLIN};
	int pr = poll(&p, 1, timeout_ms);
	if (pr <= 0)
		return pr < 0 && errno != EINTR ? TS_EIO : 0;
	int n = 0, rc = 0;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ts_buf path = {0};
	for (;;) {
		ssize_t len = read(w->fd, buf, sizeof buf);
		if (len <= 0) {
			if (len < 0 && errno != EAGAIN && errno != EINTR)
				rc = TS_EIO;
			break;
		}
		for (char *q = buf; q < buf + len && !rc;) {
			const struct inotify_event *ev = (const struct inotify_event *)q;
			q += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				ts_warn("watch: inotify queue overflowed; rescanning");
				for (size_t i = 0; i < w->ndirs && !rc; i++)
					if (w->dirs[i])
						rc = add_tree(w, w->dirs[i], ready, &n, 0, 0);
				continue;
			}
			if (ev->wd < 0 || (size_t)ev->wd >= w->ndirs || !w->dirs[ev->wd])
				continue;
			if (ev->mask & (IN_DELETE_SELF | IN_IGNORED)) {
				free(w->dirs[ev->wd]);
				w->dirs[ev->wd] = NULL;
				w->watched--;
				continue;
			}
			if (!ev->len)
				continue;
			ts_buf_reset(&path);
			if ((rc = ts_buf_printf(&path, "%s/%s", w->dirs[ev->wd], ev->name)))
				break;
			int placed = !!(ev->mask & IN_MOVED_TO);
			if (ev->mask & IN_ISDIR) {
				if ((ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
				    ts_folders_pick(ev->name, S_IFDIR, NULL) == TS_FOLDERS_DESCEND)
					rc = add_tree(w, path.p, ready, &n, 1, placed);
			} else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
				struct stat sb;
				unsigned mode = stat(path.p, &sb) == 0 ? (unsigned)sb.st_mode : S_IFREG;
				rc = take_file(w, path.p, ev->name, mode, placed, ready, &n);
			}
		}
		if (rc)
			break;
	}
	ts_buf_free(&path);
	if (rc == TS_ECAP) {
		ts_warn("watch: inotify watch limit reached (fs.inotify.max_user_watches); new "
			"folders are not followed");
		rc = 0;
	}
	return rc ? rc : n;
}

int ts_watch_seen(ts_watch *w, const char *path) { return seen_add(w, path_hash(path)); }

void ts_watch_set_seen_cap(ts_watch *w, size_t cap) { w->seen_cap = cap ? cap : 1; }

size_t ts_watch_seen_count(const ts_watch *w) { return (size_t)w->seen.n + w->seen_old.n; }

size_t ts_watch_count(const ts_watch *w) { return w->watched; }

size_t ts_watch_memory(const ts_watch *w)
{
	size_t m = sizeof *w + w->alloc * sizeof *w->dirs + ts_tally_memory(&w->seen) +
		   ts_tally_memory(&w->seen_old);
	for (size_t i = 0; i < w->ndirs; i++)
		if (w->dirs[i])
			m += strlen(w->dirs[i]) + 1;
	return m;
}

void ts_watch_free(ts_watch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->dirs);
	ts_tally_free(&w->seen);
	ts_tally_free(&w->seen_old);
	free(w);
}
