/* fileid.c - the checkpoint name of an input file, from its real path.
 * Holds nothing: the path is resolved into a buffer on the stack, so a
 * file costs no allocation here.
 */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fileid.h"
#include "util.h"

int ts_file_id_of(const char *path, char *name, size_t cap, ts_file_id *out)
{
	struct stat sb;
	char real[PATH_MAX];
	if (!realpath(path, real) || stat(real, &sb) != 0 || cap == 0)
		return TS_EIO;
	const char *from = real, *p = real;
	while ((p = strstr(p, "/AWSLogs/")) != NULL)
		from = ++p;
	snprintf(name, cap, "%s", from);
	out->name = name;
	out->size = (uint64_t)sb.st_size;
	out->mtime = (int64_t)sb.st_mtime;
	return 0;
}
