/* folders.c - the rule of which folders and files are read, and the walk.
 *
 * Owns no state between calls. The walk recurses at most 64 folders deep;
 * each level holds the sorted names of its folder (a ts_pathlist freed
 * before it returns) and one path buffer. The paths it finds are copied
 * into the caller's list, which the caller frees. ts_folders_look reads at
 * most 4 KiB of a file and closes it before returning.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folders.h"
#include "sniff.h"

#define MAX_DEPTH 64

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static int is_digest_name(const char *name)
{
	return strstr(name, "CloudTrail-Digest") || strstr(name, "CloudTrail-Insight");
}

int ts_folders_is_log_name(const char *name)
{
	static const char *const ok[] = {".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson",
					 ".ndjson.gz"};
	if (name[0] == '.' || is_digest_name(name))
		return 0;
	for (size_t i = 0; i < TS_ARRAY_LEN(ok); i++)
		if (ends_with(name, ok[i]))
			return 1;
	return 0;
}

ts_folders_verdict ts_folders_pick(const char *name, unsigned mode, const char **why)
{
	const char *w = NULL;
	ts_folders_verdict v = TS_FOLDERS_PASS;
	if (name[0] == '.')
		w = "hidden";
	else if (S_ISDIR(mode) && (strcmp(name, "CloudTrail-Digest") == 0 ||
				   strcmp(name, "CloudTrail-Insight") == 0))
		w = "digest or insight folder";
	else if (S_ISDIR(mode))
		v = TS_FOLDERS_DESCEND;
	else if (!S_ISREG(mode))
		w = "not a regular file";
	else if (ts_folders_is_log_name(name))
		v = TS_FOLDERS_LOG;
	else if (is_digest_name(name))
		w = "digest or insight file";
	else
		v = TS_FOLDERS_LOOK;
	if (why)
		*why = w;
	return v;
}

const char *ts_folders_look(const char *path)
{
	unsigned char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL; /* reading it reports why */
	ssize_t n;
	do
		n = read(fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return NULL;
	if (n == 0)
		return "empty";
	return ts_sniff_json(buf, (size_t)n) ? NULL : "not JSON text";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ts_folders_list_dir(const char *dir, ts_pathlist *names)
{
	DIR *d = opendir(dir);
	if (!d)
		return TS_EIO;
	struct dirent *ent;
	int rc = 0;
	while (!rc && (ent = readdir(d)))
		if (ent->d_name[0] != '.')
			rc = ts_pathlist_push(names, ent->d_name);
	closedir(d);
	if (!rc && names->n) /* an empty folder has no array at all */
		qsort(names->paths, names->n, sizeof *names->paths, cmp_str);
	return rc;
}

static void failed(const ts_source_cb *cb, ts_source_stats *st, int code, const char *path,
		   const char *detail)
{
	st->files_failed++;
	ts_source_count_skip(cb, st, code, path, 0, detail);
}

static void passed(const ts_source_cb *cb, ts_source_stats *st, const char *path,
		   const char *why)
{
	st->files_ignored++;
	if (cb->passed)
		cb->passed(cb->ctx, path, why);
}

static int walk(const char *dir, ts_pathlist *out, ts_source_stats *st, const ts_source_cb *cb,
		int depth)
{
	if (depth > MAX_DEPTH) {
		failed(cb, st, TS_EDEPTH, dir, "folders nested too deep");
		return 0;
	}
	ts_pathlist names = {0};
	int rc = ts_folders_list_dir(dir, &names);
	if (rc == TS_EIO) {
		failed(cb, st, TS_EIO, dir, strerror(errno));
		return 0;
	}
	if (rc)
		goto out_names;
	ts_buf path = {0};
	for (size_t i = 0; i < names.n && !rc; i++) {
		ts_buf_reset(&path);
		if ((rc = ts_buf_printf(&path, "%s/%s", dir, names.paths[i])))
			break;
		struct stat sb;
		if (stat(path.p, &sb) != 0) {
			failed(cb, st, TS_EIO, path.p, strerror(errno));
			continue;
		}
		const char *why;
		switch (ts_folders_pick(names.paths[i], (unsigned)sb.st_mode, &why)) {
		case TS_FOLDERS_DESCEND:
			rc = walk(path.p, out, st, cb, depth + 1);
			break;
		case TS_FOLDERS_LOG:
			rc = ts_pathlist_push(out, path.p);
			break;
		case TS_FOLDERS_LOOK:
			if ((why = ts_folders_look(path.p)) == NULL) {
				rc = ts_pathlist_push(out, path.p);
				break;
			}
			/* fall through */
		case TS_FOLDERS_PASS:
			passed(cb, st, path.p, why);
			break;
		}
	}
	ts_buf_free(&path);
out_names:
	ts_pathlist_free(&names);
	return rc;
}

int ts_folders_collect(char *const *args, size_t nargs, ts_pathlist *out, ts_source_stats *st,
		       const ts_source_cb *cb)
{
	for (size_t i = 0; i < nargs; i++) {
		int rc;
		struct stat sb;
		if (strcmp(args[i], "-") == 0) {
			rc = ts_pathlist_push(out, "-");
		} else if (stat(args[i], &sb) != 0) {
			failed(cb, st, TS_EIO, args[i], strerror(errno));
			continue;
		} else if (S_ISDIR(sb.st_mode)) {
			size_t len = strlen(args[i]);
			while (len > 1 && args[i][len - 1] == '/')
				args[i][--len] = '\0';
			rc = walk(args[i], out, st, cb, 0);
		} else {
			rc = ts_pathlist_push(out, args[i]);
		}
		if (rc)
			return rc;
	}
	return 0;
}
